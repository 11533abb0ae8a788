/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "libpvsub/search.h"

#define NKEYS 65536u
#define MAX_VECTOR_KEYS 8

/* A pattern reachable from a 16-bit key: the key is the pattern's bytes
 * anchor and anchor+1, so the occurrence starts @anchor bytes earlier. */
struct anchor_ref {
	uint16_t pattern;
	uint8_t anchor;
};

struct pvsub_matcher {
	struct pvsub_pattern *pats;
	size_t n;
	size_t max_len;
	uint64_t bitmap[NKEYS / 64];
	/* CSR lists: refs[first[key] .. first[key + 1]) */
	uint32_t *first;
	struct anchor_ref *refs;
	/* Used only while building. */
	uint8_t *anchor_tmp;
	/* Patterns of length 1, checked alone at the buffer's last byte. */
	uint16_t *singles;
	size_t n_singles;
	/* When few keys are live (the usual case: exact anchors), the search
	 * compares 16 offsets at a time against each of them. */
	unsigned n_keys;
	uint8_t key_lo[MAX_VECTOR_KEYS], key_hi[MAX_VECTOR_KEYS];
};

struct hit {
	size_t offset;
	size_t pattern;
};

static unsigned popcount8(uint8_t x)
{
	return (unsigned)__builtin_popcount(x);
}

/* Bytes so frequent in x86-64 code that an anchor on them filters little. */
static bool is_common_byte(uint8_t value, uint8_t mask)
{
	if (mask != 0xff)
		return true;
	switch (value) {
	case 0x00:
	case 0x0f:
	case 0xff:
	case 0x48:
	case 0x89:
	case 0x8b:
	case 0xe8:
	case 0x01:
		return true;
	}
	return false;
}

/* The pair (anchor, anchor+1) that selects best: most fixed mask bits,
 * then fewest common bytes, then earliest. */
static unsigned choose_anchor(const struct pvsub_pattern *p)
{
	unsigned best = 0, best_score = 0;

	if (p->len < 2)
		return 0;
	for (unsigned k = 0; k + 1 < p->len; k++) {
		unsigned score = 4 * (popcount8(p->mask[k]) + popcount8(p->mask[k + 1]));

		score += !is_common_byte(p->value[k], p->mask[k]);
		score += !is_common_byte(p->value[k + 1], p->mask[k + 1]);
		if (score > best_score) {
			best_score = score;
			best = k;
		}
	}
	return best;
}

/* The byte values that match value/mask: at most 256, written to @out. */
static unsigned byte_choices(uint8_t value, uint8_t mask, uint8_t out[256])
{
	unsigned n = 0;

	for (unsigned x = 0; x < 256; x++)
		if ((x & mask) == value)
			out[n++] = (uint8_t)x;
	return n;
}

/* Call @fn for every 16-bit key (byte at anchor, byte after it) on which
 * pattern @p can be anchored.  The byte after a 1-byte pattern is free. */
static void for_each_key(const struct pvsub_pattern *p, unsigned anchor,
			 void (*fn)(struct pvsub_matcher *m, unsigned key, size_t i),
			 struct pvsub_matcher *m, size_t i)
{
	uint8_t lo[256], hi[256];
	unsigned nlo, nhi;

	nlo = byte_choices(p->value[anchor], p->mask[anchor], lo);
	nhi = p->len < 2 ? byte_choices(0, 0, hi)
			 : byte_choices(p->value[anchor + 1], p->mask[anchor + 1], hi);
	for (unsigned a = 0; a < nlo; a++)
		for (unsigned b = 0; b < nhi; b++)
			fn(m, lo[a] | (unsigned)hi[b] << 8, i);
}

static void count_key(struct pvsub_matcher *m, unsigned key, size_t i)
{
	m->first[key + 1]++;
}

/* first[key + 1] is the end of the key's list until the list is filled
 * back to front; then it is the list's start. */
static void fill_key(struct pvsub_matcher *m, unsigned key, size_t i)
{
	m->refs[--m->first[key + 1]] = (struct anchor_ref){(uint16_t)i, m->anchor_tmp[i]};
}

static bool pattern_valid(const struct pvsub_pattern *p)
{
	bool fixed = false;

	if (p->len == 0 || p->len > PVSUB_PATTERN_MAX)
		return false;
	for (unsigned i = 0; i < p->len; i++) {
		if (p->value[i] & ~p->mask[i])
			return false;
		fixed |= p->mask[i] != 0;
	}
	return fixed;
}

int pvsub_matcher_new(const struct pvsub_pattern *pats, size_t n, struct pvsub_matcher **out)
{
	struct pvsub_matcher *m;
	uint32_t total;

	if (n == 0 || n > UINT16_MAX + 1u)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!pattern_valid(&pats[i]))
			return -EINVAL;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->pats = malloc(n * sizeof(*pats));
	m->first = calloc(NKEYS + 1, sizeof(*m->first));
	m->singles = malloc(n * sizeof(*m->singles));
	m->anchor_tmp = malloc(n);
	if (!m->pats || !m->first || !m->singles || !m->anchor_tmp)
		goto fail;
	memcpy(m->pats, pats, n * sizeof(*pats));
	m->n = n;

	/* Count, then fill, so the lists are one flat array ordered by
	 * pattern index within each key. */
	for (size_t i = 0; i < n; i++) {
		m->anchor_tmp[i] = (uint8_t)choose_anchor(&pats[i]);
		m->max_len = PVSUB_MAX(m->max_len, pats[i].len);
		if (pats[i].len == 1)
			m->singles[m->n_singles++] = (uint16_t)i;
		for_each_key(&pats[i], m->anchor_tmp[i], count_key, m, i);
	}
	for (unsigned key = 0; key < NKEYS; key++) {
		if (m->first[key + 1]) {
			m->bitmap[key / 64] |= UINT64_C(1) << (key % 64);
			if (m->n_keys < MAX_VECTOR_KEYS) {
				m->key_lo[m->n_keys] = key & 0xff;
				m->key_hi[m->n_keys] = key >> 8;
			}
			m->n_keys++;
		}
		m->first[key + 1] += m->first[key];
	}
	total = m->first[NKEYS];
	m->refs = malloc((total ? total : 1) * sizeof(*m->refs));
	if (!m->refs)
		goto fail;
	/* Back to front, last pattern first, so that each list is in pattern
	 * order; then first[key + 1] holds the start of the key's list, and
	 * moving the array down by one makes it the CSR index again.  (No
	 * second 256 KiB array of cursors: the loader builds one matcher per
	 * load and pays for every fresh page.) */
	for (size_t i = n; i-- > 0;)
		for_each_key(&pats[i], m->anchor_tmp[i], fill_key, m, i);
	memmove(m->first, m->first + 1, NKEYS * sizeof(*m->first));
	m->first[NKEYS] = total;
	free(m->anchor_tmp);
	m->anchor_tmp = NULL;
	*out = m;
	return 0;
fail:
	pvsub_matcher_free(m);
	return -ENOMEM;
}

void pvsub_matcher_free(struct pvsub_matcher *m)
{
	if (!m)
		return;
	free(m->pats);
	free(m->first);
	free(m->refs);
	free(m->singles);
	free(m->anchor_tmp);
	free(m);
}

size_t pvsub_matcher_max_len(const struct pvsub_matcher *m)
{
	return m->max_len;
}

size_t pvsub_matcher_count(const struct pvsub_matcher *m)
{
	return m->n;
}

const struct pvsub_pattern *pvsub_matcher_pattern(const struct pvsub_matcher *m, size_t i)
{
	return i < m->n ? &m->pats[i] : NULL;
}

struct hits {
	struct hit *v;
	size_t n, cap;
};

static int push_hit(struct hits *h, size_t offset, size_t pattern)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		struct hit *v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = (struct hit){offset, pattern};
	return 0;
}

static int cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return (x->pattern > y->pattern) - (x->pattern < y->pattern);
}

static inline bool bit_set(const uint64_t *bitmap, unsigned key)
{
	return (bitmap[key >> 6] >> (key & 63)) & 1;
}

/* Verify every pattern anchored on the key at @i. */
static int check_key(const struct pvsub_matcher *m, const uint8_t *buf, size_t len, size_t i,
		     unsigned key, struct hits *h)
{
	for (uint32_t e = m->first[key]; e < m->first[key + 1]; e++) {
		const struct anchor_ref *ref = &m->refs[e];
		const struct pvsub_pattern *p = &m->pats[ref->pattern];
		size_t start;

		if (i < ref->anchor)
			continue;
		start = i - ref->anchor;
		if (p->len > len - start || !pvsub_pattern_matches(p, buf + start))
			continue;
		if (push_hit(h, start, ref->pattern) < 0)
			return -ENOMEM;
	}
	return 0;
}

#ifdef __SSE2__
/* Offsets [0, *done) of @buf searched 16 at a time against the live keys;
 * the caller finishes the rest with the scalar loop. */
static int search_vector(const struct pvsub_matcher *m, const uint8_t *buf, size_t len,
			 size_t *done, struct hits *h)
{
	__m128i lo[MAX_VECTOR_KEYS], hi[MAX_VECTOR_KEYS];
	unsigned nk = m->n_keys;
	size_t i = 0;
	int r;

	for (unsigned k = 0; k < nk; k++) {
		lo[k] = _mm_set1_epi8((char)m->key_lo[k]);
		hi[k] = _mm_set1_epi8((char)m->key_hi[k]);
	}
	/* Each step reads buf[i .. i+16]: the key at i+15 needs byte i+16. */
	for (; i + 17 <= len; i += 16) {
		__m128i v0 = _mm_loadu_si128((const __m128i *)(buf + i));
		__m128i v1 = _mm_loadu_si128((const __m128i *)(buf + i + 1));
		__m128i any = _mm_setzero_si128();
		unsigned mask;

		for (unsigned k = 0; k < nk; k++)
			any = _mm_or_si128(any, _mm_and_si128(_mm_cmpeq_epi8(v0, lo[k]),
							      _mm_cmpeq_epi8(v1, hi[k])));
		mask = (unsigned)_mm_movemask_epi8(any);
		while (__builtin_expect(mask != 0, 0)) {
			size_t at = i + (unsigned)__builtin_ctz(mask);

			r = check_key(m, buf, len, at, buf[at] | (unsigned)buf[at + 1] << 8, h);
			if (r < 0)
				return r;
			mask &= mask - 1;
		}
	}
	*done = i;
	return 0;
}
#endif

int pvsub_matcher_search(const struct pvsub_matcher *m, const uint8_t *buf, size_t len,
			 pvsub_match_fn fn, void *data)
{
	struct hits h = {0};
	size_t start = 0;
	int r = 0;

	if (len == 0)
		return 0;
#ifdef __SSE2__
	if (m->n_keys <= MAX_VECTOR_KEYS) {
		r = search_vector(m, buf, len, &start, &h);
		if (r < 0)
			goto out;
	}
#endif
	for (size_t i = start; i + 1 < len; i++) {
		unsigned key = buf[i] | (unsigned)buf[i + 1] << 8;

		if (__builtin_expect(bit_set(m->bitmap, key), 0)) {
			r = check_key(m, buf, len, i, key, &h);
			if (r < 0)
				goto out;
		}
	}
	/* The last byte has no successor to form a key with: only 1-byte
	 * patterns can start there. */
	for (size_t s = 0; s < m->n_singles; s++)
		if (pvsub_pattern_matches(&m->pats[m->singles[s]], buf + len - 1)) {
			r = push_hit(&h, len - 1, m->singles[s]);
			if (r < 0)
				goto out;
		}
	if (h.n > 1)
		qsort(h.v, h.n, sizeof(*h.v), cmp_hit);
	for (size_t k = 0; k < h.n && r == 0; k++)
		r = fn(data, h.v[k].offset, h.v[k].pattern);
out:
	free(h.v);
	return r;
}
