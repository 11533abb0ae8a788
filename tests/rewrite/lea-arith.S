/*
 * lea-arith: add or sub of an immediate to a register whose flags are dead
 * afterwards becomes one lea (or two), which changes no flag.  Dead means:
 * written before read on the path after it, or a return comes first (the
 * x86-64 psABI gives the flags no role across a return).  The driver
 * therefore ignores the flags these functions return with; everything else
 * must come out as before.  la_live reads the carry right after its add, so
 * the flags are live there and another rule (scratch) must keep them.
 * Policy in lea-arith.sh; each pattern occurs exactly once:
 *   c1 d1 e1  la_add      add $imm32, %ebx, then ret
 *   c2 d2 e2  la_sub64    sub $imm32, %r10, then ret
 *   e8 02 00  la_frame    sub $0x2e8, %rsp (a stack frame), flags then
 *                         written by xor
 *   e0 02 00  la_frame    add $0x2e0, %rsp, before add $8 and ret
 *   c4 d4 e4  la_live     add $imm32, %ecx, then setc
 *   06 00 00  la_frame3   sub $0x628, %rsp and add $0x628, %rsp, where
 *                         03 00 00, 04 00 00 and 05 00 00 (patterns too)
 *                         leave no clean split in two, nor in disp8
 *                         steps: three leas (0x2ff, 0x2ff, 0x2a)
 */
	.text
	.globl la_add
	.type la_add, @function
la_add:
	add $0x11e1d1c1, %ebx
	ret
	.size la_add, . - la_add

	.globl la_sub64
	.type la_sub64, @function
la_sub64:
	sub $0x22e2d2c2, %r10
	ret
	.size la_sub64, . - la_sub64

/* A frame of 0x2e8 bytes: the argument stored at its bottom and read back
 * shows that %rsp moved by exactly that much both ways. */
	.globl la_frame
	.type la_frame, @function
la_frame:
	sub $0x2e8, %rsp
	xor %eax, %eax
	mov %rdi, 0x2d8(%rsp)
	mov %rsi, (%rsp)
	mov 0x2d8(%rsp), %rax
	add (%rsp), %rax
	add $0x2e0, %rsp
	add $8, %rsp
	ret
	.size la_frame, . - la_frame

/* A frame of 0x628 bytes, moved in three steps each way. */
	.globl la_frame3
	.type la_frame3, @function
la_frame3:
	sub $0x628, %rsp
	xor %eax, %eax
	mov %rdi, 0x2f8(%rsp)
	mov %rsi, (%rsp)
	mov 0x2f8(%rsp), %rax
	sub (%rsp), %rax
	add $0x628, %rsp
	ret
	.size la_frame3, . - la_frame3

	.globl la_live
	.type la_live, @function
la_live:
	add $0x44e4d4c4, %ecx
	setc %al
	ret
	.size la_live, . - la_live
	.section .note.GNU-stack, "", @progbits
