/* SPDX-License-Identifier: MIT */
/*
 * The facts of Linux 6.1 x86-64 used here (arch/x86/kernel/alternative.c,
 * jump_label.c, static_call.c, paravirt.c, ftrace.c), checked against the
 * Debian 6.1.0-56 (6.1.192) kernel's own code and data: x86_nops holds the
 * P6 NOPs of 1 to 8 bytes (ASM_NOP_MAX 8) and add_nops() fills with the
 * longest that fits; apply_alternatives() copies the replacement, re-targets
 * a 5-byte call (e8) by replacement - instr, recomputes a 5-byte jmp (e9 or
 * eb first byte), pads with 0x90 to the original's length, and then runs
 * optimize_nops() on the site whether or not it was patched;
 * paravirt_patch() writes a call (to BUG_func when the op is NULL) or, for
 * _paravirt_nop, nothing; apply_ibt_endbr() is empty in that kernel (no
 * CONFIG_X86_KERNEL_IBT), the 6.1 poison is modelled for kernels with it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/kmeta.h"
#include "libpvsub/wverdict.h"
#include "libpvsub/x86enc.h"

const char *pvsub_wverdict_name(enum pvsub_wverdict v)
{
	switch (v) {
	case PVSUB_WVERDICT_CANNOT_FORM:
		return "cannot-form";
	case PVSUB_WVERDICT_RUNTIME:
		return "runtime";
	case PVSUB_WVERDICT_STATIC:
		return "static";
	}
	return "?";
}

/* x86_nops, ASM_NOP_MAX: the long NOPs of x86enc. */
#define NOP_MAX PVSUB_X86ENC_NOP_MAX

/* Combinations tried per group of windows, and windows per group. */
#define COMBO_BUDGET 4096u
#define MAX_GROUP 32u

enum vtype {
	V_KEEP,	    /* the bytes as they are */
	V_WRITE,    /* write the pooled bytes */
	V_SWAP,	    /* f0 <-> 3e (smp-lock) */
	V_NOPOPT,   /* optimize_nops() on the bytes as they are */
	V_WRITE_OPT /* write, then optimize_nops() */
};

struct variant {
	uint8_t type;
	size_t at; /* V_WRITE*: values at pool[at], known bits at pool[at + len] */
};

struct gwin {
	const struct pvsub_mwindow *w;
	size_t idx;	 /* among the region's windows */
	size_t pos;	 /* in the region */
	size_t first, n; /* its variants */
	unsigned rank;
	bool overlapped; /* another window of its group shares bytes with it */
};

struct pvsub_wverdict_ctx {
	struct pvsub_image *img;
	struct pvsub_decoder *dec;
	const struct pvsub_matcher *m;
	size_t maxlen;
	/* first[b]: some pattern may start with byte b */
	bool first[256];
	/* the regions by (index, origin), for region_of() */
	size_t *regs;
	size_t n_regs;
	/* the alt-replacement windows, by (table, table_off) */
	const struct pvsub_mwindow **repl;
	size_t n_repl;
	bool repl_built;
	/* per group */
	uint8_t *pool;
	size_t pool_len, pool_cap;
	struct variant *var;
	size_t n_var, cap_var;
	/* the hits of the region being decided */
	struct pvsub_wverdict_hit *hits;
	size_t n_hits, cap_hits;
};

int pvsub_wverdict_ctx_new(struct pvsub_image *img, struct pvsub_decoder *d,
			   const struct pvsub_matcher *m, struct pvsub_wverdict_ctx **out)
{
	struct pvsub_wverdict_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->img = img;
	c->dec = d;
	c->m = m;
	c->maxlen = pvsub_matcher_max_len(m);
	for (size_t i = 0; i < pvsub_matcher_count(m); i++) {
		const struct pvsub_pattern *p = pvsub_matcher_pattern(m, i);
		for (unsigned b = 0; b < 256; b++)
			c->first[b] |= p->len && ((uint8_t)b & p->mask[0]) == p->value[0];
	}
	*out = c;
	return 0;
}

void pvsub_wverdict_ctx_free(struct pvsub_wverdict_ctx *c)
{
	if (!c)
		return;
	free(c->repl);
	free(c->regs);
	free(c->pool);
	free(c->var);
	free(c->hits);
	free(c);
}

/* --- bytes and what is known of them ------------------------------------------ */

/*
 * Bytes [@from, @from + @len) of region @region (which may reach outside
 * it: unknown there) into @v, and in @k the bits that are the same for
 * every load: not those a relocation writes (ET_REL), nor those a KASLR
 * offset can change (bytes 0 and 1 and the low five bits of byte 2 of a
 * field never change: the offsets are multiples of 2 MiB).
 */
static int fill_bytes(struct pvsub_image *img, size_t region, int64_t from, size_t len, uint8_t *v,
		      uint8_t *k)
{
	const struct pvsub_region *rg = pvsub_image_region(img, region);
	const struct pvsub_reloc_window *rw;
	const struct pvsub_kaslr_window *kw;
	size_t n;
	int r;

	for (size_t i = 0; i < len; i++) {
		int64_t p = from + (int64_t)i;
		bool in = p >= 0 && (uint64_t)p < rg->size;

		v[i] = in ? rg->bytes[p] : 0;
		k[i] = in ? 0xff : 0;
	}
	r = pvsub_image_reloc_windows(img, region, &rw, &n);
	if (r < 0)
		return r;
	/* Sorted by pos, at most 8 bytes each: find the first that can reach
	 * @from. */
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((int64_t)rw[mid].pos + 8 <= from)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t j = lo; j < n; j++) {
		if ((int64_t)(rw[j].pos + rw[j].size) <= from)
			continue;
		if ((int64_t)rw[j].pos >= from + (int64_t)len)
			break;
		for (size_t b = 0; b < rw[j].size; b++) {
			int64_t i = (int64_t)(rw[j].pos + b) - from;
			if (i >= 0 && i < (int64_t)len)
				k[i] = 0;
		}
	}
	r = pvsub_image_kaslr_windows(img, region, &kw, &n);
	if (r < 0)
		return r;
	/* Sorted by pos: find the first that can reach @from. */
	lo = 0;
	hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((int64_t)kw[mid].pos + 8 <= from)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t j = lo; j < n && (int64_t)kw[j].pos < from + (int64_t)len; j++) {
		for (size_t b = 2; b < kw[j].size; b++) {
			int64_t i = (int64_t)(kw[j].pos + b) - from;
			if (i >= 0 && i < (int64_t)len)
				k[i] = b == 2 ? 0x1f : 0;
		}
	}
	return 0;
}

/* --- variants ------------------------------------------------------------------- */

static int pool_grow(struct pvsub_wverdict_ctx *c, size_t more)
{
	if (c->pool_len + more <= c->pool_cap)
		return 0;
	size_t cap = c->pool_cap ? c->pool_cap : 4096;
	while (cap < c->pool_len + more)
		cap *= 2;
	uint8_t *p = realloc(c->pool, cap);
	if (!p)
		return -ENOMEM;
	c->pool = p;
	c->pool_cap = cap;
	return 0;
}

static int add_variant(struct pvsub_wverdict_ctx *c, uint8_t type, size_t at)
{
	if (c->n_var == c->cap_var) {
		size_t cap = c->cap_var ? 2 * c->cap_var : 64;
		struct variant *p = realloc(c->var, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		c->var = p;
		c->cap_var = cap;
	}
	c->var[c->n_var++] = (struct variant){type, at};
	return 0;
}

/* A write of @len bytes, all unknown until set: *@v and *@k point at them
 * (valid until the next pool_new). */
static int pool_new(struct pvsub_wverdict_ctx *c, size_t len, size_t *at)
{
	int r = pool_grow(c, 2 * len);
	if (r < 0)
		return r;
	*at = c->pool_len;
	memset(c->pool + c->pool_len, 0, 2 * len);
	c->pool_len += 2 * len;
	return 0;
}

/* Builder of one write: known bytes put one after the other. */
struct wr {
	uint8_t *v, *k;
	size_t len, i;
};

static void put(struct wr *w, uint8_t b)
{
	if (w->i < w->len) {
		w->v[w->i] = b;
		w->k[w->i] = 0xff;
	}
	w->i++;
}

static void skip_unknown(struct wr *w, size_t n)
{
	w->i += n;
}

static void put_le32(struct wr *w, int64_t x)
{
	for (int b = 0; b < 4; b++)
		put(w, (uint8_t)((uint64_t)x >> (8 * b)));
}

static void add_nops(struct wr *w, size_t n)
{
	while (n) {
		size_t l = n < NOP_MAX ? n : NOP_MAX;
		uint8_t nop[NOP_MAX];

		pvsub_x86enc_nop(nop, (unsigned)l);
		for (size_t j = 0; j < l; j++)
			put(w, nop[j]);
		n -= l;
	}
}

static int begin(struct pvsub_wverdict_ctx *c, size_t len, size_t *at, struct wr *w)
{
	int r = pool_new(c, len, at);
	if (r < 0)
		return r;
	*w = (struct wr){c->pool + *at, c->pool + *at + len, len, 0};
	return 0;
}

/* A write of: @pre known bytes, then @unknown unknown bytes, then @fill
 * (0x90, 0xcc) up to @len, or NOP padding when @fill is 0. */
static int simple_write(struct pvsub_wverdict_ctx *c, size_t len, const uint8_t *pre, size_t npre,
			size_t unknown, int fill)
{
	struct wr w;
	size_t at;
	int r = begin(c, len, &at, &w);

	if (r < 0)
		return r;
	if (npre + unknown > len)
		return 0; /* does not fit: the kernel does not write it */
	for (size_t i = 0; i < npre; i++)
		put(&w, pre[i]);
	skip_unknown(&w, unknown);
	if (fill)
		while (w.i < len)
			put(&w, (uint8_t)fill);
	else
		add_nops(&w, len - w.i);
	return add_variant(c, V_WRITE, at);
}

/* The window's opcode, after a 2e/3e prefix: its length to the rel32. */
static size_t branch_head(const uint8_t *v, size_t len, uint8_t *op, uint8_t *cc)
{
	size_t p = len > 0 && (v[0] == 0x2e || v[0] == 0x3e) ? 1 : 0;

	*cc = 0;
	if (p < len && (v[p] == 0xe8 || v[p] == 0xe9)) {
		*op = v[p];
		return p + 1;
	}
	if (p + 1 < len && v[p] == 0x0f && (v[p + 1] & 0xf0) == 0x80) {
		*op = 0x0f;
		*cc = v[p + 1] & 0x0f;
		return p + 2;
	}
	*op = 0;
	return 0;
}

/* A branch to a target chosen at boot, in place of the site's own: its
 * opcode (after its prefix) kept when the rel32 ends the site, else
 * nothing known. */
static int thunk_call(struct pvsub_wverdict_ctx *c, const uint8_t *v, size_t len, size_t head)
{
	if (head && head + 4 == len)
		return simple_write(c, len, v, head, 4, 0xcc);
	return simple_write(c, len, NULL, 0, len, 0xcc);
}

/*
 * patch_retpoline(): [jncc.d8 over it;] [lfence;] call/jmp *%reg for every
 * register but %rsp, filled to the site's length; 6.1.192's emit_indirect()
 * puts cs prefixes before a call (at most three) and int3 after a jmp, the
 * 6.1 of before put one int3 after a jmp and NOPs: both are tried.
 */
static int retpoline_forms(struct pvsub_wverdict_ctx *c, size_t len, uint8_t op, uint8_t cc,
			   int reg, bool lfence)
{
	uint8_t head[8], core[3], b[32];
	size_t nh = 0, nc = 0;
	bool jmp = op != 0xe8;
	int r = 0;

	if (op == 0x0f) {
		head[nh++] = (uint8_t)(0x70 + (cc ^ 1));
		head[nh++] = (uint8_t)(len - 2);
	}
	if (lfence) {
		head[nh++] = 0x0f;
		head[nh++] = 0xae;
		head[nh++] = 0xe8;
	}
	if (reg >= 8)
		core[nc++] = 0x41;
	core[nc++] = 0xff;
	core[nc++] = (uint8_t)((jmp ? 0xe0 : 0xd0) + (reg & 7));
	if (nh + nc > len || len > sizeof(b))
		return 0;
	size_t rest = len - nh - nc;
	for (int form = 0; r == 0 && form < 2; form++) {
		size_t n = 0;

		memcpy(b, head, nh);
		n = nh;
		if (!jmp && form == 0) {
			if (rest > 3)
				continue;
			memset(b + n, 0x2e, rest);
			n += rest;
		}
		memcpy(b + n, core, nc);
		n += nc;
		if (jmp && form == 0) {
			memset(b + n, 0xcc, len - n);
			n = len;
		} else if (jmp && n < len) {
			b[n++] = 0xcc;
		}
		r = simple_write(c, len, b, n, 0, 0x90);
	}
	return r;
}

static int retpoline_variants(struct pvsub_wverdict_ctx *c, const uint8_t *v, size_t len)
{
	uint8_t op, cc;
	size_t head = branch_head(v, len, &op, &cc);
	int r;

	/* A call or jmp to a thunk chosen at boot (ITS). */
	r = thunk_call(c, v, len, head);
	if (!head)
		return r;
	for (int reg = 0; r == 0 && reg < 16; reg++)
		for (int lfence = 0; r == 0 && lfence < 2 && reg != 4; lfence++)
			r = retpoline_forms(c, len, op, cc, reg, lfence);
	return r;
}

static int return_variants(struct pvsub_wverdict_ctx *c, const uint8_t *v, size_t len)
{
	static const uint8_t ret[] = {0xc3}, jmp[] = {0xe9};
	uint8_t op, cc;
	int r;

	/* apply_returns() patches jmp sites only (6.1.192: insn_decode(), then
	 * op == e9 and target __x86_return_thunk) */
	if (!branch_head(v, len, &op, &cc) || op != 0xe9)
		return 0;
	/* jmp to the return thunk chosen at boot at the site's start, or ret;
	 * int3-padded either way */
	r = len >= 5 ? simple_write(c, len, jmp, 1, 4, 0xcc) : 0;
	if (r == 0)
		r = simple_write(c, len, ret, 1, 0, 0xcc);
	return r;
}

/* __static_call_transform(): call or jmp to the function, the 5-byte NOP,
 * retinsn (c3 cc cc cc cc) and, for __static_call_return0, xor5rax
 * (2e 2e 2e 31 c0), as in the Debian 6.1.192 kernel's data. */
static int static_call_variants(struct pvsub_wverdict_ctx *c, size_t len)
{
	static const uint8_t call[] = {0xe8}, jmp[] = {0xe9}, ret[] = {0xc3};
	static const uint8_t xor_a[] = {0x2e, 0x2e, 0x2e, 0x31, 0xc0};
	int r = simple_write(c, len, call, 1, 4, 0x90);

	if (r == 0)
		r = simple_write(c, len, jmp, 1, 4, 0x90);
	if (r == 0)
		r = simple_write(c, len, NULL, 0, 0, 0);
	if (r == 0)
		r = simple_write(c, len, ret, 1, 0, 0xcc);
	if (r == 0)
		r = simple_write(c, len, xor_a, 5, 0, 0);
	return r;
}

/* paravirt_patch(): a call to the pv_ops function (or to BUG_func when
 * there is none), or nothing for _paravirt_nop; NOPs after either. */
static int paravirt_variants(struct pvsub_wverdict_ctx *c, size_t len)
{
	static const uint8_t call[] = {0xe8};
	int r = simple_write(c, len, NULL, 0, 0, 0);

	if (r == 0)
		r = simple_write(c, len, call, 1, 4, 0);
	return r;
}

static int jump_label_variants(struct pvsub_wverdict_ctx *c, const struct gwin *g)
{
	const struct pvsub_mwindow *w = g->w;
	uint8_t op = w->len == 2 ? 0xeb : 0xe9;
	struct wr wr;
	size_t at;
	int r = simple_write(c, w->len, NULL, 0, 0, 0); /* the NOP of its length */

	if (r < 0)
		return r;
	r = begin(c, w->len, &at, &wr);
	if (r < 0)
		return r;
	put(&wr, op);
	/* Within one section (segment), the displacement is known. */
	if (w->has_target && w->target_section == w->section) {
		int64_t d = (int64_t)(w->target_offset - (w->offset + w->len));
		if (w->len == 2) {
			if (d < -128 || d > 127)
				return 0; /* the kernel refuses such a jump */
			put(&wr, (uint8_t)d);
		} else {
			put_le32(&wr, d);
		}
	}
	return add_variant(c, V_WRITE, at);
}

static int cmp_region(const void *a, const void *b, void *arg)
{
	struct pvsub_image *img = arg;
	const struct pvsub_region *x = pvsub_image_region(img, *(const size_t *)a);
	const struct pvsub_region *y = pvsub_image_region(img, *(const size_t *)b);

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return (x->origin > y->origin) - (x->origin < y->origin);
}

/* The regions of the windows' kind (sections of an ET_REL, segments else)
 * sorted by (index, origin), once: replacements are looked up by them. */
static int build_regions(struct pvsub_wverdict_ctx *c)
{
	size_t n = pvsub_image_region_count(c->img);
	bool rel = pvsub_image_kind(c->img) == PVSUB_ELF_REL;

	c->regs = malloc((n ? n : 1) * sizeof(*c->regs));
	if (!c->regs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (rel != pvsub_image_region(c->img, i)->is_segment)
			c->regs[c->n_regs++] = i;
	qsort_r(c->regs, c->n_regs, sizeof(*c->regs), cmp_region, c->img);
	return 0;
}

/* The region that holds window @w whole, and its position there. */
static bool region_of(const struct pvsub_wverdict_ctx *c, const struct pvsub_mwindow *w,
		      size_t *region, size_t *pos)
{
	size_t lo = 0, hi = c->n_regs;

	/* the last region of index w->section whose origin is not past it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pvsub_region *rg = pvsub_image_region(c->img, c->regs[mid]);

		if (rg->index < w->section ||
		    (rg->index == w->section && rg->origin <= (int64_t)w->offset))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	const struct pvsub_region *rg = pvsub_image_region(c->img, c->regs[lo - 1]);
	int64_t p = (int64_t)w->offset - rg->origin;
	if (rg->index != w->section || p < 0 || (uint64_t)p + w->len > rg->size)
		return false;
	*region = c->regs[lo - 1];
	*pos = (size_t)p;
	return true;
}

/* The replacement window of alternative @w, or NULL when it is empty. */
static int cmp_repl(const void *a, const void *b)
{
	const struct pvsub_mwindow *x = *(const struct pvsub_mwindow *const *)a;
	const struct pvsub_mwindow *y = *(const struct pvsub_mwindow *const *)b;

	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	return (x->table_off > y->table_off) - (x->table_off < y->table_off);
}

static int build_repl(struct pvsub_wverdict_ctx *c)
{
	const struct pvsub_mwindow *all;
	const char *why;
	size_t n;
	int r = pvsub_image_kmeta(c->img, &all, &n, &why);

	if (r < 0)
		return r;
	r = build_regions(c);
	if (r < 0)
		return r;
	c->repl_built = true;
	for (size_t i = 0; i < n; i++)
		c->n_repl += all[i].kind == PVSUB_WINDOW_ALT_REPLACEMENT;
	if (!c->n_repl)
		return 0;
	c->repl = malloc(c->n_repl * sizeof(*c->repl));
	if (!c->repl)
		return -ENOMEM;
	c->n_repl = 0;
	for (size_t i = 0; i < n; i++)
		if (all[i].kind == PVSUB_WINDOW_ALT_REPLACEMENT)
			c->repl[c->n_repl++] = &all[i];
	qsort(c->repl, c->n_repl, sizeof(*c->repl), cmp_repl);
	return 0;
}

static const struct pvsub_mwindow *find_repl(struct pvsub_wverdict_ctx *c,
					     const struct pvsub_mwindow *w)
{
	const struct pvsub_mwindow key = {.table = w->table, .table_off = w->table_off};
	const struct pvsub_mwindow *kp = &key, **f;

	if (!c->n_repl)
		return NULL;
	f = bsearch(&kp, c->repl, c->n_repl, sizeof(*c->repl), cmp_repl);
	return f ? *f : NULL;
}

/* The region that holds window @w whole, and its position there. */

/*
 * The bytes apply_alternatives() writes for replacement @rw over the
 * alternative of @len bytes at @g: the replacement (a 5-byte call
 * re-targeted; a 5-byte jmp recomputed, in both forms the kernel may
 * choose), padded with 0x90.  Each as a write, and a write then
 * optimize_nops().
 */
static int alt_variants(struct pvsub_wverdict_ctx *c, size_t region, const struct gwin *g)
{
	const struct pvsub_mwindow *w = g->w;
	const struct pvsub_mwindow *rw = find_repl(c, w);
	uint8_t rv[PVSUB_MWINDOW_MAX_LEN], rk[PVSUB_MWINDOW_MAX_LEN];
	size_t rlen = rw ? rw->len : 0, rreg = 0, rpos = 0;
	bool known_delta = false;
	int64_t delta = 0;
	int r;

	if (rw && !region_of(c, rw, &rreg, &rpos))
		return simple_write(c, w->len, NULL, 0, w->len, 0x90);
	if (rlen > w->len) /* the kernel BUG()s: say nothing is known */
		return simple_write(c, w->len, NULL, 0, w->len, 0x90);
	if (rw) {
		r = fill_bytes(c->img, rreg, (int64_t)rpos, rlen, rv, rk);
		if (r < 0)
			return r;
		/* replacement - instr, known in a linked image */
		if (pvsub_image_kind(c->img) != PVSUB_ELF_REL) {
			const struct pvsub_region *a = pvsub_image_region(c->img, region);
			const struct pvsub_region *b = pvsub_image_region(c->img, rreg);
			delta = (int64_t)((b->vaddr + rpos) - (a->vaddr + g->pos));
			known_delta = true;
		}
	}
	for (int form = 0; form < 2; form++) {
		struct wr wr;
		size_t at;
		bool jmp = rlen == 5 && rk[0] == 0xff && rv[0] == 0xe9;
		bool call = rlen == 5 && rk[0] == 0xff && rv[0] == 0xe8;
		bool disp_known = rlen == 5 && known_delta && rk[1] == 0xff && rk[2] == 0xff &&
				  rk[3] == 0xff && rk[4] == 0xff;
		int64_t disp = disp_known ? (int32_t)pvsub_le32(rv + 1) + delta : 0;

		if (form == 1 && !jmp)
			break;
		r = begin(c, w->len, &at, &wr);
		if (r < 0)
			return r;
		if (call || (jmp && form == 0)) {
			/* call: disp += repl - instr; jmp rel32: target - instr - 5 */
			put(&wr, rv[0]);
			if (disp_known)
				put_le32(&wr, disp);
			else
				skip_unknown(&wr, 4);
		} else if (jmp) {
			/* jmp rel8 + nop3 when the target is near */
			put(&wr, 0xeb);
			if (disp_known) {
				int64_t d8 = disp + 5 - 2;
				if (d8 < -128 || d8 > 127)
					continue;
				put(&wr, (uint8_t)d8);
			} else {
				skip_unknown(&wr, 1);
			}
			add_nops(&wr, 3);
		} else {
			for (size_t i = 0; i < rlen; i++) {
				wr.v[i] = rv[i];
				wr.k[i] = rk[i];
			}
			wr.i = rlen;
		}
		while (wr.i < w->len)
			put(&wr, 0x90);
		r = add_variant(c, V_WRITE, at);
		if (r == 0)
			r = add_variant(c, V_WRITE_OPT, at);
		if (r < 0)
			return r;
	}
	return add_variant(c, V_NOPOPT, 0);
}

/* The kernel's order of patching at boot, then the run-time kinds. */
static unsigned kind_rank(enum pvsub_window_kind k)
{
	switch (k) {
	case PVSUB_WINDOW_PARAVIRT:
		return 0;
	case PVSUB_WINDOW_RETPOLINE:
		return 1;
	case PVSUB_WINDOW_RETURN_THUNK:
		return 2;
	case PVSUB_WINDOW_ALTERNATIVE:
		return 3;
	case PVSUB_WINDOW_ENDBR_SEAL:
		return 4;
	case PVSUB_WINDOW_SMP_LOCK:
		return 5;
	case PVSUB_WINDOW_JUMP_LABEL:
		return 6;
	case PVSUB_WINDOW_STATIC_CALL:
		return 7;
	case PVSUB_WINDOW_FTRACE:
		return 8;
	case PVSUB_WINDOW_ALT_REPLACEMENT:
		return 9;
	}
	return 10;
}

/* Whether @len bytes with known bits @k hold two known 0x90 in a row, which
 * optimize_nops() may rewrite. */
static bool has_nop_run(const uint8_t *v, const uint8_t *k, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (v[i] == 0x90 && v[i + 1] == 0x90 && k[i] == 0xff && k[i + 1] == 0xff)
			return true;
	return false;
}

/*
 * Drop the variants of @g that cannot give other bytes than one before
 * them: a write of the file's own bytes (a jump label's NOP, a module's
 * relocated call), a write equal to an earlier one, optimize_nops() over
 * bytes without a NOP run.  Fewer variants, fewer combinations.
 */
static int dedupe(struct pvsub_wverdict_ctx *c, size_t region, const struct gwin *g)
{
	size_t len = g->w->len, out = g->first;
	uint8_t fv[PVSUB_MWINDOW_MAX_LEN], fk[PVSUB_MWINDOW_MAX_LEN];
	int r = fill_bytes(c->img, region, (int64_t)g->pos, len, fv, fk);

	if (r < 0)
		return r;
	for (size_t i = g->first; i < c->n_var; i++) {
		const struct variant *vr = &c->var[i];
		/* only writes have pooled bytes (the pool may not exist yet) */
		bool pooled = vr->type == V_WRITE || vr->type == V_WRITE_OPT;
		const uint8_t *v = pooled ? c->pool + vr->at : NULL;
		const uint8_t *k = pooled ? v + len : NULL;
		bool keep = true;

		if (vr->type == V_NOPOPT)
			keep = has_nop_run(fv, fk, len);
		else if (vr->type == V_WRITE_OPT)
			keep = has_nop_run(v, k, len);
		else if (vr->type == V_WRITE && !g->overlapped)
			/* over another window's write, it is not the same */
			keep = memcmp(v, fv, len) != 0 || memcmp(k, fk, len) != 0;
		for (size_t j = g->first; keep && vr->type == V_WRITE && j < out; j++)
			keep = c->var[j].type != V_WRITE ||
			       memcmp(c->pool + c->var[j].at, v, 2 * len) != 0;
		if (keep)
			c->var[out++] = *vr;
	}
	c->n_var = out;
	return 0;
}

static int window_variants(struct pvsub_wverdict_ctx *c, size_t region, struct gwin *g)
{
	static const uint8_t poison[] = {0x66, 0x0f, 0x1f, 0x00};
	const struct pvsub_region *rg = pvsub_image_region(c->img, region);
	const uint8_t *v = rg->bytes + g->pos;
	size_t len = g->w->len;
	int r;

	g->first = c->n_var;
	r = add_variant(c, V_KEEP, 0);
	switch (g->w->kind) {
	case PVSUB_WINDOW_SMP_LOCK:
		if (r == 0)
			r = add_variant(c, V_SWAP, 0);
		break;
	case PVSUB_WINDOW_JUMP_LABEL:
		if (r == 0)
			r = jump_label_variants(c, g);
		break;
	case PVSUB_WINDOW_ENDBR_SEAL:
		if (r == 0)
			r = simple_write(c, len, poison, sizeof(poison), 0, 0);
		break;
	case PVSUB_WINDOW_FTRACE:
		if (r == 0)
			r = simple_write(c, len, NULL, 0, 0, 0);
		if (r == 0)
			r = simple_write(c, len, (const uint8_t[]){0xe8}, 1, 4, 0x90);
		break;
	case PVSUB_WINDOW_STATIC_CALL:
		if (r == 0)
			r = static_call_variants(c, len);
		break;
	case PVSUB_WINDOW_RETPOLINE:
		if (r == 0)
			r = retpoline_variants(c, v, len);
		break;
	case PVSUB_WINDOW_RETURN_THUNK:
		if (r == 0)
			r = return_variants(c, v, len);
		break;
	case PVSUB_WINDOW_PARAVIRT:
		if (r == 0)
			r = paravirt_variants(c, len);
		break;
	case PVSUB_WINDOW_ALTERNATIVE:
		if (r == 0)
			r = alt_variants(c, region, g);
		break;
	case PVSUB_WINDOW_ALT_REPLACEMENT:
		break;
	}
	if (r == 0)
		r = dedupe(c, region, g);
	g->n = c->n_var - g->first;
	return r;
}

/* --- applying and matching --------------------------------------------------------- */

/*
 * optimize_nops() over @len bytes at @v (@k: known bits; @avail bytes
 * readable from @v): from the start, instruction by instruction, every run
 * of two or more single-byte NOPs becomes add_nops() of its length; it stops
 * where decoding fails.  With unknown bytes the kernel's decoding cannot be
 * followed: every run of known 0x90 is rewritten instead.
 */
static void optimize_nops(struct pvsub_decoder *d, uint8_t *v, uint8_t *k, size_t len, size_t avail)
{
	bool all_known = true;

	for (size_t i = 0; i < len; i++)
		all_known &= k[i] == 0xff;
	for (size_t i = 0; i < len;) {
		size_t step = 1;

		if (v[i] == 0x90 && k[i] == 0xff) {
			size_t j = i;
			while (j < len && v[j] == 0x90 && k[j] == 0xff)
				j++;
			if (j - i > 1) {
				struct wr w = {v + i, k + i, j - i, 0};
				add_nops(&w, j - i);
			}
			step = j - i;
		} else if (all_known) {
			struct pvsub_insn in;
			if (pvsub_decoder_decode(d, v + i, avail - i, 0, &in) < 0)
				return;
			step = in.len;
		}
		i += step;
	}
}

static void apply(struct pvsub_wverdict_ctx *c, const struct gwin *g, const struct variant *vr,
		  uint8_t *v, uint8_t *k, size_t at, size_t blen)
{
	size_t len = g->w->len;

	switch (vr->type) {
	case V_KEEP:
		return;
	case V_SWAP:
		if (k[at] == 0xff && (v[at] == 0xf0 || v[at] == 0x3e))
			v[at] = v[at] == 0xf0 ? 0x3e : 0xf0;
		else
			k[at] = 0;
		return;
	case V_WRITE:
	case V_WRITE_OPT:
		memcpy(v + at, c->pool + vr->at, len);
		memcpy(k + at, c->pool + vr->at + len, len);
		if (vr->type == V_WRITE)
			return;
		/* fall through */
	case V_NOPOPT:
		optimize_nops(c->dec, v + at, k + at, len, blen - at);
		return;
	}
}

/* 0: the pattern cannot match here; 1: it may, depending on unknown bits;
 * 2: it does, with known bits. */
static inline int match(const struct pvsub_pattern *p, const uint8_t *v, const uint8_t *k)
{
	int certain = 2;

	for (unsigned j = 0; j < p->len; j++) {
		if ((v[j] ^ p->value[j]) & p->mask[j] & k[j])
			return 0;
		if (p->mask[j] & (uint8_t)~k[j])
			certain = 1;
	}
	return certain;
}

static int add_hit(struct pvsub_wverdict_ctx *c, size_t pos, size_t pattern, size_t window,
		   const uint8_t *v, size_t len)
{
	if (c->n_hits == c->cap_hits) {
		size_t cap = c->cap_hits ? 2 * c->cap_hits : 16;
		struct pvsub_wverdict_hit *p = realloc(c->hits, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		c->hits = p;
		c->cap_hits = cap;
	}
	struct pvsub_wverdict_hit *h = &c->hits[c->n_hits++];
	memset(h, 0, sizeof(*h));
	h->pos = pos;
	h->pattern = pattern;
	h->window = window;
	memcpy(h->bytes, v, len);
	return 0;
}

/* The windows the kernel never writes (alt-replacement) of the region being
 * decided: their verdict is raised by every match over their bytes. */
struct fixed {
	const struct pvsub_mwindow *w;
	size_t *idx; /* among the region's windows, sorted by pos */
	size_t *pos;
	size_t n;
};

/* Raise the fixed windows that [a, e) overlaps to at least @want. */
static void raise_fixed(const struct fixed *fx, int64_t a, int64_t e, uint8_t want,
			uint8_t *verdicts)
{
	size_t lo = 0, hi = fx->n;

	/* no window is longer than PVSUB_MWINDOW_MAX_LEN */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((int64_t)fx->pos[mid] + (int64_t)PVSUB_MWINDOW_MAX_LEN <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < fx->n && (int64_t)fx->pos[i] < e; i++) {
		int64_t we = (int64_t)fx->pos[i] + fx->w[fx->idx[i]].len;
		if (we > a && verdicts[fx->idx[i]] < want)
			verdicts[fx->idx[i]] = want;
	}
}

struct group {
	const struct fixed *fx;
	struct gwin g[MAX_GROUP];
	size_t n;
	unsigned order[MAX_GROUP];
	int64_t base; /* region position of buf[0] */
	size_t blen;
	uint8_t *v0, *k0, *v, *k;
};

/* Try every pattern at every position of the buffer that overlaps a window
 * of the group, raising their verdicts; hits that the file lacks. */
static int try_combination(struct pvsub_wverdict_ctx *c, const struct pvsub_region *rg,
			   struct group *gr, uint8_t *verdicts)
{
	size_t np = pvsub_matcher_count(c->m);

	for (size_t s = 0; s < gr->blen; s++) {
		/* most positions cannot start any pattern */
		if (gr->k[s] == 0xff && !c->first[gr->v[s]])
			continue;
		for (size_t pi = 0; pi < np; pi++) {
			const struct pvsub_pattern *p = pvsub_matcher_pattern(c->m, pi);
			int64_t a = gr->base + (int64_t)s, e = a + p->len;
			size_t first = 0;
			bool any = false;
			int m;

			if (s + p->len > gr->blen)
				continue;
			m = match(p, gr->v + s, gr->k + s);
			if (!m)
				continue;
			for (size_t i = 0; i < gr->n; i++) {
				int64_t ws = (int64_t)gr->g[i].pos, we = ws + gr->g[i].w->len;
				if (a >= we || e <= ws)
					continue;
				if (!any)
					first = i;
				any = true;
				uint8_t want =
					m == 2 ? PVSUB_WVERDICT_STATIC : PVSUB_WVERDICT_RUNTIME;
				if (verdicts[gr->g[i].idx] < want)
					verdicts[gr->g[i].idx] = want;
			}
			if (!any)
				continue;
			raise_fixed(gr->fx, a, e,
				    m == 2 ? PVSUB_WVERDICT_STATIC : PVSUB_WVERDICT_RUNTIME,
				    verdicts);
			if (m != 2)
				continue;
			/* In the file's bytes already: the ordinary search's finding. */
			if (a >= 0 && (uint64_t)e <= rg->size &&
			    pvsub_pattern_matches(p, rg->bytes + a))
				continue;
			if (a < 0 || (uint64_t)e > rg->size)
				continue; /* reaches outside the region: unknown there */
			int r = add_hit(c, (size_t)a, pi, gr->g[first].idx, gr->v + s, p->len);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int cmp_order(const void *a, const void *b, void *arg);

/* The next combination of variant indices @idx (all of them, or with
 * @one_at_a_time those where at most one window is not at its variant 0,
 * the file's bytes); false after the last. */
static bool next_combination(const struct group *gr, size_t *idx, bool one_at_a_time)
{
	size_t i = 0;

	if (one_at_a_time) {
		while (i < gr->n && idx[i] == 0)
			i++;
		if (i == gr->n)
			i = 0; /* from all zeros: window 0's first variant */
		else if (++idx[i] < gr->g[i].n)
			return true;
		else
			idx[i++] = 0;
		while (i < gr->n && gr->g[i].n < 2)
			i++;
		if (i == gr->n)
			return false;
		idx[i] = 1;
		return true;
	}
	while (i < gr->n && ++idx[i] == gr->g[i].n)
		idx[i++] = 0;
	return i < gr->n;
}

static int decide_group(struct pvsub_wverdict_ctx *c, size_t region, struct group *gr,
			uint8_t *verdicts, size_t *over_budget)
{
	const struct pvsub_region *rg = pvsub_image_region(c->img, region);
	size_t combos = 1, idx[MAX_GROUP] = {0};
	int r;

	c->n_var = 0;
	c->pool_len = 0;
	for (size_t i = 0; i < gr->n; i++) {
		struct gwin *g = &gr->g[i];

		g->overlapped = false;
		for (size_t j = 0; j < gr->n; j++)
			g->overlapped |= j != i && gr->g[j].pos < g->pos + g->w->len &&
					 g->pos < gr->g[j].pos + gr->g[j].w->len;
	}
	for (size_t i = 0; i < gr->n; i++) {
		r = window_variants(c, region, &gr->g[i]);
		if (r < 0)
			return r;
		if (combos <= COMBO_BUDGET)
			combos *= gr->g[i].n;
	}
	/*
	 * Too many: every window is runtime, and only the combinations where
	 * one window is patched and the others keep the file's bytes are
	 * tried, so that what forms in them is still found (static).
	 */
	bool one_at_a_time = combos > COMBO_BUDGET;
	if (one_at_a_time) {
		for (size_t i = 0; i < gr->n; i++)
			if (verdicts[gr->g[i].idx] < PVSUB_WVERDICT_RUNTIME)
				verdicts[gr->g[i].idx] = PVSUB_WVERDICT_RUNTIME;
		*over_budget += gr->n;
	}
	/* the kernel's order: by kind, then by table entry */
	for (size_t i = 0; i < gr->n; i++)
		gr->order[i] = (unsigned)i;
	for (size_t i = 1; i < gr->n; i++)
		for (size_t j = i; j > 0 && cmp_order(&gr->order[j - 1], &gr->order[j], gr) > 0;
		     j--) {
			unsigned t = gr->order[j];
			gr->order[j] = gr->order[j - 1];
			gr->order[j - 1] = t;
		}
	for (;;) {
		memcpy(gr->v, gr->v0, gr->blen);
		memcpy(gr->k, gr->k0, gr->blen);
		for (size_t o = 0; o < gr->n; o++) {
			const struct gwin *g = &gr->g[gr->order[o]];
			apply(c, g, &c->var[g->first + idx[gr->order[o]]], gr->v, gr->k,
			      (size_t)((int64_t)g->pos - gr->base), gr->blen);
		}
		r = try_combination(c, rg, gr, verdicts);
		if (r < 0)
			return r;
		if (!next_combination(gr, idx, one_at_a_time))
			break;
	}
	return 0;
}

static int cmp_order(const void *a, const void *b, void *arg)
{
	const struct group *gr = arg;
	const struct gwin *x = &gr->g[*(const unsigned *)a], *y = &gr->g[*(const unsigned *)b];

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->w->table_off != y->w->table_off)
		return x->w->table_off < y->w->table_off ? -1 : 1;
	return 0;
}

static int cmp_hit(const void *a, const void *b)
{
	const struct pvsub_wverdict_hit *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return (x->pattern > y->pattern) - (x->pattern < y->pattern);
}

/* Whether a pattern can form over fixed window @k as the file has it (with
 * its unknown bits): static, runtime or cannot-form into verdicts. */
static int decide_fixed(struct pvsub_wverdict_ctx *c, size_t region, const struct fixed *fx,
			size_t k, uint8_t *verdicts)
{
	size_t ctx = c->maxlen - 1, len = fx->w[fx->idx[k]].len, blen = len + 2 * ctx;
	int64_t base = (int64_t)fx->pos[k] - (int64_t)ctx;
	size_t np = pvsub_matcher_count(c->m);
	uint8_t *buf = malloc(2 * blen);
	int r;

	if (!buf)
		return -ENOMEM;
	r = fill_bytes(c->img, region, base, blen, buf, buf + blen);
	for (size_t pi = 0; r == 0 && pi < np; pi++) {
		const struct pvsub_pattern *p = pvsub_matcher_pattern(c->m, pi);

		for (size_t s = 0; s + p->len <= blen; s++) {
			/* only positions that overlap the window */
			if (s + p->len <= ctx || s >= ctx + len)
				continue;
			int m = match(p, buf + s, buf + blen + s);
			uint8_t want = m == 2 ? PVSUB_WVERDICT_STATIC : PVSUB_WVERDICT_RUNTIME;
			if (m && verdicts[fx->idx[k]] < want)
				verdicts[fx->idx[k]] = want;
		}
	}
	free(buf);
	return r;
}

/* Decide the windows @mi[i..j) of the region as one group, their bytes
 * from @base, @blen long. */
static int run_group(struct pvsub_wverdict_ctx *c, size_t region, const struct pvsub_mwindow *w,
		     const size_t *mi, size_t i, size_t j, int64_t base, size_t blen,
		     struct group *gr, uint8_t *verdicts, size_t *over_budget)
{
	const struct pvsub_region *rg = pvsub_image_region(c->img, region);
	int r;

	gr->n = j - i;
	for (size_t k = i; k < j; k++) {
		struct gwin *g = &gr->g[k - i];
		g->w = &w[mi[k]];
		g->idx = mi[k];
		g->pos = (size_t)(w[mi[k]].offset - (uint64_t)rg->origin);
		g->rank = kind_rank(w[mi[k]].kind);
	}
	gr->base = base;
	gr->blen = blen;
	uint8_t *buf = malloc(4 * gr->blen);
	if (!buf)
		return -ENOMEM;
	gr->v0 = buf;
	gr->k0 = buf + gr->blen;
	gr->v = buf + 2 * gr->blen;
	gr->k = buf + 3 * gr->blen;
	r = fill_bytes(c->img, region, gr->base, gr->blen, gr->v0, gr->k0);
	if (r == 0)
		r = decide_group(c, region, gr, verdicts, over_budget);
	free(buf);
	return r;
}

/*
 * Windows closer than a pattern's length to each other, from @i of the @nm
 * mutable ones @mi: decided together.  The index after the group into
 * *@next.  A chain of more than MAX_GROUP windows is runtime throughout,
 * and each of its windows is tried patched alone, the others keeping the
 * file's bytes, so that what forms there is still found.
 */
static int one_group(struct pvsub_wverdict_ctx *c, size_t region, const struct pvsub_mwindow *w,
		     const size_t *mi, size_t nm, size_t i, struct group *gr, uint8_t *verdicts,
		     size_t *over_budget, size_t *next)
{
	const struct pvsub_region *rg = pvsub_image_region(c->img, region);
	size_t ctx = c->maxlen - 1, j = i + 1;
	int64_t end = (int64_t)(w[mi[i]].offset - (uint64_t)rg->origin) + w[mi[i]].len;
	int r = 0;

	while (j < nm && (int64_t)(w[mi[j]].offset - (uint64_t)rg->origin) < end + (int64_t)ctx) {
		int64_t e = (int64_t)(w[mi[j]].offset - (uint64_t)rg->origin) + w[mi[j]].len;
		end = e > end ? e : end;
		j++;
	}
	*next = j;
	if (j - i <= MAX_GROUP) {
		int64_t base = (int64_t)(w[mi[i]].offset - (uint64_t)rg->origin) - (int64_t)ctx;
		return run_group(c, region, w, mi, i, j, base, (size_t)(end + (int64_t)ctx - base),
				 gr, verdicts, over_budget);
	}
	for (size_t k = i; r == 0 && k < j; k++) {
		int64_t pos = (int64_t)(w[mi[k]].offset - (uint64_t)rg->origin);
		size_t alone = 0;

		r = run_group(c, region, w, mi, k, k + 1, pos - (int64_t)ctx,
			      w[mi[k]].len + 2 * ctx, gr, verdicts, &alone);
		if (verdicts[mi[k]] < PVSUB_WVERDICT_RUNTIME)
			verdicts[mi[k]] = PVSUB_WVERDICT_RUNTIME;
	}
	*over_budget += j - i;
	return r;
}

static int decide_region(struct pvsub_wverdict_ctx *c, size_t region, const struct pvsub_mwindow *w,
			 size_t n, uint8_t *verdicts, size_t *over_budget)
{
	const struct pvsub_region *rg = pvsub_image_region(c->img, region);
	size_t *mi = malloc(3 * n * sizeof(*mi)), nm = 0;
	struct fixed fx = {.w = w};
	struct group *gr = calloc(1, sizeof(*gr));
	int r = 0;

	if (!mi || !gr) {
		free(mi);
		free(gr);
		return -ENOMEM;
	}
	fx.idx = mi + n;
	fx.pos = mi + 2 * n;
	for (size_t i = 0; i < n; i++) {
		if (w[i].kind == PVSUB_WINDOW_ALT_REPLACEMENT) {
			fx.idx[fx.n] = i;
			fx.pos[fx.n++] = (size_t)(w[i].offset - (uint64_t)rg->origin);
		} else {
			mi[nm++] = i;
		}
	}
	for (size_t k = 0; r == 0 && k < fx.n; k++)
		r = decide_fixed(c, region, &fx, k, verdicts);
	gr->fx = &fx;
	for (size_t i = 0; r == 0 && i < nm;)
		r = one_group(c, region, w, mi, nm, i, gr, verdicts, over_budget, &i);
	free(gr);
	free(mi);
	return r;
}

int pvsub_wverdict_region(struct pvsub_wverdict_ctx *c, size_t region, uint8_t *verdicts, size_t n,
			  struct pvsub_wverdict_hit **hits, size_t *nhits, size_t *over_budget)
{
	const struct pvsub_mwindow *w;
	size_t nw;
	int r;

	*hits = NULL;
	*nhits = 0;
	if (region >= pvsub_image_region_count(c->img))
		return -EINVAL;
	r = pvsub_image_mutable_windows(c->img, region, &w, &nw);
	if (r < 0)
		return r;
	if (nw != n)
		return -EINVAL;
	if (!c->repl_built) {
		r = build_repl(c);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n; i++)
		verdicts[i] = PVSUB_WVERDICT_CANNOT_FORM;
	if (n == 0 || c->maxlen == 0)
		return 0;
	c->n_hits = 0;
	r = decide_region(c, region, w, n, verdicts, over_budget);
	if (r < 0)
		return r;
	if (c->n_hits) {
		qsort(c->hits, c->n_hits, sizeof(*c->hits), cmp_hit);
		size_t u = 0;
		for (size_t i = 0; i < c->n_hits; i++)
			if (u == 0 || cmp_hit(&c->hits[u - 1], &c->hits[i]) != 0)
				c->hits[u++] = c->hits[i];
		*hits = malloc(u * sizeof(**hits));
		if (!*hits)
			return -ENOMEM;
		memcpy(*hits, c->hits, u * sizeof(**hits));
		*nhits = u;
	}
	return 0;
}
