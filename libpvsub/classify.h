/* SPDX-License-Identifier: MIT */
/*
 * classify: what an occurrence is (DESIGN §5).
 *
 * Decoding starts at the nearest code start (function symbol or region start)
 * at or before the occurrence and proceeds linearly until the instruction
 * that holds the occurrence's first byte.  Only bytes near occurrences are
 * decoded; the deep sweep decodes everything for statistics.
 *
 * Layering: above image (util <- modsig <- reloc <- relobj <- kmeta <-
 * image <- classify <- scan <- rewrite): the relocation and kernel mutable
 * windows come from the image, which read them once per file; nothing
 * below calls back into classification.
 */
#ifndef PVSUB_CLASSIFY_H
#define PVSUB_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "libpvsub/image.h"
#include "libpvsub/util.h"
#include "libpvsub/x86.h"

enum pvsub_class {
	PVSUB_CLASS_INSTRUCTION, /* a real gate instruction at an instruction boundary */
	PVSUB_CLASS_EMBEDDED,	 /* inside one instruction (field says where) */
	PVSUB_CLASS_SPANNING,	 /* crosses an instruction boundary */
	PVSUB_CLASS_RELOCATION,	 /* overlaps a relocation window */
	PVSUB_CLASS_PATCH_SITE,	 /* overlaps a kernel mutable window */
	PVSUB_CLASS_UNDECODED,	 /* in bytes that do not decode as code */
	/* covers a byte that a KASLR offset can change, and forms for at least
	 * one offset (kaslr.h): decided by the scan, which tries them all */
	PVSUB_CLASS_KASLR,
};

/* "instruction", "embedded", "spanning", "relocation", "patch-site",
 * "undecoded", "kaslr".  An occurrence across the junction of two regions is
 * SPANNING by definition: it crosses the last instruction of one region. */
const char *pvsub_class_name(enum pvsub_class c);

struct pvsub_classification {
	enum pvsub_class cls;
	/* EMBEDDED: the field(s) covered, "immediate" or "displacement+immediate";
	 * PATCH_SITE: the kind of the mutable window ("alternative",
	 * "jump-label", ... see kmeta.h); KASLR: for how many of the offsets it
	 * forms, and the first ("at 3 of 474 offsets, first +0x1e00000"); empty
	 * otherwise. */
	char field[48];
	/* The instruction holding the occurrence's first byte (not for
	 * UNDECODED, RELOCATION or PATCH_SITE): its position in the region,
	 * and text. */
	size_t insn_pos;
	uint8_t insn_len;
	char insn_text[96];
};

/*
 * Classify the occurrence of @len bytes at position @pos of region @region
 * of @img.  Precedence: RELOCATION (overlaps a relocation window), then
 * PATCH_SITE (overlaps a kernel mutable window, even partly), then the
 * decoded classes.  INSTRUCTION means the occurrence starts exactly at the
 * opcode of an instruction (after its prefixes) and lies inside it;
 * a prefix-only overlap or any other position inside one instruction is
 * EMBEDDED; reaching past the instruction's end is SPANNING; a decode
 * failure before or at the occurrence is UNDECODED.
 */
int pvsub_classify_at(struct pvsub_decoder *d, struct pvsub_image *img, size_t region, size_t pos,
		   size_t len, struct pvsub_classification *out) _must_check_ _nonnull_(1, 2, 6);

/*
 * Where the last classification's linear decode stopped, so the next one,
 * further on from the same code start, can resume there.  Zero-initialise
 * it before the first call; it is only a cache (results never depend on it).
 */
struct pvsub_decode_cursor {
	const uint8_t *bytes; /* region the cursor belongs to */
	size_t start;	      /* code start the decode began at */
	size_t at;	      /* an instruction boundary reached from it */
	bool failed;	      /* decoding from it fails at @at */
};

/* pvsub_classify_at() for a series of occurrences in ascending order: linear
 * in the size of the region rather than in occurrences times its size. */
int pvsub_classify_next(struct pvsub_decoder *d, struct pvsub_image *img, size_t region, size_t pos,
			size_t len, struct pvsub_decode_cursor *cur,
			struct pvsub_classification *out) _must_check_ _nonnull_(1, 2, 7);

/* Statistics of a full linear sweep (--deep). */
struct pvsub_deep_stats {
	uint64_t bytes;		  /* bytes in the regions swept */
	uint64_t instructions;	  /* decoded by capstone */
	uint64_t table_hits;	  /* decoded by pvsub_x86_extra_table */
	uint64_t undecoded_bytes; /* skipped one at a time after a decode failure */
	uint64_t undecoded_runs;  /* separate runs of undecoded bytes */
};

/* Sweep region @region from each code start to the next, adding to @st. */
int pvsub_classify_sweep(struct pvsub_decoder *d, struct pvsub_image *img, size_t region,
		     struct pvsub_deep_stats *st) _must_check_ _nonnull_(1, 2, 4);

#endif
