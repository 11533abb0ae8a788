/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/kallsyms.h"

#define NO_POS SIZE_MAX

/* A hostile image could hold many near-copies, each costing a walk over
 * its run or a decoding of its names: past these many, it is ambiguous.
 * (The Debian cloud kernel has one token table and one candidate.) */
#define MAX_TOKEN_TABLES 16
#define MAX_ATTEMPTS 16
/* Bytes of would-be tokens read, over all candidates: a real table is
 * read once (about 1 KiB); shifted near-copies could make each of many
 * candidates read 64 KiB at each of 65 offsets. */
#define MAX_TOKEN_BYTES ((size_t)64 << 20)

/* One candidate's tables, as positions in its run's bytes. */
struct pvsub_kallsyms {
	struct pvsub_kallsyms_run run;
	size_t offsets, relative_base, num_syms, names, names_end, markers, seqs, table, index;
	size_t count;
	uint64_t base;
	uint16_t tok_off[256], tok_len[256];
};

/* The closest a rejected candidate came: its stage, then how far into it. */
struct why_not {
	uint64_t progress;
	bool any;
	struct pvsub_diag diag;
	size_t tables, attempts; /* token tables seen, candidates decoded */
	size_t token_bytes;	 /* read by tokens_ok() */
};

enum stage {
	STAGE_NAMES = 1,
	STAGE_PADDING,
	STAGE_SEQS,
	STAGE_OFFSETS,
};

static _printf_format_(4, 5) void reject(struct why_not *w, enum stage st, size_t done,
					 const char *fmt, ...)
{
	uint64_t progress = ((uint64_t)st << 40) | (uint64_t)done;
	va_list ap;

	if (w->any && progress <= w->progress)
		return;
	w->any = true;
	w->progress = progress;
	va_start(ap, fmt);
	vsnprintf(w->diag.msg, sizeof(w->diag.msg), fmt, ap);
	va_end(ap);
}

/* Positions of a run whose address is 8-aligned: the first one; the last
 * one at or below @x (false when there is none). */
static size_t first_aligned(const struct pvsub_kallsyms_run *r)
{
	return (size_t)((8 - (r->vaddr & 7)) & 7);
}

static bool floor_aligned(const struct pvsub_kallsyms_run *r, size_t x, size_t *out)
{
	size_t skew = first_aligned(r);

	if (x < skew)
		return false;
	*out = skew + ((x - skew) & ~(size_t)7);
	return true;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool printable(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

/* --- the token table and its index ---------------------------------------------- */

/* The 256 tokens of the table at @table of @b: each printable, no longer
 * than a symbol, and NUL-terminated just where the next one starts (@idx),
 * the last one just before @last_end.  The bytes read are added to
 * *@work. */
static bool tokens_ok(const uint8_t *b, size_t table, const uint16_t *idx, size_t last_end,
		      size_t *work)
{
	/* The terminators first: 256 reads refuse most candidates. */
	for (size_t i = 0; i < 256; i++) {
		size_t s = table + idx[i];
		size_t e = i < 255 ? table + idx[i + 1] - 1 : last_end - 1;

		if (b[e] != 0 || e - s > PVSUB_KALLSYMS_NAME_MAX)
			return false;
	}
	/* Then every byte: printable, or one of those 256 NULs. */
	*work += last_end - table;
	for (size_t k = table, nuls = 0; k < last_end; k++)
		if (b[k] == 0 ? ++nuls > 256 : !printable(b[k]))
			return false;
	return true;
}

/*
 * Whether a token index starts at aligned position @p: 256 strictly
 * increasing u16 from 0, and before it, 8-aligned, a token table whose
 * tokens end exactly where the index says, followed by less than 8 bytes
 * of zero padding.  How many tables fit (0, 1, or more for an ambiguous
 * layout), the last one in *@table; the bytes of tokens read are added to
 * *@work.
 */
static int token_index_at(const struct pvsub_kallsyms_run *r, size_t p, uint16_t *idx,
			  size_t *table, size_t *work)
{
	const uint8_t *b = r->bytes;
	size_t t, last;
	int found = 0;

	if (r->size - p < 512 || pvsub_le16(b + p) != 0)
		return 0;
	idx[0] = 0;
	for (size_t i = 1; i < 256; i++) {
		idx[i] = pvsub_le16(b + p + 2 * i);
		if (idx[i] <= idx[i - 1])
			return 0;
	}
	last = idx[255];
	if (p < last + 1 || !floor_aligned(r, p - last - 1, &t))
		return 0;
	for (;;) {
		size_t s = t + last;
		const uint8_t *nul;

		/* A token is part of a symbol: no longer than one. */
		if (p - s > PVSUB_KALLSYMS_NAME_MAX + 8)
			break;
		nul = memchr(b + s, 0, p - s);

		if (nul) {
			size_t end = (size_t)(nul - b) + 1;

			/* A table further down ends at this NUL or before. */
			if (p - end >= 8)
				break;
			if (all_zero(b + end, p - end) && tokens_ok(b, t, idx, end, work)) {
				found++;
				*table = t;
			}
		}
		if (t < first_aligned(r) + 8)
			break;
		t -= 8;
	}
	return found;
}

/* --- names, markers, sequence numbers, offsets ------------------------------------- */

/*
 * Expand the symbol at @pos of kallsyms_names (which ends at @limit) into
 * @out (PVSUB_KALLSYMS_NAME_MAX + 1 bytes), its length in *@len, and the
 * next symbol's position in *@next.  0, or -EINVAL with the reason in
 * @diag (symbol @i named).
 */
static int expand_symbol(const struct pvsub_kallsyms *ks, size_t pos, size_t limit, size_t i,
			 char *out, size_t *len, size_t *next, struct pvsub_diag *diag)
{
	const uint8_t *b = ks->run.bytes;
	size_t n, o = 0;

	if (pos >= limit)
		return pvsub_diag_set(diag, EINVAL,
				      "symbol %zu lies past the end of kallsyms_names", i);
	n = b[pos++];
	if (n & 0x80) {
		if (pos >= limit)
			return pvsub_diag_set(
				diag, EINVAL,
				"symbol %zu's length runs past the end of kallsyms_names", i);
		n = (n & 0x7f) | ((size_t)b[pos++] << 7);
	}
	if (n == 0)
		return pvsub_diag_set(diag, EINVAL, "symbol %zu has no tokens", i);
	if (n > limit - pos)
		return pvsub_diag_set(diag, EINVAL,
				      "symbol %zu (%zu tokens) runs past the end of kallsyms_names",
				      i, n);
	for (size_t k = 0; k < n; k++) {
		uint8_t tok = b[pos + k];
		size_t tl = ks->tok_len[tok];

		if (tl == 0)
			return pvsub_diag_set(diag, EINVAL, "symbol %zu uses the empty token %u", i,
					      tok);
		if (tl > PVSUB_KALLSYMS_NAME_MAX - o)
			return pvsub_diag_set(diag, EINVAL, "symbol %zu is longer than %u bytes", i,
					      PVSUB_KALLSYMS_NAME_MAX);
		/* Tokens are a few bytes: a loop, not a call, per token. */
		for (const uint8_t *t = b + ks->table + ks->tok_off[tok], *e = t + tl; t < e; t++)
			out[o++] = (char)*t;
	}
	out[o] = '\0';
	if (o < 2 || !((out[0] >= 'a' && out[0] <= 'z') || (out[0] >= 'A' && out[0] <= 'Z')))
		return pvsub_diag_set(diag, EINVAL, "symbol %zu has no name or no type letter", i);
	*len = o;
	*next = pos + n;
	return 0;
}

/* Every name decodes, every marker points at its block's first name, and
 * the last name ends in the padding just before the markers. */
static bool names_ok(struct pvsub_kallsyms *ks, struct why_not *w)
{
	const uint8_t *b = ks->run.bytes;
	char name[PVSUB_KALLSYMS_NAME_MAX + 1];
	struct pvsub_diag d;
	size_t pos = ks->names, len;

	for (size_t i = 0; i < ks->count; i++) {
		if (i % 256 == 0 &&
		    pvsub_le32(b + ks->markers + 4 * (i / 256)) != pos - ks->names) {
			reject(w, STAGE_NAMES, i,
			       "kallsyms_markers[%zu] is not where symbol %zu starts", i / 256, i);
			return false;
		}
		if (expand_symbol(ks, pos, ks->markers, i, name, &len, &pos, &d) < 0) {
			reject(w, STAGE_NAMES, i, "%s", d.msg);
			return false;
		}
	}
	if (ks->markers - pos >= 8 || !all_zero(b + pos, ks->markers - pos)) {
		reject(w, STAGE_PADDING, 0,
		       "kallsyms_names of %zu symbols end %zu bytes before kallsyms_markers",
		       ks->count, ks->markers - pos);
		return false;
	}
	ks->names_end = pos;
	return true;
}

/* The sequence numbers are a permutation of the symbol indices. */
static int seqs_ok(const struct pvsub_kallsyms *ks, struct why_not *w)
{
	const uint8_t *b;
	uint8_t *seen;

	if (ks->seqs == NO_POS)
		return 1;
	b = ks->run.bytes + ks->seqs;
	seen = calloc(ks->count / 8 + 1, 1);
	if (!seen)
		return -ENOMEM;
	for (size_t i = 0; i < ks->count; i++) {
		size_t s = ((size_t)b[3 * i] << 16) | ((size_t)b[3 * i + 1] << 8) | b[3 * i + 2];

		if (s >= ks->count || (seen[s / 8] & (1u << (s % 8)))) {
			reject(w, STAGE_SEQS, i,
			       "kallsyms_seqs_of_names[%zu] is not a symbol index or repeats one",
			       i);
			free(seen);
			return 0;
		}
		seen[s / 8] |= (uint8_t)(1u << (s % 8));
	}
	free(seen);
	return 1;
}

/* The address of symbol @i: 0, or -ERANGE past 2^64. */
static int symbol_address(const struct pvsub_kallsyms *ks, size_t i, uint64_t *addr)
{
	int32_t off = (int32_t)pvsub_le32(ks->run.bytes + ks->offsets + 4 * i);
	uint64_t up;

	if (off >= 0) {
		*addr = (uint64_t)off;
		return 0;
	}
	/* relative_base - 1 - off */
	up = (uint64_t)(-(int64_t)off) - 1;
	if (up > UINT64_MAX - ks->base)
		return -ERANGE;
	*addr = ks->base + up;
	return 0;
}

/* The offsets and the relative base before kallsyms_num_syms: addresses
 * sorted, and the first relative symbol at the relative base itself. */
static bool offsets_ok(struct pvsub_kallsyms *ks, struct why_not *w)
{
	const uint8_t *b = ks->run.bytes;
	uint64_t prev = 0, addr;
	bool relative = false;
	size_t end;

	if (ks->num_syms < 8 || ks->count > (ks->num_syms - 8) / 4 ||
	    !floor_aligned(&ks->run, ks->num_syms - 8 - 4 * ks->count, &ks->offsets)) {
		reject(w, STAGE_OFFSETS, 0,
		       "no room for kallsyms_offsets before kallsyms_num_syms");
		return false;
	}
	ks->relative_base = ks->num_syms - 8;
	ks->base = pvsub_le64(b + ks->relative_base);
	end = ks->offsets + 4 * ks->count;
	if (!all_zero(b + end, ks->relative_base - end)) {
		reject(w, STAGE_OFFSETS, 0, "no zero padding after kallsyms_offsets");
		return false;
	}
	for (size_t i = 0; i < ks->count; i++) {
		int32_t off = (int32_t)pvsub_le32(b + ks->offsets + 4 * i);

		if (symbol_address(ks, i, &addr) < 0 || addr < prev) {
			reject(w, STAGE_OFFSETS, i, "kallsyms_offsets are not sorted at symbol %zu",
			       i);
			return false;
		}
		if (off < 0 && !relative && off != -1) {
			reject(w, STAGE_OFFSETS, i,
			       "the first relative symbol (%zu) is not at kallsyms_relative_base",
			       i);
			return false;
		}
		relative |= off < 0;
		prev = addr;
	}
	if (!relative) {
		reject(w, STAGE_OFFSETS, ks->count,
		       "no symbol is relative to kallsyms_relative_base "
		       "(not CONFIG_KALLSYMS_ABSOLUTE_PERCPU)");
		return false;
	}
	return true;
}

/*
 * Whether kallsyms_num_syms at @q, with kallsyms_seqs_of_names or without,
 * fits before the token table of @ks: the cheap checks (padding, the first
 * marker, markers increasing) here, then every name, sequence number and
 * offset.  1, 0, or -ENOMEM.
 */
static int tables_at(struct pvsub_kallsyms *ks, size_t q, bool with_seqs, struct why_not *w)
{
	const uint8_t *b = ks->run.bytes;
	size_t n = pvsub_le32(b + q), nm, end = ks->table, names = q + 8, room;
	int r;

	if (n == 0 || pvsub_le32(b + q + 4) != 0 || names > ks->table)
		return 0;
	room = ks->table - names;
	nm = (n + 255) / 256;
	/* Each name is at least two bytes: a length and a token. */
	if (n > room / 2)
		return 0;
	ks->seqs = NO_POS;
	if (with_seqs) {
		if (3 * n > room || !floor_aligned(&ks->run, ks->table - 3 * n, &ks->seqs) ||
		    ks->seqs < names ||
		    !all_zero(b + ks->seqs + 3 * n, ks->table - ks->seqs - 3 * n))
			return 0;
		end = ks->seqs;
	}
	if (4 * nm > end - names || !floor_aligned(&ks->run, end - 4 * nm, &ks->markers) ||
	    ks->markers < names || pvsub_le32(b + ks->markers) != 0 ||
	    !all_zero(b + ks->markers + 4 * nm, end - ks->markers - 4 * nm))
		return 0;
	for (size_t i = 1; i < nm; i++)
		if (pvsub_le32(b + ks->markers + 4 * i) <= pvsub_le32(b + ks->markers + 4 * i - 4))
			return 0;
	if (pvsub_le32(b + ks->markers + 4 * nm - 4) >= ks->markers - names)
		return 0;
	if (++w->attempts > MAX_ATTEMPTS)
		return -E2BIG;
	ks->num_syms = q;
	ks->names = names;
	ks->count = n;
	if (!names_ok(ks, w))
		return 0;
	r = seqs_ok(ks, w);
	if (r <= 0)
		return r;
	return offsets_ok(ks, w) ? 1 : 0;
}

/* --- finding them ------------------------------------------------------------------ */

struct found {
	struct pvsub_kallsyms *first;
	size_t n;
	uint64_t second; /* the second candidate's token table */
};

static int keep(struct found *f, const struct pvsub_kallsyms *ks)
{
	if (f->n++ == 0) {
		f->first = malloc(sizeof(*ks));
		if (!f->first)
			return -ENOMEM;
		*f->first = *ks;
	} else if (f->n == 2) {
		f->second = ks->run.vaddr + ks->table;
	}
	return 0;
}

/* Every num_syms before the token table of @ks that gives a whole kallsyms. */
static int names_before(struct pvsub_kallsyms *ks, struct found *f, struct why_not *w)
{
	size_t q;
	int r;

	if (ks->table < 16 || !floor_aligned(&ks->run, ks->table - 16, &q))
		return 0;
	for (;;) {
		const uint8_t *b = ks->run.bytes + q;

		/* Most positions hold no count followed by 4 zero bytes.  Each
		 * attempt sets every field it uses: no copy per position. */
		for (int s = 1; s >= 0 && pvsub_le32(b) != 0 && pvsub_le32(b + 4) == 0; s--) {
			r = tables_at(ks, q, s, w);
			if (r < 0)
				return r;
			if (r && (r = keep(f, ks)) < 0)
				return r;
		}
		if (q < first_aligned(&ks->run) + 8)
			return 0;
		q -= 8;
	}
}

static int find_in_run(const struct pvsub_kallsyms_run *run, struct found *f, bool *any_index,
		       struct why_not *w)
{
	struct pvsub_kallsyms ks = {.run = *run};
	const uint8_t *b = run->bytes;
	uint16_t idx[256];
	size_t table = 0;
	int r, n;

	if (!b || run->size < 512)
		return 0;
	for (size_t p = first_aligned(run), last = run->size - 512; p <= last; p += 8) {
		/* index[0] is 0: most positions are out at the first load. */
		if (b[p] | b[p + 1])
			continue;
		n = token_index_at(run, p, idx, &table, &w->token_bytes);
		if (w->token_bytes > MAX_TOKEN_BYTES)
			return -E2BIG;
		if (n == 0)
			continue;
		*any_index = true;
		if (++w->tables > MAX_TOKEN_TABLES)
			return -E2BIG;
		if (n > 1) {
			pvsub_diag_set(&w->diag, EINVAL,
				       "two token tables end at the token index at %#llx",
				       (unsigned long long)(run->vaddr + p));
			return -EINVAL;
		}
		ks.table = table;
		ks.index = p;
		for (size_t i = 0; i < 256; i++) {
			ks.tok_off[i] = idx[i];
			ks.tok_len[i] = (uint16_t)((i < 255 ? idx[i + 1] : (size_t)(p - table)) -
						   idx[i] - 1);
		}
		/* The last token's length is up to its NUL, not the padding. */
		ks.tok_len[255] = (uint16_t)strlen((const char *)run->bytes + table + idx[255]);
		r = names_before(&ks, f, w);
		if (r < 0)
			return r;
	}
	return 0;
}

int pvsub_kallsyms_find(const struct pvsub_kallsyms_run *runs, size_t n_runs,
			struct pvsub_kallsyms **out, struct pvsub_diag *diag)
{
	struct found f = {NULL, 0, 0};
	struct why_not w = {0, false, {""}, 0, 0, 0};
	bool any_index = false;
	int r = 0;

	*out = NULL;
	for (size_t i = 0; i < n_runs && r == 0; i++)
		r = find_in_run(&runs[i], &f, &any_index, &w);
	if (r == -ENOMEM)
		goto fail;
	if (r == -E2BIG) {
		r = pvsub_diag_set(diag, EINVAL,
				   "kallsyms ambiguous: more than %d token tables, %d candidates "
				   "or %zu MiB of tokens",
				   MAX_TOKEN_TABLES, MAX_ATTEMPTS, MAX_TOKEN_BYTES >> 20);
		goto fail;
	}
	if (r < 0) {
		r = pvsub_diag_set(diag, EINVAL, "kallsyms ambiguous: %s", w.diag.msg);
		goto fail;
	}
	if (f.n > 1) {
		r = pvsub_diag_set(diag, EINVAL,
				   "kallsyms ambiguous: %zu whole tables, token tables at %#llx "
				   "and %#llx",
				   f.n, (unsigned long long)(f.first->run.vaddr + f.first->table),
				   (unsigned long long)f.second);
		goto fail;
	}
	if (f.n == 0) {
		if (!any_index)
			r = pvsub_diag_set(diag, ENOENT,
					   "kallsyms not found: no kallsyms_token_index");
		else if (!w.any)
			r = pvsub_diag_set(diag, ENOENT,
					   "kallsyms not found: no kallsyms_num_syms and "
					   "kallsyms_markers before the token table");
		else
			r = pvsub_diag_set(diag, ENOENT, "kallsyms not found: %s", w.diag.msg);
		goto fail;
	}
	*out = f.first;
	return 0;
fail:
	if (r == -ENOMEM)
		pvsub_diag_set(diag, ENOMEM, "out of memory");
	free(f.first);
	return r;
}

void pvsub_kallsyms_free(struct pvsub_kallsyms *ks)
{
	free(ks);
}

void pvsub_kallsyms_layout(const struct pvsub_kallsyms *ks, struct pvsub_kallsyms_layout *out)
{
	uint64_t v = ks->run.vaddr;

	*out = (struct pvsub_kallsyms_layout){
		.offsets = v + ks->offsets,
		.relative_base = v + ks->relative_base,
		.num_syms = v + ks->num_syms,
		.names = v + ks->names,
		.markers = v + ks->markers,
		.seqs_of_names = ks->seqs == NO_POS ? 0 : v + ks->seqs,
		.token_table = v + ks->table,
		.token_index = v + ks->index,
		.count = ks->count,
	};
}

int pvsub_kallsyms_foreach(const struct pvsub_kallsyms *ks, pvsub_kallsyms_fn fn, void *arg)
{
	char name[PVSUB_KALLSYMS_NAME_MAX + 1];
	struct pvsub_diag d;
	size_t pos = ks->names, len;
	uint64_t addr;
	int r;

	for (size_t i = 0; i < ks->count; i++) {
		/* Checked when found; checked again, as the bytes are the caller's. */
		if (expand_symbol(ks, pos, ks->markers, i, name, &len, &pos, &d) < 0 ||
		    symbol_address(ks, i, &addr) < 0)
			return -EINVAL;
		r = fn(name + 1, name[0], addr, arg);
		if (r)
			return r;
	}
	return 0;
}

struct lookup {
	const char *name;
	size_t seen;
	uint64_t addr;
	bool differ;
};

static int lookup_one(const char *name, char type, uint64_t addr, void *arg)
{
	struct lookup *l = arg;

	(void)type;
	if (strcmp(name, l->name) != 0)
		return 0;
	if (l->seen++ && addr != l->addr)
		l->differ = true;
	l->addr = addr;
	return 0;
}

int pvsub_kallsyms_lookup(const struct pvsub_kallsyms *ks, const char *name, uint64_t *addr,
			  struct pvsub_diag *diag)
{
	struct lookup l = {name, 0, 0, false};
	int r = pvsub_kallsyms_foreach(ks, lookup_one, &l);

	if (r < 0)
		return pvsub_diag_set(diag, EINVAL, "kallsyms changed after it was read");
	if (l.seen == 0)
		return pvsub_diag_set(diag, ENOENT, "kallsyms does not name %s", name);
	if (l.differ)
		return pvsub_diag_set(diag, EINVAL,
				      "kallsyms names %s twice, at different addresses", name);
	*addr = l.addr;
	return 0;
}
