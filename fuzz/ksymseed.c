/* SPDX-License-Identifier: MIT */
/*
 * ksymseed: seeds for the kallsyms fuzzing, made at fuzz time from
 * tests/unit/ksymgen (no binary seed is kept in git).
 *
 *   ksymseed blob N SEQS    a kallsyms of N symbols (with seqs_of_names when
 *                           SEQS is 1) behind 3 bytes of noise, on stdout:
 *                           fuzz_kallsyms's input (its first byte, 0x03,
 *                           puts the blob on an 8-aligned address)
 *   ksymseed asm            assembly to append to a vmlinux's source: the
 *                           kallsyms of _start and the six delimiters of
 *                           its tables between symbols, in .rodata
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/ksymgen.h"

static int blob(size_t n, int seqs)
{
	struct ksymgen_sym *syms = calloc(n, sizeof(*syms));
	char(*buf)[32] = calloc(n, sizeof(*buf));
	struct ksymgen_layout lay;
	uint8_t *b;

	if (!syms || !buf || n < 2)
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (i < KSYMGEN_KERNEL_SYMS)
			snprintf(buf[i], sizeof(buf[i]), "%s", ksymgen_kernel_syms[i]);
		else
			snprintf(buf[i], sizeof(buf[i]), "sym_%zu", i);
		syms[i] = (struct ksymgen_sym){buf[i], i % 3 ? 't' : 'D',
					       0xffffffff81000000ull + 16 * i, false};
	}
	syms[0] = (struct ksymgen_sym){"fixed_percpu_data", 'A', 0, true};
	if (ksymgen_build(syms, n, seqs, &b, &lay) < 0)
		return 1;
	/* The harness's first byte: no split (one run of everything), the
	 * address 3 mod 8, so that the blob after 5 bytes of noise is
	 * 8-aligned. */
	fwrite("\x03\x11\x22\x33\x44\x55", 1, 6, stdout);
	fwrite(b, 1, lay.size, stdout);
	free(b);
	free(syms);
	free(buf);
	return 0;
}

static int assembly(void)
{
	char *src = ksymgen_kernel_asm(ksymgen_kernel_syms);

	if (!src)
		return 1;
	fputs(src, stdout);
	free(src);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "blob") == 0)
		return blob(strtoul(argv[2], NULL, 10), atoi(argv[3]));
	if (argc == 2 && strcmp(argv[1], "asm") == 0)
		return assembly();
	fprintf(stderr, "usage: ksymseed blob N SEQS | ksymseed asm\n");
	return 2;
}
