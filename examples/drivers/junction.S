/* SPDX-License-Identifier: MIT */
/*
 * Two executable sections that are each clean, but the module loader may
 * place .text.unlikely straight after .text: the last bytes of one (0f 01)
 * and the first byte of the other (d4) then execute as VMFUNC.  pvsub-scan
 * checks every junction of two executable sections.
 */
	.text
	.globl	junc_a
	.type	junc_a, @function
junc_a:
	ret
	.byte	0x0f, 0x01
	.size	junc_a, .-junc_a

	.section .text.unlikely,"ax",@progbits
	.globl	junc_b
	.type	junc_b, @function
junc_b:
	.byte	0xd4
	ret
	.size	junc_b, .-junc_b
