/* SPDX-License-Identifier: MIT */
/*
 * A real gate instruction in guest code: WRPKRU would let the guest open the
 * device window itself.  pvsub-scan reports it as class "instruction" and
 * the default policy rejects it.
 */
	.text
	.globl	open_window
	.type	open_window, @function
open_window:
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%eax, %eax
	.byte	0x0f, 0x01, 0xef	/* wrpkru */
	ret
	.size	open_window, .-open_window
