/*
 * jump-island: branches whose rel32 displacement holds a pattern that only
 * a long stretch of padding would remove (the pattern in its high bytes):
 * each goes through a `jmp` placed after the section's last instruction.
 * Policy in jump-island.sh:
 *   fwd   01 00 00  jmp over 0x10b bytes: e9 0b 01 00 00
 *   jcc   02 00 00  je over 0x22a bytes:  0f 84 2a 02 00 00
 *   back  ff ff ff  call to a function just before (a short negative rel32,
 *                   forced with {disp32}): every one holds ff ff ff
 * Removing them by padding would take 0xf5, 0x1d6 and 0x100 bytes or more.
 */
	.text
	.globl ji_fwd
	.type ji_fwd, @function
/* %eax = %edi + 3 */
ji_fwd:
	lea 1(%rdi), %eax
	jmp 1f
	.fill 0x10b, 1, 0xcc /* never reached */
1:	add $2, %eax
	ret
	.size ji_fwd, . - ji_fwd

	.globl ji_jcc
	.type ji_jcc, @function
/* %eax = %edi == 7 ? 100 : %edi ^ 0x55; the flags of the xor or the cmp */
ji_jcc:
	mov $100, %eax
	cmp $7, %edi
	je 2f
	mov %edi, %eax
	xor $0x55, %eax
	ret
	.fill 0x224, 1, 0xcc /* never reached */
2:	ret
	.size ji_jcc, . - ji_jcc

	.type ji_leaf, @function
/* %rax = %rsi * 3 */
ji_leaf:
	lea (%rsi,%rsi,2), %rax
	ret
	.size ji_leaf, . - ji_leaf

	.globl ji_back
	.type ji_back, @function
/* %rax = %rsi * 3 + 1, through a call whose rel32 is short and negative */
ji_back:
	{disp32} call ji_leaf
	inc %rax
	ret
	.size ji_back, . - ji_back
	.section .note.GNU-stack, "", @progbits
