/* SPDX-License-Identifier: MIT */
/*
 * The search tries every offset only where it could matter: a pattern
 * position must first match on the bits no offset can change (a window's
 * bytes 0 and 1, the low five bits of its byte 2, and every byte outside
 * the windows); only the positions that pass are tried with each offset,
 * applying every window they cover as the decompressor would.  The filter
 * is a relaxation of the exact test, so it never drops a position that
 * some offset forms.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/bzimage.h"
#include "libpvsub/kaslr.h"

/* Of a window, the bytes from this index on can change (delta >= 2^21). */
#define FIRST_CHANGING 2

int pvsub_kaslr_fields(const uint8_t *p, size_t n, struct pvsub_kaslr_field **out, size_t *nout,
		       struct pvsub_kaslr_relocs *counts_out)
{
	struct pvsub_kaslr_relocs counts;
	const uint64_t per_list[3][2] = {{4, 1}, {4, (uint64_t)-1}, {8, 1}};
	struct pvsub_kaslr_field *f;
	uint64_t lists[3], total;
	size_t i, k = 0;

	*out = NULL;
	*nout = 0;
	if (pvsub_kaslr_relocs_parse(p, n, &counts) < 0)
		return -EINVAL;
	if (counts_out)
		*counts_out = counts;
	lists[0] = counts.n32;
	lists[1] = counts.n32_inverse;
	lists[2] = counts.n64;
	total = lists[0] + lists[1] + lists[2];
	if (total == 0)
		return 0;
	f = calloc(total, sizeof(*f));
	if (!f)
		return -ENOMEM;
	/* The parse checked the shape: the lists end at the table's end and
	 * each is followed, towards the start, by its zero word. */
	i = n / 4;
	for (size_t l = 0; l < 3; l++) {
		for (uint64_t e = 0; e < lists[l]; e++) {
			i--;
			f[k].addr = (uint64_t)(int64_t)(int32_t)pvsub_le32(p + 4 * i);
			f[k].size = (uint8_t)per_list[l][0];
			f[k].sign = per_list[l][1] == 1 ? 1 : -1;
			k++;
		}
		i--; /* the list's zero */
	}
	*out = f;
	*nout = k;
	return 0;
}

int pvsub_kaslr_offsets_for(uint64_t load_min, uint64_t span, struct pvsub_kaslr_offsets *out)
{
	out->step = PVSUB_KASLR_STEP;
	out->count = 0;
	if (load_min > PVSUB_KASLR_IMAGE_LIMIT || span > PVSUB_KASLR_IMAGE_LIMIT - load_min)
		return -EINVAL;
	/* virt_addr = load_min + k * step must keep the image below the limit. */
	out->count = (PVSUB_KASLR_IMAGE_LIMIT - load_min - span) / out->step + 1;
	return 0;
}

/* Index of the first window that ends after @s (n when none does). */
static size_t first_ending_after(const struct pvsub_kaslr_window *w, size_t n, size_t s)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w[mid].pos + w[mid].size <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The @size-byte little-endian value at @q. */
static uint64_t get_le(const uint8_t *q, unsigned size)
{
	return size == 8 ? pvsub_le64(q) : pvsub_le32(q);
}

/*
 * The bits of window @w (at @bytes) that some offset of @off can change.
 * Its values run from v to v +- the largest delta; unless that range wraps
 * around the field's width, every bit above the highest bit in which its
 * two ends differ is the same for all of them, and the bits below the step
 * never change.
 */
static uint64_t changing_bits(const struct pvsub_kaslr_window *w, const uint8_t *bytes,
			      const struct pvsub_kaslr_offsets *off)
{
	uint64_t width = w->size == 8 ? UINT64_MAX : UINT32_MAX;
	uint64_t v = get_le(bytes + w->pos, w->size);
	uint64_t max = (off->count - 1) * off->step;
	uint64_t below_step = off->step - 1;
	uint64_t lo, hi, diff, spread;

	if (off->count <= 1)
		return 0;
	if (w->sign > 0) {
		if (max > width - v)
			return width & ~below_step;
		lo = v;
		hi = v + max;
	} else {
		if (max > v)
			return width & ~below_step;
		lo = v - max;
		hi = v;
	}
	diff = lo ^ hi;
	spread = diff >> 1;
	for (unsigned sh = 1; sh < 64; sh <<= 1)
		spread |= spread >> sh;
	return (diff | spread) & width & ~below_step;
}

/* The bits of byte @t that no offset changes, given the window @w that
 * may hold it (NULL for none) and that window's changing bits @chg. */
static uint8_t fixed_bits(const struct pvsub_kaslr_window *w, uint64_t chg, size_t t)
{
	if (!w || t < w->pos || t >= w->pos + w->size)
		return 0xff;
	return (uint8_t)~(chg >> (8 * (t - w->pos)));
}

/* Whether @p at @s can match on the bits no offset changes; @a is the first
 * window that ends after @s, @chg the windows' changing bits. */
static bool may_form(const struct pvsub_pattern *p, const uint8_t *bytes, size_t s,
		     const struct pvsub_kaslr_window *w, const uint64_t *chg, size_t n, size_t a)
{
	size_t k = a;

	for (size_t j = 0; j < p->len; j++) {
		size_t t = s + j;

		while (k < n && w[k].pos + w[k].size <= t)
			k++;
		uint8_t fixed = fixed_bits(k < n ? &w[k] : NULL, k < n ? chg[k] : 0, t);
		if ((bytes[t] & p->mask[j] & fixed) != (p->value[j] & fixed))
			return false;
	}
	return true;
}

/*
 * Write into @buf (the @len bytes from @s) every window from @a on that
 * overlaps them, moved by @delta as the decompressor moves it.
 */
static void apply_windows(uint8_t *buf, const uint8_t *bytes, size_t s, size_t len,
			  const struct pvsub_kaslr_window *w, size_t n, size_t a, uint64_t delta)
{
	for (size_t k = a; k < n && w[k].pos < s + len; k++) {
		uint64_t v = get_le(bytes + w[k].pos, w[k].size);

		v = w[k].sign > 0 ? v + delta : v - delta;
		for (unsigned b = 0; b < w[k].size; b++) {
			size_t t = w[k].pos + b;

			if (t >= s && t < s + len)
				buf[t - s] = (uint8_t)(v >> (8 * b));
		}
	}
}

/* Try every offset at one position that passed the filter; 1 and *@hit
 * filled when some offset forms the pattern there, else 0. */
static int try_offsets(const struct pvsub_pattern *p, const uint8_t *bytes, size_t s,
		       const struct pvsub_kaslr_window *w, size_t n, size_t a,
		       const struct pvsub_kaslr_offsets *off, struct pvsub_kaslr_hit *hit)
{
	uint8_t buf[PVSUB_PATTERN_MAX];

	memset(hit, 0, sizeof(*hit));
	for (uint64_t k = 0; k < off->count; k++) {
		uint64_t delta = k * off->step;

		memcpy(buf, bytes + s, p->len);
		apply_windows(buf, bytes, s, p->len, w, n, a, delta);
		if (!pvsub_pattern_matches(p, buf))
			continue;
		if (hit->n_offsets++ == 0) {
			hit->first_delta = delta;
			memcpy(hit->bytes, buf, p->len);
		}
		if (k == 0)
			hit->at_zero = true;
	}
	hit->pos = s;
	return hit->n_offsets > 0;
}

static int cmp_hit(const void *x, const void *y)
{
	const struct pvsub_kaslr_hit *a = x, *b = y;

	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	return a->pattern < b->pattern ? -1 : a->pattern > b->pattern;
}

static int push_hit(struct pvsub_kaslr_hit **v, size_t *n, size_t *cap,
		    const struct pvsub_kaslr_hit *h)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		struct pvsub_kaslr_hit *g = realloc(*v, c * sizeof(*g));

		if (!g)
			return -ENOMEM;
		*v = g;
		*cap = c;
	}
	(*v)[(*n)++] = *h;
	return 0;
}

static bool windows_valid(const struct pvsub_kaslr_window *w, size_t n, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		if ((w[i].size != 4 && w[i].size != 8) || (w[i].sign != 1 && w[i].sign != -1) ||
		    w[i].pos > size || w[i].size > size - w[i].pos)
			return false;
		if (i && w[i].pos < w[i - 1].pos + w[i - 1].size)
			return false;
	}
	return true;
}

/* Count the windows none of whose changing bytes a hit covers. */
static int count_proven(const struct pvsub_kaslr_window *w, size_t n,
			const struct pvsub_kaslr_hit *hits, size_t nhits,
			const struct pvsub_matcher *m, uint64_t *proven)
{
	bool *formable = calloc(n ? n : 1, sizeof(*formable));

	if (!formable)
		return -ENOMEM;
	for (size_t h = 0; h < nhits; h++) {
		size_t s = hits[h].pos, e = s + pvsub_matcher_pattern(m, hits[h].pattern)->len;

		for (size_t k = first_ending_after(w, n, s); k < n && w[k].pos < e; k++)
			if (w[k].pos + FIRST_CHANGING < e)
				formable[k] = true;
	}
	*proven = 0;
	for (size_t k = 0; k < n; k++)
		*proven += !formable[k];
	free(formable);
	return 0;
}

int pvsub_kaslr_search(const struct pvsub_matcher *m, const uint8_t *bytes, size_t size,
		       const struct pvsub_kaslr_window *w, size_t n,
		       const struct pvsub_kaslr_offsets *off, struct pvsub_kaslr_hit **hits,
		       size_t *nhits, struct pvsub_kaslr_stats *st)
{
	size_t np = pvsub_matcher_count(m), cap = 0;
	uint64_t *chg;
	size_t *next_s;
	uint64_t proven;
	int r = 0;

	*hits = NULL;
	*nhits = 0;
	if (!windows_valid(w, n, size) || (n && !bytes))
		return -EINVAL;
	if (n == 0)
		return 0;
	/* Per pattern, the first position not yet tried: windows come in
	 * order, so each position is tried once. */
	next_s = calloc(np, sizeof(*next_s));
	chg = malloc(n * sizeof(*chg));
	if (!next_s || !chg) {
		free(next_s);
		free(chg);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		chg[i] = changing_bits(&w[i], bytes, off);
	for (size_t i = 0; i < n && r == 0; i++) {
		for (size_t pi = 0; pi < np && r == 0; pi++) {
			const struct pvsub_pattern *p = pvsub_matcher_pattern(m, pi);
			size_t first_changing = w[i].pos + FIRST_CHANGING;
			size_t lo = first_changing >= (size_t)p->len - 1
					    ? first_changing - ((size_t)p->len - 1)
					    : 0;
			size_t hi = w[i].pos + w[i].size - 1; /* last start covering a changing byte */

			if (p->len > size)
				continue;
			if (hi > size - p->len)
				hi = size - p->len;
			if (lo < next_s[pi])
				lo = next_s[pi];
			for (size_t s = lo; s <= hi && r == 0; s++) {
				/* The first window ending after s: this one, or one
				 * of the few before it within a pattern's length. */
				size_t a = i;
				struct pvsub_kaslr_hit h;

				while (a > 0 && w[a - 1].pos + w[a - 1].size > s)
					a--;

				if (!may_form(p, bytes, s, w, chg, n, a) ||
				    !try_offsets(p, bytes, s, w, n, a, off, &h))
					continue;
				h.pattern = pi;
				r = push_hit(hits, nhits, &cap, &h);
			}
			if (hi + 1 > next_s[pi])
				next_s[pi] = hi + 1;
		}
	}
	free(next_s);
	free(chg);
	if (r == 0 && *nhits > 1)
		qsort(*hits, *nhits, sizeof(**hits), cmp_hit);
	if (r == 0)
		r = count_proven(w, n, *hits, *nhits, m, &proven);
	if (r < 0) {
		free(*hits);
		*hits = NULL;
		*nhits = 0;
		return r;
	}
	st->windows += n;
	st->proven += proven;
	return 0;
}
