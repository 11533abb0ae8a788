/*
 * summary: one object per kind of outcome of --rewrite, chosen with -D.
 * Policy in summary.sh: "planted" 3a 2b 1c.
 *   CLEAN    no occurrence: copied
 *   REWRITE  one occurrence in an immediate: rewritten
 *   NOBITS   no occurrence, but an executable SHT_NOBITS section, a layout
 *            violation that the output would have too: refused with no
 *            finding at all
 *   DATA     an occurrence in a section that also holds data: refused
 */
	.text
	.globl sm_fn
	.type sm_fn, @function
sm_fn:
#if defined(REWRITE) || defined(DATA)
	mov $0x1c2b3a01, %eax
#else
	mov $1, %eax
#endif
	ret
	.size sm_fn, . - sm_fn
#ifdef DATA
	.byte 0x06, 0x06
#endif
#ifdef NOBITS
	.section .exec_bss, "ax", @nobits
	.skip 16
#endif
	.section .note.GNU-stack, "", @progbits
