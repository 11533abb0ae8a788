/*
 * pvsub_probe: call a fixture function with every general register and the
 * arithmetic flags set from an array, and record every register, the flags
 * and the stack pointer's change afterwards.  The rewriter must keep all of
 * them (a rewrite that borrows a scratch register or clobbers the flags is
 * wrong even where the System V ABI would allow it), so the drivers print
 * the whole state and the test compares it before and after rewriting.
 *
 * void pvsub_probe(void (*fn)(void), const uint64_t in[17], uint64_t out[17]);
 * Slots: rax rbx rcx rdx rsi rdi rbp r8..r15 rflags rsp-change.
 * This object is linked as it is; only the fixture is rewritten.
 */
	.data
	.p2align 3
probe_fn:	.quad 0
probe_out:	.quad 0
probe_rsp:	.quad 0

	.text
	.globl pvsub_probe
	.type pvsub_probe, @function
pvsub_probe:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	/* Six pushes and the return address: 16-byte aligned after one more. */
	sub $8, %rsp
	mov %rdi, probe_fn(%rip)
	mov %rdx, probe_out(%rip)
	mov %rsp, probe_rsp(%rip)
	/* The flags first: the moves below leave them alone. */
	push 120(%rsi)
	popfq
	mov 0(%rsi), %rax
	mov 8(%rsi), %rbx
	mov 16(%rsi), %rcx
	mov 24(%rsi), %rdx
	mov 40(%rsi), %rdi
	mov 48(%rsi), %rbp
	mov 56(%rsi), %r8
	mov 64(%rsi), %r9
	mov 72(%rsi), %r10
	mov 80(%rsi), %r11
	mov 88(%rsi), %r12
	mov 96(%rsi), %r13
	mov 104(%rsi), %r14
	mov 112(%rsi), %r15
	mov 32(%rsi), %rsi
	call *probe_fn(%rip)
	pushfq
	push %rax
	mov probe_out(%rip), %rax
	mov %rbx, 8(%rax)
	mov %rcx, 16(%rax)
	mov %rdx, 24(%rax)
	mov %rsi, 32(%rax)
	mov %rdi, 40(%rax)
	mov %rbp, 48(%rax)
	mov %r8, 56(%rax)
	mov %r9, 64(%rax)
	mov %r10, 72(%rax)
	mov %r11, 80(%rax)
	mov %r12, 88(%rax)
	mov %r13, 96(%rax)
	mov %r14, 104(%rax)
	mov %r15, 112(%rax)
	popq 0(%rax)
	popq 120(%rax)
	/* What the call did to %rsp (0 unless the stack is unbalanced). */
	mov %rsp, %rcx
	sub probe_rsp(%rip), %rcx
	mov %rcx, 128(%rax)
	mov probe_rsp(%rip), %rsp
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size pvsub_probe, . - pvsub_probe
	.section .note.GNU-stack, "", @progbits
