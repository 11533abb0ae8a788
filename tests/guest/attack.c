/* SPDX-License-Identifier: MIT */
/*
 * attack.c: a certified guest that attacks the runtime it runs in
 * (tests/integration/loader-attacks.sh compiles it once per attack, with
 * -DATTACK=N).  It holds no system-call instruction of its own (its
 * certificate says so): it finds one in the runtime's text, a `syscall;
 * ret` reached by reading forward from the address of a guest API
 * function it imports, and calls it with registers of its choice.
 *
 * Returns 0 when the attack did what it wanted (under --backend none),
 * 1 to 9 when it could not; under lockdown it should not return at all.
 */
#include <pvsub/guest.h>

/* The needle, one less per byte, so that the bytes 0f 05 c3 never appear
 * in the guest's own code. */
static volatile unsigned char needle[3] = {0x0e, 0x04, 0xc2};
static volatile unsigned char int80[2] = {0xcc, 0x7f};

static const unsigned char *find_syscall(void)
{
	const volatile unsigned char *p = (const volatile unsigned char *)(uintptr_t)pvsub_tx;

	for (unsigned i = 0; i < 65536; i++)
		if (p[i] == needle[0] + 1 && p[i + 1] == needle[1] + 1 && p[i + 2] == needle[2] + 1)
			return (const unsigned char *)(uintptr_t)(p + i);
	return 0;
}

/* The @nth (from 0) `syscall` from the start of pvsub_tx: its gate's
 * opening (0) and closing (1) sites under pvsub-guestrun. */
static const unsigned char *gate_site(int nth)
{
	const volatile unsigned char *p = (const volatile unsigned char *)(uintptr_t)pvsub_tx;

	for (unsigned i = 0; i < 4096; i++)
		if (p[i] == needle[0] + 1 && p[i + 1] == needle[1] + 1 && nth-- == 0)
			return (const unsigned char *)(uintptr_t)(p + i);
	return 0;
}

/* The first `int 0x80` (cd 80) at or after pvsub_tx, an instruction's
 * middle as likely as not. */
static const unsigned char *find_int80(void)
{
	const volatile unsigned char *p = (const volatile unsigned char *)(uintptr_t)pvsub_tx;

	for (unsigned i = 0; i < 65536; i++)
		if (p[i] == int80[0] + 1 && p[i + 1] == int80[1] + 1)
			return (const unsigned char *)(uintptr_t)(p + i);
	return 0;
}

/* The device window (runtime/handoff.h's GUESTRUN_WINDOW and _SIZE). */
#define WINDOW 0x20000000L
#define WINDOW_SIZE 0x100000L

/*
 * Jump onto the gate's `syscall` at @site as mprotect(WINDOW, WINDOW_SIZE,
 * @prot), with the stack the gate's epilogue expects (padding, r14, r13,
 * r12, rbx, return address), so that it returns here.  The gate's body in
 * between runs with this function's rbx, r12, r13 as its arguments.
 */
static long gate_jump(const unsigned char *site, long prot)
{
	long ret;

	__asm__ volatile("sub $128, %%rsp\n\t"
			 "lea 1f(%%rip), %%r11\n\t"
			 "push %%r11\n\t"
			 "push %%rbx\n\t"
			 "push %%r12\n\t"
			 "push %%r13\n\t"
			 "push %%r14\n\t"
			 "sub $8, %%rsp\n\t"
			 "jmp *%%rcx\n"
			 "1:\n\t"
			 "add $128, %%rsp"
			 : "=a"(ret)
			 : "c"(site), "a"(10L), "D"(WINDOW), "S"(WINDOW_SIZE), "d"(prot)
			 : "r8", "r9", "r10", "r11", "memory");
	return ret;
}

/* The system call @nr with arguments @a to @e (the sixth 0), through @site. */
static long sys(const unsigned char *site, long nr, long a, long b, long c, long d, long e)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = 0;
	long ret;

	/* below the red zone: the call pushes its return address */
	__asm__ volatile("sub $128, %%rsp\n\tcall *%[site]\n\tadd $128, %%rsp"
			 : "=a"(ret)
			 : [site] "r"(site), "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/* A function that is never called: the target of writes to guest code. */
__attribute__((noinline, aligned(4096))) int victim(int x)
{
	return x + 1;
}

static volatile unsigned char data_target = 1;
static char path_pwned[] = "pwned";
static char path_mem[] = "/proc/self/mem";
static char sh[] = "/bin/sh", dash_c[] = "-c", cmd[] = "echo pwned > pwned-exec";
static char *const argv_sh[] = {sh, dash_c, cmd, 0};

#define AT_FDCWD (-100)
#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define PROT_RWX 7
#define MAP_PRIVATE_ANON 0x22

struct iov {
	void *base;
	unsigned long len;
};

/* A BPF program that allows everything: "ret SECCOMP_RET_ALLOW". */
struct insn {
	unsigned short code;
	unsigned char jt, jf;
	unsigned k;
};
static struct insn allow_all[1] = {{0x06, 0, 0, 0x7fff0000u}};
static struct {
	unsigned short len;
	struct insn *filter;
} allow_prog = {1, allow_all};

int pvsub_guest_main(const struct pvsub_guest *g)
{
	const unsigned char *s = find_syscall();
	unsigned char byte = 0xc3;
	long r = 0;

	(void)g;
	if (!s)
		return 9;
	switch (ATTACK) {
	case 1: /* openat: create a file */
		r = sys(s, 257, AT_FDCWD, (long)path_pwned, O_WRONLY | O_CREAT, 0644, 0);
		return r >= 0 ? 0 : 1;
	case 2: /* execve a shell that creates a file */
		r = sys(s, 59, (long)sh, (long)argv_sh, 0, 0, 0);
		return 1;
	case 3: /* write guest code through /proc/self/mem */
		r = sys(s, 257, AT_FDCWD, (long)path_mem, O_RDWR, 0, 0);
		if (r < 0)
			return 1;
		r = sys(s, 18, r, (long)&byte, 1, (long)(uintptr_t)victim, 0); /* pwrite64 */
		return r == 1 && *(volatile unsigned char *)(uintptr_t)victim == 0xc3 ? 0 : 2;
	case 4: { /* process_vm_writev into its own memory */
		unsigned char v = 42;
		struct iov local = {&v, 1}, remote = {(void *)(uintptr_t)&data_target, 1};
		long pid = sys(s, 39, 0, 0, 0, 0, 0);

		r = sys(s, 311, pid, (long)&local, 1, (long)&remote, 1);
		return r == 1 && data_target == 42 ? 0 : 2;
	}
	case 5: /* make its code writable, then write it */
		r = sys(s, 10, (long)(uintptr_t)victim, 4096, PROT_RWX, 0, 0);
		if (r != 0)
			return 1;
		*(volatile unsigned char *)(uintptr_t)victim = 0xc3;
		return 0;
	case 6: /* map fresh executable memory */
		r = sys(s, 9, 0, 4096, PROT_RWX, MAP_PRIVATE_ANON, -1);
		return r > 0 ? 0 : 1;
	case 7:					 /* install its own seccomp filter */
		r = sys(s, 157, 38, 1, 0, 0, 0); /* prctl(PR_SET_NO_NEW_PRIVS) */
		if (r != 0)
			return 1;
		r = sys(s, 317, 1, 0, (long)&allow_prog, 0, 0); /* seccomp(SET_MODE_FILTER) */
		return r == 0 ? 0 : 2;
	case 8: /* pkey_mprotect its code read-write-execute */
		r = sys(s, 329, (long)(uintptr_t)victim, 4096, PROT_RWX, -1, 0);
		if (r != 0)
			return 1;
		*(volatile unsigned char *)(uintptr_t)victim = 0xc3;
		return 0;
	case 12:			/* write the device window outside a gate */
		pvsub_log("attack", 6); /* a gate call first: the window was opened */
		*(volatile unsigned char *)WINDOW = 0xff;
		return 0;
	case 13: /* jump onto a gate's opening site, then write the window */
		if (!gate_site(1))
			return 8;
		gate_jump(gate_site(0), 3);
		*(volatile unsigned char *)WINDOW = 0xff;
		return 0;
	case 14: /* jump onto a gate's closing site asking for read-write */
		if (!gate_site(1))
			return 8;
		/* what the gate returns is this function's r14: not a result */
		gate_jump(gate_site(1), 3);
		*(volatile unsigned char *)WINDOW = 0xff;
		return 0;
	case 15: /* an x32 system call (getpid | __X32_SYSCALL_BIT) */
		sys(s, 0x40000000L | 39, 0, 0, 0, 0, 0);
		return 0;
	case 16: { /* an i386 creat("pwned-int80") through int 0x80: the
		    * image lies below 4 GiB, so its addresses fit ebx */
		const unsigned char *i80 = find_int80();
		static char path32[] = "pwned-int80";

		if (!i80)
			return 8;
		/* what follows the cd 80 is the runtime's bytes, not code
		 * meant to run: the guest does not expect to come back */
		__asm__ volatile("sub $128, %%rsp\n\tcall *%%rsi"
				 :
				 : "S"(i80), "a"(8L), "b"(path32), "c"(0644L), "d"(path32)
				 : "memory");
		return 0;
	}
	case 17: { /* fork: the child creates a file, the parent waits for it */
		static char path_fork[] = "pwned-fork";

		r = sys(s, 57, 0, 0, 0, 0, 0);
		if (r == 0) {
			sys(s, 257, AT_FDCWD, (long)path_fork, O_WRONLY | O_CREAT, 0644, 0);
			sys(s, 231, 0, 0, 0, 0, 0); /* exit_group */
		}
		if (r < 0)
			return 1;
		sys(s, 61, r, 0, 0, 0, 0); /* wait4 */
		return 0;
	}
	case 10: /* write its own code directly */
		*(volatile unsigned char *)(uintptr_t)victim = 0xc3;
		return 1;
	case 11: /* the control of 10: write its own data */
		data_target = 7;
		return data_target == 7 ? 0 : 1;
	}
	return 9;
}
