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
#include "libpvsub/rewrite.h"

#define MAX_ROUNDS 32
#define MAX_PAD 1024
#define MAX_SEQ PVSUB_REWRITE_MAX_SEQ

const char *const pvsub_rewrite_rules[] = {
	"nop-split", "rel-adjust", "imm-lea", "trap", "alu-split", "disp-rebase", "sp-rebase",
	"scratch",   "lea-arith", NULL,
};

enum rule {
	RULE_NONE,
	RULE_TRAP,
	RULE_IMM_LEA,
	RULE_ALU_SPLIT,
	RULE_DISP_REBASE,
	RULE_SP_REBASE,
	RULE_SCRATCH,
	RULE_LEA_ARITH,
};

/* Index into pvsub_rewrite_rules. */
enum action {
	ACT_NOP_SPLIT,
	ACT_REL_ADJUST,
	ACT_IMM_LEA,
	ACT_TRAP,
	ACT_ALU_SPLIT,
	ACT_DISP_REBASE,
	ACT_SP_REBASE,
	ACT_SCRATCH,
	ACT_LEA_ARITH,
};

enum rel_kind {
	REL_NONE,
	REL_JMP,  /* eb / e9 */
	REL_JCC,  /* 7x / 0f 8x */
	REL_CALL, /* e8 */
	REL_LOOP, /* e0-e3: loop*, jrcxz; rel8 only */
	REL_OTHER, /* xbegin and friends: rel32 in the immediate */
	REL_RIP,  /* RIP-relative disp32 */
};

struct unit {
	uint64_t off; /* in the input section */
	struct pvsub_insn in;
	enum rel_kind rk;
	bool rel_has_reloc; /* the relative field is relocated: not ours to fix */
	bool has_reloc;	    /* any relocation inside */
	bool fixed;	    /* overlaps a mutable window: bytes and size stay */
	bool no_pad;	    /* starts strictly inside a mutable window */
	bool long_form;	    /* rel8 branch promoted to rel32 */
	bool one_insn;	    /* an exception-table site: may not become a sequence */
	int8_t reloc_at;    /* offset of its one relocated field, -1 none, -2 several */
	/* A rule that carries the relocated field: where it is in seq, and
	 * where the instruction holding it ends there. */
	int8_t fld_old;
	uint8_t fld_new, fld_end;
	int64_t target;	    /* REL_* without relocation: target in the input section */
	uint16_t pad;
	uint8_t padv; /* NOP variant */
	enum rule rule;
	unsigned cand; /* next candidate for the rule's parameters */
	uint8_t seq[MAX_SEQ];
	uint8_t seq_len;
	/* Within seq[sp_lo, sp_hi) the stack pointer is sp_delta bytes lower
	 * than the unwind data of the instruction says (ORC entries added). */
	uint8_t sp_lo, sp_hi;
	int32_t sp_delta;
	bool sp_no_restore; /* the state after the unit has its own entry */
	uint8_t enc_len;
	/* The layout as last placed: a round judges every occurrence against
	 * it, while its fixes change pad and enc_len for the next round. */
	uint64_t nstart; /* output offset of the padding */
	uint16_t lay_pad;
	uint8_t lay_len;
};

struct sect {
	size_t idx;
	const char *name;
	const uint8_t *in; /* input bytes */
	size_t size;
	bool decoded;
	bool rewrite;
	struct unit *u;
	size_t n;
	size_t rela; /* its SHT_RELA section, 0 if none */
	struct pvsub_buf out;
	uint64_t new_size;
	uint64_t last_site; /* input offset of the last instruction acted on */
};

/* The ORC tables (Linux 6.1 struct orc_entry: s16 sp_offset, s16
 * bp_offset, then sp_reg:4, bp_reg:4, type:2, end:1). */
#define ORC_ENTRY_SIZE 6
#define ORC_REG_UNDEFINED 0
#define ORC_REG_BP 4
#define ORC_REG_SP 5

struct orc_ref {
	size_t section;	 /* code section */
	uint64_t offset; /* input offset */
	size_t entry;	 /* index into .orc_unwind */
};

struct rw {
	const struct pvsub_rewrite_opts *opts;
	struct pvsub_relobj *o;
	bool kernel;	    /* a Linux module: no red zone below the stack pointer */
	size_t orc_ip, orc; /* .orc_unwind_ip and .orc_unwind, 0 without */
	struct orc_ref *orc_refs; /* sorted by section, offset */
	size_t n_orc_refs;
	struct pvsub_mwindow *win;
	size_t n_win;
	struct sect *s;
	size_t n_s;
	struct pvsub_rewrite_result *res;
	size_t sites_cap, refusals_cap;
	int err; /* -ENOMEM seen */
};

/* --- results ---------------------------------------------------------------- */

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
	f->offset = offset;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->reason, sizeof(f->reason), fmt, ap);
	va_end(ap);
	res->n_refusals++;
}

static struct pvsub_rewrite_site *new_site(struct rw *w, const struct sect *s)
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
	free(r);
}

/* --- little-endian fields ---------------------------------------------------- */

static int64_t get_sle(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	if (size < 8 && (v >> (8 * size - 1)) & 1)
		v |= ~0ull << (8 * size);
	return (int64_t)v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool fits(int64_t v, unsigned size)
{
	if (size >= 8)
		return true;
	int64_t lim = (int64_t)1 << (8 * size - 1);
	return v >= -lim && v < lim;
}

/* --- relocations --------------------------------------------------------------- */

/* Bytes a relocation writes, 0 for types the rewriter does not know. */
static unsigned reloc_size(uint32_t type)
{
	switch (type) {
	case R_X86_64_64:
	case R_X86_64_PC64:
		return 8;
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
	case R_X86_64_32:
	case R_X86_64_32S:
	case R_X86_64_GOTPCREL:
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
		return 4;
	case R_X86_64_16:
	case R_X86_64_PC16:
		return 2;
	case R_X86_64_8:
	case R_X86_64_PC8:
		return 1;
	}
	return 0;
}

static bool reloc_pc_relative(uint32_t type)
{
	return type == R_X86_64_PC32 || type == R_X86_64_PLT32 || type == R_X86_64_PC64 ||
	       type == R_X86_64_PC16 || type == R_X86_64_PC8;
}

static bool reloc_got(uint32_t type)
{
	return type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX ||
	       type == R_X86_64_REX_GOTPCRELX;
}

static size_t rela_for(const struct pvsub_relobj *o, size_t idx)
{
	for (size_t i = 1; i < o->n_sec; i++)
		if (o->sec[i].sh.sh_type == SHT_RELA && o->sec[i].sh.sh_info == idx)
			return i;
	return 0;
}

/* --- units ----------------------------------------------------------------------- */

/* The unit that contains input offset @x, or n. */
static size_t unit_at(const struct sect *s, uint64_t x)
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
static size_t unit_at_new(const struct sect *s, uint64_t p)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct unit *u = &s->u[mid];
		if (u->nstart + u->lay_pad + u->lay_len <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t insn_start(const struct unit *u)
{
	return u->nstart + u->lay_pad;
}

/* The unit's bytes are the input's, at the same positions. */
static bool same_shape(const struct unit *u)
{
	return u->rule == RULE_NONE && !u->long_form;
}

/* map_start / map_pad (see the top of the file); false when @x is inside an
 * instruction whose shape changed, or outside the section. */
static bool map_offset(const struct sect *s, uint64_t x, bool pad, uint64_t *out)
{
	if (x == s->size) {
		*out = s->new_size;
		return true;
	}
	size_t i = unit_at(s, x);
	if (i == s->n)
		return false;
	const struct unit *u = &s->u[i];
	if (x == u->off) {
		*out = pad ? u->nstart : insn_start(u);
		return true;
	}
	if (!same_shape(u))
		return false;
	*out = insn_start(u) + (x - u->off);
	return true;
}

static unsigned rel_field_offset(const struct unit *u)
{
	return u->rk == REL_RIP ? (unsigned)u->in.disp_offset : (unsigned)u->in.imm_offset;
}

static unsigned rel_field_size(const struct unit *u)
{
	if (u->rk == REL_RIP)
		return u->in.disp_size;
	return u->long_form ? 4 : u->in.imm_size;
}

static enum rel_kind classify_rel(const uint8_t *b, const struct pvsub_insn *in)
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

static int decode_section(struct rw *w, struct sect *s, bool must)
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
		struct unit *u = &s->u[s->n];
		memset(u, 0, sizeof(*u));
		u->off = at;
		if (pvsub_decode(w->opts->decoder, s->in + at, s->size - at, at, &u->in) < 0) {
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
				    get_sle(s->in + at + u->in.imm_offset, u->in.imm_size);
		else if (u->rk == REL_RIP)
			u->target = (int64_t)(at + u->in.len) +
				    get_sle(s->in + at + u->in.disp_offset, 4);
		u->enc_len = u->in.len;
		at += u->in.len;
		s->n++;
	}
	s->decoded = true;
	return 0;
}

/* Every function symbol of the section must start on an instruction. */
static void check_symbols(struct rw *w, struct sect *s)
{
	size_t n = pvsub_relobj_sym_count(w->o);
	for (size_t k = 1; k < n; k++) {
		Elf64_Sym sym;
		pvsub_relobj_sym_get(w->o, k, &sym);
		if (sym.st_shndx != s->idx || ELF64_ST_TYPE(sym.st_info) == STT_SECTION)
			continue;
		if (sym.st_value == s->size)
			continue;
		size_t i = unit_at(s, sym.st_value);
		if (i == s->n || s->u[i].off != sym.st_value)
			refuse(w, s->name, sym.st_value,
			       "symbol %s does not start on an instruction boundary",
			       pvsub_relobj_symbol_name(w->o, &sym));
	}
}

/* Relocations of a section to rewrite must be whole displacement or
 * immediate fields of its instructions. */
static void check_relocations(struct rw *w, struct sect *s)
{
	if (!s->rela)
		return;
	size_t n = pvsub_relobj_rela_count(w->o, s->rela);
	for (size_t k = 0; k < n; k++) {
		Elf64_Rela ra;
		pvsub_relobj_rela_get(w->o, s->rela, k, &ra);
		unsigned size = reloc_size(ELF64_R_TYPE(ra.r_info));
		size_t i = unit_at(s, ra.r_offset);
		if (size == 0) {
			refuse(w, s->name, ra.r_offset, "relocation type %u is not supported",
			       (unsigned)ELF64_R_TYPE(ra.r_info));
			continue;
		}
		if (i == s->n) {
			refuse(w, s->name, ra.r_offset, "relocation outside the section's code");
			continue;
		}
		struct unit *u = &s->u[i];
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

static void mark_windows(struct rw *w, struct sect *s)
{
	for (size_t k = 0; k < w->n_win; k++) {
		const struct pvsub_mwindow *mw = &w->win[k];
		if (mw->section != s->idx)
			continue;
		for (size_t i = unit_at(s, mw->offset); i < s->n; i++) {
			struct unit *u = &s->u[i];
			if (u->off >= mw->offset + mw->len)
				break;
			u->fixed = true;
			if (u->off > mw->offset)
				u->no_pad = true;
		}
	}
}

/* Instructions whose faults __ex_table catches must stay one instruction. */
static void mark_exception_sites(struct rw *w, struct sect *s)
{
	size_t tab = pvsub_relobj_find(w->o, "__ex_table");
	size_t rs = tab ? rela_for(w->o, tab) : 0;
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
		size_t i = unit_at(s, sym.st_value + (uint64_t)ra.r_addend);
		if (i < s->n)
			s->u[i].one_insn = true;
	}
}

static void check_targets(struct rw *w, struct sect *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct unit *u = &s->u[i];
		if (u->rk == REL_NONE || u->rel_has_reloc)
			continue;
		if (u->target < 0 || (uint64_t)u->target > s->size) {
			refuse(w, s->name, u->off, "`%s%s%s` reaches outside its section without a relocation",
			       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
			continue;
		}
		size_t t = unit_at(s, (uint64_t)u->target);
		if ((uint64_t)u->target != s->size && (t == s->n || s->u[t].off != (uint64_t)u->target))
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
	static const uint8_t nops[9][8] = {
		{0},
		{0x90},
		{0x66, 0x90},
		{0x0f, 0x1f, 0x00},
		{0x0f, 0x1f, 0x40, 0x00},
		{0x0f, 0x1f, 0x44, 0x00, 0x00},
		{0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
		{0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
		{0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
	};
	while (len) {
		unsigned k;
		switch (v % 3) {
		case 0:
			k = len < 8 ? len : 8;
			break;
		case 2:
			k = len >= 2 ? 2 : 1;
			break;
		default:
			k = 1;
			break;
		}
		memcpy(p, nops[k], k);
		p += k;
		len -= k;
	}
}

static unsigned rex_of(const uint8_t *b, const struct pvsub_insn *in)
{
	if (in->opcode_offset > 0 && (b[in->opcode_offset - 1] & 0xf0) == 0x40)
		return b[in->opcode_offset - 1];
	return 0;
}

/* `mov $imm, reg` forms imm-lea can replace: the register, the width and
 * the value.  *@wide64: the destination is 64-bit; *@imm64: movabs. */
static bool imm_mov(const uint8_t *b, const struct pvsub_insn *in, unsigned *reg, bool *wide64,
		    bool *imm64, uint64_t *value)
{
	unsigned rex = rex_of(b, in);
	if (in->opcode_offset != (rex ? 1 : 0) || in->opcode_len != 1 || in->imm_offset < 0)
		return false;
	uint8_t op = b[in->opcode_offset];
	bool w = rex & 8;
	if (op >= 0xb8 && op <= 0xbf) {
		*reg = (op & 7u) | ((rex & 1u) << 3);
		*wide64 = w;
		*imm64 = w;
		*value = w ? (uint64_t)get_sle(b + in->imm_offset, 8)
			   : (uint32_t)get_sle(b + in->imm_offset, 4);
		return in->imm_size == (w ? 8 : 4);
	}
	if (op == 0xc7 && in->modrm_offset >= 0 && (b[in->modrm_offset] & 0xf8) == 0xc0 &&
	    in->imm_size == 4) {
		*reg = (b[in->modrm_offset] & 7u) | ((rex & 1u) << 3);
		*wide64 = w;
		*imm64 = false;
		int64_t v = get_sle(b + in->imm_offset, 4);
		*value = w ? (uint64_t)v : (uint32_t)v;
		return true;
	}
	return false;
}

/* The candidate split b for imm-lea number @k: 1, -1, 2, -2, ... then
 * larger steps so that high bytes change too. */
static int32_t lea_candidate(unsigned k)
{
	int32_t mag = k < 512 ? (int32_t)(k / 2 + 1) : (int32_t)((k - 511) * 0x10101);
	return (k & 1) ? -mag : mag;
}

/* How the loaded constant is turned into a before the lea: as is, `not`
 * or `bswap` (neither changes flags), so that every byte can change. */
enum twist {
	TWIST_NONE,
	TWIST_NOT,
	TWIST_BSWAP,
	TWIST_COUNT,
};

static uint64_t bswap_width(uint64_t v, bool wide)
{
	return wide ? __builtin_bswap64(v) : __builtin_bswap32((uint32_t)v);
}

/*
 * Encode `mov $t(a), reg; [not|bswap reg;] lea b(reg), reg` into @seq, with
 * a = value - b; its length, or 0 when the constant cannot be encoded (a
 * sign-extended imm32 destination whose loaded value does not fit).
 */
static unsigned encode_imm_lea(uint8_t *seq, unsigned reg, bool wide64, bool imm64, uint64_t value,
			       int32_t b, enum twist tw)
{
	unsigned n = 0;
	uint64_t a = value - (uint64_t)(int64_t)b;
	unsigned rexb = reg >> 3;
	bool wide = wide64 || imm64;
	if (!wide)
		a = (uint32_t)a;
	uint64_t load = tw == TWIST_NOT ? ~a : tw == TWIST_BSWAP ? bswap_width(a, wide) : a;
	if (!wide)
		load = (uint32_t)load;
	if (imm64) {
		seq[n++] = (uint8_t)(0x48 | rexb);
		seq[n++] = (uint8_t)(0xb8 | (reg & 7));
		put_le(seq + n, load, 8);
		n += 8;
	} else if (wide64) {
		int64_t sl = (int64_t)load;
		if (sl < INT32_MIN || sl > INT32_MAX)
			return 0;
		seq[n++] = (uint8_t)(0x48 | rexb);
		seq[n++] = 0xc7;
		seq[n++] = (uint8_t)(0xc0 | (reg & 7));
		put_le(seq + n, load, 4);
		n += 4;
	} else {
		if (rexb)
			seq[n++] = 0x41;
		seq[n++] = (uint8_t)(0xb8 | (reg & 7));
		put_le(seq + n, load, 4);
		n += 4;
	}
	if (tw != TWIST_NONE) {
		if (wide || rexb)
			seq[n++] = (uint8_t)(0x40 | (wide ? 8u : 0u) | rexb);
		if (tw == TWIST_NOT) {
			seq[n++] = 0xf7;
			seq[n++] = (uint8_t)(0xd0 | (reg & 7));
		} else {
			seq[n++] = 0x0f;
			seq[n++] = (uint8_t)(0xc8 | (reg & 7));
		}
	}
	unsigned rex = (wide ? 8u : 0u) | (rexb ? 4u : 0u) | rexb;
	if (rex)
		seq[n++] = (uint8_t)(0x40 | rex);
	seq[n++] = 0x8d;
	bool d8 = b >= -128 && b <= 127;
	seq[n++] = (uint8_t)((d8 ? 0x40 : 0x80) | ((reg & 7) << 3) | (reg & 7));
	if ((reg & 7) == 4)
		seq[n++] = 0x24; /* SIB: base = rsp/r12, no index */
	put_le(seq + n, (uint64_t)(int64_t)b, d8 ? 1 : 4);
	n += d8 ? 1 : 4;
	return n;
}

/* A 64-bit destination from a sign-extended imm32 needs a to fit too. */
static bool imm_lea_ok(bool wide64, bool imm64, uint64_t value, int32_t b)
{
	if (!wide64 || imm64)
		return true;
	int64_t a = (int64_t)value - b;
	return a >= INT32_MIN && a <= INT32_MAX;
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

static bool has_pattern(const struct rw *w, const uint8_t *p, size_t len)
{
	struct hit_ctx h = {false};
	(void)pvsub_matcher_search(w->opts->matcher, p, len, note_hit, &h);
	return h.hit;
}

/* Emit unit @u's instruction (not its padding) at @p; the displacement of
 * a relative field is computed from the current layout. */
static void emit_insn(const struct sect *s, const struct unit *u, uint8_t *p)
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
	uint64_t tnew = 0;
	(void)map_offset(s, (uint64_t)u->target, false, &tnew);
	int64_t disp = (int64_t)tnew - (int64_t)(insn_start(u) + u->enc_len);
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
		put_le(p + n, (uint64_t)disp, 4);
		return;
	}
	memcpy(p, b, u->in.len);
	put_le(p + rel_field_offset(u), (uint64_t)disp, rel_field_size(u));
}

static void emit_unit(const struct sect *s, const struct unit *u, uint8_t *p)
{
	emit_pad(p, u->pad, u->padv);
	emit_insn(s, u, p + u->pad);
}

/* --- layout ---------------------------------------------------------------------- */

static void place(struct sect *s)
{
	uint64_t pos = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct unit *u = &s->u[i];
		u->nstart = pos;
		u->lay_pad = u->pad;
		u->lay_len = u->enc_len;
		pos += u->pad + u->enc_len;
	}
	s->new_size = pos;
}

static int64_t current_disp(const struct sect *s, const struct unit *u)
{
	uint64_t tnew = 0;
	(void)map_offset(s, (uint64_t)u->target, false, &tnew);
	return (int64_t)tnew - (int64_t)(insn_start(u) + u->enc_len);
}

/* Place the units, promoting rel8 branches that no longer reach until
 * nothing changes.  False (with a refusal) when a branch cannot grow. */
static bool layout(struct rw *w, struct sect *s)
{
	for (;;) {
		place(s);
		bool changed = false;
		for (size_t i = 0; i < s->n; i++) {
			struct unit *u = &s->u[i];
			if (u->rk == REL_NONE || u->rel_has_reloc || u->rule != RULE_NONE ||
			    fits(current_disp(s, u), rel_field_size(u)))
				continue;
			if (u->long_form || u->fixed || (u->rk != REL_JMP && u->rk != REL_JCC) ||
			    u->in.imm_size != 1) {
				refuse(w, s->name, u->off,
				       "`%s%s%s` no longer reaches its target and cannot be made longer%s",
				       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str,
				       u->fixed ? " (it is part of a patch site)" : "");
				return false;
			}
			u->long_form = true;
			u->enc_len = (uint8_t)(u->in.opcode_offset + (u->rk == REL_JMP ? 5 : 6));
			changed = true;
		}
		if (!changed)
			return true;
	}
}

static int emit_section(struct sect *s)
{
	pvsub_buf_reset(&s->out);
	int r = pvsub_buf_reserve(&s->out, s->new_size + 1);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n; i++)
		emit_unit(s, &s->u[i], (uint8_t *)s->out.data + s->u[i].nstart);
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

/* The occurrence overlaps a relocation window (judged at load time). */
static bool in_reloc_window(const struct rw *w, const struct sect *s, uint64_t p, unsigned len)
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
static bool in_mutable_window(const struct rw *w, const struct sect *s, uint64_t p, unsigned len)
{
	for (size_t k = 0; k < w->n_win; k++) {
		const struct pvsub_mwindow *mw = &w->win[k];
		uint64_t at;
		if (mw->section != s->idx || !map_offset(s, mw->offset, false, &at))
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
static void record(struct rw *w, const struct sect *s, size_t ui, const struct occ *oc,
		   unsigned len, unsigned round, enum pvsub_class cls, const char *field,
		   enum action act)
{
	struct pvsub_rewrite_site *site = new_site(w, s);
	if (!site)
		return;
	const struct unit *u = &s->u[ui];
	uint64_t rel = oc->pos >= insn_start(u) ? oc->pos - insn_start(u) : 0;
	site->offset = round == 0 ? oc->pos : u->off + rel;
	site->new_offset = ui; /* turned into an offset when the layout is final */
	site->pattern = pvsub_matcher_pattern(w->opts->matcher, oc->pattern)->id;
	site->cls = cls;
	snprintf(site->field, sizeof(site->field), "%s", field ? field : "");
	site->rule = pvsub_rewrite_rules[act];
	site->round = round;
	site->len = (uint8_t)len;
	memcpy(site->bytes, s->out.data + oc->pos, len);
	site->insn_len = u->in.len;
	memcpy(site->insn, s->in + u->off, u->in.len);
}

/* Grow (or vary) the padding in front of unit @i; false if it may not. */
static bool bump_pad(struct sect *s, size_t i, unsigned by)
{
	struct unit *u = &s->u[i];
	if (u->no_pad || u->pad + by > MAX_PAD)
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

static bool fix_spanning(struct sect *s, size_t a, size_t b, uint64_t p)
{
	/* Padding in front of a later unit separates the bytes; padding that
	 * is itself part of the occurrence gets other NOPs first. */
	for (size_t k = a + 1; k <= b; k++)
		if (bump_pad(s, k, s->u[k].lay_pad ? 0 : 1))
			return true;
	/* The occurrence starts in a's own padding: vary it. */
	return p < insn_start(&s->u[a]) && bump_pad(s, a, 0);
}

/* Change the distance of unit @i's relative field by padding code between it
 * and its target, by the smallest amount that leaves the instruction clean. */
static bool fix_rel(const struct rw *w, struct sect *s, size_t i)
{
	struct unit *u = &s->u[i];
	size_t t = unit_at(s, (uint64_t)u->target);
	bool forward = (uint64_t)u->target > u->off;
	int64_t disp = current_disp(s, u);
	unsigned fsize = rel_field_size(u), foff = u->long_form ? u->enc_len - 4u : rel_field_offset(u);
	uint8_t buf[PVSUB_X86_MAX_INSN];
	unsigned k;

	for (k = 1; k < MAX_PAD; k++) {
		int64_t d = forward ? disp + k : disp - k;
		if (!fits(d, fsize))
			break; /* promotion follows; the next round looks again */
		emit_insn(s, u, buf);
		put_le(buf + foff, (uint64_t)d, fsize);
		if (!has_pattern(w, buf, u->enc_len))
			break;
	}
	if (forward) {
		/* In front of the target, or of anything between. */
		size_t last = t < s->n ? t : s->n - 1;
		for (size_t j = last; j > i; j--)
			if (bump_pad(s, j, k))
				return true;
		return false;
	}
	if (t == i)
		return false;
	for (size_t j = i; j > t && j < s->n; j--)
		if (bump_pad(s, j, k))
			return true;
	return false;
}

static void set_rule(struct unit *u, enum rule rule, const uint8_t *seq, unsigned n)
{
	memcpy(u->seq, seq, n);
	u->seq_len = (uint8_t)n;
	u->enc_len = (uint8_t)n;
	u->rule = rule;
}

static bool fix_imm_lea(const struct rw *w, struct sect *s, size_t i)
{
	struct unit *u = &s->u[i];
	unsigned reg;
	bool wide64, imm64;
	uint64_t value;
	if (!imm_mov(s->in + u->off, &u->in, &reg, &wide64, &imm64, &value))
		return false;
	for (; u->cand < TWIST_COUNT * 1024; u->cand++) {
		int32_t b = lea_candidate(u->cand % 1024);
		if (!imm_lea_ok(wide64, imm64, value, b))
			continue;
		uint8_t seq[MAX_SEQ];
		unsigned n = encode_imm_lea(seq, reg, wide64, imm64, value, b,
					    (enum twist)(u->cand / 1024));
		if (n == 0 || has_pattern(w, seq, n))
			continue;
		set_rule(u, RULE_IMM_LEA, seq, n);
		u->cand++;
		return true;
	}
	return false;
}

static bool fix_trap(struct sect *s, size_t i)
{
	struct unit *u = &s->u[i];
	if (u->in.len < 2)
		return false;
	u->seq[0] = 0x0f;
	u->seq[1] = 0x0b;
	memset(u->seq + 2, 0xcc, u->in.len - 2u);
	u->seq_len = u->in.len;
	u->enc_len = u->in.len;
	u->rule = RULE_TRAP;
	return true;
}

/* A pseudo-random 32-bit mask for candidate @k (deterministic). */
static uint32_t mask_candidate(unsigned k)
{
	uint32_t x = 0x9e3779b9u * (k + 1);
	x ^= x >> 15;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	return x;
}

/*
 * alu-split: `and/or/xor $imm32, reg` becomes two instructions of the same
 * operation whose immediates combine to imm (and: a & b, or: a | b, xor:
 * a ^ b).  The second one leaves exactly the flags the original would (SF,
 * ZF, PF from the result; CF = OF = 0; AF undefined either way).  Register
 * destinations only: a split read-modify-write of memory could be seen half
 * done.
 */
static bool fix_alu_split(const struct rw *w, struct sect *s, size_t i)
{
	struct unit *u = &s->u[i];
	const uint8_t *b = s->in + u->off;
	unsigned rex = rex_of(b, &u->in), op = b[u->in.opcode_offset], ext, reg;
	if (u->in.opcode_offset != (rex ? 1u : 0u) || u->in.imm_size != 4)
		return false;
	if (op == 0x81 && u->in.modrm_offset >= 0 && (b[u->in.modrm_offset] & 0xc0) == 0xc0) {
		ext = (b[u->in.modrm_offset] >> 3) & 7;
		reg = (b[u->in.modrm_offset] & 7u) | ((rex & 1u) << 3);
	} else if (op == 0x25 || op == 0x0d || op == 0x35) {
		ext = op == 0x25 ? 4 : op == 0x0d ? 1 : 6;
		reg = 0;
	} else {
		return false;
	}
	if (ext != 4 && ext != 1 && ext != 6)
		return false;
	uint32_t imm = (uint32_t)get_sle(b + u->in.imm_offset, 4);
	for (; u->cand < 2048; u->cand++) {
		uint32_t m = mask_candidate(u->cand), x, y;
		if (ext == 4) { /* and */
			x = imm | (m & ~imm);
			y = imm | (~m & ~imm);
		} else if (ext == 1) { /* or */
			x = imm & m;
			y = imm & ~m;
		} else { /* xor */
			x = m;
			y = imm ^ m;
		}
		uint8_t seq[MAX_SEQ];
		unsigned n = 0;
		for (unsigned k = 0; k < 2; k++) {
			if (rex & 9)
				seq[n++] = (uint8_t)(0x40 | (rex & 9));
			seq[n++] = 0x81;
			seq[n++] = (uint8_t)(0xc0 | (ext << 3) | (reg & 7));
			put_le(seq + n, k ? y : x, 4);
			n += 4;
		}
		if (has_pattern(w, seq, n))
			continue;
		set_rule(u, RULE_ALU_SPLIT, seq, n);
		u->cand++;
		return true;
	}
	return false;
}

/* `lea d(reg), reg` on the full 64-bit register (or its low 32 bits, zero
 * extended), into @p; its length. */
static unsigned encode_lea_w(uint8_t *p, unsigned reg, int32_t d, bool wide)
{
	unsigned n = 0;
	bool d8 = d >= -128 && d <= 127;
	unsigned rex = (wide ? 8u : 0u) | ((reg >> 3) << 2) | (reg >> 3);
	if (rex)
		p[n++] = (uint8_t)(0x40 | rex);
	p[n++] = 0x8d;
	p[n++] = (uint8_t)((d8 ? 0x40 : 0x80) | ((reg & 7) << 3) | (reg & 7));
	if ((reg & 7) == 4)
		p[n++] = 0x24;
	put_le(p + n, (uint64_t)(int64_t)d, d8 ? 1 : 4);
	return n + (d8 ? 1 : 4);
}

static unsigned encode_lea_self(uint8_t *p, unsigned reg, int32_t d)
{
	return encode_lea_w(p, reg, d, true);
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
static const uint8_t *orc_entry_at(const struct rw *w, size_t sec, uint64_t off)
{
	const struct orc_ref *best = NULL;
	size_t lo = 0, hi = w->n_orc_refs;
	while (lo < hi) { /* the last ref <= (sec, off) */
		size_t mid = lo + (hi - lo) / 2;
		const struct orc_ref *r = &w->orc_refs[mid];
		if (r->section < sec || (r->section == sec && r->offset <= off)) {
			best = r;
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (!best || best->section != sec)
		return NULL;
	return w->o->sec[w->orc].data + best->entry * ORC_ENTRY_SIZE;
}

/* Does an ORC entry start exactly at input offset @off? */
static bool orc_entry_starts(const struct rw *w, size_t sec, uint64_t off)
{
	for (size_t k = 0; k < w->n_orc_refs; k++)
		if (w->orc_refs[k].section == sec && w->orc_refs[k].offset == off)
			return true;
	return false;
}

/* May unit @u run with the stack pointer lowered for a moment?  Its unwind
 * data (if the object has any) must compute the frame from rsp or rbp. */
static bool stack_may_move(const struct rw *w, const struct sect *s, const struct unit *u)
{
	if (!w->orc)
		return true;
	const uint8_t *e = orc_entry_at(w, s->idx, u->off);
	if (!e)
		return false;
	unsigned sp_reg = e[4] & 0x0f;
	return sp_reg == ORC_REG_SP || sp_reg == ORC_REG_BP;
}

/*
 * May the displacement of @u's memory operand be given another value?  Not
 * for a compressed EVEX disp8 (scaled by the operand size), and not for a
 * branch through memory: the moved register would be seen by the code it
 * reaches (a callee's first argument, say) before it is restored.
 */
static bool disp_may_change(const uint8_t *b, const struct pvsub_insn *in)
{
	bool evex = in->opcode_offset >= 4 && b[in->opcode_offset - 4] == 0x62;
	return in->regs_known && !in->is_branch && in->disp_offset >= 0 && in->disp_size > 0 &&
	       !(evex && in->disp_size == 1);
}

/* A load that overwrites all of register @reg and uses no other register
 * operand: mov, lea, movzx, movsx, movsxd into a 32- or 64-bit register. */
static bool loads_whole(const uint8_t *b, const struct pvsub_insn *in, unsigned reg)
{
	unsigned rex = rex_of(b, in);
	if (in->opcode_offset != (rex ? 1u : 0u) || in->modrm_offset < 0 ||
	    in->gpr_operands != (1u << reg) || (in->gpr_implicit & (1u << reg)))
		return false;
	unsigned dest = ((b[in->modrm_offset] >> 3) & 7u) | (((rex >> 2) & 1u) << 3);
	const uint8_t *op = b + in->opcode_offset;
	bool known = (in->opcode_len == 1 && (op[0] == 0x8b || op[0] == 0x8d ||
					      (op[0] == 0x63 && (rex & 8)))) ||
		     (in->opcode_len == 2 && op[0] == 0x0f &&
		      (op[1] == 0xb6 || op[1] == 0xb7 || op[1] == 0xbe || op[1] == 0xbf));
	return known && dest == reg;
}

/* May the register @reg (the base or index of unit @u's memory operand) be
 * moved for a moment?  rsp never (sp-rebase does that), rbp only where the
 * unwind data does not read it (its frame from rsp, the caller's rbp saved
 * on the stack). */
static bool reg_may_move(const struct rw *w, const struct sect *s, const struct unit *u,
			 unsigned reg)
{
	if (reg == 4)
		return false;
	if (reg != 5 || !w->orc)
		return true;
	const uint8_t *e = orc_entry_at(w, s->idx, u->off);
	return e && (e[4] & 0x0f) == ORC_REG_SP && (e[4] >> 4) == 1 /* ORC_REG_PREV_SP */;
}

/* End of the ModRM, SIB and displacement bytes of @in. */
static unsigned mem_end(const struct pvsub_insn *in)
{
	if (in->disp_offset >= 0)
		return (unsigned)(in->disp_offset + in->disp_size);
	if (in->sib_offset >= 0)
		return (unsigned)in->sib_offset + 1;
	return (unsigned)in->modrm_offset + 1;
}

/*
 * Copy @in (bytes @b) into @p with its memory operand's displacement set to
 * @disp and, when @reg >= 0, ModRM.reg set to @reg & 7 (REX.R is the
 * caller's): a disp8 that no longer fits becomes a disp32, a missing one
 * (mod 00) is added.  Only for a memory operand with a base register.
 * Returns the length written and *@disp_at, or 0 when @disp cannot be
 * encoded.
 */
static unsigned put_mem_insn(uint8_t *p, const uint8_t *b, const struct pvsub_insn *in,
			     unsigned from, int64_t disp, int reg, unsigned *disp_at)
{
	unsigned ms = (unsigned)in->modrm_offset, n = 0;
	uint8_t modrm = b[ms];
	unsigned mod = modrm >> 6;
	bool sib = in->sib_offset >= 0;
	if (mod == 3 || (mod == 0 && (modrm & 7) == 5) ||
	    (mod == 0 && sib && (b[in->sib_offset] & 7) == 5) || !fits(disp, 4))
		return 0;
	unsigned size = fits(disp, 1) && (mod != 2 || in->disp_size != 4) ? 1 : 4;
	if (mod == 2)
		size = 4; /* keep a disp32 a disp32 */
	memcpy(p, b + from, ms - from);
	n = ms - from;
	if (reg >= 0)
		modrm = (uint8_t)((modrm & 0xc7) | ((unsigned)(reg & 7) << 3));
	p[n++] = (uint8_t)((modrm & 0x3f) | (size == 1 ? 0x40 : 0x80));
	if (sib)
		p[n++] = b[in->sib_offset];
	*disp_at = n;
	put_le(p + n, (uint64_t)disp, size);
	n += size;
	unsigned me = mem_end(in);
	memcpy(p + n, b + me, in->len - me);
	return n + (in->len - me);
}

/* Scale of the SIB index of @in (1, 2, 4, 8). */
static unsigned sib_scale(const uint8_t *b, const struct pvsub_insn *in)
{
	return in->sib_offset >= 0 ? 1u << (b[in->sib_offset] >> 6) : 1;
}

/*
 * disp-rebase: the memory operand base + index*scale + disp becomes
 * (base + d) + index*scale + (disp - d): `lea d(base), base; the
 * instruction with displacement disp - d; lea -d(base), base`; without a
 * base the index moves instead (by d, the displacement by d*scale).  lea
 * changes no flags and the register is restored before anything else runs.
 * Only for a register the instruction uses for nothing else (no register
 * operand, no implicit use) -- or that it overwrites as a whole, when no
 * restore is needed -- never rsp, rbp only where the unwinder does not read
 * it, and never for an instruction whose fault an exception table catches
 * (the fixup would see the moved register).
 */
static bool fix_disp_rebase(const struct rw *w, struct sect *s, size_t i)
{
	struct unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	if (!disp_may_change(b, in) || in->mem_operands != 1 || in->mem_base == 16 ||
	    (in->mem_base < 0 && in->mem_index < 0) || in->mem_index == in->mem_base)
		return false;
	/* A relocated immediate is carried over; nothing else may be relocated. */
	if (u->has_reloc && (u->reloc_at < 0 || u->reloc_at != in->imm_offset))
		return false;
	bool by_index = in->mem_base < 0;
	unsigned reg = (unsigned)(by_index ? in->mem_index : in->mem_base);
	int64_t scale = by_index ? (int64_t)sib_scale(b, in) : 1;
	if (!reg_may_move(w, s, u, reg))
		return false;
	bool restore = true;
	if ((in->gpr_operands | in->gpr_implicit) & (1u << reg)) {
		if (by_index || !loads_whole(b, in, reg))
			return false;
		restore = false;
	}
	int64_t disp = get_sle(b + in->disp_offset, in->disp_size);
	for (; u->cand < 4096; u->cand++) {
		int32_t d = lea_candidate(u->cand);
		int64_t d2 = disp - d * scale;
		if (!fits(d2, in->disp_size))
			continue;
		uint8_t seq[MAX_SEQ];
		unsigned n = encode_lea_self(seq, reg, d);
		memcpy(seq + n, b, in->len);
		put_le(seq + n + in->disp_offset, (uint64_t)d2, in->disp_size);
		n += in->len;
		unsigned lea_len = n - in->len, end = n;
		if (restore)
			n += encode_lea_self(seq + n, reg, -d);
		if (has_pattern(w, seq, n))
			continue;
		set_rule(u, RULE_DISP_REBASE, seq, n);
		if (u->has_reloc) {
			u->fld_old = u->reloc_at;
			u->fld_new = (uint8_t)(lea_len + (unsigned)u->reloc_at);
			u->fld_end = (uint8_t)end;
		}
		u->cand++;
		return true;
	}
	return false;
}

/*
 * sp-rebase: a memory operand based on rsp whose displacement holds the
 * pattern: `lea -D(%rsp), %rsp; the instruction with disp + D; lea
 * D(%rsp), %rsp`.  Moving rsp *down* never exposes live stack (an
 * interrupt or signal frame goes below the new rsp, below any red zone);
 * ORC entries describe the lowered stack (added when the object is
 * written).
 */
static bool fix_sp_rebase(const struct rw *w, struct sect *s, size_t i)
{
	struct unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	if (!disp_may_change(b, in) || in->mem_operands != 1 || in->mem_base != 4 ||
	    in->mem_index == 4 || ((in->gpr_operands | in->gpr_implicit) & (1u << 4)) ||
	    !stack_may_move(w, s, u))
		return false;
	if (u->has_reloc && (u->reloc_at < 0 || u->reloc_at != in->imm_offset))
		return false;
	int64_t disp = get_sle(b + in->disp_offset, in->disp_size);
	for (; u->cand < 512; u->cand++) {
		int32_t d = 8 * (int32_t)(u->cand + 1);
		uint8_t seq[MAX_SEQ];
		unsigned at, n = encode_lea_self(seq, 4, -d), lo = n;
		unsigned k = put_mem_insn(seq + n, b, in, 0, disp + d, -1, &at);
		if (k == 0)
			break;
		/* the bytes after the operand (the immediate) end the copy */
		unsigned tail = n + k - (in->len - mem_end(in));
		n += k;
		unsigned end = n;
		unsigned hi = n + encode_lea_self(seq + n, 4, d);
		if (hi > MAX_SEQ || has_pattern(w, seq, hi))
			continue;
		set_rule(u, RULE_SP_REBASE, seq, hi);
		if (u->has_reloc) {
			u->fld_old = u->reloc_at;
			u->fld_new = (uint8_t)(tail + ((unsigned)u->reloc_at - mem_end(in)));
			u->fld_end = (uint8_t)end;
		}
		u->sp_lo = (uint8_t)lo;
		u->sp_hi = (uint8_t)hi;
		u->sp_delta = (uint16_t)d;
		u->cand++;
		return true;
	}
	return false;
}

/* The reg-operand opcode for an immediate form (op r/m, imm -> op r/m, reg)
 * and the immediate's width; 0 when the rule does not know the form. */
static unsigned scratch_opcode(const uint8_t *b, const struct pvsub_insn *in, bool *eax_form,
			       bool *imm8)
{
	static const uint8_t alu[8] = {0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31, 0x39};
	uint8_t op = b[in->opcode_offset];
	unsigned ext = in->modrm_offset >= 0 ? (b[in->modrm_offset] >> 3) & 7u : 0;
	*eax_form = false;
	*imm8 = false;
	if (in->opcode_len != 1)
		return 0;
	switch (op) {
	case 0x81:
		return alu[ext];
	case 0x83:
		*imm8 = true;
		return alu[ext];
	case 0xc7:
		return ext == 0 ? 0x89 : 0;
	case 0xf7:
		return ext == 0 ? 0x85 : 0;
	case 0x05: case 0x0d: case 0x15: case 0x1d: case 0x25: case 0x2d: case 0x35: case 0x3d:
		*eax_form = true;
		return (unsigned)op - 4;
	case 0xa9:
		*eax_form = true;
		return 0x85;
	}
	return 0;
}

/*
 * scratch: an instruction with an immediate that no cheaper rule can
 * change (cmp, test, add, sub, adc, sbb, mov to memory, ...): `push %r;
 * mov $a, %r32 or %r64; lea b(%r), %r (a + b = imm); the register form of
 * the instruction; pop %r`.  push, mov, lea and pop change no flags; %r is
 * a register the instruction does not use.  Outside the kernel the 128-byte
 * red zone below rsp is skipped first (lea -128(%rsp), %rsp).  A memory
 * operand based on rsp gets the pushed bytes added to its displacement; a
 * relocated displacement (RIP-relative or absolute) is carried over.
 */
static bool fix_scratch(const struct rw *w, struct sect *s, size_t i)
{
	struct unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	bool eax_form, imm8;
	unsigned newop = scratch_opcode(b, in, &eax_form, &imm8);
	/* Not for an instruction that uses rsp itself (`sub $N, %rsp`): the
	 * push moves it. */
	if (!newop || !in->regs_known || in->is_branch || in->mem_operands > 1 ||
	    in->imm_offset < 0 || ((in->gpr_operands | in->gpr_implicit) & (1u << 4)) ||
	    !stack_may_move(w, s, u))
		return false;
	/* A relocation may only be the displacement, which is copied as is;
	 * an intra-section RIP-relative operand would need its target. */
	bool carry = u->has_reloc;
	if (carry && (u->reloc_at != in->disp_offset || in->disp_size != 4))
		return false;
	if (u->rk == REL_RIP && !u->rel_has_reloc)
		return false;
	if (in->mem_base == 4 && in->disp_offset >= 0 && !disp_may_change(b, in))
		return false;
	/* Prefixes other than segment, operand size and lock: no. */
	unsigned rex = rex_of(b, in), npfx = in->opcode_offset - (rex ? 1u : 0u);
	for (unsigned k = 0; k < npfx; k++)
		if (!memchr("\x26\x2e\x36\x3e\x64\x65\x66\xf0", b[k], 8))
			return false;
	uint16_t used = in->gpr_operands | in->gpr_implicit | (1u << 4);
	if (in->mem_base >= 0 && in->mem_base < 16)
		used |= (uint16_t)(1u << in->mem_base);
	if (in->mem_index >= 0)
		used |= (uint16_t)(1u << in->mem_index);
	unsigned r = 0;
	while (r < 16 && (used & (1u << r)))
		r++;
	if (r == 16)
		return false;
	bool wide = rex & 8;
	uint64_t value = imm8 ? (uint64_t)get_sle(b + in->imm_offset, 1)
			      : (uint64_t)get_sle(b + in->imm_offset, in->imm_size);
	if (!wide)
		value = (uint32_t)value;
	unsigned skip = w->kernel ? 0 : 128, push = skip + 8;
	int64_t disp = in->disp_offset >= 0 ? get_sle(b + in->disp_offset, in->disp_size) : 0;

	for (; u->cand < TWIST_COUNT * 1024; u->cand++) {
		int32_t lb = lea_candidate(u->cand % 1024);
		if (!imm_lea_ok(wide, false, value, lb))
			continue;
		uint8_t seq[MAX_SEQ + 16];
		unsigned n = 0, lo, hi, fld = 0, end;
		if (skip)
			n += encode_lea_self(seq + n, 4, -(int32_t)skip);
		if (r >= 8)
			seq[n++] = 0x41;
		seq[n++] = (uint8_t)(0x50 | (r & 7)); /* push %r */
		lo = n;
		unsigned ml = encode_imm_lea(seq + n, r, wide, false, value, lb,
					     (enum twist)(u->cand / 1024));
		if (ml == 0)
			continue;
		n += ml;
		/* the instruction, register form: prefixes, REX, opcode, operand */
		for (unsigned k = 0; k < npfx; k++)
			seq[n++] = b[k];
		unsigned nrex = (rex & 0x0b) | ((r >> 3) << 2);
		if (eax_form)
			nrex = (wide ? 8u : 0u) | ((r >> 3) << 2);
		if (nrex)
			seq[n++] = (uint8_t)(0x40 | nrex);
		seq[n++] = (uint8_t)newop;
		if (eax_form) {
			seq[n++] = (uint8_t)(0xc0 | ((r & 7) << 3)); /* rm = eax/rax */
		} else if (in->mem_base == 4) {
			unsigned at, ms = (unsigned)in->modrm_offset;
			unsigned k = put_mem_insn(seq + n, b, in, ms, disp + push, (int)r, &at);
			if (k == 0)
				break;
			n += k - (in->len - mem_end(in)); /* no immediate in the reg form */
		} else {
			unsigned ms = (unsigned)in->modrm_offset, me = mem_end(in);
			memcpy(seq + n, b + ms, me - ms);
			seq[n] = (uint8_t)((seq[n] & 0xc7) | ((r & 7) << 3));
			if (in->disp_offset >= 0)
				fld = n + (unsigned)(in->disp_offset - (int)ms);
			n += me - ms;
		}
		end = n;
		if (r >= 8)
			seq[n++] = 0x41;
		seq[n++] = (uint8_t)(0x58 | (r & 7)); /* pop %r */
		hi = n;
		if (skip)
			n += encode_lea_self(seq + n, 4, (int32_t)skip);
		if (n > MAX_SEQ || has_pattern(w, seq, n))
			continue;
		set_rule(u, RULE_SCRATCH, seq, n);
		if (carry) {
			u->fld_old = in->disp_offset;
			u->fld_new = (uint8_t)fld;
			u->fld_end = (uint8_t)end;
		}
		/* ORC: the stack is lower from the push to the pop (kernel
		 * objects, which have no red-zone skip). */
		u->sp_lo = (uint8_t)lo;
		u->sp_hi = (uint8_t)hi;
		u->sp_delta = (uint16_t)push;
		u->cand++;
		return true;
	}
	return false;
}

/*
 * Are the arithmetic flags that unit @i leaves dead?  Yes when, on every
 * path after it, an instruction writes all six before any reads one.  The
 * path is followed through unconditional jumps inside the section; it ends
 * "dead" at a return, a call or a jump to another function: the x86-64
 * psABI gives the status flags no role across calls and returns, and the
 * kernel is built to it.  A conditional branch, an indirect jump, an
 * instruction whose use is not modelled or a long path ends it "maybe
 * live".
 */
static bool flags_dead_after(const struct sect *s, size_t i)
{
	size_t j = i + 1;
	for (unsigned steps = 0; steps < 64 && j < s->n; steps++) {
		const struct unit *u = &s->u[j];
		const struct pvsub_insn *in = &u->in;
		if (!in->regs_known || in->flags_read)
			return false;
		if (in->is_branch) {
			if (u->rk == REL_CALL || strncmp(in->mnemonic, "ret", 3) == 0 ||
			    strncmp(in->mnemonic, "call", 4) == 0)
				return true;
			if (u->rk != REL_JMP)
				return false;
			if (u->rel_has_reloc)
				return true; /* a tail call */
			size_t t = unit_at(s, (uint64_t)u->target);
			if (t == s->n || s->u[t].off != (uint64_t)u->target)
				return false;
			j = t;
			continue;
		}
		if (in->flags_write_all)
			return true;
		j++;
	}
	return false;
}

/*
 * lea-arith: `add $imm, reg` or `sub $imm, reg` whose flags are dead (see
 * flags_dead_after) is `lea imm(reg), reg`, or two such leas when one
 * still holds the pattern.  On rsp both steps go the same way as the
 * original, so the stack never exposes or covers live data, and the ORC
 * entry between them describes the intermediate stack.
 */
static bool fix_lea_arith(const struct rw *w, struct sect *s, size_t i)
{
	struct unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	unsigned rex = rex_of(b, in), op = b[in->opcode_offset], ext, reg;
	if (in->opcode_offset != (rex ? 1u : 0u) || in->opcode_len != 1 || !in->regs_known)
		return false;
	if ((op == 0x81 || op == 0x83) && (b[in->modrm_offset] & 0xc0) == 0xc0) {
		ext = (b[in->modrm_offset] >> 3) & 7;
		reg = (b[in->modrm_offset] & 7u) | ((rex & 1u) << 3);
	} else if (op == 0x05 || op == 0x2d) {
		ext = op == 0x05 ? 0 : 5;
		reg = 0;
	} else {
		return false;
	}
	if ((ext != 0 && ext != 5) || !flags_dead_after(s, i))
		return false;
	bool wide = rex & 8;
	int64_t imm = get_sle(b + in->imm_offset, op == 0x83 ? 1 : 4);
	int64_t delta = ext == 0 ? imm : -imm;
	if (!fits(delta, 4))
		return false;
	/* On rsp, with ORC: a frame computed from rbp does not care; one
	 * computed from rsp must already have its entry for the state after. */
	bool sp_entries = false;
	if (reg == 4) {
		const uint8_t *e = w->orc ? orc_entry_at(w, s->idx, u->off) : NULL;
		if (!wide || (w->orc && !e))
			return false;
		if (e && (e[4] & 0x0f) != ORC_REG_BP) {
			if ((e[4] & 0x0f) != ORC_REG_SP ||
			    !orc_entry_starts(w, s->idx, u->off + in->len))
				return false;
			sp_entries = true;
		}
	}
	for (; u->cand < 2048; u->cand++) {
		int64_t a = u->cand == 0 ? delta : lea_candidate(u->cand - 1);
		int64_t rest = delta - a;
		if (reg == 4 && u->cand && (a == 0 || (a < 0) != (delta < 0) ||
					    (rest != 0 && (rest < 0) != (delta < 0))))
			continue;
		if (!fits(rest, 4))
			continue;
		uint8_t seq[MAX_SEQ];
		unsigned n = encode_lea_w(seq, reg, (int32_t)a, wide), lo = n;
		if (rest)
			n += encode_lea_w(seq + n, reg, (int32_t)rest, wide);
		if (has_pattern(w, seq, n))
			continue;
		set_rule(u, RULE_LEA_ARITH, seq, n);
		if (sp_entries && rest) {
			u->sp_lo = (uint8_t)lo;
			u->sp_hi = (uint8_t)n;
			u->sp_delta = (int32_t)-a;
			u->sp_no_restore = true;
		}
		u->cand++;
		return true;
	}
	return false;
}

/* One occurrence inside unit @i's instruction bytes. */
static void fix_inside(struct rw *w, struct sect *s, size_t i, const struct occ *oc, unsigned len,
		       unsigned round)
{
	struct unit *u = &s->u[i];
	unsigned rel = (unsigned)(oc->pos - insn_start(u));
	uint64_t where = u->off + rel;
	char field[48];

	if (u->rule != RULE_NONE) {
		/* Inside a sequence of ours: try its next parameters. */
		if ((u->rule == RULE_IMM_LEA && fix_imm_lea(w, s, i)) ||
		    (u->rule == RULE_ALU_SPLIT && fix_alu_split(w, s, i)) ||
		    (u->rule == RULE_DISP_REBASE && fix_disp_rebase(w, s, i)) ||
		    (u->rule == RULE_SP_REBASE && fix_sp_rebase(w, s, i)) ||
		    (u->rule == RULE_SCRATCH && fix_scratch(w, s, i)) ||
		    (u->rule == RULE_LEA_ARITH && fix_lea_arith(w, s, i)))
			return;
		refuse(w, s->name, where, "no replacement for `%s%s%s` avoids the pattern",
		       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
		return;
	}
	if (u->long_form) {
		/* A promoted branch: only its rel32 can hold the pattern. */
		if (fix_rel(w, s, i))
			record(w, s, i, oc, len, round, PVSUB_CLASS_EMBEDDED, "immediate",
			       ACT_REL_ADJUST);
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
		    fix_trap(s, i)) {
			record(w, s, i, oc, len, round, PVSUB_CLASS_INSTRUCTION, NULL, ACT_TRAP);
			return;
		}
		refuse(w, s->name, where, "`%s%s%s` is a gate instruction and the policy rejects it",
		       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
		return;
	}
	if (u->rk != REL_NONE && !u->rel_has_reloc) {
		unsigned fo = rel_field_offset(u), fs = rel_field_size(u);
		if (rel < fo + fs && fo < rel + len) {
			if (fix_rel(w, s, i))
				record(w, s, i, oc, len, round, PVSUB_CLASS_EMBEDDED, field,
				       ACT_REL_ADJUST);
			else
				refuse(w, s->name, where,
				       "cannot change the displacement of `%s%s%s` (no room to move code)",
				       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
			return;
		}
	}
	if (!u->has_reloc && u->in.imm_offset >= 0 && rel + len > (unsigned)u->in.imm_offset &&
	    fix_imm_lea(w, s, i)) {
		record(w, s, i, oc, len, round, PVSUB_CLASS_EMBEDDED, field, ACT_IMM_LEA);
		return;
	}
	if (!u->has_reloc && !u->one_insn && u->in.imm_offset >= 0 &&
	    rel + len > (unsigned)u->in.imm_offset && fix_alu_split(w, s, i)) {
		record(w, s, i, oc, len, round, PVSUB_CLASS_EMBEDDED, field, ACT_ALU_SPLIT);
		return;
	}
	if (!u->one_insn && u->in.disp_offset >= 0 &&
	    rel < (unsigned)(u->in.disp_offset + u->in.disp_size) && fix_disp_rebase(w, s, i)) {
		record(w, s, i, oc, len, round, PVSUB_CLASS_EMBEDDED, field, ACT_DISP_REBASE);
		return;
	}
	if (!u->one_insn && u->in.disp_offset >= 0 &&
	    rel < (unsigned)(u->in.disp_offset + u->in.disp_size) && fix_sp_rebase(w, s, i)) {
		record(w, s, i, oc, len, round, PVSUB_CLASS_EMBEDDED, field, ACT_SP_REBASE);
		return;
	}
	if (!u->has_reloc && u->in.imm_offset >= 0 && rel + len > (unsigned)u->in.imm_offset &&
	    fix_lea_arith(w, s, i)) {
		record(w, s, i, oc, len, round, PVSUB_CLASS_EMBEDDED, field, ACT_LEA_ARITH);
		return;
	}
	if (!u->one_insn && u->in.imm_offset >= 0 && rel + len > (unsigned)u->in.imm_offset &&
	    fix_scratch(w, s, i)) {
		record(w, s, i, oc, len, round, PVSUB_CLASS_EMBEDDED, field, ACT_SCRATCH);
		return;
	}
	refuse(w, s->name, where, "no rewrite rule removes the pattern from the %s of `%s%s%s`", field,
	       u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
}

static void fix_occurrence(struct rw *w, struct sect *s, const struct occ *oc, unsigned round)
{
	unsigned len = pvsub_matcher_pattern(w->opts->matcher, oc->pattern)->len;
	size_t a = unit_at_new(s, oc->pos), b = unit_at_new(s, oc->pos + len - 1);
	if (a >= s->n || b >= s->n)
		return; /* cannot happen: the occurrence lies in the section */
	const struct unit *ua = &s->u[a];
	bool in_pad = oc->pos < insn_start(ua);
	s->last_site = ua->off;
	if (a != b || in_pad) {
		if (fix_spanning(s, a, b, oc->pos))
			record(w, s, b, oc, len, round, PVSUB_CLASS_SPANNING, NULL, ACT_NOP_SPLIT);
		else
			refuse(w, s->name, round ? ua->off : oc->pos,
			       "across instructions where padding is not allowed (inside a patch site)");
		return;
	}
	fix_inside(w, s, a, oc, len, round);
}

/*
 * Search the section as laid out now and fix what is found.  Returns the
 * number of occurrences acted on, or -1 after a refusal.
 */
static int round_once(struct rw *w, struct sect *s, unsigned round)
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
	for (size_t k = 0; k < l.n; k++) {
		const struct occ *oc = &l.v[k];
		unsigned len = pvsub_matcher_pattern(w->opts->matcher, oc->pattern)->len;
		if (in_reloc_window(w, s, oc->pos, len) || in_mutable_window(w, s, oc->pos, len))
			continue;
		/* One change per unit and round: the next round sees its effect. */
		if (acted && oc->pos < done_to)
			continue;
		fix_occurrence(w, s, oc, round);
		acted++;
		done_to = oc->pos + len;
	}
	free(l.v);
	return w->res->n_refusals != refused ? -1 : acted;
}

/* --- the object --------------------------------------------------------------------- */

static struct sect *sect_of(struct rw *w, size_t idx)
{
	for (size_t i = 0; i < w->n_s; i++)
		if (w->s[i].idx == idx)
			return &w->s[i];
	return NULL;
}

static bool needs_rewrite(struct rw *w, struct sect *s)
{
	/* A first, cheap look: any occurrence outside relocation windows and
	 * mutable windows?  Decoding follows only for such sections. */
	struct occ_list l = {0};
	if (pvsub_matcher_search(w->opts->matcher, s->in, s->size, collect_occ, &l) < 0) {
		w->err = -ENOMEM;
		free(l.v);
		return false;
	}
	bool need = false;
	for (size_t k = 0; k < l.n && !need; k++) {
		unsigned len = pvsub_matcher_pattern(w->opts->matcher, l.v[k].pattern)->len;
		bool inwin = false;
		for (size_t j = 0; j < w->n_win && !inwin; j++)
			inwin = w->win[j].section == s->idx && w->win[j].offset <= l.v[k].pos &&
				l.v[k].pos + len <= w->win[j].offset + w->win[j].len;
		bool inrel = false;
		size_t n = s->rela ? pvsub_relobj_rela_count(w->o, s->rela) : 0;
		for (size_t j = 0; j < n && !inrel; j++) {
			Elf64_Rela ra;
			pvsub_relobj_rela_get(w->o, s->rela, j, &ra);
			unsigned sz = reloc_size(ELF64_R_TYPE(ra.r_info));
			inrel = ra.r_offset < l.v[k].pos + len && l.v[k].pos < ra.r_offset + sz;
		}
		need = !inwin && !inrel;
	}
	free(l.v);
	return need;
}

static int rewrite_section(struct rw *w, struct sect *s)
{
	if (strcmp(s->name, ".altinstr_replacement") == 0) {
		refuse(w, s->name, 0,
		       "replacement code of alternatives is copied into fixed-size windows at load "
		       "time; it is not rewritten");
		return 0;
	}
	check_symbols(w, s);
	check_relocations(w, s);
	check_targets(w, s);
	mark_windows(w, s);
	mark_exception_sites(w, s);
	if (w->res->n_refusals)
		return 0;
	for (unsigned round = 0; round < MAX_ROUNDS; round++) {
		int acted = round_once(w, s, round);
		if (acted <= 0)
			return 0;
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
	struct sect *ps = sect_of(w, tsec);
	*np = off;
	*old_bias = *new_bias = 0;
	if (!ps)
		return true; /* data: the field means S + A itself */
	if (!ps->decoded)
		return !pc && !ps->rewrite;
	size_t i = unit_at(ps, off);
	if (i == ps->n)
		return false;
	const struct unit *u = &ps->u[i];
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
		struct sect *s = sym.st_shndx < w->o->n_sec ? sect_of(w, sym.st_shndx) : NULL;
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

	if (symi && symi < pvsub_relobj_sym_count(o))
		pvsub_relobj_sym_get(o, symi, &sym);
	struct sect *ss = symi && sym.st_shndx < o->n_sec ? sect_of(w, sym.st_shndx) : NULL;
	bool into = ss && ss->rewrite && !reloc_got(type);

	if (!place_field(w, tsec, old_place, type, &np, &ob, &nb)) {
		struct sect *ps = sect_of(w, tsec);
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
	if (reloc_pc_relative(type) && !sect_of(w, tsec) && alloc &&
	    !pvsub_kmeta_is_code_table(tname) &&
	    (ELF64_ST_TYPE(sym.st_info) == STT_SECTION || ra->r_addend != 0)) {
		refuse(w, tname, old_place,
		       "PC-relative data reference to %s+%#" PRIx64
		       " (it may be a jump-table difference, which cannot be moved safely)",
		       ss->name, (uint64_t)(sym.st_value + (uint64_t)ra->r_addend));
		return;
	}
	uint64_t ref = sym.st_value + (uint64_t)ra->r_addend + (uint64_t)ob;
	uint64_t nref;
	bool orc = strcmp(tname, ".orc_unwind_ip") == 0;
	if (!map_offset(ss, ref, orc, &nref)) {
		/* Debug information (not loaded) may point anywhere; leave it. */
		if (alloc)
			refuse(w, tname, old_place,
			       "reference to %s+%#" PRIx64 " (not an instruction boundary) cannot be moved",
			       ss->name, ref);
		return;
	}
	ra->r_addend = (int64_t)(nref - m->value[symi]) - nb;
}

static void fix_all_relocations(struct rw *w, const struct symmap *m)
{
	for (size_t rs = 1; rs < w->o->n_sec; rs++) {
		if (w->o->sec[rs].sh.sh_type != SHT_RELA)
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
static void self_check(struct rw *w, struct sect *s)
{
	const uint8_t *out = (const uint8_t *)s->out.data;
	for (size_t i = 0; i < s->n; i++) {
		const struct unit *u = &s->u[i];
		struct pvsub_insn in;
		if (u->rule != RULE_NONE)
			continue;
		if (pvsub_decode(w->opts->decoder, out + insn_start(u), s->new_size - insn_start(u),
				 insn_start(u), &in) < 0 ||
		    in.len != u->enc_len) {
			refuse(w, s->name, u->off, "internal check failed: the rewritten `%s%s%s` does "
			       "not decode as planned", u->in.mnemonic, u->in.op_str[0] ? " " : "", u->in.op_str);
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

static int orc_push(struct rw *w, struct orc_add *a, size_t secsym, uint64_t at,
		    const uint8_t *entry, int32_t delta)
{
	uint8_t e[ORC_ENTRY_SIZE];
	memcpy(e, entry, sizeof(e));
	if ((e[4] & 0x0f) == ORC_REG_SP) {
		int16_t sp = (int16_t)(e[0] | (e[1] << 8));
		sp = (int16_t)(sp + delta);
		e[0] = (uint8_t)sp;
		e[1] = (uint8_t)((uint16_t)sp >> 8);
	}
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
		memcpy(data, s->data, s->size);
	memcpy(data + s->size, more->data, more->len);
	pvsub_relobj_set_data(w->o, idx, data, s->size + more->len);
	return 0;
}

/*
 * Units that lower the stack for a moment get two ORC entries: where the
 * stack goes down (the unit's entry, with the frame sp_delta further
 * away) and where it is back (the unit's entry as it was), unless an entry
 * already starts there.  The module loader sorts the tables.
 */
static int add_orc_entries(struct rw *w)
{
	struct orc_add a = {0};
	size_t rs = rela_for(w->o, w->orc_ip);
	int r = 0;
	for (size_t i = 0; i < w->n_s && r == 0; i++) {
		struct sect *s = &w->s[i];
		if (!s->rewrite)
			continue;
		size_t secsym = section_symbol(w, s->idx);
		for (size_t k = 0; k < s->n && r == 0; k++) {
			const struct unit *u = &s->u[k];
			if (!u->sp_delta)
				continue;
			const uint8_t *e = orc_entry_at(w, s->idx, u->off);
			if (!e || !secsym) {
				refuse(w, s->name, u->off, "no ORC entry describes this instruction");
				continue;
			}
			uint64_t lo = insn_start(u) + u->sp_lo, hi = insn_start(u) + u->sp_hi;
			r = orc_push(w, &a, secsym, lo, e, u->sp_delta);
			if (r == 0 && !u->sp_no_restore && !orc_entry_exists(w, rs, s->idx, hi))
				r = orc_push(w, &a, secsym, hi, e, 0);
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

static int finish(struct rw *w)
{
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
	if (w->res->n_refusals == 0)
		fix_all_relocations(w, &m);
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
		struct sect *s = sect_of(w, pvsub_relobj_find(w->o, site->section));
		size_t ui = (size_t)site->new_offset;
		if (!s || ui >= s->n)
			continue;
		const struct unit *u = &s->u[ui];
		site->new_offset = insn_start(u);
		site->padding = u->pad;
		site->new_len = u->enc_len;
		if (s->out.data)
			memcpy(site->new_insn, s->out.data + insn_start(u), u->enc_len);
	}
	if (w->res->n_refusals)
		return 0;
	for (size_t i = 0; i < w->n_s; i++) {
		struct sect *s = &w->s[i];
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
	return w->res->data ? 0 : -ENOMEM;
}

static int cmp_orc_ref(const void *a, const void *b)
{
	const struct orc_ref *x = a, *y = b;
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
	size_t rs = w->orc_ip ? rela_for(o, w->orc_ip) : 0;
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
		if (ELF64_R_TYPE(ra.r_info) != R_X86_64_PC32 || ra.r_offset % 4 || ra.r_offset / 4 >= n ||
		    symi == 0 || symi >= pvsub_relobj_sym_count(o)) {
			refuse(w, ".orc_unwind_ip", ra.r_offset, "unexpected relocation");
			return 0;
		}
		pvsub_relobj_sym_get(o, symi, &sym);
		w->orc_refs[w->n_orc_refs++] = (struct orc_ref){
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
	return pvsub_relobj_find(o, ".modinfo") || pvsub_relobj_find(o, ".gnu.linkonce.this_module") ||
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
		    !sec->data)
			continue;
		struct sect *s = &w->s[w->n_s++];
		s->idx = i;
		s->name = sec->name;
		s->in = sec->data;
		s->size = sec->size;
		s->rela = rela_for(w->o, i);
	}
	return 0;
}

static void free_rw(struct rw *w)
{
	for (size_t i = 0; i < w->n_s; i++) {
		free(w->s[i].u);
		pvsub_buf_release(&w->s[i].out);
	}
	free(w->s);
	free(w->win);
	free(w->orc_refs);
	pvsub_relobj_free(w->o);
}

static int run(struct rw *w)
{
	struct pvsub_diag why;
	int r = pvsub_kmeta_windows(w->o, &w->win, &w->n_win, &why);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		refuse(w, "(metadata)", 0, "%s", why.msg);
		return w->err;
	}
	w->kernel = is_kernel_object(w->o);
	r = load_orc(w);
	if (r == 0)
		r = collect_sections(w);
	if (r < 0)
		return r;
	bool any = false;
	for (size_t i = 0; i < w->n_s; i++) {
		w->s[i].rewrite = needs_rewrite(w, &w->s[i]);
		any |= w->s[i].rewrite;
	}
	if (w->err)
		return w->err;
	if (any) {
		/* Decode every code section: references into a rewritten one need
		 * the instruction around their place. */
		for (size_t i = 0; i < w->n_s && r == 0; i++)
			r = decode_section(w, &w->s[i], w->s[i].rewrite);
		for (size_t i = 0; i < w->n_s && r == 0 && !w->err; i++)
			if (w->s[i].rewrite && w->s[i].decoded)
				r = rewrite_section(w, &w->s[i]);
		if (r < 0)
			return r;
		if (w->err)
			return w->err;
		if (w->res->n_refusals)
			return 0;
	}
	r = finish(w);
	return r < 0 ? r : w->err;
}

int pvsub_rewrite_buffer(const struct pvsub_rewrite_opts *opts, const uint8_t *data, size_t size,
			 struct pvsub_rewrite_result **out, struct pvsub_diag *diag)
{
	struct rw w = {.opts = opts};
	int r = pvsub_relobj_load(data, size, &w.o, diag);
	if (r < 0)
		return r;
	w.res = calloc(1, sizeof(*w.res));
	if (!w.res) {
		free_rw(&w);
		return pvsub_diag_set(diag, ENOMEM, "out of memory");
	}
	w.res->size_before = size;
	w.res->modsig_stripped = w.o->had_modsig;
	r = run(&w);
	free_rw(&w);
	if (r < 0) {
		pvsub_rewrite_result_free(w.res);
		return pvsub_diag_set(diag, -r, "out of memory");
	}
	if (w.res->n_refusals) {
		/* Nothing was made: no change to report, only the refusals. */
		free(w.res->data);
		w.res->data = NULL;
		w.res->size = 0;
		for (size_t k = 0; k < w.res->n_sites; k++)
			free(w.res->sites[k].section);
		w.res->n_sites = 0;
		w.res->code_before = w.res->code_after = 0;
	}
	*out = w.res;
	return 0;
}
