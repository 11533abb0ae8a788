/*
 * rel8-only: loop and jrcxz have no rel32 form.  Padding in the range of
 * one at its limit puts the target out of reach; the rewriter must then
 * find another encoding or refuse, never emit a wrong branch.  Policy in
 * rel8-only.sh; each pattern occurs exactly once:
 *   loop   5b 01 d0  spanning, inside a loop whose `loop` is rel8 -128
 *   jrcxz  6c 01 d0  spanning, inside the range of a jrcxz rel8 +127
 */
	.text
/* %eax = %edi * (%esi + 0x5b000000 + 90), for %edi >= 1; %ecx = 0 */
	.globl lo_loop
	.type lo_loop, @function
lo_loop:
	mov %edi, %ecx
	xor %eax, %eax
.Llo:
	add %esi, %eax
	mov $0x5b000000, %edx
	add %edx, %eax
	.rept 30
	add $3, %eax
	.endr
	.fill .Llo + 126 - ., 1, 0x90
	loop .Llo
	ret
	.size lo_loop, . - lo_loop

/* %eax = %edi ? %esi + 0x6c000000 + 90 : 1; %ecx = %edi */
	.globl lo_jrcxz
	.type lo_jrcxz, @function
lo_jrcxz:
	mov %edi, %ecx
	mov $1, %eax
	jrcxz .Lz_end
.Lz_from:
	mov %esi, %eax
	mov $0x6c000000, %edx
	add %edx, %eax
	.rept 30
	add $3, %eax
	.endr
	.fill .Lz_from + 127 - ., 1, 0x90
.Lz_end:
	ret
	.size lo_jrcxz, . - lo_jrcxz
	.section .note.GNU-stack, "", @progbits
