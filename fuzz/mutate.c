/* SPDX-License-Identifier: MIT */
/*
 * mutate: deterministic mutants of one input file, for the mutation tests
 * (tests/integration/mutate-elf.sh, mutate-archive.sh).
 *
 *   mutate [--elf] SEED COUNT INPUT OUTDIR
 *
 * Writes COUNT files OUTDIR/m<seed>-<n>.  With --elf, and when the input is
 * an ELF64 little-endian file, most mutants change one meaningful field: in
 * the ELF header, a section or program header, a relocation or a symbol;
 * or cut the file at a structure boundary.  Otherwise (and for some ELF
 * mutants) bytes are flipped, overwritten, duplicated or cut.  The same
 * arguments always give the same files.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/util.h"

struct rng {
	uint64_t s;
};

/* splitmix64: tiny, and the same everywhere (rand() is not). */
static uint64_t next(struct rng *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t below(struct rng *g, size_t n)
{
	return n ? (size_t)(next(g) % n) : 0;
}

static uint64_t get(const uint8_t *p, unsigned w)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < w; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put(uint8_t *p, unsigned w, uint64_t v)
{
	for (unsigned i = 0; i < w; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A value likely to hit a boundary check for a field holding @old. */
static uint64_t interesting(struct rng *g, uint64_t old, size_t size)
{
	static const uint64_t fixed[] = {
		0,
		1,
		2,
		3,
		7,
		8,
		15,
		16,
		63,
		64,
		0x7f,
		0x80,
		0xff,
		0x100,
		0xfff,
		0x1000,
		0x7fff,
		0xffff,
		0x10000,
		0x7fffffff,
		0x80000000,
		0xffffffff,
		0x100000000ull,
		INT64_MAX,
		UINT64_MAX,
		UINT64_MAX - 1,
		1ull << 63,
	};
	size_t k = below(g, 10);

	switch (k) {
	case 0:
		return size;
	case 1:
		return size - 1 - below(g, 64);
	case 2:
		return old + 1;
	case 3:
		return old - 1;
	case 4:
		return old * 2 + below(g, 2);
	case 5:
		return next(g);
	default:
		return fixed[below(g, sizeof(fixed) / sizeof(fixed[0]))];
	}
}

/* An ELF64 LE file's tables, as far as they lie inside the file. */
struct elf {
	uint8_t *d;
	size_t size;
	uint64_t shoff, phoff;
	unsigned shnum, phnum;
};

static bool elf_parse(struct elf *e)
{
	uint8_t *d = e->d;

	if (e->size < 64 || memcmp(d, "\177ELF", 4) || d[4] != 2 || d[5] != 1)
		return false;
	e->phoff = get(d + 32, 8);
	e->shoff = get(d + 40, 8);
	e->phnum = (unsigned)get(d + 56, 2);
	e->shnum = (unsigned)get(d + 60, 2);
	if (e->shoff > e->size || e->shnum > (e->size - e->shoff) / 64)
		e->shnum = 0;
	if (e->phoff > e->size || e->phnum > (e->size - e->phoff) / 56)
		e->phnum = 0;
	return true;
}

static uint8_t *shdr(const struct elf *e, unsigned i)
{
	return e->d + e->shoff + 64 * (size_t)i;
}

/* A random section of @type (0: any) whose contents lie in the file. */
static uint8_t *pick_section(struct rng *g, const struct elf *e, uint32_t type, uint64_t *off,
			     uint64_t *size)
{
	unsigned cand[256], n = 0;

	for (unsigned i = 0; i < e->shnum && n < 256; i++) {
		uint8_t *sh = shdr(e, i);
		uint64_t o = get(sh + 24, 8), s = get(sh + 32, 8);

		if ((type == 0 || get(sh + 4, 4) == type) && o <= e->size && s <= e->size - o &&
		    s > 0)
			cand[n++] = i;
	}
	if (n == 0)
		return NULL;
	uint8_t *sh = shdr(e, cand[below(g, n)]);
	*off = get(sh + 24, 8);
	*size = get(sh + 32, 8);
	return sh;
}

/* Field offsets and widths of the structures mutated. */
static const uint8_t ehdr_fields[][2] = {
	{16, 2}, {18, 2}, {24, 8}, {32, 8}, {40, 8}, {52, 2},
	{54, 2}, {56, 2}, {58, 2}, {60, 2}, {62, 2},
};
static const uint8_t shdr_fields[][2] = {
	{0, 4}, {4, 4}, {8, 8}, {16, 8}, {24, 8}, {32, 8}, {40, 4}, {44, 4}, {48, 8}, {56, 8},
};
static const uint8_t phdr_fields[][2] = {
	{0, 4}, {4, 4}, {8, 8}, {16, 8}, {24, 8}, {32, 8}, {40, 8}, {48, 8},
};
static const uint8_t rela_fields[][2] = {{0, 8}, {8, 4}, {12, 4}, {16, 8}};
static const uint8_t sym_fields[][2] = {{0, 4}, {4, 1}, {5, 1}, {6, 2}, {8, 8}, {16, 8}};

#define PICK(g, t) (t)[below((g), sizeof(t) / sizeof((t)[0]))]

static void set_field(struct rng *g, uint8_t *base, const uint8_t f[2], size_t size)
{
	put(base + f[0], f[1], interesting(g, get(base + f[0], f[1]), size));
}

/* Mutate a table entry of sections of @type with entries of @entsize. */
static bool mutate_entries(struct rng *g, struct elf *e, uint32_t type, size_t entsize,
			   const uint8_t (*fields)[2], size_t nfields)
{
	uint64_t off, size;

	if (!pick_section(g, e, type, &off, &size) || size < entsize)
		return false;
	uint8_t *ent = e->d + off + entsize * below(g, size / entsize);
	const uint8_t *f = fields[below(g, nfields)];

	if (type == 4 && f[0] == 8 && below(g, 2)) {
		/* r_info's type half: a real relocation type most of the time */
		put(ent + 8, 4, below(g, 44));
		return true;
	}
	set_field(g, ent, f, e->size);
	return true;
}

static void mutate_bytes(struct rng *g, uint8_t *d, size_t *size, size_t cap)
{
	size_t n = *size;

	if (n == 0)
		return;
	switch (below(g, 6)) {
	case 0: /* flip a few bits */
		for (size_t k = 1 + below(g, 8); k--;)
			d[below(g, n)] ^= (uint8_t)(1u << below(g, 8));
		break;
	case 1: /* overwrite a run with one value */
	{
		size_t at = below(g, n), len = 1 + below(g, 32);

		len = PVSUB_MIN(len, n - at);

		memset(d + at, (int)PICK(g, ((const uint8_t[]){0, 0xff, 0x7f, 0x80, 0x41})), len);
		break;
	}
	case 2: /* an interesting integer at any offset */
	{
		unsigned w = 1u << below(g, 4);

		if (n >= w) {
			size_t at = below(g, n - w + 1);

			put(d + at, w, interesting(g, get(d + at, w), n));
		}
		break;
	}
	case 3: /* cut */
		*size = below(g, n);
		break;
	case 4: /* duplicate a chunk further on (grows the file) */
	{
		size_t from = below(g, n), len = 1 + below(g, 512), to = below(g, n);

		len = PVSUB_MIN(len, n - from);

		if (n + len <= cap) {
			memmove(d + to + len, d + to, n - to);
			memmove(d + to, d + from + (from >= to ? len : 0), len);
			*size = n + len;
		}
		break;
	}
	default: /* delete a chunk */
	{
		size_t at = below(g, n), len = 1 + below(g, 512);

		len = PVSUB_MIN(len, n - at);

		memmove(d + at, d + at + len, n - at - len);
		*size = n - len;
		break;
	}
	}
}

/* One structured change; false if the file has no such structure. */
static bool mutate_elf(struct rng *g, struct elf *e, size_t *size)
{
	uint64_t off, sz;

	switch (below(g, 9)) {
	case 0:
		set_field(g, e->d, PICK(g, ehdr_fields), e->size);
		return true;
	case 1:
	case 2:
		if (!e->shnum)
			return false;
		set_field(g, shdr(e, (unsigned)below(g, e->shnum)), PICK(g, shdr_fields), e->size);
		return true;
	case 3:
		if (!e->phnum)
			return false;
		set_field(g, e->d + e->phoff + 56 * below(g, e->phnum), PICK(g, phdr_fields),
			  e->size);
		return true;
	case 4:
	case 5:
		return mutate_entries(g, e, 4 /* SHT_RELA */, 24, rela_fields,
				      sizeof(rela_fields) / sizeof(rela_fields[0]));
	case 6:
		return mutate_entries(g, e, 2 /* SHT_SYMTAB */, 24, sym_fields,
				      sizeof(sym_fields) / sizeof(sym_fields[0]));
	case 7: /* cut at a structure boundary, or just before or after it */
	{
		uint64_t at;

		if (!pick_section(g, e, 0, &off, &sz))
			return false;
		at = off + (below(g, 2) ? sz : 0) + below(g, 3) - 1;
		if (at < e->size)
			*size = (size_t)at;
		return true;
	}
	default: /* a string table without its terminating NUL */
		if (!pick_section(g, e, 3 /* SHT_STRTAB */, &off, &sz))
			return false;
		{
			/* (PVSUB_MIN evaluates its arguments twice: no call inside.) */
			size_t tail = 1 + below(g, 8);

			tail = PVSUB_MIN(tail, sz);
			memset(e->d + off + sz - tail, 'A', tail);
			return true;
		}
	}
}

/* Not pvsub_write_file_atomic: thousands of fsyncs would dominate the test. */
static int write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	int r = 0;

	if (!f)
		return -1;
	if (size && fwrite(data, 1, size, f) != size)
		r = -1;
	if (fclose(f) != 0)
		r = -1;
	return r;
}

int main(int argc, char **argv)
{
	bool elf_mode = false;
	uint8_t *orig = NULL, *buf = NULL;
	size_t len = 0, cap;
	unsigned long long seed, count;
	char *end;
	int r;

	if (argc > 1 && !strcmp(argv[1], "--elf")) {
		elf_mode = true;
		argv++;
		argc--;
	}
	if (argc != 5) {
		fprintf(stderr, "usage: mutate [--elf] SEED COUNT INPUT OUTDIR\n");
		return 2;
	}
	errno = 0;
	seed = strtoull(argv[1], &end, 0);
	if (errno || *end)
		return 2;
	count = strtoull(argv[2], &end, 0);
	if (errno || *end)
		return 2;
	r = pvsub_read_file(argv[3], 64u << 20, &orig, &len, NULL);
	if (r < 0) {
		fprintf(stderr, "mutate: %s: %s\n", argv[3], strerror(-r));
		return 2;
	}
	cap = len + 8 * 512;
	buf = malloc(cap ? cap : 1);
	if (!buf)
		return 2;
	for (unsigned long long i = 0; i < count; i++) {
		struct rng g = {.s = seed * 1000003u + i};
		struct elf e = {.d = buf, .size = len};
		size_t size = len, changes = 1 + below(&g, 3);
		char path[4096];

		memcpy(buf, orig, len);
		for (size_t k = 0; k < changes; k++) {
			e.size = size;
			if (elf_mode && below(&g, 5) && elf_parse(&e) && mutate_elf(&g, &e, &size))
				continue;
			mutate_bytes(&g, buf, &size, cap);
		}
		snprintf(path, sizeof(path), "%s/m%llu-%llu", argv[4], seed, i);
		if (write_file(path, buf, size) < 0) {
			fprintf(stderr, "mutate: %s: %s\n", path, strerror(errno));
			return 2;
		}
	}
	free(buf);
	free(orig);
	return 0;
}
