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
 * all, except for attack 3, the control of attack 2.
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
		r = sys(s, 10, WINDOW, WINDOW_SIZE, 3, 0);
		if (r != 0)
			return 1;
		*(volatile unsigned char *)WINDOW = 0xff;
		return 0;
	case 6: /* pkey_mprotect the window read-write with the default key 0 */
		r = sys(s, 329, WINDOW, WINDOW_SIZE, 3, 0);
		if (r != 0)
			return 1;
		*(volatile unsigned char *)WINDOW = 0xff;
		return 0;
	case 7: /* a protection key of its own */
		r = sys(s, 330, 0, 0, 0, 0);
		return r >= 0 ? 0 : 1;
	}
	return 9;
}
