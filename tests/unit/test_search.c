/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/search.h"

/* A small deterministic PRNG (xorshift64*), so failures are reproducible. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

struct hitlist {
	size_t n;
	size_t offset[4096];
	size_t pattern[4096];
};

static int collect(void *data, size_t offset, size_t pattern)
{
	struct hitlist *h = data;

	cr_assert_lt(h->n, PVSUB_ARRAY_SIZE(h->offset));
	h->offset[h->n] = offset;
	h->pattern[h->n] = pattern;
	h->n++;
	return 0;
}

/* The reference: try every pattern at every offset, in the order the
 * matcher promises (offset, then pattern index). */
static void naive(const struct pvsub_pattern *pats, size_t npats, const uint8_t *buf, size_t len,
		  struct hitlist *h)
{
	h->n = 0;
	for (size_t o = 0; o < len; o++)
		for (size_t p = 0; p < npats; p++)
			if (pats[p].len <= len - o && pvsub_pattern_matches(&pats[p], buf + o))
				collect(h, o, p);
}

static struct pvsub_pattern pat(const char *id, size_t len, const uint8_t *value,
				const uint8_t *mask)
{
	struct pvsub_pattern p = {0};

	snprintf(p.id, sizeof(p.id), "%s", id);
	p.len = (uint8_t)len;
	for (size_t i = 0; i < len; i++) {
		p.mask[i] = mask ? mask[i] : 0xff;
		p.value[i] = value[i] & p.mask[i];
	}
	return p;
}

static void assert_same(const struct hitlist *a, const struct hitlist *b, size_t iter)
{
	cr_assert_eq(a->n, b->n, "iteration %zu: %zu hits, reference has %zu", iter, a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		cr_assert_eq(a->offset[i], b->offset[i], "iteration %zu hit %zu", iter, i);
		cr_assert_eq(a->pattern[i], b->pattern[i], "iteration %zu hit %zu", iter, i);
	}
}

Test(search, finds_vmfunc_at_every_position)
{
	static const uint8_t vmfunc[] = {0x0f, 0x01, 0xd4};
	struct pvsub_pattern p = pat("vmfunc", 3, vmfunc, NULL);
	struct pvsub_matcher *m;
	uint8_t buf[64];
	struct hitlist h;

	cr_assert_eq(pvsub_matcher_new(&p, 1, &m), 0);
	for (size_t pos = 0; pos + 3 <= sizeof(buf); pos++) {
		memset(buf, 0x90, sizeof(buf));
		memcpy(buf + pos, vmfunc, 3);
		h.n = 0;
		cr_assert_eq(pvsub_matcher_search(m, buf, sizeof(buf), collect, &h), 0);
		cr_assert_eq(h.n, 1, "position %zu", pos);
		cr_assert_eq(h.offset[0], pos);
	}
	/* A pattern cut off by the end of the buffer is not an occurrence. */
	h.n = 0;
	cr_assert_eq(pvsub_matcher_search(m, vmfunc, 2, collect, &h), 0);
	cr_assert_eq(h.n, 0);
	pvsub_matcher_free(m);
}

Test(search, single_byte_pattern_at_last_byte)
{
	static const uint8_t cc[] = {0xcc};
	struct pvsub_pattern p = pat("int3", 1, cc, NULL);
	struct pvsub_matcher *m;
	uint8_t buf[5] = {0xcc, 0, 0xcc, 0, 0xcc};
	struct hitlist h = {0};

	cr_assert_eq(pvsub_matcher_new(&p, 1, &m), 0);
	cr_assert_eq(pvsub_matcher_search(m, buf, sizeof(buf), collect, &h), 0);
	cr_assert_eq(h.n, 3);
	cr_assert_eq(h.offset[0], 0);
	cr_assert_eq(h.offset[1], 2);
	cr_assert_eq(h.offset[2], 4);
	h.n = 0;
	cr_assert_eq(pvsub_matcher_search(m, buf, 1, collect, &h), 0);
	cr_assert_eq(h.n, 1);
	pvsub_matcher_free(m);
}

Test(search, rejects_bad_patterns)
{
	static const uint8_t v[] = {0x00, 0x00};
	static const uint8_t nomask[] = {0x00, 0x00};
	static const uint8_t one[] = {0x01};
	struct pvsub_pattern wild = pat("wild", 2, v, nomask);
	struct pvsub_pattern bad = pat("bad", 1, one, NULL);
	struct pvsub_matcher *m = NULL;

	cr_assert_eq(pvsub_matcher_new(&wild, 1, &m), -EINVAL);
	bad.mask[0] = 0x0e; /* value has a bit outside its mask */
	cr_assert_eq(pvsub_matcher_new(&bad, 1, &m), -EINVAL);
	cr_assert_eq(pvsub_matcher_new(&wild, 0, &m), -EINVAL);
	cr_assert_null(m);
}

static int stop_after_first(void *data, size_t offset, size_t pattern)
{
	collect(data, offset, pattern);
	return 7;
}

Test(search, callback_stops_the_search)
{
	static const uint8_t v[] = {0xab};
	struct pvsub_pattern p = pat("ab", 1, v, NULL);
	struct pvsub_matcher *m;
	struct hitlist h = {0};
	uint8_t buf[8];

	memset(buf, 0xab, sizeof(buf));
	cr_assert_eq(pvsub_matcher_new(&p, 1, &m), 0);
	cr_assert_eq(pvsub_matcher_search(m, buf, sizeof(buf), stop_after_first, &h), 7);
	cr_assert_eq(h.n, 1);
	cr_assert_eq(h.offset[0], 0);
	pvsub_matcher_free(m);
}

/* Random policies of 1..6 patterns, 1..16 bytes, with exact, masked and
 * wildcard bytes; for each, ten random buffers with its patterns planted at
 * random positions, including 0 and the very end.  The matcher must agree
 * with the reference exactly on each of the 100,000 buffers. */
Test(search, agrees_with_naive_reference_on_random_buffers, .timeout = 600)
{
	enum { POLICIES = 10000, BUFFERS = 10, MAXBUF = 96 };
	struct hitlist *got = malloc(sizeof(*got)), *want = malloc(sizeof(*want));
	uint8_t buf[MAXBUF];

	cr_assert_not_null(got);
	cr_assert_not_null(want);
	for (size_t pol = 0; pol < POLICIES; pol++) {
		struct pvsub_pattern pats[6];
		size_t npats = 1 + rnd() % 6;
		struct pvsub_matcher *m;

		for (size_t p = 0; p < npats; p++) {
			uint8_t value[PVSUB_PATTERN_MAX], mask[PVSUB_PATTERN_MAX];
			size_t plen = 1 + rnd() % (pol % 4 == 0 ? PVSUB_PATTERN_MAX : 4);
			bool fixed = false;

			for (size_t i = 0; i < plen; i++) {
				unsigned kind = rnd() % 8;

				value[i] = (uint8_t)rnd();
				mask[i] = kind < 5 ? 0xff : kind == 5 ? 0x00 : (uint8_t)rnd();
				fixed |= mask[i] != 0;
			}
			if (!fixed)
				mask[0] = 0xff;
			pats[p] = pat("p", plen, value, mask);
		}
		cr_assert_eq(pvsub_matcher_new(pats, npats, &m), 0);
		for (size_t iter = pol * BUFFERS; iter < (pol + 1) * BUFFERS; iter++) {
			size_t len = 1 + rnd() % MAXBUF;

			/* A small alphabet makes accidental matches common too. */
			for (size_t i = 0; i < len; i++)
				buf[i] = (iter & 1) ? (uint8_t)rnd() : (uint8_t)(rnd() % 4);
			for (size_t k = 0; k < 3; k++) {
				const struct pvsub_pattern *p = &pats[rnd() % npats];
				size_t at;

				if (p->len > len)
					continue;
				at = k == 0   ? 0
				     : k == 1 ? len - p->len
					      : rnd() % (len - p->len + 1);
				for (size_t i = 0; i < p->len; i++)
					buf[at + i] = (uint8_t)((buf[at + i] & ~p->mask[i]) |
								p->value[i]);
			}
			naive(pats, npats, buf, len, want);
			got->n = 0;
			cr_assert_eq(pvsub_matcher_search(m, buf, len, collect, got), 0);
			assert_same(got, want, iter);
		}
		pvsub_matcher_free(m);
	}
	free(got);
	free(want);
}

/* Every placement of a gate opcode inside a long buffer of real-looking
 * code bytes, for the default policy's shapes (exact and ModRM-masked). */
Test(search, planted_at_every_offset_of_a_page)
{
	static const uint8_t wrpkru[] = {0x0f, 0x01, 0xef};
	static const uint8_t xrstor[] = {0x0f, 0xae, 0x28};
	static const uint8_t xrstor_mask[] = {0xff, 0xff, 0xf8};
	struct pvsub_pattern pats[2] = {pat("wrpkru", 3, wrpkru, NULL),
					pat("xrstor", 3, xrstor, xrstor_mask)};
	struct pvsub_matcher *m;
	static uint8_t page[4096];
	struct hitlist *h = malloc(sizeof(*h)), *want = malloc(sizeof(*want));

	cr_assert_eq(pvsub_matcher_new(pats, 2, &m), 0);
	for (size_t pos = 0; pos + 3 <= sizeof(page); pos++) {
		for (size_t i = 0; i < sizeof(page); i++)
			page[i] = (uint8_t)(rnd() % 3 == 0 ? 0x0f : rnd());
		memcpy(page + pos, pos % 2 ? wrpkru : (const uint8_t[]){0x0f, 0xae, 0x2d}, 3);
		naive(pats, 2, page, sizeof(page), want);
		h->n = 0;
		cr_assert_eq(pvsub_matcher_search(m, page, sizeof(page), collect, h), 0);
		assert_same(h, want, pos);
		cr_assert_geq(h->n, 1);
	}
	pvsub_matcher_free(m);
	free(h);
	free(want);
}
