/* SPDX-License-Identifier: MIT */
/*
 * rewrite: opcode subtraction for relocatable objects (DESIGN §5
 * "Rewriting").
 *
 * The rewriter is a careful reassembler.  Every executable section with an
 * occurrence it must remove is decoded completely; each occurrence is then
 * removed by a rule:
 *
 *   nop-split   an occurrence across two instructions: NOP padding between
 *   rel-adjust  in the displacement of an intra-section branch or RIP-relative
 *               operand: padding moves the code so the displacement changes
 *   jump-island the same, when that padding would be long: the branch goes
 *               through `jmp target` placed after the section's last
 *               unconditional jump, moved by its own int3 padding
 *   imm-lea     in the immediate of `mov $imm, reg`: `mov $a, reg;
 *               lea b(reg), reg` with a + b = imm (no flag, stack or other
 *               register changes)
 *   alu-split   and/or/xor $imm, reg as two operations of the same kind
 *   load-dest   in the displacement of a load into a whole register: the
 *               address built in that destination first
 *   disp-rebase in a displacement: the base (or index) register moved by
 *               lea before and back after
 *   sp-rebase   the same for rsp, which only ever moves down
 *   bp-rebase   the same for rbp where the unwinder reads it (ORC entries)
 *   call-r11    call *disp(base): the target loaded into r11 first
 *   scratch-disp a displacement with a free base or index slot: the value
 *               built in a pushed register used in that slot
 *   and-btr     and $imm, reg with dead flags: a wider mask, then btr
 *   lea-arith   add/sub $imm, reg whose flags are dead: lea, or short leas
 *   scratch     any other immediate: push a free register, build the value
 *               in it, the register form of the instruction, pop (the base
 *               moved too when the displacement holds a pattern)
 *   push-imm    push $imm / push (mem), kernel objects: the word built in a
 *   push-mem    pushed register and stored over a second pushed copy
 *   int3-tail   an occurrence across the end of a section ending with an
 *               unconditional jump: one int3 after it
 *   trap        a real gate instruction under an on-instruction="trap" policy:
 *               `ud2`, padded with int3 to the same length
 *
 * No rule changes a register the ORC unwinder reads there, even for a
 * moment, except sp-rebase and bp-rebase, which add ORC entries.
 * and the code after it shifts.  Then every intra-section relative branch
 * and RIP-relative operand is re-encoded (rel8 promoted to rel32 until a
 * fixpoint), and every relocation, symbol and metadata entry that points
 * into a changed section is moved.  The new bytes are searched again; new
 * occurrences (a shifted displacement can create one) are removed the same
 * way, for a bounded number of rounds.
 *
 * Nothing is guessed: a site with no rule, a section that does not decode
 * completely, a relocation that is not an instruction's displacement or
 * immediate (R_X86_64_NONE is carried), a PC-relative data reference
 * into changed code that is not an entry of a proven switch table (those
 * are moved: rewrite.c, find_jump_tables), .eh_frame in a form the rewriter
 * does not read (otherwise its FDEs and CFA rows are moved with the code:
 * rewrite.c, rewrite_eh_frame), or a mutable window (kmeta.h) that would have to
 * change is a refusal, with the site and the reason; the lock prefix of an
 * .smp_locks site is the one window that may move with its instruction.
 * The analysis goes on after a refusal so that every blocking site is
 * named.  An object with a refusal is not written at all.
 * Occurrences that overlap a relocation window or lie inside a mutable
 * window are left as they are (fixed-size patch sites stay intact, DESIGN
 * §5).  The output is accepted only when its verdict certifies (certify.h):
 * an occurrence left in a relocation window makes it certified with
 * load-time checks; one in a mutable window, or one that forms there only
 * when the kernel patches it (wverdict.h), is a refusal.
 *
 * What the kernel writes is steered, never changed: a jump label whose
 * target is in its section becomes `jmp target` when patched, so where that
 * jmp would form a pattern with the bytes around it, code between the site
 * and its target is padded by the least that makes it clean (rel-adjust,
 * class patch-site; a 2-byte site's rel8 is kept in reach, and no padding
 * may take it out of reach).  Where the rescan still finds a pattern that
 * forms only when patched, with bytes in front of or after a window, the
 * object is rewritten again with NOP padding in front of the site and in
 * front of the instruction after it (nop-split, class patch-site), one byte
 * more per attempt and side, up to a bound; the rescan decides each time.
 */
#ifndef PVSUB_REWRITE_H
#define PVSUB_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/certify.h"
#include "libpvsub/classify.h"
#include "libpvsub/policy.h"
#include "libpvsub/scan.h"
#include "libpvsub/search.h"
#include "libpvsub/util.h"
#include "libpvsub/x86.h"

/* Longest replacement sequence of one instruction. */
#define PVSUB_REWRITE_MAX_SEQ 40

/* One change the rewriter made for an occurrence. */
struct pvsub_rewrite_site {
	char *section;
	uint64_t offset;     /* the occurrence, in the input section */
	uint64_t new_offset; /* where the changed instruction starts in the output */
	const char *pattern; /* pattern id (points into the policy) */
	enum pvsub_class cls;
	char field[48]; /* EMBEDDED: the field(s) */
	const char *rule;
	unsigned round;			  /* 0: in the input; n: created by round n-1's shifts */
	uint8_t bytes[PVSUB_PATTERN_MAX]; /* the occurrence's bytes */
	uint8_t len;
	uint8_t insn[PVSUB_X86_MAX_INSN]; /* the original instruction changed */
	uint8_t insn_len;
	uint8_t new_insn[PVSUB_REWRITE_MAX_SEQ]; /* what it became (padding not included) */
	uint8_t new_len;
	uint16_t padding; /* NOP bytes now in front of it */
};

/*
 * A site that cannot be changed safely: an occurrence (@pattern set) or
 * something that blocks every change (a table that cannot be read, a
 * relocation that cannot be moved: @pattern NULL).  When a whole section
 * cannot be changed, each of its occurrences is listed with that reason.
 * What the rescan of an output still finds is named where it is in the
 * output (the reason says so); everything else where it is in the input.
 */
struct pvsub_rewrite_refusal {
	char *section;
	uint64_t offset;     /* in the input section (see above) */
	const char *pattern; /* pattern id (points into the policy), or NULL */
	char reason[200];
};

struct pvsub_rewrite_result {
	uint8_t *data; /* the rewritten object; NULL when anything was refused */
	size_t size;
	uint64_t size_before;		  /* input bytes, signature included */
	uint64_t code_before, code_after; /* bytes of the changed sections */
	bool modsig_stripped;
	unsigned rounds;
	struct pvsub_rewrite_site *sites;
	size_t n_sites;
	struct pvsub_rewrite_refusal *refusals;
	size_t n_refusals;
	/* The scan of the output when one was made (it holds only occurrences
	 * in relocation windows), else of the input: what a report shows for
	 * the file. */
	struct pvsub_scan_result *scan;
	/* Its verdict is pvsub_verdict_of_file(@scan, this): REJECTED when
	 * anything was refused (@data is NULL), else the output's, which then
	 * certifies. */
};

struct pvsub_rewrite_opts {
	const struct pvsub_policy *policy;
	const struct pvsub_matcher *matcher; /* built from @policy */
	struct pvsub_decoder *decoder;	     /* per thread */
	/* How result->scan is made (pvsub_scan_opts). */
	bool deep;
	bool hashes;
	/* Tests only: do not steer what the kernel's patching writes (see
	 * pvsub_rewrite_buffer()); an occurrence that forms only when patched
	 * is then refused as it was found. */
	bool no_steer;
};

/* The rule names (what pvsub_rewrite_site.rule points at), in a fixed
 * order; NULL-terminated. */
extern const char *const pvsub_rewrite_rules[];

/*
 * Rewrite the object in @size bytes at @data.  -EINVAL with a one-line
 * reason for input that is not an ET_REL object pvsub can read (an ET_DYN
 * or ET_EXEC file, a broken ELF), -ENOMEM.  Otherwise 0 and a result that
 * either holds the new object or lists why it could not be made.  An object
 * with nothing to change is returned byte for byte, signature included,
 * whatever its kernel tables hold (they are read only when a change needs
 * them).
 *
 * The output (or, with nothing to change, the input as it is) is accepted
 * only when the verdict of its rescan certifies: no layout violation, no
 * occurrence outside relocation windows.  Everything else is a refusal,
 * each blocking site named; an occurrence in a kernel mutable window with
 * the reason "inside a kernel mutable window (KIND[, only when patched]):
 * the kernel writes those bytes", once steering (above) has been tried.
 */
int pvsub_rewrite_buffer(const struct pvsub_rewrite_opts *opts, const uint8_t *data, size_t size,
			 struct pvsub_rewrite_result **out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 2, 4);

void pvsub_rewrite_result_free(struct pvsub_rewrite_result *r);

/*
 * The verdict of a file as pvsub-scan reports it: that of its scan @r.
 * After pvsub_rewrite_buffer() (@rw, with @r its rw->scan, which the caller
 * may have taken over): REJECTED when the rewriter refused the object
 * (nothing is written), else that of @r, the output's rescan, which the
 * rewriter accepted only because it certifies.
 */
enum pvsub_verdict pvsub_verdict_of_file(const struct pvsub_scan_result *r,
					 const struct pvsub_rewrite_result *rw) _nonnull_(1);

#endif
