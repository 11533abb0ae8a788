/*
 * refusals: every blocking site is named.
 *
 * As it is: .text holds bytes that do not decode (data in code) and three
 * occurrences of "many" (7d 6c 5b) in immediates that a rule could change
 * anywhere else.  The section cannot be changed, and each occurrence is
 * listed with that reason, besides the section's own refusal.
 *
 * With -DMODULE: a module whose .altinstructions cannot be read (13 bytes,
 * not a multiple of 12) and whose .text holds a real wrpkru (0f 01 ef):
 * both are named, not only the table.
 */
#ifndef MODULE
	.text
	.globl rs_many
	.type rs_many, @function
rs_many:
	mov $0x5b6c7d01, %eax
	mov $0x5b6c7d02, %ecx
	add %ecx, %eax
	mov $0x5b6c7d03, %edx
	add %edx, %eax
	ret
	.size rs_many, . - rs_many
	/* 06 does not decode in 64-bit mode. */
	.byte 0x06, 0x06, 0x06, 0x06
#else
	.section .modinfo, "a"
	.asciz "license=GPL"
	.asciz "name=refusals"

	.text
	.globl rs_gate
	.type rs_gate, @function
rs_gate:
	xor %ecx, %ecx
	xor %edx, %edx
	mov %edi, %eax
	.byte 0x0f, 0x01, 0xef		/* wrpkru */
	ret
	.size rs_gate, . - rs_gate
.Lsite:
	nop

	.section .altinstructions, "a", @progbits
	.long .Lsite - .
	.long .Lsite - .
	.word 0x0120
	.byte 1, 0
	.byte 0				/* one byte too many */
#endif
	.section .note.GNU-stack, "", @progbits
