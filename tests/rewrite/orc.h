/* ORC unwind entries for the module-like test objects (kernel-rules.S,
 * near-island.S, label-island.S): #included by them. */
/* ORC register numbers (Linux 6.1 arch/x86/include/asm/orc_types.h). */
#define ORC_UNDEFINED 0
#define ORC_PREV_SP 1
#define ORC_DI 3
#define ORC_BP 4
#define ORC_SP 5
#define ORC_R10 6
#define ORC_BP_INDIRECT 8

/* An ORC entry from here on: the frame at sp_reg + sp_off, the caller's
 * rbp at bp_reg + bp_off (bp_reg undefined: still in rbp); type CALL, the
 * end of the stack when end is 1. */
.macro orc sp_reg, sp_off, bp_reg=ORC_UNDEFINED, bp_off=0, end=0
.Lorc_\@:
	.pushsection .orc_unwind_ip, "a"
	.balign 4
	.long .Lorc_\@ - .
	.popsection
	.pushsection .orc_unwind, "a"
	.short \sp_off, \bp_off
	.byte \sp_reg | (\bp_reg << 4), \end << 2
	.popsection
.endm
