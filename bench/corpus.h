/* SPDX-License-Identifier: MIT */
/*
 * Shared by the benchmark baselines: walk a directory of ELF files, read
 * each into memory and hand its executable sections (SHF_ALLOC |
 * SHF_EXECINSTR, ET_REL) or PF_X segments (ET_DYN/ET_EXEC) to a callback.
 * Deliberately independent of libpvsub: it is what pvsub-scan is compared
 * with.
 */
#ifndef PVSUB_BENCH_CORPUS_H
#define PVSUB_BENCH_CORPUS_H

#include <stddef.h>
#include <stdint.h>

typedef void (*bench_range_fn)(const uint8_t *bytes, size_t size, void *data);

/* Returns the number of files visited, or -1. */
long bench_walk(const char *root, bench_range_fn fn, void *data);

#endif
