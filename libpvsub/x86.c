/* SPDX-License-Identifier: MIT */
/*
 * The byte layout of an instruction is computed here from the bytes, not
 * taken from capstone: capstone 4.0.2's detail->x86.encoding reports only
 * the second immediate of ENTER and EXTRQ/INSERTQ, gives no immediate for
 * the 3DNow! suffix, and has no layout at all for instructions it cannot
 * decode.  Capstone supplies the length (which we trust), the mnemonic and
 * the operands; the layout rules below only need to know, per opcode map,
 * whether a ModRM byte follows.  Everything after ModRM, SIB and
 * displacement is immediate, because x86 places immediates last.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "libpvsub/x86.h"

struct pvsub_decoder {
	csh cs;
	cs_insn *insn;
};

/*
 * ModRM presence in 64-bit mode, one row per high nibble, bit n for low
 * nibble n.  VEX/EVEX/XOP escapes (62, C4, C5, 8F with map >= 8) are
 * recognised before these tables are consulted.
 */
static const uint16_t modrm_map1[16] = {
	0x0f0f, 0x0f0f, 0x0f0f, 0x0f0f, /* ALU ops r/m forms */
	0x0000, 0x0000, 0x0a0c, 0x0000, /* 62 63 69 6b */
	0xffff, 0x0000, 0x0000, 0x0000, /* 80-8f */
	0x00f3, 0xff0f, 0x0000, 0xc0c0, /* c0 c1 c6 c7, d0-d3 d8-df, f6 f7 fe ff */
};

static const uint16_t modrm_map0f[16] = {
	0xa00f, 0xffff, 0xff0f, 0x0000, /* 00-03 0d 0f, 10-1f, 20-23 28-2f */
	0xffff, 0xffff, 0xffff, 0xff7f, /* 40-7f except 77 (emms) */
	0x0000, 0xffff, 0xf838, 0xffff, /* 90-9f, a3-a5 ab-af, b0-bf */
	0x00ff, 0xffff, 0xffff, 0xffff, /* c0-c7, d0-ff */
};

static bool map_has_modrm(const uint16_t *map, uint8_t op)
{
	return map[op >> 4] & (1u << (op & 15));
}

static bool is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x66:
	case 0x67:
	case 0xf0:
	case 0xf2:
	case 0xf3:
	case 0x2e:
	case 0x36:
	case 0x3e:
	case 0x26:
	case 0x64:
	case 0x65:
		return true;
	default:
		return false;
	}
}

static bool is_rex(uint8_t b)
{
	return (b & 0xf0) == 0x40;
}

/* Legacy prefixes and REX before the opcode (or before a VEX prefix). */
static size_t prefix_count(const uint8_t *code, size_t len)
{
	size_t i = 0;

	while (i < len && i < PVSUB_X86_MAX_INSN && (is_legacy_prefix(code[i]) || is_rex(code[i])))
		i++;
	return i;
}

static bool has_legacy_prefix(const uint8_t *code, size_t n, uint8_t p)
{
	return memchr(code, p, n) != NULL;
}

/*
 * Where the opcode starts and how long it is, for an instruction of @len
 * bytes at @code; whether a ModRM byte follows, or a moffs address.
 * -EILSEQ when the bytes run out.
 */
static int opcode_layout(const uint8_t *code, size_t len, struct pvsub_insn *in, bool *modrm,
			 bool *moffs)
{
	size_t p = prefix_count(code, len), vex = 0, op, oplen = 1;
	uint8_t map = 1, b;

	*moffs = false;
	if (p >= len)
		return -EILSEQ;
	b = code[p];
	if (p + 1 < len) {
		/* In 64-bit mode C4/C5/62 are always VEX/EVEX; 8F is XOP only when
		 * the map field would be invalid for POP r/m. */
		if (b == 0xc5) {
			vex = 2;
			map = 1;
		} else if (b == 0xc4) {
			vex = 3;
			map = code[p + 1] & 0x1f;
		} else if (b == 0x62) {
			vex = 4;
			map = code[p + 1] & 0x07;
		} else if (b == 0x8f && (code[p + 1] & 0x1f) >= 8) {
			vex = 3;
			map = code[p + 1] & 0x1f;
		}
	}
	op = p + vex;
	if (op >= len)
		return -EILSEQ;
	if (vex) {
		*modrm = !(b == 0xc5 || (b == 0xc4 && map == 1)) || code[op] != 0x77;
	} else if (code[op] != 0x0f) {
		*modrm = map_has_modrm(modrm_map1, code[op]);
		*moffs = code[op] >= 0xa0 && code[op] <= 0xa3;
	} else {
		if (op + 1 >= len)
			return -EILSEQ;
		oplen = 2;
		if (code[op + 1] == 0x38 || code[op + 1] == 0x3a) {
			oplen = 3;
			*modrm = true;
		} else {
			*modrm = map_has_modrm(modrm_map0f, code[op + 1]);
		}
	}
	if (op + oplen > len)
		return -EILSEQ;
	in->opcode_offset = (uint8_t)op;
	in->opcode_len = (uint8_t)oplen;
	return 0;
}

/* True for MOV to/from control and debug registers, which ignore ModRM.mod. */
static bool modrm_is_register_only(const uint8_t *code, const struct pvsub_insn *in)
{
	const uint8_t *op = code + in->opcode_offset;

	return in->opcode_len == 2 && op[0] == 0x0f && op[1] >= 0x20 && op[1] <= 0x23;
}

/*
 * ModRM, SIB and displacement after an opcode ending at @at: how many bytes
 * they take.  Also used to size table entries.  -EILSEQ when truncated.
 */
static int modrm_layout(const uint8_t *code, size_t len, size_t at, bool reg_only,
			struct pvsub_insn *in)
{
	uint8_t modrm, mod, rm;
	size_t i = at + 1;

	if (at >= len)
		return -EILSEQ;
	modrm = code[at];
	mod = modrm >> 6;
	rm = modrm & 7;
	in->modrm_offset = (int8_t)at;
	if (mod == 3 || reg_only)
		return (int)(i - at);
	if (rm == 4) {
		if (i >= len)
			return -EILSEQ;
		in->sib_offset = (int8_t)i;
		if (mod == 0 && (code[i] & 7) == 5)
			in->disp_size = 4;
		i++;
	} else if (mod == 0 && rm == 5) {
		in->disp_size = 4; /* RIP-relative */
	}
	if (mod == 1)
		in->disp_size = 1;
	else if (mod == 2)
		in->disp_size = 4;
	if (in->disp_size) {
		in->disp_offset = (int8_t)i;
		i += in->disp_size;
	}
	if (i > len)
		return -EILSEQ;
	return (int)(i - at);
}

static void layout_reset(struct pvsub_insn *in)
{
	in->opcode_offset = 0;
	in->opcode_len = 0;
	in->modrm_offset = -1;
	in->sib_offset = -1;
	in->disp_offset = -1;
	in->disp_size = 0;
	in->imm_offset = -1;
	in->imm_size = 0;
	in->imm2_offset = -1;
	in->imm2_size = 0;
}

/* Split the trailing immediate bytes of ENTER and EXTRQ/INSERTQ in two. */
static void split_immediates(const uint8_t *code, struct pvsub_insn *in)
{
	const uint8_t *op = code + in->opcode_offset;
	bool enter = in->opcode_len == 1 && op[0] == 0xc8 && in->imm_size == 3;
	bool sse4a = in->opcode_len == 2 && op[0] == 0x0f && op[1] == 0x78 && in->imm_size == 2 &&
		     (has_legacy_prefix(code, in->opcode_offset, 0x66) ||
		      has_legacy_prefix(code, in->opcode_offset, 0xf2));

	if (!enter && !sse4a)
		return;
	in->imm2_size = 1;
	in->imm_size--;
	in->imm2_offset = (int8_t)(in->imm_offset + in->imm_size);
}

/* Full layout of the @in->len bytes at @code.  -EILSEQ if they do not fit. */
static int compute_layout(const uint8_t *code, struct pvsub_insn *in)
{
	size_t len = in->len, end;
	bool modrm, moffs;
	int r;

	layout_reset(in);
	r = opcode_layout(code, len, in, &modrm, &moffs);
	if (r < 0)
		return r;
	end = (size_t)in->opcode_offset + in->opcode_len;
	if (modrm) {
		r = modrm_layout(code, len, end, modrm_is_register_only(code, in), in);
		if (r < 0)
			return r;
		end += (size_t)r;
	} else if (moffs) {
		/* The absolute address of MOV moffs is a displacement, 8 bytes
		 * unless an address-size prefix makes it 4. */
		in->disp_size = has_legacy_prefix(code, in->opcode_offset, 0x67) ? 4 : 8;
		in->disp_offset = (int8_t)end;
		end += in->disp_size;
		if (end > len)
			return -EILSEQ;
	}
	if (end < len) {
		in->imm_offset = (int8_t)end;
		in->imm_size = (uint8_t)(len - end);
		split_immediates(code, in);
	}
	return 0;
}

/* When our rules disagree with the length capstone decoded (an encoding we do
 * not model), keep capstone's own layout rather than an impossible one. */
static void capstone_layout(const cs_insn *ci, const uint8_t *code, struct pvsub_insn *in)
{
	const cs_x86_encoding *e = &ci->detail->x86.encoding;
	size_t p = prefix_count(code, in->len);

	layout_reset(in);
	in->opcode_offset = (uint8_t)PVSUB_MIN(p, (size_t)in->len - 1);
	in->opcode_len = 1;
	if (e->modrm_offset && e->modrm_offset < in->len)
		in->modrm_offset = (int8_t)e->modrm_offset;
	if (e->disp_size && e->disp_offset + e->disp_size <= in->len) {
		in->disp_offset = (int8_t)e->disp_offset;
		in->disp_size = e->disp_size;
	}
	if (e->imm_size && e->imm_offset + e->imm_size <= in->len) {
		in->imm_offset = (int8_t)e->imm_offset;
		in->imm_size = e->imm_size;
	}
}

/*
 * Instructions capstone 4.0.2 rejects, first match wins.  The first group
 * was found by sweeping the Linux 6.1 modules (protection keys, AVX2 and
 * AVX-512 forms); the second holds system instructions of the same vintage
 * that kernels emit through inline assembly or alternatives; the generic
 * VEX/EVEX rules come last.
 */
#define FIXED3(b2, pfx, name)                                                                      \
	{                                                                                          \
		.match_len = 3, .value = {0x0f, 0x01, (b2)}, .mask = {0xff, 0xff, 0xff},           \
		.insn_len = 3, .mnemonic = (name), .prefix = (pfx)                                 \
	}
/* 0F 38 @b2 /r, memory operand only. */
#define MAP38_MEM(b2, pfx, name)                                                                   \
	{                                                                                          \
		.match_len = 3, .value = {0x0f, 0x38, (b2)}, .mask = {0xff, 0xff, 0xff},           \
		.insn_len = 4, .mnemonic = (name), .prefix = (pfx), .has_modrm = true,             \
		.mem_only = true                                                                   \
	}
/* Three-byte VEX with map @mm and implied prefix @pp, any R/X/B/W/vvvv/L. */
#define VEX3(mm, pp, op, imm, memonly, name)                                                       \
	{                                                                                          \
		.match_len = 4, .value = {0xc4, (mm), (pp), (op)},                                 \
		.mask = {0xff, 0x1f, 0x03, 0xff}, .insn_len = (uint8_t)(5 + (imm)),                \
		.mnemonic = (name), .has_modrm = true, .mem_only = (memonly)                       \
	}
/* EVEX with map @mm and implied prefix @pp, any W, length, masking, registers. */
#define EVEX(mm, pp, op, imm, name)                                                                \
	{                                                                                          \
		.match_len = 5, .value = {0x62, (mm), 0x04 | (pp), 0x00, (op)},                    \
		.mask = {0xff, 0x07, 0x07, 0x00, 0xff}, .insn_len = (uint8_t)(6 + (imm)),          \
		.mnemonic = (name), .has_modrm = true                                              \
	}
/*
 * Any VEX/EVEX instruction of map @mm (with opcode @op under @opmask): these
 * encodings always carry ModRM, and an imm8 exactly for map 0F3A and for the
 * map-0F opcodes listed in GENERIC_IMM_0F, so their length is known even for
 * opcodes capstone 4 lacks (its AVX-512 tables are incomplete).
 */
#define GEN_VEX2(op, opmask, imm)                                                                  \
	{                                                                                          \
		.match_len = 3, .value = {0xc5, 0x00, (op)}, .mask = {0xff, 0x00, (opmask)},       \
		.insn_len = (uint8_t)(4 + (imm)), .mnemonic = "(vex)", .has_modrm = true           \
	}
#define GEN_VEX3(mm, op, opmask, imm)                                                              \
	{                                                                                          \
		.match_len = 4, .value = {0xc4, (mm), 0x00, (op)},                                 \
		.mask = {0xff, 0x1f, 0x00, (opmask)}, .insn_len = (uint8_t)(5 + (imm)),            \
		.mnemonic = "(vex)", .has_modrm = true                                             \
	}
#define GEN_EVEX(mm, op, opmask, imm)                                                              \
	{                                                                                          \
		.match_len = 5, .value = {0x62, (mm), 0x04, 0x00, (op)},                           \
		.mask = {0xff, 0x07, 0x04, 0x00, (opmask)}, .insn_len = (uint8_t)(6 + (imm)),      \
		.mnemonic = "(evex)", .has_modrm = true                                            \
	}
#define GENERIC_IMM_0F(G)                                                                          \
	G(0x70, 0xfc, 1),	  /* 70-73: pshuf*, shift/rotate groups */                         \
		G(0xc2, 0xff, 1), /* cmpps/pd/ss/sd */                                             \
		G(0xc4, 0xfe, 1), /* pinsrw, pextrw */                                             \
		G(0xc6, 0xff, 1)  /* shufps/pd */
#define GEN_VEX3_0F(op, opmask, imm) GEN_VEX3(0x01, op, opmask, imm)
#define GEN_EVEX_0F(op, opmask, imm) GEN_EVEX(0x01, op, opmask, imm)

const struct pvsub_x86_extra pvsub_x86_extra_table[] = {
	FIXED3(0xee, 0, "rdpkru"),
	FIXED3(0xef, 0, "wrpkru"),
	VEX3(0x02, 0x01, 0x5a, 0, true, "vbroadcasti128"),
	EVEX(0x01, 0x01, 0x72, 1, "evex.66.0f 72 /r ib"),
	EVEX(0x01, 0x01, 0x64, 0, "vpcmpgtb"),
	EVEX(0x02, 0x01, 0x36, 0, "vpermd"),
	EVEX(0x02, 0x01, 0x78, 0, "vpbroadcastb"),
	EVEX(0x02, 0x02, 0x28, 0, "vpmovm2b/w"),
	EVEX(0x02, 0x01, 0x5a, 0, "vbroadcasti32x4/64x2"),
	VEX3(0x01, 0x03, 0x92, 0, false, "kmovd/q"),
	EVEX(0x01, 0x01, 0x62, 0, "vpunpckldq"),

	FIXED3(0xc0, 0, "enclv"),
	FIXED3(0xc5, 0, "pconfig"),
	FIXED3(0xc6, 0, "wrmsrns"),
	FIXED3(0xe8, 0, "serialize"),
	FIXED3(0xe8, 0xf2, "xsusldtrk"),
	FIXED3(0xe9, 0xf2, "xresldtrk"),
	FIXED3(0xe8, 0xf3, "setssbsy"),
	FIXED3(0xea, 0xf3, "saveprevssp"),
	FIXED3(0xcc, 0x66, "tdcall"),
	FIXED3(0xcd, 0x66, "seamret"),
	FIXED3(0xce, 0x66, "seamops"),
	FIXED3(0xec, 0xf3, "uiret"),
	FIXED3(0xed, 0xf3, "testui"),
	FIXED3(0xee, 0xf3, "clui"),
	FIXED3(0xef, 0xf3, "stui"),
	FIXED3(0xfa, 0, "monitorx"),
	FIXED3(0xfb, 0, "mwaitx"),
	FIXED3(0xfc, 0, "clzero"),
	FIXED3(0xfd, 0, "rdpru"),
	FIXED3(0xfe, 0, "invlpgb"),
	FIXED3(0xff, 0, "tlbsync"),
	FIXED3(0xfe, 0xf3, "rmpadjust"),
	FIXED3(0xfe, 0xf2, "rmpupdate"),
	FIXED3(0xff, 0xf3, "psmash"),
	FIXED3(0xff, 0xf2, "pvalidate"),
	MAP38_MEM(0xf8, 0x66, "movdir64b"),
	MAP38_MEM(0xf8, 0xf2, "enqcmd"),
	MAP38_MEM(0xf8, 0xf3, "enqcmds"),
	MAP38_MEM(0xf9, 0, "movdiri"),

	GENERIC_IMM_0F(GEN_VEX2),
	GEN_VEX2(0x00, 0x00, 0),
	GENERIC_IMM_0F(GEN_VEX3_0F),
	GEN_VEX3(0x01, 0x00, 0x00, 0),
	GEN_VEX3(0x02, 0x00, 0x00, 0),
	GEN_VEX3(0x03, 0x00, 0x00, 1),
	GENERIC_IMM_0F(GEN_EVEX_0F),
	GEN_EVEX(0x01, 0x00, 0x00, 0),
	GEN_EVEX(0x02, 0x00, 0x00, 0),
	GEN_EVEX(0x03, 0x00, 0x00, 1),
	{.match_len = 0},
};

/* The prefixes an entry allows: its mandatory one present, or none at all. */
static bool extra_prefix_ok(const struct pvsub_x86_extra *e, const uint8_t *code, size_t np)
{
	if (e->prefix)
		return has_legacy_prefix(code, np, e->prefix);
	return !has_legacy_prefix(code, np, 0x66) && !has_legacy_prefix(code, np, 0xf2) &&
	       !has_legacy_prefix(code, np, 0xf3);
}

/* Length of the table instruction at @code, or -EILSEQ. */
static int extra_decode(const uint8_t *code, size_t len, const struct pvsub_x86_extra **found)
{
	size_t np = prefix_count(code, len);
	const struct pvsub_x86_extra *e;
	struct pvsub_insn scratch;
	size_t n;
	int r;

	for (e = pvsub_x86_extra_table; e->match_len; e++) {
		bool match = np + e->match_len <= len;

		for (size_t i = 0; match && i < e->match_len; i++)
			match = (code[np + i] & e->mask[i]) == e->value[i];
		if (!match || !extra_prefix_ok(e, code, np))
			continue;
		n = np + e->insn_len;
		if (e->has_modrm) {
			size_t at = np + e->match_len;

			if (at >= len || (e->mem_only && code[at] >> 6 == 3))
				continue;
			layout_reset(&scratch);
			r = modrm_layout(code, len, at, false, &scratch);
			if (r < 0)
				continue;
			n += (size_t)r - 1;
		}
		if (n > len || n > PVSUB_X86_MAX_INSN)
			continue;
		*found = e;
		return (int)n;
	}
	return -EILSEQ;
}

const char *pvsub_x86_field_name(enum pvsub_x86_field f)
{
	switch (f) {
	case PVSUB_X86_FIELD_PREFIX:
		return "prefix";
	case PVSUB_X86_FIELD_OPCODE:
		return "opcode";
	case PVSUB_X86_FIELD_MODRM:
		return "modrm";
	case PVSUB_X86_FIELD_SIB:
		return "sib";
	case PVSUB_X86_FIELD_DISP:
		return "displacement";
	case PVSUB_X86_FIELD_IMM:
		return "immediate";
	}
	return "unknown";
}

static bool in_field(unsigned i, int off, unsigned size)
{
	return off >= 0 && i >= (unsigned)off && i < (unsigned)off + size;
}

enum pvsub_x86_field pvsub_insn_field_at(const struct pvsub_insn *insn, unsigned i)
{
	if (i < insn->opcode_offset)
		return PVSUB_X86_FIELD_PREFIX;
	if (in_field(i, insn->opcode_offset, insn->opcode_len))
		return PVSUB_X86_FIELD_OPCODE;
	if (in_field(i, insn->modrm_offset, 1))
		return PVSUB_X86_FIELD_MODRM;
	if (in_field(i, insn->sib_offset, 1))
		return PVSUB_X86_FIELD_SIB;
	if (in_field(i, insn->disp_offset, insn->disp_size))
		return PVSUB_X86_FIELD_DISP;
	if (in_field(i, insn->imm_offset, insn->imm_size) ||
	    in_field(i, insn->imm2_offset, insn->imm2_size))
		return PVSUB_X86_FIELD_IMM;
	/* Only reachable for layouts taken from capstone: unmodelled bytes
	 * belong to the opcode. */
	return PVSUB_X86_FIELD_OPCODE;
}

int pvsub_decoder_new(struct pvsub_decoder **out)
{
	struct pvsub_decoder *d;
	int r;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d->cs) != CS_ERR_OK) {
		r = -ENOMEM;
		goto err_free;
	}
	if (cs_option(d->cs, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
		r = -EINVAL;
		goto err_close;
	}
	d->insn = cs_malloc(d->cs);
	if (!d->insn) {
		r = -ENOMEM;
		goto err_close;
	}
	*out = d;
	return 0;

err_close:
	cs_close(&d->cs);
err_free:
	free(d);
	return r;
}

void pvsub_decoder_free(struct pvsub_decoder *d)
{
	if (!d)
		return;
	cs_free(d->insn, 1);
	cs_close(&d->cs);
	free(d);
}

/* Encoding number of a general register of any width; -1 for others. */
static int gpr_number(unsigned reg)
{
	static const struct {
		unsigned r;
		int8_t n;
	} map[] = {
		{X86_REG_AL, 0}, {X86_REG_AH, 0}, {X86_REG_AX, 0}, {X86_REG_EAX, 0}, {X86_REG_RAX, 0},
		{X86_REG_CL, 1}, {X86_REG_CH, 1}, {X86_REG_CX, 1}, {X86_REG_ECX, 1}, {X86_REG_RCX, 1},
		{X86_REG_DL, 2}, {X86_REG_DH, 2}, {X86_REG_DX, 2}, {X86_REG_EDX, 2}, {X86_REG_RDX, 2},
		{X86_REG_BL, 3}, {X86_REG_BH, 3}, {X86_REG_BX, 3}, {X86_REG_EBX, 3}, {X86_REG_RBX, 3},
		{X86_REG_SPL, 4}, {X86_REG_SP, 4}, {X86_REG_ESP, 4}, {X86_REG_RSP, 4},
		{X86_REG_BPL, 5}, {X86_REG_BP, 5}, {X86_REG_EBP, 5}, {X86_REG_RBP, 5},
		{X86_REG_SIL, 6}, {X86_REG_SI, 6}, {X86_REG_ESI, 6}, {X86_REG_RSI, 6},
		{X86_REG_DIL, 7}, {X86_REG_DI, 7}, {X86_REG_EDI, 7}, {X86_REG_RDI, 7},
		{X86_REG_R8B, 8}, {X86_REG_R8W, 8}, {X86_REG_R8D, 8}, {X86_REG_R8, 8},
		{X86_REG_R9B, 9}, {X86_REG_R9W, 9}, {X86_REG_R9D, 9}, {X86_REG_R9, 9},
		{X86_REG_R10B, 10}, {X86_REG_R10W, 10}, {X86_REG_R10D, 10}, {X86_REG_R10, 10},
		{X86_REG_R11B, 11}, {X86_REG_R11W, 11}, {X86_REG_R11D, 11}, {X86_REG_R11, 11},
		{X86_REG_R12B, 12}, {X86_REG_R12W, 12}, {X86_REG_R12D, 12}, {X86_REG_R12, 12},
		{X86_REG_R13B, 13}, {X86_REG_R13W, 13}, {X86_REG_R13D, 13}, {X86_REG_R13, 13},
		{X86_REG_R14B, 14}, {X86_REG_R14W, 14}, {X86_REG_R14D, 14}, {X86_REG_R14, 14},
		{X86_REG_R15B, 15}, {X86_REG_R15W, 15}, {X86_REG_R15D, 15}, {X86_REG_R15, 15},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].r == reg)
			return map[i].n;
	return -1;
}

static uint16_t gpr_bit(unsigned reg)
{
	int n = gpr_number(reg);
	return n < 0 ? 0 : (uint16_t)(1u << n);
}

/* Mnemonics that read arithmetic flags whatever capstone's eflags say. */
static bool reads_flags_by_name(const char *m)
{
	static const char *const prefixes[] = {"j", "set", "cmov", "fcmov", "adc", "sbb", "rcl",
					       "rcr", "pushf", "lahf", "cmc", "loop"};
	if (strcmp(m, "jmp") == 0 || strcmp(m, "ljmp") == 0)
		return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(m, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static void flag_use(const cs_insn *ci, struct pvsub_insn *in)
{
	const uint64_t ef = ci->detail->x86.eflags;
	const uint64_t test = X86_EFLAGS_TEST_OF | X86_EFLAGS_TEST_SF | X86_EFLAGS_TEST_ZF |
			      X86_EFLAGS_TEST_PF | X86_EFLAGS_TEST_CF | X86_EFLAGS_TEST_AF;
	static const uint64_t kill[6] = {
		X86_EFLAGS_MODIFY_OF | X86_EFLAGS_RESET_OF | X86_EFLAGS_SET_OF | X86_EFLAGS_UNDEFINED_OF,
		X86_EFLAGS_MODIFY_SF | X86_EFLAGS_RESET_SF | X86_EFLAGS_SET_SF | X86_EFLAGS_UNDEFINED_SF,
		X86_EFLAGS_MODIFY_ZF | X86_EFLAGS_RESET_ZF | X86_EFLAGS_SET_ZF | X86_EFLAGS_UNDEFINED_ZF,
		X86_EFLAGS_MODIFY_AF | X86_EFLAGS_RESET_AF | X86_EFLAGS_SET_AF | X86_EFLAGS_UNDEFINED_AF,
		X86_EFLAGS_MODIFY_PF | X86_EFLAGS_RESET_PF | X86_EFLAGS_SET_PF | X86_EFLAGS_UNDEFINED_PF,
		X86_EFLAGS_MODIFY_CF | X86_EFLAGS_RESET_CF | X86_EFLAGS_SET_CF | X86_EFLAGS_UNDEFINED_CF,
	};
	in->flags_read = (ef & test) || reads_flags_by_name(ci->mnemonic);
	in->flags_write_all = true;
	for (unsigned i = 0; i < 6; i++)
		if (!(ef & kill[i]))
			in->flags_write_all = false;
}

/* The register summary of struct pvsub_insn, from capstone's detail. */
static void register_use(const cs_insn *ci, struct pvsub_insn *in)
{
	const cs_detail *dt = ci->detail;
	const cs_x86 *x = &dt->x86;

	in->regs_known = true;
	for (unsigned i = 0; i < dt->regs_read_count; i++)
		in->gpr_implicit |= gpr_bit(dt->regs_read[i]);
	for (unsigned i = 0; i < dt->regs_write_count; i++)
		in->gpr_implicit |= gpr_bit(dt->regs_write[i]);
	for (unsigned i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		if (op->type == X86_OP_REG) {
			in->gpr_operands |= gpr_bit(op->reg);
		} else if (op->type == X86_OP_MEM) {
			in->mem_operands++;
			in->mem_base = (int8_t)(op->mem.base == X86_REG_RIP ? 16
								     : gpr_number(op->mem.base));
			in->mem_index = (int8_t)gpr_number(op->mem.index);
		}
	}
	for (unsigned i = 0; i < dt->groups_count; i++)
		if (dt->groups[i] == X86_GRP_JUMP || dt->groups[i] == X86_GRP_CALL ||
		    dt->groups[i] == X86_GRP_BRANCH_RELATIVE || dt->groups[i] == X86_GRP_RET)
			in->is_branch = true;
	flag_use(ci, in);
}

static void copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

int pvsub_decoder_decode(struct pvsub_decoder *d, const uint8_t *code, size_t len, uint64_t addr,
		 struct pvsub_insn *out)
{
	const struct pvsub_x86_extra *e = NULL;
	const uint8_t *p = code;
	size_t n = PVSUB_MIN(len, (size_t)PVSUB_X86_MAX_INSN);
	uint64_t a = addr;
	int r;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return -EILSEQ;
	if (cs_disasm_iter(d->cs, &p, &n, &a, d->insn)) {
		out->len = (uint8_t)d->insn->size;
		out->id = d->insn->id;
		copy_text(out->mnemonic, sizeof(out->mnemonic), d->insn->mnemonic);
		copy_text(out->op_str, sizeof(out->op_str), d->insn->op_str);
		if (compute_layout(code, out) < 0)
			capstone_layout(d->insn, code, out);
		out->mem_base = out->mem_index = -1;
		register_use(d->insn, out);
		return 0;
	}
	r = extra_decode(code, PVSUB_MIN(len, (size_t)PVSUB_X86_MAX_INSN), &e);
	if (r < 0)
		return r;
	out->len = (uint8_t)r;
	out->from_table = true;
	out->mem_base = out->mem_index = -1;
	copy_text(out->mnemonic, sizeof(out->mnemonic), e->mnemonic);
	if (compute_layout(code, out) < 0)
		return -EILSEQ;
	return 0;
}
