/* SPDX-License-Identifier: MIT */
/*
 * x86enc: the x86-64 encodings the rewriter builds its sequences from
 * (rewrite_rules.c), and the re-encoding of a decoded instruction's memory
 * operand (x86.h gives its byte layout).
 *
 * General registers are numbered as in the encoding (rax 0 ... r15 15).
 * Every encoder writes at @p and returns the number of bytes written; none
 * writes more than PVSUB_X86_MAX_INSN bytes, except where a contract says
 * so.  What an encoder produces is decoded back by tests/unit/test_x86enc.c.
 */
#ifndef PVSUB_X86ENC_H
#define PVSUB_X86ENC_H

#include <stdbool.h>
#include <stdint.h>

#include "libpvsub/util.h"
#include "libpvsub/x86.h"

/* The long NOP of @len bytes (1 to PVSUB_X86ENC_NOP_MAX): 90, 66 90, then
 * the 0f 1f /0 forms (Intel's recommended multi-byte NOPs, which are also
 * Linux's x86_nops).  Returns @len. */
#define PVSUB_X86ENC_NOP_MAX 8u
unsigned pvsub_x86enc_nop(uint8_t *p, unsigned len) _nonnull_(1);

/* The REX prefix of @in (whose bytes are at @b): the byte just in front of
 * its opcode when that is one (0x40-0x4f), else 0. */
unsigned pvsub_x86enc_rex(const uint8_t *b, const struct pvsub_insn *in) _nonnull_(1, 2);

/* Offset of the first byte after @in's ModRM, SIB and displacement (its
 * memory or register operand); @in must have a ModRM byte. */
unsigned pvsub_x86enc_mem_end(const struct pvsub_insn *in) _nonnull_(1);

/*
 * The ModRM, SIB and displacement of the memory operand @d(@base), with
 * @reg & 7 in ModRM.reg (REX.R and REX.B are the caller's).  Always a
 * displacement (mod 01 or 10, so rbp and r13 need nothing special): disp8
 * when @d fits in a signed byte, else disp32; a SIB byte (no index) when
 * the base is rsp or r12.  At most 6 bytes.
 */
unsigned pvsub_x86enc_base_disp(uint8_t *p, unsigned reg, unsigned base, int32_t d) _nonnull_(1);

/* `lea d(reg), reg` on the whole 64-bit register (@wide), or on its low 32
 * bits, zero-extended: it adds @d and changes no flag.  At most 8 bytes. */
unsigned pvsub_x86enc_lea(uint8_t *p, unsigned reg, int32_t d, bool wide) _nonnull_(1);

/* `push %reg` and `pop %reg` (64-bit); 1 or 2 bytes. */
unsigned pvsub_x86enc_push(uint8_t *p, unsigned reg) _nonnull_(1);
unsigned pvsub_x86enc_pop(uint8_t *p, unsigned reg) _nonnull_(1);

/* `mov %reg, d(%rsp)` (64-bit store, disp8); 5 bytes. */
unsigned pvsub_x86enc_store_sp(uint8_t *p, unsigned reg, int8_t d) _nonnull_(1);

/* How pvsub_x86enc_imm_lea() turns the loaded constant into the value
 * its lea starts from: as is, `not` or `bswap` (neither changes a flag),
 * so that every byte of the sequence can be made to change. */
enum pvsub_x86enc_twist {
	PVSUB_X86ENC_TWIST_NONE,
	PVSUB_X86ENC_TWIST_NOT,
	PVSUB_X86ENC_TWIST_BSWAP,
	PVSUB_X86ENC_TWIST_COUNT,
};

/*
 * Put @value in register @reg without changing a flag, in three steps:
 * `mov $t(a), reg; [not|bswap reg;] lea b(reg), reg`, where a = @value -
 * @b and t undoes the twist @tw.  The register is written as
 * `mov $imm32, r32` (zero-extended), or with @wide64 as the sign-extended
 * `mov $imm32, r64`, or with @imm64 as `movabs $imm64, r64`; the lea and
 * the twist have the same width (64 bits for @wide64 or @imm64).  0 when
 * the loaded constant does not fit a sign-extended imm32 (@wide64 without
 * @imm64).  At most 10 + 3 + 8 = 21 bytes.
 */
unsigned pvsub_x86enc_imm_lea(uint8_t *p, unsigned reg, bool wide64, bool imm64, uint64_t value,
			      int32_t b, enum pvsub_x86enc_twist tw) _nonnull_(1);

/*
 * Copy instruction @in (its bytes at @b) from its byte @from on into @p,
 * with the displacement of its memory operand set to @disp and, when @reg
 * >= 0, ModRM.reg set to @reg & 7 (REX.R is the caller's): a disp8 that no
 * longer fits becomes a disp32, a disp32 stays one, a missing one (mod 00)
 * is added.  Only for a memory operand with a base register, which @from
 * does not pass (@from <= the ModRM offset).  Returns the length written
 * (at most @in's length + 4) and, in *@disp_at, where the displacement is
 * in @p; 0 when @in has no such operand or @disp does not fit 32 bits.
 */
unsigned pvsub_x86enc_mem_insn(uint8_t *p, const uint8_t *b, const struct pvsub_insn *in,
			       unsigned from, int64_t disp, int reg, unsigned *disp_at)
	_nonnull_(1, 2, 3, 7);

#endif
