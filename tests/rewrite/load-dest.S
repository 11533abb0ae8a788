/*
 * load-dest: loads into a whole general register whose 32-bit displacement
 * holds the pattern.  The destination is overwritten anyway, so the rewriter
 * builds the address in it (`lea disp-d(mem), dst64`) and loads from
 * d(dst64): no register is pushed and no other register changes.  The
 * sites cover each load form the rule knows (mov into 64 and 32 bits, which
 * zero-extends; movzx, movsx and movsxd; lea into 64 and 32 bits, which
 * truncates), a destination that is also the base or the index, REX
 * destinations, r12 and r13 (whose ModRM/SIB encodings are special, as
 * base and as destination), rsp as the base, and fs:/gs: loads (the
 * segment must stay on the load, not on the lea).  The driver points the
 * registers at mem[] minus the displacement (DISP_* in load-dest-driver.c
 * must match); the lea sites get plain numbers.  Policy in load-dest.sh;
 * each pattern occurs exactly once, in the displacement of its site.
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
	site ld_mov64, mov 0x11c1b1a1(%rdi), %rax		/* mov r64 */
	site ld_mov32, mov 0x22c2b2a2(%rdi), %ecx		/* mov r32: upper half cleared */
	site ld_movzb, movzbl 0x33c3b3a3(%rdi), %edx		/* movzx byte */
	site ld_movzw, movzwq 0x44c4b4a4(%rdi), %rsi		/* movzx word, REX.W */
	site ld_movsb, movsbq 0x55c5b5a5(%rdi), %rbx		/* movsx byte */
	site ld_movsw, movswl 0x66c6b6a6(%rdi), %ebp		/* movsx word into rbp */
	site ld_movsxd, movslq 0x77c7b7a7(%rdi), %r8		/* movsxd, REX.WR */
	site ld_lea64, lea 0x11c8b8a8(%rdi,%rsi,4), %r9		/* lea r64, base and index */
	site ld_lea32, lea 0x22c9b9a9(%rdi), %r10d		/* lea r32: truncates */
	site ld_base, mov 0x33cabaaa(%rax), %rax		/* base = destination */
	site ld_index, mov 0x44cbbbab(%rdi,%rcx,8), %rcx	/* index = destination */
	site ld_rex, mov 0x55ccbcac(%r14,%r15,2), %r11d		/* REX.RXB, r32 */
	site ld_r12, mov 0x66cdbdad(%rdi), %r12			/* r12: needs a SIB as base */
	site ld_r13, movzbl 0x77cebeae(%rdi), %r13d		/* r13: needs a disp as base */
	site ld_b12, mov 0x11cfbfaf(%r12), %eax			/* base r12: SIB copied */
	site ld_b13, mov 0x22d0c0b0(%r13), %rdx			/* base r13 */
	site ld_fs, mov %fs:0x33d1c1b1(%rdi), %eax		/* fs: (the TLS base) */
	site ld_gs, mov %gs:0x44d2c2b2(%rsi,%rdi), %rbx		/* gs: (the kernel's per-CPU) */

/* rsp as the base: the word pushed first is read back from the frame, 0x1d8
 * bytes up (two pushes and 0x1d0 of frame), into %rax.  Only the load's
 * displacement holds its pattern (d8 01 00).  The frame is made with lea:
 * the flags an add to rsp leaves depend on where the stack is. */
	.globl ld_rsp
	.type ld_rsp, @function
ld_rsp:
	push %rdi
	push %rsi
	lea -0x1d0(%rsp), %rsp
	mov 0x1d8(%rsp), %rax
	lea 0x1d0(%rsp), %rsp
	pop %rsi
	pop %rdi
	ret
	.size ld_rsp, . - ld_rsp
	.section .note.GNU-stack, "", @progbits
