/* SPDX-License-Identifier: MIT */
/*
 * scan: one ELF file against one policy.
 *
 * Finds every occurrence of every pattern at every byte offset of every
 * executable region and every junction between two regions that can be
 * adjacent in memory, classifies each, and collects the file's layout
 * violations and the facts the manifest binds (hashes of the file and of each
 * region, relocation window counts).  The result owns copies of everything it
 * reports from the file, so it outlives the image and the input bytes; its
 * findings' @pattern point into the policy's patterns (through the
 * matcher), so the policy and matcher must outlive it.
 *
 * Layering: util <- modsig <- reloc <- relobj <- kmeta <- image <- classify
 * <- scan <- rewrite.  The kernel windows the image read for classification
 * can be kept in the result (pvsub_scan_opts.kmeta) for the rewriter.
 */
#ifndef PVSUB_SCAN_H
#define PVSUB_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/bzimage.h"
#include "libpvsub/classify.h"
#include "libpvsub/crypto.h"
#include "libpvsub/image.h"
#include "libpvsub/kaslr.h"
#include "libpvsub/policy.h"
#include "libpvsub/search.h"
#include "libpvsub/util.h"
#include "libpvsub/wverdict.h"

/* Bytes of context kept on each side of an occurrence. */
#define PVSUB_FINDING_CONTEXT 8

struct pvsub_finding {
	const struct pvsub_pattern *pattern; /* the policy's, through the matcher: not owned */
	/* Where: a section name (ET_REL), "A|B" for a junction of two sections,
	 * or NULL for a segment (then segment >= 0, and segment2 for a junction). */
	char *section;
	int segment;
	int segment2;
	int64_t offset;	      /* from the start of the (first) section/segment */
	uint64_t file_offset; /* of the first byte, when it is in the file */
	unsigned pad;	      /* junctions: zero padding bytes assumed between */
	bool junction;
	/* Address of the first byte: the region's vaddr plus the position (for
	 * a junction's padding, the next region's vaddr minus the padding
	 * before it).  Meaningful for segments (ET_DYN, ET_EXEC) only: ET_REL
	 * sections have no address before the loader places them. */
	uint64_t vaddr;
	bool boot; /* in the bzImage's own code (pvsub_scan_opts.boot): no vaddr */
	uint8_t bytes[PVSUB_PATTERN_MAX];
	uint8_t len;
	struct pvsub_classification cls;
	/* Up to PVSUB_FINDING_CONTEXT bytes of the same region just before and
	 * just after the occurrence (fewer at the region's edges; for a
	 * junction, from the first and the last region it touches).  What the
	 * code around an occurrence looks like does not change when code
	 * elsewhere moves it, so reports fingerprint it by these bytes rather
	 * than by its offset. */
	uint8_t before[PVSUB_FINDING_CONTEXT];
	uint8_t after[PVSUB_FINDING_CONTEXT];
	uint8_t n_before, n_after;
};

struct pvsub_region_summary {
	char *name; /* section name or "segment N" */
	bool is_segment;
	unsigned index;
	uint64_t file_offset;
	uint64_t size;
	char sha256[PVSUB_SHA256_HEX_LEN]; /* "" unless opts->hashes */
	size_t reloc_windows;
	size_t kaslr_windows; /* fields of the KASLR table in its bytes */
	bool boot;	      /* a part of the bzImage's own code; file_offset in the bzImage */
};

/* A kernel mutable window and whether a pattern can form in it
 * (wverdict.h). */
struct pvsub_window_verdict {
	size_t region;	 /* index into the result's regions; SIZE_MAX: in none (then runtime) */
	uint64_t offset; /* kmeta.h's: from the section start, or the segment's p_offset */
	uint32_t len;
	uint8_t kind;	 /* enum pvsub_window_kind */
	uint8_t verdict; /* enum pvsub_wverdict */
};

/* The kinds of enum pvsub_window_kind (kmeta.h). */
#define PVSUB_WINDOW_KINDS 10

struct pvsub_scan_result {
	enum pvsub_elf_kind kind;
	uint16_t machine;
	uint64_t size;
	char sha256[PVSUB_SHA256_HEX_LEN]; /* "" unless opts->hashes */
	struct pvsub_modsig modsig;

	struct pvsub_finding *findings;
	size_t n_findings;
	struct pvsub_violation *violations;
	size_t n_violations;
	struct pvsub_region_summary *regions;
	size_t n_regions;
	size_t reloc_windows; /* total over all regions */

	bool deep;
	struct pvsub_deep_stats deep_stats;

	/* A vmlinux followed by its KASLR relocation table (kaslr.h): the
	 * offsets tried, and how many windows in executable bytes were
	 * searched and proven.  All zero for any other file. */
	bool kaslr;
	struct pvsub_kaslr_info kaslr_info;
	char kaslr_sha256[PVSUB_SHA256_HEX_LEN]; /* of the table; "" unless opts->hashes */
	struct pvsub_kaslr_stats kaslr_stats;

	/* With opts->kmeta, ET_REL only: the kernel mutable windows of the
	 * file (kmeta.h), read once for classification and handed on, and
	 * the reason ("" if none) when its tables cannot be read (then there
	 * are no windows).  kmeta_error is NULL when they were not read. */
	struct pvsub_mwindow *mwindows;
	size_t n_mwindows;
	char *kmeta_error;

	/* Every kernel mutable window of the file with its verdict, sorted
	 * as pvsub_image_kmeta() sorts them (by section or segment, then
	 * offset); the counts per kind and verdict; how many were given
	 * `runtime` because their group was too large to try every
	 * combination.  A window whose verdict is static and whose
	 * occurrence is not in the file's bytes is also a finding of class
	 * patch-site, with the field "KIND, only when patched". */
	struct pvsub_window_verdict *wverdicts;
	size_t n_wverdicts;
	size_t wverdict_counts[PVSUB_WINDOW_KINDS][PVSUB_WVERDICT_COUNT];
	size_t wverdict_over_budget;
};

struct pvsub_scan_opts {
	const struct pvsub_policy *policy;
	const struct pvsub_matcher *matcher; /* built from policy */
	struct pvsub_decoder *decoder;	     /* per thread */
	bool deep;			     /* decode everything, collect stats */
	/* SHA-256 of the file and of each region (for manifests and JSON);
	 * without it the sha256 fields are empty strings. */
	bool hashes;
	/* Keep the kernel mutable windows in the result (the rewriter's
	 * scan of its input), whether or not an occurrence needed them. */
	bool kmeta;
	/* A vmlinux from a bzImage: the bzImage's own code (bzimage.h), which
	 * runs before the kernel.  Each part is one more region, named after
	 * it and searched at every offset; its findings are of class
	 * undecoded (16-bit and 32-bit code is not decoded) with the field
	 * "boot code", have no address, and their file offsets count in the
	 * bzImage.  NULL: none. */
	const struct pvsub_boot_code *boot;
};

/*
 * Scan @size bytes at @data.  -EINVAL with a one-line reason when the bytes
 * are not an ELF file pvsub can scan, -ENOMEM.  Findings are sorted by region
 * order (junctions after the regions, then the bzImage's code of
 * opts->boot, part by part), then offset, then pattern.
 */
int pvsub_scan_buffer(const struct pvsub_scan_opts *opts, const uint8_t *data, size_t size,
		      struct pvsub_scan_result **out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 2, 4);

void pvsub_scan_result_free(struct pvsub_scan_result *r);

/* Whether the file may be certified is pvsub_verdict_of()'s to say
 * (certify.h), and no one else's. */

#endif
