/*
 * scratch-imm: ALU instructions and stores with a 32-bit immediate that
 * holds the pattern, on registers and memory.  The rewriter borrows a
 * scratch register (push; materialise the immediate; the register form of
 * the operation; pop), so every other register, the flags the operation
 * produces (or, for adc/sbb, consumes) and the stack must come out as
 * before.  One function per site; its flags are read (pushf) right after
 * the operation, so they are live there and the probe sees them in %r15
 * (flags left dead at a return may be given up: see lea-arith.S).  Policy in scratch-imm.sh; each pattern occurs exactly
 * once, named after its site.
 */
.macro site name, insn:vararg
	.globl \name
	.type \name, @function
\name:
	\insn
	pushfq				/* the flags are read: they are live */
	popq %r15
	ret
	.size \name, . - \name
.endm

	.text
/* Registers. */
	site si_add, add $0xc1b1a1ee, %ebx		/* 81 /0 */
	site si_sub, sub $0x12c2b2a2, %r10		/* REX.WB 81 /5 */
	site si_and, and $0x7fc3b3a3, %rax		/* REX.W 25: the rax form */
	site si_or, or $0xc4b4a4ee, %r11d		/* REX.B 81 /1 */
	site si_xor, xor $0x33c5b5a5, %rsi		/* REX.W 81 /6 */
	site si_cmp, cmp $0xc6b6a6ee, %edi		/* 81 /7 */
	site si_test, test $0xc7b7a7ee, %edx		/* f7 /0 */
	site si_adc, adc $0x44c8b8a8, %ecx		/* 81 /2: reads CF */
	site si_sbb, sbb $0xffffffffc9b9a9ee, %r8		/* REX.WB 81 /3: reads CF */
/* Memory through %rdi (the driver points it into mem[]). */
	site si_or_m, orl $0x55cabaaa, (%rdi)
	site si_xor_m, xorq $0xffffffffcbbbabee, 8(%rdi)
	site si_mov_m, movl $0x66ccbcac, 16(%rdi)
	site si_movq_m, movq $0xffffffffcdbdadee, 24(%rdi)
	site si_cmp_m, cmpl $0xcebeaeee, 32(%rdi)
	site si_add_mi, addl $0x77cfbfaf, 40(%rdi,%rsi,4)
/* Both the displacement and the immediate hold a pattern (liblua5.4.a's
 * lstate.o: movq $0x10000, 0xb8(%rbx)): the base is moved as well, and
 * with the red-zone skip only the disp8 form of the moved operand keeps
 * the sequence short enough. */
	site si_movq_both, movq $0xe7d7f1, 0xc5(%rdi)	/* 48 c7 87 c5 00 00 00 f1 d7 e7 00 */

/* %eax = %edi * 0x11d4c4b4 (%edi >= 1): the branch goes back to the
 * rewritten add, which must now mean the start of its replacement (a jump
 * past the push would unbalance the stack). */
	.globl si_loop
	.type si_loop, @function
si_loop:
	xor %eax, %eax
.Lsl:
	add $0x11d4c4b4, %eax			/* 05: b4 c4 d4 */
	dec %edi
	jnz .Lsl
	ret
	.size si_loop, . - si_loop

/* Locals on the stack: a push of a scratch register moves %rsp, so an
 * operand based on it needs its displacement corrected.  Result in %rax,
 * %rdx, %ecx and the flags of the andl (lea moves %rsp without flags: they
 * would depend on where the stack is). */
	.globl si_stack
	.type si_stack, @function
si_stack:
	lea -24(%rsp), %rsp
	movq $0, 8(%rsp)
	movq $0, 16(%rsp)
	movl $0x80001233, (%rsp)
	movl $0x77d0c0b0, 8(%rsp)		/* c7 44 24 08: pattern b0 c0 d0 */
	addq $0x11d1c1b1, 16(%rsp)		/* 48 81 44 24 10: b1 c1 d1 */
	andl $0xd2c2b2ff, (%rsp)		/* 81 24 24: b2 c2 d2 */
	mov 8(%rsp), %rax
	mov 16(%rsp), %rdx
	mov (%rsp), %ecx
	lea 24(%rsp), %rsp
	ret
	.size si_stack, . - si_stack

/* A RIP-relative operand followed by the immediate: the relocation's
 * addend counts the immediate (-8), and the register form has none. */
	.globl si_rip
	.type si_rip, @function
si_rip:
	addl $0x22d3c3b3, si_counter(%rip)	/* 81 05 disp32: b3 c3 d3 */
	mov si_counter(%rip), %eax
	ret
	.size si_rip, . - si_rip

	.data
	.p2align 2
si_counter:
	.long 0x100
	.section .note.GNU-stack, "", @progbits
