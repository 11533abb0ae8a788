/*
 * scratch-reg: the scratch rule borrows another register when the one it
 * takes first forms a pattern with the frame around it.  Outside the
 * kernel the borrowed register's pop is followed by `lea 0x80(%rsp),
 * %rsp` (48 8d ...), so `pop %rax` (58) and `pop %rcx` (59) form the
 * patterns 58 48 8d and 59 48 8d of scratch-reg.sh's policy whatever the
 * immediate becomes (Lua 5.4's ldo.o, gcc -O2 -fPIE: `cmp dword ptr [rdi +
 * 0xb0], 0xffff` in lua_isyieldable).  The borrowed register, the flags of
 * the comparison and every other register must come out as before.
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
/* rax free: rax and then rcx form a pattern, rdx is taken. */
	site sr_cmp, cmpl $0xffff, 0xb0(%rdi)		/* 81 bf b0 00 00 00 ff ff 00 00 */
/* rdx is the base: rsi is taken. */
	site sr_add, addl $0x1ffff, 8(%rdx)		/* 81 42 08 ff ff 01 00 */
/* lua_isyieldable as gcc compiles it: rax is written just before (but
 * not read by the cmp), the result in al. */
	.globl sr_lua
	.type sr_lua, @function
sr_lua:
	xor %eax, %eax
	cmpl $0xffff, 0xb0(%rdi)
	setbe %al
	ret
	.size sr_lua, . - sr_lua
