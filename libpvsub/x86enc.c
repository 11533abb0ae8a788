/* SPDX-License-Identifier: MIT */
/*
 * x86enc: x86-64 encodings for the rewriter (see x86enc.h).  The encodings
 * follow the Intel SDM, volume 2, chapter 2 (REX, ModRM, SIB).
 */
#include <string.h>

#include "libpvsub/x86enc.h"

static void put_le(uint8_t *p, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool fits_s8(int64_t v)
{
	return v >= INT8_MIN && v <= INT8_MAX;
}

static bool fits_s32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

unsigned pvsub_x86enc_nop(uint8_t *p, unsigned len)
{
	static const uint8_t nops[PVSUB_X86ENC_NOP_MAX + 1][PVSUB_X86ENC_NOP_MAX] = {
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

	memcpy(p, nops[len], len);
	return len;
}

unsigned pvsub_x86enc_rex(const uint8_t *b, const struct pvsub_insn *in)
{
	if (in->opcode_offset > 0 && (b[in->opcode_offset - 1] & 0xf0) == 0x40)
		return b[in->opcode_offset - 1];
	return 0;
}

unsigned pvsub_x86enc_mem_end(const struct pvsub_insn *in)
{
	if (in->disp_offset >= 0)
		return (unsigned)(in->disp_offset + in->disp_size);
	if (in->sib_offset >= 0)
		return (unsigned)in->sib_offset + 1;
	return (unsigned)in->modrm_offset + 1;
}

unsigned pvsub_x86enc_base_disp(uint8_t *p, unsigned reg, unsigned base, int32_t d)
{
	unsigned n = 0;
	bool d8 = fits_s8(d);
	p[n++] = (uint8_t)((d8 ? 0x40 : 0x80) | ((reg & 7) << 3) | (base & 7));
	if ((base & 7) == 4)
		p[n++] = 0x24; /* SIB: base rsp/r12, no index */
	put_le(p + n, (uint64_t)(int64_t)d, d8 ? 1 : 4);
	return n + (d8 ? 1 : 4);
}

unsigned pvsub_x86enc_lea(uint8_t *p, unsigned reg, int32_t d, bool wide)
{
	unsigned n = 0;
	unsigned rex = (wide ? 8u : 0u) | ((reg >> 3) << 2) | (reg >> 3);
	if (rex)
		p[n++] = (uint8_t)(0x40 | rex);
	p[n++] = 0x8d;
	return n + pvsub_x86enc_base_disp(p + n, reg, reg, d);
}

unsigned pvsub_x86enc_push(uint8_t *p, unsigned reg)
{
	unsigned n = 0;
	if (reg >= 8)
		p[n++] = 0x41;
	p[n++] = (uint8_t)(0x50 | (reg & 7));
	return n;
}

unsigned pvsub_x86enc_pop(uint8_t *p, unsigned reg)
{
	unsigned n = 0;
	if (reg >= 8)
		p[n++] = 0x41;
	p[n++] = (uint8_t)(0x58 | (reg & 7));
	return n;
}

unsigned pvsub_x86enc_store_sp(uint8_t *p, unsigned reg, int8_t d)
{
	p[0] = (uint8_t)(0x48 | ((reg >> 3) << 2));
	p[1] = 0x89;
	p[2] = (uint8_t)(0x44 | ((reg & 7) << 3));
	p[3] = 0x24; /* SIB: base rsp, no index */
	p[4] = (uint8_t)d;
	return 5;
}

static uint64_t bswap_width(uint64_t v, bool wide)
{
	return wide ? __builtin_bswap64(v) : __builtin_bswap32((uint32_t)v);
}

unsigned pvsub_x86enc_imm_lea(uint8_t *p, unsigned reg, bool wide64, bool imm64, uint64_t value,
			      int32_t b, enum pvsub_x86enc_twist tw)
{
	unsigned n = 0;
	uint64_t a = value - (uint64_t)(int64_t)b;
	unsigned rexb = reg >> 3;
	bool wide = wide64 || imm64;
	if (!wide)
		a = (uint32_t)a;
	uint64_t load = tw == PVSUB_X86ENC_TWIST_NOT	 ? ~a
			: tw == PVSUB_X86ENC_TWIST_BSWAP ? bswap_width(a, wide)
							 : a;
	if (!wide)
		load = (uint32_t)load;
	if (imm64) {
		p[n++] = (uint8_t)(0x48 | rexb);
		p[n++] = (uint8_t)(0xb8 | (reg & 7));
		put_le(p + n, load, 8);
		n += 8;
	} else if (wide64) {
		if (!fits_s32((int64_t)load))
			return 0;
		p[n++] = (uint8_t)(0x48 | rexb);
		p[n++] = 0xc7;
		p[n++] = (uint8_t)(0xc0 | (reg & 7));
		put_le(p + n, load, 4);
		n += 4;
	} else {
		if (rexb)
			p[n++] = 0x41;
		p[n++] = (uint8_t)(0xb8 | (reg & 7));
		put_le(p + n, load, 4);
		n += 4;
	}
	if (tw != PVSUB_X86ENC_TWIST_NONE) {
		if (wide || rexb)
			p[n++] = (uint8_t)(0x40 | (wide ? 8u : 0u) | rexb);
		if (tw == PVSUB_X86ENC_TWIST_NOT) {
			p[n++] = 0xf7;
			p[n++] = (uint8_t)(0xd0 | (reg & 7));
		} else {
			p[n++] = 0x0f;
			p[n++] = (uint8_t)(0xc8 | (reg & 7));
		}
	}
	return n + pvsub_x86enc_lea(p + n, reg, b, wide);
}

unsigned pvsub_x86enc_mem_insn(uint8_t *p, const uint8_t *b, const struct pvsub_insn *in,
			       unsigned from, int64_t disp, int reg, unsigned *disp_at)
{
	if (in->modrm_offset < 0)
		return 0;
	unsigned ms = (unsigned)in->modrm_offset, n = 0;
	uint8_t modrm = b[ms];
	unsigned mod = modrm >> 6;
	bool sib = in->sib_offset >= 0;
	if (mod == 3 || (mod == 0 && (modrm & 7) == 5) ||
	    (mod == 0 && sib && (b[in->sib_offset] & 7) == 5) || !fits_s32(disp))
		return 0;
	unsigned size = fits_s8(disp) && (mod != 2 || in->disp_size != 4) ? 1 : 4;
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
	unsigned me = pvsub_x86enc_mem_end(in);
	memcpy(p + n, b + me, in->len - me);
	return n + (in->len - me);
}
