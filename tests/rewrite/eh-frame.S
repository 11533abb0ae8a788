/*
 * eh-frame: a function with CFI (.eh_frame) whose code moves: an
 * occurrence spans two instructions between CFA rows (nop-split pads
 * there), so the rows after it move.  eh-frame.sh rewrites it and checks
 * the rows (check.py cfi); the variants are what the reader must refuse:
 *   -DSET_LOC   DW_CFA_set_loc in the CFA program
 *   -DUNKNOWN   an operation it does not know (0x1d, a vendor one)
 *   -DLSDA      an FDE with a language-specific data area
 * and -DPERSONALITY (a zPR CIE: a personality through DW.ref, no LSDA) and
 * -DPERSONALITY_DIRECT (a PC-relative personality pointer to a local
 * function of the moving code, which must follow it) it must take.
 * Policy in eh-frame.sh: "5a 01 f8" occurs once, across `pop %rdx` (5a)
 * and `add %edi, %eax` (01 f8).
 */
	.text
	.globl eh_work
	.type eh_work, @function
eh_work:
	.cfi_startproc
#if defined(PERSONALITY) || defined(LSDA)
	.cfi_personality 0x9b, DW.ref.eh_personality
#endif
#ifdef PERSONALITY_DIRECT
	.cfi_personality 0x1b, eh_local_personality
#endif
#ifdef LSDA
	.cfi_lsda 0x1b, .Llsda
#endif
	push %rbx
	.cfi_def_cfa_offset 16
	.cfi_offset %rbx, -16
	push %rdx
	.cfi_def_cfa_offset 24
#ifdef SET_LOC
	.cfi_escape 0x01, 0, 0, 0, 0
#endif
#ifdef UNKNOWN
	.cfi_escape 0x1d
#endif
	mov %edi, %eax
	lea 3(%rsi), %ebx
	pop %rdx
	.cfi_def_cfa_offset 16
	add %edi, %eax
	add %ebx, %eax
	pop %rbx
	.cfi_def_cfa_offset 8
	ret
	.cfi_endproc
	.size eh_work, . - eh_work

#ifdef PERSONALITY_DIRECT
	.type eh_local_personality, @function
eh_local_personality:
	ret
	.size eh_local_personality, . - eh_local_personality
#endif
#if defined(PERSONALITY) || defined(LSDA)
	.globl eh_personality
	.type eh_personality, @function
eh_personality:
	ret
	.size eh_personality, . - eh_personality
	.hidden DW.ref.eh_personality
	.weak DW.ref.eh_personality
	.section .data.rel.local.DW.ref.eh_personality, "awG", @progbits, DW.ref.eh_personality, comdat
	.align 8
	.type DW.ref.eh_personality, @object
	.size DW.ref.eh_personality, 8
DW.ref.eh_personality:
	.quad eh_personality
#endif
#ifdef LSDA
	.section .gcc_except_table, "a", @progbits
.Llsda:
	.byte 0xff, 0xff, 0x01, 0x00
#endif
	.section .note.GNU-stack, "", @progbits
