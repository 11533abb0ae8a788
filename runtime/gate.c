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
 * The gates' own stack (gate.h), its top the window's end, so that a
 * gate's body runs on memory that only an open window reaches.  A
 * guest that jumps onto an opening site with its stack pointer aimed into
 * the window (or just above it) would otherwise have the body's frames,
 * its pushed registers (the guest's values) and its snapshot of the
 * descriptors, written into the device's state while the window is open.
 * One stack: one thread in a gate at a time, which the pkey gates' lock
 * (gate.h) ensures; only the pkey backend runs guest threads.
 */
#define GATE_STACK_TOP STR(GUESTRUN_WINDOW) " + " STR(GUESTRUN_WINDOW_SIZE)
#define GATE_LOCK_S STR(GATE_LOCK)

/*
 * The parts every gate shares.  GATE_ENTER: the symbol, the direction
 * flag cleared (memcpy() copies downwards with it set, as a guest can
 * leave it), the caller's callee-saved registers pushed (four pushes and
 * 8 bytes keep its stack as a call expects it: the frame that
 * tests/guest/attack.c builds when it jumps in) and the arguments kept in
 * them.  GATE_CALL: BODY called with them on the gates' own stack, the
 * caller's stack pointer in %r14 meanwhile, the result in %r14 after.
 * GATE_LEAVE: that result returned, the registers restored.
 */
/* clang-format off */
#define GATE_ENTER(NAME)					\
	".globl " #NAME "\n"					\
	".type " #NAME ", @function\n"				\
	#NAME ":\n"						\
	"	cld\n"						\
	"	pushq %rbx\n"					\
	"	pushq %r12\n"					\
	"	pushq %r13\n"					\
	"	pushq %r14\n"					\
	"	subq $8, %rsp\n"				\
	"	movq %rdi, %rbx\n"				\
	"	movq %rsi, %r12\n"				\
	"	movq %rdx, %r13\n"

#define GATE_CALL(BODY)						\
	"	movq %rsp, %r14\n"				\
	"	movq $(" GATE_STACK_TOP "), %rsp\n"		\
	"	movq %rbx, %rdi\n"				\
	"	movq %r12, %rsi\n"				\
	"	movq %r13, %rdx\n"				\
	"	call " #BODY "\n"				\
	"	movq %r14, %rsp\n"				\
	"	movq %rax, %r14\n"

#define GATE_LEAVE(NAME)					\
	"	movq %r14, %rax\n"				\
	"	addq $8, %rsp\n"				\
	"	popq %r14\n"					\
	"	popq %r13\n"					\
	"	popq %r12\n"					\
	"	popq %rbx\n"					\
	"	ret\n"						\
	".size " #NAME ", . - " #NAME "\n"
/* clang-format on */

/*
 * One mprotect gate, NAME (the guest's symbol) calling BODY: the arguments
 * cross the opening system call in callee-saved registers, the body's
 * result the closing one in %r14.  A closing mprotect that fails (the
 * filter kills first) would leave the window open: ud2.
 */
/* clang-format off */
#define GATE(NAME, BODY)					\
	GATE_ENTER(NAME)					\
	"	movl $" STR(SYS_mprotect) ", %eax\n"		\
	"	movl $" STR(GUESTRUN_WINDOW) ", %edi\n"		\
	"	movl $" STR(GUESTRUN_WINDOW_SIZE) ", %esi\n"	\
	"	movl $3, %edx\n"				\
	"	syscall\n"					\
	#NAME "_open_site:\n"					\
	GATE_CALL(BODY)						\
	"	movl $" STR(SYS_mprotect) ", %eax\n"		\
	"	movl $" STR(GUESTRUN_WINDOW) ", %edi\n"		\
	"	movl $" STR(GUESTRUN_WINDOW_SIZE) ", %esi\n"	\
	"	movq gate_close_prot(%rip), %rdx\n"		\
	"	syscall\n"					\
	#NAME "_close_site:\n"					\
	"	testq %rax, %rax\n"				\
	"	jz 1f\n"					\
	"	ud2\n"						\
	"1:"							\
	GATE_LEAVE(NAME)

__asm__(".text\n"
	GATE(pvsub_tx, guestapi_tx)
	GATE(pvsub_rx, guestapi_rx)
	GATE(pvsub_log, guestapi_log));
/* clang-format on */

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

/* --- the pkey backend ------------------------------------------------------------ */

/*
 * One pkey gate, NAME calling BODY, with the same frame and the same
 * stack switch as GATE().  Each
 * WRPKRU is preceded by ecx = edx = 0 (anything else is #GP) and followed
 * by RDPKRU and a test of the window key's bits against an immediate: the
 * value this site must have produced, whatever %eax the guest jumped in
 * with.  NAME_open_wrpkru and NAME_close_wrpkru label the WRPKRU
 * instructions themselves: the recorded gate sites.  Between the opening
 * check and the stack switch the gate takes the gates' lock (gate.h), a
 * word that only an open window reaches, and it gives it back before it
 * closes: one thread at a time on the gates' stack and in the device.
 */
_Static_assert(GATE_PKEY_BITS == 3u << (2 * GATE_PKEY), "the bits are the key's");

/* clang-format off */
#define PKEY_BITS STR(GATE_PKEY_BITS)
/* Close the window: WRPKRU at SITE (a recorded site) with the key's bits
 * set, then ud2 unless they read back set; it falls through at label 2. */
#define PKEY_CLOSE(SITE)					\
	"	xorl %ecx, %ecx\n"				\
	"	rdpkru\n"					\
	"	orl $" PKEY_BITS ", %eax\n"			\
	"	xorl %ecx, %ecx\n"				\
	"	xorl %edx, %edx\n"				\
	SITE ":\n"						\
	"	wrpkru\n"					\
	"	xorl %ecx, %ecx\n"				\
	"	rdpkru\n"					\
	"	andl $" PKEY_BITS ", %eax\n"			\
	"	cmpl $" PKEY_BITS ", %eax\n"			\
	"	je 2f\n"					\
	"	ud2\n"						\
	"2:"

#define PKEY_GATE(NAME, BODY)					\
	GATE_ENTER(NAME)					\
	"	xorl %ecx, %ecx\n"				\
	"	rdpkru\n"					\
	"	andl $~" PKEY_BITS ", %eax\n"			\
	"	xorl %ecx, %ecx\n"				\
	"	xorl %edx, %edx\n"				\
	#NAME "_open_wrpkru:\n"					\
	"	wrpkru\n"					\
	"	xorl %ecx, %ecx\n"				\
	"	rdpkru\n"					\
	"	testl $" PKEY_BITS ", %eax\n"			\
	"	jz 1f\n"					\
	"	ud2\n"						\
	"1:	movl $1, %ecx\n"				\
	"	xorl %eax, %eax\n"				\
	"	lock cmpxchgl %ecx, (" GATE_LOCK_S ")\n"	\
	"	jz 3f\n"					\
	"	pause\n"					\
	"	jmp 1b\n"					\
	"3:"							\
	GATE_CALL(BODY)						\
	"	movl $0, (" GATE_LOCK_S ")\n"		\
	PKEY_CLOSE(#NAME "_close_wrpkru")			\
	GATE_LEAVE(NAME)

__asm__(".text\n"
	PKEY_GATE(pvsub_tx_pkey, guestapi_tx)
	PKEY_GATE(pvsub_rx_pkey, guestapi_rx)
	PKEY_GATE(pvsub_log_pkey, guestapi_log)
	PKEY_GATE(gate_thread_start_pkey, guestapi_thread_start)
	".globl gate_rdpkru\n"
	".type gate_rdpkru, @function\n"
	"gate_rdpkru:\n"
	"	xorl %ecx, %ecx\n"
	"	rdpkru\n"
	"	ret\n"
	".size gate_rdpkru, . - gate_rdpkru\n");
/* clang-format on */

extern const char pvsub_tx_pkey_open_wrpkru[], pvsub_tx_pkey_close_wrpkru[];
extern const char pvsub_rx_pkey_open_wrpkru[], pvsub_rx_pkey_close_wrpkru[];
extern const char pvsub_log_pkey_open_wrpkru[], pvsub_log_pkey_close_wrpkru[];
extern const char gate_thread_start_pkey_open_wrpkru[], gate_thread_start_pkey_close_wrpkru[];
extern const char gate_thread_child_pkey_close_wrpkru[];
extern const char gate_clone_site[], gate_thread_exit_site[];

const uintptr_t gate_wrpkru_sites[GATE_WRPKRU_COUNT] = {
	(uintptr_t)pvsub_tx_pkey_open_wrpkru,
	(uintptr_t)pvsub_tx_pkey_close_wrpkru,
	(uintptr_t)pvsub_rx_pkey_open_wrpkru,
	(uintptr_t)pvsub_rx_pkey_close_wrpkru,
	(uintptr_t)pvsub_log_pkey_open_wrpkru,
	(uintptr_t)pvsub_log_pkey_close_wrpkru,
	(uintptr_t)gate_thread_start_pkey_open_wrpkru,
	(uintptr_t)gate_thread_start_pkey_close_wrpkru,
	(uintptr_t)gate_thread_child_pkey_close_wrpkru,
};

/* --- threads, under the pkey backend ---------------------------------------------- */

/*
 * gate_clone(fn, arg, top) (gate.h): clone from its one site
 * (gate_clone_site) with exactly GATE_CLONE_FLAGS and @top as the new
 * thread's stack pointer (the flags are built in two steps: as one
 * immediate, 0x50f00, they would hold the bytes of a `syscall`).  @fn and
 * @arg cross the system call in %r12 and
 * %r13, which the child keeps.  The parent restores them and returns what
 * clone returned.  The child starts with its creator's PKRU, the window
 * open (its creator is inside gate_thread_start_pkey): before it touches
 * any memory it closes the window with the checked sequence of the gates
 * (its WRPKRU, gate_thread_child_pkey_close_wrpkru, is a recorded site;
 * ud2 unless both of the key's bits are set after it), then calls @fn(@arg)
 * on its stack, and ends with exit(2) from its own site
 * (gate_thread_exit_site) when @fn returns.  A guest that jumps onto the
 * clone's `syscall` with flags of its choosing is killed by the filter;
 * with the exact flags it gets what the API gives, a thread that runs its
 * code with the window closed.
 */
/* clang-format off */
__asm__(".text\n"
	".globl gate_clone\n"
	".type gate_clone, @function\n"
	"gate_clone:\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	movq %rdi, %r12\n"
	"	movq %rsi, %r13\n"
	"	movq %rdx, %rsi\n"
	"	movl $" STR(GATE_CLONE_FLAGS) " - 0x100, %edi\n"
	"	orl $0x100, %edi\n"
	"	xorl %edx, %edx\n"
	"	xorl %r10d, %r10d\n"
	"	xorl %r8d, %r8d\n"
	"	movl $" STR(SYS_clone) ", %eax\n"
	"	syscall\n"
	"gate_clone_site:\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	ret\n"
	"1:"
	PKEY_CLOSE("gate_thread_child_pkey_close_wrpkru")
	"	xorl %ebp, %ebp\n"
	"	movq %r13, %rdi\n"
	"	call *%r12\n"
	"	xorl %edi, %edi\n"
	"	movl $" STR(SYS_exit) ", %eax\n"
	"	syscall\n"
	"gate_thread_exit_site:\n"
	"	ud2\n"
	".size gate_clone, . - gate_clone\n");
/* clang-format on */

const uintptr_t gate_clone_site_addr = (uintptr_t)gate_clone_site;
const uintptr_t gate_thread_exit_site_addr = (uintptr_t)gate_thread_exit_site;
