/*
 * imm-lea: mov of an immediate to a register, the pattern inside the
 * immediate.  The rewriter loads another value and adds the difference with
 * lea, which leaves the flags alone.  Every register is set by the probe
 * beforehand with nonzero upper halves, so a 32-bit destination that is not
 * zero-extended, or a 64-bit one not sign-extended, shows.  Policy in
 * imm-lea.sh; each pattern occurs exactly once:
 *   a1..ac b1..bc c1..cc  one site each, named by the register below
 *   ad bd cd              the target of a backward branch (il_loop)
 */
	.text
/* 32-bit destinations: b8+r and c7 /0 forms, with and without REX. */
	.globl il_r32
	.type il_r32, @function
il_r32:
	mov $0xc1b1a1ee, %ecx		/* b9: ecx */
	mov $0x77c2b2a2, %r9d		/* 41 b9: r9d */
	.byte 0xc7, 0xc2		/* c7 /0: mov $0xc3b3a3ee, %edx */
	.long 0xc3b3a3ee
	.byte 0x41, 0xc7, 0xc7		/* 41 c7 /0: mov $0x12c4b4a4, %r15d */
	.long 0x12c4b4a4
	mov $0xcabaaaee, %eax		/* b8: eax */
	mov $0x3ccbbbab, %ebp		/* bd: ebp, a lea base needing a disp8 */
	mov $0xccbcac01, %r12d		/* 41 bc: r12d, a lea base needing a SIB */
	ret
	.size il_r32, . - il_r32

/* 64-bit destinations, sign-extended imm32: c7 /0 with REX.W. */
	.globl il_r64
	.type il_r64, @function
il_r64:
	mov $0x7fc5b5a5, %rax		/* 48 c7 c0: rax, positive */
	mov $0xffffffffc6b6a6ee, %r13	/* 49 c7 c5: r13, negative */
	ret
	.size il_r64, . - il_r64

/* movabs $imm64. */
	.globl il_abs
	.type il_abs, @function
il_abs:
	movabs $0x1122c7b7a7334455, %rdx	/* 48 ba: rdx */
	movabs $0xc8b8a8ee00000001, %r14	/* 49 be: r14 */
	movabs $0x0000c9b9a9000000, %r10	/* 49 ba: r10, across the halves */
	ret
	.size il_abs, . - il_abs
/* %eax = %edi * 0xcdbdad01 (%edi >= 1): the loop's branch goes back to
 * the rewritten mov, which must now mean the start of its replacement. */
	.globl il_loop
	.type il_loop, @function
il_loop:
	xor %eax, %eax
.Lil:
	mov $0xcdbdad01, %edx
	add %edx, %eax
	dec %edi
	jnz .Lil
	ret
	.size il_loop, . - il_loop
	.section .note.GNU-stack, "", @progbits
