/*
 * nop-split: patterns that cross an instruction boundary.  The rewriter
 * pads between the two instructions; every branch over the padding and every
 * symbol after it must follow.  Policy in nop-split.sh; each pattern occurs
 * exactly once:
 *   entry  c3 b8 e1  the previous function's ret and this one's first bytes
 *   first  9d 05 04  the boundary after a function's first instruction
 *   loop   7e 01 f0  right before a backward loop target
 *   branch 06 b8 22  after a jb rel8 whose target is past the padding
 */
	.text
	.globl ns_prev
	.type ns_prev, @function
ns_prev:
	lea 0x77(%rdi), %rax
	ret
	.size ns_prev, . - ns_prev

	.globl ns_entry
	.type ns_entry, @function
ns_entry:
	mov $0x9d1234e1, %eax
	add $0x01020304, %eax
	add %edi, %eax
	ret
	.size ns_entry, . - ns_entry

/* %eax = %edi * %esi + 0x7e000000 * %edi, for %edi >= 1. */
	.globl ns_loop
	.type ns_loop, @function
ns_loop:
	xor %eax, %eax
	mov $0x7e000000, %edx
.Lloop:
	add %esi, %eax
	add %edx, %eax
	dec %edi
	jnz .Lloop
	ret
	.size ns_loop, . - ns_loop

/* %eax = %edi < %esi (unsigned) ? 0x11 : 0x22 */
	.globl ns_branch
	.type ns_branch, @function
ns_branch:
	cmp %esi, %edi
	jb .Lless
	mov $0x22, %eax
	ret
.Lless:
	mov $0x11, %eax
	ret
	.size ns_branch, . - ns_branch
	.section .note.GNU-stack, "", @progbits
