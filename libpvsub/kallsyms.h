/* SPDX-License-Identifier: MIT */
/*
 * kallsyms: the symbol table a Linux kernel carries inside itself
 * (CONFIG_KALLSYMS), found in a linked image by its structure alone.
 *
 * A stripped vmlinux (the one in a bzImage) has no ELF symbol table, but
 * its read-only data holds the tables scripts/kallsyms generated for it.
 * They are located here without a symbol and without a known offset, by
 * what the tables must be, in the Linux 6.1 x86-64 layout (each table
 * 8-aligned, zero-padded, in this order):
 *
 *   kallsyms_offsets        s32[num_syms], CONFIG_KALLSYMS_BASE_RELATIVE and
 *                           CONFIG_KALLSYMS_ABSOLUTE_PERCPU: a value >= 0 is
 *                           the address itself, a negative one means
 *                           relative_base - 1 - value
 *   kallsyms_relative_base  u64, the address of the first relative symbol
 *   kallsyms_num_syms       u32
 *   kallsyms_names          per symbol: a length (one byte, or two when
 *                           the first has bit 7 set: low 7 bits, then the
 *                           next byte << 7), then that many token indices;
 *                           expanded, the first character is the type
 *   kallsyms_markers        u32 per 256 symbols: where each block starts
 *   kallsyms_seqs_of_names  optional (a 6.1-stable backport): 3 bytes per
 *                           symbol, big-endian, a permutation of the indices
 *   kallsyms_token_table    256 NUL-terminated printable tokens
 *   kallsyms_token_index    u16[256]: where each token starts
 *
 * The token index is found first (index[0] == 0, strictly increasing, each
 * token ending exactly where the next starts, the table 8-aligned just
 * before the index); then, before it, a num_syms whose names decode, token
 * by token, exactly to the end of kallsyms_names with every marker right;
 * then the offsets, sorted by address.  A candidate that breaks any of
 * these is rejected; two that pass are ambiguous and neither is used.
 * Every read is bounds-checked against the caller's bytes (which are
 * hostile and must outlive the result).
 *
 * Other layouts (Linux 6.4 and later put the offsets after the token
 * index; kernels without CONFIG_KALLSYMS_ABSOLUTE_PERCPU) are not read:
 * they are reported as not found, never guessed at.
 *
 * Layering: core only (util); no libelf, no printing.  The image uses it
 * to find the symbols that delimit a stripped vmlinux's boot-time patch
 * tables (image.c).
 */
#ifndef PVSUB_KALLSYMS_H
#define PVSUB_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/util.h"

/* The longest symbol, type character included (KSYM_NAME_LEN of 6.1). */
#define PVSUB_KALLSYMS_NAME_MAX 512u

/* One run of a linked image's bytes: a loadable segment's file bytes. */
struct pvsub_kallsyms_run {
	uint64_t vaddr;	      /* address of bytes[0] */
	const uint8_t *bytes; /* NULL only when @size is 0 */
	size_t size;
};

/* Where the tables were found: their addresses (seqs_of_names 0 when the
 * kernel has none). */
struct pvsub_kallsyms_layout {
	uint64_t offsets, relative_base, num_syms, names, markers, seqs_of_names, token_table,
		token_index;
	size_t count; /* kallsyms_num_syms */
};

struct pvsub_kallsyms;

/*
 * Locate and check the kernel's kallsyms in the @n_runs runs @runs (all
 * its tables lie in one run).  0 and a new object in *@out; -ENOENT with
 * "kallsyms not found: WHY" in @diag when no candidate passes every check
 * (WHY is the reason of the candidate that came closest); -EINVAL with
 * "kallsyms ambiguous: ..." when two do; -ENOMEM.  The object points into
 * the runs' bytes.
 */
int pvsub_kallsyms_find(const struct pvsub_kallsyms_run *runs, size_t n_runs,
			struct pvsub_kallsyms **out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(3, 4);
void pvsub_kallsyms_free(struct pvsub_kallsyms *ks);

/* Where the tables lie, and how many symbols they hold. */
void pvsub_kallsyms_layout(const struct pvsub_kallsyms *ks, struct pvsub_kallsyms_layout *out)
	_nonnull_(1, 2);

/*
 * Call @fn for every symbol, in table (address) order, with its name (a
 * NUL-terminated string that lives until @fn returns), its type character
 * and its address.  Stops at, and returns, the first non-zero value @fn
 * returns; else 0.
 */
typedef int (*pvsub_kallsyms_fn)(const char *name, char type, uint64_t addr, void *arg);
int pvsub_kallsyms_foreach(const struct pvsub_kallsyms *ks, pvsub_kallsyms_fn fn, void *arg)
	_nonnull_(1, 2);

/*
 * The address of symbol @name in *@addr: 0; -ENOENT when kallsyms does not
 * name it; -EINVAL when it names it twice at different addresses (a static
 * symbol of two files); both with the reason in @diag.
 */
int pvsub_kallsyms_lookup(const struct pvsub_kallsyms *ks, const char *name, uint64_t *addr,
			  struct pvsub_diag *diag) _must_check_ _nonnull_(1, 2, 3, 4);

#endif
