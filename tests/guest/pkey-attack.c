/* SPDX-License-Identifier: MIT */
/*
 * pkey-attack.c: a certified guest that attacks the pkey backend of the
 * runtime it runs in (tests/integration/loader-pkey-hw.sh compiles it once
 * per attack, with -DATTACK=N).  Like tests/guest/attack.c it holds no
 * system-call instruction and no gate opcode of its own (its certificate
 * says so): it reads the runtime's text for a `syscall; ret` and for the
 * pkey gates' WRPKRU instructions, and jumps onto them with registers of
 * its choice.
 *
 * Returns 0 when the attack did what it wanted (under --backend none),
 * 1 to 9 when it could not; under --backend pkey it should not return at
 * all, except for attack 3, the control of attack 4, and attack 8, which
 * no backend lets succeed (the gates' code is the same under all three),
 * and its control 9.
 */
#include <pvsub/guest.h>

/* The needles, each byte one less, so that 0f 05 c3 (syscall; ret) and
 * 0f 01 ef (wrpkru) never appear in the guest's own code. */
static volatile unsigned char syscall_needle[3] = {0x0e, 0x04, 0xc2};
static volatile unsigned char wrpkru_needle[3] = {0x0e, 0x00, 0xee};

/* The device window (runtime/handoff.h's GUESTRUN_WINDOW and _SIZE). */
#define WINDOW 0x20000000L
#define WINDOW_SIZE 0x100000L

/* The first occurrence of @needle (plus one per byte) at or after @from,
 * @nth from 0, within 64 KiB. */
static const unsigned char *find(const void *from, const volatile unsigned char *needle, int nth)
{
	const volatile unsigned char *p = (const volatile unsigned char *)from;

	for (unsigned i = 0; i < 65536; i++)
		if (p[i] == needle[0] + 1 && p[i + 1] == needle[1] + 1 &&
		    p[i + 2] == needle[2] + 1 && nth-- == 0)
			return (const unsigned char *)(uintptr_t)(p + i);
	return 0;
}

/* The system call @nr with arguments @a to @d, through @site. */
static long sys(const unsigned char *site, long nr, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long ret;

	/* below the red zone: the call pushes its return address */
	__asm__ volatile("sub $128, %%rsp\n\tcall *%[site]\n\tadd $128, %%rsp"
			 : "=a"(ret)
			 : [site] "r"(site), "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r8", "r9", "r11", "memory");
	return ret;
}

/*
 * Jump onto the WRPKRU at @site with %eax = @pkru and %ecx = %edx = 0,
 * on a 16-byte aligned stack laid out as the pkey gate's epilogue expects
 * (padding, r14, r13, r12, rbx, return address), so that a gate that runs
 * to its end returns here.  The gate's body in between gets %rbx (an
 * invalid queue), %r12 and %r13 as its arguments.
 */
static long wrpkru_jump(const unsigned char *site, unsigned pkru)
{
	long ret;

	__asm__ volatile("movq %%rsp, %%r15\n\t"
			 "subq $128, %%rsp\n\t"
			 "andq $-16, %%rsp\n\t"
			 "leaq 1f(%%rip), %%r11\n\t"
			 "pushq %%r11\n\t"
			 "pushq %%rbx\n\t"
			 "pushq %%r12\n\t"
			 "pushq %%r13\n\t"
			 "pushq %%r14\n\t"
			 "subq $8, %%rsp\n\t"
			 "jmp *%%rsi\n"
			 "1:\n\t"
			 "movq %%r15, %%rsp"
			 : "=a"(ret)
			 : "S"(site), "a"(pkru), "c"(0), "d"(0), "b"(0xffffffffL)
			 : "rdi", "r8", "r9", "r10", "r11", "r15", "memory", "cc");
	return ret;
}

/* A function of the guest's own that uses 512 bytes of stack. */
__attribute__((noinline)) static int busy(const char *msg, size_t len)
{
	volatile char buf[512];

	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = msg[i % len];
	return buf[17];
}

/*
 * Call @fn(@msg, @len) with the 2048 bytes below the frame a gate pushes
 * (a return address, four registers, 8 bytes: 48 bytes below the stack
 * pointer of the call) filled with a canary; whether @fn wrote any of
 * them: 1 when it did, 0 when they are intact.
 */
static long smashes_below(int (*fn)(const char *, size_t), const char *msg, size_t len)
{
	long smashed;

	__asm__ volatile("movq %%rsp, %%r15\n\t"
			 "subq $256, %%rsp\n\t"
			 "andq $-16, %%rsp\n\t"
			 "leaq -2096(%%rsp), %%rdi\n\t"
			 "movl $256, %%ecx\n\t"
			 "movabsq $0xa5a5a5a5a5a5a5a5, %%rax\n\t"
			 "cld\n\t"
			 "rep stosq\n\t"
			 "movq %[msg], %%rdi\n\t"
			 "movq %[len], %%rsi\n\t"
			 "call *%[fn]\n\t"
			 "leaq -2096(%%rsp), %%rdi\n\t"
			 "movl $256, %%ecx\n\t"
			 "movabsq $0xa5a5a5a5a5a5a5a5, %%rax\n\t"
			 "repe scasq\n\t"
			 "setne %%al\n\t"
			 "movzbl %%al, %%eax\n\t"
			 "movq %%r15, %%rsp"
			 : "=&a"(smashed)
			 : [fn] "r"(fn), [msg] "r"(msg), [len] "r"(len)
			 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r15", "memory",
			   "cc");
	return smashed;
}

static const char hello[] = "canary";

int pvsub_guest_main(const struct pvsub_guest *g)
{
	/* from pvsub_clock_ns, the same function under every backend */
	const unsigned char *s = find((const void *)(uintptr_t)pvsub_clock_ns, syscall_needle, 0);
	/* the pkey gates lie after pvsub_clock_ns: the first gate's opening
	 * and closing WRPKRU */
	const unsigned char *open = find((const void *)(uintptr_t)pvsub_clock_ns, wrpkru_needle, 0);
	const unsigned char *close =
		find((const void *)(uintptr_t)pvsub_clock_ns, wrpkru_needle, 1);
	long r;

	(void)g;
	if (!s || !open || !close)
		return 9;
	switch (ATTACK) {
	case 1:				/* write the device window outside a gate */
		pvsub_log("attack", 6); /* a gate call first: the window was opened */
		*(volatile unsigned char *)WINDOW = 0xff;
		return 0;
	case 2: /* jump onto a gate's opening WRPKRU with every key open (eax 0):
		 * the gate runs to its end, which closes the window */
		wrpkru_jump(open, 0);
		*(volatile unsigned char *)WINDOW = 0xff;
		return 0;
	case 3: /* the control of 4: onto the closing WRPKRU with the value the
		 * site must produce (the window's key disabled): the check
		 * passes and the gate returns here */
		wrpkru_jump(close, 0xc);
		return 0;
	case 4: /* onto the closing WRPKRU with every key open: the check after
		 * it aborts the gate (ud2) */
		wrpkru_jump(close, 0);
		*(volatile unsigned char *)WINDOW = 0xff;
		return 0;
	case 5: /* mprotect the window read-write through the runtime's syscall */
		pvsub_log("syscall", 7); /* the line right before the killed call */
		r = sys(s, 10, WINDOW, WINDOW_SIZE, 3, 0);
		if (r != 0)
			return 1;
		*(volatile unsigned char *)WINDOW = 0xff;
		return 0;
	case 6: /* pkey_mprotect the window read-write with the default key 0 */
		pvsub_log("syscall", 7); /* the line right before the killed call */
		r = sys(s, 329, WINDOW, WINDOW_SIZE, 3, 0);
		if (r != 0)
			return 1;
		*(volatile unsigned char *)WINDOW = 0xff;
		return 0;
	case 7: /* a protection key of its own */
		pvsub_log("syscall", 7); /* the line right before the killed call */
		r = sys(s, 330, 0, 0, 0, 0);
		return r >= 0 ? 0 : 1;
	case 8: /* get a gate's body to run on a stack of its choice (here its
		 * own): it never does, the gates have a stack of their own */
		return smashes_below(pvsub_log, hello, 6) ? 0 : 1;
	case 9: /* the control of 8: a function of its own does write there */
		return smashes_below(busy, hello, 6) ? 0 : 1;
	}
	return 9;
}
