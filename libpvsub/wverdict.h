/* SPDX-License-Identifier: MIT */
/*
 * wverdict: whether a policy pattern can form in a kernel mutable window
 * (DESIGN §4 "Load-time bytes"), window by window.
 *
 * For every window of a region (kmeta.h) the bytes that Linux 6.1 x86-64
 * can write there are enumerated as a small set of variants, each a byte
 * string in which some bits may be unknown (a rel32 to a target chosen at
 * run time, a relocated or KASLR-moved field):
 *
 *   smp-lock      the byte, or f0 <-> 3e (alternatives_smp_lock/unlock)
 *   jump-label    the NOP of its length (66 90, 0f 1f 44 00 00), or
 *                 jmp rel8/rel32 to the entry's target (exact when the
 *                 target lies in the same section or segment)
 *   endbr-seal    endbr64, or the 6.1 poison 66 0f 1f 00
 *   alternative   the original, or each replacement of the same table
 *                 entry (a 5-byte call re-targeted, a 5-byte jmp
 *                 recomputed as jmp rel8 + nop3 or jmp rel32, padded
 *                 with 0x90), each with and without optimize_nops()
 *                 (single-byte NOP runs rewritten with the P6 NOPs)
 *   retpoline     the call/jmp/jcc; [lfence;] call/jmp *%reg for every
 *                 register but %rsp (jcc: the inverted jcc rel8 over
 *                 jmp *%reg), a call after cs prefixes or before NOPs, a
 *                 jmp before int3 (or int3 and NOPs); or the same
 *                 call/jmp/jcc with an unknown rel32 (a thunk chosen at
 *                 boot: ITS)
 *   return-thunk  the jmp; ret + int3 padding; or unknown bytes (a jmp
 *                 to the return thunk chosen at boot)
 *   static-call   call/jmp rel32 to any function (unknown), the NOP,
 *                 ret + int3, the 5-byte xor %eax forms
 *   ftrace        the NOP, or call rel32 to a trampoline (unknown)
 *   paravirt      NOPs, or call rel32 (unknown) padded with NOPs
 *   alt-replacement  never written: its own bytes
 *
 * Every variant is placed in its context, the bytes before and after the
 * window as they are in the file (up to the longest pattern length - 1;
 * bytes outside the region are unknown), and every pattern position that
 * overlaps the window is tried.  Windows closer to each other than a
 * pattern's length are decided together: every combination of their
 * variants is tried, applied in the kernel's order (paravirt, retpoline,
 * return thunk, alternatives in table order, ENDBR, SMP locks, then the
 * run-time kinds); a group with more windows or combinations than a fixed
 * budget gets `runtime` for all its windows (conservative), after the
 * combinations in which only one of its windows is patched have been
 * tried, so that what forms in them is still found.  The verdict of a window
 * covers every occurrence that overlaps its bytes in some combination:
 *
 *   static       some pattern forms with bytes that are all known;
 *   runtime      none does, but one may, depending on unknown bits;
 *   cannot-form  no pattern can form over it, whatever the unknown bits.
 *
 * Layering: analysis area, above image and search (the windows, bytes,
 * relocation and KASLR windows come from the image), beside classify;
 * uses the x86 decoder to follow optimize_nops().  No printing.
 */
#ifndef PVSUB_WVERDICT_H
#define PVSUB_WVERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "libpvsub/image.h"
#include "libpvsub/search.h"
#include "libpvsub/util.h"
#include "libpvsub/x86.h"

enum pvsub_wverdict {
	PVSUB_WVERDICT_CANNOT_FORM,
	PVSUB_WVERDICT_RUNTIME,
	PVSUB_WVERDICT_STATIC,
};
#define PVSUB_WVERDICT_COUNT 3

/* "cannot-form", "runtime", "static" (the manifest's words). */
const char *pvsub_wverdict_name(enum pvsub_wverdict v);

/* An occurrence that forms, with known bytes, only when the kernel patches
 * (not in the file's bytes). */
struct pvsub_wverdict_hit {
	size_t pos;	/* index into the region's bytes */
	size_t pattern; /* the matcher's index */
	size_t window;	/* index, among the region's windows, of the first it overlaps */
	uint8_t bytes[PVSUB_PATTERN_MAX];
};

struct pvsub_wverdict_ctx;

/*
 * A context for the windows of @img (pvsub_image_kmeta()), decided with the
 * patterns of @m and decoder @d; all three must outlive it.  0, -ENOMEM.
 */
int pvsub_wverdict_ctx_new(struct pvsub_image *img, struct pvsub_decoder *d,
			   const struct pvsub_matcher *m, struct pvsub_wverdict_ctx **out)
	_must_check_ _nonnull_(1, 2, 3, 4);
void pvsub_wverdict_ctx_free(struct pvsub_wverdict_ctx *c);

/*
 * Decide the @n windows of region @region (pvsub_image_mutable_windows()
 * order) into @verdicts[0..n), and hand back the occurrences that form only
 * when patched in *@hits (malloc'ed, NULL when none), sorted by (pos,
 * pattern) and unique.  *@over_budget counts the windows given `runtime`
 * because their group had too many combinations.  0, -EINVAL, -ENOMEM.
 */
int pvsub_wverdict_region(struct pvsub_wverdict_ctx *c, size_t region, uint8_t *verdicts, size_t n,
			  struct pvsub_wverdict_hit **hits, size_t *nhits, size_t *over_budget)
	_must_check_ _nonnull_(1, 5, 6, 7);

#endif
