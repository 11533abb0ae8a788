/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/kmeta.h"
#include "libpvsub/scan.h"

#define PADDING_NAME "(padding)"

struct scan_state {
	const struct pvsub_scan_opts *opts;
	struct pvsub_image *img;
	struct pvsub_scan_result *res;
	size_t cap_findings;
	size_t region; /* region being searched */
	struct pvsub_decode_cursor cursor;
	/* The region's KASLR hits (kaslr.h), and the next one to match with
	 * an occurrence of the ordinary search. */
	struct pvsub_kaslr_hit *kaslr_hits;
	size_t n_kaslr_hits, next_kaslr_hit;
	struct pvsub_wverdict_ctx *wv; /* NULL: the file has no mutable window */
};

static _printf_format_(3, 4) int add_scan_violation(struct scan_state *st, const char *kind,
						    const char *fmt, ...)
{
	struct pvsub_scan_result *res = st->res;
	struct pvsub_violation *v;
	va_list ap;

	v = realloc(res->violations, (res->n_violations + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	res->violations = v;
	v += res->n_violations++;
	v->kind = kind;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
	return 0;
}

static struct pvsub_finding *new_finding(struct scan_state *st)
{
	struct pvsub_scan_result *res = st->res;

	if (res->n_findings == st->cap_findings) {
		size_t cap = st->cap_findings ? 2 * st->cap_findings : 8;
		struct pvsub_finding *v = realloc(res->findings, cap * sizeof(*v));

		if (!v)
			return NULL;
		res->findings = v;
		st->cap_findings = cap;
	}
	memset(&res->findings[res->n_findings], 0, sizeof(res->findings[0]));
	res->findings[res->n_findings].segment = -1;
	res->findings[res->n_findings].segment2 = -1;
	return &res->findings[res->n_findings++];
}

/* The context of an occurrence at [@pos, @pos + @len) of @rg's bytes. */
static void region_context(struct pvsub_finding *f, const struct pvsub_region *rg, size_t pos,
			   size_t len)
{
	size_t nb = PVSUB_MIN(pos, (size_t)PVSUB_FINDING_CONTEXT);
	size_t end = PVSUB_MIN(pos + len, rg->size);
	size_t na = PVSUB_MIN(rg->size - end, (size_t)PVSUB_FINDING_CONTEXT);

	memcpy(f->before, rg->bytes + pos - nb, nb);
	f->n_before = (uint8_t)nb;
	memcpy(f->after, rg->bytes + end, na);
	f->n_after = (uint8_t)na;
}

/* The class of an occurrence that a KASLR offset can form or change. */
static void kaslr_class(const struct scan_state *st, const struct pvsub_kaslr_hit *h,
			struct pvsub_classification *c)
{
	memset(c, 0, sizeof(*c));
	c->cls = PVSUB_CLASS_KASLR;
	snprintf(c->field, sizeof(c->field), "at %llu of %llu offsets, first +0x%llx",
		 (unsigned long long)h->n_offsets,
		 (unsigned long long)st->res->kaslr_info.offsets.count,
		 (unsigned long long)h->first_delta);
}

static int on_region_hit(void *data, size_t pos, size_t pattern)
{
	struct scan_state *st = data;
	const struct pvsub_region *rg = pvsub_image_region(st->img, st->region);
	const struct pvsub_pattern *p = pvsub_matcher_pattern(st->opts->matcher, pattern);
	struct pvsub_finding *f = new_finding(st);
	int r;

	if (!f)
		return -ENOMEM;
	f->pattern = p;
	f->len = p->len;
	memcpy(f->bytes, rg->bytes + pos, p->len);
	region_context(f, rg, pos, p->len);
	f->offset = (int64_t)pos + rg->origin;
	f->file_offset = rg->file_offset + pos;
	f->vaddr = rg->vaddr + pos;
	if (rg->is_segment) {
		f->segment = (int)rg->index;
	} else {
		f->section = strdup(rg->name);
		if (!f->section)
			return -ENOMEM;
		pvsub_one_line(f->section); /* a name from the file, shown in reports */
	}
	r = pvsub_classify_next(st->opts->decoder, st->img, st->region, pos, p->len, &st->cursor,
				&f->cls);
	if (r < 0)
		return r;
	/* Both come in (position, pattern) order. */
	while (st->next_kaslr_hit < st->n_kaslr_hits &&
	       (st->kaslr_hits[st->next_kaslr_hit].pos < pos ||
		(st->kaslr_hits[st->next_kaslr_hit].pos == pos &&
		 st->kaslr_hits[st->next_kaslr_hit].pattern < pattern)))
		st->next_kaslr_hit++;
	if (st->next_kaslr_hit < st->n_kaslr_hits && st->kaslr_hits[st->next_kaslr_hit].pos == pos &&
	    st->kaslr_hits[st->next_kaslr_hit].pattern == pattern)
		kaslr_class(st, &st->kaslr_hits[st->next_kaslr_hit], &f->cls);
	return 0;
}

/* --- junctions ------------------------------------------------------------------
 *
 * Bytes that execute one after another without being one region: the end of
 * region A, maybe zero padding, then the start of region B, and so on when B
 * is shorter than a pattern.  A chain is searched as one small buffer; only
 * occurrences that start in A's tail and end in the chain's last element are
 * kept, so each is reported once, by the shortest chain that holds it.  The
 * padding that may follow any region (alignment, page tail) and precede an
 * ET_REL section are chain elements too.
 */
#define PAD_ELEMENT SIZE_MAX
#define MAX_CHAIN (2 * PVSUB_PATTERN_MAX)
#define SEAM_BUDGET 2000000u
/* Pairs of regions looked at, adjoining or not: thousands of regions that
 * never meet must not make the search quadratic in time either. */
#define PAIR_BUDGET (1u << 24)

struct chain {
	size_t elem[MAX_CHAIN];	 /* regions, or PAD_ELEMENT */
	size_t start[MAX_CHAIN]; /* where each element's bytes begin in buf */
	size_t end[MAX_CHAIN];	 /* and end */
	size_t n;
	uint8_t buf[4 * PVSUB_PATTERN_MAX];
	size_t len;
	size_t tail_len;   /* bytes of the first element */
	size_t last_start; /* where the last element begins */
	size_t seams;	   /* searches done, against SEAM_BUDGET */
	size_t pairs;	   /* against PAIR_BUDGET */
	bool over_budget;
	struct scan_state *st;
};

static int chain_name(const struct pvsub_image *img, const struct chain *c, char **out)
{
	struct pvsub_buf b = {0};
	int r = 0;

	for (size_t i = 0; i < c->n && r == 0; i++) {
		if (i)
			r = pvsub_buf_putc(&b, '|');
		if (r == 0)
			r = pvsub_buf_puts(&b, c->elem[i] == PAD_ELEMENT
						       ? PADDING_NAME
						       : pvsub_image_region(img, c->elem[i])->name);
	}
	if (r < 0) {
		pvsub_buf_release(&b);
		return r;
	}
	*out = pvsub_buf_steal(&b, NULL);
	if (*out)
		pvsub_one_line(*out);
	return *out ? 0 : -ENOMEM;
}

/* Does element @k of the chain, at buf[c->start[k]..), overlap [s, e)? */
static bool elem_overlaps_window(const struct chain *c, size_t k, size_t s, size_t e)
{
	const struct pvsub_region *rg;
	size_t from, to, base;

	if (c->elem[k] == PAD_ELEMENT)
		return false;
	rg = pvsub_image_region(c->st->img, c->elem[k]);
	from = PVSUB_MAX(s, c->start[k]);
	to = k + 1 < c->n ? PVSUB_MIN(e, c->start[k + 1]) : e;
	if (from >= to)
		return false;
	/* The first element holds only the tail of its region. */
	base = k == 0 ? rg->size - c->tail_len : 0;
	/* Without its windows (no memory), the junction is not a relocation's:
	 * the stricter class. */
	return pvsub_image_overlaps_reloc(c->st->img, c->elem[k], base + from - c->start[k],
					  to - from) > 0;
}

/* How many bytes of [s, e) are padding rather than region bytes. */
static size_t zeros_covered(const struct chain *c, size_t s, size_t e)
{
	size_t real = 0;

	for (size_t k = 0; k < c->n; k++) {
		size_t from = PVSUB_MAX(s, c->start[k]), to = PVSUB_MIN(e, c->end[k]);

		if (c->elem[k] != PAD_ELEMENT && from < to)
			real += to - from;
	}
	return e - s - real;
}

/*
 * Context of a junction occurrence at [s, e) of the chain: the bytes before
 * it in the first element's region, the bytes after it in the last
 * element's region (none where that element is padding).
 */
static void junction_context(const struct chain *c, struct pvsub_finding *f, size_t s, size_t e)
{
	size_t last = c->n - 1;

	f->n_before = f->n_after = 0;
	if (c->elem[0] != PAD_ELEMENT) {
		const struct pvsub_region *rg = pvsub_image_region(c->st->img, c->elem[0]);
		size_t pos = rg->size - c->tail_len + s; /* s < tail_len */
		size_t nb = PVSUB_MIN(pos, (size_t)PVSUB_FINDING_CONTEXT);

		memcpy(f->before, rg->bytes + pos - nb, nb);
		f->n_before = (uint8_t)nb;
	}
	if (c->elem[last] != PAD_ELEMENT && e > c->start[last]) {
		const struct pvsub_region *rg = pvsub_image_region(c->st->img, c->elem[last]);
		size_t end = PVSUB_MIN(e - c->start[last], rg->size);
		size_t na = PVSUB_MIN(rg->size - end, (size_t)PVSUB_FINDING_CONTEXT);

		memcpy(f->after, rg->bytes + end, na);
		f->n_after = (uint8_t)na;
	}
}

static int on_chain_hit(void *data, size_t s, size_t pattern)
{
	struct chain *c = data;
	struct scan_state *st = c->st;
	const struct pvsub_pattern *p = pvsub_matcher_pattern(st->opts->matcher, pattern);
	const struct pvsub_region *first = NULL;
	size_t e = s + p->len;
	struct pvsub_finding *f;
	int r;

	if (s >= c->tail_len || e <= c->last_start)
		return 0;
	f = new_finding(st);
	if (!f)
		return -ENOMEM;
	f->pattern = p;
	f->len = p->len;
	memcpy(f->bytes, c->buf + s, p->len);
	f->junction = true;
	f->pad = (unsigned)zeros_covered(c, s, e);
	if (c->elem[0] != PAD_ELEMENT) {
		first = pvsub_image_region(st->img, c->elem[0]);
		f->offset = (int64_t)(first->size - c->tail_len + s) + first->origin;
		f->file_offset = first->file_offset + first->size - c->tail_len + s;
		f->vaddr = first->vaddr + first->size - c->tail_len + s;
	} else {
		/* Padding before the next region: offset negative from its start. */
		const struct pvsub_region *next = pvsub_image_region(st->img, c->elem[1]);

		f->offset = (int64_t)s - (int64_t)c->start[1] + next->origin;
		f->file_offset = next->file_offset;
		f->vaddr = next->vaddr - (c->start[1] - s);
		first = next;
	}
	if (first->is_segment) {
		f->segment = (int)first->index;
		if (c->n == 2 && c->elem[0] != PAD_ELEMENT && c->elem[1] != PAD_ELEMENT)
			f->segment2 = (int)pvsub_image_region(st->img, c->elem[1])->index;
	}
	junction_context(c, f, s, e);
	r = chain_name(st->img, c, &f->section);
	if (r < 0)
		return r;
	f->cls.cls = PVSUB_CLASS_SPANNING;
	for (size_t k = 0; k < c->n; k++)
		if (elem_overlaps_window(c, k, s, e))
			f->cls.cls = PVSUB_CLASS_RELOCATION;
	return 0;
}

static bool chain_has(const struct chain *c, size_t region)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->elem[i] == region)
			return true;
	return false;
}

static int extend_chain(struct chain *c);

/* Append @pad zeros then element @next; search; go deeper if an occurrence
 * starting in the first element could still reach past @next. */
static int try_element(struct chain *c, size_t next, size_t pad)
{
	size_t overlap = pvsub_matcher_max_len(c->st->opts->matcher) - 1;
	size_t saved_len = c->len, saved_last = c->last_start;
	size_t take, size, reach = c->tail_len + overlap;
	bool whole;
	int r;

	if (c->n == MAX_CHAIN || c->len + pad >= reach)
		return 0;
	if (++c->seams > SEAM_BUDGET) {
		c->over_budget = true;
		return 0;
	}
	size = next == PAD_ELEMENT ? overlap : pvsub_image_region(c->st->img, next)->size;
	take = PVSUB_MIN(size, reach - c->len - pad);
	whole = take == size && next != PAD_ELEMENT;
	memset(c->buf + c->len, 0, pad);
	c->last_start = c->len + pad;
	if (next == PAD_ELEMENT) {
		memset(c->buf + c->last_start, 0, take);
	} else {
		memcpy(c->buf + c->last_start, pvsub_image_region(c->st->img, next)->bytes, take);
	}
	c->len = c->last_start + take;
	c->elem[c->n] = next;
	c->start[c->n] = c->last_start;
	c->end[c->n] = c->len;
	c->n++;
	r = pvsub_matcher_search(c->st->opts->matcher, c->buf, c->len, on_chain_hit, c);
	if (r == 0 && whole && c->len < reach)
		r = extend_chain(c);
	c->n--;
	c->len = saved_len;
	c->last_start = saved_last;
	return r;
}

/* Does region @i continue, in memory, with zero bytes that can execute? */
static bool followed_by_zeros(const struct pvsub_image *img, size_t i)
{
	const struct pvsub_region *rg = pvsub_image_region(img, i);

	if (pvsub_image_kind(img) == PVSUB_ELF_REL)
		return true; /* alignment padding or the page tail */
	/* A segment cut short by the end of the file: the rest of its last
	 * page reads as zeros when mapped. */
	return rg->size % PVSUB_PAGE_SIZE != 0;
}

static int extend_chain(struct chain *c)
{
	struct pvsub_image *img = c->st->img;
	size_t last = c->elem[c->n - 1], n = pvsub_image_region_count(img);
	size_t overlap = pvsub_matcher_max_len(c->st->opts->matcher) - 1;
	int r = 0;

	for (size_t b = 0; b < n && r == 0 && !c->over_budget; b++) {
		size_t max_pad = 0;

		if (++c->pairs > PAIR_BUDGET) {
			c->over_budget = true;
			break;
		}
		if (chain_has(c, b))
			continue;
		if (last == PAD_ELEMENT) {
			if (pvsub_image_kind(img) != PVSUB_ELF_REL)
				continue;
		} else if (!pvsub_image_may_adjoin(img, last, b, &max_pad)) {
			continue;
		}
		/* Padding of overlap bytes or more separates the two for every
		 * pattern; the padding element covers that case. */
		max_pad = PVSUB_MIN(max_pad, overlap - 1);
		for (size_t pad = 0; pad <= max_pad && r == 0; pad++)
			r = try_element(c, b, pad);
	}
	if (r == 0 && last != PAD_ELEMENT && followed_by_zeros(img, last))
		r = try_element(c, PAD_ELEMENT, 0);
	return r;
}

static int search_junctions(struct scan_state *st)
{
	size_t n = pvsub_image_region_count(st->img);
	size_t overlap = pvsub_matcher_max_len(st->opts->matcher) - 1;
	struct chain *c;
	int r = 0;

	if (overlap == 0)
		return 0; /* 1-byte patterns cannot cross anything */
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->st = st;
	/* Once over budget the search is incomplete anyway (a violation says
	 * so): stop rather than walk the remaining pairs for nothing. */
	for (size_t a = 0; a < n && r == 0 && !c->over_budget; a++) {
		const struct pvsub_region *ra = pvsub_image_region(st->img, a);

		c->n = 1;
		c->elem[0] = a;
		c->start[0] = 0;
		c->end[0] = PVSUB_MIN(overlap, ra->size);
		c->tail_len = PVSUB_MIN(overlap, ra->size);
		memcpy(c->buf, ra->bytes + ra->size - c->tail_len, c->tail_len);
		c->len = c->tail_len;
		r = extend_chain(c);
	}
	if (r == 0 && !c->over_budget && pvsub_image_kind(st->img) == PVSUB_ELF_REL) {
		/* Zeros before a section: what alignment padding leaves there. */
		c->n = 1;
		c->elem[0] = PAD_ELEMENT;
		c->start[0] = 0;
		c->end[0] = overlap;
		c->tail_len = overlap;
		memset(c->buf, 0, overlap);
		c->len = overlap;
		r = extend_chain(c);
	}
	if (r == 0 && c->over_budget)
		r = add_scan_violation(
			st, "junction-limit",
			"more than %u junction combinations; junctions not fully checked",
			SEAM_BUDGET);
	free(c);
	return r;
}

/* --- KASLR ------------------------------------------------------------------------
 *
 * In a vmlinux followed by its relocation table, the fields the table moves
 * are tried with every offset (kaslr.h) before the region's ordinary search:
 * an occurrence that delta 0 forms is found by both and takes the KASLR
 * class; one that only other offsets form is added here, with the bytes of
 * the first offset that forms it.
 */
static int kaslr_search_region(struct scan_state *st)
{
	const struct pvsub_region *rg = pvsub_image_region(st->img, st->region);
	const struct pvsub_kaslr_window *w;
	size_t n;
	int r;

	free(st->kaslr_hits);
	st->kaslr_hits = NULL;
	st->n_kaslr_hits = st->next_kaslr_hit = 0;
	if (!st->res->kaslr)
		return 0;
	r = pvsub_image_kaslr_windows(st->img, st->region, &w, &n);
	if (r < 0 || n == 0)
		return r;
	return pvsub_kaslr_search(st->opts->matcher, rg->bytes, rg->size, w, n,
				  &st->res->kaslr_info.offsets, &st->kaslr_hits, &st->n_kaslr_hits,
				  &st->res->kaslr_stats);
}

static int cmp_finding(const void *x, const void *y)
{
	const struct pvsub_finding *a = x, *b = y;

	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	/* The matcher's patterns are one array, in the matcher's order. */
	return a->pattern < b->pattern ? -1 : a->pattern > b->pattern;
}

/* The occurrences only other offsets than 0 form, in order among the
 * region's findings, which start at index @first. */
static int add_kaslr_findings(struct scan_state *st, size_t first)
{
	const struct pvsub_region *rg = pvsub_image_region(st->img, st->region);
	struct pvsub_scan_result *res = st->res;
	bool added = false;

	for (size_t i = 0; i < st->n_kaslr_hits; i++) {
		const struct pvsub_kaslr_hit *h = &st->kaslr_hits[i];
		const struct pvsub_pattern *p = pvsub_matcher_pattern(st->opts->matcher, h->pattern);
		struct pvsub_finding *f;

		if (h->at_zero)
			continue;
		f = new_finding(st);
		if (!f)
			return -ENOMEM;
		f->pattern = p;
		f->len = p->len;
		memcpy(f->bytes, h->bytes, p->len);
		region_context(f, rg, h->pos, p->len);
		f->offset = (int64_t)h->pos + rg->origin;
		f->file_offset = rg->file_offset + h->pos;
		f->vaddr = rg->vaddr + h->pos;
		f->segment = (int)rg->index;
		kaslr_class(st, h, &f->cls);
		added = true;
	}
	if (added)
		qsort(res->findings + first, res->n_findings - first, sizeof(*res->findings),
		      cmp_finding);
	return 0;
}

/*
 * A field within a pattern's length of a region's edge could form a
 * pattern with the bytes of an adjoining region, which the junction search
 * only sees at offset 0: the model does not cover that, so it says so.
 */
static int check_kaslr_edges(struct scan_state *st)
{
	size_t n_regions = pvsub_image_region_count(st->img);
	size_t reach = pvsub_matcher_max_len(st->opts->matcher);

	for (size_t i = 0; i < n_regions; i++) {
		const struct pvsub_region *rg = pvsub_image_region(st->img, i);
		const struct pvsub_kaslr_window *w;
		size_t n, pad;
		bool near_edge, adjoins = false;

		if (pvsub_image_kaslr_windows(st->img, i, &w, &n) < 0 || n == 0)
			continue;
		near_edge = w[0].pos < reach || rg->size - (w[n - 1].pos + w[n - 1].size) < reach;
		for (size_t j = 0; near_edge && j < n_regions && !adjoins; j++)
			adjoins = j != i && (pvsub_image_may_adjoin(st->img, i, j, &pad) ||
					     pvsub_image_may_adjoin(st->img, j, i, &pad));
		if (adjoins)
			return add_scan_violation(st, "kaslr-relocations-unchecked",
						  "a KASLR-relocated field of %s lies within %zu "
						  "bytes of a junction with another region",
						  rg->name, reach);
	}
	return 0;
}

/* --- the bzImage's own code ---------------------------------------------------------
 *
 * The parts are regions of their own after the ELF file's: searched at every
 * offset, not decoded (setup is 16-bit code, the decompressor starts in
 * 32-bit mode), and never adjoining anything (the loader puts setup and the
 * protected-mode code apart, and the payload lies between the decompressor's
 * parts).
 */
struct boot_state {
	struct scan_state *st;
	const struct pvsub_boot_part *part;
	const uint8_t *bytes;
};

static int on_boot_hit(void *data, size_t pos, size_t pattern)
{
	struct boot_state *bs = data;
	const struct pvsub_pattern *p = pvsub_matcher_pattern(bs->st->opts->matcher, pattern);
	const struct pvsub_region rg = {.bytes = bs->bytes, .size = bs->part->size};
	struct pvsub_finding *f = new_finding(bs->st);

	if (!f)
		return -ENOMEM;
	f->pattern = p;
	f->len = p->len;
	memcpy(f->bytes, bs->bytes + pos, p->len);
	region_context(f, &rg, pos, p->len);
	f->offset = (int64_t)pos;
	f->file_offset = bs->part->file_offset + pos;
	f->boot = true;
	f->section = strdup(bs->part->name);
	if (!f->section)
		return -ENOMEM;
	f->cls.cls = PVSUB_CLASS_UNDECODED;
	snprintf(f->cls.field, sizeof(f->cls.field), "boot code");
	return 0;
}

static int summarise_boot_part(struct scan_state *st, size_t i, const struct pvsub_boot_part *part,
			       const uint8_t *bytes)
{
	struct pvsub_scan_result *res = st->res;
	struct pvsub_region_summary *sum, *grown;

	grown = realloc(res->regions, (res->n_regions + 1) * sizeof(*res->regions));
	if (!grown)
		return -ENOMEM;
	res->regions = grown;
	sum = &res->regions[res->n_regions];
	memset(sum, 0, sizeof(*sum));
	sum->name = strdup(part->name);
	if (!sum->name)
		return -ENOMEM;
	res->n_regions++;
	sum->boot = true;
	sum->index = (unsigned)i;
	sum->file_offset = part->file_offset;
	sum->size = part->size;
	return st->opts->hashes ? pvsub_sha256_hex(bytes, part->size, sum->sha256) : 0;
}

static int scan_boot_code(struct scan_state *st, const struct pvsub_boot_code *bc)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < bc->n_parts; i++) {
		const struct pvsub_boot_part *part = &bc->parts[i];
		struct boot_state bs = {.st = st, .part = part};

		if (part->offset > bc->size || part->size > bc->size - part->offset)
			return -EINVAL;
		bs.bytes = bc->bytes + part->offset;
		r = summarise_boot_part(st, i, part, bs.bytes);
		if (r == 0)
			r = pvsub_matcher_search(st->opts->matcher, bs.bytes, part->size,
						 on_boot_hit, &bs);
	}
	return r;
}

/* --- mutable windows ----------------------------------------------------------------
 *
 * Every window gets a verdict (wverdict.h); an occurrence that forms, with
 * known bytes, only when the kernel patches a window is a finding of class
 * patch-site, placed among the region's findings.
 */
static int start_wverdicts(struct scan_state *st, const struct pvsub_mwindow **all, size_t *n)
{
	struct pvsub_scan_result *res = st->res;
	const char *why;
	int r = pvsub_image_kmeta(st->img, all, n, &why);

	if (r < 0 || *n == 0)
		return r;
	res->wverdicts = calloc(*n, sizeof(*res->wverdicts));
	if (!res->wverdicts)
		return -ENOMEM;
	res->n_wverdicts = *n;
	for (size_t i = 0; i < *n; i++)
		res->wverdicts[i] = (struct pvsub_window_verdict){
			.region = SIZE_MAX,
			.offset = (*all)[i].offset,
			.len = (*all)[i].len,
			.kind = (uint8_t)(*all)[i].kind,
			.verdict = PVSUB_WVERDICT_RUNTIME,
		};
	return pvsub_wverdict_ctx_new(st->img, st->opts->decoder, st->opts->matcher, &st->wv);
}

static int wverdict_region(struct scan_state *st, const struct pvsub_mwindow *all, size_t first)
{
	const struct pvsub_region *rg = pvsub_image_region(st->img, st->region);
	struct pvsub_scan_result *res = st->res;
	const struct pvsub_mwindow *w;
	struct pvsub_wverdict_hit *hits = NULL;
	uint8_t *v = NULL;
	size_t n, nh = 0;
	int r;

	if (!st->wv)
		return 0;
	r = pvsub_image_mutable_windows(st->img, st->region, &w, &n);
	if (r < 0 || n == 0)
		return r;
	v = malloc(n);
	if (!v)
		return -ENOMEM;
	r = pvsub_wverdict_region(st->wv, st->region, v, n, &hits, &nh, &res->wverdict_over_budget);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct pvsub_window_verdict *wv = &res->wverdicts[(size_t)(w - all) + i];
		wv->region = st->region;
		wv->verdict = v[i];
	}
	for (size_t i = 0; r == 0 && i < nh; i++) {
		const struct pvsub_pattern *p = pvsub_matcher_pattern(st->opts->matcher,
								      hits[i].pattern);
		struct pvsub_finding *f = new_finding(st);

		if (!f) {
			r = -ENOMEM;
			break;
		}
		f->pattern = p;
		f->len = p->len;
		memcpy(f->bytes, hits[i].bytes, p->len);
		region_context(f, rg, hits[i].pos, p->len);
		f->offset = (int64_t)hits[i].pos + rg->origin;
		f->file_offset = rg->file_offset + hits[i].pos;
		f->vaddr = rg->vaddr + hits[i].pos;
		if (rg->is_segment) {
			f->segment = (int)rg->index;
		} else {
			f->section = strdup(rg->name);
			if (!f->section) {
				r = -ENOMEM;
				break;
			}
			pvsub_one_line(f->section);
		}
		f->cls.cls = PVSUB_CLASS_PATCH_SITE;
		snprintf(f->cls.field, sizeof(f->cls.field), "%s, only when patched",
			 pvsub_window_kind_name(w[hits[i].window].kind));
	}
	if (r == 0 && nh)
		qsort(res->findings + first, res->n_findings - first, sizeof(*res->findings),
		      cmp_finding);
	free(hits);
	free(v);
	return r;
}

static void count_wverdicts(struct pvsub_scan_result *res)
{
	for (size_t i = 0; i < res->n_wverdicts; i++) {
		const struct pvsub_window_verdict *w = &res->wverdicts[i];
		if (w->kind < PVSUB_WINDOW_KINDS && w->verdict < PVSUB_WVERDICT_COUNT)
			res->wverdict_counts[w->kind][w->verdict]++;
	}
}

/* --- the scan -------------------------------------------------------------------- */

/* The image's kernel windows, copied into the result for the rewriter. */
static int keep_kmeta(struct scan_state *st)
{
	struct pvsub_scan_result *res = st->res;
	const struct pvsub_mwindow *w;
	const char *why;
	size_t n;
	int r = pvsub_image_kmeta(st->img, &w, &n, &why);

	if (r < 0)
		return r;
	res->kmeta_error = strdup(why);
	if (!res->kmeta_error)
		return -ENOMEM;
	if (n) {
		res->mwindows = malloc(n * sizeof(*w));
		if (!res->mwindows)
			return -ENOMEM;
		memcpy(res->mwindows, w, n * sizeof(*w));
		res->n_mwindows = n;
	}
	return 0;
}

static int summarise_regions(struct scan_state *st)
{
	struct pvsub_scan_result *res = st->res;
	size_t n = pvsub_image_region_count(st->img);
	int r;

	res->regions = calloc(n ? n : 1, sizeof(*res->regions));
	if (!res->regions)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct pvsub_region *rg = pvsub_image_region(st->img, i);
		struct pvsub_region_summary *sum = &res->regions[res->n_regions];
		const struct pvsub_kaslr_window *kw;
		sum->name = strdup(rg->name);
		if (!sum->name)
			return -ENOMEM;
		pvsub_one_line(sum->name);
		res->n_regions++;
		sum->is_segment = rg->is_segment;
		sum->index = rg->index;
		sum->file_offset = rg->file_offset;
		sum->size = rg->size;
		if (st->opts->hashes) {
			r = pvsub_sha256_hex(rg->bytes, rg->size, sum->sha256);
			if (r < 0)
				return r;
		}
		sum->reloc_windows = pvsub_image_reloc_window_count(st->img, i);
		r = pvsub_image_kaslr_windows(st->img, i, &kw, &sum->kaslr_windows);
		if (r < 0)
			return r;
		res->reloc_windows += sum->reloc_windows;
	}
	return 0;
}

static int copy_violations(struct scan_state *st)
{
	size_t n = pvsub_image_violation_count(st->img);
	struct pvsub_scan_result *res = st->res;
	struct pvsub_violation *v;

	if (n == 0)
		return 0;
	v = realloc(res->violations, (res->n_violations + n) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	res->violations = v;
	for (size_t i = 0; i < n; i++)
		v[res->n_violations++] = *pvsub_image_violation(st->img, i);
	return 0;
}

int pvsub_scan_buffer(const struct pvsub_scan_opts *opts, const uint8_t *data, size_t size,
		      struct pvsub_scan_result **out, struct pvsub_diag *diag)
{
	struct scan_state st = {.opts = opts};
	struct pvsub_scan_result *res;
	int r;

	res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	st.res = res;
	r = pvsub_image_new(data, size, &st.img, diag);
	if (r < 0)
		goto fail;
	res->kind = pvsub_image_kind(st.img);
	res->machine = pvsub_image_machine(st.img);
	res->size = size;
	res->modsig = *pvsub_image_modsig(st.img);
	if (opts->hashes)
		r = pvsub_sha256_hex(data, size, res->sha256);
	if (r == 0)
		r = summarise_regions(&st);
	if (r == 0)
		r = copy_violations(&st);
	if (r == 0)
		res->kaslr = pvsub_image_kaslr(st.img, &res->kaslr_info);
	if (r == 0 && res->kaslr && opts->hashes)
		r = pvsub_sha256_hex(data + res->kaslr_info.table_offset,
				     res->kaslr_info.table_size, res->kaslr_sha256);
	if (r == 0 && res->kaslr)
		r = check_kaslr_edges(&st);
	const struct pvsub_mwindow *all_windows = NULL;
	size_t n_all_windows = 0;
	if (r == 0)
		r = start_wverdicts(&st, &all_windows, &n_all_windows);
	for (size_t i = 0; r == 0 && i < pvsub_image_region_count(st.img); i++) {
		const struct pvsub_region *rg = pvsub_image_region(st.img, i);
		size_t first = res->n_findings;

		st.region = i;
		r = kaslr_search_region(&st);
		if (r == 0)
			r = pvsub_matcher_search(opts->matcher, rg->bytes, rg->size, on_region_hit,
						 &st);
		if (r == 0)
			r = add_kaslr_findings(&st, first);
		if (r == 0)
			r = wverdict_region(&st, all_windows, first);
	}
	count_wverdicts(res);
	pvsub_wverdict_ctx_free(st.wv);
	st.wv = NULL;
	free(st.kaslr_hits);
	st.kaslr_hits = NULL;
	if (r == 0)
		r = search_junctions(&st);
	if (r == 0 && opts->boot)
		r = scan_boot_code(&st, opts->boot);
	if (r == 0 && opts->kmeta && res->kind == PVSUB_ELF_REL)
		r = keep_kmeta(&st);
	if (r == 0 && opts->deep) {
		res->deep = true;
		for (size_t i = 0; r == 0 && i < pvsub_image_region_count(st.img); i++)
			r = pvsub_classify_sweep(opts->decoder, st.img, i, &res->deep_stats);
	}
	if (r < 0) {
		pvsub_diag_set(diag, r, "scan failed: %s", strerror(-r));
		goto fail;
	}
	pvsub_image_free(st.img);
	*out = res;
	return 0;
fail:
	pvsub_image_free(st.img);
	pvsub_scan_result_free(res);
	return r;
}

void pvsub_scan_result_free(struct pvsub_scan_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_findings; i++)
		free(r->findings[i].section);
	for (size_t i = 0; i < r->n_regions; i++)
		free(r->regions[i].name);
	free(r->findings);
	free(r->violations);
	free(r->regions);
	free(r->mwindows);
	free(r->kmeta_error);
	free(r->wverdicts);
	free(r);
}
