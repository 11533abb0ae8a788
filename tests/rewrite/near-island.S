/*
 * near-island: a jmp and a call whose rel32 holds `00 00` (pattern of
 * near-island.sh): every forward displacement below 0x10000 does, so no
 * padding under the rewriter's limit cleans them, and the section ends in
 * code that falls through, so no island may follow its end.  Each goes
 * through a jump island placed right after the `ret` of ni_far, far enough
 * behind for both displacements (a long forward one to the island, a
 * backward one from it) to lose the pattern.
 *
 * With -DNI_KERNEL it is a module-like object with ORC tables (as
 * kernel-rules.S): the islands get their target's entry and the code after
 * them the entry in force before.  With -DNI_NO_SPOT ni_far neither returns
 * nor is followed by ud2: no island has a place, and the rewrite is
 * refused.  With -DNI_CFI ni_far has an FDE that ends at its ret (the
 * islands lie outside it); with -DNI_CFI_LONG the FDE goes on over the
 * ud2 and the NOPs after it, so every place is inside it, where no CFA row
 * would describe an island, and the rewrite is refused.  With -DNI_WARN
 * (and -DNI_KERNEL) the ud2 is a WARN that __bug_table names, which Linux
 * resumes after: no place for an island, so the second branch has none;
 * so with -DNI_REACHABLE (objtool's .discard.reachable names the
 * instruction after it) and -DNI_NAMED (.data points at it).  -DNI_INT3
 * makes the trap an int3: an end in a kernel object that nothing names,
 * not in a process's.
 */
#ifdef NI_KERNEL
#include "orc.h"
	.section .modinfo, "a"
	.asciz "license=GPL"
	.asciz "description=pvsub near-island fixture"
#else
#define ORC_SP 5
.macro orc sp_reg, sp_off
.endm
#endif
	.text
	.globl ni_jmp
	.type ni_jmp, @function
/* %eax = %edi + 3 */
ni_jmp:
	orc ORC_SP, 8
	lea 1(%rdi), %eax
	jmp 1f
	.fill 0x10b, 1, 0x90 /* never reached */
1:	add $2, %eax
	ret
	.size ni_jmp, . - ni_jmp

	.globl ni_call
	.type ni_call, @function
/* %rax = %rsi * 3 + 1, through a forward call */
ni_call:
	orc ORC_SP, 8
	call ni_leaf
	inc %rax
	ret
	.size ni_call, . - ni_call
	orc ORC_SP, 16 /* a made-up state for the NOPs, which no island may take */
	.fill 0x120, 1, 0x90

	.type ni_leaf, @function
ni_leaf:
	orc ORC_SP, 8
	lea (%rsi,%rsi,2), %rax
	ret
	.size ni_leaf, . - ni_leaf

	/* 64 KiB of NOPs nothing reaches, then a function that returns: the
	 * island's place. */
	.fill 0x10200, 1, 0x90
	.globl ni_far
	.type ni_far, @function
/* %eax = %edi */
ni_far:
#if defined NI_CFI || defined NI_CFI_LONG
	.cfi_startproc
#endif
	orc ORC_SP, 8
	mov %edi, %eax
#ifndef NI_NO_SPOT
	ret
#ifdef NI_CFI
	.cfi_endproc
#endif
	.size ni_far, . - ni_far
	/* Never called; right after ni_far, so check.py symbols sees the
	 * islands between two adjacent functions. */
	.type ni_dead, @function
ni_dead:
	orc ORC_SP, 24 /* the trap's, restored after the island in front of it */
.Ltrap:
#ifdef NI_WARN
	.pushsection __bug_table, "aw"
	.long .Ltrap - .  /* struct bug_entry: bug_addr_disp, */
	.long 0		  /* file_disp, */
	.short 0, 1	  /* line, flags: BUGFLAG_WARNING */
	.popsection
#endif
#ifdef NI_NAMED
	.pushsection .data
	.quad .Ltrap
	.popsection
#endif
#ifdef NI_INT3
	int3
#else
	ud2
#endif
#ifdef NI_REACHABLE
	.pushsection .discard.reachable, "", @progbits
	.long 1f - .
	.popsection
1:
#endif
#else
	.size ni_far, . - ni_far
#endif
	/* The section ends in code that falls through. */
	.fill 0x10, 1, 0x90
#ifdef NI_CFI_LONG
	.cfi_endproc
#endif
#ifndef NI_NO_SPOT
	.size ni_dead, . - ni_dead
#endif
	.section .note.GNU-stack, "", @progbits
