/* SPDX-License-Identifier: MIT */
/*
 * The rewriter (see rewrite.h for the rules and what is refused).
 *
 * Model: each executable section is a list of units, one per original
 * instruction.  A unit may get NOP padding in front of it, a replacement
 * sequence (a rule), or a longer branch form; everything else about it is
 * copied.  Two maps take an original offset to the output:
 *
 *   map_start(x)  where the instruction that started at x starts now (after
 *                 its padding): branch targets, symbols, table entries;
 *   map_pad(x)    where its padding starts: ends of ranges (symbol sizes)
 *                 and ORC entries, whose state already holds for the padding
 *                 that follows the previous instruction.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/kmeta.h"
#include "libpvsub/relobj.h"
#include "libpvsub/reloc.h"
#include "libpvsub/rewrite.h"
#include "libpvsub/rewrite_internal.h"
#include "libpvsub/x86enc.h"
#include "libpvsub/certify.h"

#define MAX_ROUNDS 32
#define MAX_PAD 1024
/* A jump island is `jmp rel32`; a branch goes through one rather than be
 * padded by more than ISLAND_OVER bytes, and an island's own int3 padding
 * (varied until neither displacement holds a pattern) stays below
 * ISLAND_MAX_PAD. */
#define ISLAND_LEN 5
#define ISLAND_OVER 16
#define ISLAND_MAX_PAD 1024
/* ... and below HOP_MAX_PAD behind a hop, whose jmp rel8 must clear it. */
#define HOP_MAX_PAD (127 - ISLAND_LEN)

const char *const pvsub_rewrite_rules[] = {
	[RULE_NOP_SPLIT] = "nop-split",
	[RULE_REL_ADJUST] = "rel-adjust",
	[RULE_IMM_LEA] = "imm-lea",
	[RULE_TRAP] = "trap",
	[RULE_ALU_SPLIT] = "alu-split",
	[RULE_DISP_REBASE] = "disp-rebase",
	[RULE_SP_REBASE] = "sp-rebase",
	[RULE_SCRATCH] = "scratch",
	[RULE_LEA_ARITH] = "lea-arith",
	[RULE_SCRATCH_DISP] = "scratch-disp",
	[RULE_CALL_R11] = "call-r11",
	[RULE_INT3_TAIL] = "int3-tail",
	[RULE_LOAD_DEST] = "load-dest",
	[RULE_BP_REBASE] = "bp-rebase",
	[RULE_PUSH_IMM] = "push-imm",
	[RULE_PUSH_MEM] = "push-mem",
	[RULE_AND_BTR] = "and-btr",
	[RULE_JUMP_ISLAND] = "jump-island",
	[RULE_NONE] = NULL,
};

/* --- results ---------------------------------------------------------------- */

/* Is the refusal just made (the last) the same as the one before it, made
 * in the same round of one section (w->dedup_from on)?  A round may meet
 * one cause many times (each occurrence in padding that may not grow,
 * say): it is reported once.  Only within a round, whose first refusal
 * counts for it: a step that asks whether it refused anything still sees
 * its own. */
static bool same_as_last_refusal(const struct rw *w, const struct pvsub_rewrite_result *res)
{
	if (res->n_refusals < 2 || res->n_refusals - 2 < w->dedup_from)
		return false;
	const struct pvsub_rewrite_refusal *a = &res->refusals[res->n_refusals - 2];
	const struct pvsub_rewrite_refusal *b = &res->refusals[res->n_refusals - 1];
	return a->offset == b->offset && a->pattern == b->pattern &&
	       strcmp(a->section, b->section) == 0 && strcmp(a->reason, b->reason) == 0;
}

static _printf_format_(4, 5) void refuse(struct rw *w, const char *section, uint64_t offset,
					 const char *fmt, ...)
{
	struct pvsub_rewrite_result *res = w->res;
	if (res->n_refusals == w->refusals_cap) {
		size_t cap = w->refusals_cap ? 2 * w->refusals_cap : 8;
		void *p = realloc(res->refusals, cap * sizeof(*res->refusals));
		if (!p) {
			w->err = -ENOMEM;
			return;
		}
		res->refusals = p;
		w->refusals_cap = cap;
	}
	struct pvsub_rewrite_refusal *f = &res->refusals[res->n_refusals];
	f->section = strdup(section);
	if (!f->section) {
		w->err = -ENOMEM;
		return;
	}
	pvsub_one_line(f->section);
	f->offset = offset;
	f->pattern = w->pattern;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->reason, sizeof(f->reason), fmt, ap);
	va_end(ap);
	pvsub_one_line(f->reason);
	res->n_refusals++;
	if (same_as_last_refusal(w, res))
		free(res->refusals[--res->n_refusals].section);
}

static struct pvsub_rewrite_site *new_site(struct rw *w, const struct rw_sect *s)
{
	struct pvsub_rewrite_result *res = w->res;
	if (res->n_sites == w->sites_cap) {
		size_t cap = w->sites_cap ? 2 * w->sites_cap : 16;
		void *p = realloc(res->sites, cap * sizeof(*res->sites));
		if (!p) {
			w->err = -ENOMEM;
			return NULL;
		}
		res->sites = p;
		w->sites_cap = cap;
	}
	struct pvsub_rewrite_site *site = &res->sites[res->n_sites];
	memset(site, 0, sizeof(*site));
	site->section = strdup(s->name);
	if (!site->section) {
		w->err = -ENOMEM;
		return NULL;
	}
	pvsub_one_line(site->section);
	res->n_sites++;
	return site;
}

void pvsub_rewrite_result_free(struct pvsub_rewrite_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_sites; i++)
		free(r->sites[i].section);
	for (size_t i = 0; i < r->n_refusals; i++)
		free(r->refusals[i].section);
	free(r->sites);
	free(r->refusals);
	free(r->data);
	pvsub_scan_result_free(r->scan);
	free(r);
}

/* --- little-endian fields ---------------------------------------------------- */

int64_t rw_get_sle(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	if (size < 8 && (v >> (8 * size - 1)) & 1)
		v |= ~0ull << (8 * size);
	return (int64_t)v;
}

void rw_put_le(uint8_t *p, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

bool rw_fits(int64_t v, unsigned size)
{
	if (size >= 8)
		return true;
	int64_t lim = (int64_t)1 << (8 * size - 1);
	return v >= -lim && v < lim;
}

/* --- relocations --------------------------------------------------------------- */

/*
 * The rewriter's rule for relocation types (reloc.h): it moves and
 * re-biases only the types marked rewritable.  Any other type, unknown ones
 * included, has no field the rewriter may assume: check_relocations()
 * refuses it inside code to rewrite, fix_relocation() refuses it when it
 * refers into such code, and an occurrence it overlaps is not left to the
 * loader (judged_at_load()), so that its section is rewritten and refused.
 */
static const struct pvsub_reloc_type *rw_reloc(uint32_t type)
{
	return pvsub_reloc_rewritable(type);
}

/* Bytes a relocation the rewriter can move writes; 0 for R_X86_64_NONE
 * and for every type it cannot move (see rw_reloc()). */
static unsigned reloc_size(uint32_t type)
{
	const struct pvsub_reloc_type *t = rw_reloc(type);
	return t ? t->size : 0;
}

static bool reloc_pc_relative(uint32_t type)
{
	const struct pvsub_reloc_type *t = rw_reloc(type);
	return t && t->pc_relative && !t->got;
}

static bool reloc_got(uint32_t type)
{
	const struct pvsub_reloc_type *t = rw_reloc(type);
	return t && t->got;
}

/* --- units ----------------------------------------------------------------------- */

/* The unit that contains input offset @x, or n. */
size_t rw_unit_at(const struct rw_sect *s, uint64_t x)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->u[mid].off + s->u[mid].in.len <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->u[lo].off <= x ? lo : s->n;
}

/* The unit whose output bytes (padding included) contain output offset @p. */
static size_t unit_at_new(const struct rw_sect *s, uint64_t p)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rw_unit *u = &s->u[mid];
		if (u->nstart + u->lay_pad + u->lay_len <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t insn_start(const struct rw_unit *u)
{
	return u->nstart + u->lay_pad;
}

/* The unit's bytes are the input's, at the same positions. */
static bool same_shape(const struct rw_unit *u)
{
	return u->rule == RULE_NONE && !u->long_form;
}

/* map_start / map_pad (see the top of the file); false when @x is inside an
 * instruction whose shape changed, or outside the section. */
static bool map_offset(const struct rw_sect *s, uint64_t x, bool pad, uint64_t *out)
{
	if (x == s->size) {
		*out = s->code_end; /* jump islands and the int3 tail belong to no code */
		return true;
	}
	size_t i = rw_unit_at(s, x);
	if (i == s->n)
		return false;
	const struct rw_unit *u = &s->u[i];
	if (x == u->off) {
		*out = pad ? u->nstart : insn_start(u);
		/* A near island in front counts as padding (see rw_island). */
		if (pad && i > 0 && s->u[i - 1].near)
			*out = s->isl[s->u[i - 1].near - 1].nstart;
		return true;
	}
	if (!same_shape(u))
		return false;
	*out = insn_start(u) + (x - u->off);
	return true;
}

static unsigned rel_field_offset(const struct rw_unit *u)
{
	return u->rk == REL_RIP ? (unsigned)u->in.disp_offset : (unsigned)u->in.imm_offset;
}

static unsigned rel_field_size(const struct rw_unit *u)
{
	if (u->rk == REL_RIP)
		return u->in.disp_size;
	return u->long_form ? 4 : u->in.imm_size;
}

static enum rw_rel_kind classify_rel(const uint8_t *b, const struct pvsub_insn *in)
{
	const uint8_t *op = b + in->opcode_offset;
	if (in->modrm_offset >= 0 && in->disp_size == 4 && in->sib_offset < 0 &&
	    (b[in->modrm_offset] & 0xc7) == 0x05)
		return REL_RIP;
	/* Only capstone's branch groups: VEX shifts share opcodes 70-7f. */
	if (!in->is_branch || in->imm_offset < 0)
		return REL_NONE;
	if (in->opcode_len == 1) {
		if (op[0] == 0xeb || op[0] == 0xe9)
			return REL_JMP;
		if (op[0] == 0xe8)
			return REL_CALL;
		if (op[0] >= 0x70 && op[0] <= 0x7f)
			return REL_JCC;
		if (op[0] >= 0xe0 && op[0] <= 0xe3)
			return REL_LOOP;
		if (op[0] == 0xc7 && in->modrm_offset >= 0 && b[in->modrm_offset] == 0xf8)
			return REL_OTHER; /* xbegin */
	}
	if (in->opcode_len == 2 && op[0] == 0x0f && op[1] >= 0x80 && op[1] <= 0x8f)
		return REL_JCC;
	return REL_NONE;
}

static int decode_section(struct rw *w, struct rw_sect *s, bool must)
{
	size_t cap = s->size / 3 + 16;
	s->u = malloc(cap * sizeof(*s->u));
	if (!s->u)
		return -ENOMEM;
	for (uint64_t at = 0; at < s->size;) {
		if (s->n == cap) {
			cap *= 2;
			void *p = realloc(s->u, cap * sizeof(*s->u));
			if (!p)
				return -ENOMEM;
			s->u = p;
		}
		struct rw_unit *u = &s->u[s->n];
		memset(u, 0, sizeof(*u));
		u->off = at;
		u->rule = RULE_NONE;
		if (pvsub_decoder_decode(w->opts->decoder, s->in + at, s->size - at, at, &u->in) <
		    0) {
			if (must)
				refuse(w, s->name, at,
				       "bytes that do not decode as instructions (data in code?): "
				       "the section cannot be rewritten");
			return 0;
		}
		u->rk = classify_rel(s->in + at, &u->in);
		u->reloc_at = -1;
		u->fld_old = -1;
		if (u->rk != REL_NONE && u->rk != REL_RIP)
			u->target = (int64_t)(at + u->in.len) +
				    rw_get_sle(s->in + at + u->in.imm_offset, u->in.imm_size);
		else if (u->rk == REL_RIP)
			u->target = (int64_t)(at + u->in.len) +
				    rw_get_sle(s->in + at + u->in.disp_offset, 4);
		u->enc_len = u->in.len;
		at += u->in.len;
		s->n++;
	}
	s->decoded = true;
	return 0;
}

/* Every function symbol of the section must start on an instruction. */
static void check_symbols(struct rw *w, struct rw_sect *s)
{
	size_t n = pvsub_relobj_sym_count(w->o);
	for (size_t k = 1; k < n; k++) {
		Elf64_Sym sym;
		pvsub_relobj_sym_get(w->o, k, &sym);
		if (sym.st_shndx != s->idx || ELF64_ST_TYPE(sym.st_info) == STT_SECTION)
			continue;
		if (sym.st_value == s->size)
			continue;
		size_t i = rw_unit_at(s, sym.st_value);
		if (i == s->n || s->u[i].off != sym.st_value)
			refuse(w, s->name, sym.st_value,
			       "symbol %s does not start on an instruction boundary",
			       pvsub_relobj_symbol_name(w->o, &sym));
	}
}

/* Relocations of a section to rewrite must be whole displacement or
 * immediate fields of its instructions. */
static void check_relocations(struct rw *w, struct rw_sect *s)
{
	if (!s->rela)
		return;
	size_t n = pvsub_relobj_rela_count(w->o, s->rela);
	for (size_t k = 0; k < n; k++) {
		Elf64_Rela ra;
		pvsub_relobj_rela_get(w->o, s->rela, k, &ra);
		unsigned size = reloc_size(ELF64_R_TYPE(ra.r_info));
		size_t i = rw_unit_at(s, ra.r_offset);
		/* The module loader ignores R_X86_64_NONE; it is carried along
		 * (fix_relocation) but constrains nothing. */
		if (ELF64_R_TYPE(ra.r_info) == R_X86_64_NONE)
			continue;
		if (size == 0) {
			refuse(w, s->name, ra.r_offset, "relocation type %u is not supported",
			       (unsigned)ELF64_R_TYPE(ra.r_info));
			continue;
		}
		if (i == s->n) {
			refuse(w, s->name, ra.r_offset, "relocation outside the section's code");
			continue;
		}
		struct rw_unit *u = &s->u[i];
		unsigned at = (unsigned)(ra.r_offset - u->off);
		bool disp = u->in.disp_offset >= 0 && at == (unsigned)u->in.disp_offset &&
			    size == u->in.disp_size;
		bool imm = u->in.imm_offset >= 0 && at == (unsigned)u->in.imm_offset &&
			   size == u->in.imm_size;
		if (!disp && !imm) {
			refuse(w, s->name, ra.r_offset,
			       "relocation is not the displacement or immediate of `%s%s%s`",
			       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
			continue;
		}
		u->reloc_at = u->has_reloc ? -2 : (int8_t)at;
		u->has_reloc = true;
		if (u->rk != REL_NONE && at == rel_field_offset(u))
			u->rel_has_reloc = true;
	}
}

/* Is @mw the lock prefix that starts an instruction of @s (.smp_locks: the
 * kernel turns it into a ds prefix on one CPU)?  That byte must stay in
 * front of its instruction, but the instruction may move, and be part of a
 * rule's sequence that copies it whole. */
static bool lock_prefix_window(const struct rw_sect *s, const struct pvsub_mwindow *mw)
{
	if (mw->kind != PVSUB_WINDOW_SMP_LOCK || mw->len != 1 || s->in[mw->offset] != 0xf0)
		return false;
	size_t i = rw_unit_at(s, mw->offset);
	return i < s->n && s->u[i].off == mw->offset;
}

static void mark_windows(struct rw *w, struct rw_sect *s)
{
	for (size_t k = 0; k < w->n_win; k++) {
		const struct pvsub_mwindow *mw = &w->win[k];
		if (mw->section != s->idx)
			continue;
		if (lock_prefix_window(s, mw)) {
			s->u[rw_unit_at(s, mw->offset)].lock_site = true;
			continue;
		}
		for (size_t i = rw_unit_at(s, mw->offset); i < s->n; i++) {
			struct rw_unit *u = &s->u[i];
			if (u->off >= mw->offset + mw->len)
				break;
			u->fixed = true;
			if (u->off > mw->offset)
				u->no_pad = true;
		}
	}
}

/* Instructions whose faults __ex_table catches must stay one instruction. */
static void mark_exception_sites(struct rw *w, struct rw_sect *s)
{
	size_t tab = pvsub_relobj_find(w->o, "__ex_table");
	size_t rs = tab ? pvsub_relobj_rela_for(w->o, tab) : 0;
	size_t n = rs ? pvsub_relobj_rela_count(w->o, rs) : 0;
	for (size_t k = 0; k < n; k++) {
		Elf64_Rela ra;
		Elf64_Sym sym;
		pvsub_relobj_rela_get(w->o, rs, k, &ra);
		size_t symi = ELF64_R_SYM(ra.r_info);
		if (ra.r_offset % 12 != 0 || symi == 0 || symi >= pvsub_relobj_sym_count(w->o))
			continue;
		pvsub_relobj_sym_get(w->o, symi, &sym);
		if (sym.st_shndx != s->idx)
			continue;
		size_t i = rw_unit_at(s, sym.st_value + (uint64_t)ra.r_addend);
		if (i < s->n)
			s->u[i].one_insn = true;
	}
}

static void check_targets(struct rw *w, struct rw_sect *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct rw_unit *u = &s->u[i];
		if (u->rk == REL_NONE || u->rel_has_reloc)
			continue;
		if (u->target < 0 || (uint64_t)u->target > s->size) {
			refuse(w, s->name, u->off,
			       "`%s%s%s` reaches outside its section without a relocation",
			       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
			continue;
		}
		size_t t = rw_unit_at(s, (uint64_t)u->target);
		if ((uint64_t)u->target != s->size &&
		    (t == s->n || s->u[t].off != (uint64_t)u->target))
			refuse(w, s->name, u->off,
			       "`%s%s%s` points inside an instruction (code used as data?)",
			       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
	}
}

/* --- encodings ------------------------------------------------------------------- */

/* NOP padding of @len bytes in variant @v: 0 the long NOPs, 1 one-byte NOPs,
 * 2 66 90 pairs. */
static void emit_pad(uint8_t *p, unsigned len, unsigned v)
{
	while (len) {
		unsigned k;
		switch (v % 3) {
		case 0:
			k = len < PVSUB_X86ENC_NOP_MAX ? len : PVSUB_X86ENC_NOP_MAX;
			break;
		case 2:
			k = len >= 2 ? 2 : 1;
			break;
		default:
			k = 1;
			break;
		}
		pvsub_x86enc_nop(p, k);
		p += k;
		len -= k;
	}
}

struct hit_ctx {
	bool hit;
};

static int note_hit(void *data, size_t offset, size_t pattern)
{
	(void)offset;
	(void)pattern;
	((struct hit_ctx *)data)->hit = true;
	return 1;
}

bool rw_has_pattern(const struct rw *w, const uint8_t *p, size_t len)
{
	struct hit_ctx h = {false};
	(void)pvsub_matcher_search(w->opts->matcher, p, len, note_hit, &h);
	return h.hit;
}

/* The bytes in front of near island @is's padding: `jmp rel8` over the
 * padding and the island when it follows a unit that may fall through (a
 * hop), else none. */
static unsigned hop_len(const struct rw_island *is)
{
	return is->hop ? 2 : 0;
}

/* Where island @is's jmp starts, as last placed. */
static uint64_t island_jmp(const struct rw_island *is)
{
	return is->nstart + hop_len(is) + is->pad;
}

/* Island @is's bytes: its hop, its padding and its jmp. */
static unsigned island_size(const struct rw_island *is)
{
	return hop_len(is) + is->pad + ISLAND_LEN;
}

/* Where the relative field of unit @u leads in the current layout: its
 * target, or the jump island it goes through. */
static uint64_t rel_target(const struct rw_sect *s, const struct rw_unit *u)
{
	uint64_t tnew = 0;
	if (u->island) {
		return island_jmp(&s->isl[u->island - 1]);
	}
	(void)map_offset(s, (uint64_t)u->target, false, &tnew);
	return tnew;
}

/* Emit unit @u's instruction (not its padding) at @p; the displacement of
 * a relative field is computed from the current layout. */
static void emit_insn(const struct rw_sect *s, const struct rw_unit *u, uint8_t *p)
{
	const uint8_t *b = s->in + u->off;
	if (u->rule != RULE_NONE) {
		memcpy(p, u->seq, u->seq_len);
		return;
	}
	if (u->rk == REL_NONE || u->rel_has_reloc) {
		memcpy(p, b, u->in.len);
		return;
	}
	int64_t disp = (int64_t)rel_target(s, u) - (int64_t)(insn_start(u) + u->enc_len);
	if (u->long_form) {
		unsigned n = u->in.opcode_offset;
		memcpy(p, b, n);
		if (u->rk == REL_JMP) {
			p[n++] = 0xe9;
		} else {
			uint8_t cc = b[u->in.opcode_offset] & 0x0f;
			p[n++] = 0x0f;
			p[n++] = (uint8_t)(0x80 | cc);
		}
		rw_put_le(p + n, (uint64_t)disp, 4);
		return;
	}
	memcpy(p, b, u->in.len);
	rw_put_le(p + rel_field_offset(u), (uint64_t)disp, rel_field_size(u));
}

static void emit_unit(const struct rw_sect *s, const struct rw_unit *u, uint8_t *p)
{
	emit_pad(p, u->pad, u->padv);
	emit_insn(s, u, p + u->pad);
}

/* --- layout ---------------------------------------------------------------------- */

static void place(struct rw_sect *s)
{
	uint64_t pos = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct rw_unit *u = &s->u[i];
		u->nstart = pos;
		u->lay_pad = u->pad;
		u->lay_len = u->enc_len;
		pos += u->pad + u->enc_len;
		if (u->near) {
			struct rw_island *is = &s->isl[u->near - 1];
			is->nstart = pos;
			pos += island_size(is);
		}
	}
	s->code_end = pos;
	for (size_t k = 0; k < s->n_isl; k++) {
		if (s->isl[k].after < s->n)
			continue;
		s->isl[k].nstart = pos;
		pos += island_size(&s->isl[k]);
	}
	s->new_size = pos + s->tail;
}

static int64_t current_disp(const struct rw_sect *s, const struct rw_unit *u)
{
	return (int64_t)rel_target(s, u) - (int64_t)(insn_start(u) + u->enc_len);
}

static bool add_label_island(const struct rw *w, struct rw_sect *s, size_t i, int64_t target);
static bool label_target(const struct rw_sect *s, size_t i, int64_t *t);

/* Why a 2-byte jump label was refused: its target out of its reach, and no
 * island in reach whose bytes are clean. */
#define LABEL_OUT_OF_REACH                                                                         \
	"a 2-byte jump label here would no longer reach its target (the kernel writes jmp rel8 "   \
	"there), and no jump island can be placed in its reach"

/* Do the 2-byte jump labels of @s still reach their targets (or their
 * islands) as placed?  (Padding never takes them out of reach, but a rel8
 * branch promoted between a site and its target, a longer replacement, or
 * a jump island, may.)  One that does not gets a near island in reach
 * (add_label_island()).  1 when all reach, 0 when an island was added (lay
 * out again), -1 with a refusal. */
static int shorts_reach(struct rw *w, struct rw_sect *s)
{
	for (size_t q = 0; q < s->n_shorts; q++) {
		size_t i = s->shorts[q].unit;
		const struct rw_unit *u = &s->u[i];
		uint64_t t = 0;
		if (u->rk != REL_NONE)
			continue; /* a branch: layout() checks it */
		if (u->island)
			t = island_jmp(&s->isl[u->island - 1]);
		else
			(void)map_offset(s, (uint64_t)s->shorts[q].target, false, &t);
		if (rw_fits((int64_t)t - (int64_t)(insn_start(u) + u->enc_len), 1))
			continue;
		if (!u->island && s->shorts[q].label &&
		    add_label_island(w, s, i, s->shorts[q].target))
			return 0;
		refuse(w, s->name, u->off, LABEL_OUT_OF_REACH);
		return -1;
	}
	return 1;
}

/* Place the units, promoting rel8 branches that no longer reach until
 * nothing changes.  False (with a refusal) when a branch cannot grow, or a
 * 2-byte jump label no longer reaches its target. */
static bool layout(struct rw *w, struct rw_sect *s)
{
	for (;;) {
		place(s);
		bool changed = false;
		for (size_t i = 0; i < s->n; i++) {
			struct rw_unit *u = &s->u[i];
			int64_t lt;
			if (u->rk == REL_NONE || u->rel_has_reloc || u->rule != RULE_NONE ||
			    rw_fits(current_disp(s, u), rel_field_size(u)))
				continue;
			/* A 2-byte jump label that holds its jmp: through an
			 * island, as shorts_reach() does for the NOP. */
			if (u->fixed && !u->island && u->in.len == 2 && label_target(s, i, &lt) &&
			    add_label_island(w, s, i, lt)) {
				changed = true;
				continue;
			}
			if (u->long_form || u->fixed || (u->rk != REL_JMP && u->rk != REL_JCC) ||
			    u->in.imm_size != 1) {
				refuse(w, s->name, u->off,
				       "`%s%s%s` no longer reaches its target and cannot be made "
				       "longer%s",
				       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str,
				       u->fixed ? " (it is part of a patch site)" : "");
				return false;
			}
			u->long_form = true;
			u->enc_len = (uint8_t)(u->in.opcode_offset + (u->rk == REL_JMP ? 5 : 6));
			changed = true;
		}
		if (!changed) {
			int r = shorts_reach(w, s);
			if (r != 0)
				return r > 0;
		}
	}
}

static int emit_section(struct rw_sect *s)
{
	pvsub_buf_reset(&s->out);
	int r = pvsub_buf_reserve(&s->out, s->new_size + 1);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n; i++)
		emit_unit(s, &s->u[i], (uint8_t *)s->out.data + s->u[i].nstart);
	for (size_t k = 0; k < s->n_isl; k++) {
		const struct rw_island *is = &s->isl[k];
		uint8_t *p = (uint8_t *)s->out.data + is->nstart;
		uint64_t t = 0, at = island_jmp(is) + ISLAND_LEN;
		(void)map_offset(s, (uint64_t)is->target, false, &t);
		if (is->hop) { /* jmp rel8 over the rest */
			p[0] = 0xeb;
			p[1] = (uint8_t)(is->pad + ISLAND_LEN);
			p += 2;
		}
		memset(p, 0xcc, is->pad); /* never reached */
		p[is->pad] = 0xe9;
		rw_put_le(p + is->pad + 1, (uint64_t)((int64_t)t - (int64_t)at), 4);
	}
	memset((uint8_t *)s->out.data + s->new_size - s->tail, 0xcc, s->tail);
	s->out.len = s->new_size;
	return 0;
}

/* --- one round of removing occurrences ----------------------------------------------- */

struct occ {
	uint64_t pos;
	size_t pattern;
};

struct occ_list {
	struct occ *v;
	size_t n, cap;
};

static int collect_occ(void *data, size_t offset, size_t pattern)
{
	struct occ_list *l = data;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		void *p = realloc(l->v, cap * sizeof(*l->v));
		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = (struct occ){offset, pattern};
	return 0;
}

/* The occurrence overlaps a relocation window (judged at load time).  A
 * section being rewritten holds only relocations the rewriter can move
 * (check_relocations()), so their sizes are known here. */
static bool in_reloc_window(const struct rw *w, const struct rw_sect *s, uint64_t p, unsigned len)
{
	if (!s->rela)
		return false;
	size_t n = pvsub_relobj_rela_count(w->o, s->rela);
	for (size_t k = 0; k < n; k++) {
		Elf64_Rela ra;
		pvsub_relobj_rela_get(w->o, s->rela, k, &ra);
		uint64_t at;
		if (!map_offset(s, ra.r_offset, false, &at))
			continue;
		unsigned size = reloc_size(ELF64_R_TYPE(ra.r_info));
		if (at < p + len && p < at + size)
			return true;
	}
	return false;
}

/* The occurrence lies inside one mutable window (judged at load time). */
/*
 * Where the byte of instruction-start @x of @s that a kernel table points at
 * is now: the start of its instruction, or, for the lock prefix of an
 * instruction a rule copied into a sequence (@lock), that copy's prefix.
 * False as map_offset(), or when a lock prefix was not carried.
 */
static bool map_site(const struct rw_sect *s, uint64_t x, bool lock, uint64_t *out)
{
	size_t i = rw_unit_at(s, x);
	if (!lock || i == s->n || s->u[i].off != x || s->u[i].rule == RULE_NONE)
		return map_offset(s, x, false, out);
	const struct rw_unit *u = &s->u[i];
	if (u->insn_at < 0 || u->seq[u->insn_at] != 0xf0)
		return false;
	*out = insn_start(u) + (uint64_t)u->insn_at;
	return true;
}

static bool in_mutable_window(const struct rw *w, const struct rw_sect *s, uint64_t p, unsigned len)
{
	for (size_t k = 0; k < w->n_win; k++) {
		const struct pvsub_mwindow *mw = &w->win[k];
		uint64_t at;
		if (mw->section != s->idx ||
		    !map_site(s, mw->offset, mw->kind == PVSUB_WINDOW_SMP_LOCK, &at))
			continue;
		if (at <= p && p + len <= at + mw->len)
			return true;
	}
	return false;
}

static void field_names(const struct pvsub_insn *in, unsigned from, unsigned len, char *out,
			size_t outlen)
{
	out[0] = '\0';
	int last = -1;
	for (unsigned i = from; i < from + len && i < in->len; i++) {
		enum pvsub_x86_field f = pvsub_insn_field_at(in, i);
		if ((int)f == last)
			continue;
		size_t l = strlen(out);
		snprintf(out + l, outlen - l, "%s%s", l ? "+" : "", pvsub_x86_field_name(f));
		last = (int)f;
	}
}

/* Record what was done for an occurrence. */
static void record(struct rw *w, const struct rw_sect *s, size_t ui, const struct occ *oc,
		   unsigned len, unsigned round, enum pvsub_class cls, const char *field,
		   enum rw_rule rule)
{
	struct pvsub_rewrite_site *site = new_site(w, s);
	if (!site)
		return;
	const struct rw_unit *u = &s->u[ui];
	uint64_t rel = oc->pos >= insn_start(u) ? oc->pos - insn_start(u) : 0;
	site->offset = round == 0 ? oc->pos : u->off + rel;
	site->new_offset = ui; /* turned into an offset when the layout is final */
	site->pattern = pvsub_matcher_pattern(w->opts->matcher, oc->pattern)->id;
	site->cls = cls;
	snprintf(site->field, sizeof(site->field), "%s", field ? field : "");
	site->rule = pvsub_rewrite_rules[rule];
	site->round = round;
	site->len = (uint8_t)len;
	memcpy(site->bytes, s->out.data + oc->pos, len);
	site->insn_len = u->in.len;
	memcpy(site->insn, s->in + u->off, u->in.len);
}

/* A rel8 branch that cannot be made longer: part of a patch site, or
 * loop/jrcxz.  Padding may not push its target out of its reach. */
static bool short_for_good(const struct rw_unit *u)
{
	return u->rk != REL_NONE && u->rk != REL_RIP && !u->rel_has_reloc && !u->long_form &&
	       u->in.imm_size == 1 && (u->fixed || u->rk == REL_LOOP);
}

/* Bytes from the end of unit @from to the start of unit @to's instruction
 * (forward), as the units stand now; @to may be s->n (the section's end). */
static uint64_t span_bytes(const struct rw_sect *s, size_t from, size_t to)
{
	uint64_t n = 0;
	for (size_t m = from; m < to && m < s->n; m++) {
		if (m > from)
			n += s->u[m].pad + s->u[m].enc_len;
		if (s->u[m].near) /* a near island between */
			n += island_size(&s->isl[s->u[m].near - 1]);
	}
	return to < s->n ? n + s->u[to].pad : n;
}

/* ... for a short jump (unit @k) that reaches its target through the
 * near island @is: the island's start is what must stay in reach. */
static bool pad_breaks_label_island(const struct rw_sect *s, size_t k, const struct rw_island *is,
				    size_t j, unsigned by)
{
	size_t a = is->after;
	if (a >= k) /* forward: from the site's end to the island's jmp */
		return k < j && j <= a &&
		       span_bytes(s, k, a + 1) - s->u[a + 1].pad - ISLAND_LEN + by > 127;
	/* backward: from the island's jmp to the site's end */
	return a < j && j <= k &&
	       span_bytes(s, a, k) - hop_len(is) - is->pad + s->u[k].enc_len + by > 128;
}

/* Would @by more bytes of padding in front of unit @j take the target of
 * a short jump (struct rw_short) but the one of unit @skip out of its
 * reach? */
static bool pad_breaks_short_but(const struct rw_sect *s, size_t j, unsigned by, size_t skip)
{
	for (size_t q = 0; q < s->n_shorts; q++) {
		size_t k = s->shorts[q].unit;
		uint64_t tg = (uint64_t)s->shorts[q].target;
		const struct rw_unit *f = &s->u[k];
		size_t t = tg == s->size ? s->n : rw_unit_at(s, tg);
		if (k == skip)
			continue;
		if (f->island && s->isl[f->island - 1].after < s->n) {
			if (pad_breaks_label_island(s, k, &s->isl[f->island - 1], j, by))
				return true;
			continue;
		}
		if (t > k && k < j && j <= t && span_bytes(s, k, t) + by > 127)
			return true;
		/* backward: from the target's instruction to the branch's end */
		if (t < k && t < j && j <= k &&
		    s->u[t].enc_len + span_bytes(s, t, k) + f->enc_len + by > 128)
			return true;
	}
	return false;
}

static bool pad_breaks_short(const struct rw_sect *s, size_t j, unsigned by)
{
	return pad_breaks_short_but(s, j, by, s->n);
}

static int push_short(struct rw_sect *s, size_t unit, int64_t target, bool label)
{
	void *p = realloc(s->shorts, (s->n_shorts + 1) * sizeof(*s->shorts));
	if (!p)
		return -ENOMEM;
	s->shorts = p;
	s->shorts[s->n_shorts++] = (struct rw_short){unit, target, label};
	return 0;
}

/* A 2-byte jump-label window of @s that is one instruction and whose target
 * lies in @s: its unit, else s->n. */
static size_t jump_label_unit(const struct rw_sect *s, const struct pvsub_mwindow *mw)
{
	if (mw->section != s->idx || mw->kind != PVSUB_WINDOW_JUMP_LABEL || !mw->has_target ||
	    mw->target_section != s->idx || mw->target_offset > s->size)
		return s->n;
	size_t i = rw_unit_at(s, mw->offset);
	if (i == s->n || s->u[i].off != mw->offset || s->u[i].in.len != mw->len)
		return s->n;
	return i;
}

/* The short jumps of @s, once its windows are marked: short_for_good()
 * branches, and the 2-byte jump labels (the kernel refuses a jump label
 * whose rel8 does not reach). */
static int find_shorts(const struct rw *w, struct rw_sect *s)
{
	for (size_t k = 0; k < s->n; k++)
		if (short_for_good(&s->u[k]) && push_short(s, k, s->u[k].target, false) < 0)
			return -ENOMEM;
	for (size_t k = 0; k < w->n_win; k++) {
		size_t i = jump_label_unit(s, &w->win[k]);
		if (i < s->n && w->win[k].len == 2 &&
		    push_short(s, i, (int64_t)w->win[k].target_offset, true) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Grow (or vary) the padding in front of unit @i; false if it may not. */
static bool bump_pad(struct rw_sect *s, size_t i, unsigned by)
{
	struct rw_unit *u = &s->u[i];
	if (u->no_pad || u->pad + by > MAX_PAD || (by && pad_breaks_short(s, i, by)))
		return false;
	if (by == 0) {
		/* Vary first; grow when all variants were tried. */
		if (u->pad && ++u->padv % 3)
			return true;
		by = 1;
	}
	u->pad = (uint16_t)(u->pad + by);
	return true;
}

/* Is padding barred (a patch site) in front of a unit of @a + 1 .. @b? */
static bool no_pad_between(const struct rw_sect *s, size_t a, size_t b)
{
	for (size_t k = a + 1; k <= b && k < s->n; k++)
		if (s->u[k].no_pad)
			return true;
	return false;
}

static bool fix_spanning(struct rw_sect *s, size_t a, size_t b, uint64_t p)
{
	/* Padding in front of a later unit separates the bytes; padding that
	 * is itself part of the occurrence gets other NOPs first. */
	for (size_t k = a + 1; k <= b; k++)
		if (bump_pad(s, k, s->u[k].lay_pad ? 0 : 1))
			return true;
	/* The occurrence starts in a's own padding: vary it. */
	return p < insn_start(&s->u[a]) && bump_pad(s, a, 0);
}

/* Why padding was not put where it had to go, when a short jump would
 * lose its target: the end of a refusal. */
#define SHORT_REACH                                                                                \
	"padding would take the target of a short jump out of its reach (a 2-byte jump "           \
	"label, or a rel8 branch that cannot grow)"

/* Was padding of @by bytes in front of unit @k refused because a short
 * jump would lose its target? */
static bool short_blocks_at(const struct rw_sect *s, size_t k, unsigned by)
{
	return k < s->n && !s->u[k].no_pad && s->u[k].pad < MAX_PAD && pad_breaks_short(s, k, by);
}

/* ... anywhere between units @a and @b (nop-split)? */
static bool short_blocks(const struct rw_sect *s, size_t a, size_t b)
{
	for (size_t k = a + 1; k <= b && k < s->n; k++)
		if (short_blocks_at(s, k, 1))
			return true;
	return false;
}

/* ... anywhere fix_rel() would pad for unit @i (by however much: the
 * reach of a short jump limits the padding there)? */
static bool rel_blocked_by_short(const struct rw_sect *s, size_t i)
{
	const struct rw_unit *u = &s->u[i];
	size_t t = rw_unit_at(s, (uint64_t)u->target);
	if (u->island)
		return false;
	if ((uint64_t)u->target > u->off) {
		for (size_t j = (t < s->n ? t : s->n - 1); j > i; j--)
			if (short_blocks_at(s, j, 128))
				return true;
		return false;
	}
	for (size_t j = i; j > t && j < s->n; j--)
		if (short_blocks_at(s, j, 128))
			return true;
	return false;
}

/* The last instruction of @s never falls through to what follows the
 * section (defined with the int3 tail below). */
static bool ends_unconditionally(const struct rw *w, const struct rw_sect *s);
/* Unit @i of @s never falls through to the unit after it. */
static bool unit_ends_unconditionally(const struct rw *w, const struct rw_sect *s, size_t i);

/* May unit @u reach its target through a jump island at all?  A direct jmp,
 * jcc or call within the section, not part of a patch site, whose target
 * has an ORC entry for the island when the object has ORC tables. */
static bool island_kind_ok(const struct rw *w, const struct rw_sect *s, const struct rw_unit *u)
{
	return (u->rk == REL_JMP || u->rk == REL_JCC || u->rk == REL_CALL) && !u->rel_has_reloc &&
	       !u->fixed && !u->island && s->n_isl < 65536 &&
	       (!w->orc || rw_orc_entry_at(w, s->idx, (uint64_t)u->target));
}

/* ... through one after the section's last instruction, which must be an
 * unconditional jump (so the island is reached only by jumps)? */
static bool island_ok(const struct rw *w, const struct rw_sect *s, const struct rw_unit *u)
{
	return island_kind_ok(w, s, u) && ends_unconditionally(w, s);
}

/* The rel32 form of unit @u's branch, whatever its displacement, into @b;
 * its length. */
static unsigned rel32_form(const struct rw_sect *s, const struct rw_unit *u, uint8_t *b)
{
	unsigned len = u->long_form || u->in.imm_size == 4
			       ? u->enc_len
			       : u->in.opcode_offset + (u->rk == REL_JMP ? 5u : 6u);
	emit_insn(s, u, b);
	if (len != u->enc_len) {
		unsigned n = u->in.opcode_offset;
		if (u->rk == REL_JMP) {
			b[n] = 0xe9;
		} else {
			b[n + 1] = (uint8_t)(0x80 | (b[n] & 0x0f));
			b[n] = 0x0f;
		}
	}
	return len;
}

/* Does an FDE of @s cover both sides of input offset @x (so an island put
 * there would be inside its range, where no CFA row describes it)?  A
 * binary search for the last range that starts before @x: the greatest end
 * up to it (rw_sect.fde) says. */
static bool inside_fde(const struct rw_sect *s, uint64_t x)
{
	if (s->fde_unknown)
		return true;
	size_t lo = 0, hi = s->n_fde;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->fde[mid][0] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && x < s->fde[lo - 1][1];
}

/* May a near island stand right in front of unit @nx of @s, as far as the
 * input tells?  @nx may be moved (it starts inside no patch site), has an
 * ORC entry in force to restore after the island, and starts in no FDE's
 * range. */
static bool island_may_precede(const struct rw *w, const struct rw_sect *s,
			       const struct rw_unit *nx)
{
	return !nx->no_pad && !inside_fde(s, nx->off) &&
	       (!w->orc || rw_orc_entry_at(w, s->idx, nx->off));
}

/*
 * The units of @s a near island may follow as far as the input tells, into
 * s->spots: the unit never falls through, and the one after it is no
 * direct branch's target (the island is reached only by its own jumps) and
 * may have an island in front (island_may_precede()).  Once per section:
 * the search for a spot walks this list, not the section.  -ENOMEM.
 */
static int find_near_spots(const struct rw *w, struct rw_sect *s)
{
	bool *targeted = s->n ? calloc(s->n, sizeof(*targeted)) : NULL;
	if (s->n && !targeted)
		return -ENOMEM;
	for (size_t k = 0; k < s->n; k++) {
		const struct rw_unit *u = &s->u[k];
		if (u->rk == REL_NONE || u->rel_has_reloc || u->target < 0)
			continue;
		size_t t = rw_unit_at(s, (uint64_t)u->target);
		if (t < s->n)
			targeted[t] = true;
	}
	for (size_t a = 0; a + 1 < s->n; a++) {
		if (targeted[a + 1] || !unit_ends_unconditionally(w, s, a) ||
		    !island_may_precede(w, s, &s->u[a + 1]))
			continue;
		if (!s->spots && !(s->spots = malloc((s->n - 1) * sizeof(*s->spots)))) {
			free(targeted);
			return -ENOMEM;
		}
		s->spots[s->n_spots++] = a;
	}
	free(targeted);
	return 0;
}

/* The index in s->spots of the first spot at or after unit @i. */
static size_t first_spot_from(const struct rw_sect *s, size_t i)
{
	size_t lo = 0, hi = s->n_spots;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->spots[mid] < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The spots around unit @i, nearest first (ties: the one after it), for
 * the island searches: start with near_walk_init(), then near_walk_next()
 * gives the unit to try, or s->n when there is none left. */
struct near_walk {
	size_t lo, hi; /* the next spot below is lo - 1, above hi */
	size_t i;
};

static void near_walk_init(const struct rw_sect *s, size_t i, struct near_walk *nw)
{
	nw->i = i;
	nw->lo = nw->hi = first_spot_from(s, i);
}

static size_t near_walk_next(const struct rw_sect *s, struct near_walk *nw)
{
	bool up = nw->hi < s->n_spots;
	bool down = nw->lo > 0;
	if (up && down)
		up = s->spots[nw->hi] - nw->i <= nw->i - 1 - s->spots[nw->lo - 1];
	if (up)
		return s->spots[nw->hi++];
	if (down)
		return s->spots[--nw->lo];
	return s->n;
}

/* May a near island of @size bytes (hop, padding and jmp) follow unit @a
 * now?  No other island follows it, and the island would take no short
 * jump's target (but unit @skip's) out of reach. */
static bool near_spot_ok(const struct rw_sect *s, size_t a, unsigned size, size_t skip)
{
	return !s->u[a].near && !pad_breaks_short_but(s, a + 1, size, skip);
}

/* The least int3 padding, from 1, in front of a near island after unit @a
 * that leaves unit @i's branch to it (in rel32 form) and its jmp to the
 * target clean, judged on the current layout; 0 when there is none below
 * ISLAND_MAX_PAD. */
static unsigned near_fits(const struct rw *w, const struct rw_sect *s, size_t i, size_t a)
{
	const struct rw_unit *u = &s->u[i], *ua = &s->u[a];
	uint8_t b[PVSUB_X86_MAX_INSN], j[ISLAND_LEN] = {0xe9};
	unsigned len = rel32_form(s, u, b);
	int64_t grow = (int64_t)len - u->enc_len;
	int64_t at = (int64_t)(insn_start(ua) + ua->lay_len) + (a >= i ? grow : 0);
	int64_t end = (int64_t)insn_start(u) + len;
	uint64_t t = 0;
	(void)map_offset(s, (uint64_t)u->target, false, &t);
	int64_t tgt = (int64_t)t + ((uint64_t)u->target > u->off ? grow : 0);
	bool tg_after = (uint64_t)u->target > ua->off, br_after = i > a;
	for (int64_t p = 1; p < ISLAND_MAX_PAD; p++) {
		int64_t shift = p + ISLAND_LEN; /* of what follows the island */
		rw_put_le(b + len - 4, (uint64_t)(at + p - (end + (br_after ? shift : 0))), 4);
		rw_put_le(j + 1, (uint64_t)(tgt + (tg_after ? shift : 0) - (at + shift)), 4);
		if (!rw_has_pattern(w, b, len) && !rw_has_pattern(w, j, ISLAND_LEN))
			return (unsigned)p;
	}
	return 0;
}

/* How many spots a near island is judged at, nearest first. */
#define NEAR_TRIES 64

/*
 * jump-island: unit @i reaches its target through `jmp target` placed after
 * the section's last instruction, in rel32 form.  Both displacements change
 * with the island's int3 padding, which costs nothing where it is, so the
 * island is moved instead of padding code.  The island gets the ORC entry of
 * the target: no stack changes between a jump (or a call, which has pushed
 * its return address) and its target.
 */
static bool add_island(struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	void *p = realloc(s->isl, (s->n_isl + 1) * sizeof(*s->isl));
	if (!p)
		return false;
	s->isl = p;
	/* At least one int3 in front: the first island must not start where
	 * the section's code ends, where the ORC entry of what follows the
	 * last instruction (often the end-of-code entry) already is. */
	s->isl[s->n_isl++] =
		(struct rw_island){.target = u->target, .unit = i, .after = s->n, .pad = 1};
	u->island = (uint32_t)s->n_isl;
	if (!u->long_form && u->in.imm_size == 1) {
		u->long_form = true;
		u->enc_len = (uint8_t)(u->in.opcode_offset + (u->rk == REL_JMP ? 5 : 6));
	}
	return true;
}

/* Would an island for unit @i, placed now, have a clean branch and jmp
 * with less than ISLAND_MAX_PAD bytes of padding?  (Judged on the current
 * layout with the branch in its rel32 form.) */
static bool island_fits(const struct rw *w, const struct rw_sect *s, size_t i)
{
	const struct rw_unit *u = &s->u[i];
	uint8_t b[PVSUB_X86_MAX_INSN], j[ISLAND_LEN] = {0xe9};
	unsigned len = rel32_form(s, u, b);
	int64_t grow = (int64_t)len - u->enc_len, end = (int64_t)insn_start(u) + len;
	int64_t at = (int64_t)(s->new_size - s->tail) + grow; /* after the last island */
	uint64_t t = 0;
	(void)map_offset(s, (uint64_t)u->target, false, &t);
	int64_t tgt = (int64_t)t + ((uint64_t)u->target > u->off ? grow : 0);
	for (int64_t p = 1; p < ISLAND_MAX_PAD; p++) {
		rw_put_le(b + len - 4, (uint64_t)(at + p - end), 4);
		rw_put_le(j + 1, (uint64_t)(tgt - (at + p + ISLAND_LEN)), 4);
		if (!rw_has_pattern(w, b, len) && !rw_has_pattern(w, j, ISLAND_LEN))
			return true;
	}
	return false;
}

/*
 * Move island @k further (more int3 padding in front of it) by the least
 * that leaves both its branch, whose displacement grows, and its own jmp,
 * whose displacement back to the target shrinks, clean.  Islands after it
 * move too; their own displacements are judged again in the next round.
 */
static bool move_island(const struct rw *w, struct rw_sect *s, size_t k)
{
	struct rw_island *is = &s->isl[k];
	const struct rw_unit *u = &s->u[is->unit];
	int64_t disp = current_disp(s, u);
	uint64_t t = 0;
	(void)map_offset(s, (uint64_t)is->target, false, &t);
	int64_t back = (int64_t)t - (int64_t)(island_jmp(is) + ISLAND_LEN);
	unsigned foff = u->enc_len - 4u;
	/* A near island moves the code after it too: its branch and target
	 * when they lie there. */
	bool mid = is->after < s->n;
	bool br_after = mid && is->unit > is->after;
	bool tg_after = mid && (uint64_t)is->target > s->u[is->after].off;
	if (br_after && tg_after)
		return false;
	for (unsigned p = 1; is->pad + p <= (is->hop ? HOP_MAX_PAD : ISLAND_MAX_PAD); p++) {
		uint8_t b[PVSUB_X86_MAX_INSN], j[ISLAND_LEN] = {0xe9};
		if (mid && pad_breaks_short_but(s, is->after + 1, p, is->label ? is->unit : s->n))
			return false;
		rw_put_le(j + 1, (uint64_t)(back - (tg_after ? 0 : p)), 4);
		if (is->label) {
			/* A jump label's site: what the kernel writes there is
			 * judged by the rescan; its rel8 must reach the island. */
			if (!rw_fits(disp + (br_after ? 0 : p), 1))
				return false;
			if (rw_has_pattern(w, j, ISLAND_LEN))
				continue;
			is->pad = (uint16_t)(is->pad + p);
			return true;
		}
		emit_insn(s, u, b);
		rw_put_le(b + foff, (uint64_t)(disp + (br_after ? 0 : p)), 4);
		if (!rw_has_pattern(w, b, u->enc_len) && !rw_has_pattern(w, j, ISLAND_LEN)) {
			is->pad = (uint16_t)(is->pad + p);
			return true;
		}
	}
	return false;
}

/*
 * jump-island, near: when no padding can clean unit @i's displacement and
 * no island may follow the section's end, an island right after the
 * nearest instruction that never falls through (near_spot_ok()) whose
 * padding leaves both jumps clean.  Its ORC entries: the target's on the
 * island, the one in force before it again after it.
 */
static bool add_near_island(const struct rw *w, struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	if (!island_kind_ok(w, s, u))
		return false;
	struct near_walk nw;
	near_walk_init(s, i, &nw);
	for (unsigned tries = 0; tries < NEAR_TRIES;) {
		size_t a = near_walk_next(s, &nw);
		if (a == s->n)
			return false;
		if (s->u[a].near)
			continue; /* taken: costs nothing to pass */
		tries++;
		unsigned pad = near_fits(w, s, i, a);
		if (!pad || !near_spot_ok(s, a, pad + ISLAND_LEN, s->n))
			continue;
		void *p = realloc(s->isl, (s->n_isl + 1) * sizeof(*s->isl));
		if (!p)
			return false;
		s->isl = p;
		s->isl[s->n_isl++] = (struct rw_island){
			.target = u->target, .unit = i, .after = a, .pad = (uint16_t)pad};
		u->island = (uint32_t)s->n_isl;
		s->u[a].near = (uint32_t)s->n_isl;
		if (!u->long_form && u->in.imm_size == 1) {
			u->long_form = true;
			u->enc_len = (uint8_t)(u->in.opcode_offset + (u->rk == REL_JMP ? 5 : 6));
		}
		return true;
	}
	return false;
}

/* A jump label's island as add_label_island() judges a place for it: the
 * site's end and the target (output offsets, as placed), and whether it
 * gets a hop. */
struct label_place {
	size_t i;
	int64_t end, t, target;
	bool hop;
};

/* The least int3 padding, from 1, in front of a near island after unit @a
 * (behind a hop when lp->hop) whose jmp to the target is clean and starts
 * within rel8 reach of the site's end; 0 when there is none.  The site's
 * end moves with the island when the island is in front of it, and so does
 * the target. */
static unsigned label_island_pad(const struct rw *w, const struct rw_sect *s, size_t a,
				 const struct label_place *lp)
{
	const struct rw_unit *ua = &s->u[a];
	int64_t after = (int64_t)(insn_start(ua) + ua->lay_len), h = lp->hop ? 2 : 0;
	bool tg_after = (uint64_t)lp->target > ua->off;
	for (int64_t p = 1; p < (lp->hop ? HOP_MAX_PAD + 1 : ISLAND_MAX_PAD); p++) {
		int64_t shift = h + p + ISLAND_LEN;
		/* From the site's end to the island's jmp. */
		int64_t reach =
			a >= lp->i ? after + h + p - lp->end : after + h + p - (lp->end + shift);
		if (!rw_fits(reach, 1))
			return 0;
		uint8_t j[ISLAND_LEN] = {0xe9};
		rw_put_le(j + 1,
			  (uint64_t)(lp->t + (tg_after ? shift : 0) - (after + h + p + ISLAND_LEN)),
			  4);
		if (!rw_has_pattern(w, j, ISLAND_LEN))
			return (unsigned)p;
	}
	return 0;
}

/* Is unit @a, whose end is output offset @after, too far from the site for
 * any island after it (and for any further that way)? */
static bool label_out_of_reach(size_t a, int64_t after, const struct label_place *lp)
{
	int64_t h = lp->hop ? 2 : 0;
	return a >= lp->i ? after + h + 1 - lp->end > 127
			  : after + h + 1 - (lp->end + h + 1 + ISLAND_LEN) < -128;
}

/* Put the jump label's island after unit @a, with @p bytes of padding. */
static bool place_label_island(struct rw_sect *s, size_t a, unsigned p,
			       const struct label_place *lp)
{
	void *q = realloc(s->isl, (s->n_isl + 1) * sizeof(*s->isl));
	if (!q)
		return false;
	s->isl = q;
	s->isl[s->n_isl++] = (struct rw_island){.target = lp->target,
						.unit = lp->i,
						.after = a,
						.pad = (uint16_t)p,
						.label = true,
						.hop = lp->hop};
	s->u[lp->i].island = (uint32_t)s->n_isl;
	s->u[a].near = (uint32_t)s->n_isl;
	return true;
}

/*
 * A 2-byte jump label (unit @i, entry target @target) that padding or a
 * longer instruction took out of reach: Linux 6.1's __jump_label_patch
 * writes `jmp rel8` to the entry's target (its size from decoding the site,
 * the old bytes checked to be the NOP or that jmp), so the entry is pointed
 * at a near island within rel8 reach of the site's end, which jumps on to
 * the target (fix_relocation()); a site that holds the jmp already jumps to
 * the island (emit_insn()).  The nearest spot (after an instruction that
 * never falls through) in reach first; else the nearest instruction in
 * reach, with a hop over the island.  False when there is none.
 */
static bool add_label_island(const struct rw *w, struct rw_sect *s, size_t i, int64_t target)
{
	struct rw_unit *u = &s->u[i];
	if (u->island || s->n_isl >= 65536 ||
	    (w->orc && !rw_orc_entry_at(w, s->idx, (uint64_t)target)))
		return false;
	uint64_t t = 0;
	(void)map_offset(s, (uint64_t)target, false, &t);
	struct label_place lp = {i, (int64_t)(insn_start(u) + u->lay_len), (int64_t)t, target,
				 false};
	struct near_walk nw;
	near_walk_init(s, i, &nw);
	for (size_t a; (a = near_walk_next(s, &nw)) < s->n;) {
		const struct rw_unit *ua = &s->u[a];
		/* Out of reach already: so is every spot further that way. */
		if (label_out_of_reach(a, (int64_t)(insn_start(ua) + ua->lay_len), &lp)) {
			if (a >= i)
				nw.hi = s->n_spots;
			else
				nw.lo = 0;
			continue;
		}
		unsigned p = ua->near ? 0 : label_island_pad(w, s, a, &lp);
		if (p && near_spot_ok(s, a, p + ISLAND_LEN, i))
			return place_label_island(s, a, p, &lp);
	}
	/* Behind a hop: the units in reach, nearest first. */
	lp.hop = true;
	bool up = true, down = true;
	for (size_t d = 0; up || down; d++) {
		size_t cand[2] = {i + d, i >= d + 1 ? i - d - 1 : s->n};
		for (unsigned c = 0; c < 2; c++) {
			size_t a = cand[c];
			if (a >= s->n || !(c ? down : up))
				continue;
			const struct rw_unit *ua = &s->u[a];
			if (label_out_of_reach(a, (int64_t)(insn_start(ua) + ua->lay_len), &lp)) {
				*(c ? &down : &up) = false;
				continue;
			}
			if (ua->near || a + 1 >= s->n || !island_may_precede(w, s, &s->u[a + 1]))
				continue;
			unsigned p = label_island_pad(w, s, a, &lp);
			if (p && near_spot_ok(s, a, 2 + p + ISLAND_LEN, i))
				return place_label_island(s, a, p, &lp);
		}
		if (i + d >= s->n)
			up = false;
		if (i < d + 1)
			down = false;
	}
	return false;
}

/* The target of the 2-byte jump label at unit @i of @s (find_shorts()
 * recorded it), into @t; false when it is none. */
static bool label_target(const struct rw_sect *s, size_t i, int64_t *t)
{
	for (size_t q = 0; q < s->n_shorts; q++)
		if (s->shorts[q].unit == i && s->shorts[q].label) {
			*t = s->shorts[q].target;
			return true;
		}
	return false;
}

/*
 * Change the distance of unit @i's relative field by the smallest amount
 * that leaves the instruction clean: by padding code between it and its
 * target (rel-adjust), or, when that would take more than ISLAND_OVER
 * bytes, by a jump island, whose padding moves it afterwards.  The action
 * taken (rel-adjust, jump-island), or RULE_NONE when neither can be done.
 */
static enum rw_rule fix_rel(const struct rw *w, struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	size_t t = rw_unit_at(s, (uint64_t)u->target);
	bool forward = u->island || (uint64_t)u->target > u->off;
	int64_t disp = current_disp(s, u);
	unsigned fsize = rel_field_size(u),
		 foff = u->long_form ? u->enc_len - 4u : rel_field_offset(u);
	uint8_t buf[PVSUB_X86_MAX_INSN];
	unsigned k;

	for (k = 1; k < MAX_PAD; k++) {
		int64_t d = forward ? disp + k : disp - k;
		if (!rw_fits(d, fsize))
			break; /* promotion follows; the next round looks again */
		emit_insn(s, u, buf);
		rw_put_le(buf + foff, (uint64_t)d, fsize);
		if (!rw_has_pattern(w, buf, u->enc_len))
			break;
	}
	if (u->island)
		return move_island(w, s, u->island - 1) ? RULE_JUMP_ISLAND : RULE_NONE;
	if (k > ISLAND_OVER && island_ok(w, s, u) && island_fits(w, s, i))
		return add_island(s, i) ? RULE_JUMP_ISLAND : RULE_NONE;
	/* No displacement within MAX_PAD bytes is clean: padding this round
	 * would not clean it. */
	if (k >= MAX_PAD && add_near_island(w, s, i))
		return RULE_JUMP_ISLAND;
	if (forward) {
		/* In front of the target, or of anything between. */
		size_t last = t < s->n ? t : s->n - 1;
		for (size_t j = last; j > i; j--)
			if (bump_pad(s, j, k))
				return RULE_REL_ADJUST;
	} else if (t != i) {
		for (size_t j = i; j > t && j < s->n; j--)
			if (bump_pad(s, j, k))
				return RULE_REL_ADJUST;
	}
	return add_near_island(w, s, i) ? RULE_JUMP_ISLAND : RULE_NONE;
}

/* An occurrence in the jump islands' bytes (one of their displacements, or
 * across their padding): move the island that holds its last byte. */
static bool fix_in_islands(const struct rw *w, struct rw_sect *s, uint64_t last)
{
	for (size_t k = 0; k < s->n_isl; k++)
		if (s->isl[k].after == s->n && last < s->isl[k].nstart + s->isl[k].pad + ISLAND_LEN)
			return move_island(w, s, k);
	return false;
}

/* The near island whose bytes (padding included) the @len bytes at output
 * offset @p overlap, or s->n_isl. */
static size_t near_island_over(const struct rw_sect *s, uint64_t p, unsigned len)
{
	for (size_t k = 0; k < s->n_isl; k++) {
		const struct rw_island *is = &s->isl[k];
		if (is->after < s->n && is->nstart < p + len && p < is->nstart + island_size(is))
			return k;
	}
	return s->n_isl;
}

/*
 * disp-rebase: the memory operand base(,index,scale) + disp becomes
 * (base + d) + (disp - d): `lea d(base), base; the instruction with
 * displacement disp - d; lea -d(base), base`.  lea changes no flags and the
 * base is restored before anything else can see it.  Only for a base that
 * the instruction uses for nothing else (no register operand, no implicit
 * use, not the index), never rsp or rbp (the stack and frame the unwinder
 * reads), and never for an instruction whose fault an exception table
 * catches (the fixup would see the moved base).
 */
/* The ORC entry in force at input offset @off of section @sec, or NULL. */
const uint8_t *rw_orc_entry_at(const struct rw *w, size_t sec, uint64_t off)
{
	const struct rw_orc_ref *best = NULL;
	size_t lo = 0, hi = w->n_orc_refs;
	while (lo < hi) { /* the last ref <= (sec, off) */
		size_t mid = lo + (hi - lo) / 2;
		const struct rw_orc_ref *r = &w->orc_refs[mid];
		if (r->section < sec || (r->section == sec && r->offset <= off)) {
			best = r;
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (!best || best->section != sec)
		return NULL;
	return w->o->sec[w->orc].bytes + best->entry * ORC_ENTRY_SIZE;
}

/* A rule's first try on unit @i: from its first candidate (a rule tried
 * before may have left the unit's counter anywhere). */
static bool attempt(const struct rw *w, struct rw_sect *s, size_t i, const struct rw_rule_entry *r)
{
	s->u[i].cand = 0;
	return r->fix(w, s, i);
}

/* One occurrence inside unit @i's instruction bytes. */
static void fix_inside(struct rw *w, struct rw_sect *s, size_t i, const struct occ *oc,
		       unsigned len, unsigned round)
{
	struct rw_unit *u = &s->u[i];
	unsigned rel = (unsigned)(oc->pos - insn_start(u));
	uint64_t where = u->off + rel;
	char field[48];

	if (u->rule != RULE_NONE) {
		/* Inside a sequence of ours: try its next parameters. */
		const struct rw_rule_entry *r = rw_rule_find(u->rule);
		if (r && r->fix(w, s, i))
			return;
		refuse(w, s->name, where, "no replacement for `%s%s%s` avoids the pattern",
		       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
		return;
	}
	if (u->long_form) {
		/* A promoted branch: only its rel32 can hold the pattern. */
		enum rw_rule rule = fix_rel(w, s, i);
		if (rule != RULE_NONE)
			record(w, s, i, oc, len, round, PVSUB_CLASS_EMBEDDED, "immediate", rule);
		else
			refuse(w, s->name, where, "cannot move the target of `%s%s%s`",
			       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
		return;
	}
	field_names(&u->in, rel, len, field, sizeof(field));
	if (u->fixed) {
		refuse(w, s->name, where,
		       "in `%s%s%s`, part of a kernel patch site, whose bytes must not change",
		       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
		return;
	}
	if (rel == u->in.opcode_offset) {
		if (pvsub_policy_on_instruction(w->opts->policy) == PVSUB_ON_INSTRUCTION_TRAP &&
		    rw_fix_trap(s, i)) {
			record(w, s, i, oc, len, round, PVSUB_CLASS_INSTRUCTION, NULL, RULE_TRAP);
			return;
		}
		refuse(w, s->name, where,
		       "`%s%s%s` is a gate instruction and the policy rejects it", u->in.mnemonic,
		       u->in.op_str[0] ? " " : "", u->in.op_str);
		return;
	}
	if (u->rk != REL_NONE && !u->rel_has_reloc) {
		unsigned fo = rel_field_offset(u), fs = rel_field_size(u);
		if (rel < fo + fs && fo < rel + len) {
			enum rw_rule rule = fix_rel(w, s, i);
			if (rule != RULE_NONE)
				record(w, s, i, oc, len, round, PVSUB_CLASS_EMBEDDED, field, rule);
			else if (rel_blocked_by_short(s, i))
				refuse(w, s->name, where,
				       "cannot change the displacement of `%s%s%s`, where %s",
				       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str,
				       SHORT_REACH);
			else
				refuse(w, s->name, where,
				       "cannot change the displacement of `%s%s%s` (no room to "
				       "move code)",
				       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
			return;
		}
	}
	/* A displacement or an immediate: the first rule of the table that
	 * applies and finds a clean replacement. */
	for (size_t k = 0; k < rw_rule_count; k++) {
		const struct rw_rule_entry *r = &rw_rule_table[k];
		if (rw_rule_applies(r, u, rel, len) && attempt(w, s, i, r)) {
			record(w, s, i, oc, len, round, PVSUB_CLASS_EMBEDDED, field, r->rule);
			return;
		}
	}
	refuse(w, s->name, where, "no rewrite rule removes the pattern from the %s of `%s%s%s`",
	       field, u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
}

static void fix_occurrence(struct rw *w, struct rw_sect *s, const struct occ *oc, unsigned round)
{
	unsigned len = pvsub_matcher_pattern(w->opts->matcher, oc->pattern)->len;
	size_t a = unit_at_new(s, oc->pos), b = unit_at_new(s, oc->pos + len - 1);
	size_t k = near_island_over(s, oc->pos, len);
	if (k < s->n_isl) {
		if (move_island(w, s, k))
			return;
		/* A jump label's island may move only within the site's reach. */
		if (s->isl[k].label)
			refuse(w, s->name, s->u[s->isl[k].unit].off, LABEL_OUT_OF_REACH);
		else
			refuse(w, s->name, s->u[s->isl[k].unit].off,
			       "no place for a jump island avoids the pattern");
		return;
	}
	if (b >= s->n) {
		if (!fix_in_islands(w, s, oc->pos + len - 1))
			refuse(w, s->name, s->last_site,
			       "no place for a jump island avoids the pattern");
		return;
	}
	if (a >= s->n)
		return; /* cannot happen: a < b */
	const struct rw_unit *ua = &s->u[a];
	bool in_pad = oc->pos < insn_start(ua);
	s->last_site = ua->off;
	if (a != b || in_pad) {
		if (fix_spanning(s, a, b, oc->pos))
			record(w, s, b, oc, len, round, PVSUB_CLASS_SPANNING, NULL, RULE_NOP_SPLIT);
		else if (short_blocks(s, a, b))
			refuse(w, s->name, round ? ua->off : oc->pos,
			       "across instructions, where %s", SHORT_REACH);
		else if (no_pad_between(s, a, b))
			refuse(w, s->name, round ? ua->off : oc->pos,
			       "across instructions where padding is not allowed (inside a patch "
			       "site)");
		else
			refuse(w, s->name, round ? ua->off : oc->pos,
			       "across instructions, where padding would grow past its limit of %u "
			       "bytes",
			       MAX_PAD);
		return;
	}
	fix_inside(w, s, a, oc, len, round);
}

/* --- steering what the kernel writes ------------------------------------------------ */

/* The first hit that starts before @to (the end of a jmp, in the bytes
 * searched). */
struct window_hit {
	uint64_t to;
	bool hit;
	size_t pattern;
	uint64_t pos;
};

static int note_window_hit(void *data, size_t offset, size_t pattern)
{
	struct window_hit *h = data;
	(void)pattern;
	if (offset >= h->to)
		return 0;
	h->hit = true;
	h->pattern = pattern;
	h->pos = offset;
	return 1;
}

/*
 * Does the jmp of @len bytes with displacement @disp, written at output
 * offset @at of @s with the bytes around it as they are now, form a
 * pattern that overlaps it?  (*@pattern, *@pos: the first such, @pos in
 * the output.)  Bytes beyond the section are the junction's, which the
 * rescan judges.
 */
static bool jmp_forms(const struct rw *w, const struct rw_sect *s, uint64_t at, unsigned len,
		      int64_t disp, size_t *pattern, uint64_t *pos)
{
	uint8_t buf[2 * PVSUB_PATTERN_MAX + 5];
	uint64_t lo = at >= PVSUB_PATTERN_MAX - 1 ? at - (PVSUB_PATTERN_MAX - 1) : 0;
	uint64_t hi = at + len + PVSUB_PATTERN_MAX - 1;
	if (hi > s->out.len)
		hi = s->out.len;
	memcpy(buf, (const uint8_t *)s->out.data + lo, hi - lo);
	buf[at - lo] = len == 2 ? 0xeb : 0xe9;
	rw_put_le(buf + at - lo + 1, (uint64_t)disp, len - 1);
	/* Only what overlaps the jmp: a hit that ends before it is none of
	 * its doing, and the matcher reports hits by their start. */
	struct window_hit h = {.to = at - lo + len};
	(void)pvsub_matcher_search(w->opts->matcher, buf, hi - lo, note_window_hit, &h);
	while (h.hit &&
	       h.pos + pvsub_matcher_pattern(w->opts->matcher, h.pattern)->len <= at - lo) {
		/* ends before the jmp: search on after it */
		uint64_t from = h.pos + 1;
		struct window_hit g = {.to = at - lo + len - from};
		(void)pvsub_matcher_search(w->opts->matcher, buf + from, hi - lo - from,
					   note_window_hit, &g);
		h = g;
		h.pos += from;
	}
	*pattern = h.pattern;
	*pos = lo + h.pos;
	return h.hit;
}

static void record_steer(struct rw *w, const struct rw_sect *s, size_t ui, uint64_t in_off,
			 size_t pattern, const uint8_t *bytes, unsigned round)
{
	struct pvsub_rewrite_site *site = new_site(w, s);
	if (!site)
		return;
	const struct rw_unit *u = &s->u[ui];
	const struct pvsub_pattern *p = pvsub_matcher_pattern(w->opts->matcher, pattern);
	site->offset = in_off;
	site->new_offset = ui;
	site->pattern = p->id;
	site->cls = PVSUB_CLASS_PATCH_SITE;
	snprintf(site->field, sizeof(site->field), "jump-label, only when patched");
	site->rule = pvsub_rewrite_rules[RULE_REL_ADJUST];
	site->round = round;
	site->len = p->len;
	memcpy(site->bytes, bytes, p->len);
	site->insn_len = u->in.len;
	memcpy(site->insn, s->in + u->off, u->in.len);
}

/*
 * rel-adjust for what the kernel writes: a jump label whose target lies in
 * the same section is patched into `jmp target` (rel8 or rel32, the
 * window's length).  Where that jmp, among the bytes around it, would form
 * a pattern, code between the site and its target is padded (NOPs: the
 * site's NOP falls through them, the jmp passes them by) by the least that
 * makes the jmp clean, keeping a rel8 in reach.  The rescan of the output
 * (the window verdicts, wverdict.h) decides whether the site is clean in
 * every variant.  The number of sites steered.
 */
static int steer_jump_labels(struct rw *w, struct rw_sect *s, unsigned round)
{
	int acted = 0;
	for (size_t k = 0; k < w->n_win; k++) {
		const struct pvsub_mwindow *mw = &w->win[k];
		size_t i = jump_label_unit(s, mw);
		uint64_t at, tnew;
		size_t pat;
		uint64_t pos;
		if (i == s->n || s->u[i].island || (mw->len != 2 && mw->len != 5) ||
		    !map_site(s, mw->offset, false, &at) ||
		    !map_offset(s, mw->target_offset, false, &tnew))
			continue;
		int64_t disp = (int64_t)tnew - (int64_t)(at + mw->len);
		if (!rw_fits(disp, mw->len - 1u) || !jmp_forms(w, s, at, mw->len, disp, &pat, &pos))
			continue;
		uint8_t bytes[PVSUB_PATTERN_MAX] = {0};
		{
			uint8_t jmp[5] = {mw->len == 2 ? 0xeb : 0xe9};
			rw_put_le(jmp + 1, (uint64_t)disp, mw->len - 1u);
			unsigned plen = pvsub_matcher_pattern(w->opts->matcher, pat)->len;
			for (unsigned b = 0; b < plen; b++) {
				uint64_t x = pos + b;
				bytes[b] = x >= at && x < at + mw->len
						   ? jmp[x - at]
						   : ((const uint8_t *)s->out.data)[x];
			}
		}
		bool forward = mw->target_offset > mw->offset;
		size_t t = mw->target_offset == s->size ? s->n : rw_unit_at(s, mw->target_offset);
		unsigned by;
		size_t p2;
		uint64_t q2;
		for (by = 1; by < MAX_PAD; by++) {
			int64_t d = forward ? disp + by : disp - by;
			if (!rw_fits(d, mw->len - 1u)) {
				by = MAX_PAD;
				break;
			}
			if (!jmp_forms(w, s, at, mw->len, d, &p2, &q2))
				break;
		}
		if (by >= MAX_PAD)
			continue; /* the rescan refuses it, named */
		bool done = false;
		if (forward) {
			size_t last = t < s->n ? t : s->n - 1;
			for (size_t j = last; j > i && !done; j--)
				done = bump_pad(s, j, by);
		} else {
			for (size_t j = i; j > t && j < s->n && !done; j--)
				done = bump_pad(s, j, by);
		}
		if (!done)
			continue;
		record_steer(w, s, i, mw->offset, pat, bytes, round);
		acted++;
	}
	return acted;
}

/*
 * Padding next to a window where an earlier attempt's output formed a
 * pattern only once the kernel patched it (struct rw_steer): NOPs in front
 * of the site's instruction, and in front of the one after the window,
 * change the bytes the kernel's write meets there (a NOP in front of a site
 * executes before it, one after it runs where the site falls through or
 * returns to).  Applied before the first round, which fixes whatever the
 * padding forms; the rescan decides.
 */
static void steer_neighbours(struct rw *w, struct rw_sect *s)
{
	for (size_t k = 0; k < w->n_steer; k++) {
		const struct rw_steer *st = &w->steer[k];
		if (st->section != s->idx)
			continue;
		size_t i = rw_unit_at(s, st->offset);
		if (i == s->n || s->u[i].off != st->offset)
			continue;
		size_t after = rw_unit_at(s, st->offset + st->len);
		bool done = false;
		if (st->before)
			done |= bump_pad(s, i, st->before);
		if (st->after && after < s->n && s->u[after].off == st->offset + st->len)
			done |= bump_pad(s, after, st->after);
		struct pvsub_rewrite_site *site = done ? new_site(w, s) : NULL;
		if (!site)
			continue;
		site->offset = st->offset;
		site->new_offset = i; /* an offset once the layout is final */
		site->pattern = st->pattern;
		site->cls = PVSUB_CLASS_PATCH_SITE;
		snprintf(site->field, sizeof(site->field), "%s", st->field);
		site->rule = pvsub_rewrite_rules[RULE_NOP_SPLIT];
		site->len = st->blen;
		memcpy(site->bytes, st->bytes, st->blen);
		site->insn_len = s->u[i].in.len;
		memcpy(site->insn, s->in + s->u[i].off, s->u[i].in.len);
	}
}

/*
 * Search the section as laid out now and fix what is found.  Returns the
 * number of occurrences acted on, or -1 after a refusal.
 */
static int round_once(struct rw *w, struct rw_sect *s, unsigned round)
{
	struct occ_list l = {0};
	if (!layout(w, s))
		return -1;
	int r = emit_section(s);
	if (r == 0)
		r = pvsub_matcher_search(w->opts->matcher, (const uint8_t *)s->out.data, s->out.len,
					 collect_occ, &l);
	if (r < 0) {
		free(l.v);
		w->err = r;
		return -1;
	}
	size_t refused = w->res->n_refusals;
	int acted = 0;
	uint64_t done_to = 0;
	w->dedup_from = refused;
	for (size_t k = 0; k < l.n; k++) {
		const struct occ *oc = &l.v[k];
		unsigned len = pvsub_matcher_pattern(w->opts->matcher, oc->pattern)->len;
		if (in_reloc_window(w, s, oc->pos, len) || in_mutable_window(w, s, oc->pos, len))
			continue;
		/* One change per unit and round: the next round sees its effect. */
		if (acted && oc->pos < done_to)
			continue;
		w->pattern = pvsub_matcher_pattern(w->opts->matcher, oc->pattern)->id;
		fix_occurrence(w, s, oc, round);
		w->pattern = NULL;
		acted++;
		/* An occurrence inside one instruction: the rest of that
		 * instruction waits for the next round too (a second occurrence
		 * there would only re-roll the rule just chosen). */
		size_t first = unit_at_new(s, oc->pos), last = unit_at_new(s, oc->pos + len - 1);
		done_to = oc->pos + len;
		if (first == last && last < s->n && oc->pos >= insn_start(&s->u[last]))
			done_to = insn_start(&s->u[last]) + s->u[last].lay_len;
	}
	free(l.v);
	w->dedup_from = SIZE_MAX;
	if (w->res->n_refusals != refused)
		return -1;
	/* What the kernel writes, once the file's own bytes are clean. */
	if (acted == 0 && !w->opts->no_steer)
		acted = steer_jump_labels(w, s, round);
	return acted;
}

/* --- the object --------------------------------------------------------------------- */

static struct rw_sect *sect_of(struct rw *w, size_t idx)
{
	for (size_t i = 0; i < w->n_s; i++)
		if (w->s[i].idx == idx)
			return &w->s[i];
	return NULL;
}

/* Does the occurrence at input offset @pos of @s lie in a mutable window
 * or overlap a relocation window (of the input)?  Only relocations the
 * rewriter can move have windows here (rw_reloc()): an occurrence at any
 * other is to be fixed, so its section is rewritten and check_relocations()
 * refuses the type by name. */
static bool judged_at_load(const struct rw *w, const struct rw_sect *s, uint64_t pos, unsigned len)
{
	for (size_t j = 0; j < w->n_win; j++)
		if (w->win[j].section == s->idx && w->win[j].offset <= pos &&
		    pos + len <= w->win[j].offset + w->win[j].len)
			return true;
	size_t n = s->rela ? pvsub_relobj_rela_count(w->o, s->rela) : 0;
	for (size_t j = 0; j < n; j++) {
		Elf64_Rela ra;
		pvsub_relobj_rela_get(w->o, s->rela, j, &ra);
		unsigned sz = reloc_size(ELF64_R_TYPE(ra.r_info));
		if (ra.r_offset < pos + len && pos < ra.r_offset + sz)
			return true;
	}
	return false;
}

/*
 * The occurrences in the input bytes of @s that the rewriter must remove
 * (all but those judged at load time), into @l; with the mutable windows
 * known so far (none before the kernel tables are read).
 */
static int occurrences_to_fix(struct rw *w, const struct rw_sect *s, struct occ_list *l)
{
	struct occ_list all = {0};
	int r = pvsub_matcher_search(w->opts->matcher, s->in, s->size, collect_occ, &all);
	for (size_t k = 0; r == 0 && k < all.n; k++) {
		unsigned len = pvsub_matcher_pattern(w->opts->matcher, all.v[k].pattern)->len;
		if (!judged_at_load(w, s, all.v[k].pos, len))
			r = collect_occ(l, all.v[k].pos, all.v[k].pattern);
	}
	free(all.v);
	return r;
}

static bool needs_rewrite(struct rw *w, struct rw_sect *s)
{
	struct occ_list l = {0};
	if (occurrences_to_fix(w, s, &l) < 0)
		w->err = -ENOMEM;
	free(l.v);
	return l.n > 0;
}

/*
 * Section @s cannot be rewritten at all (the refusals from @first on say
 * why): every occurrence in it that needed a change is blocked by that, and
 * is named with the first reason.
 */
static void refuse_all_occurrences(struct rw *w, struct rw_sect *s, size_t first)
{
	struct occ_list l = {0};
	char why[sizeof(w->res->refusals[0].reason)];
	uint64_t at = w->res->refusals[first].offset;
	snprintf(why, sizeof(why), "%s", w->res->refusals[first].reason);
	if (occurrences_to_fix(w, s, &l) < 0) {
		w->err = -ENOMEM;
		free(l.v);
		return;
	}
	for (size_t k = 0; k < l.n; k++) {
		w->pattern = pvsub_matcher_pattern(w->opts->matcher, l.v[k].pattern)->id;
		refuse(w, s->name, l.v[k].pos, "%s cannot be changed: at %s+%#" PRIx64 ", %s",
		       s->name, s->name, at, why);
	}
	/* The occurrence across its end that an int3 tail would have broken. */
	if (s->tail_len) {
		w->pattern = s->tail_pattern;
		refuse(w, s->name, s->tail_site, "%s cannot be changed: at %s+%#" PRIx64 ", %s",
		       s->name, s->name, at, why);
	}
	w->pattern = NULL;
	free(l.v);
}

/* The last instruction of @s never falls through to what follows the
 * section, whatever the kernel patches into it. */
static bool ends_unconditionally(const struct rw *w, const struct rw_sect *s)
{
	return s->n && s->u[s->n - 1].off + s->u[s->n - 1].in.len == s->size &&
	       unit_ends_unconditionally(w, s, s->n - 1);
}

static bool unit_ends_unconditionally(const struct rw *w, const struct rw_sect *s, size_t i)
{
	const struct rw_unit *u = &s->u[i];
	const uint8_t *op = s->in + u->off + u->in.opcode_offset;
	if (u->fixed) {
		/* Only sites that the kernel patches into another jump or a
		 * return: retpoline, return thunk and static-call sites. */
		for (size_t k = 0; k < w->n_win; k++) {
			const struct pvsub_mwindow *mw = &w->win[k];
			if (mw->section == s->idx && mw->offset <= u->off &&
			    u->off < mw->offset + mw->len && mw->kind != PVSUB_WINDOW_RETPOLINE &&
			    mw->kind != PVSUB_WINDOW_RETURN_THUNK &&
			    mw->kind != PVSUB_WINDOW_STATIC_CALL)
				return false;
		}
	}
	/* int3 only in the kernel, which dies on one that no notifier claims
	 * (those of its own int3s that a table names, as the alternatives'
	 * self-test, resume: mark_resumed_traps()); a process's SIGTRAP
	 * handler returns to the next instruction. */
	if (u->in.opcode_len == 1)
		return op[0] == 0xe9 || op[0] == 0xeb || op[0] == 0xc3 || op[0] == 0xc2 ||
		       (op[0] == 0xcc && w->kernel && !u->resumes) ||
		       (op[0] == 0xff && u->in.modrm_offset >= 0 &&
			((s->in[u->off + u->in.modrm_offset] >> 3) & 7) >= 4 &&
			((s->in[u->off + u->in.modrm_offset] >> 3) & 7) <= 5);
	/* ud2, unless a table names it (mark_resumed_traps()). */
	return u->in.opcode_len == 2 && op[0] == 0x0f && op[1] == 0x0b && !u->resumes;
}

/*
 * int3-tail: an occurrence that the input already forms across the end of
 * @s and whatever the module loader puts after it (zero padding, the next
 * section) is broken by one int3 after the section's last instruction,
 * which is never reached when that instruction is an unconditional jump or
 * return.  The rescan of the output checks every padding variant again.
 */
static void add_int3_tail(struct rw *w, struct rw_sect *s)
{
	if (!ends_unconditionally(w, s)) {
		w->pattern = s->tail_pattern;
		refuse(w, s->name, s->tail_site,
		       "an occurrence across the end of %s, whose last instruction may fall "
		       "through, so nothing can be put after it",
		       s->name);
		w->pattern = NULL;
		return;
	}
	s->tail = 1;
	place(s);
	if (emit_section(s) < 0) {
		w->err = -ENOMEM;
		return;
	}
	struct pvsub_rewrite_site *site = new_site(w, s);
	if (!site)
		return;
	const struct rw_unit *u = &s->u[s->n - 1];
	site->offset = s->tail_site;
	site->new_offset = s->n - 1; /* an offset once the layout is final */
	site->pattern = s->tail_pattern;
	site->cls = PVSUB_CLASS_SPANNING;
	site->rule = pvsub_rewrite_rules[RULE_INT3_TAIL];
	site->len = s->tail_len;
	memcpy(site->bytes, s->tail_bytes, s->tail_len);
	site->insn_len = u->in.len;
	memcpy(site->insn, s->in + u->off, u->in.len);
}

/* An FDE as read_fde_ranges() finds it: where its pc_begin field is, and
 * its pc_range. */
struct fde_field {
	uint64_t at, range;
};

static int cmp_fde_range(const void *pa, const void *pb)
{
	const uint64_t *a = pa, *b = pb;
	return a[0] < b[0] ? -1 : a[0] > b[0];
}

/* Give every code section's FDE ranges (rw_sect.fde) their order and their
 * running greatest end. */
static void sort_fde_ranges(struct rw *w)
{
	for (size_t i = 0; i < w->n_s; i++) {
		struct rw_sect *s = &w->s[i];
		if (s->n_fde)
			qsort(s->fde, s->n_fde, sizeof(*s->fde), cmp_fde_range);
		for (size_t k = 1; k < s->n_fde; k++)
			if (s->fde[k][1] < s->fde[k - 1][1])
				s->fde[k][1] = s->fde[k - 1][1];
	}
}

/* The index in @f (@nf fields, in order) of the field at @at, or @nf. */
static size_t fde_field_at(const struct fde_field *f, size_t nf, uint64_t at)
{
	size_t lo = 0, hi = nf;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f[mid].at < at)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nf && f[lo].at == at ? lo : nf;
}

/* The code section that .eh_frame relocation @ra points an FDE's pc_begin
 * (of @f, @nf) into, or NULL. */
static struct rw_sect *fde_relocation(struct rw *w, const struct fde_field *f, size_t nf,
				      const Elf64_Rela *ra)
{
	size_t symi = ELF64_R_SYM(ra->r_info);
	if (fde_field_at(f, nf, ra->r_offset) == nf || !symi ||
	    symi >= pvsub_relobj_sym_count(w->o))
		return NULL;
	Elf64_Sym sym;
	pvsub_relobj_sym_get(w->o, symi, &sym);
	return sym.st_shndx < w->o->n_sec ? sect_of(w, sym.st_shndx) : NULL;
}

/* Mark every code section's FDE ranges unknown (.eh_frame unreadable):
 * no near island goes anywhere. */
static void fde_ranges_unknown(struct rw *w)
{
	for (size_t i = 0; i < w->n_s; i++)
		w->s[i].fde_unknown = true;
}

/*
 * The ranges of .eh_frame's FDEs, into the code sections their pc_begin
 * points into, for inside_fde(): each entry's length and CIE pointer, and
 * for an FDE its pc_begin's relocation (found by binary search among the
 * FDEs' fields, which come in order) and its 4-byte pc_range, the only
 * encoding the .eh_frame pass accepts (it refuses every other, whatever is
 * read here).  An entry that cannot be read makes every range unknown.
 */
static void read_fde_ranges(struct rw *w)
{
	size_t sec = pvsub_relobj_find(w->o, ".eh_frame");
	size_t rs = sec ? pvsub_relobj_rela_for(w->o, sec) : 0;
	if (!rs || !w->o->sec[sec].bytes)
		return;
	const uint8_t *b = w->o->sec[sec].bytes;
	uint64_t size = w->o->sec[sec].size, off = 0;
	struct fde_field *f = NULL;
	size_t nf = 0, cap = 0;
	while (off + 4 <= size) {
		uint64_t len = (uint64_t)rw_get_sle(b + off, 4) & 0xffffffffu;
		if (len == 0)
			break;
		if (len == 0xffffffffu || len < 4 || len > size - off - 4)
			goto unknown;
		uint64_t id = (uint64_t)rw_get_sle(b + off + 4, 4) & 0xffffffffu;
		if (id != 0) {
			if (len < 12)
				goto unknown;
			if (nf == cap) {
				cap = cap ? 2 * cap : 64;
				void *q = realloc(f, cap * sizeof(*f));
				if (!q) {
					w->err = -ENOMEM;
					goto unknown;
				}
				f = q;
			}
			f[nf++] = (struct fde_field){
				off + 8, (uint64_t)rw_get_sle(b + off + 12, 4) & 0xffffffffu};
		}
		off += 4 + len;
	}
	if (off + 4 > size && off != size)
		goto unknown;
	size_t nr;
	const Elf64_Rela *ra = pvsub_relobj_relas(w->o, rs, &nr);
	/* Twice: count each section's ranges, then fill them in. */
	for (int fill = 0; fill < 2; fill++) {
		for (size_t k = 0; k < nr; k++) {
			struct rw_sect *s = fde_relocation(w, f, nf, &ra[k]);
			if (!s)
				continue;
			if (!fill) {
				s->n_fde++;
				continue;
			}
			Elf64_Sym sym;
			pvsub_relobj_sym_get(w->o, ELF64_R_SYM(ra[k].r_info), &sym);
			uint64_t start = sym.st_value + (uint64_t)ra[k].r_addend;
			s->fde[s->n_fde][0] = start;
			s->fde[s->n_fde++][1] =
				start + f[fde_field_at(f, nf, ra[k].r_offset)].range;
		}
		for (size_t i = 0; i < w->n_s && !fill; i++) {
			struct rw_sect *s = &w->s[i];
			if (s->n_fde && !(s->fde = malloc(s->n_fde * sizeof(*s->fde)))) {
				w->err = -ENOMEM;
				goto unknown;
			}
			s->n_fde = 0;
		}
	}
	free(f);
	sort_fde_ranges(w);
	return;
unknown:
	free(f);
	fde_ranges_unknown(w);
}

/* Does table section @name only describe code (unwind and debug
 * information), so that its pointing at a ud2 says nothing of resuming? */
static bool describes_code(const char *name)
{
	return strncmp(name, ".debug", 6) == 0 || strcmp(name, ".eh_frame") == 0 ||
	       strcmp(name, ".orc_unwind_ip") == 0;
}

/*
 * A ud2 that a table of the object points at may be resumed after: Linux
 * returns to the next instruction after a WARN (__bug_table) or a
 * permissive CFI failure (.kcfi_traps), or goes on where __ex_table says.
 * Every relocation that lands on an instruction (a ud2, an int3: the
 * alternatives' self-test resumes after its own), outside the tables that
 * only describe code, marks it (rw_unit.resumes), and so does one of
 * objtool's .discard.reachable, which names the instruction after such a
 * trap: unit_ends_unconditionally() does not count it as an end.
 */
static void mark_resumed_traps(struct rw *w)
{
	for (size_t rs = 1; rs < w->o->n_sec; rs++) {
		const Elf64_Shdr *sh = &w->o->sec[rs].sh;
		if (sh->sh_type != SHT_RELA || sh->sh_info >= w->o->n_sec ||
		    describes_code(w->o->sec[sh->sh_info].name))
			continue;
		bool after = strcmp(w->o->sec[sh->sh_info].name, ".discard.reachable") == 0;
		size_t n;
		const Elf64_Rela *ra = pvsub_relobj_relas(w->o, rs, &n);
		for (size_t k = 0; k < n; k++) {
			size_t symi = ELF64_R_SYM(ra[k].r_info);
			if (!symi || symi >= pvsub_relobj_sym_count(w->o))
				continue;
			Elf64_Sym sym;
			pvsub_relobj_sym_get(w->o, symi, &sym);
			struct rw_sect *s =
				sym.st_shndx < w->o->n_sec ? sect_of(w, sym.st_shndx) : NULL;
			if (!s || !s->decoded)
				continue;
			uint64_t x = sym.st_value + (uint64_t)ra[k].r_addend;
			size_t i = rw_unit_at(s, x);
			if (!after && i < s->n && s->u[i].off == x)
				s->u[i].resumes = true;
			if (after && i > 0 && i <= s->n &&
			    x == s->u[i - 1].off + s->u[i - 1].in.len)
				s->u[i - 1].resumes = true;
		}
	}
}

static int rewrite_section(struct rw *w, struct rw_sect *s)
{
	size_t before = w->res->n_refusals;
	if (strcmp(s->name, ".altinstr_replacement") == 0) {
		refuse(w, s->name, 0,
		       "replacement code of alternatives is copied into fixed-size windows at load "
		       "time; it is not rewritten");
		refuse_all_occurrences(w, s, before);
		return 0;
	}
	check_symbols(w, s);
	check_relocations(w, s);
	check_targets(w, s);
	mark_windows(w, s);
	mark_exception_sites(w, s);
	if (find_shorts(w, s) < 0) {
		w->err = -ENOMEM;
		return 0;
	}
	if (find_near_spots(w, s) < 0) {
		w->err = -ENOMEM;
		return 0;
	}
	if (w->res->n_refusals != before) {
		refuse_all_occurrences(w, s, before);
		return 0;
	}
	steer_neighbours(w, s);
	for (unsigned round = 0; round < MAX_ROUNDS; round++) {
		int acted = round_once(w, s, round);
		if (acted < 0)
			return 0;
		if (acted == 0) {
			if (s->tail_len)
				add_int3_tail(w, s);
			return 0;
		}
		if (round + 1 > w->res->rounds)
			w->res->rounds = round + 1;
	}
	refuse(w, s->name, s->last_site,
	       "occurrences still appear here after %u rounds of rewriting", MAX_ROUNDS);
	return 0;
}

/*
 * Where relocation field @off of section @tsec is in the output, and its
 * bias before and after: for a PC-relative field inside an instruction, the
 * distance from the field to the end of its instruction (what the assembler
 * folded into the addend); 0 for data and absolute fields.  False when the
 * field cannot be placed (the place is code that did not decode, or inside
 * an instruction a rule replaced without carrying the field).
 */
static bool place_field(struct rw *w, size_t tsec, uint64_t off, uint32_t type, uint64_t *np,
			int64_t *old_bias, int64_t *new_bias)
{
	bool pc = reloc_pc_relative(type);
	struct rw_sect *ps = sect_of(w, tsec);
	*np = off;
	*old_bias = *new_bias = 0;
	if (!ps)
		return true; /* data: the field means S + A itself */
	if (!ps->decoded)
		return !pc && !ps->rewrite;
	size_t i = rw_unit_at(ps, off);
	if (i == ps->n)
		return false;
	const struct rw_unit *u = &ps->u[i];
	if (pc)
		*old_bias = *new_bias = (int64_t)(u->off + u->in.len - off);
	if (!ps->rewrite)
		return true;
	if (same_shape(u)) {
		*np = insn_start(u) + (off - u->off);
		return true;
	}
	if (u->fld_old < 0 || off != u->off + (uint64_t)u->fld_old)
		return false;
	*np = insn_start(u) + u->fld_new;
	if (pc)
		*new_bias = (int64_t)u->fld_end - (int64_t)u->fld_new;
	return true;
}

struct symmap {
	uint64_t *value; /* new st_value per symbol */
	uint64_t *size;
};

static void map_symbols(struct rw *w, struct symmap *m)
{
	size_t n = pvsub_relobj_sym_count(w->o);
	for (size_t k = 0; k < n; k++) {
		Elf64_Sym sym;
		pvsub_relobj_sym_get(w->o, k, &sym);
		m->value[k] = sym.st_value;
		m->size[k] = sym.st_size;
		struct rw_sect *s = sym.st_shndx < w->o->n_sec ? sect_of(w, sym.st_shndx) : NULL;
		if (!s || !s->rewrite || ELF64_ST_TYPE(sym.st_info) == STT_SECTION)
			continue;
		uint64_t v, e;
		if (!map_offset(s, sym.st_value, false, &v)) {
			refuse(w, s->name, sym.st_value, "symbol %s cannot be moved",
			       pvsub_relobj_symbol_name(w->o, &sym));
			continue;
		}
		m->value[k] = v;
		if (sym.st_size == 0)
			continue;
		if (sym.st_value + sym.st_size > s->size ||
		    !map_offset(s, sym.st_value + sym.st_size, true, &e) || e < v) {
			refuse(w, s->name, sym.st_value, "the end of symbol %s cannot be moved",
			       pvsub_relobj_symbol_name(w->o, &sym));
			continue;
		}
		m->size[k] = e - v;
	}
}

/* R_X86_64_NONE changes no byte: its place follows the instruction it is
 * in, and nothing else about it matters. */
static void carry_none(struct rw *w, size_t tsec, Elf64_Rela *ra)
{
	struct rw_sect *ps = sect_of(w, tsec);
	if (!ps || !ps->rewrite || !ps->decoded)
		return;
	if (ra->r_offset >= ps->size) {
		if (ra->r_offset == ps->size)
			ra->r_offset = ps->new_size;
		return;
	}
	size_t i = rw_unit_at(ps, ra->r_offset);
	if (i == ps->n)
		return;
	const struct rw_unit *u = &ps->u[i];
	ra->r_offset = insn_start(u) + (same_shape(u) ? ra->r_offset - u->off : 0);
}

/* --- switch tables --------------------------------------------------------------- */

/*
 * A PC-relative switch table (-fPIE, -fPIC) is a run of 4-byte entries
 * `.long case - base` in a data section, loaded with `lea base(%rip), %r`,
 * `movslq (%r,%idx,4), %x`, `add %r, %x`, `jmp *%x`.  Each entry assembles
 * to R_X86_64_PC32 against the code with addend case + (entry - base): the
 * relocation alone does not say where the case is.  find_jump_tables()
 * proves where each table is before any such entry is moved: its base is
 * the operand of a `lea` in decoded code, nothing but such leas refers into
 * it, its entries run from the base in consecutive 4-byte R_X86_64_PC32
 * relocations into code (up to the next base), and every entry's case lands
 * on an instruction start.  An entry outside a proven table stays refused.
 */

/* A reference into a data section, at @off, or anywhere (@off REF_ANY)
 * when its code did not decode; @lea: the operand of a `lea`. */
struct data_ref {
	size_t sec;
	uint64_t off;
	bool lea;
};

#define REF_ANY UINT64_MAX

struct ref_list {
	struct data_ref *v;
	size_t n, cap;
};

static int ref_push(struct ref_list *l, size_t sec, uint64_t off, bool lea)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		void *p = realloc(l->v, cap * sizeof(*l->v));
		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = (struct data_ref){sec, off, lea};
	return 0;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct data_ref *x = a, *y = b;
	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return (int)x->lea - (int)y->lea;
}

/* Is a data section (allocated, not code) what symbol section @idx is? */
static bool data_section(struct rw *w, size_t idx)
{
	return idx > 0 && idx < w->o->n_sec && !sect_of(w, idx) &&
	       (w->o->sec[idx].sh.sh_flags & SHF_ALLOC) && w->o->sec[idx].sh.sh_type != SHT_NOBITS;
}

/* The relocation at @off of code section @cs is the RIP-relative operand of
 * a `lea`; the distance from it to the instruction's end in @bias. */
static bool lea_operand(const struct rw_sect *cs, uint64_t off, int64_t *bias)
{
	size_t i = cs->decoded ? rw_unit_at(cs, off) : cs->n;
	if (i == cs->n)
		return false;
	const struct rw_unit *u = &cs->u[i];
	if (u->rk != REL_RIP || off != u->off + (uint64_t)u->in.disp_offset ||
	    strcmp(u->in.mnemonic, "lea") != 0)
		return false;
	*bias = (int64_t)(u->off + u->in.len - off);
	return true;
}

/* Every reference of an allocated section's relocation into a data
 * section, sorted. */
static int collect_data_refs(struct rw *w, struct ref_list *l)
{
	const struct pvsub_relobj *o = w->o;
	for (size_t rs = 1; rs < o->n_sec; rs++) {
		size_t tsec = o->sec[rs].sh.sh_info;
		if (o->sec[rs].sh.sh_type != SHT_RELA || tsec >= o->n_sec ||
		    !(o->sec[tsec].sh.sh_flags & SHF_ALLOC))
			continue;
		struct rw_sect *cs = sect_of(w, tsec);
		size_t n = pvsub_relobj_rela_count(o, rs);
		for (size_t k = 0; k < n; k++) {
			Elf64_Rela ra;
			Elf64_Sym sym;
			pvsub_relobj_rela_get(o, rs, k, &ra);
			size_t symi = ELF64_R_SYM(ra.r_info);
			uint32_t type = ELF64_R_TYPE(ra.r_info);
			if (type == R_X86_64_NONE || symi == 0 || symi >= pvsub_relobj_sym_count(o))
				continue;
			pvsub_relobj_sym_get(o, symi, &sym);
			if (!data_section(w, sym.st_shndx))
				continue;
			uint64_t at = sym.st_value + (uint64_t)ra.r_addend;
			int64_t bias = 0;
			int r;
			if (cs && type == R_X86_64_PC32 && lea_operand(cs, ra.r_offset, &bias))
				r = ref_push(l, sym.st_shndx, at + (uint64_t)bias, true);
			else if (cs && !cs->decoded)
				r = ref_push(l, sym.st_shndx, REF_ANY, false);
			else if (cs && reloc_pc_relative(type) &&
				 rw_unit_at(cs, ra.r_offset) < cs->n) {
				const struct rw_unit *u = &cs->u[rw_unit_at(cs, ra.r_offset)];
				r = ref_push(l, sym.st_shndx, at + u->off + u->in.len - ra.r_offset,
					     false);
			} else {
				r = ref_push(l, sym.st_shndx, at, false);
			}
			if (r < 0)
				return r;
		}
	}
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_ref);
	return 0;
}

static int cmp_rela_place(const void *a, const void *b)
{
	const Elf64_Rela *x = a, *y = b;
	return (x->r_offset > y->r_offset) - (x->r_offset < y->r_offset);
}

/* A copy of the entries of SHT_RELA section @rs (0: none), sorted by
 * place; NULL when out of memory. */
static Elf64_Rela *sorted_relas(const struct rw *w, size_t rs, size_t *n)
{
	*n = rs ? pvsub_relobj_rela_count(w->o, rs) : 0;
	Elf64_Rela *v = malloc((*n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t k = 0; k < *n; k++)
		pvsub_relobj_rela_get(w->o, rs, k, &v[k]);
	qsort(v, *n, sizeof(*v), cmp_rela_place);
	return v;
}

/* The one relocation at @place among the @n sorted ones at @v; NULL when
 * there is none or more than one. */
static const Elf64_Rela *rela_at(const Elf64_Rela *v, size_t n, uint64_t place)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].r_offset < place)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n || v[lo].r_offset != place || (lo + 1 < n && v[lo + 1].r_offset == place))
		return NULL;
	return &v[lo];
}

enum table_entry {
	ENTRY_END, /* not an entry: the table ended before it */
	ENTRY_OK,  /* its case is an instruction start */
	ENTRY_BAD, /* a PC-relative reference into code that is not a case */
};

/* What relocation @ra (may be NULL) is, read as an entry of a table based
 * at @base. */
static enum table_entry table_entry(struct rw *w, const Elf64_Rela *ra, uint64_t base)
{
	Elf64_Sym sym;
	size_t symi = ra ? ELF64_R_SYM(ra->r_info) : 0;
	if (!ra || ELF64_R_TYPE(ra->r_info) != R_X86_64_PC32 || symi == 0 ||
	    symi >= pvsub_relobj_sym_count(w->o))
		return ENTRY_END;
	pvsub_relobj_sym_get(w->o, symi, &sym);
	const struct rw_sect *c = sect_of(w, sym.st_shndx);
	if (!c)
		return ENTRY_END;
	if (!c->decoded || ra->r_offset < base)
		return ENTRY_BAD;
	uint64_t t = sym.st_value + (uint64_t)ra->r_addend - (ra->r_offset - base);
	size_t i = rw_unit_at(c, t);
	return i < c->n && c->u[i].off == t ? ENTRY_OK : ENTRY_BAD;
}

/* Nothing but leas refers into [@base, @end) of section @sec (@l sorted). */
static bool only_leas(const struct ref_list *l, size_t sec, uint64_t base, uint64_t end)
{
	for (size_t k = 0; k < l->n; k++) {
		const struct data_ref *d = &l->v[k];
		if (d->sec == sec && !d->lea &&
		    (d->off == REF_ANY || (d->off >= base && d->off < end)))
			return false;
	}
	return true;
}

static int jtab_push(struct rw *w, size_t sec, uint64_t base, uint64_t end)
{
	void *p = realloc(w->jtabs, (w->n_jtabs + 1) * sizeof(*w->jtabs));
	if (!p)
		return -ENOMEM;
	w->jtabs = p;
	w->jtabs[w->n_jtabs++] = (struct rw_jtab){sec, base, end};
	return 0;
}

/* The proven switch tables of the object, in w->jtabs (see above). */
static int find_jump_tables(struct rw *w)
{
	struct ref_list l = {0};
	Elf64_Rela *v = NULL;
	size_t nv = 0, vsec = 0;
	int r = collect_data_refs(w, &l);
	for (size_t k = 0; r == 0 && k < l.n; k++) {
		const struct data_ref *b = &l.v[k];
		if (!b->lea || (k > 0 && l.v[k - 1].lea && l.v[k - 1].sec == b->sec &&
				l.v[k - 1].off == b->off))
			continue;
		if (!v || vsec != b->sec) {
			free(v);
			vsec = b->sec;
			v = sorted_relas(w, pvsub_relobj_rela_for(w->o, b->sec), &nv);
			if (!v) {
				r = -ENOMEM;
				break;
			}
		}
		/* A table ends where the next one starts at the latest. */
		uint64_t next = UINT64_MAX;
		for (size_t j = k + 1; j < l.n && l.v[j].sec == b->sec; j++)
			if (l.v[j].lea && l.v[j].off > b->off) {
				next = l.v[j].off;
				break;
			}
		uint64_t p = b->off;
		enum table_entry e = ENTRY_END;
		while (p < next && (e = table_entry(w, rela_at(v, nv, p), b->off)) == ENTRY_OK)
			p += 4;
		if (p == b->off || e == ENTRY_BAD || !only_leas(&l, b->sec, b->off, p))
			continue;
		r = jtab_push(w, b->sec, b->off, p);
	}
	free(l.v);
	free(v);
	return r;
}

/* The proven table that holds place @off of section @sec, or NULL. */
static const struct rw_jtab *jtab_at(const struct rw *w, size_t sec, uint64_t off)
{
	for (size_t k = 0; k < w->n_jtabs; k++)
		if (w->jtabs[k].sec == sec && w->jtabs[k].base <= off && off < w->jtabs[k].end)
			return &w->jtabs[k];
	return NULL;
}

static int cmp_label_ref(const void *pa, const void *pb)
{
	const struct rw_label_ref *a = pa, *b = pb;
	if (a->table != b->table)
		return a->table < b->table ? -1 : 1;
	return a->place < b->place ? -1 : a->place > b->place;
}

/* Collect the __jump_table target fields that must point at a jump label's
 * near island (w->lrefs), sorted for label_island_of(). */
static int collect_label_refs(struct rw *w)
{
	size_t cap = 0;
	for (size_t k = 0; k < w->n_win; k++) {
		const struct pvsub_mwindow *mw = &w->win[k];
		const struct rw_sect *ss;
		size_t i;
		if (mw->kind != PVSUB_WINDOW_JUMP_LABEL || mw->len != 2 ||
		    !(ss = sect_of(w, mw->section)) || !ss->decoded ||
		    (i = jump_label_unit(ss, mw)) >= ss->n || !ss->u[i].island ||
		    !ss->isl[ss->u[i].island - 1].label)
			continue;
		if (w->n_lrefs == cap) {
			cap = cap ? 2 * cap : 16;
			void *q = realloc(w->lrefs, cap * sizeof(*w->lrefs));
			if (!q)
				return -ENOMEM;
			w->lrefs = q;
		}
		w->lrefs[w->n_lrefs++] = (struct rw_label_ref){mw->table, mw->table_off + 4,
							       &ss->isl[ss->u[i].island - 1]};
	}
	if (w->n_lrefs)
		qsort(w->lrefs, w->n_lrefs, sizeof(*w->lrefs), cmp_label_ref);
	return 0;
}

/* The island whose start the __jump_table field at @place of table section
 * @tsec must now point at: the target field of a 2-byte jump label's entry
 * that reaches its target through one; NULL otherwise. */
static const struct rw_island *label_island_of(const struct rw *w, size_t tsec, uint64_t place)
{
	struct rw_label_ref key = {tsec, place, NULL};
	const struct rw_label_ref *r =
		w->n_lrefs ? bsearch(&key, w->lrefs, w->n_lrefs, sizeof(key), cmp_label_ref) : NULL;
	return r ? r->is : NULL;
}

static void fix_relocation(struct rw *w, size_t rs, Elf64_Rela *ra, const struct symmap *m)
{
	const struct pvsub_relobj *o = w->o;
	size_t tsec = o->sec[rs].sh.sh_info;
	const char *tname = o->sec[tsec].name;
	uint32_t type = ELF64_R_TYPE(ra->r_info);
	size_t symi = ELF64_R_SYM(ra->r_info);
	uint64_t old_place = ra->r_offset, np;
	int64_t ob, nb;
	bool alloc = o->sec[tsec].sh.sh_flags & SHF_ALLOC;
	Elf64_Sym sym = {0};

	if (type == R_X86_64_NONE) {
		carry_none(w, tsec, ra);
		return;
	}
	if (symi && symi < pvsub_relobj_sym_count(o))
		pvsub_relobj_sym_get(o, symi, &sym);
	struct rw_sect *ss = symi && sym.st_shndx < o->n_sec ? sect_of(w, sym.st_shndx) : NULL;
	bool into = ss && ss->rewrite && !reloc_got(type);

	if (into && !rw_reloc(type)) {
		refuse(w, tname, old_place,
		       "relocation type %u refers into rewritten code and is not supported",
		       (unsigned)type);
		return;
	}

	if (!place_field(w, tsec, old_place, type, &np, &ob, &nb)) {
		struct rw_sect *ps = sect_of(w, tsec);
		if (alloc && ((ps && ps->rewrite) || into))
			refuse(w, tname, old_place, "relocation cannot be moved%s",
			       ps && !ps->decoded ? " (its code does not decode)" : "");
		return;
	}
	ra->r_offset = np;
	if (!into) {
		/* The target does not move; only the field's bias may have. */
		ra->r_addend += ob - nb;
		return;
	}
	if (strcmp(tname, ".eh_frame") == 0) {
		refuse(w, tname, old_place,
		       "DWARF unwind tables describe %s, and the rewriter cannot update them "
		       "(build with -fno-asynchronous-unwind-tables, as the kernel does)",
		       ss->name);
		return;
	}
	/* An entry of a proven switch table: the case is its value plus
	 * its distance from the table's base, which does not move. */
	uint64_t from_base = 0;
	if (reloc_pc_relative(type) && !sect_of(w, tsec) && alloc &&
	    !pvsub_kmeta_is_code_table(tname)) {
		const struct rw_jtab *jt = jtab_at(w, tsec, old_place);
		if (jt) {
			from_base = old_place - jt->base;
		} else if (ELF64_ST_TYPE(sym.st_info) == STT_SECTION || ra->r_addend != 0) {
			refuse(w, tname, old_place,
			       "PC-relative data reference to %s+%#" PRIx64
			       " (it may be a jump-table difference, which cannot be moved safely)",
			       ss->name, (uint64_t)(sym.st_value + (uint64_t)ra->r_addend));
			return;
		}
	}
	uint64_t ref = sym.st_value + (uint64_t)ra->r_addend + (uint64_t)ob - from_base;
	uint64_t nref;
	bool orc = strcmp(tname, ".orc_unwind_ip") == 0;
	bool lock = strcmp(tname, ".smp_locks") == 0;
	const struct rw_island *lis = label_island_of(w, tsec, old_place);
	if (lis) {
		nref = island_jmp(lis);
	} else if (orc ? !map_offset(ss, ref, true, &nref) : !map_site(ss, ref, lock, &nref)) {
		/* Debug information (not loaded) may point anywhere; leave it. */
		if (alloc)
			refuse(w, tname, old_place,
			       "reference to %s+%#" PRIx64
			       " (not an instruction boundary) cannot be moved",
			       ss->name, ref);
		return;
	}
	ra->r_addend = (int64_t)(nref + from_base - m->value[symi]) - nb;
}

/* --- .eh_frame ------------------------------------------------------------------- */

/*
 * DWARF call frame information (.eh_frame, which gcc and clang emit by
 * default, -fasynchronous-unwind-tables) for rewritten code.  Each FDE
 * whose pc_begin points into a rewritten section gets its start mapped as
 * a function symbol's (map_start), its end as a symbol's end (map_pad),
 * and its CFA program re-encoded with every row's address mapped with
 * map_pad: the state after an instruction also holds for the padding in
 * front of the next one.  Rows change length, so the section is laid out
 * again: CIEs and other FDEs are copied, CIE pointers and the places of
 * its relocations follow.
 *
 * The section is read as far as that needs, every field bounds-checked,
 * and refused where it holds anything else: a 64-bit length, a CIE
 * augmentation other than z with R, P, L, S, a pointer encoding other
 * than 4 or 8 bytes (pc_begin: PC-relative, 4 bytes), a code alignment
 * other than 1, DW_CFA_set_loc or an operation it does not know, a row
 * inside an instruction that changed, an LSDA (C++ call-site tables are
 * not moved) on an FDE for rewritten code, or a relocation anywhere but
 * pc_begin and the personality and LSDA pointers.
 *
 * Inside a rule's sequence the stack or the CFA's register may be moved
 * for a moment (sp-rebase, scratch and the push rules, lea-arith on rsp,
 * disp-rebase of rbp).  The program is interpreted as it is copied (the
 * CIE's initial rules, remember/restore_state), and each such sequence is
 * followed instruction by instruction from its bytes: pushes, pops and
 * `lea d(%reg), %reg` move a register by a known amount, a call leaves rsp
 * as it was.  Where the CFA then differs from the row in force, a row
 * (DW_CFA_def_cfa_offset, or _sf when negative) is added at that
 * instruction's start, and at the sequence's end one that gives the row
 * back, so that an unwind starting at any instruction (a signal handler
 * that walks the stack) finds the caller.  Refused instead, as nothing
 * exact can be said: a sequence that moves a register or the stack where
 * the CFA or a register rule is a DWARF expression, that moves rsp where a
 * rule keeps a caller's value in it, that writes the CFA's register other
 * than by those forms (the copied original instruction included, when
 * more of the sequence follows it), or that overwrites a register whose
 * caller's value the unwinder reads from it (a callee-saved register with
 * its initial rule, or one another register's value was moved into), but
 * for the one imm-lea's `mov $imm, %r` overwrites itself.  The copied
 * original instruction's own effect on other registers is the input's:
 * its next row describes it.  Two FDEs that cover the same rewritten
 * instruction are refused (compilers give a function one).
 */

struct eh_cur {
	const uint8_t *p;
	size_t end, at;
	bool bad;
};

static uint64_t eh_u(struct eh_cur *c, unsigned size)
{
	if (c->bad || size > c->end - c->at) {
		c->bad = true;
		return 0;
	}
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)c->p[c->at + i] << (8 * i);
	c->at += size;
	return v;
}

static uint64_t eh_uleb(struct eh_cur *c)
{
	uint64_t v = 0;
	for (unsigned shift = 0; !c->bad; shift += 7) {
		if (c->at >= c->end || shift > 63) {
			c->bad = true;
			break;
		}
		uint8_t b = c->p[c->at++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	return v;
}

static int64_t eh_sleb(struct eh_cur *c)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b = 0;
	do {
		if (c->at >= c->end || shift > 63) {
			c->bad = true;
			return 0;
		}
		b = c->p[c->at++];
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

/* Bytes of a pointer of encoding @enc (DW_EH_PE_*), 0 for one this reader
 * does not take (uleb128, sleb128, 2 bytes), 255 for DW_EH_PE_omit. */
static unsigned eh_ptr_size(uint8_t enc)
{
	if (enc == 0xff)
		return 255;
	if ((enc & 0x70) > 0x10) /* only absolute and PC-relative */
		return 0;
	switch (enc & 0x0f) {
	case 0x00: /* absptr */
	case 0x04: /* udata8 */
	case 0x0c: /* sdata8 */
		return 8;
	case 0x03: /* udata4 */
	case 0x0b: /* sdata4 */
		return 4;
	default:
		return 0;
	}
}

/*
 * The row a CFA program has reached, as far as the rows inside sequences
 * need it: the CFA (a register and an offset, or an expression) and each
 * register's kind of rule.  DWARF numbers the registers rax 0, rdx 1, rcx
 * 2, rbx 3, rsi 4, rdi 5, rbp 6, rsp 7, r8-r15 8-15, the return address 16.
 */
#define EH_REGS 17
#define EH_RSP 7
#define EH_STACK 8

enum eh_rule {
	EH_SAME,   /* the caller's value is the register's (the initial rule) */
	EH_SAVED,  /* in memory, or computed from the CFA */
	EH_IN_REG, /* in another register (DW_CFA_register) */
	EH_EXPR,   /* a DWARF expression: any register may be read */
	EH_UNDEF,  /* not recoverable */
};

struct eh_state {
	int cfa_reg; /* -1: DW_CFA_def_cfa_expression */
	int64_t cfa_off;
	uint8_t rule[EH_REGS];	 /* enum eh_rule */
	uint8_t in_reg[EH_REGS]; /* EH_IN_REG: the register that holds it */
	/* A register beyond the general ones and the return address (an
	 * xmm, say) got a rule that reads registers (an expression, or its
	 * value kept in one): not tracked one by one, so taken to read any
	 * from then on.  SysV code never saves those. */
	bool high_reads;
};

/* A program being followed: the row, the CIE's initial one (for
 * DW_CFA_restore) and remember_state's stack. */
struct eh_run {
	struct eh_state cur;
	const struct eh_state *init;
	int64_t data_align;
	struct eh_state stack[EH_STACK];
	unsigned depth;
	bool deep; /* remember_state nested past EH_STACK: rows unknown */
};

/* A factored offset (sleb128 at @c) times the data alignment; an
 * overflow makes @c bad. */
static int64_t eh_factored(const struct eh_run *r, struct eh_cur *c)
{
	int64_t v;
	if (__builtin_mul_overflow(eh_sleb(c), r->data_align, &v))
		c->bad = true;
	return v;
}

/* Register @reg (DWARF number) gets rule @kind. */
static void eh_set_rule(struct eh_run *r, uint64_t reg, enum eh_rule kind, uint64_t in)
{
	if (reg >= EH_REGS) {
		if (kind == EH_EXPR || kind == EH_IN_REG)
			r->cur.high_reads = true;
		return;
	}
	r->cur.rule[reg] = (uint8_t)kind;
	r->cur.in_reg[reg] = (uint8_t)(in < EH_REGS ? in : EH_REGS);
}

static void eh_restore_rule(struct eh_run *r, uint64_t reg)
{
	if (reg < EH_REGS && r->init) {
		r->cur.rule[reg] = r->init->rule[reg];
		r->cur.in_reg[reg] = r->init->in_reg[reg];
	} else {
		eh_set_rule(r, reg, EH_SAME, 0);
	}
}

/* Skip a DWARF expression block (uleb128 length, bytes). */
static void eh_block(struct eh_cur *c)
{
	uint64_t len = eh_uleb(c);
	if (c->bad || len > c->end - c->at)
		c->bad = true;
	else
		c->at += (size_t)len;
}

/* The CFA operations that do not advance the location: the operands of
 * @op at @c read and the row @r updated; false for an operation this
 * reader does not know (or DW_CFA_set_loc, whose address would move). */
static bool eh_apply(struct eh_run *r, struct eh_cur *c, uint8_t op)
{
	uint64_t reg, x;
	if (op >= 0xc0) { /* restore */
		eh_restore_rule(r, op & 0x3f);
		return true;
	}
	if (op >= 0x80) { /* offset */
		eh_uleb(c);
		eh_set_rule(r, op & 0x3f, EH_SAVED, 0);
		return true;
	}
	switch (op) {
	case 0x00: /* nop */
		return true;
	case 0x0a: /* remember_state */
		if (r->depth < EH_STACK)
			r->stack[r->depth] = r->cur;
		else
			r->deep = true;
		r->depth++;
		return true;
	case 0x0b: /* restore_state */
		if (r->depth > 0 && --r->depth < EH_STACK)
			r->cur = r->stack[r->depth];
		return true;
	case 0x06: /* restore_extended */
		eh_restore_rule(r, eh_uleb(c));
		return true;
	case 0x07: /* undefined */
		eh_set_rule(r, eh_uleb(c), EH_UNDEF, 0);
		return true;
	case 0x08: /* same_value */
		eh_set_rule(r, eh_uleb(c), EH_SAME, 0);
		return true;
	case 0x0d: /* def_cfa_register */
		r->cur.cfa_reg = (int)(eh_uleb(c) & 0xffff);
		return true;
	case 0x0e: /* def_cfa_offset */
		r->cur.cfa_off = (int64_t)eh_uleb(c);
		return true;
	case 0x13: /* def_cfa_offset_sf */
		r->cur.cfa_off = eh_factored(r, c);
		return true;
	case 0x2e: /* GNU_args_size */
		eh_uleb(c);
		return true;
	case 0x05: /* offset_extended */
	case 0x2f: /* GNU_negative_offset_extended */
	case 0x14: /* val_offset */
		reg = eh_uleb(c);
		eh_uleb(c);
		eh_set_rule(r, reg, EH_SAVED, 0);
		return true;
	case 0x11: /* offset_extended_sf */
	case 0x15: /* val_offset_sf */
		reg = eh_uleb(c);
		eh_sleb(c);
		eh_set_rule(r, reg, EH_SAVED, 0);
		return true;
	case 0x09: /* register */
		reg = eh_uleb(c);
		x = eh_uleb(c);
		eh_set_rule(r, reg, EH_IN_REG, x);
		return true;
	case 0x0c: /* def_cfa */
		r->cur.cfa_reg = (int)(eh_uleb(c) & 0xffff);
		r->cur.cfa_off = (int64_t)eh_uleb(c);
		return true;
	case 0x12: /* def_cfa_sf */
		r->cur.cfa_reg = (int)(eh_uleb(c) & 0xffff);
		r->cur.cfa_off = eh_factored(r, c);
		return true;
	case 0x0f: /* def_cfa_expression: a block */
		eh_block(c);
		r->cur.cfa_reg = -1;
		return true;
	case 0x10: /* expression: register, block */
	case 0x16: /* val_expression */
		reg = eh_uleb(c);
		eh_block(c);
		eh_set_rule(r, reg, EH_EXPR, 0);
		return true;
	default:
		return false;
	}
}

/* What an FDE needs from its CIE. */
struct eh_cie {
	uint64_t off;
	uint64_t code_align;
	int64_t data_align;
	struct eh_state init; /* after its initial instructions */
	uint8_t fde_enc;
	bool has_lsda;
	uint8_t lsda_enc;
	uint64_t pers_at; /* place of the personality pointer, 0 none */
	unsigned pers_size;
};

struct eh {
	struct rw *w;
	const uint8_t *in;
	size_t size;
	struct eh_cie *cie;
	size_t n_cie;
	struct pvsub_buf out;
	bool refused;
	uint64_t fde; /* the FDE being re-encoded, for refusals */
};

static _printf_format_(3, 4) void eh_refuse(struct eh *e, uint64_t off, const char *fmt, ...)
{
	char msg[PVSUB_DIAG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	refuse(e->w, ".eh_frame", off, "DWARF unwind table: %s", msg);
	e->refused = true;
}

/* The row @cie's initial instructions, in [@at, @end) of @in, set up;
 * an operation this reader does not know leaves the CFA unknown (an
 * expression), which only a sequence that moves it would need. */
static void eh_cie_rows(struct eh_cie *cie, const uint8_t *in, size_t at, size_t end)
{
	struct eh_run r = {.data_align = cie->data_align};
	struct eh_cur c = {in, end, at, false};
	memset(r.cur.rule, EH_SAME, sizeof(r.cur.rule));
	r.cur.cfa_reg = -1;
	while (c.at < c.end && !c.bad) {
		uint8_t op = in[c.at++];
		if ((op & 0xc0) == 0x40 || (op >= 0x02 && op <= 0x04) || !eh_apply(&r, &c, op)) {
			c.bad = true;
			break;
		}
	}
	if (c.bad || r.depth)
		r.cur.cfa_reg = -1;
	cie->init = r.cur;
}

/* Read the CIE at @off (its length field) of @len bytes after the length. */
static void eh_read_cie(struct eh *e, uint64_t off, uint64_t len)
{
	struct eh_cur c = {e->in, (size_t)(off + 4 + len), (size_t)off + 8, false};
	struct eh_cie cie = {.off = off, .fde_enc = 0xff, .lsda_enc = 0xff};
	unsigned version = (unsigned)eh_u(&c, 1);
	size_t aug = c.at;
	while (c.at < c.end && e->in[c.at])
		c.at++;
	size_t aug_end = c.at;
	(void)eh_u(&c, 1); /* the NUL */
	if (c.bad || (version != 1 && version != 3)) {
		eh_refuse(e, off, "CIE version %u is not supported", version);
		return;
	}
	if (aug_end == aug || e->in[aug] != 'z' ||
	    strspn((const char *)e->in + aug, "zRPLS") != aug_end - aug) {
		eh_refuse(e, off, "CIE augmentation \"%.*s\" is not supported",
			  (int)(aug_end - aug > 16 ? 16 : aug_end - aug),
			  (const char *)e->in + aug);
		return;
	}
	cie.code_align = eh_uleb(&c);
	cie.data_align = eh_sleb(&c);
	if (version == 1)
		(void)eh_u(&c, 1);
	else
		(void)eh_uleb(&c);
	uint64_t alen = eh_uleb(&c);
	if (c.bad || alen > c.end - c.at) {
		eh_refuse(e, off, "CIE fields run past its end");
		return;
	}
	struct eh_cur a = {e->in, c.at + (size_t)alen, c.at, false};
	for (size_t k = aug + 1; k < aug_end && !a.bad; k++) {
		uint8_t enc;
		switch (e->in[k]) {
		case 'R':
			cie.fde_enc = (uint8_t)eh_u(&a, 1);
			break;
		case 'L':
			cie.has_lsda = true;
			cie.lsda_enc = (uint8_t)eh_u(&a, 1);
			if (eh_ptr_size(cie.lsda_enc) == 0)
				a.bad = true;
			break;
		case 'P':
			enc = (uint8_t)eh_u(&a, 1);
			cie.pers_size = eh_ptr_size(enc & 0x7f);
			if (cie.pers_size == 0 || cie.pers_size == 255) {
				a.bad = true;
				break;
			}
			cie.pers_at = a.at;
			(void)eh_u(&a, cie.pers_size);
			break;
		default: /* S: no data */
			break;
		}
	}
	if (a.bad) {
		eh_refuse(e, off, "CIE augmentation data is not understood");
		return;
	}
	eh_cie_rows(&cie, e->in, a.end, c.end);
	void *p = realloc(e->cie, (e->n_cie + 1) * sizeof(*e->cie));
	if (!p) {
		e->w->err = -ENOMEM;
		e->refused = true;
		return;
	}
	e->cie = p;
	e->cie[e->n_cie++] = cie;
}

/* The CIE at section offset @off, or NULL.  e->cie is in section order
 * (the walk appends each as it meets it), so a binary search finds it. */
static const struct eh_cie *eh_cie_at(const struct eh *e, uint64_t off)
{
	size_t lo = 0, hi = e->n_cie;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->cie[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < e->n_cie && e->cie[lo].off == off ? &e->cie[lo] : NULL;
}

static int eh_append(struct eh *e, const void *p, size_t n)
{
	int r = pvsub_buf_append(&e->out, p, n);
	if (r < 0)
		e->w->err = r;
	return r;
}

/* Append an advance of @d bytes (code alignment 1). */
static int eh_advance(struct eh *e, uint64_t d)
{
	uint8_t b[5];
	unsigned n;
	if (d == 0)
		return 0;
	if (d < 0x40) {
		b[0] = (uint8_t)(0x40 | d);
		n = 1;
	} else if (d <= 0xff) {
		b[0] = 0x02;
		b[1] = (uint8_t)d;
		n = 2;
	} else if (d <= 0xffff) {
		b[0] = 0x03;
		rw_put_le(b + 1, d, 2);
		n = 3;
	} else {
		b[0] = 0x04;
		rw_put_le(b + 1, d, 4);
		n = 5;
	}
	return eh_append(e, b, n);
}

/* The relocations of .eh_frame, by place: where each is in the section's
 * own (writable) array. */
struct eh_rel {
	uint64_t off;
	size_t idx;
};

static int cmp_eh_rel(const void *a, const void *b)
{
	const struct eh_rel *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

struct eh_pass {
	struct eh *e;
	Elf64_Rela *ra;	   /* the section's relocations, writable */
	struct eh_rel *by; /* sorted */
	size_t n;
	uint64_t *cie_new; /* new offset of e->cie[k] */
};

/* The first relocation (in p->by) at @from or after: the entries' own
 * relocations are found by binary search, so that the work stays
 * proportional to the section, however many entries it holds. */
static size_t eh_rel_first(const struct eh_pass *p, uint64_t from)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->by[mid].off < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The index (into p->ra) of the one relocation at @place in [@from, @to),
 * or SIZE_MAX; every relocation in the range must be at one of the
 * @n_allowed places, else a refusal. */
static bool eh_claim(struct eh_pass *p, uint64_t from, uint64_t to, const uint64_t *allowed,
		     size_t n_allowed)
{
	for (size_t k = eh_rel_first(p, from); k < p->n && p->by[k].off < to; k++) {
		bool ok = false;
		for (size_t j = 0; j < n_allowed; j++)
			ok |= p->by[k].off == allowed[j];
		if (!ok || (k > 0 && p->by[k - 1].off == p->by[k].off)) {
			eh_refuse(
				p->e, p->by[k].off,
				"a relocation at a place that is not a pointer this reader knows");
			return false;
		}
	}
	return true;
}

static size_t eh_rel_at(const struct eh_pass *p, uint64_t place)
{
	size_t k = eh_rel_first(p, place);
	return k < p->n && p->by[k].off == place ? p->by[k].idx : SIZE_MAX;
}

/* Relocations in [@from, @to) follow their entry to @newoff. */
static void eh_move_relocs(struct eh_pass *p, uint64_t from, uint64_t to, uint64_t newoff)
{
	for (size_t k = eh_rel_first(p, from); k < p->n && p->by[k].off < to; k++)
		p->ra[p->by[k].idx].r_offset = newoff + (p->by[k].off - from);
}

/* The names of the general registers, for refusals. */
static const char *const eh_gpr_name[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
					    "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
/* DWARF's number of each general register (encoding order). */
static const uint8_t eh_dwarf_reg[16] = {0, 2, 1, 3, 7, 6, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15};

/* A sequence followed so far: the stack lower by @sp bytes (@sp_lost: by
 * an amount not known), each register moved up by @mv, @clob the registers
 * written otherwise, @copy the registers the copy of the original
 * instruction may have written, @pushed the registers saved by the pushes
 * not yet popped. */
struct eh_seq {
	int64_t sp;
	bool sp_lost;
	int64_t mv[16];
	uint16_t clob;
	uint16_t copy;
	uint8_t pushed[8];
	unsigned n_pushed;
};

/* `lea d(%r), %r` with REX.W (what the rules move a register with): the
 * register, and its move in *@d; -1 for anything else. */
static int eh_lea_self(const uint8_t *b, const struct pvsub_insn *in, int64_t *d)
{
	unsigned op = in->opcode_offset;
	if (in->opcode_len != 1 || op != 1 || (b[0] & 0xf8) != 0x48 || b[op] != 0x8d ||
	    in->mem_base < 0 || in->mem_base > 15 || in->mem_index >= 0 || in->modrm_offset < 0)
		return -1;
	unsigned modrm = b[in->modrm_offset];
	unsigned dest = ((modrm >> 3) & 7u) | ((b[0] & 4u) << 1);
	if (dest != (unsigned)in->mem_base)
		return -1;
	*d = in->disp_offset >= 0 ? rw_get_sle(b + in->disp_offset, in->disp_size) : 0;
	return (int)dest;
}

/* A one-byte push or pop of a 64-bit register (REX.B allowed): the
 * register, *@pop, or -1. */
static int eh_push_pop(const uint8_t *b, const struct pvsub_insn *in, bool *pop)
{
	unsigned op = in->opcode_offset;
	if (in->len != op + 1 || (op == 1 && b[0] != 0x41) || op > 1 || b[op] < 0x50 ||
	    b[op] > 0x5f)
		return -1;
	*pop = b[op] >= 0x58;
	return (int)((b[op] & 7u) | (op ? 8u : 0u));
}

/* The general registers @in (at @b) may write: its register operands and
 * implicit ones, less those only named as the base or index of its memory
 * operand (a legacy encoding's ModRM.reg is kept, as is any register of a
 * VEX or EVEX one). */
static uint16_t eh_may_write(const uint8_t *b, const struct pvsub_insn *in)
{
	if (!in->regs_known)
		return 0xffff;
	uint16_t w = in->gpr_operands | in->gpr_implicit, mem = 0;
	if (in->mem_base >= 0 && in->mem_base < 16)
		mem |= (uint16_t)(1u << in->mem_base);
	if (in->mem_index >= 0 && in->mem_index < 16)
		mem |= (uint16_t)(1u << in->mem_index);
	if (!mem || in->modrm_offset < 0 || memchr(b, 0xc4, in->opcode_offset) ||
	    memchr(b, 0xc5, in->opcode_offset) || memchr(b, 0x62, in->opcode_offset))
		return w;
	unsigned rex = pvsub_x86enc_rex(b, in);
	unsigned reg = ((b[in->modrm_offset] >> 3) & 7u) | ((rex & 4u) << 1);
	mem &= (uint16_t) ~(1u << reg);
	return w & (uint16_t)(~mem | in->gpr_implicit);
}

/* What instruction @in at @b, at offset @at of @u's sequence, does to @q. */
static void eh_seq_step(struct eh_seq *q, const struct rw_unit *u, unsigned at, const uint8_t *b,
			const struct pvsub_insn *in)
{
	bool pop, call = in->is_branch && strncmp(in->mnemonic, "call", 4) == 0;
	int64_t d;
	int r = eh_push_pop(b, in, &pop);
	if (r >= 0 && !pop) {
		q->sp += 8;
		if (q->n_pushed < PVSUB_ARRAY_SIZE(q->pushed))
			q->pushed[q->n_pushed++] = (uint8_t)r;
		return;
	}
	if (r >= 0) {
		q->sp -= 8;
		if (r == 4) {
			q->sp_lost = true;
		} else if (q->n_pushed && q->pushed[q->n_pushed - 1] == r) {
			q->n_pushed--;
			q->clob &= (uint16_t) ~(1u << r); /* its value is back */
			q->mv[r] = 0;
		} else {
			q->clob |= (uint16_t)(1u << r);
		}
		return;
	}
	if ((r = eh_lea_self(b, in, &d)) >= 0) {
		if (r == 4)
			q->sp -= d;
		else
			q->mv[r] += d;
		return;
	}
	bool copy = u->insn_at >= 0 && at == (unsigned)u->insn_at;
	uint16_t regs = in->regs_known ? in->gpr_operands | in->gpr_implicit : 0xffff;
	if (copy && in->regs_known && !memchr(b, 0x66, in->opcode_offset) &&
	    (strcmp(in->mnemonic, "push") == 0 || strcmp(in->mnemonic, "pop") == 0)) {
		q->sp += in->mnemonic[1] == 'u' ? 8 : -8;
		regs &= (uint16_t) ~(1u << 4);
	}
	if (call)
		regs &= (uint16_t) ~(1u << 4); /* the callee returns with rsp as it was */
	if (regs & (1u << 4))
		q->sp_lost = true;
	/* The copy's own writes are the input's (its next row tells), but
	 * the instructions after it still run under the row before it. */
	if (!copy)
		q->clob |= regs & (uint16_t) ~(1u << 4);
	else
		q->copy |= eh_may_write(b, in) & (uint16_t) ~(1u << 4);
}

/* Does a register rule of @st read general register @g (encoding number):
 * a DWARF expression (which may read any), or a caller's value kept in
 * @g? */
static bool eh_rule_reads(const struct eh_state *st, unsigned g)
{
	unsigned dw = eh_dwarf_reg[g];
	if (st->high_reads)
		return true;
	for (unsigned k = 0; k < EH_REGS; k++)
		if (st->rule[k] == EH_EXPR || (st->rule[k] == EH_IN_REG && st->in_reg[k] == dw))
			return true;
	return false;
}

/* Does the unwinder read general register @g under @st, other than as the
 * CFA's register: a rule that reads it, or its own caller's value (a
 * callee-saved register with its initial rule)? */
static bool eh_reads(const struct eh_state *st, unsigned g)
{
	bool callee_saved = g == 3 || g == 5 || g >= 12;
	return (callee_saved && st->rule[eh_dwarf_reg[g]] == EH_SAME) || eh_rule_reads(st, g);
}

/* Append a row at @to (from *@new_loc) setting the CFA offset to @off. */
static bool eh_row(struct eh *e, const struct eh_run *r, uint64_t to, uint64_t *new_loc,
		   int64_t off)
{
	uint8_t b[12];
	unsigned n = 1;
	if (off >= 0) {
		b[0] = 0x0e;
		for (uint64_t v = (uint64_t)off;; v >>= 7) {
			b[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
			if (v <= 0x7f)
				break;
		}
	} else {
		if (r->data_align == 0 || off == INT64_MIN || off % r->data_align) {
			eh_refuse(e, e->fde,
				  "a CFA offset of %" PRId64 " that the CIE's data "
				  "alignment cannot express",
				  off);
			return false;
		}
		int64_t v = off / r->data_align;
		b[0] = 0x13;
		for (bool more = true; more;) {
			uint8_t x = (uint8_t)(v & 0x7f);
			v >>= 7;
			more = !((v == 0 && !(x & 0x40)) || (v == -1 && (x & 0x40)));
			b[n++] = (uint8_t)(x | (more ? 0x80 : 0));
		}
	}
	if (eh_advance(e, to - *new_loc) < 0 || eh_append(e, b, n) < 0)
		return false;
	*new_loc = to;
	return true;
}

/* The register imm-lea's unit @u loads (`mov $imm, %r`: its one register
 * operand, no memory one), whose value the original instruction itself
 * replaces: a caller's value the row in force says is there is lost one
 * instruction later in the input, so the sequence may write it first.
 * -1 for any other unit. */
static int eh_own_dest(const struct rw_unit *u)
{
	const struct pvsub_insn *in = &u->in;
	uint16_t g = in->gpr_operands;
	if (u->rule != RULE_IMM_LEA || !in->regs_known || in->gpr_implicit || in->mem_operands ||
	    strcmp(in->mnemonic, "mov") != 0 || g == 0 || (g & (g - 1)))
		return -1;
	return __builtin_ctz(g);
}

/* The CFA offset @q leaves under @st (the row in force at the unit), or a
 * refusal at @u, which *@ok says. */
static int64_t eh_seq_cfa(struct eh *e, const struct rw_sect *ss, const struct rw_unit *u,
			  const struct eh_run *r, const struct eh_seq *q, bool *ok)
{
	const struct eh_state *st = &r->cur;
	uint16_t moved = q->clob;
	for (unsigned g = 0; g < 16; g++)
		if (q->mv[g])
			moved |= (uint16_t)(1u << g);
	*ok = false;
	if (q->sp == 0 && !q->sp_lost && !moved && !q->copy) {
		*ok = true;
		return st->cfa_off;
	}
	if (st->cfa_reg < 0 || r->deep) {
		eh_refuse(e, e->fde,
			  "%s+%#" PRIx64 ": a sequence that moves registers where the "
			  "CFA is a DWARF expression",
			  ss->name, u->off);
		return 0;
	}
	int g = -1;
	for (unsigned k = 0; k < 16; k++)
		if (eh_dwarf_reg[k] == st->cfa_reg)
			g = (int)k;
	if (g < 0 || (g == 4 && q->sp_lost) || (g != 4 && ((q->clob | q->copy) & (1u << g)))) {
		eh_refuse(e, e->fde,
			  "%s+%#" PRIx64 ": a sequence that writes the CFA's register "
			  "in a way no row can follow",
			  ss->name, u->off);
		return 0;
	}
	if ((q->sp || q->sp_lost) && eh_rule_reads(st, 4)) {
		eh_refuse(e, e->fde,
			  "%s+%#" PRIx64 ": a sequence that moves %%rsp, which a register's "
			  "rule (an expression or DW_CFA_register) reads there",
			  ss->name, u->off);
		return 0;
	}
	/* The register an imm-lea site's mov loads is its own destination:
	 * its "same value" rule no longer holds after the input's mov either,
	 * but a rule that reads it (another register kept in it, an
	 * expression) still does until the sequence ends. */
	int own = eh_own_dest(u);
	for (unsigned k = 0; k < 16; k++) {
		if (k == 4 || !(moved & (1u << k)) ||
		    !((int)k == own ? eh_rule_reads(st, k) : eh_reads(st, k)))
			continue;
		eh_refuse(e, e->fde,
			  "%s+%#" PRIx64 ": a sequence that overwrites %%%s, whose "
			  "caller's value the unwinder reads from it there",
			  ss->name, u->off, eh_gpr_name[k]);
		return 0;
	}
	/* The copied instruction's writes are described by the input's next
	 * row, which takes effect only where the sequence ends: before that,
	 * a rule that reads what it wrote reads the new value. */
	for (unsigned k = 0; k < 16; k++) {
		if (k == 4 || !(q->copy & (1u << k)) || !eh_rule_reads(st, k))
			continue;
		eh_refuse(e, e->fde,
			  "%s+%#" PRIx64 ": a sequence whose copied instruction writes %%%s, "
			  "which a register's rule (an expression or DW_CFA_register) reads "
			  "there, with more of the sequence after it",
			  ss->name, u->off, eh_gpr_name[k]);
		return 0;
	}
	int64_t off;
	if (g == 4 ? __builtin_add_overflow(st->cfa_off, q->sp, &off)
		   : __builtin_sub_overflow(st->cfa_off, q->mv[g], &off)) {
		eh_refuse(e, e->fde, "%s+%#" PRIx64 ": a CFA offset out of range", ss->name,
			  u->off);
		return 0;
	}
	*ok = true;
	return off;
}

/*
 * The rows inside the sequence of unit @u of @ss under the row @r has
 * reached (see the top of this part): one at each instruction after which
 * the CFA differs from the last, and one at its end that gives the row
 * back.  *@new_loc is the output location of the last row.  False after a
 * refusal.
 */
static bool eh_seq_rows(struct eh *e, const struct rw_sect *ss, const struct rw_unit *u,
			const struct eh_run *r, uint64_t *new_loc)
{
	struct eh_seq q = {0};
	int64_t last = r->cur.cfa_off;
	uint64_t base = insn_start(u);
	for (unsigned at = 0; at < u->seq_len;) {
		struct pvsub_insn in;
		if (pvsub_decoder_decode(e->w->opts->decoder, u->seq + at, u->seq_len - at, at,
					 &in) < 0) {
			eh_refuse(e, e->fde, "%s+%#" PRIx64 ": a sequence that does not decode",
				  ss->name, u->off);
			return false;
		}
		eh_seq_step(&q, u, at, u->seq + at, &in);
		at += in.len;
		if (at >= u->seq_len)
			break;
		bool ok;
		int64_t off = eh_seq_cfa(e, ss, u, r, &q, &ok);
		if (!ok)
			return false;
		if (off != last && !eh_row(e, r, base + at, new_loc, off))
			return false;
		last = off;
	}
	if (last != r->cur.cfa_off && !eh_row(e, r, base + u->seq_len, new_loc, r->cur.cfa_off))
		return false;
	return true;
}

/* The rows of the sequences of the units that start in [@from, @to) of
 * @ss (see eh_seq_rows). */
static bool eh_seqs_rows(struct eh *e, const struct rw_sect *ss, uint64_t from, uint64_t to,
			 const struct eh_run *r, uint64_t *new_loc)
{
	for (size_t i = rw_unit_at(ss, from); i < ss->n && ss->u[i].off < to; i++) {
		const struct rw_unit *u = &ss->u[i];
		if (u->rule == RULE_NONE || u->rule == RULE_TRAP || u->off < from)
			continue;
		if (!eh_seq_rows(e, ss, u, r, new_loc))
			return false;
	}
	return true;
}

/*
 * The CFA program of the FDE at @off (ending at @end, instructions from
 * @ins, CIE @cie) for [@start, @start + @range) of rewritten section @ss,
 * whose start is now @nstart: appended with every row moved and rows
 * added inside sequences.  False after a refusal.
 */
static bool eh_remap_program(struct eh *e, const struct eh_cie *cie, const struct rw_sect *ss,
			     uint64_t ins, uint64_t end, uint64_t start, uint64_t range,
			     uint64_t nstart)
{
	struct eh_cur c = {e->in, (size_t)end, (size_t)ins, false};
	struct eh_run run = {.cur = cie->init, .init = &cie->init, .data_align = cie->data_align};
	uint64_t old_loc = start, new_loc = nstart;
	size_t last = e->out.len;
	while (c.at < c.end && !c.bad) {
		size_t op_at = c.at;
		uint8_t op = e->in[c.at++];
		uint64_t adv;
		if ((op & 0xc0) == 0x40)
			adv = op & 0x3f;
		else if (op >= 0x02 && op <= 0x04)
			adv = eh_u(&c, op == 0x02 ? 1 : op == 0x03 ? 2 : 4);
		else {
			if (!eh_apply(&run, &c, op)) {
				eh_refuse(e, op_at, "CFA operation %#x is not supported", op);
				return false;
			}
			if (c.bad)
				break;
			if (eh_append(e, e->in + op_at, c.at - op_at) < 0)
				return false;
			if (op != 0x00) /* trailing nops are padding, made again */
				last = e->out.len;
			continue;
		}
		if (c.bad)
			break;
		uint64_t to = nstart, from = old_loc;
		old_loc += adv;
		if (old_loc > start + range ||
		    (old_loc != start && !map_offset(ss, old_loc, true, &to))) {
			eh_refuse(e, op_at,
				  "a CFA row at %s+%#" PRIx64
				  " is inside an instruction that changed",
				  ss->name, old_loc);
			return false;
		}
		if (!eh_seqs_rows(e, ss, from, old_loc, &run, &new_loc))
			return false;
		if (to < new_loc) {
			eh_refuse(e, op_at,
				  "a CFA row at %s+%#" PRIx64 " that does not follow the "
				  "one before it",
				  ss->name, old_loc);
			return false;
		}
		if (eh_advance(e, to - new_loc) < 0)
			return false;
		new_loc = to;
		last = e->out.len;
	}
	if (c.bad) {
		eh_refuse(e, ins, "the CFA program runs past its FDE");
		return false;
	}
	e->out.len = last;
	/* The sequences after the last row. */
	return eh_seqs_rows(e, ss, old_loc, start + range, &run, &new_loc);
}

/*
 * Mark the units of @ss that start in [@start, @start + @range) as inside
 * an FDE; true, or false after a refusal when one already was.  Compilers
 * give each function one FDE: two that cover the same instruction would
 * have the rows inside its sequence made twice (and hostile input could
 * make every FDE cover all the code, for work quadratic in its size).
 */
static bool eh_cover(struct eh *e, struct rw_sect *ss, uint64_t start, uint64_t range)
{
	size_t lo = 0, hi = ss->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ss->u[mid].off < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < ss->n && ss->u[i].off - start < range; i++) {
		if (ss->u[i].eh_fde) {
			eh_refuse(e, e->fde,
				  "an FDE for %s+%#" PRIx64 " that covers %s+%#" PRIx64
				  ", which an FDE before it covers",
				  ss->name, start, ss->name, ss->u[i].off);
			return false;
		}
		ss->u[i].eh_fde = true;
	}
	return true;
}

/* Pad the entry that starts at output offset @base to a multiple of @align
 * bytes with DW_CFA_nop and write its length. */
static void eh_close_entry(struct eh *e, size_t base, unsigned align)
{
	static const uint8_t nops[8];
	size_t n = e->out.len - base;
	if (n % align)
		eh_append(e, nops, align - n % align);
	if (e->w->err)
		return;
	rw_put_le((uint8_t *)e->out.data + base, e->out.len - base - 4, 4);
}

/* The FDE at @off, @len bytes after its length field: copied, or for
 * rewritten code re-encoded (eh_remap_program). */
static void eh_fde(struct eh_pass *p, uint64_t off, uint64_t len, uint32_t id,
		   const struct symmap *m)
{
	struct eh *e = p->e;
	struct rw *w = e->w;
	uint64_t end = off + 4 + len;
	e->fde = off;
	const struct eh_cie *cie = id <= off + 4 ? eh_cie_at(e, off + 4 - id) : NULL;
	if (!cie) {
		eh_refuse(e, off, "an FDE whose CIE pointer leads to no CIE before it");
		return;
	}
	if (eh_ptr_size(cie->fde_enc) != 4 || (cie->fde_enc & 0x70) != 0x10 ||
	    cie->code_align != 1) {
		eh_refuse(e, off,
			  "FDE pointer encoding %#x or code alignment %" PRIu64 " is not supported",
			  cie->fde_enc, cie->code_align);
		return;
	}
	struct eh_cur c = {e->in, (size_t)end, (size_t)off + 8, false};
	uint64_t pc_at = c.at;
	(void)eh_u(&c, 4);
	uint64_t range = eh_u(&c, 4);
	uint64_t alen = eh_uleb(&c);
	uint64_t lsda_at = c.at;
	unsigned lsize = cie->has_lsda ? eh_ptr_size(cie->lsda_enc) : 255;
	bool lsda = lsize != 255 && alen >= lsize && lsize <= c.end - c.at &&
		    rw_get_sle(e->in + c.at, lsize) != 0;
	if (c.bad || alen > c.end - c.at) {
		eh_refuse(e, off, "FDE fields run past its end");
		return;
	}
	uint64_t ins = c.at + alen;
	uint64_t allowed[2] = {pc_at, lsda_at};
	if (!eh_claim(p, off, end, allowed, lsize != 255 ? 2 : 1))
		return;
	size_t ri = eh_rel_at(p, pc_at);
	lsda |= lsize != 255 && eh_rel_at(p, lsda_at) != SIZE_MAX;
	size_t base = e->out.len;
	uint64_t cie_new = p->cie_new[cie - e->cie];
	Elf64_Sym sym = {0};
	size_t symi = ri != SIZE_MAX ? ELF64_R_SYM(p->ra[ri].r_info) : 0;
	if (symi && symi < pvsub_relobj_sym_count(w->o))
		pvsub_relobj_sym_get(w->o, symi, &sym);
	struct rw_sect *ss = symi && sym.st_shndx < w->o->n_sec ? sect_of(w, sym.st_shndx) : NULL;
	if (!ss || !ss->rewrite) {
		/* Code that does not move: the FDE as it is. */
		if (eh_append(e, e->in + off, (size_t)(end - off)) < 0)
			return;
	} else {
		uint64_t start = sym.st_value + (uint64_t)p->ra[ri].r_addend, nstart, nend;
		if (ELF64_R_TYPE(p->ra[ri].r_info) != R_X86_64_PC32) {
			eh_refuse(e, pc_at, "pc_begin has relocation type %u",
				  (unsigned)ELF64_R_TYPE(p->ra[ri].r_info));
			return;
		}
		if (lsda) {
			eh_refuse(e, off,
				  "an FDE of %s with a language-specific data area (C++ exception "
				  "tables, whose call-site offsets the rewriter does not move)",
				  ss->name);
			return;
		}
		if (start > ss->size || range > ss->size - start ||
		    !map_offset(ss, start, false, &nstart) ||
		    !map_offset(ss, start + range, true, &nend) || (range && nend < nstart)) {
			eh_refuse(e, off,
				  "an FDE for %s+%#" PRIx64 " (%" PRIu64
				  " bytes) whose bounds cannot be moved",
				  ss->name, start, range);
			return;
		}
		if (!eh_cover(e, ss, start, range) ||
		    eh_append(e, e->in + off, (size_t)(ins - off)) < 0 ||
		    !eh_remap_program(e, cie, ss, ins, end, start, range, nstart))
			return;
		eh_close_entry(e, base, (4 + len) % 8 ? 4 : 8);
		if (w->err)
			return;
		rw_put_le((uint8_t *)e->out.data + base + 12, range ? nend - nstart : 0, 4);
		p->ra[ri].r_addend = (int64_t)(nstart - m->value[symi]);
	}
	rw_put_le((uint8_t *)e->out.data + base + 4, base + 4 - cie_new, 4);
	eh_move_relocs(p, off, end, base);
}

/* The relocation at @place (a personality pointer), when it points into
 * rewritten code, follows its target as a symbol does; false after a
 * refusal. */
static bool eh_move_pointer(struct eh_pass *p, uint64_t place, const struct symmap *m)
{
	struct rw *w = p->e->w;
	size_t ri = eh_rel_at(p, place);
	Elf64_Sym sym;
	size_t symi = ri != SIZE_MAX ? ELF64_R_SYM(p->ra[ri].r_info) : 0;
	if (symi == 0 || symi >= pvsub_relobj_sym_count(w->o))
		return true;
	pvsub_relobj_sym_get(w->o, symi, &sym);
	struct rw_sect *ss = sym.st_shndx < w->o->n_sec ? sect_of(w, sym.st_shndx) : NULL;
	if (!ss || !ss->rewrite)
		return true;
	uint64_t at = sym.st_value + (uint64_t)p->ra[ri].r_addend, nat;
	if (ELF64_R_TYPE(p->ra[ri].r_info) != R_X86_64_PC32 || !map_offset(ss, at, false, &nat)) {
		eh_refuse(p->e, place, "a personality pointer to %s+%#" PRIx64 " cannot be moved",
			  ss->name, at);
		return false;
	}
	p->ra[ri].r_addend = (int64_t)(nat - m->value[symi]);
	return true;
}

/* Does any relocation of SHT_RELA section @rs point into rewritten code? */
static bool refers_to_rewritten(struct rw *w, size_t rs)
{
	size_t n = pvsub_relobj_rela_count(w->o, rs);
	for (size_t k = 0; k < n; k++) {
		Elf64_Rela ra;
		Elf64_Sym sym;
		pvsub_relobj_rela_get(w->o, rs, k, &ra);
		size_t symi = ELF64_R_SYM(ra.r_info);
		if (symi == 0 || symi >= pvsub_relobj_sym_count(w->o))
			continue;
		pvsub_relobj_sym_get(w->o, symi, &sym);
		struct rw_sect *s = sym.st_shndx < w->o->n_sec ? sect_of(w, sym.st_shndx) : NULL;
		if (s && s->rewrite)
			return true;
	}
	return false;
}

static void eh_walk(struct eh_pass *p, const struct symmap *m)
{
	struct eh *e = p->e;
	for (uint64_t off = 0; off < e->size && !e->refused && !e->w->err;) {
		struct eh_cur c = {e->in, e->size, (size_t)off, false};
		uint64_t len = eh_u(&c, 4);
		if (!c.bad && len == 0) {
			/* A terminator: the rest as it is. */
			if (eh_claim(p, off, e->size, NULL, 0) &&
			    eh_append(e, e->in + off, (size_t)(e->size - off)) == 0)
				eh_move_relocs(p, off, e->size, off);
			return;
		}
		if (c.bad || len == 0xffffffff || len < 4 || len > e->size - off - 4) {
			eh_refuse(e, off,
				  "an entry of length %#" PRIx64 " (64-bit or past the end)", len);
			return;
		}
		uint32_t id = (uint32_t)eh_u(&c, 4);
		if (id != 0) {
			eh_fde(p, off, len, id, m);
			off += 4 + len;
			continue;
		}
		eh_read_cie(e, off, len);
		if (e->refused)
			return;
		const struct eh_cie *cie = &e->cie[e->n_cie - 1];
		uint64_t allowed[1] = {cie->pers_at};
		if (!eh_claim(p, off, off + 4 + len, allowed, cie->pers_at ? 1 : 0))
			return;
		void *q = realloc(p->cie_new, e->n_cie * sizeof(*p->cie_new));
		if (!q) {
			e->w->err = -ENOMEM;
			return;
		}
		p->cie_new = q;
		p->cie_new[e->n_cie - 1] = e->out.len;
		if (cie->pers_at && !eh_move_pointer(p, cie->pers_at, m))
			return;
		eh_move_relocs(p, off, off + 4 + len, e->out.len);
		if (eh_append(e, e->in + off, (size_t)(4 + len)) < 0)
			return;
		off += 4 + len;
	}
}

/*
 * Rewrite .eh_frame for the rewritten code (see above), its relocations
 * moved and re-biased here (fix_all_relocations() then leaves them).
 * Nothing to do when no relocation of it points into rewritten code.
 */
static int rewrite_eh_frame(struct rw *w, const struct symmap *m)
{
	size_t sec = pvsub_relobj_find(w->o, ".eh_frame");
	size_t rs = sec ? pvsub_relobj_rela_for(w->o, sec) : 0;
	if (!rs || !w->o->sec[sec].bytes || !refers_to_rewritten(w, rs))
		return 0;
	struct eh e = {.w = w, .in = w->o->sec[sec].bytes, .size = w->o->sec[sec].size};
	struct eh_pass p = {.e = &e};
	p.ra = pvsub_relobj_relas(w->o, rs, &p.n);
	p.by = malloc((p.n + 1) * sizeof(*p.by));
	if (!p.by)
		return -ENOMEM;
	for (size_t k = 0; k < p.n; k++)
		p.by[k] = (struct eh_rel){p.ra[k].r_offset, k};
	qsort(p.by, p.n, sizeof(*p.by), cmp_eh_rel);
	eh_walk(&p, m);
	int r = w->err;
	if (r == 0 && !e.refused) {
		size_t len;
		uint8_t *data = (uint8_t *)pvsub_buf_steal(&e.out, &len);
		if (!data) {
			r = -ENOMEM;
		} else {
			pvsub_relobj_set_data(w->o, sec, data, len);
			w->eh_frame_done = rs;
		}
	}
	pvsub_buf_release(&e.out);
	free(e.cie);
	free(p.by);
	free(p.cie_new);
	return r;
}

static void fix_all_relocations(struct rw *w, const struct symmap *m)
{
	if (collect_label_refs(w) < 0) {
		w->err = -ENOMEM;
		return;
	}
	for (size_t rs = 1; rs < w->o->n_sec; rs++) {
		if (w->o->sec[rs].sh.sh_type != SHT_RELA || rs == w->eh_frame_done)
			continue;
		size_t n;
		Elf64_Rela *ra = pvsub_relobj_relas(w->o, rs, &n);
		for (size_t k = 0; k < n; k++)
			fix_relocation(w, rs, &ra[k], m);
	}
}

static void write_symbols(struct rw *w, const struct symmap *m)
{
	size_t n;
	Elf64_Sym *sym = pvsub_relobj_symbols(w->o, &n);
	for (size_t k = 0; k < n; k++) {
		sym[k].st_value = m->value[k];
		sym[k].st_size = m->size[k];
	}
}

/* Re-decode the output of each rewritten section at the expected
 * boundaries: a last check that what was emitted is what was planned. */
static void self_check(struct rw *w, struct rw_sect *s)
{
	const uint8_t *out = (const uint8_t *)s->out.data;
	for (size_t i = 0; i < s->n; i++) {
		const struct rw_unit *u = &s->u[i];
		struct pvsub_insn in;
		if (u->rule != RULE_NONE)
			continue;
		if (pvsub_decoder_decode(w->opts->decoder, out + insn_start(u),
					 s->new_size - insn_start(u), insn_start(u), &in) < 0 ||
		    in.len != u->enc_len) {
			refuse(w, s->name, u->off,
			       "internal check failed: the rewritten `%s%s%s` does "
			       "not decode as planned",
			       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
			return;
		}
	}
}

/* The STT_SECTION symbol of section @idx, 0 if there is none. */
static size_t section_symbol(const struct rw *w, size_t idx)
{
	size_t n = pvsub_relobj_sym_count(w->o);
	for (size_t k = 1; k < n; k++) {
		Elf64_Sym sym;
		pvsub_relobj_sym_get(w->o, k, &sym);
		if (ELF64_ST_TYPE(sym.st_info) == STT_SECTION && sym.st_shndx == idx)
			return k;
	}
	return 0;
}

/* Is there an ORC entry at output offset @at of section @idx already?
 * (Run after the relocations were moved.) */
static bool orc_entry_exists(struct rw *w, size_t rs, size_t idx, uint64_t at)
{
	size_t n;
	const Elf64_Rela *ra = pvsub_relobj_relas(w->o, rs, &n);
	for (size_t k = 0; k < n; k++) {
		Elf64_Sym sym;
		size_t symi = ELF64_R_SYM(ra[k].r_info);
		if (symi == 0 || symi >= pvsub_relobj_sym_count(w->o))
			continue;
		pvsub_relobj_sym_get(w->o, symi, &sym);
		if (sym.st_shndx == idx && sym.st_value + (uint64_t)ra[k].r_addend == at)
			return true;
	}
	return false;
}

struct orc_add {
	struct pvsub_buf ip, entry, rela;
	size_t count;
};

/* Add @delta to the s16 at @p. */
static void orc_adjust(uint8_t *p, int32_t delta)
{
	int16_t v = (int16_t)(p[0] | (p[1] << 8));
	v = (int16_t)(v + delta);
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)((uint16_t)v >> 8);
}

/* An ORC entry at output offset @at: @entry with the stack @sp_delta lower
 * and rbp @bp_delta higher than it says (the rules check that the offsets
 * still fit). */
static int orc_push(struct rw *w, struct orc_add *a, size_t secsym, uint64_t at,
		    const uint8_t *entry, int32_t sp_delta, int32_t bp_delta)
{
	uint8_t e[ORC_ENTRY_SIZE];
	memcpy(e, entry, sizeof(e));
	unsigned sp_reg = e[4] & 0x0f, bp_reg = e[4] >> 4;
	if (sp_reg == ORC_REG_SP)
		orc_adjust(e, sp_delta);
	if (sp_reg == ORC_REG_BP || sp_reg == ORC_REG_BP_INDIRECT)
		orc_adjust(e, -bp_delta);
	if (bp_reg == ORC_REG_BP)
		orc_adjust(e + 2, -bp_delta);
	uint32_t zero = 0;
	Elf64_Rela ra = {
		.r_offset = (w->o->sec[w->orc_ip].size / 4 + a->count) * 4,
		.r_info = ELF64_R_INFO(secsym, R_X86_64_PC32),
		.r_addend = (int64_t)at,
	};
	a->count++;
	int r = pvsub_buf_append(&a->ip, &zero, 4);
	if (r == 0)
		r = pvsub_buf_append(&a->entry, e, sizeof(e));
	if (r == 0)
		r = pvsub_buf_append(&a->rela, &ra, sizeof(ra));
	return r;
}

static int append_section(struct rw *w, size_t idx, const struct pvsub_buf *more)
{
	const struct pvsub_relobj_section *s = &w->o->sec[idx];
	uint8_t *data = malloc(s->size + more->len + 1);
	if (!data)
		return -ENOMEM;
	if (s->size)
		memcpy(data, s->bytes, s->size);
	memcpy(data + s->size, more->data, more->len);
	pvsub_relobj_set_data(w->o, idx, data, s->size + more->len);
	return 0;
}

/*
 * Units that move the stack or rbp for a moment get an ORC entry at each
 * of their notes: the unit's entry with the frame sp_delta further away or
 * rbp bp_delta higher, or as it was once the change is undone.  A note at
 * the very end of the sequence describes the state after the unit, which
 * an entry of the next instruction already describes when there is one;
 * it is added only when there is none.  The module loader sorts the tables.
 */
static int add_orc_entries(struct rw *w)
{
	struct orc_add a = {0};
	size_t rs = pvsub_relobj_rela_for(w->o, w->orc_ip);
	int r = 0;
	for (size_t i = 0; i < w->n_s && r == 0; i++) {
		struct rw_sect *s = &w->s[i];
		if (!s->rewrite)
			continue;
		size_t secsym = section_symbol(w, s->idx);
		for (size_t k = 0; k < s->n && r == 0; k++) {
			const struct rw_unit *u = &s->u[k];
			if (!u->n_orc)
				continue;
			const uint8_t *e = rw_orc_entry_at(w, s->idx, u->off);
			if (!e || !secsym) {
				refuse(w, s->name, u->off,
				       "no ORC entry describes this instruction");
				continue;
			}
			for (unsigned k2 = 0; k2 < u->n_orc && r == 0; k2++) {
				const struct rw_orc_note *nt = &u->orc[k2];
				uint64_t at = insn_start(u) + nt->at;
				if (nt->at == u->enc_len && orc_entry_exists(w, rs, s->idx, at))
					continue;
				const uint8_t *ne =
					nt->next ? rw_orc_entry_at(w, s->idx, u->off + u->in.len)
						 : e;
				if (!ne) {
					refuse(w, s->name, u->off,
					       "no ORC entry describes the next instruction");
					continue;
				}
				r = orc_push(w, &a, secsym, at, ne, nt->sp_delta, nt->bp_delta);
			}
		}
		/* A jump island is in the state of its target. */
		for (size_t k = 0; k < s->n_isl && r == 0; k++) {
			const struct rw_island *is = &s->isl[k];
			const uint8_t *e = rw_orc_entry_at(w, s->idx, (uint64_t)is->target);
			if (!e || !secsym) {
				refuse(w, s->name, (uint64_t)is->target,
				       "no ORC entry describes the target of a jump island");
				continue;
			}
			r = orc_push(w, &a, secsym, island_jmp(is), e, 0, 0);
			if (r || is->after >= s->n)
				continue;
			/* After a near island: the state in force at the unit
			 * after it, whose own entry (if any) map_pad put in
			 * front of the island. */
			const struct rw_unit *nx = &s->u[is->after + 1];
			e = rw_orc_entry_at(w, s->idx, nx->off);
			if (!e) {
				refuse(w, s->name, nx->off,
				       "no ORC entry describes the code after a jump island");
				continue;
			}
			r = orc_push(w, &a, secsym, nx->nstart, e, 0, 0);
		}
	}
	if (r == 0 && a.count) {
		r = append_section(w, w->orc_ip, &a.ip);
		if (r == 0)
			r = append_section(w, w->orc, &a.entry);
		if (r == 0)
			r = append_section(w, rs, &a.rela);
	}
	pvsub_buf_release(&a.ip);
	pvsub_buf_release(&a.entry);
	pvsub_buf_release(&a.rela);
	return r;
}

/* Nothing changed: the output is the input, byte for byte, signature
 * included (the writer would lay it out again, and a hostile file's odd
 * parts with it). */
static int copy_input(struct rw *w)
{
	size_t len = w->input_size;
	w->res->data = malloc(len ? len : 1);
	if (!w->res->data)
		return -ENOMEM;
	memcpy(w->res->data, w->input, len);
	w->res->size = len;
	return 0;
}

static int finish(struct rw *w)
{
	if (w->res->n_sites == 0 && w->res->n_refusals == 0)
		return copy_input(w);
	size_t n = pvsub_relobj_sym_count(w->o);
	struct symmap m = {calloc(n + 1, sizeof(uint64_t)), calloc(n + 1, sizeof(uint64_t))};
	if (!m.value || !m.size) {
		free(m.value);
		free(m.size);
		return -ENOMEM;
	}
	for (size_t i = 0; i < w->n_s; i++)
		if (w->s[i].rewrite)
			self_check(w, &w->s[i]);
	map_symbols(w, &m);
	if (w->res->n_refusals == 0) {
		int r = find_jump_tables(w);
		if (r == 0)
			r = rewrite_eh_frame(w, &m);
		if (r < 0) {
			free(m.value);
			free(m.size);
			return r;
		}
		if (w->res->n_refusals == 0)
			fix_all_relocations(w, &m);
	}
	if (w->res->n_refusals == 0 && w->orc) {
		int r = add_orc_entries(w);
		if (r < 0) {
			free(m.value);
			free(m.size);
			return r;
		}
	}
	if (w->res->n_refusals == 0)
		write_symbols(w, &m);
	free(m.value);
	free(m.size);

	for (size_t k = 0; k < w->res->n_sites; k++) {
		struct pvsub_rewrite_site *site = &w->res->sites[k];
		struct rw_sect *s = sect_of(w, pvsub_relobj_find(w->o, site->section));
		size_t ui = (size_t)site->new_offset;
		if (!s || ui >= s->n)
			continue;
		const struct rw_unit *u = &s->u[ui];
		site->new_offset = insn_start(u);
		site->padding = u->pad;
		site->new_len = u->enc_len;
		/* int3-tail: the last instruction and the int3 after it */
		if (site->rule == pvsub_rewrite_rules[RULE_INT3_TAIL] && ui + 1 == s->n)
			site->new_len = (uint8_t)(u->enc_len + s->tail);
		if (s->out.data)
			memcpy(site->new_insn, s->out.data + insn_start(u), site->new_len);
	}
	if (w->res->n_refusals)
		return 0;
	for (size_t i = 0; i < w->n_s; i++) {
		struct rw_sect *s = &w->s[i];
		if (!s->rewrite)
			continue;
		size_t len;
		uint8_t *data = (uint8_t *)pvsub_buf_steal(&s->out, &len);
		if (!data && s->new_size)
			return -ENOMEM;
		w->res->code_before += s->size;
		w->res->code_after += s->new_size;
		pvsub_relobj_set_data(w->o, s->idx, data, s->new_size);
	}
	struct pvsub_buf out = {0};
	int r = pvsub_relobj_write(w->o, &out);
	if (r < 0) {
		pvsub_buf_release(&out);
		return r;
	}
	w->res->data = (uint8_t *)pvsub_buf_steal(&out, &w->res->size);
	w->res->modsig_stripped = w->o->had_modsig;
	return w->res->data ? 0 : -ENOMEM;
}

static int cmp_orc_ref(const void *a, const void *b)
{
	const struct rw_orc_ref *x = a, *y = b;
	if (x->section != y->section)
		return x->section < y->section ? -1 : 1;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return (x->entry > y->entry) - (x->entry < y->entry);
}

/* Read where each ORC entry applies (through .rela.orc_unwind_ip). */
static int load_orc(struct rw *w)
{
	const struct pvsub_relobj *o = w->o;
	w->orc_ip = pvsub_relobj_find(o, ".orc_unwind_ip");
	w->orc = pvsub_relobj_find(o, ".orc_unwind");
	if (!w->orc_ip && !w->orc)
		return 0;
	size_t rs = w->orc_ip ? pvsub_relobj_rela_for(o, w->orc_ip) : 0;
	size_t n = o->sec[w->orc_ip].size / 4;
	if (!w->orc || !rs || o->sec[w->orc].size != n * ORC_ENTRY_SIZE) {
		refuse(w, ".orc_unwind", 0, "the ORC tables do not have the Linux 6.1 layout");
		return 0;
	}
	size_t nr = pvsub_relobj_rela_count(o, rs);
	w->orc_refs = calloc(nr + 1, sizeof(*w->orc_refs));
	if (!w->orc_refs)
		return -ENOMEM;
	for (size_t k = 0; k < nr; k++) {
		Elf64_Rela ra;
		Elf64_Sym sym;
		pvsub_relobj_rela_get(o, rs, k, &ra);
		size_t symi = ELF64_R_SYM(ra.r_info);
		if (ELF64_R_TYPE(ra.r_info) != R_X86_64_PC32 || ra.r_offset % 4 ||
		    ra.r_offset / 4 >= n || symi == 0 || symi >= pvsub_relobj_sym_count(o)) {
			refuse(w, ".orc_unwind_ip", ra.r_offset, "unexpected relocation");
			return 0;
		}
		pvsub_relobj_sym_get(o, symi, &sym);
		w->orc_refs[w->n_orc_refs++] = (struct rw_orc_ref){
			.section = sym.st_shndx,
			.offset = sym.st_value + (uint64_t)ra.r_addend,
			.entry = ra.r_offset / 4,
		};
	}
	qsort(w->orc_refs, w->n_orc_refs, sizeof(*w->orc_refs), cmp_orc_ref);
	return 0;
}

/* A Linux module (or a part of one): built without a red zone. */
static bool is_kernel_object(const struct pvsub_relobj *o)
{
	return pvsub_relobj_find(o, ".modinfo") ||
	       pvsub_relobj_find(o, ".gnu.linkonce.this_module") ||
	       pvsub_relobj_find(o, ".orc_unwind_ip") || pvsub_relobj_find(o, "__ksymtab");
}

static int collect_sections(struct rw *w)
{
	w->s = calloc(w->o->n_sec, sizeof(*w->s));
	if (!w->s)
		return -ENOMEM;
	for (size_t i = 1; i < w->o->n_sec; i++) {
		const struct pvsub_relobj_section *sec = &w->o->sec[i];
		if (!(sec->sh.sh_flags & SHF_EXECINSTR) || sec->sh.sh_type != SHT_PROGBITS ||
		    !sec->bytes)
			continue;
		struct rw_sect *s = &w->s[w->n_s++];
		s->idx = i;
		s->name = sec->name;
		s->in = sec->bytes;
		s->size = sec->size;
		s->rela = pvsub_relobj_rela_for(w->o, i);
	}
	return 0;
}

static void free_rw(struct rw *w)
{
	for (size_t i = 0; i < w->n_s; i++) {
		free(w->s[i].u);
		free(w->s[i].shorts);
		free(w->s[i].fde);
		free(w->s[i].spots);
		free(w->s[i].isl);
		pvsub_buf_release(&w->s[i].out);
	}
	free(w->s);
	free(w->orc_refs);
	free(w->jtabs);
	free(w->lrefs);
	pvsub_relobj_free(w->o);
	pvsub_scan_result_free(w->out_scan);
}

/*
 * The kernel tables (mutable windows, ORC), looked at only once a change is
 * needed: an object with nothing to change is copied whatever its tables
 * hold.  The mutable windows are the ones the scan of the input read for
 * classification (pvsub_scan_opts.kmeta), not read a second time.  A table
 * that cannot be read is a refusal; the analysis goes on without it so that
 * every other blocking site is named too.
 */
static int load_metadata(struct rw *w)
{
	if (!w->in_scan->kmeta_error)
		return -EINVAL; /* pvsub_rewrite_buffer() always asks for them */
	if (w->in_scan->kmeta_error[0]) {
		refuse(w, "(metadata)", 0, "%s", w->in_scan->kmeta_error);
		w->win = NULL;
		w->n_win = 0;
	} else {
		w->win = w->in_scan->mwindows;
		w->n_win = w->in_scan->n_mwindows;
	}
	w->kernel = is_kernel_object(w->o);
	return load_orc(w);
}

/* An occurrence found by the scan that the rewriter leaves as it is: in a
 * relocation window (the loader judges it) or in a mutable window (kept
 * intact, so the rescan refuses it: check_output). */
static bool left_as_is(const struct pvsub_finding *f)
{
	return f->cls.cls == PVSUB_CLASS_RELOCATION || f->cls.cls == PVSUB_CLASS_PATCH_SITE;
}

/* The one code section called @name, NULL (with a refusal) if there is
 * none or more than one. */
static struct rw_sect *sect_named(struct rw *w, const char *name, int64_t offset)
{
	struct rw_sect *found = NULL;
	for (size_t i = 0; i < w->n_s; i++) {
		if (strcmp(w->s[i].name, name) != 0)
			continue;
		if (found) {
			refuse(w, name, (uint64_t)offset,
			       "an occurrence across the end of %s, a name that several code "
			       "sections have",
			       name);
			return NULL;
		}
		found = &w->s[i];
	}
	return found;
}

/*
 * Occurrences that the input forms across the end of a section (the
 * scanner's junction findings) get an int3 tail on that section
 * (add_int3_tail); one in the zero padding in front of a section cannot be
 * changed.  True when any section needs a tail.
 */
static bool mark_junctions(struct rw *w, const struct pvsub_scan_result *in)
{
	bool any = false;
	for (size_t k = 0; k < in->n_findings; k++) {
		const struct pvsub_finding *f = &in->findings[k];
		if (!f->junction || left_as_is(f) || !f->section)
			continue;
		char first[PVSUB_DIAG_MAX];
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(f->section, "|"), f->section);
		w->pattern = f->pattern->id;
		if (strcmp(first, "(padding)") == 0) {
			refuse(w, f->section, (uint64_t)f->offset,
			       "formed by zero padding the module loader may put in front of a "
			       "section and the section's first bytes, which cannot be changed");
		} else {
			struct rw_sect *s = sect_named(w, first, f->offset);
			if (s && !s->tail_len) {
				s->tail_site = (uint64_t)f->offset;
				s->tail_pattern = f->pattern->id;
				s->tail_len = f->len;
				memcpy(s->tail_bytes, f->bytes, f->len);
				s->rewrite = true;
				any = true;
			}
		}
		w->pattern = NULL;
	}
	return any;
}

/* The input's layout violations: the output would have them too. */
static void refuse_violations(struct rw *w)
{
	for (size_t k = 0; k < w->in_scan->n_violations; k++) {
		const struct pvsub_violation *v = &w->in_scan->violations[k];
		refuse(w, "(object)", 0, "violation %s: %s", v->kind, v->detail);
	}
}

static int run(struct rw *w)
{
	int r = collect_sections(w);
	if (r < 0)
		return r;
	refuse_violations(w);
	/* A first, cheap look: any occurrence outside relocation windows? */
	/* ... and where an earlier attempt's output formed them. */
	bool any = mark_junctions(w, w->in_scan);
	for (size_t k = 0; k < w->n_more_tails; k++)
		any |= mark_junctions(w, w->more_tails[k]);
	for (size_t i = 0; i < w->n_s; i++)
		any |= needs_rewrite(w, &w->s[i]);
	if (w->err)
		return w->err;
	if (!any && !w->res->n_refusals)
		return copy_input(w);
	r = load_metadata(w);
	if (r < 0)
		return r;
	/* Again, now that the mutable windows are known. */
	any = false;
	for (size_t i = 0; i < w->n_s; i++) {
		struct rw_sect *s = &w->s[i];
		s->rewrite = s->tail_len || needs_rewrite(w, s);
		any |= s->rewrite;
	}
	if (w->err)
		return w->err;
	if (any) {
		/* Decode every code section: references into a rewritten one need
		 * the instruction around their place. */
		for (size_t i = 0; i < w->n_s && r == 0; i++) {
			size_t before = w->res->n_refusals;
			r = decode_section(w, &w->s[i], w->s[i].rewrite);
			if (r == 0 && w->s[i].rewrite && !w->s[i].decoded)
				refuse_all_occurrences(w, &w->s[i], before);
		}
		if (r == 0) {
			mark_resumed_traps(w);
			read_fde_ranges(w);
		}
		for (size_t i = 0; i < w->n_s && r == 0 && !w->err; i++)
			if (w->s[i].rewrite && w->s[i].decoded)
				r = rewrite_section(w, &w->s[i]);
		if (r < 0)
			return r;
		if (w->err)
			return w->err;
	}
	if (w->res->n_refusals)
		return 0;
	r = finish(w);
	return r < 0 ? r : w->err;
}

/*
 * The rescan: the output (or, unchanged, the input) is accepted only when
 * its verdict certifies (certify.h).  Otherwise every finding and violation
 * that rejects it is a refusal, each named: an occurrence the rewrite
 * formed across a section's end, say, or one in a kernel mutable window,
 * which the rewriter keeps intact and pvsub cannot judge yet.
 */
static int check_output(struct rw *w)
{
	struct pvsub_rewrite_result *res = w->res;
	struct pvsub_scan_result *out = NULL;
	struct pvsub_diag diag = {""};
	if (res->n_sites) {
		struct pvsub_scan_opts so = w->scan_opts;
		int r = pvsub_scan_buffer(&so, res->data, res->size, &out, &diag);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			refuse(w, "(object)", 0, "the rewritten object does not read back: %s",
			       diag.msg);
			return w->err;
		}
	}
	const struct pvsub_scan_result *sc = out ? out : w->in_scan;
	const char *what = out ? "rewritten object" : "object";
	w->out_scan = out;
	if (pvsub_verdict_certifies(pvsub_verdict_of(sc)))
		return 0;
	for (size_t k = 0; k < sc->n_findings; k++) {
		const struct pvsub_finding *f = &sc->findings[k];
		const char *where = f->section ? f->section : "(segment)";
		if (pvsub_verdict_certifies(pvsub_verdict_of_finding(f)))
			continue;
		w->pattern = f->pattern->id;
		if (f->cls.cls == PVSUB_CLASS_PATCH_SITE)
			refuse(w, where, (uint64_t)f->offset,
			       "inside a kernel mutable window (%s): the kernel writes those "
			       "bytes%s",
			       f->cls.field[0] ? f->cls.field : "unknown",
			       out ? "; offset in the rewritten object" : "");
		else
			refuse(w, where, (uint64_t)f->offset, "the %s still holds %s here (%s)%s",
			       what, f->pattern->id, pvsub_class_name(f->cls.cls),
			       f->junction ? ", across the end of a section" : "");
		w->pattern = NULL;
	}
	for (size_t k = 0; k < sc->n_violations; k++)
		refuse(w, "(object)", 0, "the %s has violation %s: %s", what,
		       sc->violations[k].kind ? sc->violations[k].kind : "unknown",
		       sc->violations[k].detail);
	/* A refusal that could not be recorded must not read as acceptance. */
	return w->err;
}

/* Did the output hold occurrences across a section's end that an int3
 * tail on that section could break, which this attempt did not give? */
static bool tails_would_help(struct rw *w)
{
	const struct pvsub_scan_result *out = w->out_scan;
	for (size_t k = 0; out && k < out->n_findings; k++) {
		const struct pvsub_finding *f = &out->findings[k];
		if (!f->junction || left_as_is(f) || !f->section)
			continue;
		size_t n = strcspn(f->section, "|");
		for (size_t i = 0; i < w->n_s; i++)
			if (strlen(w->s[i].name) == n &&
			    strncmp(w->s[i].name, f->section, n) == 0 && !w->s[i].tail_len)
				return true;
	}
	return false;
}

/* The steering entry of window (@sec, @off) in @v, added if new; NULL
 * when out of memory. */
static struct rw_steer *steer_entry(struct rw_steer **v, size_t *n, size_t sec, uint64_t off,
				    unsigned len, const struct pvsub_finding *f)
{
	for (size_t k = 0; k < *n; k++)
		if ((*v)[k].section == sec && (*v)[k].offset == off)
			return &(*v)[k];
	void *p = realloc(*v, (*n + 1) * sizeof(**v));
	if (!p)
		return NULL;
	*v = p;
	struct rw_steer *e = &(*v)[*n];
	*e = (struct rw_steer){
		.section = sec, .offset = off, .len = len, .pattern = f->pattern->id};
	e->blen = f->len <= sizeof(e->bytes) ? f->len : sizeof(e->bytes);
	memcpy(e->bytes, f->bytes, e->blen);
	snprintf(e->field, sizeof(e->field), "%s", f->cls.field);
	(*n)++;
	return e;
}

/* Padding beyond this next to one window is not tried. */
#define STEER_MAX 8

/*
 * Did the output hold occurrences that form only when the kernel patches a
 * window, with bytes on either side of it, which more padding there could
 * change?  Then the entries in *@v (the steering the next attempt applies,
 * kept from earlier attempts) grow for those windows: one byte more where
 * the occurrence reaches in front of the window, after it, or both.  False
 * also when out of memory (w->err) or the padding reached STEER_MAX.
 */
static bool steer_would_help(struct rw *w, struct rw_steer **v, size_t *n)
{
	const struct pvsub_scan_result *out = w->out_scan;
	bool more = false;
	for (size_t k = 0; out && !w->opts->no_steer && k < out->n_findings; k++) {
		const struct pvsub_finding *f = &out->findings[k];
		const char *tag = ", only when patched";
		size_t fl = strlen(f->cls.field), tl = strlen(tag);
		if (f->cls.cls != PVSUB_CLASS_PATCH_SITE || !f->section || f->offset < 0 ||
		    fl < tl || strcmp(f->cls.field + fl - tl, tag) != 0)
			continue;
		uint64_t p = (uint64_t)f->offset;
		for (size_t i = 0; i < w->n_s; i++) {
			const struct rw_sect *s = &w->s[i];
			if (!s->rewrite || !s->decoded || strcmp(s->name, f->section) != 0)
				continue;
			for (size_t j = 0; j < w->n_win; j++) {
				const struct pvsub_mwindow *mw = &w->win[j];
				uint64_t at;
				if (mw->section != s->idx || mw->kind == PVSUB_WINDOW_SMP_LOCK ||
				    !map_site(s, mw->offset, false, &at) || p >= at + mw->len ||
				    p + f->len <= at)
					continue;
				bool before = p < at;
				bool after = p + f->len > at + mw->len;
				if (!before && !after)
					continue; /* all in the window: padding cannot help */
				struct rw_steer *e =
					steer_entry(v, n, s->idx, mw->offset, mw->len, f);
				if (!e) {
					w->err = -ENOMEM;
					return false;
				}
				if (before && e->before < STEER_MAX) {
					e->before++;
					more = true;
				}
				if (after && e->after < STEER_MAX) {
					e->after++;
					more = true;
				}
			}
		}
	}
	return more;
}

/* Nothing is made when anything was refused: no change to report, only
 * the refusals. */
static void drop_output(struct pvsub_rewrite_result *res)
{
	free(res->data);
	res->data = NULL;
	res->size = 0;
	for (size_t k = 0; k < res->n_sites; k++)
		free(res->sites[k].section);
	res->n_sites = 0;
	res->code_before = res->code_after = 0;
	res->modsig_stripped = false;
}

/* Attempts at one object: an int3 tail may have to be added where the
 * rewritten code first formed an occurrence across a section's end, and
 * padding next to a kernel mutable window where it formed one only when
 * patched (steer_would_help). */
#define MAX_ATTEMPTS 10

int pvsub_rewrite_buffer(const struct pvsub_rewrite_opts *opts, const uint8_t *data, size_t size,
			 struct pvsub_rewrite_result **out, struct pvsub_diag *diag)
{
	struct pvsub_scan_opts so = {
		.policy = opts->policy,
		.matcher = opts->matcher,
		.decoder = opts->decoder,
		.deep = opts->deep,
		.hashes = opts->hashes,
	};
	struct pvsub_scan_result *in_scan = NULL, *tails[MAX_ATTEMPTS];
	size_t n_tails = 0;
	struct rw_steer *steer = NULL;
	size_t n_steer = 0;
	int r = 0;
	for (unsigned attempt = 0;; attempt++) {
		struct rw w = {.opts = opts,
			       .input = data,
			       .input_size = size,
			       .scan_opts = so,
			       .dedup_from = SIZE_MAX};
		r = pvsub_relobj_load(data, size, &w.o, diag);
		/* The input as the scanner sees it: junctions and violations. */
		if (r == 0 && !in_scan) {
			struct pvsub_scan_opts in_opts = so;
			in_opts.kmeta = true; /* load_metadata() takes them from there */
			r = pvsub_scan_buffer(&in_opts, data, size, &in_scan, diag);
		}
		if (r == 0) {
			w.res = calloc(1, sizeof(*w.res));
			r = w.res ? 0 : pvsub_diag_set(diag, ENOMEM, "out of memory");
		}
		if (r == 0) {
			w.in_scan = in_scan;
			w.more_tails = tails;
			w.n_more_tails = n_tails;
			w.steer = steer;
			w.n_steer = n_steer;
			w.res->size_before = size;
			r = run(&w);
			if (r == 0 && !w.res->n_refusals)
				r = check_output(&w);
			if (r < 0)
				pvsub_diag_set(diag, -r, "out of memory");
		}
		bool tails_help = false, steer_helps = false;
		if (r == 0 && w.res->n_refusals && attempt + 1 < MAX_ATTEMPTS) {
			/* What the next attempt adds: steer_would_help() grows
			 * the steering, tails_would_help() only looks. */
			tails_help = tails_would_help(&w);
			steer_helps = steer_would_help(&w, &steer, &n_steer);
			if (w.err)
				r = pvsub_diag_set(diag, ENOMEM, "out of memory");
		}
		if (r == 0 && (tails_help || steer_helps)) {
			if (tails_help) {
				/* kept: each attempt's tails stay wanted */
				tails[n_tails++] = w.out_scan;
				w.out_scan = NULL;
			}
			pvsub_rewrite_result_free(w.res);
			free_rw(&w);
			continue;
		}
		if (r == 0) {
			if (w.res->n_refusals)
				drop_output(w.res);
			/* The report shows what was written, or else the input. */
			if (w.out_scan && !w.res->n_refusals) {
				w.res->scan = w.out_scan;
				w.out_scan = NULL;
			} else {
				w.res->scan = in_scan;
				in_scan = NULL;
			}
			*out = w.res;
		} else {
			pvsub_rewrite_result_free(w.res);
		}
		free_rw(&w);
		break;
	}
	pvsub_scan_result_free(in_scan);
	for (size_t k = 0; k < n_tails; k++)
		pvsub_scan_result_free(tails[k]);
	free(steer);
	return r;
}

enum pvsub_verdict pvsub_verdict_of_file(const struct pvsub_scan_result *r,
					 const struct pvsub_rewrite_result *rw)
{
	if (rw && rw->n_refusals)
		return PVSUB_VERDICT_REJECTED;
	return pvsub_verdict_of(r);
}
