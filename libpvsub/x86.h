/* SPDX-License-Identifier: MIT */
/*
 * x86: x86-64 instruction decoding on capstone, with the byte layout of each
 * instruction (prefixes, opcode, ModRM, SIB, displacement, immediate) that
 * classification and rewriting need.
 *
 * Capstone 4.0.2 cannot decode a few instructions that real kernels use
 * (RDPKRU/WRPKRU 0F 01 EE/EF, ...).  A small table of their encodings and
 * lengths (pvsub_x86_extra_table) is consulted when capstone fails, so a
 * linear sweep does not lose synchronisation.
 */
#ifndef PVSUB_X86_H
#define PVSUB_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/util.h"

#define PVSUB_X86_MAX_INSN 15

enum pvsub_x86_field {
	PVSUB_X86_FIELD_PREFIX, /* legacy prefixes, REX, VEX/EVEX/XOP prefix bytes */
	PVSUB_X86_FIELD_OPCODE,
	PVSUB_X86_FIELD_MODRM,
	PVSUB_X86_FIELD_SIB,
	PVSUB_X86_FIELD_DISP,
	PVSUB_X86_FIELD_IMM,
};

/* "prefix", "opcode", "modrm", "sib", "displacement", "immediate" */
const char *pvsub_x86_field_name(enum pvsub_x86_field f);

/* One decoded instruction; offsets are from the instruction's first byte,
 * -1 (or size 0) when the instruction has no such field. */
struct pvsub_insn {
	uint8_t len;
	uint8_t opcode_offset; /* first opcode byte (after all prefixes) */
	uint8_t opcode_len;
	int8_t modrm_offset;
	int8_t sib_offset;
	int8_t disp_offset;
	uint8_t disp_size;
	int8_t imm_offset;
	uint8_t imm_size;
	int8_t imm2_offset; /* second immediate (ENTER, EXTRQ/INSERTQ), or -1 */
	uint8_t imm2_size;
	bool from_table; /* decoded by pvsub's table, not by capstone */
	unsigned id;	 /* capstone instruction id (X86_INS_*), 0 for table entries */
	/* Register use (capstone decodes only; all zero / -1 for table
	 * entries): general registers numbered as in the encoding (rax 0 ...
	 * r15 15), as bit masks over any width (al, ax, eax, rax are all 0). */
	bool regs_known;
	uint16_t gpr_operands; /* named as register operands */
	uint16_t gpr_implicit; /* read or written implicitly */
	int8_t mem_base;       /* of the memory operand: 0-15, 16 rip, -1 none */
	int8_t mem_index;
	uint8_t mem_operands;  /* how many memory operands */
	bool is_branch;	       /* a jump, call or loop, relative or not (capstone's groups) */
	/* Arithmetic flags (OF SF ZF AF PF CF): read; all six written or left
	 * undefined.  Capstone's model, completed by mnemonic for the readers
	 * it does not describe. */
	bool flags_read;
	bool flags_write_all;
	char mnemonic[32];
	char op_str[160];
};

/* The field that byte @i (0 <= i < insn->len) of @insn belongs to. */
enum pvsub_x86_field pvsub_insn_field_at(const struct pvsub_insn *insn, unsigned i) _nonnull_(1);

/*
 * An instruction that capstone 4.0.2 cannot decode.  @value/@mask are
 * matched at the opcode start, i.e. after the legacy prefixes and REX (a
 * VEX/EVEX prefix is part of the match).  The decoded length counts the
 * skipped prefixes too.
 */
struct pvsub_x86_extra {
	uint8_t match_len;
	uint8_t value[8];
	uint8_t mask[8];
	/* Total length from the opcode start; for @has_modrm entries the length
	 * with a register-direct ModRM, SIB and displacement come on top. */
	uint8_t insn_len;
	const char *mnemonic;
	/* 0x66, 0xf2 or 0xf3 that must be among the legacy prefixes; 0: none of
	 * them may be present. */
	uint8_t prefix;
	bool has_modrm; /* a ModRM byte follows the @match_len bytes */
	bool mem_only;	/* ... and it must have mod != 3 */
};
/* The table (terminated by an entry with match_len 0). */
extern const struct pvsub_x86_extra pvsub_x86_extra_table[];

struct pvsub_decoder;

/* A decoder for 64-bit code (one capstone handle; use one per thread). */
int pvsub_decoder_new(struct pvsub_decoder **out) _must_check_ _nonnull_(1);
void pvsub_decoder_free(struct pvsub_decoder *d);

/*
 * Decode one instruction at @code (at most @len bytes available), at address
 * @addr (used for RIP-relative text only).  0, or -EILSEQ when neither
 * capstone nor the table decodes it.
 */
int pvsub_decoder_decode(struct pvsub_decoder *d, const uint8_t *code, size_t len, uint64_t addr,
		 struct pvsub_insn *out) _must_check_ _nonnull_(1, 2, 5);

#endif
