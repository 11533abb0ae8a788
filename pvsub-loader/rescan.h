/* SPDX-License-Identifier: MIT */
/*
 * pvsub-loader: the rescan of the linked guest code (DESIGN §8 step 5),
 * against the patterns of the bundles' own policies.
 *
 * A manifest's verdict certifies the object's bytes as it was signed; a
 * relocation window's bytes are written by the linker and are known only
 * once the image is linked at its base.  So every byte of the code region
 * is searched after linking, for every bundle (certified, or certified
 * with load-time checks): the verdict's load-time checks are this search.
 * The search runs on the linked bytes themselves, before they are sealed
 * and handed on, with libpvsub's matcher (search.h): complete, at every
 * byte offset.
 */
#ifndef PVSUB_LOADER_RESCAN_H
#define PVSUB_LOADER_RESCAN_H

#include <stddef.h>
#include <stdint.h>

#include "libpvsub/policy.h"
#include "libpvsub/util.h"

/* One bundle's policy: the patterns its manifest lists. */
struct loader_policy {
	const struct pvsub_pattern *pats;
	size_t n;
};

/* The first occurrence found: @offset bytes into the searched range, of
 * pattern @pattern (a copy, with its id). */
struct loader_hit {
	uint64_t offset;
	struct pvsub_pattern pattern;
};

/*
 * Search @len bytes at @code for every pattern of every one of the @n
 * policies at @pols (each pattern once however many policies list it):
 * the objects are linked into one code region, so one object's bytes, or
 * the junction of two, execute under every bundle's certificate at once.
 * 0 when nothing occurs; 1 and the first occurrence (lowest offset) in
 * *@hit; -EINVAL when no policy has a pattern (a manifest that lists none
 * certifies nothing), -ENOMEM.
 */
int loader_rescan(const struct loader_policy *pols, size_t n, const uint8_t *code, size_t len,
		  struct loader_hit *hit) _must_check_ _nonnull_(1, 3, 5);

#endif
