/* SPDX-License-Identifier: MIT */
/*
 * The decoder baseline: a plain capstone linear sweep (default options,
 * no instruction detail) over the same executable sections, skipping one
 * byte whenever capstone cannot decode.
 */
#include <capstone/capstone.h>
#include <stdio.h>

#include "bench/corpus.h"

struct sweep {
	csh cs;
	cs_insn *insn;
	unsigned long insns, skipped;
};

static void sweep(const uint8_t *code, size_t size, void *data)
{
	struct sweep *s = data;
	uint64_t addr = 0;

	while (size) {
		if (cs_disasm_iter(s->cs, &code, &size, &addr, s->insn)) {
			s->insns++;
			continue;
		}
		code++;
		size--;
		addr++;
		s->skipped++;
	}
}

int main(int argc, char **argv)
{
	struct sweep s = {0};
	long files;

	if (argc != 2) {
		fprintf(stderr, "usage: capstone-sweep DIR\n");
		return 2;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &s.cs) != CS_ERR_OK)
		return 2;
	s.insn = cs_malloc(s.cs);
	files = bench_walk(argv[1], sweep, &s);
	cs_free(s.insn, 1);
	cs_close(&s.cs);
	if (files < 0)
		return 2;
	printf("capstone-sweep: %ld files, %lu instructions, %lu bytes skipped\n", files, s.insns,
	       s.skipped);
	return 0;
}
