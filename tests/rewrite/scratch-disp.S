/*
 * scratch-disp: memory operands whose 32-bit displacement holds the
 * pattern.  The rewriter borrows a scratch register (push; lea of the
 * address; the operation through the scratch; pop), so every other
 * register, the flags and the stack must come out as before.  One function
 * per site; the driver points the base registers at mem[] minus the
 * displacement (DISP_* in scratch-disp-driver.c must match).  Policy in
 * scratch-disp.sh; each pattern occurs exactly once, named after its site.
 */
.macro site name, insn:vararg
	.globl \name
	.type \name, @function
\name:
	\insn
	ret
	.size \name, . - \name
.endm

	.text
	site sd_load, mov 0x11c1b1a1(%rdi,%rsi), %eax		/* a load, base and index */
	site sd_store, mov %edx, 0x22c2b2a2(%rdi)		/* a store */
	site sd_add_m, add %ecx, 0x33c3b3a3(%rdi,%rsi,2)	/* ALU into memory */
	site sd_sub_r, sub 0x44c4b4a4(%rdi), %r11		/* ALU from memory */
	site sd_cmp, cmp %eax, 0x55c5b5a5(%rdi)			/* flags only */
	site sd_movl, movl $5, 0x66c6b6a6(%rdi)			/* and an imm32 */
	site sd_addl, addl $0x10, 0x77c7b7a7(%rdi)		/* and an imm8 */
	site sd_nobase, mov 0x11c8b8a8(,%rsi,4), %ebx		/* index, no base */
	site sd_self, mov 0x22c9b9a9(%rax), %rax		/* base = destination */
	site sd_rex, mov %r9, 0x33cabaaa(%r12,%r13,8)		/* REX.WRXB */
	site sd_inc, incl 0x44cbbbab(%rdi)			/* unary, keeps CF */
	site sd_cmov, cmovne 0x55ccbcac(%rdi), %r10d		/* reads ZF */
/* %eax = %esi * the dword at %rdi + 0x66cdbdad (%esi >= 1): the branch goes
 * back to the rewritten add, which must now mean its replacement's start. */
	.globl sd_loop
	.type sd_loop, @function
sd_loop:
	xor %eax, %eax
.Lsd:
	add 0x66cdbdad(%rdi), %eax
	dec %esi
	jnz .Lsd
	ret
	.size sd_loop, . - sd_loop
	.section .note.GNU-stack, "", @progbits
