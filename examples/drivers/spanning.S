/* SPDX-License-Identifier: MIT */
/*
 * A gate opcode that spans two instructions: the immediate of the first
 * ends in 0f 01 and the second instruction is `out %eax,(%dx)` (ef), so the
 * bytes 0f 01 ef (WRPKRU) run across the boundary: class "spanning".
 */
	.text
	.globl	span_io
	.type	span_io, @function
span_io:
	movl	$0x010f0000, %eax	/* b8 00 00 0f 01 */
	outl	%eax, (%dx)		/* ef */
	ret
	.size	span_io, .-span_io
