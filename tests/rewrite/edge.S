/*
 * edge: instructions where a displacement or immediate rewrite is easy to
 * get wrong.  No rule has to handle them, but what the rewriter does must
 * be right: edge.sh rewrites each site alone and accepts a refusal, never a
 * change in behaviour.  One function per site; edge-driver.c sets up the
 * registers (EDGE_* there must match).  Each pattern occurs exactly once:
 *   src     a1 b1 c1  store of the base register itself
 *   idx     a2 b2 c2  the same register as base and index
 *   add     a3 b3 c3  ALU with the base register as source
 *   xchg    a4 b4 c4  xchg of the base register with memory
 *   push_m  a5 b5 c5  push from memory (moves %rsp)
 *   pop_m   a6 b6 c6  pop to memory (the address uses the new %rsp)
 *   lea     a7 b7 c7  lea: no memory access at all
 *   dimm    a8 b8 c8  across the displacement and the immediate
 *   lock    a9 b9 c9  lock prefix, pattern in the immediate
 *   cmpxchg aa ba ca  lock cmpxchg (implicit %eax), pattern in the disp
 *   push_i  ab bb cb  push $imm32
 *   imul    ac bc cc  three-operand imul $imm32
 *   sse     ad bd cd  an SSE load
 *   bt      ae be ce  bt $imm8 on memory: reads, sets CF
 *   setcc   af bf cf  setne to memory: reads the flags
 *   ah      b0 c0 d0  store of %ah (cannot be encoded with a REX prefix)
 *   word    b1 c1 d1  16-bit ALU into memory (66 prefix)
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
/* Base %rdi small, index %rsi the address: a rewrite that moves the base
 * register changes the value stored or added. */
	site ed_src, mov %rdi, 0x11c1b1a1(%rdi,%rsi)
	site ed_idx, mov 0x22c2b2a2(%rdi,%rdi), %eax
	site ed_add, add %edi, 0x33c3b3a3(%rdi,%rsi)
	site ed_xchg, xchg %rdi, 0x44c4b4a4(%rdi,%rsi)

	.globl ed_push_m
	.type ed_push_m, @function
ed_push_m:
	pushq 0x55c5b5a5(%rdi)
	pop %rax
	ret
	.size ed_push_m, . - ed_push_m

	.globl ed_pop_m
	.type ed_pop_m, @function
ed_pop_m:
	push %rsi
	popq 0x66c6b6a6(%rdi)
	ret
	.size ed_pop_m, . - ed_pop_m

	site ed_lea, lea 0x77c7b7a7(%rdi), %rax
	/* disp 0xa8000010 (the last byte a8), imm 0x1234c8b8 */
	site ed_dimm, cmpl $0x1234c8b8, -0x57fffff0(%rdi)
	site ed_lock, lock addl $0x11c9b9a9, (%rdi)
	site ed_cmpxchg, lock cmpxchg %ecx, 0x22cabaaa(%rdi)

	.globl ed_push_i
	.type ed_push_i, @function
ed_push_i:
	push $0x33cbbbab
	pop %rax
	ret
	.size ed_push_i, . - ed_push_i

	site ed_imul, imul $0x44ccbcac, %ecx, %edx

	.globl ed_sse
	.type ed_sse, @function
ed_sse:
	movdqu 0x55cdbdad(%rdi), %xmm0
	movq %xmm0, %rax
	ret
	.size ed_sse, . - ed_sse

	site ed_bt, btl $5, 0x66cebeae(%rdi)
	site ed_setcc, setne 0x77cfbfaf(%rdi)
	site ed_ah, mov %ah, 0x11d0c0b0(%rdi)
	site ed_word, addw %cx, 0x22d1c1b1(%rdi)
	.section .note.GNU-stack, "", @progbits
