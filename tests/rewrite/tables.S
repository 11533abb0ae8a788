/*
 * tables: a module-like object (.modinfo) whose alternatives table has
 * empty replacements, as Linux 6.1 modules do (kvm-amd, hv_balloon): an
 * entry with replacementlen 0 may point where another entry's replacement
 * starts, or at the very end of .altinstr_replacement.  Both are legal and
 * define no window.  Policies in tables.sh:
 *   absent  a0 b0 c0  occurs nowhere: the object must be copied as it is
 *   planted 9a 8b 7c  once, in the immediate of tb_planted's mov, in front
 *                     of the alternative sites, which move when it is
 *                     rewritten
 *
 *   struct alt_instr { s32 instr, repl; u16 cpuid; u8 instrlen, replacementlen; }
 */
	.section .modinfo, "a"
	.asciz "license=GPL"
	.asciz "name=tables"

	.text
	.globl tb_planted
	.type tb_planted, @function
tb_planted:
	mov $0x7c8b9a01, %eax
	add %edi, %eax
	ret
	.size tb_planted, . - tb_planted

/* Three alternative sites, each named by a local symbol so that a test can
 * follow it through the rewrite.  What the kernel may patch in is never
 * executed here: the driver runs the original instructions. */
	.globl tb_alts
	.type tb_alts, @function
tb_alts:
	lea 1(%rdi), %eax
tb_alt_end:				/* empty replacement at the section's end */
	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00
tb_alt_shared:				/* empty replacement where tb_alt_full's starts */
	.byte 0x0f, 0x1f, 0x00
	add %esi, %eax
tb_alt_full:				/* a 5-byte replacement */
	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00
	add %esi, %eax
	ret
	.size tb_alts, . - tb_alts

	.section .altinstr_replacement, "ax", @progbits
.Lrepl_full:
	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00
.Lrepl_end:

	.section .altinstructions, "a", @progbits
	/* instr, repl, cpuid, instrlen, replacementlen */
	.long tb_alt_end - .
	.long .Lrepl_end - .
	.word 0x0120
	.byte 5, 0
	.long tb_alt_shared - .
	.long .Lrepl_full - .
	.word 0x0121
	.byte 3, 0
	.long tb_alt_full - .
	.long .Lrepl_full - .
	.word 0x0122
	.byte 5, 5

	.section .note.GNU-stack, "", @progbits
