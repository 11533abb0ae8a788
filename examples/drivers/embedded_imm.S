/* SPDX-License-Identifier: MIT */
/*
 * Gate opcodes hidden inside other instructions: WRPKRU (0f 01 ef) in an
 * immediate and VMFUNC (0f 01 d4) in a displacement.  Neither is executed
 * as written, but a jump into the middle of the instruction would execute
 * it, so pvsub-scan reports both as class "embedded".
 */
	.text
	.globl	emb_magic
	.type	emb_magic, @function
emb_magic:
	movl	$0x00ef010f, %eax	/* b8 0f 01 ef 00 */
	ret
	.size	emb_magic, .-emb_magic

	.globl	emb_load
	.type	emb_load, @function
emb_load:
	movl	0x00d4010f(%rdi), %eax	/* 8b 87 0f 01 d4 00 */
	ret
	.size	emb_load, .-emb_load
