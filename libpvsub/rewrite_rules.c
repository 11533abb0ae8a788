/* SPDX-License-Identifier: MIT */
/*
 * The rewrite rules: what one instruction holding an occurrence becomes
 * (see rewrite.h for the list, rewrite_internal.h for the contract), and
 * rw_rule_table at the end, the order in which they are tried.  Every
 * replacement keeps the registers, the flags and memory as the original
 * leaves them; each rule says why.  The encodings are x86enc's.
 */
#include <string.h>

#include "libpvsub/rewrite_internal.h"
#include "libpvsub/x86enc.h"

/* `mov $imm, reg` forms imm-lea can replace: the register, the width and
 * the value.  *@wide64: the destination is 64-bit; *@imm64: movabs. */
static bool imm_mov(const uint8_t *b, const struct pvsub_insn *in, unsigned *reg, bool *wide64,
		    bool *imm64, uint64_t *value)
{
	unsigned rex = pvsub_x86enc_rex(b, in);
	if (in->opcode_offset != (rex ? 1 : 0) || in->opcode_len != 1 || in->imm_offset < 0)
		return false;
	uint8_t op = b[in->opcode_offset];
	bool w = rex & 8;
	if (op >= 0xb8 && op <= 0xbf) {
		*reg = (op & 7u) | ((rex & 1u) << 3);
		*wide64 = w;
		*imm64 = w;
		*value = w ? (uint64_t)rw_get_sle(b + in->imm_offset, 8)
			   : (uint32_t)rw_get_sle(b + in->imm_offset, 4);
		return in->imm_size == (w ? 8 : 4);
	}
	if (op == 0xc7 && in->modrm_offset >= 0 && (b[in->modrm_offset] & 0xf8) == 0xc0 &&
	    in->imm_size == 4) {
		*reg = (b[in->modrm_offset] & 7u) | ((rex & 1u) << 3);
		*wide64 = w;
		*imm64 = false;
		int64_t v = rw_get_sle(b + in->imm_offset, 4);
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

/* A 64-bit destination from a sign-extended imm32 needs a to fit too. */
static bool imm_lea_ok(bool wide64, bool imm64, uint64_t value, int32_t b)
{
	if (!wide64 || imm64)
		return true;
	int64_t a = (int64_t)value - b;
	return a >= INT32_MIN && a <= INT32_MAX;
}

/* Imm-lea candidates: lea displacements (lea_candidate) times twists. */
#define IMM_CANDIDATES (PVSUB_X86ENC_TWIST_COUNT * 1024u)

/* Imm-lea candidate @k for @value (pvsub_x86enc_imm_lea's @wide64 and
 * @imm64): the lea's displacement and the twist; false when the loaded
 * constant could not be a sign-extended imm32. */
static bool imm_candidate(unsigned k, bool wide64, bool imm64, uint64_t value, int32_t *lb,
			  enum pvsub_x86enc_twist *tw)
{
	*lb = lea_candidate(k % 1024);
	*tw = (enum pvsub_x86enc_twist)(k / 1024);
	return imm_lea_ok(wide64, imm64, value, *lb);
}

/* The unit's one relocated field (u->reloc_at, if any) now lies at
 * @fld_new of its sequence, in an instruction that ends at @end there. */
static void carry_field(struct rw_unit *u, unsigned fld_new, unsigned end)
{
	if (!u->has_reloc)
		return;
	u->fld_old = u->reloc_at;
	u->fld_new = (uint8_t)fld_new;
	u->fld_end = (uint8_t)end;
}

/* Give @u the sequence @seq; the rule then notes its stack, unwind and
 * instruction-copy facts, which start cleared. */
static void set_rule(struct rw_unit *u, enum rw_rule rule, const uint8_t *seq, unsigned n)
{
	memcpy(u->seq, seq, n);
	u->seq_len = (uint8_t)n;
	u->enc_len = (uint8_t)n;
	u->rule = rule;
	u->n_orc = 0;
	u->insn_at = -1;
}

/* The segment override prefixes (es cs ss ds fs gs). */
#define SEGMENT_PREFIXES "\x26\x2e\x36\x3e\x64\x65"

/* Are the @n legacy prefixes at @b all among the bytes of @allowed? */
static bool prefixes_among(const uint8_t *b, unsigned n, const char *allowed)
{
	for (unsigned k = 0; k < n; k++)
		if (!memchr(allowed, b[k], strlen(allowed)))
			return false;
	return true;
}

/* From offset @at of its sequence on, @u's stack is @sp lower and rbp @bp
 * higher than its unwind entry says. */
static void note_orc(struct rw_unit *u, unsigned at, int32_t sp, int32_t bp)
{
	if (u->n_orc < MAX_ORC_NOTES)
		u->orc[u->n_orc++] = (struct rw_orc_note){(uint8_t)at, sp, bp, false};
}

/* From offset @at of its sequence on, @u is already in the state of the
 * instruction after it, whose ORC entry describes it. */
static void note_orc_next(struct rw_unit *u, unsigned at)
{
	if (u->n_orc < MAX_ORC_NOTES)
		u->orc[u->n_orc++] = (struct rw_orc_note){(uint8_t)at, 0, 0, true};
}

/* The general register (rax 0 ... r15 15) an ORC register number names,
 * -1 for none (undefined, the previous frame). */
static int orc_gpr(unsigned orc_reg)
{
	switch (orc_reg) {
	case ORC_REG_DX:
		return 2;
	case ORC_REG_DI:
		return 7;
	case ORC_REG_BP:
	case ORC_REG_BP_INDIRECT:
		return 5;
	case ORC_REG_SP:
	case ORC_REG_SP_INDIRECT:
		return 4;
	case ORC_REG_R10:
		return 10;
	case ORC_REG_R13:
		return 13;
	}
	return -1;
}

/*
 * The general registers that the unwinder reads at unit @u (a mask over
 * rax 0 ... r15 15): the one its frame is computed from, and rbp when the
 * entry says the caller's rbp is still in it (undefined) or saved relative
 * to it.  A rule may change none of them, even for a moment, except as
 * sp-rebase and bp-rebase do (with ORC entries describing the change).
 * Without ORC tables nothing is read; without an entry for @u, or with an
 * entry of no known frame, the stack and frame registers are.
 */
static uint16_t unwind_regs_at(const struct rw *w, const struct rw_sect *s, uint64_t off)
{
	const uint16_t stack = (1u << 4) | (1u << 5);
	if (!w->orc)
		return 0;
	const uint8_t *e = rw_orc_entry_at(w, s->idx, off);
	if (!e)
		return stack;
	unsigned sp_reg = e[4] & 0x0f, bp_reg = e[4] >> 4;
	int g = orc_gpr(sp_reg);
	if (g < 0)
		return stack;
	uint16_t m = (uint16_t)(1u << g);
	if (bp_reg == ORC_REG_UNDEFINED || bp_reg == ORC_REG_BP)
		m |= 1u << 5;
	else if (bp_reg != ORC_REG_PREV_SP)
		return stack | m;
	return m;
}

static uint16_t unwind_regs(const struct rw *w, const struct rw_sect *s, const struct rw_unit *u)
{
	return unwind_regs_at(w, s, u->off);
}

static bool fix_imm_lea(const struct rw *w, struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	unsigned reg;
	bool wide64, imm64;
	uint64_t value;
	/* The register holds an intermediate value for a moment. */
	if (!imm_mov(s->in + u->off, &u->in, &reg, &wide64, &imm64, &value) ||
	    (unwind_regs(w, s, u) & (1u << reg)))
		return false;
	for (; u->cand < IMM_CANDIDATES; u->cand++) {
		int32_t b;
		enum pvsub_x86enc_twist tw;
		if (!imm_candidate(u->cand, wide64, imm64, value, &b, &tw))
			continue;
		uint8_t seq[MAX_SEQ];
		unsigned n = pvsub_x86enc_imm_lea(seq, reg, wide64, imm64, value, b, tw);
		if (n == 0 || rw_has_pattern(w, seq, n))
			continue;
		set_rule(u, RULE_IMM_LEA, seq, n);
		u->cand++;
		return true;
	}
	return false;
}

bool rw_fix_trap(struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
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
static bool fix_alu_split(const struct rw *w, struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	const uint8_t *b = s->in + u->off;
	unsigned rex = pvsub_x86enc_rex(b, &u->in), op = b[u->in.opcode_offset], ext, reg;
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
	if ((ext != 4 && ext != 1 && ext != 6) || (unwind_regs(w, s, u) & (1u << reg)))
		return false;
	uint32_t imm = (uint32_t)rw_get_sle(b + u->in.imm_offset, 4);
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
			rw_put_le(seq + n, k ? y : x, 4);
			n += 4;
		}
		if (rw_has_pattern(w, seq, n))
			continue;
		set_rule(u, RULE_ALU_SPLIT, seq, n);
		u->cand++;
		return true;
	}
	return false;
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
 * data (if the object has any) must compute the frame from a register: from
 * rsp, whose entry is then adjusted, or from another one, which does not
 * see the change.  An indirect frame through rsp is not adjusted: no. */
static bool stack_may_move(const struct rw *w, const struct rw_sect *s, const struct rw_unit *u)
{
	if (!w->orc)
		return true;
	const uint8_t *e = rw_orc_entry_at(w, s->idx, u->off);
	if (!e)
		return false;
	unsigned sp_reg = e[4] & 0x0f;
	return orc_gpr(sp_reg) >= 0 && sp_reg != ORC_REG_SP_INDIRECT;
}

/* A scratch register for unit @u, not among @used nor read by the
 * unwinder; 16 if there is none.  The caller-saved ones first (rax rcx
 * rdx rsi rdi r8-r11), then rbx rbp r12-r15: a callee-saved register that
 * the function never saves holds its caller's value, which the .eh_frame
 * pass will not let a sequence overwrite. */
static unsigned free_register(const struct rw *w, const struct rw_sect *s, const struct rw_unit *u,
			      uint16_t used)
{
	static const uint8_t order[] = {0, 1, 2, 6, 7, 8, 9, 10, 11, 3, 5, 12, 13, 14, 15};
	used |= unwind_regs(w, s, u);
	for (unsigned k = 0; k < sizeof(order); k++)
		if (!(used & (1u << order[k])))
			return order[k];
	return 16;
}

/*
 * The scratch registers a rule may borrow for unit @u, in the order it
 * tries them, into @regs (at most 16); their number.  First the one
 * free_register() gives (what the rule took before it tried others), then
 * the other caller-saved registers (rax rcx rdx rsi rdi r8-r11) not among
 * @used nor read by the unwinder: the push and pop of one register can form
 * a pattern with the bytes around them whatever the constant becomes (`pop
 * %rax` is 58, and the red zone's `lea 0x80(%rsp), %rsp` starts 48 8d),
 * another register's bytes differ.  At most 10.  No
 * .eh_frame row ever restores a caller's value from a caller-saved
 * register, so borrowing one is invisible to the unwinder unless it holds
 * the CFA, which the .eh_frame pass refuses.
 */
static unsigned scratch_registers(const struct rw *w, const struct rw_sect *s,
				  const struct rw_unit *u, uint16_t used, uint8_t *regs)
{
	static const uint8_t caller_saved[] = {0, 1, 2, 6, 7, 8, 9, 10, 11};
	unsigned first = free_register(w, s, u, used), n = 0;
	if (first == 16)
		return 0;
	regs[n++] = (uint8_t)first;
	used |= unwind_regs(w, s, u) | (uint16_t)(1u << first);
	for (unsigned k = 0; k < sizeof(caller_saved); k++)
		if (!(used & (1u << caller_saved[k])))
			regs[n++] = caller_saved[k];
	return n;
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
	unsigned rex = pvsub_x86enc_rex(b, in);
	if (in->opcode_offset != (rex ? 1u : 0u) || in->modrm_offset < 0 ||
	    in->gpr_operands != (1u << reg) || (in->gpr_implicit & (1u << reg)))
		return false;
	unsigned dest = ((b[in->modrm_offset] >> 3) & 7u) | (((rex >> 2) & 1u) << 3);
	const uint8_t *op = b + in->opcode_offset;
	bool known = (in->opcode_len == 1 &&
		      (op[0] == 0x8b || op[0] == 0x8d || (op[0] == 0x63 && (rex & 8)))) ||
		     (in->opcode_len == 2 && op[0] == 0x0f &&
		      (op[1] == 0xb6 || op[1] == 0xb7 || op[1] == 0xbe || op[1] == 0xbf));
	return known && dest == reg;
}

/* May the register @reg (the base or index of unit @u's memory operand) be
 * moved for a moment?  rsp never (sp-rebase does that), nor any register
 * the unwinder reads there (bp-rebase moves rbp with ORC entries). */
static bool reg_may_move(const struct rw *w, const struct rw_sect *s, const struct rw_unit *u,
			 unsigned reg)
{
	return reg != 4 && !(unwind_regs(w, s, u) & (1u << reg));
}

/* Scale of the SIB index of @in (1, 2, 4, 8). */
static unsigned sib_scale(const uint8_t *b, const struct pvsub_insn *in)
{
	return in->sib_offset >= 0 ? 1u << (b[in->sib_offset] >> 6) : 1;
}

static bool fits_s16(int64_t v)
{
	return v >= INT16_MIN && v <= INT16_MAX;
}

/*
 * Candidate @k for how far a rebase moves a register whose operand has
 * displacement @disp: small moves first, then moves that leave a small
 * displacement of either sign (one byte's worth of change where the high
 * bytes of a short negative displacement are all ff), then moves that
 * change the high bytes (too far for an ORC offset: bp-rebase skips them).
 */
static int32_t rebase_candidate(unsigned k, int64_t disp)
{
	static const int8_t small[] = {8,  -8,	16, -16, 32, -32, 64,  -64,
				       24, -24, 48, -48, 96, -96, 120, -120};
	if (k < 16)
		return lea_candidate(k);
	if (k < 32 && rw_fits(disp - small[k - 16], 4))
		return (int32_t)(disp - small[k - 16]);
	return lea_candidate(k < 32 ? k : k - 16);
}

/* The offsets of ORC entry @e still fit with rbp @d higher. */
static bool bp_move_fits(const uint8_t *e, int64_t d)
{
	bool adj_sp = (e[4] & 0x0f) == ORC_REG_BP || (e[4] & 0x0f) == ORC_REG_BP_INDIRECT;
	bool adj_bp = (e[4] >> 4) == ORC_REG_BP;
	return (!adj_sp || fits_s16(rw_get_sle(e, 2) - d)) &&
	       (!adj_bp || fits_s16(rw_get_sle(e + 2, 2) - d));
}

/*
 * How far @in moves the stack pointer down by itself: 8 for a push from
 * memory, -8 for a pop to memory (2 and -2 with an operand-size prefix), 0
 * for an instruction that leaves rsp alone or names it only as a source.
 * False for any other use of rsp, which may write it.
 */
static bool stack_move(const uint8_t *b, const struct pvsub_insn *in, int32_t *down)
{
	/* op r/m, reg forms whose register operand is only read: the ALU
	 * operations into r/m, cmp reg, r/m, test, mov into r/m */
	static const uint8_t reads_reg[] = {0x00, 0x01, 0x08, 0x09, 0x10, 0x11, 0x18, 0x19,
					    0x20, 0x21, 0x28, 0x29, 0x30, 0x31, 0x38, 0x39,
					    0x3a, 0x3b, 0x84, 0x85, 0x88, 0x89};
	const uint8_t *op = b + in->opcode_offset;
	unsigned ext = in->modrm_offset >= 0 ? (b[in->modrm_offset] >> 3) & 7u : 8;
	int32_t word = memchr(b, 0x66, in->opcode_offset) ? 2 : 8;
	*down = 0;
	if (!((in->gpr_operands | in->gpr_implicit) & (1u << 4)))
		return true;
	if (in->opcode_len == 1 && op[0] == 0xff && ext == 6) {
		*down = word;
		return true;
	}
	if (in->opcode_len == 1 && op[0] == 0x8f && ext == 0) {
		*down = -word;
		return true;
	}
	return !(in->gpr_implicit & (1u << 4)) && in->opcode_len == 1 &&
	       memchr(reads_reg, op[0], sizeof(reads_reg));
}

/*
 * `lea d(reg), reg; the instruction with its displacement less d*scale;
 * lea -d(reg), reg` for unit @i (disp-rebase, and bp-rebase with the ORC
 * entry @orc in force there, whose offsets then describe the moved rbp).
 * A push or pop (the only instructions here that move the stack) leaves
 * the stack moved while the restoring lea runs, before the next
 * instruction's ORC entry: an entry says so, which needs a frame that the
 * unwinder finds from a register.  An instruction that may write rsp in
 * another way is not rebased in an object with ORC tables.
 */
static bool rebase(const struct rw *w, struct rw_sect *s, size_t i, unsigned reg, bool by_index,
		   const uint8_t *orc)
{
	struct rw_unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	int32_t down;
	if (!disp_may_change(b, in) || in->mem_operands != 1)
		return false;
	if (w->orc && (!stack_move(b, in, &down) || (down && !stack_may_move(w, s, u))))
		return false;
	if (!w->orc)
		down = 0;
	/* A relocated immediate is carried over; nothing else may be relocated. */
	if (u->has_reloc && (u->reloc_at < 0 || u->reloc_at != in->imm_offset))
		return false;
	int64_t scale = by_index ? (int64_t)sib_scale(b, in) : 1;
	bool restore = true;
	if ((in->gpr_operands | in->gpr_implicit) & (1u << reg)) {
		if (by_index || !loads_whole(b, in, reg))
			return false;
		restore = false;
	}
	int64_t disp = rw_get_sle(b + in->disp_offset, in->disp_size);
	/* Candidates: the move d, and whether a nop separates the
	 * instruction from the leas (a pattern may span their bytes). */
	for (; u->cand < 4 * 4096; u->cand++) {
		int32_t d = rebase_candidate(u->cand / 4, disp);
		unsigned nops = u->cand % 4;
		int64_t d2 = disp - d * scale;
		if (!rw_fits(d2, in->disp_size) || (orc && !bp_move_fits(orc, d)) ||
		    (!restore && (nops & 2)))
			continue;
		uint8_t seq[MAX_SEQ + 8];
		unsigned n = pvsub_x86enc_lea(seq, reg, d, true), moved = n;
		if (nops & 1)
			seq[n++] = 0x90;
		memcpy(seq + n, b, in->len);
		rw_put_le(seq + n + in->disp_offset, (uint64_t)d2, in->disp_size);
		n += in->len;
		unsigned lea_len = n - in->len, end = n;
		if (nops & 2)
			seq[n++] = 0x90;
		if (restore)
			n += pvsub_x86enc_lea(seq + n, reg, -d, true);
		if (n > MAX_SEQ)
			continue;
		if (rw_has_pattern(w, seq, n))
			continue;
		set_rule(u, orc ? RULE_BP_REBASE : RULE_DISP_REBASE, seq, n);
		carry_field(u, lea_len + (unsigned)u->reloc_at, end);
		u->insn_at = (int8_t)lea_len;
		if (orc)
			note_orc(u, moved, 0, d);
		if (down && restore)
			note_orc(u, end, down, orc ? d : 0);
		if (orc || down)
			note_orc(u, n, down, 0);
		u->cand++;
		return true;
	}
	return false;
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
static bool fix_disp_rebase(const struct rw *w, struct rw_sect *s, size_t i)
{
	const struct rw_unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	if (in->mem_base == 16 || (in->mem_base < 0 && in->mem_index < 0) ||
	    in->mem_index == in->mem_base)
		return false;
	bool by_index = in->mem_base < 0;
	unsigned reg = (unsigned)(by_index ? in->mem_index : in->mem_base);
	return reg_may_move(w, s, u, reg) && rebase(w, s, i, reg, by_index, NULL);
}

/*
 * bp-rebase: disp-rebase of rbp where the unwinder reads it (a frame
 * computed from rbp, directly or through the word it points at, or the
 * caller's rbp saved relative to it): between the two leas rbp is d
 * higher, and ORC entries there say so (sp_offset and bp_offset d lower).
 * Kernel objects only (without ORC, disp-rebase moves rbp freely).
 */
/* The ORC entry of unit @u when it reads rbp in a way an offset can
 * describe rbp moved by (frame from rbp or through it, caller's rbp saved
 * relative to it, nothing else undefined); NULL otherwise, and without ORC
 * tables (then rbp is a register like any other). */
static const uint8_t *bp_adjustable(const struct rw *w, const struct rw_sect *s,
				    const struct rw_unit *u)
{
	const uint8_t *e = w->orc ? rw_orc_entry_at(w, s->idx, u->off) : NULL;
	if (!e)
		return NULL;
	unsigned sp_reg = e[4] & 0x0f, bp_reg = e[4] >> 4;
	bool sp_by_bp = sp_reg == ORC_REG_BP || sp_reg == ORC_REG_BP_INDIRECT;
	if ((bp_reg != ORC_REG_BP && bp_reg != ORC_REG_PREV_SP) || orc_gpr(sp_reg) < 0 ||
	    sp_reg == ORC_REG_SP_INDIRECT || (!sp_by_bp && bp_reg != ORC_REG_BP))
		return NULL;
	return e;
}

static bool fix_bp_rebase(const struct rw *w, struct rw_sect *s, size_t i)
{
	const struct rw_unit *u = &s->u[i];
	if (u->in.mem_base != 5 || u->in.mem_index == 5)
		return false;
	const uint8_t *e = bp_adjustable(w, s, u);
	return e && rebase(w, s, i, 5, false, e);
}

/*
 * sp-rebase: a memory operand based on rsp whose displacement holds the
 * pattern: `lea -D(%rsp), %rsp; the instruction with disp + D; lea
 * D(%rsp), %rsp`.  Moving rsp *down* never exposes live stack (an
 * interrupt or signal frame goes below the new rsp, below any red zone);
 * ORC entries describe the lowered stack (added when the object is
 * written).
 */
static bool fix_sp_rebase(const struct rw *w, struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	if (!disp_may_change(b, in) || in->mem_operands != 1 || in->mem_base != 4 ||
	    in->mem_index == 4 || ((in->gpr_operands | in->gpr_implicit) & (1u << 4)) ||
	    !stack_may_move(w, s, u))
		return false;
	if (u->has_reloc && (u->reloc_at < 0 || u->reloc_at != in->imm_offset))
		return false;
	int64_t disp = rw_get_sle(b + in->disp_offset, in->disp_size);
	for (; u->cand < 512; u->cand++) {
		int32_t d = 8 * (int32_t)(u->cand + 1);
		uint8_t seq[MAX_SEQ];
		unsigned at, n = pvsub_x86enc_lea(seq, 4, -d, true), lo = n;
		unsigned k = pvsub_x86enc_mem_insn(seq + n, b, in, 0, disp + d, -1, &at);
		if (k == 0)
			break;
		/* the bytes after the operand (the immediate) end the copy */
		unsigned tail = n + k - (in->len - pvsub_x86enc_mem_end(in));
		n += k;
		unsigned end = n;
		unsigned hi = n + pvsub_x86enc_lea(seq + n, 4, d, true);
		if (hi > MAX_SEQ || rw_has_pattern(w, seq, hi))
			continue;
		set_rule(u, RULE_SP_REBASE, seq, hi);
		carry_field(u, tail + ((unsigned)u->reloc_at - pvsub_x86enc_mem_end(in)), end);
		u->insn_at = (int8_t)lo;
		note_orc(u, lo, d, 0);
		note_orc(u, hi, 0, 0);
		u->cand++;
		return true;
	}
	return false;
}

/*
 * The stack frame of the rules that borrow a register (scratch,
 * scratch-disp, push-imm, push-mem): %r saved around the instructions
 * that use it.
 *
 *   lea -skip(%rsp), %rsp    outside the kernel: past the red zone
 *   push %r
 *   push %r                  leave_word: the word the original push leaves
 *   ...                      the caller's: a value built in %r, its use
 *   mov %r, 8(%rsp)          leave_word: %r's value stored in that word
 *   pop %r
 *   lea skip(%rsp), %rsp
 *
 * push and pop change no flag, nor does lea.  The ORC notes say that the
 * stack is lower by what is pushed from each push to the pop, and by the
 * word left after it.
 */
struct frame {
	unsigned r;	    /* the borrowed register */
	unsigned skip;	    /* bytes of red zone skipped (0 in the kernel) */
	bool leave_word;    /* a push rule: one more word, left on the stack */
	unsigned pushed[2]; /* where each push ends in the sequence */
	unsigned popped;    /* where the pop ends */
};

/* Bytes the stack is lower by between a frame's pushes and its pop (what
 * an rsp-based operand there adds to its displacement). */
static unsigned frame_depth(unsigned skip, bool leave_word)
{
	return skip + (leave_word ? 16 : 8);
}

/* Open the frame at the start of @seq; the length written. */
static unsigned frame_open(struct frame *f, uint8_t *seq, unsigned r, unsigned skip,
			   bool leave_word)
{
	unsigned n = 0;
	*f = (struct frame){.r = r, .skip = skip, .leave_word = leave_word};
	if (skip)
		n += pvsub_x86enc_lea(seq + n, 4, -(int32_t)skip, true);
	for (unsigned k = 0; k < (leave_word ? 2u : 1u); k++) {
		n += pvsub_x86enc_push(seq + n, r);
		f->pushed[k] = n;
	}
	return n;
}

/* Close the frame after the @n bytes of @seq; the new length. */
static unsigned frame_close(struct frame *f, uint8_t *seq, unsigned n)
{
	if (f->leave_word)
		n += pvsub_x86enc_store_sp(seq + n, f->r, 8);
	n += pvsub_x86enc_pop(seq + n, f->r);
	f->popped = n;
	if (f->skip)
		n += pvsub_x86enc_lea(seq + n, 4, (int32_t)f->skip, true);
	return n;
}

/* The ORC notes of the frame's pushes; the caller's own notes follow. */
static void frame_note_pushes(struct rw_unit *u, const struct frame *f)
{
	for (unsigned k = 0; k < (f->leave_word ? 2u : 1u); k++)
		note_orc(u, f->pushed[k], (int32_t)(f->skip + 8 * (k + 1)), 0);
}

/* The ORC note of the frame's pop: the stack as the unit's entry says, or
 * one word lower with a word left. */
static void frame_note_pop(struct rw_unit *u, const struct frame *f)
{
	note_orc(u, f->popped, f->leave_word ? 8 : 0, 0);
}

/*
 * Give @u the sequence @seq of @n bytes made in frame @f, with the copied
 * instruction at @insn_at (-1 for none) and the frame's ORC notes, and
 * move past this candidate for a later retry.  Always true: what a rule
 * returns when it has its sequence.
 */
static bool frame_commit(struct rw_unit *u, const struct frame *f, enum rw_rule rule,
			 const uint8_t *seq, unsigned n, int insn_at)
{
	set_rule(u, rule, seq, n);
	u->insn_at = (int8_t)insn_at;
	frame_note_pushes(u, f);
	frame_note_pop(u, f);
	u->cand++;
	return true;
}

/* `imul reg, r/m` (0f af): the form `imul dst, r/m, $imm` becomes, with the
 * immediate in the scratch register and a mov to dst after it. */
#define IMUL_REG 0x0fafu

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
	case 0x05:
	case 0x0d:
	case 0x15:
	case 0x1d:
	case 0x25:
	case 0x2d:
	case 0x35:
	case 0x3d:
		*eax_form = true;
		return (unsigned)op - 4;
	case 0xa9:
		*eax_form = true;
		return 0x85;
	case 0x6b:
		*imm8 = true;
		return IMUL_REG;
	case 0x69:
		return IMUL_REG;
	}
	return 0;
}

/* What fix_scratch() found out about an instruction. */
struct scratch_plan {
	unsigned newop; /* the register form's opcode (IMUL_REG: 0f af) */
	bool eax_form;	/* the short rAX form (no ModRM) */
	bool wide;	/* REX.W */
	unsigned rex, npfx;
	unsigned r;	       /* the scratch register */
	uint64_t value;	       /* the immediate, as the instruction uses it */
	unsigned skip;	       /* red zone skipped first (0 in the kernel) */
	int64_t disp;	       /* of the memory operand, 0 if none */
	int rebase_reg;	       /* base that may move for the displacement, -1 none */
	const uint8_t *bp_orc; /* rbp moves with ORC entries: the unit's entry */
};

/* Where scratch_seq() put things: the relocated field and the end of its
 * instruction, the copied instruction, the frame and the moved base
 * [moved, back). */
struct scratch_marks {
	unsigned fld, end, insn_at, moved, back;
	struct frame frame;
};

/*
 * The scratch sequence for lea candidate @lb and twist @tw, with the base
 * of the memory operand moved by @d (0: not moved), into @seq; its length
 * (0 when the candidate cannot be encoded), the relocated field's and the
 * instruction's places, and the stack window.
 */
static unsigned scratch_seq(const struct scratch_plan *pl, const uint8_t *b,
			    const struct pvsub_insn *in, int32_t lb, enum pvsub_x86enc_twist tw,
			    int32_t d, uint8_t *seq, struct scratch_marks *mk)
{
	unsigned *fld = &mk->fld, *end = &mk->end, *insn_at = &mk->insn_at;
	unsigned r = pl->r, n = frame_open(&mk->frame, seq, r, pl->skip, false);
	unsigned push = frame_depth(pl->skip, false);
	unsigned ml = pvsub_x86enc_imm_lea(seq + n, r, pl->wide, false, pl->value, lb, tw);
	if (ml == 0)
		return 0;
	n += ml;
	if (d)
		n += pvsub_x86enc_lea(seq + n, (unsigned)pl->rebase_reg, d, true);
	mk->moved = n;
	/* the instruction, register form: prefixes, REX, opcode, operand */
	*insn_at = n;
	for (unsigned k = 0; k < pl->npfx; k++)
		seq[n++] = b[k];
	unsigned nrex = (pl->rex & 0x0b) | ((r >> 3) << 2);
	if (pl->eax_form)
		nrex = (pl->wide ? 8u : 0u) | ((r >> 3) << 2);
	if (nrex)
		seq[n++] = (uint8_t)(0x40 | nrex);
	if (pl->newop == IMUL_REG)
		seq[n++] = 0x0f;
	seq[n++] = (uint8_t)pl->newop;
	*fld = 0;
	if (pl->eax_form) {
		seq[n++] = (uint8_t)(0xc0 | ((r & 7) << 3)); /* rm = eax/rax */
	} else if (in->mem_base == 4) {
		unsigned at, ms = (unsigned)in->modrm_offset;
		unsigned k =
			pvsub_x86enc_mem_insn(seq + n, b, in, ms, pl->disp + push, (int)r, &at);
		if (k == 0)
			return 0;
		n += k - (in->len - pvsub_x86enc_mem_end(in)); /* no immediate in the reg form */
	} else {
		unsigned ms = (unsigned)in->modrm_offset, me = pvsub_x86enc_mem_end(in);
		memcpy(seq + n, b + ms, me - ms);
		seq[n] = (uint8_t)((seq[n] & 0xc7) | ((r & 7) << 3));
		if (in->disp_offset >= 0) {
			unsigned dsize = in->disp_size;
			*fld = n + (unsigned)(in->disp_offset - (int)ms);
			if (d && !rw_fits(pl->disp - d, in->disp_size))
				return 0;
			/* A moved base that leaves a displacement of one byte
			 * takes the disp8 form (mod 01): three bytes fewer,
			 * which a sequence that also skips the red zone needs.
			 * Never relocated: the base is moved only then. */
			if (d && dsize == 4 && (seq[n] >> 6) == 2 && rw_fits(pl->disp - d, 1)) {
				seq[n] = (uint8_t)((seq[n] & 0x3f) | 0x40);
				dsize = 1;
			}
			if (d)
				rw_put_le(seq + *fld, (uint64_t)(pl->disp - d), dsize);
			n += (unsigned)in->disp_offset - ms + dsize;
		} else {
			n += me - ms;
		}
	}
	*end = n;
	if (pl->newop == IMUL_REG) {
		/* mov %r, dst: the product to where imul put it, no flags */
		unsigned dst = ((b[in->modrm_offset] >> 3) & 7u) | (((pl->rex >> 2) & 1u) << 3);
		unsigned mrex = (pl->wide ? 8u : 0u) | ((r >> 3) << 2) | (dst >> 3);
		if (memchr(b, 0x66, pl->npfx))
			seq[n++] = 0x66;
		if (mrex)
			seq[n++] = (uint8_t)(0x40 | mrex);
		seq[n++] = 0x89;
		seq[n++] = (uint8_t)(0xc0 | ((r & 7) << 3) | (dst & 7));
	}
	if (d)
		n += pvsub_x86enc_lea(seq + n, (unsigned)pl->rebase_reg, -d, true);
	mk->back = n;
	return frame_close(&mk->frame, seq, n);
}

/* Base moves tried per scratch candidate when the displacement holds a
 * pattern too. */
#define SCRATCH_REBASES 64
/* Red zone skips tried outside the kernel: the 128 bytes, a little more,
 * and enough to carry an rsp-based displacement into other high bytes;
 * all below a page, so the stack's guard page is never jumped over. */
static const unsigned red_zone_skips[] = {128, 136, 144, 152, 520, 1032};
#define RED_ZONE_SKIPS (sizeof(red_zone_skips) / sizeof(red_zone_skips[0]))

/*
 * scratch: an instruction with an immediate that no cheaper rule can
 * change (cmp, test, add, sub, adc, sbb, mov to memory, imul, ...): `push %r;
 * mov $a, %r32 or %r64; lea b(%r), %r (a + b = imm); the register form of
 * the instruction; pop %r`.  push, mov, lea and pop change no flags; %r is
 * a register the instruction does not use and the unwinder does not read.
 * Outside the kernel the 128-byte red zone below rsp is skipped first (lea
 * -128(%rsp), %rsp).  A memory operand based on rsp gets the pushed bytes
 * added to its displacement; a relocated displacement (RIP-relative or
 * absolute) is carried over.  When the displacement holds a pattern as
 * well, its base is moved around the instruction as disp-rebase does.
 */
static bool fix_scratch(const struct rw *w, struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	struct scratch_plan pl = {.rebase_reg = -1};
	bool imm8;
	pl.newop = scratch_opcode(b, in, &pl.eax_form, &imm8);
	/* Not for an instruction that uses rsp itself (`sub $N, %rsp`): the
	 * push moves it. */
	if (!pl.newop || !in->regs_known || in->is_branch || in->mem_operands > 1 ||
	    in->imm_offset < 0 || ((in->gpr_operands | in->gpr_implicit) & (1u << 4)) ||
	    !stack_may_move(w, s, u))
		return false;
	/* A relocation may only be the displacement, which is copied as is;
	 * an intra-section RIP-relative operand would need its target. */
	if (u->has_reloc && (u->reloc_at != in->disp_offset || in->disp_size != 4))
		return false;
	if (u->rk == REL_RIP && !u->rel_has_reloc)
		return false;
	if (in->mem_base == 4 && in->disp_offset >= 0 && !disp_may_change(b, in))
		return false;
	/* Prefixes other than segment, operand size and lock: no. */
	pl.rex = pvsub_x86enc_rex(b, in);
	pl.npfx = in->opcode_offset - (pl.rex ? 1u : 0u);
	if (!prefixes_among(b, pl.npfx, SEGMENT_PREFIXES "\x66\xf0"))
		return false;
	uint16_t used = in->gpr_operands | in->gpr_implicit | (1u << 4);
	if (in->mem_base >= 0 && in->mem_base < 16)
		used |= (uint16_t)(1u << in->mem_base);
	if (in->mem_index >= 0)
		used |= (uint16_t)(1u << in->mem_index);
	uint8_t regs[16];
	unsigned n_regs = scratch_registers(w, s, u, used, regs);
	if (n_regs == 0)
		return false;
	pl.wide = pl.rex & 8;
	/* imul's first operand must be a register, and not rsp */
	if (pl.newop == IMUL_REG && pl.eax_form)
		return false;
	pl.value = imm8 ? (uint64_t)rw_get_sle(b + in->imm_offset, 1)
			: (uint64_t)rw_get_sle(b + in->imm_offset, in->imm_size);
	if (!pl.wide)
		pl.value = (uint32_t)pl.value;
	pl.skip = w->kernel ? 0 : 128;
	pl.disp = in->disp_offset >= 0 ? rw_get_sle(b + in->disp_offset, in->disp_size) : 0;
	if (in->disp_offset >= 0 && !u->has_reloc && disp_may_change(b, in) && in->mem_base >= 0 &&
	    in->mem_base < 16 && in->mem_base != 4 && in->mem_index != in->mem_base &&
	    !((in->gpr_operands | in->gpr_implicit) & (1u << in->mem_base))) {
		if (reg_may_move(w, s, u, (unsigned)in->mem_base))
			pl.rebase_reg = in->mem_base;
		else if (in->mem_base == 5 && (pl.bp_orc = bp_adjustable(w, s, u)) != NULL)
			pl.rebase_reg = 5; /* as bp-rebase does */
	}

	/* Every candidate with the first register, then with the next. */
	for (; u->cand < IMM_CANDIDATES * n_regs; u->cand++) {
		int32_t lb;
		enum pvsub_x86enc_twist tw;
		if (!imm_candidate(u->cand % IMM_CANDIDATES, pl.wide, false, pl.value, &lb, &tw))
			continue;
		pl.r = regs[u->cand / IMM_CANDIDATES];
		uint8_t seq[MAX_SEQ + 32];
		struct scratch_marks mk;
		unsigned n = 0;
		int32_t d = 0;
		unsigned tries = pl.rebase_reg >= 0 ? SCRATCH_REBASES : 1;
		/* Outside the kernel, the red zone skip may be a little longer
		 * when the leas that skip it hold a pattern (`lea 0x80(%rsp)`
		 * holds 80 00 00). */
		for (unsigned z = 0; z < (w->kernel ? 1u : RED_ZONE_SKIPS) && n == 0; z++) {
			pl.skip = w->kernel ? 0 : red_zone_skips[z];
			for (unsigned k = 0; k < tries; k++) {
				/* small moves, then ones that change the high bytes */
				d = k == 0 ? 0
					   : rebase_candidate(k <= 32 ? k - 1 : 528 + (k - 33),
							      pl.disp);
				if (d && pl.bp_orc && !bp_move_fits(pl.bp_orc, d))
					continue;
				n = scratch_seq(&pl, b, in, lb, tw, d, seq, &mk);
				if (n && n <= MAX_SEQ && !rw_has_pattern(w, seq, n))
					break;
				n = 0;
			}
		}
		if (n == 0)
			continue;
		set_rule(u, RULE_SCRATCH, seq, n);
		carry_field(u, mk.fld, mk.end); /* reloc_at is the displacement */
		u->insn_at = (int8_t)mk.insn_at;
		/* ORC: the frame's (kernel objects, which have no red-zone
		 * skip); rbp higher while it is moved, when the unwinder reads
		 * it. */
		int32_t push = (int32_t)frame_depth(pl.skip, false);
		frame_note_pushes(u, &mk.frame);
		if (d && pl.bp_orc) {
			note_orc(u, mk.moved, push, d);
			note_orc(u, mk.back, push, 0);
		}
		frame_note_pop(u, &mk.frame);
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
static bool flags_dead_after(const struct rw_sect *s, size_t i)
{
	size_t j = i + 1;
	for (unsigned steps = 0; steps < 512 && j < s->n; steps++) {
		const struct rw_unit *u = &s->u[j];
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
			size_t t = rw_unit_at(s, (uint64_t)u->target);
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

/* lea-arith's short-step chains: at most this many leas, and how many
 * ways of cutting the value are tried. */
#define LEA_CHAIN 5
#define LEA_CHAIN_CANDIDATES 256
/* ... and how many first steps of three (from half the whole down). */
#define LEA_HALVES 1024

/*
 * lea-arith: `add $imm, reg` or `sub $imm, reg` whose flags are dead (see
 * flags_dead_after) is `lea imm(reg), reg`, or two such leas when one
 * still holds the pattern.  On rsp both steps go the same way as the
 * original, so the stack never exposes or covers live data, and the ORC
 * entry between them describes the intermediate stack.
 */
static bool fix_lea_arith(const struct rw *w, struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	unsigned rex = pvsub_x86enc_rex(b, in), op = b[in->opcode_offset], ext, reg;
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
	int64_t imm = rw_get_sle(b + in->imm_offset, op == 0x83 ? 1 : 4);
	int64_t delta = ext == 0 ? imm : -imm;
	if (!rw_fits(delta, 4))
		return false;
	/* On rsp, with ORC: a frame computed from another register does not
	 * care; one computed from rsp must already have its entry for the
	 * state after.  Any other register the unwinder reads: no. */
	bool sp_entries = false;
	if (reg == 4) {
		const uint8_t *e = w->orc ? rw_orc_entry_at(w, s->idx, u->off) : NULL;
		int g = e ? orc_gpr(e[4] & 0x0fu) : -1;
		if (!wide || (w->orc && !e))
			return false;
		if (e && (g < 0 || g == 4)) {
			if ((e[4] & 0x0f) != ORC_REG_SP ||
			    !orc_entry_starts(w, s->idx, u->off + in->len))
				return false;
			sp_entries = true;
		}
	} else if (unwind_regs(w, s, u) & (1u << reg)) {
		return false;
	}
	for (; u->cand < 2048; u->cand++) {
		/* the whole; small and high-byte splits; then fractions of it,
		 * whose two halves avoid the high bytes of the whole */
		int64_t a = u->cand == 0     ? delta
			    : u->cand < 1024 ? lea_candidate(u->cand - 1)
					     : delta * (1 + (u->cand - 1024) % 15) / 16 +
						       lea_candidate((u->cand - 1024) / 15);
		int64_t rest = delta - a;
		if (reg == 4 && u->cand &&
		    (a == 0 || (a < 0) != (delta < 0) || (rest != 0 && (rest < 0) != (delta < 0))))
			continue;
		if (!rw_fits(rest, 4))
			continue;
		uint8_t seq[MAX_SEQ];
		unsigned n = pvsub_x86enc_lea(seq, reg, (int32_t)a, wide), lo = n;
		if (rest)
			n += pvsub_x86enc_lea(seq + n, reg, (int32_t)rest, wide);
		if (rw_has_pattern(w, seq, n))
			continue;
		set_rule(u, RULE_LEA_ARITH, seq, n);
		if (sp_entries && rest)
			note_orc(u, lo, (int32_t)-a, 0);
		u->cand++;
		return true;
	}
	/* Then chains of up to LEA_CHAIN short steps (disp8: no high bytes at
	 * all), all the same way, the first one's size varied. */
	int64_t mag = delta < 0 ? -delta : delta;
	for (; u->cand < 2048 + LEA_CHAIN_CANDIDATES; u->cand++) {
		unsigned k = u->cand - 2048, steps = 2 + k % (LEA_CHAIN - 1);
		if (mag > 127 * (int64_t)steps || (int64_t)steps > mag)
			continue;
		uint8_t seq[MAX_SEQ];
		unsigned n = 0, at[LEA_CHAIN];
		int64_t done = 0, step = 0;
		for (unsigned j = 0; j < steps; j++) {
			int64_t left = mag - done, rem = steps - j;
			step = (left + rem - 1) / rem; /* an even share */
			if (j == 0)
				step -= (int64_t)(k / (LEA_CHAIN - 1)) % step;
			if (step < 1 || step > 127 || left - step > 127 * (rem - 1))
				break;
			n += pvsub_x86enc_lea(seq + n, reg, (int32_t)(delta < 0 ? -step : step),
					      wide);
			done += step;
			at[j] = n;
		}
		if (done != mag || rw_has_pattern(w, seq, n))
			continue;
		set_rule(u, RULE_LEA_ARITH, seq, n);
		/* The stack after each lea but the last (the next instruction's
		 * entry describes the state after it). */
		for (unsigned j = 0; sp_entries && j + 1 < steps; j++)
			note_orc(u, at[j],
				 (int32_t)-rw_get_sle(seq + at[j] - 1, 1) +
					 (j ? u->orc[j - 1].sp_delta : 0),
				 0);
		u->cand++;
		return true;
	}
	/* Last, three steps the same way, the first two equal and from half the
	 * whole down: a high byte of the whole that only padded shares hold
	 * (0x428 and the pattern 04 00 00: 0x214 and 0x214 hold 02 00 00 too,
	 * 0x1ff, 0x1ff and 0x2a none). */
	unsigned first3 = 2048 + LEA_CHAIN_CANDIDATES;
	for (; u->cand < first3 + LEA_HALVES; u->cand++) {
		int64_t a = mag / 2 - (int64_t)(u->cand - first3), rest = mag - 2 * a;
		if (a < 1)
			break;
		int32_t sa = (int32_t)(delta < 0 ? -a : a),
			sr = (int32_t)(delta < 0 ? -rest : rest);
		uint8_t seq[MAX_SEQ];
		unsigned n1 = pvsub_x86enc_lea(seq, reg, sa, wide);
		unsigned n2 = n1 + pvsub_x86enc_lea(seq + n1, reg, sa, wide), n = n2;
		if (rest)
			n += pvsub_x86enc_lea(seq + n, reg, sr, wide);
		if (rw_has_pattern(w, seq, n))
			continue;
		set_rule(u, RULE_LEA_ARITH, seq, n);
		if (sp_entries) {
			note_orc(u, n1, -sa, 0);
			if (rest)
				note_orc(u, n2, -2 * sa, 0);
		}
		u->cand++;
		return true;
	}
	return false;
}

/* Legacy prefixes a rule may copy in front of a re-encoded instruction
 * (not 67: the address size would change what a register means). */
static bool plain_prefixes(const uint8_t *b, unsigned n)
{
	return prefixes_among(b, n, SEGMENT_PREFIXES "\x66\xf0\xf2\xf3");
}

/*
 * scratch-disp: a memory operand whose displacement holds the pattern and
 * that has a free base or index slot: `push %r; mov $disp, %r (built as in
 * imm-lea); the instruction with %r in the free slot and no displacement;
 * pop %r`.  push, mov, lea and pop change no flags; %r is a register the
 * instruction does not use (never rsp, rbp, r12 or r13, whose encodings are
 * special).  An rsp-based operand gets the pushed bytes added; a relocated
 * immediate is carried over; outside the kernel the red zone is skipped.
 * Not for branches (the callee would see the pushed word) nor for
 * exception-table sites.
 */
static bool fix_scratch_disp(const struct rw *w, struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	unsigned rex = pvsub_x86enc_rex(b, in), npfx = in->opcode_offset - (rex ? 1u : 0u);
	if (!disp_may_change(b, in) || in->mem_operands != 1 || in->mem_base == 16 ||
	    (in->mem_base >= 0 && in->mem_index >= 0) || in->modrm_offset < 0 ||
	    !plain_prefixes(b, npfx) || ((in->gpr_operands | in->gpr_implicit) & (1u << 4)) ||
	    !stack_may_move(w, s, u))
		return false;
	if (u->has_reloc && (u->reloc_at < 0 || u->reloc_at != in->imm_offset))
		return false;
	uint16_t used = in->gpr_operands | in->gpr_implicit | 0x3030u; /* rsp rbp r12 r13 */
	if (in->mem_base >= 0)
		used |= (uint16_t)(1u << in->mem_base);
	if (in->mem_index >= 0)
		used |= (uint16_t)(1u << in->mem_index);
	unsigned r = free_register(w, s, u, used);
	if (r == 16)
		return false;
	int64_t disp0 = rw_get_sle(b + in->disp_offset, in->disp_size);
	unsigned ms = (unsigned)in->modrm_offset, me = pvsub_x86enc_mem_end(in);
	unsigned reg = (b[ms] >> 3) & 7u;
	/* The new ModRM/SIB: r as the index under the base, or as the base
	 * over the index, or alone. */
	uint8_t modrm, sib = 0, d8 = 0;
	bool has_sib = true, has_d8 = false;
	unsigned nrex = rex & 0x0c; /* W and R stay */
	if (in->mem_base >= 0) {
		unsigned base = (unsigned)in->mem_base;
		has_d8 = (base & 7) == 5; /* rbp/r13 as base need a displacement */
		modrm = (uint8_t)((has_d8 ? 0x44 : 0x04) | (reg << 3));
		sib = (uint8_t)(((r & 7) << 3) | (base & 7));
		nrex |= ((r >> 3) << 1) | (base >> 3);
	} else if (in->mem_index >= 0) {
		unsigned idx = (unsigned)in->mem_index;
		modrm = (uint8_t)(0x04 | (reg << 3));
		sib = (uint8_t)((b[in->sib_offset] & 0xc0) | ((idx & 7) << 3) | (r & 7));
		nrex |= ((idx >> 3) << 1) | (r >> 3);
	} else {
		modrm = (uint8_t)(0x00 | (reg << 3) | (r & 7));
		has_sib = false;
		nrex |= r >> 3;
	}
	for (; u->cand < IMM_CANDIDATES * RED_ZONE_SKIPS; u->cand++) {
		/* Outside the kernel, each value first with the shortest red
		 * zone skip, then longer ones (as scratch). */
		unsigned skip = w->kernel ? 0 : red_zone_skips[u->cand % RED_ZONE_SKIPS];
		unsigned cand = w->kernel ? u->cand : u->cand / RED_ZONE_SKIPS;
		int64_t disp = disp0 + (in->mem_base == 4 ? frame_depth(skip, false) : 0);
		int32_t lb;
		enum pvsub_x86enc_twist tw;
		if ((w->kernel && u->cand >= IMM_CANDIDATES) ||
		    !imm_candidate(cand, true, false, (uint64_t)disp, &lb, &tw))
			continue;
		uint8_t seq[MAX_SEQ + 16];
		struct frame f;
		unsigned n = frame_open(&f, seq, r, skip, false), end, tail;
		unsigned ml = pvsub_x86enc_imm_lea(seq + n, r, true, false, (uint64_t)disp, lb, tw);
		if (ml == 0)
			continue;
		n += ml;
		unsigned insn_at = n;
		memcpy(seq + n, b, npfx);
		n += npfx;
		if (nrex)
			seq[n++] = (uint8_t)(0x40 | nrex);
		memcpy(seq + n, b + in->opcode_offset, ms - in->opcode_offset);
		n += ms - in->opcode_offset;
		seq[n++] = modrm;
		if (has_sib)
			seq[n++] = sib;
		if (has_d8)
			seq[n++] = d8;
		tail = n;
		memcpy(seq + n, b + me, in->len - me);
		n += in->len - me;
		end = n;
		n = frame_close(&f, seq, n);
		if (n > MAX_SEQ || rw_has_pattern(w, seq, n))
			continue;
		frame_commit(u, &f, RULE_SCRATCH_DISP, seq, n, (int)insn_at);
		carry_field(u, tail + ((unsigned)u->reloc_at - me), end);
		return true;
	}
	return false;
}

/*
 * call-r11: `call *disp(base[,index,s])` with the pattern in disp: `lea
 * d(base), base; mov disp-d(base[,index,s]), %r11; lea -d(base), base;
 * call *%r11`.  The x86-64 psABI makes r11 a temporary that no call takes
 * as input and every call may clobber, so it is free at a call; the base is
 * restored before the callee runs.  Only `call` (a `jmp` through memory
 * may be a jump table inside the function, where r11 can be live).
 */
static bool fix_call_r11(const struct rw *w, struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	unsigned rex = pvsub_x86enc_rex(b, in), npfx = in->opcode_offset - (rex ? 1u : 0u);
	if (!in->regs_known || in->opcode_len != 1 || b[in->opcode_offset] != 0xff ||
	    in->modrm_offset < 0 || ((b[in->modrm_offset] >> 3) & 7) != 2 ||
	    (b[in->modrm_offset] >> 6) == 3 || in->disp_offset < 0 || in->mem_base < 0 ||
	    in->mem_base > 15 || in->mem_base == 11 || in->mem_index == 11 ||
	    in->mem_index == in->mem_base || !reg_may_move(w, s, u, (unsigned)in->mem_base))
		return false;
	/* Only segment and notrack/branch-hint prefixes (no 66, no 67). */
	if (!prefixes_among(b, npfx, SEGMENT_PREFIXES))
		return false;
	unsigned base = (unsigned)in->mem_base, ms = (unsigned)in->modrm_offset;
	int64_t disp = rw_get_sle(b + in->disp_offset, in->disp_size);
	for (; u->cand < 4096; u->cand++) {
		int32_t d = lea_candidate(u->cand);
		int64_t d2 = disp - d;
		if (!rw_fits(d2, in->disp_size))
			continue;
		uint8_t seq[MAX_SEQ];
		unsigned n = pvsub_x86enc_lea(seq, base, d, true);
		memcpy(seq + n, b, npfx); /* segment override of the load */
		n += npfx;
		seq[n++] = (uint8_t)(0x4c | (rex & 3)); /* W, R (r11), X and B of the operand */
		seq[n++] = 0x8b;
		size_t at = n;
		memcpy(seq + n, b + ms, in->len - ms);
		seq[at] = (uint8_t)((seq[at] & 0xc7) | (3u << 3));
		rw_put_le(seq + at + (in->disp_offset - (int)ms), (uint64_t)d2, in->disp_size);
		n += in->len - ms;
		n += pvsub_x86enc_lea(seq + n, base, -d, true);
		seq[n++] = 0x41;
		seq[n++] = 0xff;
		seq[n++] = 0xd3; /* call *%r11 */
		if (n > MAX_SEQ || rw_has_pattern(w, seq, n))
			continue;
		set_rule(u, RULE_CALL_R11, seq, n);
		u->cand++;
		return true;
	}
	return false;
}

/*
 * load-dest: a load into a whole general register whose displacement holds
 * the pattern -- mov, movzx, movsx, movsxd or lea into a 32- or 64-bit
 * register -- uses that register, which it overwrites anyway, as the
 * scratch: `lea disp-d(base,index,s), dst64; the load from d(dst64)`.  The
 * address is the same, and so are its segment, width and fault; lea
 * changes no flags.  Nothing is pushed and no other register changes, so
 * it works where the stack may not move.  Not into rsp (the stack would
 * point elsewhere for a moment), nor a register the unwinder reads, nor
 * for an exception-table site (its fixup would see the address in dst).
 */
static bool fix_load_dest(const struct rw *w, struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	unsigned rex = pvsub_x86enc_rex(b, in), npfx = in->opcode_offset - (rex ? 1u : 0u);
	if (!disp_may_change(b, in) || in->mem_operands != 1 || in->mem_base < 0 ||
	    in->mem_base > 15 || u->has_reloc || in->modrm_offset < 0 || in->imm_offset >= 0)
		return false;
	/* Segment prefixes only: no operand or address size, no lock or rep. */
	if (!prefixes_among(b, npfx, SEGMENT_PREFIXES))
		return false;
	const uint8_t *op = b + in->opcode_offset;
	bool known = (in->opcode_len == 1 &&
		      (op[0] == 0x8b || op[0] == 0x8d || (op[0] == 0x63 && (rex & 8)))) ||
		     (in->opcode_len == 2 && op[0] == 0x0f &&
		      (op[1] == 0xb6 || op[1] == 0xb7 || op[1] == 0xbe || op[1] == 0xbf));
	unsigned ms = (unsigned)in->modrm_offset;
	unsigned dst = ((b[ms] >> 3) & 7u) | (((rex >> 2) & 1u) << 3);
	if (!known || dst == 4 || in->gpr_operands != (1u << dst) || in->gpr_implicit ||
	    (unwind_regs(w, s, u) & (1u << dst)))
		return false;
	int64_t disp = rw_get_sle(b + in->disp_offset, in->disp_size);
	for (; u->cand < 4096; u->cand++) {
		int32_t d = lea_candidate(u->cand);
		uint8_t seq[MAX_SEQ + 16];
		unsigned at, n = 0;
		/* lea disp-d(mem), dst64: REX.W, R for dst, X and B as they were */
		seq[n++] = (uint8_t)(0x48 | ((dst >> 3) << 2) | (rex & 3u));
		seq[n++] = 0x8d;
		unsigned k = pvsub_x86enc_mem_insn(seq + n, b, in, ms, disp - d, (int)dst, &at);
		if (k == 0)
			continue;
		n += k;
		/* the load itself, from d(dst64) */
		unsigned insn_at = n;
		memcpy(seq + n, b, npfx);
		n += npfx;
		unsigned nrex = (rex & 8u) | ((dst >> 3) << 2) | (dst >> 3);
		if (nrex)
			seq[n++] = (uint8_t)(0x40 | nrex);
		memcpy(seq + n, op, in->opcode_len);
		n += in->opcode_len;
		n += pvsub_x86enc_base_disp(seq + n, dst, dst, d);
		if (n > MAX_SEQ || rw_has_pattern(w, seq, n))
			continue;
		set_rule(u, RULE_LOAD_DEST, seq, n);
		u->insn_at = (int8_t)insn_at;
		u->cand++;
		return true;
	}
	return false;
}

/*
 * push-imm: `push $imm` (sign-extended to 64 bits) with the pattern in its
 * immediate: `push %r; push %r; mov $imm, %r (built as in imm-lea); mov %r,
 * 8(%rsp); pop %r`.  The stack ends as after the push (one word lower,
 * holding imm), %r and the flags as they were.  The second push writes the
 * word below the final stack pointer, where outside the kernel a red zone
 * may hold live data: kernel objects only.  ORC entries describe the
 * stack one and two words lower.
 */
static bool fix_push_imm(const struct rw *w, struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	if (!w->kernel || in->opcode_offset != 0 || in->opcode_len != 1 ||
	    (b[0] != 0x68 && b[0] != 0x6a) || u->has_reloc || !stack_may_move(w, s, u))
		return false;
	unsigned r = free_register(w, s, u, 1u << 4);
	if (r == 16)
		return false;
	uint64_t value = (uint64_t)rw_get_sle(b + in->imm_offset, in->imm_size);
	for (; u->cand < IMM_CANDIDATES; u->cand++) {
		int32_t lb;
		enum pvsub_x86enc_twist tw;
		if (!imm_candidate(u->cand, true, false, value, &lb, &tw))
			continue;
		uint8_t seq[MAX_SEQ + 16];
		struct frame f;
		unsigned n = frame_open(&f, seq, r, 0, true);
		unsigned ml = pvsub_x86enc_imm_lea(seq + n, r, true, false, value, lb, tw);
		if (ml == 0)
			continue;
		n = frame_close(&f, seq, n + ml);
		if (n > MAX_SEQ || rw_has_pattern(w, seq, n))
			continue;
		return frame_commit(u, &f, RULE_PUSH_IMM, seq, n, -1);
	}
	return false;
}

/*
 * push-mem: `push qword ptr [mem]` with the pattern in its displacement:
 * as push-imm, with the word loaded into %r from the same address (an
 * rsp-based one 16 bytes further, past the two pushes): `mov disp(mem), %r`,
 * or, when that displacement still holds a pattern, `lea disp-d(mem), %r;
 * mov d(%r), %r`.  Kernel objects only (see push-imm); not for an
 * exception-table site (the load moves).
 */
static bool fix_push_mem(const struct rw *w, struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	unsigned rex = pvsub_x86enc_rex(b, in), npfx = in->opcode_offset - (rex ? 1u : 0u);
	if (!w->kernel || in->opcode_len != 1 || b[in->opcode_offset] != 0xff ||
	    in->modrm_offset < 0 || ((b[in->modrm_offset] >> 3) & 7) != 6 ||
	    (b[in->modrm_offset] >> 6) == 3 || !disp_may_change(b, in) || in->mem_base < 0 ||
	    in->mem_base > 15 || u->has_reloc || (rex & 8) || !stack_may_move(w, s, u))
		return false;
	if (!prefixes_among(b, npfx, SEGMENT_PREFIXES))
		return false;
	uint16_t used = (uint16_t)((1u << 4) | (1u << in->mem_base));
	if (in->mem_index >= 0)
		used |= (uint16_t)(1u << in->mem_index);
	unsigned r = free_register(w, s, u, used), ms = (unsigned)in->modrm_offset;
	if (r == 16)
		return false;
	int64_t disp = rw_get_sle(b + in->disp_offset, in->disp_size) +
		       (in->mem_base == 4 ? frame_depth(0, true) : 0);
	for (; u->cand < 4096; u->cand++) {
		int32_t d = u->cand ? lea_candidate(u->cand - 1) : 0;
		uint8_t seq[MAX_SEQ + 32];
		struct frame f;
		unsigned n = frame_open(&f, seq, r, 0, true), at, insn_at;
		unsigned xb = rex & 3u; /* X and B of the operand */
		if (d) {
			/* lea disp-d(mem), %r */
			seq[n++] = (uint8_t)(0x48 | ((r >> 3) << 2) | xb);
			seq[n++] = 0x8d;
			unsigned k =
				pvsub_x86enc_mem_insn(seq + n, b, in, ms, disp - d, (int)r, &at);
			if (k == 0)
				continue;
			n += k;
		}
		/* mov (d(%r) or disp(mem)), %r, with the segment of the push */
		insn_at = n;
		memcpy(seq + n, b, npfx);
		n += npfx;
		if (d) {
			seq[n++] = (uint8_t)(0x48 | ((r >> 3) << 2) | (r >> 3));
			seq[n++] = 0x8b;
			n += pvsub_x86enc_base_disp(seq + n, r, r, d);
		} else {
			seq[n++] = (uint8_t)(0x48 | ((r >> 3) << 2) | xb);
			seq[n++] = 0x8b;
			unsigned k = pvsub_x86enc_mem_insn(seq + n, b, in, ms, disp, (int)r, &at);
			if (k == 0)
				continue;
			n += k;
		}
		n = frame_close(&f, seq, n);
		if (n > MAX_SEQ || rw_has_pattern(w, seq, n))
			continue;
		return frame_commit(u, &f, RULE_PUSH_MEM, seq, n, (int)insn_at);
	}
	return false;
}

/*
 * and-btr: `and $imm32, reg` whose every two-way split (alu-split) still
 * holds a pattern -- a mask with few clear bits, say -512 -- and whose
 * flags are dead (see flags_dead_after): `and $x, reg` with x keeping one
 * to three of the bits imm clears (or up to six, when x fits in a
 * sign-extended byte), then `btr $k, reg` for each of them.
 * The value is the same; the flags are not (btr leaves ZF and sets CF),
 * hence the condition.  Each step only clears bits, so the stack pointer
 * only ever moves down; a register the unwinder reads is not used, nor
 * rsp when the frame is computed from it.
 */
static bool fix_and_btr(const struct rw *w, struct rw_sect *s, size_t i)
{
	struct rw_unit *u = &s->u[i];
	const struct pvsub_insn *in = &u->in;
	const uint8_t *b = s->in + u->off;
	unsigned rex = pvsub_x86enc_rex(b, in);
	if (in->opcode_offset != (rex ? 1u : 0u) || in->opcode_len != 1 ||
	    b[in->opcode_offset] != 0x81 || in->modrm_offset < 0 ||
	    (b[in->modrm_offset] & 0xf8) != 0xe0 || in->imm_size != 4 || !in->regs_known)
		return false;
	unsigned reg = (b[in->modrm_offset] & 7u) | ((rex & 1u) << 3);
	/* Aligning a stack whose frame is computed from rsp: the next
	 * instruction's entry, which must not read rsp (the frame is already
	 * in another register, as gcc and the kernel's assembler keep it),
	 * describes the stack from the first step on. */
	bool next_entry = reg == 4 && (unwind_regs(w, s, u) & (1u << 4)) &&
			  orc_entry_starts(w, s->idx, u->off + in->len) &&
			  !(unwind_regs_at(w, s, u->off + in->len) & (1u << 4));
	uint16_t busy = unwind_regs(w, s, u) & (uint16_t) ~(next_entry ? 1u << 4 : 0u);
	if ((busy & (1u << reg)) || !flags_dead_after(s, i))
		return false;
	uint32_t imm = (uint32_t)rw_get_sle(b + in->imm_offset, 4);
	uint32_t clear = ~imm & 0x7fffffffu; /* bits x may keep, to be cleared by btr */
	unsigned bits[31], nb = 0;
	for (unsigned k = 0; k < 31; k++)
		if (clear & (1u << k))
			bits[nb++] = k;
	/* Candidates: x keeping one clear bit, two, three; then the short
	 * forms x = -128 ... -1 (and $imm8) that keep at most six. */
	const unsigned singles = 31, pairs = 31 * 31, triples = 31 * 31 * 31;
	for (; u->cand < singles + pairs + triples + 128; u->cand++) {
		unsigned c = u->cand, pick[6], np = 0;
		uint32_t x = imm;
		bool short_form = false;
		if (c < singles + pairs + triples) {
			if (c < singles) {
				pick[np++] = c;
			} else if (c < singles + pairs) {
				c -= singles;
				pick[np++] = c / 31;
				pick[np++] = c % 31;
			} else {
				c -= singles + pairs;
				pick[np++] = c / (31 * 31);
				pick[np++] = (c / 31) % 31;
				pick[np++] = c % 31;
			}
			bool ok = true;
			for (unsigned k = 0; k < np; k++)
				ok = ok && pick[k] < nb && (k == 0 || pick[k] > pick[k - 1]);
			if (!ok)
				continue;
			for (unsigned k = 0; k < np; k++) {
				x |= 1u << bits[pick[k]];
				pick[k] = bits[pick[k]];
			}
		} else {
			/* -128 first: it leaves the fewest bits to btr */
			x = (uint32_t)(-128 + (int32_t)(c - (singles + pairs + triples)));
			uint32_t extra = x & ~imm;
			if ((x & imm) != imm || (extra & 0x80000000u))
				continue;
			for (unsigned k = 0; k < 31 && np < 6; k++)
				if (extra & (1u << k))
					pick[np++] = k;
			if (__builtin_popcount(extra) > 6)
				continue;
			short_form = true;
		}
		uint8_t seq[MAX_SEQ];
		unsigned n = 0;
		if (rex & 9)
			seq[n++] = (uint8_t)(0x40 | (rex & 9));
		seq[n++] = short_form ? 0x83 : 0x81;
		seq[n++] = (uint8_t)(0xe0 | (reg & 7));
		rw_put_le(seq + n, x, short_form ? 1 : 4);
		n += short_form ? 1 : 4;
		unsigned first_len = n;
		for (unsigned k = 0; k < np; k++) {
			if (rex & 9)
				seq[n++] = (uint8_t)(0x40 | (rex & 9));
			seq[n++] = 0x0f;
			seq[n++] = 0xba;
			seq[n++] = (uint8_t)(0xf0 | (reg & 7)); /* btr $k, reg */
			seq[n++] = (uint8_t)pick[k];
		}
		if (rw_has_pattern(w, seq, n))
			continue;
		set_rule(u, RULE_AND_BTR, seq, n);
		if (next_entry)
			note_orc_next(u, first_len);
		u->cand++;
		return true;
	}
	return false;
}

/* --- the table --------------------------------------------------------------- */

/* clang-format off */
const struct rw_rule_entry rw_rule_table[] = {
	/* the immediate of an instruction without relocation: built otherwise */
	{RULE_IMM_LEA,      RW_NO_RELOC | RW_IN_IMM,                fix_imm_lea},
	{RULE_ALU_SPLIT,    RW_NO_RELOC | RW_SEQUENCE | RW_IN_IMM,  fix_alu_split},
	/* a displacement: the address reached another way */
	{RULE_LOAD_DEST,    RW_SEQUENCE | RW_IN_DISP,               fix_load_dest},
	{RULE_DISP_REBASE,  RW_SEQUENCE | RW_IN_DISP,               fix_disp_rebase},
	{RULE_SP_REBASE,    RW_SEQUENCE | RW_IN_DISP,               fix_sp_rebase},
	{RULE_BP_REBASE,    RW_SEQUENCE | RW_IN_DISP,               fix_bp_rebase},
	{RULE_CALL_R11,     RW_NO_RELOC | RW_SEQUENCE | RW_IN_DISP, fix_call_r11},
	{RULE_SCRATCH_DISP, RW_SEQUENCE | RW_IN_DISP,               fix_scratch_disp},
	/* an immediate whose flags are dead */
	{RULE_LEA_ARITH,    RW_NO_RELOC | RW_IN_IMM,                fix_lea_arith},
	/* any occurrence in an instruction with an immediate: scratch moves
	 * the immediate to a register and, if need be, rebases the operand */
	{RULE_SCRATCH,      RW_SEQUENCE | RW_HAS_IMM,               fix_scratch},
	{RULE_PUSH_IMM,     RW_SEQUENCE | RW_HAS_IMM,               fix_push_imm},
	{RULE_AND_BTR,      RW_NO_RELOC | RW_HAS_IMM,               fix_and_btr},
	{RULE_PUSH_MEM,     RW_SEQUENCE | RW_HAS_DISP,              fix_push_mem},
};
/* clang-format on */
const size_t rw_rule_count = PVSUB_ARRAY_SIZE(rw_rule_table);

bool rw_rule_applies(const struct rw_rule_entry *r, const struct rw_unit *u, unsigned rel,
		     unsigned len)
{
	const struct pvsub_insn *in = &u->in;
	bool imm = in->imm_offset >= 0, disp = in->disp_offset >= 0;
	if ((r->when & RW_NO_RELOC) && u->has_reloc)
		return false;
	if ((r->when & RW_SEQUENCE) && u->one_insn)
		return false;
	if ((r->when & RW_HAS_IMM) && !imm)
		return false;
	if ((r->when & RW_IN_IMM) && !(imm && rel + len > (unsigned)in->imm_offset))
		return false;
	if ((r->when & RW_HAS_DISP) && !disp)
		return false;
	if ((r->when & RW_IN_DISP) && !(disp && rel < (unsigned)(in->disp_offset + in->disp_size)))
		return false;
	return true;
}

const struct rw_rule_entry *rw_rule_find(enum rw_rule rule)
{
	for (size_t k = 0; k < rw_rule_count; k++)
		if (rw_rule_table[k].rule == rule)
			return &rw_rule_table[k];
	return NULL;
}
