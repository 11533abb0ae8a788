/*
 * trap: a real gate instruction (wrpkru, 0f 01 ef) in a function the driver
 * never calls.  With on-instruction="trap" the rewriter puts ud2 (0f 0b) in
 * its place; with "reject" it must refuse the object.  The functions around
 * it, and a jump across it, must work as before.
 */
	.text
/* %rax = %rdi + %rsi */
	.globl tr_add
	.type tr_add, @function
tr_add:
	lea (%rdi,%rsi), %rax
	ret
	.size tr_add, . - tr_add

/* %eax = %edi + 7, by a jump over tr_gate into tr_after. */
	.globl tr_cross
	.type tr_cross, @function
tr_cross:
	mov %edi, %eax
	jmp .Lacross
	.size tr_cross, . - tr_cross

/* Never called: the gate. */
	.globl tr_gate
	.type tr_gate, @function
tr_gate:
	mov %edi, %eax
	xor %ecx, %ecx
	xor %edx, %edx
	wrpkru
	ret
	.size tr_gate, . - tr_gate

/* %eax = %edi * 2 + %esi */
	.globl tr_after
	.type tr_after, @function
tr_after:
	lea (%rsi,%rdi,2), %eax
	ret
.Lacross:
	add $7, %eax
	ret
	.size tr_after, . - tr_after
	.section .note.GNU-stack, "", @progbits
