/* SPDX-License-Identifier: MIT */
/*
 * KASLR windows: the table reader, the offsets, and the search against a
 * reference that moves the whole buffer by every offset and searches it
 * again with the ordinary matcher, on hand-made cases and on random ones.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/kaslr.h"

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static struct pvsub_matcher *matcher_of(const char *const *hex, size_t n)
{
	struct pvsub_pattern pats[8];
	struct pvsub_matcher *m;

	cr_assert(n <= 8);
	memset(pats, 0, sizeof(pats));
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(hex[i]) / 2;

		snprintf(pats[i].id, sizeof(pats[i].id), "p%zu", i);
		pats[i].len = (uint8_t)len;
		for (size_t j = 0; j < len; j++) {
			unsigned v;

			cr_assert_eq(sscanf(hex[i] + 2 * j, "%2x", &v), 1);
			pats[i].value[j] = (uint8_t)v;
			pats[i].mask[j] = 0xff;
		}
	}
	cr_assert_eq(pvsub_matcher_new(pats, n, &m), 0);
	return m;
}

Test(kaslr, the_table_is_read_from_the_end_in_the_decompressors_order)
{
	/* 0, 64-bit, 0, inverse, 0, 32-bit (from the start). */
	const uint32_t words[] = {0, 0x81000010, 0, 0x00001000, 0, 0x81000000, 0x80000008};
	uint8_t t[sizeof(words)];
	struct pvsub_kaslr_field *f;
	size_t n;

	for (size_t i = 0; i < sizeof(words) / 4; i++)
		put32(t + 4 * i, words[i]);
	struct pvsub_kaslr_relocs counts;

	cr_assert_eq(pvsub_kaslr_fields(t, sizeof(t), &f, &n, &counts), 0);
	cr_assert_eq(n, 4);
	cr_expect(counts.n32 == 2 && counts.n32_inverse == 1 && counts.n64 == 1);
	/* The 32-bit list, last word first, sign-extended. */
	cr_expect_eq(f[0].addr, 0xffffffff80000008ull);
	cr_expect_eq(f[1].addr, 0xffffffff81000000ull);
	cr_expect(f[0].size == 4 && f[0].sign == 1 && f[1].size == 4 && f[1].sign == 1);
	cr_expect(f[2].addr == 0x1000 && f[2].size == 4 && f[2].sign == -1);
	cr_expect(f[3].addr == 0xffffffff81000010ull && f[3].size == 8 && f[3].sign == 1);
	free(f);

	/* Not a table: a word missing, or an odd length. */
	cr_expect_eq(pvsub_kaslr_fields(t + 4, sizeof(t) - 4, &f, &n, NULL), -EINVAL);
	cr_expect_null(f);
	cr_expect_eq(pvsub_kaslr_fields(t, sizeof(t) - 1, &f, &n, NULL), -EINVAL);
}

Test(kaslr, offsets_keep_the_kernel_below_one_gib)
{
	struct pvsub_kaslr_offsets o;

	/* Debian: LOAD_PHYSICAL_ADDR 16 MiB; a 46 MiB kernel: (1024-16-46)/2+1. */
	cr_assert_eq(pvsub_kaslr_offsets_for(16 << 20, 46 << 20, &o), 0);
	cr_expect_eq(o.step, 2 << 20);
	cr_expect_eq(o.count, 482);
	/* One byte more and the last slot no longer fits. */
	cr_assert_eq(pvsub_kaslr_offsets_for(16 << 20, (46 << 20) + 1, &o), 0);
	cr_expect_eq(o.count, 481);
	cr_expect_eq(pvsub_kaslr_offsets_for(16 << 20, 1ull << 30, &o), -EINVAL);
	cr_expect_eq(pvsub_kaslr_offsets_for(UINT64_MAX, 1, &o), -EINVAL);
}

/*
 * The reference: move the whole buffer by each offset, search it all, and
 * keep what covers a changing byte of some window (a byte at index 2 or more
 * of it) and that offset 0 does not form at the same place -- or that it
 * does, marked at_zero.  Counts per (pos, pattern).
 */
struct ref_hit {
	size_t pos, pattern;
	uint64_t n, first;
	bool at_zero;
};

struct ref_state {
	const struct pvsub_matcher *m;
	const struct pvsub_kaslr_window *w;
	size_t nw;
	uint64_t delta;
	struct ref_hit *hits;
	size_t n;
};

static bool covers_changing(const struct ref_state *st, size_t pos, size_t len)
{
	for (size_t k = 0; k < st->nw; k++) {
		size_t lo = st->w[k].pos + 2, hi = st->w[k].pos + st->w[k].size;

		if (lo < pos + len && pos < hi)
			return true;
	}
	return false;
}

static int ref_hit_fn(void *data, size_t pos, size_t pattern)
{
	struct ref_state *st = data;

	if (!covers_changing(st, pos, pvsub_matcher_pattern(st->m, pattern)->len))
		return 0;
	for (size_t i = 0; i < st->n; i++) {
		if (st->hits[i].pos == pos && st->hits[i].pattern == pattern) {
			st->hits[i].n++;
			st->hits[i].at_zero |= st->delta == 0;
			return 0;
		}
	}
	st->hits = realloc(st->hits, (st->n + 1) * sizeof(*st->hits));
	cr_assert_not_null(st->hits);
	st->hits[st->n++] = (struct ref_hit){pos, pattern, 1, st->delta, st->delta == 0};
	return 0;
}

static void move(uint8_t *b, const uint8_t *orig, const struct pvsub_kaslr_window *w, size_t n,
		 uint64_t delta)
{
	for (size_t k = 0; k < n; k++) {
		uint64_t v = 0;

		for (unsigned i = 0; i < w[k].size; i++)
			v |= (uint64_t)orig[w[k].pos + i] << (8 * i);
		v = w[k].sign > 0 ? v + delta : v - delta;
		for (unsigned i = 0; i < w[k].size; i++)
			b[w[k].pos + i] = (uint8_t)(v >> (8 * i));
	}
}

static void reference(const struct pvsub_matcher *m, const uint8_t *bytes, size_t size,
		      const struct pvsub_kaslr_window *w, size_t n,
		      const struct pvsub_kaslr_offsets *off, struct ref_state *st)
{
	uint8_t *b = malloc(size);

	cr_assert_not_null(b);
	*st = (struct ref_state){.m = m, .w = w, .nw = n};
	for (uint64_t k = 0; k < off->count; k++) {
		memcpy(b, bytes, size);
		st->delta = k * off->step;
		move(b, bytes, w, n, st->delta);
		cr_assert_eq(pvsub_matcher_search(m, b, size, ref_hit_fn, st), 0);
	}
	free(b);
}

static int cmp_ref(const void *x, const void *y)
{
	const struct ref_hit *a = x, *b = y;

	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	return a->pattern < b->pattern ? -1 : a->pattern > b->pattern;
}

/* Hits of the reference that offset 0 does not form: the random cases must
 * exercise what only other offsets form. */
static size_t moved_hits;

/* pvsub_kaslr_search() must give exactly the reference's hits; returns how
 * many differ (0 when they agree). */
static size_t compare(const struct pvsub_matcher *m, const uint8_t *bytes, size_t size,
		      const struct pvsub_kaslr_window *w, size_t n,
		      const struct pvsub_kaslr_offsets *off, const struct pvsub_kaslr_offsets *ref_off)
{
	struct pvsub_kaslr_stats st = {0};
	struct pvsub_kaslr_hit *h;
	struct ref_state ref;
	size_t nh, diff = 0;

	cr_assert_eq(pvsub_kaslr_search(m, bytes, size, w, n, off, &h, &nh, &st), 0);
	reference(m, bytes, size, w, n, ref_off, &ref);
	if (ref.n > 1)
		qsort(ref.hits, ref.n, sizeof(*ref.hits), cmp_ref);
	for (size_t i = 0; i < ref.n; i++)
		moved_hits += !ref.hits[i].at_zero;
	if (nh != ref.n)
		diff++;
	for (size_t i = 0; i < nh && i < ref.n; i++)
		if (h[i].pos != ref.hits[i].pos || h[i].pattern != ref.hits[i].pattern ||
		    h[i].n_offsets != ref.hits[i].n || h[i].first_delta != ref.hits[i].first ||
		    h[i].at_zero != ref.hits[i].at_zero)
			diff++;
	cr_expect_eq(st.windows, n);
	free(h);
	free(ref.hits);
	return diff;
}

Test(kaslr, a_pattern_that_forms_for_one_offset_only)
{
	static const char *const pats[] = {"0f01ef"};
	struct pvsub_matcher *m = matcher_of(pats, 1);
	const struct pvsub_kaslr_offsets off = {PVSUB_KASLR_STEP, 482};
	uint8_t b[16];
	struct pvsub_kaslr_window w = {.pos = 4, .size = 4, .sign = 1};
	struct pvsub_kaslr_stats st = {0};
	struct pvsub_kaslr_hit *h;
	size_t nh;

	memset(b, 0x90, sizeof(b));
	/* Bytes 1..3 of the field must become 0f 01 ef: (b2, b3) + 32k =
	 * 0xef01 only for k = 5. */
	put32(b + 4, 0xee610f00);
	cr_assert_eq(pvsub_kaslr_search(m, b, sizeof(b), &w, 1, &off, &h, &nh, &st), 0);
	cr_assert_eq(nh, 1);
	cr_expect_eq(h[0].pos, 5);
	cr_expect_eq(h[0].n_offsets, 1);
	cr_expect_eq(h[0].first_delta, 5 * PVSUB_KASLR_STEP);
	cr_expect(!h[0].at_zero);
	cr_expect_arr_eq(h[0].bytes, "\x0f\x01\xef", 3);
	cr_expect(st.windows == 1 && st.proven == 0);
	free(h);

	/* The same field with byte 2's fixed bits wrong never forms it. */
	put32(b + 4, 0xee620f00);
	st = (struct pvsub_kaslr_stats){0};
	cr_assert_eq(pvsub_kaslr_search(m, b, sizeof(b), &w, 1, &off, &h, &nh, &st), 0);
	cr_expect_eq(nh, 0);
	cr_expect(st.windows == 1 && st.proven == 1);
	cr_expect_eq(compare(m, b, sizeof(b), &w, 1, &off, &off), 0);
	pvsub_matcher_free(m);
}

Test(kaslr, an_occurrence_at_offset_zero_is_marked)
{
	static const char *const pats[] = {"0f01ef"};
	struct pvsub_matcher *m = matcher_of(pats, 1);
	const struct pvsub_kaslr_offsets off = {PVSUB_KASLR_STEP, 64};
	uint8_t b[12];
	struct pvsub_kaslr_window w = {.pos = 2, .size = 4, .sign = -1};
	struct pvsub_kaslr_stats st = {0};
	struct pvsub_kaslr_hit *h;
	size_t nh;

	memset(b, 0xcc, sizeof(b));
	put32(b + 2, 0xef010f00); /* 0f 01 ef at pos 3, moved away by any offset */
	cr_assert_eq(pvsub_kaslr_search(m, b, sizeof(b), &w, 1, &off, &h, &nh, &st), 0);
	cr_assert_eq(nh, 1);
	cr_expect(h[0].pos == 3 && h[0].at_zero && h[0].n_offsets == 1 && h[0].first_delta == 0);
	free(h);
	cr_expect_eq(compare(m, b, sizeof(b), &w, 1, &off, &off), 0);
	pvsub_matcher_free(m);
}

Test(kaslr, bad_windows_are_refused)
{
	static const char *const pats[] = {"0f01ef"};
	struct pvsub_matcher *m = matcher_of(pats, 1);
	const struct pvsub_kaslr_offsets off = {PVSUB_KASLR_STEP, 4};
	uint8_t b[16] = {0};
	struct pvsub_kaslr_window over[2] = {{0, 8, 1}, {4, 4, 1}};
	struct pvsub_kaslr_window out = {12, 8, 1}, odd = {0, 2, 1};
	struct pvsub_kaslr_stats st = {0};
	struct pvsub_kaslr_hit *h;
	size_t nh;

	cr_expect_eq(pvsub_kaslr_search(m, b, sizeof(b), over, 2, &off, &h, &nh, &st), -EINVAL);
	cr_expect_eq(pvsub_kaslr_search(m, b, sizeof(b), &out, 1, &off, &h, &nh, &st), -EINVAL);
	cr_expect_eq(pvsub_kaslr_search(m, b, sizeof(b), &odd, 1, &off, &h, &nh, &st), -EINVAL);
	cr_expect_eq(st.windows, 0);
	pvsub_matcher_free(m);
}

/* Random buffers over a small alphabet, so patterns are frequent, with
 * random 4- and 8-byte windows of both signs, some near wrapping. */
static size_t random_case(unsigned seed, const struct pvsub_matcher *m, bool cripple)
{
	static const uint8_t alphabet[] = {0x0f, 0x01, 0xef, 0xae, 0x28, 0xff, 0x00, 0x81};
	const struct pvsub_kaslr_offsets off = {PVSUB_KASLR_STEP, 40};
	/* The negative control searches with fewer offsets than the reference. */
	const struct pvsub_kaslr_offsets small = {PVSUB_KASLR_STEP, 20};
	struct pvsub_kaslr_window w[16];
	uint8_t b[160];
	size_t n = 0, pos = 0;

	srand(seed);
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = alphabet[rand() % (int)sizeof(alphabet)];
	while (n < 16) {
		uint8_t size = rand() % 2 ? 8 : 4;

		pos += (size_t)(rand() % 9);
		if (pos + size > sizeof(b))
			break;
		w[n] = (struct pvsub_kaslr_window){pos, size, (int8_t)(rand() % 3 ? 1 : -1)};
		if (rand() % 4 == 0 && size == 8) /* near the top, so adding wraps */
			put64(b + pos, 0xfffffffffff00000ull | (uint64_t)(rand() & 0xfffff));
		else if (rand() % 4 == 0)
			put32(b + pos, 0xfff00000u | (uint32_t)(rand() & 0xfffff));
		pos += size;
		n++;
	}
	return compare(m, b, sizeof(b), w, n, cripple ? &small : &off, &off);
}

Test(kaslr, random_cases_agree_with_moving_everything)
{
	static const char *const pats[] = {"0f01ef", "0fae28", "ef0f", "81ff00"};
	struct pvsub_matcher *m = matcher_of(pats, 4);
	size_t crippled = 0;

	moved_hits = 0;
	for (unsigned seed = 1; seed <= 300; seed++)
		cr_assert_eq(random_case(seed, m, false), 0, "seed %u", seed);
	cr_expect_gt(moved_hits, 50, "only %zu hits that offset 0 does not form", moved_hits);
	/* Negative control: the comparison sees a search that misses offsets. */
	for (unsigned seed = 1; seed <= 300; seed++)
		crippled += random_case(seed, m, true) != 0;
	cr_expect_gt(crippled, 0);
	pvsub_matcher_free(m);
}
