/* SPDX-License-Identifier: MIT */
/*
 * ksymgen: a kernel's kallsyms tables built at test time, laid out as
 * Linux 6.1's scripts/kallsyms lays them out for x86-64 (base relative,
 * absolute per-cpu symbols, every table 8-aligned and zero-padded), so
 * that tests never depend on an opaque blob.  Names are compressed with a
 * small token table of our own: the printable characters stand for
 * themselves, a few codes for common substrings, the other codes are
 * empty tokens that no name uses.
 */
#ifndef PVSUB_TESTS_KSYMGEN_H
#define PVSUB_TESTS_KSYMGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ksymgen_sym {
	const char *name;
	char type;
	uint64_t addr;
	bool absolute; /* a per-cpu symbol: its value, not relative */
};

/* Where each table starts in the blob (seqs SIZE_MAX when there are none),
 * and where the last symbol's name starts. */
struct ksymgen_layout {
	size_t offsets, relative_base, num_syms, names, markers, seqs, token_table, token_index;
	size_t last_name, size;
};

/* The tables of the @n symbols @syms (sorted by address, the absolute ones
 * first, at least one relative one, whose first is the relative base), with
 * kallsyms_seqs_of_names when @seqs; *@blob malloc'ed, *@lay its layout,
 * the blob meant to be placed at an 8-aligned address.  0 or -1 (a name
 * that cannot be encoded, a value out of range). */
int ksymgen_build(const struct ksymgen_sym *syms, size_t n, bool seqs, uint8_t **blob,
		  struct ksymgen_layout *lay);

/* The symbols a linked kernel's boot-patch tables are found by: _start
 * and the six __start_/__stop_ delimiters (libpvsub/kmeta.c). */
#define KSYMGEN_KERNEL_SYMS 7
extern const char *const ksymgen_kernel_syms[KSYMGEN_KERNEL_SYMS];

/*
 * Assembly (malloc'ed) for a .rodata section that holds the kallsyms of a
 * kernel linked from the same source: ksymgen_kernel_syms at their
 * linker-resolved addresses, named @names (those names, or others at the
 * same addresses), then "ks_end" at the end, the relative base.  The
 * offsets are the linker's, so the kernel must lie below 2 GiB (where an
 * absolute offset holds an address).  NULL on a failure.
 */
char *ksymgen_kernel_asm(const char *const names[KSYMGEN_KERNEL_SYMS]);

#endif
