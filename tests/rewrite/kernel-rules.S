/*
 * kernel-rules: the rules that only a kernel object gets, or that must
 * keep its unwind and lock tables right.  The fixture looks like part of a
 * Linux module to the rewriter: it has a .modinfo section, ORC tables
 * (.orc_unwind_ip: s32 PC-relative addresses, .orc_unwind: struct
 * orc_entry of Linux 6.1) with an entry wherever objtool would put one,
 * and .smp_locks (s32 PC-relative pointers to lock prefixes).
 *
 * The patterns of one part would be findings in the other (a negative
 * rbp displacement holds fe ff ff), so the file is assembled twice:
 * KR_PART=1 for the frame part, KR_PART=2 for the stack part, each its own
 * "module" with its own tables and policy (kernel-rules.sh); without
 * KR_PART both are in one object, which the driver is linked with first.
 *
 * Part 1 (frame):
 *   a8 fe ff  kr_frame     mov %rdi, -0x158(%rbp) and add -0x158(%rbp),
 *                          %eax in an rbp frame (sp:bp+16): bp-rebase
 *   ac fe ff  kr_frame     mov -0x154(%rbp), %ecx: load-dest (the
 *                          destination is no register the unwinder reads)
 *   90 fe ff  kr_drap      two accesses to -0x170(%rbp) in a realigned
 *                          frame (sp:bp_indirect-8 bp:bp+0): bp-rebase
 *   88 01 00  kr_bp_push   push 0x188(%rbp), the caller's rbp at rbp+0x198,
 *                          the frame from rsp: bp-rebase, the push's move
 *                          of the stack in the entries too
 *   cf df ef  kr_push_rbx  push disp(%rbx): disp-rebase (the push's move of
 *                          the stack in an entry before the restoring lea)
 *   d7 df ef  kr_push_rbx  pop disp(%rbx): disp-rebase
 *   ca da ea  kr_frame     push $imm, frame from rbp: push-imm
 *   cd dd ed  kr_push_imm  push $imm, frame from rsp: push-imm
 *   ce de ee  kr_push_imm  push $-imm: push-imm
 *   50 01 00  kr_push_mem_sp  push 0x150(%rsp): push-mem (rsp-based: the
 *                          displacement grows by 16)
 *   cb db eb  kr_push_mem_bp  push disp(%rbp), rbp the caller's (bp
 *                          undefined): push-mem (through lea)
 *   cc dc ec  kr_push_mem_bp  push disp(%rbp,%rsi,8): push-mem
 *   c6 d6 e6  kr_lock      lock addl $1, disp(%rdi): disp-rebase, the
 *                          lock prefix inside the sequence
 *   c7 d7 e7  kr_lock      lock incl disp(%rdx): disp-rebase
 *   c9 d9 e9  kr_lock      lock addl $imm, 0x40(%rsi): scratch
 *   c8 d8 e8  kr_lock_di   lock add %esi, disp(%rdi) where the frame is
 *                          computed from rdi (sp:di+16): scratch-disp
 * Part 2 (stack):
 *   38 02 00, 02 00 00  kr_lea_sp  sub $0x238, %rsp and add $0x238, %rsp,
 *                          flags dead: lea-arith in short steps (every
 *                          disp32 step would hold fd ff ff, fe ff ff, ff ff
 *                          ff, 01 00 00 or 02 00 00)
 *   fe ff ff  kr_and_btr   and $-512 on rbx, esi and r11, flags dead, the
 *                          stack not to be moved: and-btr (each half of any
 *                          split keeps fe ff ff or ff ff ff)
 *   fe ff ff  kr_align     and $-512, %rsp realigning a frame found from
 *                          rsp until then: and-btr, the next entry (r10)
 *                          describing its steps
 *   01 00 00, ff ff ff  kr_scratch  movl $0xffffffff, 0x184(%rbx): scratch
 *                          with the base moved for the displacement
 */
#ifndef KR_PART
#define KR_PART 0
#endif

#include "orc.h"

/* A lock-prefixed instruction listed in .smp_locks, as LOCK_PREFIX does. */
.macro locked insn:vararg
.Llock_\@:
	.pushsection .smp_locks, "a"
	.balign 4
	.long .Llock_\@ - .
	.popsection
	lock \insn
.endm

.macro func name
	.globl \name
	.type \name, @function
\name:
.endm

	.section .modinfo, "a"
	.asciz "license=GPL"
	.asciz "description=pvsub kernel-rules fixture"

	.text
#if KR_PART == 0 || KR_PART == 1
/* An rbp frame as gcc builds it with frame pointers.  Returns %eax = %esi
 * plus the high half of %rdi, %ecx = that high half, %rdx = the pushed
 * constant. */
func kr_frame
	orc ORC_SP, 8
	push %rbp
	orc ORC_SP, 16, ORC_PREV_SP, -16
	mov %rsp, %rbp
	orc ORC_BP, 16, ORC_PREV_SP, -16
	sub $0x160, %rsp
	mov %rdi, -0x158(%rbp)
	mov %esi, %eax
	add -0x158(%rbp), %eax
	mov -0x154(%rbp), %ecx
	add %ecx, %eax
	sub -0x158(%rbp), %eax
	push $0x13eadaca
	pop %rdx
	leave
	orc ORC_SP, 8
	ret
	.size kr_frame, . - kr_frame

/* A realigned frame (gcc's DRAP with %r10): the frame is found through
 * the word at rbp-8, the caller's rbp at rbp.  %rax ^= %rsi; %r10 = 0. */
func kr_drap
	orc ORC_SP, 8
	lea 8(%rsp), %r10
	orc ORC_R10, 0
	and $-16, %rsp
	push -8(%r10)
	push %rbp
	mov %rsp, %rbp
	orc ORC_R10, 0, ORC_BP, 0
	push %r10
	orc ORC_BP_INDIRECT, -8, ORC_BP, 0
	sub $0x178, %rsp
	mov %rsi, -0x170(%rbp)
	xor -0x170(%rbp), %rax
	mov -8(%rbp), %r10
	leave
	orc ORC_R10, 0
	lea -8(%r10), %rsp
	orc ORC_SP, 8
	mov $0, %r10d
	ret
	.size kr_drap, . - kr_drap

/* %rcx = 0x14edddcd, %rax = -0x1e112132. */
func kr_push_imm
	orc ORC_SP, 8
	push $0x14edddcd
	orc ORC_SP, 16
	push $-0x1e112132
	orc ORC_SP, 24
	pop %rax
	orc ORC_SP, 16
	pop %rcx
	orc ORC_SP, 8
	ret
	.size kr_push_imm, . - kr_push_imm

/* %rax = %rdi, stored 0x148 bytes up in a frame, pushed from 0x150 bytes up
 * once %rsi is pushed.  The frame is made with lea: the flags an add to
 * rsp leaves depend on where the stack is. */
func kr_push_mem_sp
	orc ORC_SP, 8
	lea -0x1c0(%rsp), %rsp
	orc ORC_SP, 0x1c8
	mov %rdi, 0x148(%rsp)
	push %rsi
	orc ORC_SP, 0x1d0
	push 0x150(%rsp)
	orc ORC_SP, 0x1d8
	pop %rax
	orc ORC_SP, 0x1d0
	pop %rsi
	orc ORC_SP, 0x1c8
	lea 0x1c0(%rsp), %rsp
	orc ORC_SP, 8
	ret
	.size kr_push_mem_sp, . - kr_push_mem_sp

/* Words from the caller's frame, through its rbp (which this function
 * leaves alone: the unwinder reads the caller's rbp from it).  %rcx and
 * %rax = the words at %rbp + 0x31ebdbcb and %rbp + 8 * %rsi + 0x42ecdccc. */
func kr_push_mem_bp
	orc ORC_SP, 8
	push 0x31ebdbcb(%rbp)
	orc ORC_SP, 16
	push 0x42ecdccc(%rbp,%rsi,8)
	orc ORC_SP, 24
	pop %rax
	orc ORC_SP, 16
	pop %rcx
	orc ORC_SP, 8
	ret
	.size kr_push_mem_bp, . - kr_push_mem_bp

/* A word copied within mem[] by a push and a pop through %rbx (a register
 * the unwinder does not read: disp-rebase moves it).  Until the lea that
 * restores %rbx has run, the stack is where the push or pop left it. */
func kr_push_rbx
	orc ORC_SP, 8
	push 0x51efdfcf(%rbx)
	orc ORC_SP, 16
	pop 0x51efdfd7(%rbx)
	orc ORC_SP, 8
	ret
	.size kr_push_rbx, . - kr_push_rbx

/* The caller's rbp saved where rbp points (bp:bp+0x198), the frame from
 * rsp: bp-rebase of a push, which moves the stack as well.  %rax = %rdi,
 * through the frame. */
func kr_bp_push
	orc ORC_SP, 8
	push %rbp
	orc ORC_SP, 16, ORC_PREV_SP, -16
	lea -0x1a0(%rsp), %rsp
	orc ORC_SP, 0x1b0, ORC_PREV_SP, -16
	mov %rdi, 0x190(%rsp)
	lea 8(%rsp), %rbp
	orc ORC_SP, 0x1b0, ORC_BP, 0x198
	push 0x188(%rbp)
	orc ORC_SP, 0x1b8, ORC_BP, 0x198
	pop %rax
	orc ORC_SP, 0x1b0, ORC_BP, 0x198
	lea 0x1a0(%rsp), %rsp
	orc ORC_SP, 16, ORC_PREV_SP, -16
	pop %rbp
	orc ORC_SP, 8
	ret
	.size kr_bp_push, . - kr_bp_push

/* Atomic read-modify-writes on mem[]. */
func kr_lock
	orc ORC_SP, 8
	locked addl $1, 0x11e6d6c6(%rdi)
	locked incl 0x22e7d7c7(%rdx)
	locked addl $0x44e9d9c9, 0x40(%rsi)
	ret
	.size kr_lock, . - kr_lock

/* Code whose frame is computed from rdi (the kernel's entry code, with
 * pt_regs there): rdi may not move, even for a moment. */
func kr_lock_di
	orc ORC_DI, 16
	locked add %esi, 0x33e8d8c8(%rdi)
	ret
	.size kr_lock_di, . - kr_lock_di
#endif

#if KR_PART == 0 || KR_PART == 2
/* A frame of 0x238 bytes.  %al = 1 when the return address is 0x238 bytes
 * above the lowered stack pointer (read through %rcx = 0x47 words, so that
 * no displacement holds a pattern); %r8 = 0.  The flags are dead after
 * both the sub (cmp writes them) and the add (ret). */
func kr_lea_sp
	orc ORC_SP, 8
	mov (%rsp), %r8
	sub $0x238, %rsp
	orc ORC_SP, 0x240
	mov $0x47, %ecx
	cmp (%rsp,%rcx,8), %r8
	sete %al
	xor %r8d, %r8d
	add $0x238, %rsp
	orc ORC_SP, 8
	ret
	.size kr_lea_sp, . - kr_lea_sp

/* Masks with nine clear bits, flags dead (each and writes them all, then
 * ret); 64-bit, 32-bit (clears the upper half) and a REX register.  Where
 * the stack may move, scratch does these; and-btr is for code whose frame
 * the unwinder cannot follow, as at the end of the stack (UNWIND_HINT_EMPTY
 * of Linux 6.1: sp undefined, end 1), where nothing may be pushed. */
func kr_and_btr
	orc ORC_UNDEFINED, 0, ORC_UNDEFINED, 0, 1
	and $-512, %rbx
	and $-512, %esi
	and $-512, %r11
	ret
	.size kr_and_btr, . - kr_and_btr

/* Stack realignment as the kernel's AVX code does it (poly1305): the
 * frame found from rsp until r10 holds it, then the and, flags dead.  The
 * and's own entry reads rsp; and-btr's steps are described by the next
 * instruction's entry, which reads r10. */
func kr_align
	orc ORC_SP, 8
	push %r10
	orc ORC_SP, 16
	lea 16(%rsp), %r10
	and $-512, %rsp
	orc ORC_R10, 0
	xor %eax, %eax
	lea 1(%rdi), %rax
	lea -16(%r10), %rsp
	orc ORC_SP, 16
	pop %r10
	orc ORC_SP, 8
	ret
	.size kr_align, . - kr_align

/* A store of an immediate whose displacement holds a pattern too. */
func kr_scratch
	orc ORC_SP, 8
	movl $0xffffffff, 0x184(%rbx)
	ret
	.size kr_scratch, . - kr_scratch
#endif
	.section .note.GNU-stack, "", @progbits
