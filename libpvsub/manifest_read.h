/* SPDX-License-Identifier: MIT */
/*
 * manifest_read: validating and reading a subtraction manifest
 * (pvsub-manifest(5)) as a verifier does: pvsub-sign verify, and the loader
 * to come.  Trust area: every manifest goes through the hardened XML reader
 * (xml.h) and the schema compiled into the library, then the rules the
 * schema cannot say.  Writing one is manifest.h.
 */
#ifndef PVSUB_MANIFEST_READ_H
#define PVSUB_MANIFEST_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/crypto.h"
#include "libpvsub/policy.h"
#include "libpvsub/util.h"
#include "libpvsub/verdict.h"

/*
 * Validate @len bytes of XML against the manifest schema compiled into the
 * library, through the hardened reader (libpvsub/xml.h: no DTD, no entity,
 * no XInclude, nothing read from outside these bytes, at most 64 MiB), and
 * against the rules the schema cannot say.  0, or -EINVAL with the first
 * problem in @diag (line number and message); -EIO, -ENOMEM.  Thread-safe.
 */
int pvsub_manifest_validate(const char *xml, size_t len, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1);

struct pvsub_manifest_region {
	char *name;
	bool is_segment;
	uint64_t file_offset;
	uint64_t size;
	char sha256[PVSUB_SHA256_HEX_LEN];
};

/* What a verifier needs from a manifest. */
struct pvsub_manifest_info {
	char *policy_id;
	uint64_t policy_version;
	char policy_sha256[PVSUB_SHA256_HEX_LEN];
	/* The <policy>'s <pattern>s in document order: what the scan looked
	 * for, so a consumer can tell whether a profile it requires was
	 * among them.  Ids longer than PVSUB_PATTERN_ID_MAX - 1 are cut. */
	size_t n_patterns;
	struct pvsub_pattern *patterns;
	/* An image manifest (root <image-manifest>): the object is the disk
	 * image (<image>), there are no regions, and the verdict is the
	 * image's.  It describes no driver: a bundle never holds one. */
	bool image;
	char *object_path;
	uint64_t object_size;
	char object_sha256[PVSUB_SHA256_HEX_LEN];
	enum pvsub_verdict verdict; /* <verdict result=...> */
	size_t n_regions;
	struct pvsub_manifest_region *regions;
};

/*
 * Validate @len bytes of XML as pvsub_manifest_validate() does (a manifest
 * or an image manifest, whichever the root element says), then extract
 * the fields above from the same parse into a new *@out (free with
 * pvsub_manifest_info_free()).  0, -EINVAL (not a valid manifest; reason in
 * @diag), -EIO, -ENOMEM.
 */
int pvsub_manifest_read(const char *xml, size_t len, struct pvsub_manifest_info **out,
			struct pvsub_diag *diag) _must_check_ _nonnull_(1, 3);
void pvsub_manifest_info_free(struct pvsub_manifest_info *info);

#endif
