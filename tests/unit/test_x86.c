/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "libpvsub/x86.h"

/* Expected layout, written out by hand from the Intel SDM encoding rules. */
struct layout_case {
	const char *what;
	uint8_t bytes[16];
	uint8_t n;
	uint8_t len, opcode_offset, opcode_len;
	int8_t modrm, sib, disp;
	uint8_t disp_size;
	int8_t imm;
	uint8_t imm_size;
	int8_t imm2;
	uint8_t imm2_size;
	bool from_table;
	const char *mnemonic;
};

/* One case per entry reads better than one field per line. */
/* clang-format off */
static const struct layout_case cases[] = {
	{ "mov imm32 to [base+index*4+disp32] (REX.W, SIB)",
	  { 0x48, 0xc7, 0x84, 0x88, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde }, 12,
	  12, 1, 1, 2, 3, 4, 4, 8, 4, -1, 0, false, "mov" },
	{ "RIP-relative load", { 0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00 }, 7,
	  7, 1, 1, 2, -1, 3, 4, -1, 0, -1, 0, false, "mov" },
	{ "movabs imm64 (b8+r io)", { 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8 }, 10,
	  10, 1, 1, -1, -1, -1, 0, 2, 8, -1, 0, false, "movabs" },
	{ "lock cmpxchg", { 0xf0, 0x48, 0x0f, 0xb1, 0x0a }, 5,
	  5, 2, 2, 4, -1, -1, 0, -1, 0, -1, 0, false, "lock cmpxchg" },
	{ "VEX vmovdqa with SIB and disp8", { 0xc5, 0xf9, 0x6f, 0x44, 0x24, 0x10 }, 6,
	  6, 2, 1, 3, 4, 5, 1, -1, 0, -1, 0, false, "vmovdqa" },
	{ "VEX3 with imm8", { 0xc4, 0xe3, 0x79, 0xdf, 0xc1, 0x01 }, 6,
	  6, 3, 1, 4, -1, -1, 0, 5, 1, -1, 0, false, "vaeskeygenassist" },
	{ "66-prefixed imm16", { 0x66, 0x05, 0x34, 0x12 }, 4,
	  4, 1, 1, -1, -1, -1, 0, 2, 2, -1, 0, false, "add" },
	/* capstone 4 reports disp_size 2 here (it confuses it with the operand size) */
	{ "66-prefixed disp32 and imm16", { 0x66, 0xc7, 0x80, 0x00, 0x01, 0x00, 0x00, 0x34, 0x12 }, 9,
	  9, 1, 1, 2, -1, 3, 4, 7, 2, -1, 0, false, "mov" },
	{ "enter (two immediates)", { 0xc8, 0x10, 0x00, 0x01 }, 4,
	  4, 0, 1, -1, -1, -1, 0, 1, 2, 3, 1, false, "enter" },
	{ "extrq (two immediates)", { 0x66, 0x0f, 0x78, 0xc0, 0x01, 0x02 }, 6,
	  6, 1, 2, 3, -1, -1, 0, 4, 1, 5, 1, false, "extrq" },
	{ "insertq (two immediates)", { 0xf2, 0x0f, 0x78, 0xc1, 0x01, 0x02 }, 6,
	  6, 1, 2, 3, -1, -1, 0, 4, 1, 5, 1, false, "insertq" },
	{ "jcc rel8", { 0x74, 0x05 }, 2, 2, 0, 1, -1, -1, -1, 0, 1, 1, -1, 0, false, "je" },
	{ "jcc rel32", { 0x0f, 0x8f, 0x00, 0x01, 0x00, 0x00 }, 6,
	  6, 0, 2, -1, -1, -1, 0, 2, 4, -1, 0, false, "jg" },
	{ "call rel32", { 0xe8, 0x00, 0x00, 0x00, 0x00 }, 5,
	  5, 0, 1, -1, -1, -1, 0, 1, 4, -1, 0, false, "call" },
	{ "wrpkru (table)", { 0x0f, 0x01, 0xef }, 3,
	  3, 0, 2, 2, -1, -1, 0, -1, 0, -1, 0, true, "wrpkru" },
	{ "rdpkru (table)", { 0x0f, 0x01, 0xee }, 3,
	  3, 0, 2, 2, -1, -1, 0, -1, 0, -1, 0, true, "rdpkru" },
	{ "rdpkru after a REX prefix (table)", { 0x48, 0x0f, 0x01, 0xee }, 4,
	  4, 1, 2, 3, -1, -1, 0, -1, 0, -1, 0, true, "rdpkru" },
	{ "xrstor [rax]", { 0x0f, 0xae, 0x28 }, 3,
	  3, 0, 2, 2, -1, -1, 0, -1, 0, -1, 0, false, "xrstor" },
	{ "lfence", { 0x0f, 0xae, 0xe8 }, 3, 3, 0, 2, 2, -1, -1, 0, -1, 0, -1, 0, false, "lfence" },
	{ "vmfunc", { 0x0f, 0x01, 0xd4 }, 3, 3, 0, 2, 2, -1, -1, 0, -1, 0, -1, 0, false, "vmfunc" },
	{ "SIB with no base (disp32)", { 0x8b, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12 }, 7,
	  7, 0, 1, 1, 2, 3, 4, -1, 0, -1, 0, false, "mov" },
	{ "movabs moffs64 is a displacement", { 0xa1, 1, 2, 3, 4, 5, 6, 7, 8 }, 9,
	  9, 0, 1, -1, -1, 1, 8, -1, 0, -1, 0, false, "movabs" },
	/* mod is ignored for mov from cr: no displacement even with mod 00 */
	{ "mov from cr0", { 0x0f, 0x20, 0x00 }, 3, 3, 0, 2, 2, -1, -1, 0, -1, 0, -1, 0, false, "mov" },
	{ "0f38 escape", { 0x66, 0x0f, 0x38, 0x82, 0x07 }, 5,
	  5, 1, 3, 4, -1, -1, 0, -1, 0, -1, 0, false, "invpcid" },
	{ "0f3a escape with imm8", { 0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x03 }, 6,
	  6, 1, 3, 4, -1, -1, 0, 5, 1, -1, 0, false, "palignr" },
	{ "vzeroupper has no ModRM", { 0xc5, 0xf8, 0x77 }, 3,
	  3, 2, 1, -1, -1, -1, 0, -1, 0, -1, 0, false, "vzeroupper" },
	{ "XOP with imm32", { 0x8f, 0xea, 0x78, 0x10, 0xc0, 1, 2, 3, 4 }, 9,
	  9, 3, 1, 4, -1, -1, 0, 5, 4, -1, 0, false, "bextr" },
	{ "pop r/m (8f that is not XOP)", { 0x8f, 0x40, 0x08 }, 3,
	  3, 0, 1, 1, -1, 2, 1, -1, 0, -1, 0, false, "pop" },
	/* capstone 4 reports an 8-byte immediate for rorx */
	{ "rorx imm8", { 0xc4, 0x63, 0xfb, 0xf0, 0xea, 0x29 }, 6,
	  6, 3, 1, 4, -1, -1, 0, 5, 1, -1, 0, false, "rorx" },
	{ "endbr64", { 0xf3, 0x0f, 0x1e, 0xfa }, 4,
	  4, 1, 2, 3, -1, -1, 0, -1, 0, -1, 0, false, "endbr64" },
	{ "vbroadcasti128 with SIB disp32 (table)",
	  { 0xc4, 0x62, 0x7d, 0x5a, 0x24, 0x25, 0x00, 0x00, 0x00, 0x00 }, 10,
	  10, 3, 1, 4, 5, 6, 4, -1, 0, -1, 0, true, "vbroadcasti128" },
	{ "EVEX vprold with imm8 (table)", { 0x62, 0xd1, 0x1d, 0x28, 0x72, 0xcc, 0x10 }, 7,
	  7, 4, 1, 5, -1, -1, 0, 6, 1, -1, 0, true, "evex.66.0f 72 /r ib" },
	{ "EVEX vpbroadcastb with SIB disp8 (table)",
	  { 0x62, 0xf2, 0x7d, 0x48, 0x78, 0x7c, 0x24, 0x0f }, 8,
	  8, 4, 1, 5, 6, 7, 1, -1, 0, -1, 0, true, "vpbroadcastb" },
	{ "EVEX.256 vpunpckhdq, generic table rule", { 0x62, 0xe1, 0x7d, 0x28, 0x6a, 0xc9 }, 6,
	  6, 4, 1, 5, -1, -1, 0, -1, 0, -1, 0, true, "(evex)" },
	{ "movdir64b [rax+disp32] (table)", { 0x66, 0x0f, 0x38, 0xf8, 0x80, 1, 2, 3, 4 }, 9,
	  9, 1, 3, 4, -1, 5, 4, -1, 0, -1, 0, true, "movdir64b" },
};
/* clang-format on */

static struct pvsub_decoder *dec;

static void setup(void)
{
	cr_assert_eq(pvsub_decoder_new(&dec), 0);
}

static void teardown(void)
{
	pvsub_decoder_free(dec);
	dec = NULL;
}

TestSuite(x86, .init = setup, .fini = teardown);

Test(x86, exact_layouts)
{
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(cases); i++) {
		const struct layout_case *c = &cases[i];
		struct pvsub_insn in;

		cr_assert_eq(pvsub_decoder_decode(dec, c->bytes, c->n, 0x1000, &in), 0, "%s", c->what);
		cr_expect_eq(in.len, c->len, "%s: len %u", c->what, in.len);
		cr_expect_eq(in.opcode_offset, c->opcode_offset, "%s: opcode_offset %u", c->what,
			     in.opcode_offset);
		cr_expect_eq(in.opcode_len, c->opcode_len, "%s: opcode_len %u", c->what,
			     in.opcode_len);
		cr_expect_eq(in.modrm_offset, c->modrm, "%s: modrm %d", c->what, in.modrm_offset);
		cr_expect_eq(in.sib_offset, c->sib, "%s: sib %d", c->what, in.sib_offset);
		cr_expect_eq(in.disp_offset, c->disp, "%s: disp %d", c->what, in.disp_offset);
		cr_expect_eq(in.disp_size, c->disp_size, "%s: disp_size %u", c->what, in.disp_size);
		cr_expect_eq(in.imm_offset, c->imm, "%s: imm %d", c->what, in.imm_offset);
		cr_expect_eq(in.imm_size, c->imm_size, "%s: imm_size %u", c->what, in.imm_size);
		cr_expect_eq(in.imm2_offset, c->imm2, "%s: imm2 %d", c->what, in.imm2_offset);
		cr_expect_eq(in.imm2_size, c->imm2_size, "%s: imm2_size %u", c->what, in.imm2_size);
		cr_expect_eq(in.from_table, c->from_table, "%s: from_table", c->what);
		cr_expect_str_eq(in.mnemonic, c->mnemonic, "%s", c->what);
	}
}

Test(x86, decode_does_not_read_past_len)
{
	/* mov imm32 to r/m cut short, at every length */
	static const uint8_t b[] = {0x48, 0xc7, 0x84, 0x88, 0x78, 0x56,
				    0x34, 0x12, 0xef, 0xbe, 0xad, 0xde};
	struct pvsub_insn in;

	for (size_t n = 0; n < sizeof(b); n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, b, n);
		cr_expect_eq(pvsub_decoder_decode(dec, copy, n, 0, &in), -EILSEQ, "n=%zu", n);
		free(copy);
	}
	/* a table instruction cut short */
	cr_expect_eq(pvsub_decoder_decode(dec, (const uint8_t *)"\x0f\x01", 2, 0, &in), -EILSEQ);
	cr_expect_eq(pvsub_decoder_decode(dec, (const uint8_t *)"\x66\x0f\x38\xf8\x80\x01", 6, 0, &in),
		     -EILSEQ);
}

Test(x86, undecodable_bytes)
{
	struct pvsub_insn in;

	/* 06 (push es) is invalid in 64-bit mode; a lone prefix is not an instruction */
	cr_expect_eq(pvsub_decoder_decode(dec, (const uint8_t *)"\x06", 1, 0, &in), -EILSEQ);
	cr_expect_eq(pvsub_decoder_decode(dec, (const uint8_t *)"\xf0", 1, 0, &in), -EILSEQ);
	/* movdiri needs a memory operand: the register form is not taken from the table */
	cr_expect_eq(pvsub_decoder_decode(dec, (const uint8_t *)"\x0f\x38\xf9\xc0", 4, 0, &in), -EILSEQ);
	/* rdpkru does not exist with a 66 prefix */
	cr_expect_eq(pvsub_decoder_decode(dec, (const uint8_t *)"\x66\x0f\x01\xee", 4, 0, &in), -EILSEQ);
}

Test(x86, mandatory_prefix_selects_the_entry)
{
	struct pvsub_insn in;

	cr_assert_eq(pvsub_decoder_decode(dec, (const uint8_t *)"\xf3\x0f\x01\xef", 4, 0, &in), 0);
	cr_expect_str_eq(in.mnemonic, "stui");
	cr_expect_eq(in.len, 4);
	cr_expect_eq(in.opcode_offset, 1);
	cr_assert_eq(pvsub_decoder_decode(dec, (const uint8_t *)"\xf2\x0f\x01\xe8", 4, 0, &in), 0);
	cr_expect_str_eq(in.mnemonic, "xsusldtrk");
	cr_assert_eq(pvsub_decoder_decode(dec, (const uint8_t *)"\x0f\x01\xe8", 3, 0, &in), 0);
	cr_expect_str_eq(in.mnemonic, "serialize");
}

/* Bytes for an entry: its mandatory prefix, its value, then a ModRM (a memory
 * form with a disp8 when it needs memory) and zero immediates. */
static size_t entry_bytes(const struct pvsub_x86_extra *e, uint8_t *b, size_t *expect_len)
{
	size_t n = 0;

	if (e->prefix)
		b[n++] = e->prefix;
	memcpy(b + n, e->value, e->match_len);
	n += e->match_len;
	*expect_len = (e->prefix ? 1 : 0) + e->insn_len;
	if (e->has_modrm) {
		b[n++] = e->mem_only ? 0x40 : 0xc0;
		if (e->mem_only) {
			b[n++] = 0x08;
			(*expect_len)++;
		}
	}
	while (n < *expect_len)
		b[n++] = 0;
	/* trailing bytes that must not be swallowed */
	b[n++] = 0x90;
	b[n++] = 0x90;
	return n;
}

Test(x86, every_table_entry)
{
	csh cs;
	cs_insn *ci = NULL;
	size_t count = 0;

	cr_assert_eq(cs_open(CS_ARCH_X86, CS_MODE_64, &cs), CS_ERR_OK);
	for (const struct pvsub_x86_extra *e = pvsub_x86_extra_table; e->match_len; e++) {
		uint8_t b[32];
		size_t expect, n = entry_bytes(e, b, &expect);
		struct pvsub_insn in;
		size_t got;

		count++;
		cr_assert_leq(e->match_len, sizeof(e->value));
		for (size_t i = 0; i < e->match_len; i++)
			cr_expect_eq(e->value[i] & e->mask[i], e->value[i],
				     "%s: value outside mask", e->mnemonic);
		cr_assert_eq(pvsub_decoder_decode(dec, b, n, 0, &in), 0, "%s", e->mnemonic);
		cr_expect_eq(in.len, expect, "%s: len %u, expected %zu", e->mnemonic, in.len,
			     expect);
		got = cs_disasm(cs, b, n, 0, 1, &ci);
		if (got) {
			/* capstone knows this encoding: lengths must agree */
			cr_expect_eq(ci->size, expect, "%s: capstone len %u", e->mnemonic,
				     ci->size);
			cs_free(ci, got);
			continue;
		}
		cr_expect(in.from_table, "%s", e->mnemonic);
		cr_expect_str_eq(in.mnemonic, e->mnemonic, "entry shadowed by an earlier one");
		cr_expect_eq(in.opcode_offset,
			     (e->prefix ? 1 : 0) + (e->value[0] == 0x62	  ? 4
						    : e->value[0] == 0xc4 ? 3
						    : e->value[0] == 0xc5 ? 2
									  : 0),
			     "%s", e->mnemonic);
		if (e->has_modrm)
			cr_expect_geq(in.modrm_offset, 0, "%s", e->mnemonic);
	}
	cs_close(&cs);
	cr_expect_geq(count, 30);
}

Test(x86, field_at_and_names)
{
	static const uint8_t b[] = {0x66, 0xc7, 0x44, 0x24, 0x08, 0x34, 0x12};
	static const enum pvsub_x86_field want[] = {
		PVSUB_X86_FIELD_PREFIX, PVSUB_X86_FIELD_OPCODE, PVSUB_X86_FIELD_MODRM,
		PVSUB_X86_FIELD_SIB,	PVSUB_X86_FIELD_DISP,	PVSUB_X86_FIELD_IMM,
		PVSUB_X86_FIELD_IMM,
	};
	struct pvsub_insn in;

	cr_assert_eq(pvsub_decoder_decode(dec, b, sizeof(b), 0, &in), 0);
	cr_assert_eq(in.len, sizeof(b));
	for (unsigned i = 0; i < sizeof(b); i++)
		cr_expect_eq(pvsub_insn_field_at(&in, i), want[i], "byte %u", i);
	cr_expect_str_eq(pvsub_x86_field_name(PVSUB_X86_FIELD_PREFIX), "prefix");
	cr_expect_str_eq(pvsub_x86_field_name(PVSUB_X86_FIELD_OPCODE), "opcode");
	cr_expect_str_eq(pvsub_x86_field_name(PVSUB_X86_FIELD_MODRM), "modrm");
	cr_expect_str_eq(pvsub_x86_field_name(PVSUB_X86_FIELD_SIB), "sib");
	cr_expect_str_eq(pvsub_x86_field_name(PVSUB_X86_FIELD_DISP), "displacement");
	cr_expect_str_eq(pvsub_x86_field_name(PVSUB_X86_FIELD_IMM), "immediate");
}

Test(x86, enter_second_immediate_is_a_field)
{
	struct pvsub_insn in;

	cr_assert_eq(pvsub_decoder_decode(dec, (const uint8_t *)"\xc8\x10\x00\x01", 4, 0, &in), 0);
	cr_expect_eq(pvsub_insn_field_at(&in, 3), PVSUB_X86_FIELD_IMM);
	cr_expect_eq(pvsub_insn_field_at(&in, 0), PVSUB_X86_FIELD_OPCODE);
}

Test(x86, text_uses_address)
{
	struct pvsub_insn in;

	cr_assert_eq(pvsub_decoder_decode(dec, (const uint8_t *)"\xe8\x00\x00\x00\x00", 5, 0x2000, &in), 0);
	cr_expect_str_eq(in.op_str, "0x2005");
	cr_expect_eq(in.from_table, false);
	cr_expect_neq(in.id, 0);
}

/* Every byte sequence either fails cleanly or gives a layout inside the
 * instruction: fields in order and within len. */
Test(x86, layouts_are_consistent_on_random_bytes)
{
	uint32_t x = 0x12345678;
	size_t decoded = 0;

	for (int round = 0; round < 20000; round++) {
		uint8_t b[15];
		struct pvsub_insn in;
		int end;

		for (size_t i = 0; i < sizeof(b); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			b[i] = (uint8_t)x;
		}
		if (pvsub_decoder_decode(dec, b, sizeof(b), 0, &in) < 0)
			continue;
		decoded++;
		cr_assert(in.len >= 1 && in.len <= 15);
		end = in.opcode_offset + in.opcode_len;
		cr_assert_leq(end, in.len);
		if (in.modrm_offset >= 0)
			cr_assert_lt(in.modrm_offset, in.len);
		if (in.disp_size)
			cr_assert_leq(in.disp_offset + in.disp_size, in.len);
		if (in.imm_size)
			cr_assert_leq(in.imm_offset + in.imm_size, in.len);
		if (in.imm2_size)
			cr_assert_eq(in.imm2_offset + in.imm2_size, in.len);
		for (unsigned i = 0; i < in.len; i++)
			(void)pvsub_insn_field_at(&in, i);
	}
	cr_expect_gt(decoded, 10000);
}
