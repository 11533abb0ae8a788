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
	.section .note.GNU-stack, "", @progbits
