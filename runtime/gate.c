/* SPDX-License-Identifier: MIT */
/*
 * gate: the guest API's gates for the loopback device window (gate.h).
 */
#include <sys/mman.h>
#include <sys/syscall.h>

#include "runtime/gate.h"
#include "runtime/guestapi.h"
#include "runtime/handoff.h"

#define STR_(x) #x
#define STR(x) STR_(x)

long gate_close_prot = PROT_NONE;

/*
 * One gate, NAME (the guest's symbol) calling BODY: the arguments are kept
 * in callee-saved registers across the opening system call; the body's
 * result in %r14 across the closing one.  Four pushes and 8 bytes keep
 * the stack 16-byte aligned for the call.  A closing mprotect that fails
 * (the filter kills first) would leave the window open: ud2.
 */
#define GATE(NAME, BODY)                                                                                                                                                                                \
	".globl " #NAME "\n"                                                                                                                                                                            \
	".type " #NAME ", @function\n" #NAME ":\n"                                                                                                                                                      \
	"	cld\n"                                                                                                                                                                                        \
	"	pushq %rbx\n"                                                                                                                                                                                 \
	"	pushq %r12\n"                                                                                                                                                                                 \
	"	pushq %r13\n"                                                                                                                                                                                 \
	"	pushq %r14\n"                                                                                                                                                                                 \
	"	subq $8, %rsp\n"                                                                                                                                                                              \
	"	movq %rdi, %rbx\n"                                                                                                                                                                            \
	"	movq %rsi, %r12\n"                                                                                                                                                                            \
	"	movq %rdx, %r13\n"                                                                                                                                                                            \
	"	movl $" STR(                                                                                                                                                                            \
		SYS_mprotect) ", %eax\n"                                                                                                                                                                \
			      "	movl $" STR(                                                                                                                                                            \
				      GUESTRUN_WINDOW) ", %edi\n"                                                                                                                                       \
						       "	movl $" STR(                                                                                                                            \
							       GUESTRUN_WINDOW_SIZE) ", %esi\n"                                                                                                         \
										     "	movl $3, "                                                                                                       \
										     "%edx\n"                                                                                                           \
										     "	syscall"                                                                                                         \
										     "\n" #NAME                                                                                                         \
										     "_open_site:"                                                                                                      \
										     "\n"                                                                                                               \
										     "	movq "                                                                                                           \
										     "%rbx, "                                                                                                           \
										     "%rdi\n"                                                                                                           \
										     "	movq "                                                                                                           \
										     "%r12, "                                                                                                           \
										     "%rsi\n"                                                                                                           \
										     "	movq "                                                                                                           \
										     "%r13, "                                                                                                           \
										     "%rdx\n"                                                                                                           \
										     "	call"                                                                                                            \
										     " " #BODY                                                                                                          \
										     "\n"                                                                                                               \
										     "	movq "                                                                                                           \
										     "%rax, "                                                                                                           \
										     "%r14\n"                                                                                                           \
										     "	movl "                                                                                                           \
										     "$" STR(SYS_mprotect) ", %eax\n"                                                                                   \
													   "	movl $" STR(                                                                            \
														   GUESTRUN_WINDOW) ", %edi\n"                                                          \
																    "	movl $" STR(                                                    \
																	    GUESTRUN_WINDOW_SIZE) ", %esi\n"                            \
																				  "	movq gate_close_prot(%rip), %rdx\n" \
																				  "	syscall\n" #NAME                \
																				  "_close_site:\n"                      \
																				  "	testq %rax, %rax\n"                 \
																				  "	jz 1f\n"                            \
																				  "	ud2\n"                              \
																				  "1:	movq %r14, %rax\n"                \
																				  "	addq $8, %rsp\n"                    \
																				  "	popq %r14\n"                        \
																				  "	popq %r13\n"                        \
																				  "	popq %r12\n"                        \
																				  "	popq %rbx\n"                        \
																				  "	ret\n"                              \
																				  ".size " #NAME                        \
																				  ", . - " #NAME                        \
																				  "\n"

__asm__(".text\n" GATE(pvsub_tx, guestapi_tx) GATE(pvsub_rx, guestapi_rx)
		GATE(pvsub_log, guestapi_log));

extern const char pvsub_tx_open_site[], pvsub_rx_open_site[], pvsub_log_open_site[];
extern const char pvsub_tx_close_site[], pvsub_rx_close_site[], pvsub_log_close_site[];

const uintptr_t gate_open_sites[GATE_COUNT] = {
	(uintptr_t)pvsub_tx_open_site,
	(uintptr_t)pvsub_rx_open_site,
	(uintptr_t)pvsub_log_open_site,
};
const uintptr_t gate_close_sites[GATE_COUNT] = {
	(uintptr_t)pvsub_tx_close_site,
	(uintptr_t)pvsub_rx_close_site,
	(uintptr_t)pvsub_log_close_site,
};
