/*
 * rel-adjust: intra-section branches and RIP-relative operands whose
 * displacement must change.  Policy in rel-adjust.sh; each pattern occurs
 * exactly once:
 *   back  5b 01 c8  spanning, inside a loop whose jnz is rel8 -128: the
 *                   padding puts the target out of range, rel8 -> rel32
 *   fwd   6c 01 c8  spanning, inside the range of a jz rel8 +127
 *   call  10 01 00  the rel32 of a call to a local function
 *   jmp   f0 fe ff  the rel32 of a backward jmp
 *   jcc   30 01 00  the rel32 of a jne
 *   lea   20 01 00  the disp32 of lea func(%rip), a function in .text
 *   span  4d 01 c8  spanning, between a call and its target 0x210 bytes on:
 *                   the padding makes the call's rel32 0x211, which holds
 *   round 11 02 00  (absent from the input) so it must go in another round
 * The fill bytes are nops that are never executed; they only set distances.
 */
	.text
/* %eax = %edi * (%esi + 0x5b000000 + 90), for %edi >= 1. */
	.globl ra_back
	.type ra_back, @function
ra_back:
	xor %eax, %eax
.Lback:
	add %esi, %eax
	mov $0x5b000000, %ecx
	add %ecx, %eax
	.rept 30
	add $3, %eax
	.endr
	.fill .Lback + 124 - ., 1, 0x90
	dec %edi
	jnz .Lback
	ret
	.size ra_back, . - ra_back

/* %eax = %edi ? %esi + 0x6c000000 + 90 : 1 */
	.globl ra_fwd
	.type ra_fwd, @function
ra_fwd:
	mov $1, %eax
	test %edi, %edi
	jz .Lfwd_end
.Lfwd_from:
	mov %esi, %eax
	mov $0x6c000000, %ecx
	add %ecx, %eax
	.rept 30
	add $3, %eax
	.endr
	.fill .Lfwd_from + 127 - ., 1, 0x90
.Lfwd_end:
	ret
	.size ra_fwd, . - ra_fwd

/* %eax = %edi + %esi + 5, through a call 0x110 bytes forward. */
	.globl ra_call
	.type ra_call, @function
ra_call:
	call .Lcallee
.Lcall_end:
	add $5, %eax
	ret
	.fill .Lcall_end + 0x110 - ., 1, 0x90
.Lcallee:
	lea (%rdi,%rsi), %eax
	ret
	.size ra_call, . - ra_call

/* %eax = (%edi | %esi) + 1 through lea func(%rip), 0x120 bytes forward,
 * and an indirect call. */
	.globl ra_lea
	.type ra_lea, @function
ra_lea:
	lea .Lleafn(%rip), %rax
.Llea_end:
	call *%rax
	add $1, %eax
	ret
	.fill .Llea_end + 0x120 - ., 1, 0x90
.Lleafn:
	mov %edi, %eax
	or %esi, %eax
	ret
	.size ra_lea, . - ra_lea

/* %eax = %edi == %esi ? 0x77 : 0x99, the not-equal case 0x130 bytes away. */
	.globl ra_jcc
	.type ra_jcc, @function
ra_jcc:
	cmp %esi, %edi
	jne .Lne
.Ljcc_end:
	mov $0x77, %eax
	ret
	.fill .Ljcc_end + 0x130 - ., 1, 0x90
.Lne:
	mov $0x99, %eax
	ret
	.size ra_jcc, . - ra_jcc

/* ra_jmp: %eax = %edi ^ 0x3c.  ra_jmp2: %eax = %esi ^ 0x3c, through a jmp
 * 0x110 bytes back into ra_jmp. */
	.globl ra_jmp
	.type ra_jmp, @function
ra_jmp:
	mov %edi, %eax
.Ljmp_target:
	xor $0x3c, %eax
	ret
	.fill 0x100, 1, 0x90
	.size ra_jmp, . - ra_jmp
	.globl ra_jmp2
	.type ra_jmp2, @function
ra_jmp2:
	mov %esi, %eax
	.fill .Ljmp_target + 0x110 - 5 - ., 1, 0x90
	jmp .Ljmp_target
	.size ra_jmp2, . - ra_jmp2
/* %eax = %edi + 3 + 0x4d000000 + %ecx, with %ecx = 0x4d000000 */
	.globl ra_round
	.type ra_round, @function
ra_round:
	call .Lround_callee
.Lround_end:
	mov $0x4d000000, %ecx
	add %ecx, %eax
	ret
	.fill .Lround_end + 0x210 - ., 1, 0x90
.Lround_callee:
	lea 3(%rdi), %eax
	ret
	.size ra_round, . - ra_round
	.section .note.GNU-stack, "", @progbits
