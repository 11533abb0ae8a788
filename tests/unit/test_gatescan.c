/* SPDX-License-Identifier: MIT */
/*
 * The runtime's exact gate matcher (runtime/gatescan.c) against libpvsub's
 * matcher (search.c) for the `default` profile: the same offsets and
 * pattern names on random data biased towards the patterns' bytes, on
 * every three-byte string that starts with 0f, and at the buffer's ends.
 * The control: the comparison tells a matcher that misses one pattern
 * apart.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/policy.h"
#include "libpvsub/search.h"
#include "runtime/gatescan.h"

#define HITS_MAX 65536u

struct hits {
	size_t n;
	size_t off[HITS_MAX];
	char name[HITS_MAX][PVSUB_PATTERN_ID_MAX];
};

static struct pvsub_policy *policy;
static struct pvsub_matcher *matcher;
static struct hits lib, rt;

static void setup(void)
{
	struct pvsub_diag d = {{0}};
	const struct pvsub_pattern *pats;
	size_t n;

	cr_assert_eq(pvsub_policy_new_builtin("default", &policy, &d), 0, "%s", d.msg);
	pats = pvsub_policy_patterns(policy, &n);
	cr_assert_eq(pvsub_matcher_new(pats, n, &matcher), 0);
}

static void teardown(void)
{
	pvsub_matcher_free(matcher);
	pvsub_policy_free(policy);
}

static int collect(void *data, size_t off, size_t pattern)
{
	const struct pvsub_pattern *p = pvsub_matcher_pattern(matcher, pattern);
	struct hits *h = data;

	cr_assert_lt(h->n, HITS_MAX);
	h->off[h->n] = off;
	snprintf(h->name[h->n], sizeof(h->name[0]), "%s", p->id);
	h->n++;
	return 0;
}

static void search_both(const uint8_t *buf, size_t len)
{
	const char *name = NULL;

	lib.n = 0;
	rt.n = 0;
	cr_assert_eq(pvsub_matcher_search(matcher, buf, len, collect, &lib), 0);
	for (size_t at = gatescan_next(buf, len, 0, &name); at < len;
	     at = gatescan_next(buf, len, at + 1, &name)) {
		cr_assert_lt(rt.n, HITS_MAX);
		rt.off[rt.n] = at;
		snprintf(rt.name[rt.n], sizeof(rt.name[0]), "%s", name);
		rt.n++;
	}
}

/* Whether @a and @b name the same occurrences (libpvsub expands xrstor and
 * xrstors into one pattern per memory form, all with the same id). */
static bool same(const struct hits *a, const struct hits *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->off[i] != b->off[i] || strcmp(a->name[i], b->name[i]) != 0)
			return false;
	return true;
}

/* Bytes that make the patterns likely: 0f and every second and ModRM byte
 * the patterns use, with random ModRM bytes in between. */
static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	static const uint8_t hot[] = {0x0f, 0x0f, 0x0f, 0x01, 0xae, 0xc7, 0xd4, 0xef};

	srand(seed);
	for (size_t i = 0; i < len; i++)
		buf[i] = rand() % 2 ? hot[rand() % sizeof(hot)] : (uint8_t)rand();
}

TestSuite(gatescan, .init = setup, .fini = teardown);

Test(gatescan, agrees_with_libpvsub_on_random_data)
{
	static uint8_t buf[1 << 16];
	size_t total = 0;

	for (unsigned seed = 1; seed <= 64; seed++) {
		size_t len = (size_t)(rand() % (int)sizeof(buf)) + 1;

		fill(buf, sizeof(buf), seed);
		len = seed == 1 ? sizeof(buf) : len;
		search_both(buf, len);
		cr_assert(same(&lib, &rt), "seed %u: libpvsub %zu occurrences, runtime %zu", seed,
			  lib.n, rt.n);
		total += rt.n;
	}
	cr_assert_gt(total, 1000, "too few occurrences to compare: %zu", total);
}

Test(gatescan, agrees_on_every_0f_string)
{
	uint8_t buf[3] = {0x0f};

	for (unsigned b1 = 0; b1 < 256; b1++)
		for (unsigned b2 = 0; b2 < 256; b2++) {
			buf[1] = (uint8_t)b1;
			buf[2] = (uint8_t)b2;
			search_both(buf, 3);
			cr_assert(same(&lib, &rt), "0f %02x %02x: libpvsub %zu, runtime %zu", b1,
				  b2, lib.n, rt.n);
		}
}

Test(gatescan, patterns_at_the_ends_and_cut_by_them)
{
	const uint8_t wrpkru[] = {0x0f, 0x01, 0xef};
	const char *name = NULL;

	cr_assert_eq(gatescan_next(wrpkru, 3, 0, &name), 0);
	cr_assert_str_eq(name, "wrpkru");
	cr_assert_eq(gatescan_next(wrpkru, 2, 0, &name), 2, "a cut pattern is not one");
	cr_assert_eq(gatescan_next(wrpkru, 3, 1, &name), 3);
	cr_assert_eq(gatescan_next(wrpkru, 0, 0, &name), 0);
}

/* Each pattern alone at every offset of buffers of 3 to 64 bytes, among
 * bytes that start no pattern but look like one (0f, 0f 01 c0): the
 * runtime's matcher looks at 16 offsets at a time, then at the rest one
 * by one, and a pattern is found across that border and at either end. */
Test(gatescan, every_pattern_at_every_offset)
{
	static const uint8_t pats[][3] = {
		{0x0f, 0x01, 0xd4}, {0x0f, 0x01, 0xef}, {0x0f, 0xae, 0x28}, {0x0f, 0xc7, 0x5b}};
	static const uint8_t noise[] = {0x0f, 0x0f, 0x01, 0xc0, 0x90, 0x0f, 0xae, 0xe8};
	uint8_t buf[64];
	size_t found = 0;

	for (size_t len = 3; len <= sizeof(buf); len++)
		for (size_t p = 0; p < PVSUB_ARRAY_SIZE(pats); p++)
			for (size_t at = 0; at + 3 <= len; at++) {
				for (size_t i = 0; i < len; i++)
					buf[i] = noise[i % sizeof(noise)];
				/* no pattern in the noise but this one: 0f 0f is no
				 * pattern, 0f 01 c0 neither, 0f ae e8 is lfence */
				memcpy(buf + at, pats[p], 3);
				search_both(buf, len);
				cr_assert(same(&lib, &rt), "pattern %zu at %zu of %zu", p, at, len);
				cr_assert_geq(rt.n, 1, "pattern %zu at %zu of %zu not found", p, at,
					      len);
				found += rt.n;
			}
	cr_assert_gt(found, 0);
}

/* Buffers of exactly their length on the heap (ASan sees a read past
 * the end), ending in a cut pattern `0f 01`, from every start: nothing is
 * found, and nothing past the end is read.  The same with one more byte,
 * d4, that the scan is not given: it must not complete the pattern. */
Test(gatescan, nothing_past_the_end)
{
	const char *name = NULL;

	for (size_t len = 3; len <= 64; len++)
		for (size_t extra = 0; extra <= 1; extra++) {
			uint8_t *buf = malloc(len + extra);
			cr_assert_not_null(buf);
			memset(buf, 0x90, len + extra);
			buf[len - 2] = 0x0f;
			buf[len - 1] = 0x01;
			if (extra)
				buf[len] = 0xd4;
			for (size_t from = 0; from < 16 && from < len; from++)
				cr_assert_eq(gatescan_next(buf, len, from, &name), len,
					     "len %zu from %zu: a pattern past the end", len, from);
			free(buf);
		}
}

/* The control: drop every xrstors the runtime found, as a matcher that
 * missed the pattern would, and the comparison fails. */
Test(gatescan, the_comparison_tells_a_missing_pattern)
{
	static uint8_t buf[1 << 14];
	size_t kept = 0;

	fill(buf, sizeof(buf), 7);
	search_both(buf, sizeof(buf));
	cr_assert(same(&lib, &rt));
	for (size_t i = 0; i < rt.n; i++)
		if (strcmp(rt.name[i], "xrstors") != 0) {
			rt.off[kept] = rt.off[i];
			memcpy(rt.name[kept], rt.name[i], sizeof(rt.name[0]));
			kept++;
		}
	cr_assert_lt(kept, rt.n, "no xrstors in the data: the control proves nothing");
	rt.n = kept;
	cr_assert_not(same(&lib, &rt));
}
