/*
 * label-island: a module-like object (.modinfo, ORC tables) with a 2-byte
 * jump label whose target, jl_yes, 125 bytes after the site, is pushed
 * out of rel8 reach when the rewriter replaces the `mov` in between by a
 * longer sequence (policy in label-island.sh: e6 d6 c6, in its
 * immediate).  The rewriter puts a jump island after jl_func's `ret`, in
 * the site's reach, and points the __jump_table entry's target at it.
 * The site holds the 2-byte NOP, or with -DJL_JMP the `jmp` (the key's
 * initial state enabled).  With -DJL_HOP jl_func does not end in a `ret`
 * with an int3 after it: every instruction in reach falls through, so the
 * island goes behind a hop (`jmp rel8` over it), after the nearest one.
 * With -DJL_NO_SPOT, also one FDE covers all the code, so no island may go
 * anywhere in reach, and the rewrite is refused.
 */
#include "orc.h"

	.section .modinfo, "a"
	.asciz "license=GPL"
	.asciz "description=pvsub label-island fixture"

	.text
	.globl jl_func
	.type jl_func, @function
jl_func:
#ifdef JL_NO_SPOT
	.cfi_startproc
#endif
	orc ORC_SP, 8
#ifdef JL_JMP
1:	jmp jl_yes
#else
1:	.byte 0x66, 0x90
#endif
	mov %edi, %eax
#if !defined JL_NO_SPOT && !defined JL_HOP
	ret
	.size jl_func, . - jl_func
	orc ORC_SP, 24 /* the int3's, restored after the island in front of it */
	int3
#else
	nop
	nop
	.size jl_func, . - jl_func
#endif

	.type jl_other, @function
jl_other:
	orc ORC_SP, 8
	mov $0xc6d6e6, %ecx
	.fill 0x74, 1, 0x90
	.globl jl_yes
jl_yes:
	lea 1(%rdi), %eax
	ret
#ifdef JL_NO_SPOT
	.cfi_endproc
#endif
	.size jl_other, . - jl_other

	.section __jump_table, "aw"
	.balign 8
	.long 1b - ., jl_yes - .
	.quad 0
