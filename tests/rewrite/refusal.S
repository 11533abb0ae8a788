/*
 * refusal: data in executable sections.  A section that cannot be decoded
 * completely must not be changed: an occurrence in it, or one anywhere in it
 * that needs code to move, gets the object refused.  Sections without
 * occurrences are copied as they are.  Policies in refusal.sh; each pattern
 * occurs exactly once:
 *   fix    9d 05 04  spanning, in .text, which decodes completely
 *   junk   27 d6 2f  in bytes that do not decode, in .text.junk
 *   mixed  7e 01 f0  spanning, in .text.mixed, which also holds bytes that
 *                    do not decode (without a pattern)
 */
	.text
	.globl rf_fix
	.type rf_fix, @function
rf_fix:
	mov $0x9d1234e1, %eax
	add $0x01020304, %eax
	add %edi, %eax
	ret
	.size rf_fix, . - rf_fix

	.section .text.junk, "ax", @progbits
	.globl rf_junk
	.type rf_junk, @function
rf_junk:
	lea 3(%rdi), %eax
	ret
	/* 06, 27, d6, 2f do not decode in 64-bit mode. */
	.byte 0x06, 0x27, 0xd6, 0x2f, 0x06
	.size rf_junk, . - rf_junk

	.section .text.mixed, "ax", @progbits
	.globl rf_mixed
	.type rf_mixed, @function
rf_mixed:
	mov $0x7e000000, %eax
	add %esi, %eax
	add %edi, %eax
	ret
	.byte 0x06, 0x06, 0xd6
	.size rf_mixed, . - rf_mixed
	.section .note.GNU-stack, "", @progbits
