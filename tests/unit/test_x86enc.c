/* SPDX-License-Identifier: MIT */
/*
 * x86enc: every encoder's output decoded back with pvsub_decoder_decode (capstone)
 * and compared with what was asked for: the register, the base, the
 * displacement and its width, the length.  All sixteen registers, so that
 * REX.B/R, the rsp/r12 SIB byte and the rbp/r13 displacement are covered;
 * displacements on both sides of the disp8/disp32 boundary.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "libpvsub/x86.h"
#include "libpvsub/x86enc.h"

static const char *const reg64[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
				      "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
static const char *const reg32[16] = {"eax", "ecx", "edx",  "ebx",  "esp",  "ebp",  "esi",  "edi",
				      "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};

/* Displacements around the disp8 and disp32 limits. */
static const int32_t disps[] = {0,    1,    -1,	    8,	      -8,	 127,	   128,
				-128, -129, 0x1234, -0x10000, INT32_MAX, INT32_MIN};

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

TestSuite(x86enc, .init = setup, .fini = teardown);

static bool fits8(int64_t v)
{
	return v >= INT8_MIN && v <= INT8_MAX;
}

static int64_t get_sle(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	if (size < 8 && (v >> (8 * size - 1)) & 1)
		v |= ~0ull << (8 * size);
	return (int64_t)v;
}

/* Decode exactly @n bytes at @p as one instruction. */
static void decode_one(const uint8_t *p, unsigned n, struct pvsub_insn *in, const char *what)
{
	cr_assert_eq(pvsub_decoder_decode(dec, p, n, 0x1000, in), 0, "%s: does not decode", what);
	cr_assert_eq(in->len, n, "%s: decodes as %u bytes, %u written", what, in->len, n);
}

/* @in's memory operand is @d(@base), with the shortest displacement. */
static void expect_base_disp(const uint8_t *p, const struct pvsub_insn *in, unsigned base,
			     int32_t d, const char *what)
{
	cr_expect_eq(in->mem_operands, 1, "%s: memory operands %u", what, in->mem_operands);
	cr_expect_eq(in->mem_base, (int)base, "%s: base %d", what, in->mem_base);
	cr_expect_eq(in->mem_index, -1, "%s: index %d", what, in->mem_index);
	cr_expect_eq(in->sib_offset >= 0, (base & 7) == 4, "%s: SIB at %d", what, in->sib_offset);
	cr_assert_geq(in->disp_offset, 0, "%s: no displacement", what);
	cr_expect_eq(in->disp_size, fits8(d) ? 1 : 4, "%s: disp%u", what, 8 * in->disp_size);
	cr_expect_eq(get_sle(p + in->disp_offset, in->disp_size), d, "%s: displacement", what);
}

/* @in's op_str starts with register @name as its first operand. */
static void expect_first(const struct pvsub_insn *in, const char *name, const char *what)
{
	size_t l = strlen(name);
	cr_expect(strncmp(in->op_str, name, l) == 0 && (in->op_str[l] == ',' || !in->op_str[l]),
		  "%s: `%s %s`, expected %s first", what, in->mnemonic, in->op_str, name);
}

Test(x86enc, lea)
{
	for (unsigned r = 0; r < 16; r++)
		for (size_t k = 0; k < PVSUB_ARRAY_SIZE(disps); k++)
			for (int wide = 0; wide < 2; wide++) {
				uint8_t p[PVSUB_X86_MAX_INSN];
				struct pvsub_insn in;
				char what[64];
				snprintf(what, sizeof(what), "lea %d(%s), %s%s", disps[k], reg64[r],
					 wide ? reg64[r] : reg32[r], wide ? "" : " (32-bit)");
				unsigned n = pvsub_x86enc_lea(p, r, disps[k], wide);
				cr_assert_leq(n, 8, "%s: %u bytes", what, n);
				decode_one(p, n, &in, what);
				cr_expect_str_eq(in.mnemonic, "lea", "%s", what);
				expect_first(&in, wide ? reg64[r] : reg32[r], what);
				expect_base_disp(p, &in, r, disps[k], what);
			}
}

Test(x86enc, base_disp)
{
	/* `mov reg, d(base)` (REX.W 8b /r): every pair, every displacement */
	for (unsigned reg = 0; reg < 16; reg++)
		for (unsigned base = 0; base < 16; base++)
			for (size_t k = 0; k < PVSUB_ARRAY_SIZE(disps); k++) {
				uint8_t p[PVSUB_X86_MAX_INSN];
				struct pvsub_insn in;
				char what[64];
				snprintf(what, sizeof(what), "mov %d(%s), %s", disps[k],
					 reg64[base], reg64[reg]);
				p[0] = (uint8_t)(0x48 | ((reg >> 3) << 2) | (base >> 3));
				p[1] = 0x8b;
				unsigned n = 2 + pvsub_x86enc_base_disp(p + 2, reg, base, disps[k]);
				decode_one(p, n, &in, what);
				cr_expect_str_eq(in.mnemonic, "mov", "%s", what);
				expect_first(&in, reg64[reg], what);
				expect_base_disp(p, &in, base, disps[k], what);
				cr_expect_eq(in.modrm_offset, 2, "%s", what);
			}
}

Test(x86enc, nop)
{
	for (unsigned len = 1; len <= PVSUB_X86ENC_NOP_MAX; len++) {
		uint8_t p[PVSUB_X86ENC_NOP_MAX];
		struct pvsub_insn in;
		char what[16];

		snprintf(what, sizeof(what), "nop%u", len);
		cr_expect_eq(pvsub_x86enc_nop(p, len), len);
		decode_one(p, len, &in, what);
		cr_expect_str_eq(in.mnemonic, "nop", "%s: %s", what, in.mnemonic);
	}
}

Test(x86enc, push_pop)
{
	for (unsigned r = 0; r < 16; r++) {
		uint8_t p[4];
		struct pvsub_insn in;
		unsigned n = pvsub_x86enc_push(p, r);
		cr_expect_eq(n, r < 8 ? 1u : 2u);
		decode_one(p, n, &in, reg64[r]);
		cr_expect_str_eq(in.mnemonic, "push");
		cr_expect_str_eq(in.op_str, reg64[r]);
		n = pvsub_x86enc_pop(p, r);
		cr_expect_eq(n, r < 8 ? 1u : 2u);
		decode_one(p, n, &in, reg64[r]);
		cr_expect_str_eq(in.mnemonic, "pop");
		cr_expect_str_eq(in.op_str, reg64[r]);
	}
}

Test(x86enc, store_sp)
{
	static const int8_t ds[] = {0, 8, -8, 127, -128};
	for (unsigned r = 0; r < 16; r++)
		for (size_t k = 0; k < PVSUB_ARRAY_SIZE(ds); k++) {
			uint8_t p[8];
			struct pvsub_insn in;
			char what[64];
			snprintf(what, sizeof(what), "mov %s, %d(%%rsp)", reg64[r], ds[k]);
			unsigned n = pvsub_x86enc_store_sp(p, r, ds[k]);
			decode_one(p, n, &in, what);
			cr_expect_str_eq(in.mnemonic, "mov", "%s", what);
			cr_expect(strncmp(in.op_str, "qword ptr [rsp", 14) == 0, "%s: %s", what,
				  in.op_str);
			/* the source register is the last operand */
			const char *src = strrchr(in.op_str, ' ');
			cr_expect(src && strcmp(src + 1, reg64[r]) == 0, "%s: %s", what, in.op_str);
			cr_expect_eq(in.mem_base, 4, "%s", what);
			cr_expect_eq(in.disp_size, 1, "%s", what);
			cr_expect_eq(get_sle(p + in.disp_offset, 1), ds[k], "%s", what);
		}
}

/*
 * Run a sequence made by pvsub_x86enc_imm_lea on paper: decode each
 * instruction, check that all name register @r at the width asked for,
 * and compute what the register holds at the end.
 */
static uint64_t run_imm_lea(const uint8_t *p, unsigned n, unsigned r, bool wide, const char *what)
{
	const char *name = wide ? reg64[r] : reg32[r];
	uint64_t v = 0;
	unsigned at = 0, k = 0;
	while (at < n) {
		struct pvsub_insn in;
		cr_assert_eq(pvsub_decoder_decode(dec, p + at, n - at, 0x1000, &in), 0, "%s: insn %u", what,
			     k);
		const uint8_t *b = p + at;
		expect_first(&in, name, what);
		if (k == 0) {
			cr_assert(strcmp(in.mnemonic, "mov") == 0 ||
					  strcmp(in.mnemonic, "movabs") == 0,
				  "%s: starts with %s", what, in.mnemonic);
			cr_assert_geq(in.imm_offset, 0, "%s", what);
			v = (uint64_t)get_sle(b + in.imm_offset, in.imm_size);
		} else if (strcmp(in.mnemonic, "not") == 0) {
			v = ~v;
		} else if (strcmp(in.mnemonic, "bswap") == 0) {
			v = wide ? __builtin_bswap64(v) : __builtin_bswap32((uint32_t)v);
		} else {
			cr_assert_str_eq(in.mnemonic, "lea", "%s: insn %u", what, k);
			cr_assert_eq(at + in.len, n, "%s: lea is not last", what);
			expect_base_disp(b, &in, r,
					 (int32_t)get_sle(b + in.disp_offset, in.disp_size), what);
			v += (uint64_t)get_sle(b + in.disp_offset, in.disp_size);
		}
		if (!wide)
			v = (uint32_t)v; /* a 32-bit write zero-extends */
		at += in.len;
		k++;
	}
	cr_expect_leq(k, 3, "%s: %u instructions", what, k);
	return v;
}

Test(x86enc, imm_lea)
{
	static const uint64_t values[] = {0,
					  1,
					  0x7f,
					  0x80,
					  0xcafe,
					  0x7fffffff,
					  0x80000000,
					  0xffffffff,
					  0x123456789abcdef0ull,
					  ~0ull,
					  (uint64_t)INT32_MIN};
	static const int32_t bs[] = {1, -1, 127, 128, -128, -129, 0x10101, -0x20202};
	for (unsigned r = 0; r < 16; r++)
		for (size_t vi = 0; vi < PVSUB_ARRAY_SIZE(values); vi++)
			for (size_t bi = 0; bi < PVSUB_ARRAY_SIZE(bs); bi++)
				for (unsigned form = 0; form < 3; form++)
					for (unsigned tw = 0; tw < PVSUB_X86ENC_TWIST_COUNT; tw++) {
						bool wide64 = form >= 1, imm64 = form == 2;
						bool wide = wide64 || imm64;
						uint64_t want =
							wide ? values[vi] : (uint32_t)values[vi];
						uint8_t p[32];
						char what[96];
						snprintf(what, sizeof(what),
							 "%s = %#llx, b %d, form %u, twist %u",
							 reg64[r], (unsigned long long)want, bs[bi],
							 form, tw);
						unsigned n = pvsub_x86enc_imm_lea(
							p, r, wide64, imm64, want, bs[bi],
							(enum pvsub_x86enc_twist)tw);
						if (n == 0) {
							/* only a sign-extended imm32 may refuse */
							cr_expect(wide64 && !imm64, "%s: refused",
								  what);
							continue;
						}
						cr_assert_leq(n, 21, "%s: %u bytes", what, n);
						cr_expect_eq(run_imm_lea(p, n, r, wide, what), want,
							     "%s", what);
					}
}

/* An instruction to re-encode, and what it is. */
struct mem_case {
	const char *what;
	uint8_t bytes[16];
	uint8_t n;
	bool ok; /* it has a memory operand with a base */
};

/* clang-format off */
static const struct mem_case mem_cases[] = {
	{ "mov eax, [rbx] (mod 00)", { 0x8b, 0x03 }, 2, true },
	{ "mov rax, [rbx + 0x10] (disp8)", { 0x48, 0x8b, 0x43, 0x10 }, 4, true },
	{ "mov rax, [rbp + 0x12345678] (disp32)", { 0x48, 0x8b, 0x85, 0x78, 0x56, 0x34, 0x12 }, 7, true },
	{ "mov r9, [r13 + 0] (r13 base)", { 0x4d, 0x8b, 0x4d, 0x00 }, 4, true },
	{ "mov rax, [r12 + rcx*4] (SIB, mod 00)", { 0x49, 0x8b, 0x04, 0x8c }, 4, true },
	{ "mov eax, [rsp + 8] (rsp base)", { 0x8b, 0x44, 0x24, 0x08 }, 4, true },
	{ "add dword ptr [rsp + 8], 0x1234 (imm32 after)", { 0x81, 0x44, 0x24, 0x08, 0x34, 0x12, 0, 0 }, 8, true },
	{ "fs: mov eax, [r8 + 4] (prefix)", { 0x64, 0x41, 0x8b, 0x40, 0x04 }, 5, true },
	{ "mov eax, [rip + 0x10] (no base)", { 0x8b, 0x05, 0x10, 0, 0, 0 }, 6, false },
	{ "mov eax, [rcx*4 + 0x10] (SIB without base)", { 0x8b, 0x04, 0x8d, 0x10, 0, 0, 0 }, 7, false },
	{ "mov eax, ecx (register)", { 0x8b, 0xc1 }, 2, false },
};
/* clang-format on */

Test(x86enc, mem_insn)
{
	static const int64_t ds[] = {0,
				     1,
				     -1,
				     127,
				     128,
				     -128,
				     -129,
				     0x123456,
				     INT32_MAX,
				     INT32_MIN,
				     (int64_t)INT32_MAX + 1,
				     (int64_t)INT32_MIN - 1};
	for (size_t c = 0; c < PVSUB_ARRAY_SIZE(mem_cases); c++)
		for (size_t k = 0; k < PVSUB_ARRAY_SIZE(ds); k++)
			for (int reg = -1; reg < 8; reg += 3) {
				const struct mem_case *mc = &mem_cases[c];
				struct pvsub_insn in, out;
				uint8_t p[32];
				unsigned at = 99;
				char what[128];
				snprintf(what, sizeof(what), "%s, disp %lld, reg %d", mc->what,
					 (long long)ds[k], reg);
				decode_one(mc->bytes, mc->n, &in, mc->what);
				unsigned n = pvsub_x86enc_mem_insn(p, mc->bytes, &in, 0, ds[k], reg,
								   &at);
				bool fits32 = ds[k] >= INT32_MIN && ds[k] <= INT32_MAX;
				if (!mc->ok || !fits32) {
					cr_expect_eq(n, 0, "%s: encoded", what);
					continue;
				}
				cr_assert_neq(n, 0, "%s: refused", what);
				cr_assert_leq(n, mc->n + 4u, "%s: %u bytes", what, n);
				decode_one(p, n, &out, what);
				if (reg < 0) /* else 81 /0 may become 81 /2, say */
					cr_expect_str_eq(out.mnemonic, in.mnemonic, "%s", what);
				cr_expect_eq(out.mem_base, in.mem_base, "%s", what);
				cr_expect_eq(out.mem_index, in.mem_index, "%s", what);
				cr_expect_eq(out.disp_offset, (int)at, "%s: disp at %d, said %u",
					     what, out.disp_offset, at);
				/* a disp32 stays one; otherwise the shortest */
				bool was32 = in.disp_size == 4;
				cr_expect_eq(out.disp_size, was32 || !fits8(ds[k]) ? 4 : 1, "%s",
					     what);
				cr_expect_eq(get_sle(p + at, out.disp_size), ds[k], "%s", what);
				unsigned rf = (p[out.modrm_offset] >> 3) & 7;
				unsigned want = reg >= 0 ? (unsigned)reg
							 : (mc->bytes[in.modrm_offset] >> 3) & 7u;
				cr_expect_eq(rf, want, "%s: ModRM.reg %u", what, rf);
				cr_expect_eq(out.imm_size, in.imm_size, "%s", what);
				if (in.imm_offset >= 0)
					cr_expect_eq(
						get_sle(p + out.imm_offset, out.imm_size),
						get_sle(mc->bytes + in.imm_offset, in.imm_size),
						"%s: immediate", what);
				/* the prefixes are copied: the first byte is the same */
				cr_expect_eq(p[0], mc->bytes[0], "%s", what);
			}
}

Test(x86enc, rex_and_mem_end)
{
	static const struct {
		uint8_t bytes[12];
		uint8_t n;
		unsigned rex, end;
	} cs[] = {
		{{0x48, 0x8b, 0x03}, 3, 0x48, 3},
		{{0x8b, 0x03}, 2, 0, 2},
		{{0x66, 0x41, 0x8b, 0x03}, 4, 0x41, 4},
		{{0x48, 0xc7, 0x84, 0x88, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde},
		 12,
		 0x48,
		 8},
		{{0x81, 0x44, 0x24, 0x08, 0x34, 0x12, 0, 0}, 8, 0, 4},
		{{0x4d, 0x8b, 0xc1}, 3, 0x4d, 3},
	};
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(cs); i++) {
		struct pvsub_insn in;
		decode_one(cs[i].bytes, cs[i].n, &in, "rex case");
		cr_expect_eq(pvsub_x86enc_rex(cs[i].bytes, &in), cs[i].rex, "case %zu", i);
		cr_expect_eq(pvsub_x86enc_mem_end(&in), cs[i].end, "case %zu", i);
	}
}
