/*
 * relocations: code that moves under relocations.  Every relocation at or
 * after a rewritten site in .text must move with its bytes, and every
 * relocation elsewhere that points into .text (section symbol + addend)
 * must follow the code it points to.  Policy in relocations.sh; each pattern
 * occurs exactly once:
 *   span1  9d 81 c1  spanning, before a call to another section, two
 *                    RIP-relative .rodata loads and a RIP-relative .data
 *                    operand followed by an immediate
 *   imm1   a1 b1 c1  mov $imm just before a label a .data code pointer
 *                    (R_X86_64_64 .text+N) points to
 *   span2  5a 01 f8  spanning, at the label another code pointer points to
 *   imm2   a2 b2 c2  mov $imm just before the target of a jmp from
 *                    .text.helpers (R_X86_64_PC32 .text+N-4: the addend
 *                    points into the mov, the target is after it)
 * (jump-table.S has the PC-relative kind of jump table.)
 */
	.section .text.helpers, "ax", @progbits
/* %rax = 2 * %rdi + 0x1000 */
	.globl rl_helper
	.type rl_helper, @function
rl_helper:
	lea 0x1000(%rdi,%rdi), %rax
	ret
	.size rl_helper, . - rl_helper

/* %eax = 0x107, by a jump into .text. */
	.globl rl_far
	.type rl_far, @function
rl_far:
	mov $7, %eax
	jmp .Lresume
	.size rl_far, . - rl_far

	.section .rodata
	.p2align 3
rl_table:
	.quad 0x1122334455667788
	.quad 0x0102030405060708

	.section .data.rel.ro, "aw", @progbits
	.p2align 3
rl_ptrs:
	.quad .Lafter_imm
	.quad .Lafter_span

	.data
	.p2align 2
rl_count:
	.long 0x40

	.text
/* %rax = rl_helper(%rdi) + both table entries + 0x9d000000 + 0x01020304;
 * %edx = the counter after adding 3 (its old value: the flags of cmpl). */
	.globl rl_main
	.type rl_main, @function
rl_main:
	mov $0x9d000000, %ecx
	add $0x01020304, %ecx
	call rl_helper
	add rl_table(%rip), %rax
	add rl_table+8(%rip), %rax
	add %rcx, %rax
	addl $3, rl_count(%rip)
	mov rl_count(%rip), %edx
	cmpl $0x100, rl_count(%rip)
	ret
	.size rl_main, . - rl_main

/* A table of absolute code pointers, as the kernel's jump tables are:
 * %eax = %edi + 1 through pointer 0, %eax = %edi + 0x11 through pointer 1
 * (%esi selects). */
	.globl rl_dispatch
	.type rl_dispatch, @function
rl_dispatch:
	push %rdx
	lea rl_ptrs(%rip), %rdx
	mov %esi, %esi
	mov (%rdx,%rsi,8), %rdx
	mov $0x11, %eax
	call *%rdx
	pop %rdx
	ret
	.size rl_dispatch, . - rl_dispatch

	.globl rl_t1
	.type rl_t1, @function
rl_t1:
	mov $0xc1b1a1ee, %edx
.Lafter_imm:
	lea 1(%rdi), %eax
	ret
	.size rl_t1, . - rl_t1

	.globl rl_t2
	.type rl_t2, @function
rl_t2:
	mov $0x5a000000, %eax
.Lafter_span:
	add %edi, %eax
	ret
	.size rl_t2, . - rl_t2

/* Entered from rl_far only; %ecx = 0xc2b2a2ee (rl_far never runs it). */
	.globl rl_res
	.type rl_res, @function
rl_res:
	mov $0xc2b2a2ee, %ecx
.Lresume:
	add $0x100, %eax
	ret
	.size rl_res, . - rl_res

	.section .note.GNU-stack, "", @progbits
