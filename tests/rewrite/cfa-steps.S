/*
 * cfa-steps: functions with CFI (.eh_frame) whose rewritten sequences move
 * the stack or the CFA's register, for cfa-steps.sh, which single-steps
 * them and unwinds at every instruction.  Policy (cfa-steps.sh): each
 * pattern occurs once, in the instruction named on its line.
 *   sp    a5 5a 00  sp-rebase      the displacement of a store to the stack
 *   sc    c3 3c 77  scratch        the immediate of a store to the stack
 *                                  (red zone skipped, a register borrowed)
 *   la    60 6b 01  lea-arith      `sub $N, %rsp`: two leas, and
 *   lb    a0 94 fe                 the one lea it would take otherwise
 *   cm    5d 5e 3f  scratch        the immediate of a compare, whose flags
 *                                  the sequence keeps
 *   bp    5b a5 ff  disp-rebase    of rbp, the CFA's register in cs_frame
 * cs_work(long *out) and cs_frame(long *out) write results the driver
 * prints, so that the rewritten code is seen to do the same; cs_end marks
 * the end of their code.
 */
	.text
	.globl cs_work
	.type cs_work, @function
cs_work:
	.cfi_startproc
	push %rbx
	.cfi_def_cfa_offset 16
	.cfi_offset %rbx, -16
	sub $0x16b60, %rsp		/* la (lb: the single lea) */
	.cfi_def_cfa_offset 0x16b70
	xor %eax, %eax			/* the flags of the sub are dead */
	mov %rdi, %rbx
	lea 7(%rdi), %rax
	mov %rax, 0x5aa5(%rsp)		/* sp */
	movq $0x773cc3, 16(%rsp)	/* sc */
	mov 0x5aa5(%rsp), %rcx
	add 16(%rsp), %rcx
	mov %rcx, (%rbx)
	mov $0, %edx
	cmpq $0x3f5e5d, 16(%rsp)	/* cm */
	setne %dl
	mov %rdx, 8(%rbx)
	add $0x16b60, %rsp
	.cfi_def_cfa_offset 16
	pop %rbx
	.cfi_def_cfa_offset 8
	ret
	.cfi_endproc
	.size cs_work, . - cs_work

	.globl cs_frame
	.type cs_frame, @function
cs_frame:
	.cfi_startproc
	push %rbp
	.cfi_def_cfa_offset 16
	.cfi_offset %rbp, -16
	mov %rsp, %rbp
	.cfi_def_cfa_register %rbp
	sub $0x6000, %rsp
	lea 11(%rdi), %rax
	mov %rax, -0x5aa5(%rbp)		/* bp */
	mov -0x5aa5(%rbp), %rcx
	mov %rcx, 16(%rdi)
	leave
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.size cs_frame, . - cs_frame
	.globl cs_end
cs_end:					/* where the driver stops stepping */

/*
 * What the rewriter must refuse (cfa-steps.sh assembles each alone, with
 * the same policy: one `cm` occurrence, which scratch removes by borrowing
 * a register around the compare):
 *   -DCFA_EXPR      the CFA a DWARF expression (DW_OP_breg7 16) while the
 *                   sequence moves rsp
 *   -DCFA_RCX       the CFA computed from rcx, the register scratch borrows
 *   -DCALLEE_SAVED  disp-rebase (`bp`) moves rbx, whose caller's value the
 *                   unwinder reads from rbx itself (never saved in the
 *                   function)
 *   -DSP_READ       sp-rebase (`sp`) moves rsp while rbx's rule is an
 *                   expression that reads rsp (DW_OP_breg7 0)
 *   -DSP_IN_REG     the same with rbx's caller's value in rsp itself
 *                   (DW_CFA_register rbx, rsp: nonsense, but a rule)
 *   -DCOPY_CFA      disp-rebase (`bp`) of rax around `add d(%rax), %rbp`,
 *                   the CFA being rbp: the copy writes the CFA's register
 *                   and the lea that gives rax back follows it
 *   -DOWN_READ      imm-lea of `mov $imm, %ebx` (`cm`) while the caller's
 *                   r12 is kept in rbx (DW_CFA_register): the mov
 *                   overwrites rbx, but the rule still reads it until the
 *                   sequence ends
 *   -DCOPY_READ     disp-rebase of rax around `add d(%rax), %rbx` (`bp`)
 *                   while the caller's r12 is kept in rbx: the copy writes
 *                   rbx and the lea that gives rax back follows it
 *   -DCFA_REG_READ  disp-rebase of rbp, the CFA's register, while rbx's rule
 *                   is an expression that reads rbp
 *   -DHIGH_READ     sp-rebase while xmm0's rule (DWARF register 17, which
 *                   SysV code never saves) is an expression that reads rsp
 * and what it must take:
 *   -DBORROW        scratch around an imul that names rax, rcx and rdx, in
 *                   a function that never saves rbx: the register it
 *                   borrows must be a caller-saved one, not rbx
 *   -DOWN_DEST      imm-lea of `mov $imm, %ebx` (`cm`) where rbx was never
 *                   saved: the sequence writes rbx before the copy would,
 *                   but the instruction itself overwrites it
 */
#if defined(CFA_EXPR) || defined(CFA_RCX) || defined(CALLEE_SAVED) || defined(SP_READ) || \
	defined(SP_IN_REG) || defined(COPY_CFA) || defined(BORROW) || defined(OWN_DEST) || \
	defined(OWN_READ) || defined(COPY_READ) || defined(CFA_REG_READ) || defined(HIGH_READ)
	.section .text.bad, "ax", @progbits
	.globl cs_bad
	.type cs_bad, @function
cs_bad:
	.cfi_startproc
	push %rbp
	.cfi_def_cfa_offset 16
	.cfi_offset %rbp, -16
#ifdef CFA_EXPR
	.cfi_escape 0x0f, 0x02, 0x77, 0x10
	cmpq $0x3f5e5d, 16(%rsp)	/* cm */
#endif
#ifdef CFA_RCX
	mov %rsp, %rcx
	.cfi_def_cfa_register %rcx
	cmpq $0x3f5e5d, (%rax)		/* cm: rcx is the first register free */
#endif
#ifdef CALLEE_SAVED
	mov %rax, -0x5aa5(%rbx)		/* bp */
#endif
#ifdef BORROW
	imul $0x3f5e5d, (%rax,%rcx), %edx	/* cm */
#endif
#ifdef OWN_DEST
	mov $0x3f5e5d, %ebx		/* cm */
#endif
#ifdef SP_READ
	.cfi_escape 0x10, 0x03, 0x02, 0x77, 0x00
	mov %rax, 0x5aa5(%rsp)		/* sp */
#endif
#ifdef HIGH_READ
	.cfi_escape 0x10, 0x11, 0x02, 0x77, 0x00
	mov %rax, 0x5aa5(%rsp)		/* sp */
#endif
#ifdef SP_IN_REG
	.cfi_register %rbx, %rsp
	mov %rax, 0x5aa5(%rsp)		/* sp */
#endif
#if defined(OWN_READ) || defined(COPY_READ)
	push %rbx
	.cfi_adjust_cfa_offset 8
	.cfi_offset %rbx, -24
	mov %r12, %rbx
	.cfi_register %r12, %rbx
	push %r12
	.cfi_adjust_cfa_offset 8
#ifdef OWN_READ
	mov $0x3f5e5d, %ebx		/* cm */
#else
	add -0x5aa5(%rax), %rbx		/* bp */
#endif
	.cfi_offset %r12, -32
	pop %r12
	.cfi_adjust_cfa_offset -8
	.cfi_same_value %r12
	pop %rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
#endif
#ifdef CFA_REG_READ
	mov %rsp, %rbp
	.cfi_def_cfa_register %rbp
	.cfi_escape 0x10, 0x03, 0x02, 0x76, 0x00
	mov %rax, -0x5aa5(%rbp)		/* bp */
	.cfi_def_cfa %rsp, 16
	.cfi_same_value %rbx
#endif
#ifdef COPY_CFA
	mov %rsp, %rbp
	.cfi_def_cfa_register %rbp
	add -0x5aa5(%rax), %rbp		/* bp */
	.cfi_def_cfa %rsp, 16
#endif
	pop %rbp
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.size cs_bad, . - cs_bad
#endif
	.section .note.GNU-stack, "", @progbits
