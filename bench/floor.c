/* SPDX-License-Identifier: MIT */
/*
 * The floor: read every ELF file under a directory, find its executable
 * sections with libelf, and run memchr over them for the first byte of the
 * gate opcodes (0f).  No scanner can do less and still look at every byte.
 */
#include <stdio.h>
#include <string.h>

#include "bench/corpus.h"

static void count_0f(const uint8_t *p, size_t n, void *data)
{
	unsigned long *hits = data;
	const uint8_t *end = p + n;

	while ((p = memchr(p, 0x0f, (size_t)(end - p)))) {
		(*hits)++;
		p++;
	}
}

int main(int argc, char **argv)
{
	unsigned long hits = 0;
	long files;

	if (argc != 2) {
		fprintf(stderr, "usage: floor DIR\n");
		return 2;
	}
	files = bench_walk(argv[1], count_0f, &hits);
	if (files < 0)
		return 2;
	printf("floor: %ld files, %lu 0f bytes\n", files, hits);
	return 0;
}
