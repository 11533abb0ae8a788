/*
 * junction: an occurrence that the input already forms across the end of a
 * section: .text ends with the rel32 of a backward branch, "... ff ff", and
 * .text.startup starts with push %r12, "41 54"; in a module the loader may
 * put either section right after the other.  Policy in junction.sh:
 *   junction  ff ff 41  once, across .text|.text.startup
 *
 * As it is, .text ends with a jmp (a tail call): an int3 after it is never
 * reached and breaks the occurrence (int3-tail).  With -DFALLS_THROUGH it
 * ends with a call, after which execution may go on into whatever follows:
 * nothing can be put there, and the object is refused.  With -DDATA_IN_CODE
 * .text holds a byte that does not decode: it cannot be changed at all, and
 * the object is refused with the occurrence named.
 */
	.text
.Lback:
	lea 5(%rdi), %eax
	add %edx, %eax
	ret
#ifdef DATA_IN_CODE
	.byte 0x06			/* does not decode in 64-bit mode */
#endif

	.globl jn_entry
	.type jn_entry, @function
jn_entry:
	mov $0x495a6b01, %edx
	add %esi, %edi
#ifdef FALLS_THROUGH
	.byte 0xe8			/* call .Lback */
#else
	.byte 0xe9			/* jmp .Lback, rel32 whatever gas prefers */
#endif
	.long .Lback - . - 4
	.size jn_entry, . - jn_entry

	.section .text.startup, "ax", @progbits
	.globl jn_startup
	.type jn_startup, @function
jn_startup:
	push %r12
	lea 9(%rdi), %r12
	mov %r12, %rax
	pop %r12
	ret
	.size jn_startup, . - jn_startup

	.section .note.GNU-stack, "", @progbits
