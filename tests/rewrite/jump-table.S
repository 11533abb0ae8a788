/*
 * jump-table: a switch through a table of PC-relative offsets in .rodata, as
 * compilers emit for position-independent code: .long case - table, which
 * assembles to R_X86_64_PC32 .text+N whose addend N is the case's offset
 * plus the entry's distance from the table (4k), not the case's offset.
 * The rewriter cannot tell the two apart from the relocation alone: it
 * proves the table (its base loaded by the lea, every entry a case on an
 * instruction start) and moves the entries.  Two variants it must refuse
 * (jump-table.sh): -DBASE_READ also reads the table's first word as data,
 * -DMID_ENTRY has an entry that lands inside an instruction.  Policy in
 * jump-table.sh; each pattern occurs exactly once:
 *   c1  6b 01 f8  spanning, at case 1 (entry 1: addend = case + 4)
 *   c2  6c 01 f0  spanning, 5 bytes into case 2 (entry 2: addend = case + 8,
 *                 so padding lands between the case and the addend)
 */
	.section .rodata
	.p2align 2
.Lcases:
	.long .Lc0 - .Lcases
	.long .Lc1 - .Lcases
#ifdef MID_ENTRY
	.long .Lc2 + 1 - .Lcases
#else
	.long .Lc2 - .Lcases
#endif

	.text
/* %esi selects (0..2):
 *   0: %eax = 0x6b000000 + %edi; 1: %eax = %edi * 2; 2: %eax = 0x6c000000 + %esi
 * The addresses it computes stay out of the registers it returns. */
	.globl jt_switch
	.type jt_switch, @function
jt_switch:
	push %rcx
	push %rdx
	lea .Lcases(%rip), %rdx
	mov %esi, %ecx
	movslq (%rdx,%rcx,4), %rcx
	add %rdx, %rcx
	mov %edi, %eax
#ifdef BASE_READ
	add .Lcases(%rip), %eax
#endif
	jmp *%rcx
.Lc0:
	mov $0x6b000000, %eax
.Lc1:
	add %edi, %eax
	pop %rdx
	pop %rcx
	ret
.Lc2:
	mov $0x6c000000, %eax
	add %esi, %eax
	pop %rdx
	pop %rcx
	ret
	.size jt_switch, . - jt_switch
	.section .note.GNU-stack, "", @progbits
