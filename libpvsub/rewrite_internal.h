/* SPDX-License-Identifier: MIT */
/*
 * rewrite_internal: the rewriter's model, shared by rewrite.c (sections,
 * layout, rounds, the object's relocations, symbols and tables) and
 * rewrite_rules.c (what one instruction becomes).  Not part of the
 * library's interface.
 *
 * Layering: rewrite (rewrite.c, rewrite_rules.c and this header, one
 * module) is the top of util <- modsig <- reloc <- relobj <- kmeta <- image
 * <- classify <- scan <- rewrite: it reads and writes objects through
 * relobj, relocation types through reloc, and takes the kernel windows from
 * its scan of the input.
 */
#ifndef PVSUB_REWRITE_INTERNAL_H
#define PVSUB_REWRITE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/kmeta.h"
#include "libpvsub/relobj.h"
#include "libpvsub/rewrite.h"
#include "libpvsub/scan.h"
#include "libpvsub/x86.h"

#define MAX_SEQ PVSUB_REWRITE_MAX_SEQ

/*
 * What the rewriter does for an occurrence, in the order of
 * pvsub_rewrite_rules[] (the names, which these index); RULE_NONE last: a
 * unit whose instruction is left as it is.  A unit's own rule (unit.rule)
 * is one that replaced its instruction by a sequence: trap or one of
 * rw_rule_table[].
 */
enum rw_rule {
	RULE_NOP_SPLIT,
	RULE_REL_ADJUST,
	RULE_IMM_LEA,
	RULE_TRAP,
	RULE_ALU_SPLIT,
	RULE_DISP_REBASE,
	RULE_SP_REBASE,
	RULE_SCRATCH,
	RULE_LEA_ARITH,
	RULE_SCRATCH_DISP,
	RULE_CALL_R11,
	RULE_INT3_TAIL,
	RULE_LOAD_DEST,
	RULE_BP_REBASE,
	RULE_PUSH_IMM,
	RULE_PUSH_MEM,
	RULE_AND_BTR,
	RULE_JUMP_ISLAND,
	RULE_NONE,
};

enum rw_rel_kind {
	REL_NONE,
	REL_JMP,   /* eb / e9 */
	REL_JCC,   /* 7x / 0f 8x */
	REL_CALL,  /* e8 */
	REL_LOOP,  /* e0-e3: loop*, jrcxz; rel8 only */
	REL_OTHER, /* xbegin and friends: rel32 in the immediate */
	REL_RIP,   /* RIP-relative disp32 */
};

#define MAX_ORC_NOTES 6

struct rw_orc_note {
	uint8_t at; /* offset in the unit's sequence */
	int32_t sp_delta, bp_delta;
	bool next; /* instead: the entry of the instruction after the unit */
};

struct rw_unit {
	uint64_t off; /* in the input section */
	struct pvsub_insn in;
	enum rw_rel_kind rk;
	bool rel_has_reloc; /* the relative field is relocated: not ours to fix */
	bool has_reloc;	    /* any relocation inside */
	bool fixed;	    /* overlaps a mutable window: bytes and size stay */
	bool no_pad;	    /* starts strictly inside a mutable window */
	bool long_form;	    /* rel8 branch promoted to rel32 */
	bool one_insn;	    /* an exception-table site: may not become a sequence */
	bool lock_site;	    /* its lock prefix is an .smp_locks window (moves with it) */
	bool eh_fde;	    /* inside the range of an FDE already (the .eh_frame pass) */
	bool resumes;	    /* a trap a table names (a WARN's ud2): may resume after it */
	int8_t reloc_at;    /* offset of its one relocated field, -1 none, -2 several */
	/* A rule that carries the relocated field: where it is in seq, and
	 * where the instruction holding it ends there. */
	int8_t fld_old;
	uint8_t fld_new, fld_end;
	int64_t target;	 /* REL_* without relocation: target in the input section */
	uint32_t island; /* 1 + the jump island it reaches its target through, 0: none */
	uint32_t near;	 /* 1 + the jump island placed right after it, 0: none */
	uint16_t pad;
	uint8_t padv; /* NOP variant */
	enum rw_rule rule;
	unsigned cand; /* next candidate for the rule's parameters */
	uint8_t seq[MAX_SEQ];
	uint8_t seq_len;
	/* Where the sequence moves the stack or rbp: from orc[k].at on, the
	 * stack pointer is sp_delta bytes lower and rbp bp_delta bytes higher
	 * than the unit's unwind entry says (ORC entries are added for them;
	 * zero deltas: the entry itself again). */
	struct rw_orc_note orc[MAX_ORC_NOTES];
	uint8_t n_orc;
	/* Where in seq the copy of the original instruction starts, prefixes
	 * included (its lock prefix, its fault), -1 when there is none. */
	int8_t insn_at;
	uint8_t enc_len;
	/* The layout as last placed: a round judges every occurrence against
	 * it, while its fixes change pad and enc_len for the next round. */
	uint64_t nstart; /* output offset of the padding */
	uint16_t lay_pad;
	uint8_t lay_len;
};

/* A jump island: `jmp target` placed after a section's last instruction,
 * for a branch whose own displacement to the target would need too much
 * padding to lose a pattern, or (a near island) right after an instruction
 * that never falls through, for one that no padding can clean (rewrite.c,
 * jump-island); for a 2-byte jump label with no such instruction in reach,
 * after one that may fall through, behind a hop (`jmp rel8` over it).  A
 * near island counts as padding in front of the unit after it for
 * map_pad: it lies in no FDE. */
struct rw_island {
	int64_t target;	 /* in the input section */
	size_t unit;	 /* the branch that goes through it */
	size_t after;	 /* the unit it follows; the section's unit count: the end */
	uint16_t pad;	 /* int3 bytes in front of it */
	bool label;	 /* for a 2-byte jump label: its start within rel8 reach */
	bool hop;	 /* after a unit that may fall through: jmp rel8 over it first */
	uint64_t nstart; /* where it (its hop, its padding) starts, as last placed */
};

/* A rel8 jump whose target must stay within its reach: a branch that
 * cannot be made longer, or a 2-byte jump-label site, where the kernel
 * writes `jmp rel8` to the entry's target. */
struct rw_short {
	size_t unit;
	int64_t target; /* in the input section */
	bool label;	/* a jump label's (its entry's target), not a branch's */
};

struct rw_sect {
	size_t idx;
	const char *name;
	const uint8_t *in; /* input bytes */
	size_t size;
	bool decoded;
	bool rewrite;
	struct rw_unit *u;
	size_t n;
	size_t rela; /* its SHT_RELA section, 0 if none */
	struct pvsub_buf out;
	uint64_t new_size; /* tail included */
	uint64_t code_end; /* end of the last unit in the output (islands follow) */
	struct rw_island *isl;
	size_t n_isl;
	struct rw_short *shorts; /* rel8 jumps that cannot grow */
	size_t n_shorts;
	/* The ranges of the .eh_frame FDEs that describe it, as far as a first
	 * look can tell (rewrite.c, read_fde_ranges()), sorted by start, each
	 * [start, the greatest end of it and those before it); no near jump
	 * island goes inside one.  fde_unknown: .eh_frame could not be read,
	 * so none goes anywhere. */
	uint64_t (*fde)[2];
	size_t n_fde;
	bool fde_unknown;
	/* The units a near jump island may follow as far as the input tells,
	 * in order (rewrite.c, find_near_spots()); the layout decides the
	 * rest. */
	size_t *spots;
	size_t n_spots;
	uint64_t last_site; /* input offset of the last instruction acted on */
	/* An occurrence the input forms across the section's end (a junction
	 * finding of the scan): int3 bytes appended after the last
	 * instruction (int3-tail), where it was, and what. */
	unsigned tail;
	uint64_t tail_site;
	const char *tail_pattern;
	uint8_t tail_bytes[PVSUB_PATTERN_MAX];
	uint8_t tail_len;
};

/* The ORC tables (Linux 6.1 struct orc_entry: s16 sp_offset, s16
 * bp_offset, then sp_reg:4, bp_reg:4, type:2, end:1). */
#define ORC_ENTRY_SIZE 6
#define ORC_REG_UNDEFINED 0
#define ORC_REG_PREV_SP 1
#define ORC_REG_DX 2
#define ORC_REG_DI 3
#define ORC_REG_BP 4
#define ORC_REG_SP 5
#define ORC_REG_R10 6
#define ORC_REG_R13 7
#define ORC_REG_BP_INDIRECT 8
#define ORC_REG_SP_INDIRECT 9

struct rw_orc_ref {
	size_t section;	 /* code section */
	uint64_t offset; /* input offset */
	size_t entry;	 /* index into .orc_unwind */
};

/* A switch table proven to be one (rewrite.c, find_jump_tables): 4-byte
 * entries `.long case - base` from @base to @end of data section @sec,
 * whose base only `lea base(%rip)` in code refers to. */
struct rw_jtab {
	size_t sec;
	uint64_t base, end;
};

/* A kernel mutable window next to which an earlier attempt's output formed
 * a pattern only when patched: NOP padding in front of its instruction
 * (@before bytes) and in front of the instruction after it (@after) in this
 * attempt (rewrite.c, steer_neighbours). */
struct rw_steer {
	size_t section;
	uint64_t offset; /* the window, in the input section */
	unsigned before, after;
	unsigned len; /* the window's */
	/* The occurrence that asked for it first, for the report. */
	const char *pattern;
	uint8_t bytes[PVSUB_PATTERN_MAX];
	uint8_t blen;
	char field[48];
};

/* A __jump_table target field (@place of section @table) that points at
 * the near island @is of its 2-byte jump label (rewrite.c,
 * label_island_of()). */
struct rw_label_ref {
	size_t table;
	uint64_t place;
	const struct rw_island *is;
};

struct rw {
	const struct pvsub_rewrite_opts *opts;
	const uint8_t *input; /* the object as given */
	size_t input_size;
	struct pvsub_relobj *o;
	bool kernel;		     /* a Linux module: no red zone below the stack pointer */
	size_t orc_ip, orc;	     /* .orc_unwind_ip and .orc_unwind, 0 without */
	struct rw_orc_ref *orc_refs; /* sorted by section, offset */
	size_t n_orc_refs;
	struct rw_jtab *jtabs; /* sorted by section, base */
	size_t n_jtabs;
	size_t eh_frame_done;		 /* .eh_frame, when its relocations were moved already */
	const struct pvsub_mwindow *win; /* in_scan's (pvsub_scan_result.mwindows) */
	size_t n_win;
	struct rw_sect *s;
	size_t n_s;
	struct pvsub_rewrite_result *res;
	size_t sites_cap, refusals_cap;
	const char *pattern; /* id of the occurrence being fixed, for refusals */
	struct pvsub_scan_opts scan_opts;
	const struct pvsub_scan_result *in_scan; /* the input, scanned */
	/* Earlier attempts' outputs, whose junction findings get int3 tails. */
	struct pvsub_scan_result *const *more_tails;
	size_t n_more_tails;
	const struct rw_steer *steer; /* earlier attempts' steering */
	size_t n_steer;
	struct pvsub_scan_result *out_scan; /* the output, when it was rescanned */
	int err;			    /* -ENOMEM seen */
	struct rw_label_ref *lrefs;	    /* sorted by table, place */
	size_t n_lrefs;
	/* Refusals from here on are made in one round of one section: one
	 * the same as the last is dropped (SIZE_MAX: none is). */
	size_t dedup_from;
};

/* --- helpers of rewrite.c the rules use ------------------------------------- */

/* Little-endian field of @size bytes at @p, sign-extended / written. */
int64_t rw_get_sle(const uint8_t *p, unsigned size);
void rw_put_le(uint8_t *p, uint64_t v, unsigned size);
/* @v fits a signed field of @size bytes. */
bool rw_fits(int64_t v, unsigned size);
/* The unit that contains input offset @x of @s, or s->n. */
size_t rw_unit_at(const struct rw_sect *s, uint64_t x);
/* Some pattern of the policy occurs in @len bytes at @p. */
bool rw_has_pattern(const struct rw *w, const uint8_t *p, size_t len);
/* The ORC entry (6 bytes) in force at input offset @off of section @sec,
 * or NULL. */
const uint8_t *rw_orc_entry_at(const struct rw *w, size_t sec, uint64_t off);

/* --- the rules (rewrite_rules.c) ---------------------------------------------- */

/* When a rule of rw_rule_table[] is tried on an occurrence inside an
 * instruction: conditions, all of which must hold. */
enum rw_rule_when {
	RW_NO_RELOC = 1 << 0, /* no relocation inside the instruction */
	RW_SEQUENCE = 1 << 1, /* it may become a sequence (not an exception-table site) */
	RW_HAS_IMM = 1 << 2,  /* it has an immediate */
	RW_IN_IMM = 1 << 3,   /* the occurrence reaches into its immediate */
	RW_HAS_DISP = 1 << 4, /* it has a displacement */
	RW_IN_DISP = 1 << 5,  /* the occurrence starts before its displacement's end */
};

/* A rule that replaces one instruction holding an occurrence. */
struct rw_rule_entry {
	enum rw_rule rule; /* and so its name, pvsub_rewrite_rules[rule] */
	unsigned when;	   /* enum rw_rule_when bits */
	/*
	 * Try to give unit @i of @s a replacement without any pattern of the
	 * policy, starting from the unit's next untried candidate (u->cand);
	 * true when it set one (u->rule, u->seq, and the stack and
	 * relocated-field notes).  Called again on the same unit, it tries
	 * the next candidates.  False when the rule does not apply to the
	 * instruction or no candidate is clean.
	 */
	bool (*fix)(const struct rw *w, struct rw_sect *s, size_t i);
};

/*
 * The rules for an occurrence in an instruction's displacement or
 * immediate, cheapest first: the first that applies and finds a clean
 * candidate is taken.  rw_rule_count entries.
 */
extern const struct rw_rule_entry rw_rule_table[];
extern const size_t rw_rule_count;

/* Does @r's `when` hold for the occurrence at [@rel, @rel + @len) of unit
 * @u's instruction? */
bool rw_rule_applies(const struct rw_rule_entry *r, const struct rw_unit *u, unsigned rel,
		     unsigned len);

/* @rule's entry in rw_rule_table[], or NULL (trap, and what is not a
 * replacement of one instruction). */
const struct rw_rule_entry *rw_rule_find(enum rw_rule rule);

/* `ud2` padded with int3 to the instruction's length. */
bool rw_fix_trap(struct rw_sect *s, size_t i);

#endif
