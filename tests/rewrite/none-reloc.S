/*
 * none-reloc: R_X86_64_NONE relocations in code that must be rewritten.
 * They change no byte (the module loader and the static linker ignore
 * them; the kernel has them in btrfs, mlx5_core, xen-pciback); the rewriter
 * carries each along with the instruction it is at.  Each is at a local
 * label, so that the test can follow it.  Policy in none-reloc.sh; the
 * pattern occurs exactly once:
 *   planted  5e 4d 3c  in the immediate of the mov at nr_at_site, which
 *                      itself carries a NONE relocation
 */
	.text
	.globl nr_fn
	.type nr_fn, @function
nr_fn:
	lea 7(%rdi), %eax
nr_at_site:
	.reloc ., R_X86_64_NONE, nr_other
	mov $0x3c4d5e01, %edx
	add %edx, %eax
nr_after:
	.reloc ., R_X86_64_NONE, nr_data
	test %esi, %esi
	jz 1f
nr_in_branch:
	.reloc ., R_X86_64_NONE, nr_fn
	add %esi, %eax
1:	ret
	.size nr_fn, . - nr_fn

	.globl nr_other
	.type nr_other, @function
nr_other:
	lea (%rdi,%rsi,2), %eax
	ret
	.size nr_other, . - nr_other
nr_end:
	/* At the section's end: it stays there. */
	.reloc ., R_X86_64_NONE, nr_other

	.data
	.globl nr_data
nr_data:
	.quad 0

	.section .note.GNU-stack, "", @progbits
