/* SPDX-License-Identifier: MIT */
/*
 * attack.c: a certified guest that attacks the runtime it runs in
 * (tests/integration/loader-attacks.sh compiles it once per attack, with
 * -DATTACK=N).  It holds no system-call instruction of its own (its
 * certificate says so): it finds one in the runtime's text, a `syscall;
 * ret` reached by reading forward from the address of a guest API
 * function it imports, and calls it with registers of its choice.
 *
 * Returns 0 (or 42, where it ran code of its own making, or for attack 27
 * made a WRPKRU out of clean pages) when the attack did what it wanted
 * (under --backend none), 1 to 9 when it could not; under lockdown it
 * should not return at all.  Attacks 24 and 25 also need
 * -DSAVED_SP and -DGATE_CLOSE_PROT, the runtime's addresses as nm reads
 * them from its (static, not position-independent) binary.
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

#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define PROT_READ_WRITE 3
#define PROT_READ_EXEC 5
#define MREMAP_MAYMOVE_FIXED 3 /* MREMAP_MAYMOVE | MREMAP_FIXED */

/* "mov $42, %eax; ret": code of the guest's own making, never certified. */
static const unsigned char payload[6] = {0xb8, 42, 0, 0, 0, 0xc3};
static char path_open[] = "pwned-open";

int victim_page(int x);

/*
 * Where a forged context lands: it passes its %rax, %rbx and %rsp to
 * attack_landed(), which ends the guest with 42 when they are the values
 * the forger chose (FORGED_RAX, FORGED_RBX, the forged stack), else 43.
 */
#define FORGED_RAX 0x5eed5eedL
#define FORGED_RBX 0x0b0b0b0bL
extern char attack_landing[];
__asm__(".text\n"
	".globl attack_landing\n"
	".type attack_landing, @function\n"
	"attack_landing:\n"
	"	movq %rax, %rdi\n"
	"	movq %rbx, %rsi\n"
	"	movq %rsp, %rdx\n"
	"	call attack_landed\n"
	"	ud2\n");

static unsigned long *forged_sp;

/*
 * Three pages of clean code for attack 27 (PKU Pitfalls' mremap joining
 * two clean pages), nothing else on them: join_lo ends in 0f 01, the
 * first bytes of an xgetbv (0f 01 d0) whose last byte opens the next page;
 * join_hi opens with ef, a one-byte `out %eax, (%dx)` that never runs.
 * Each page is clean and so is their layout; moving join_hi's page onto
 * the one after join_lo makes the junction read 0f 01 ef, a WRPKRU.
 */
extern const unsigned char join_lo[], join_hi[];
__asm__(".pushsection .text\n"
	".balign 4096\n"
	"join_lo:\n"
	"	.fill 4094, 1, 0xcc\n"
	"	.byte 0x0f, 0x01, 0xd0\n" /* xgetbv, across the page's end */
	"	.fill 4095, 1, 0xcc\n"
	"join_hi:\n"
	"	.byte 0xef\n" /* out %eax, (%dx) */
	"	.fill 4095, 1, 0xcc\n"
	".popsection\n");

/*
 * Attack 27: mremap join_hi's page onto the page after join_lo's through
 * the runtime's syscall, then read the junction back: 42 when it reads
 * 0f 01 ef (it is not run: the CPU may have no PKU), 6 or 7 when the pages
 * are not laid out as above, 1 or 2 when the move failed.  It logs "join:
 * mremap" right before the mremap, so that a test expecting a kill there
 * can tell it from one elsewhere (tests/qemu/loader-pkey.sh).
 */
static int join_pages(const unsigned char *site)
{
	const volatile unsigned char *lo = join_lo;
	const unsigned char *hi = join_hi;
	long r;

	if ((uintptr_t)lo % 4096 || hi != join_lo + 2 * 4096)
		return 6;
	if (lo[4094] != 0x0f || lo[4095] != 0x01 || lo[4096] != 0xd0 || *hi != 0xef)
		return 7;
	pvsub_log("join: mremap", 12);
	r = sys(site, 25, (long)(uintptr_t)hi, 4096, 4096, MREMAP_MAYMOVE_FIXED,
		(long)(uintptr_t)(lo + 4096));
	if (r != (long)(uintptr_t)(lo + 4096))
		return 1;
	return lo[4094] == 0x0f && lo[4095] == 0x01 && lo[4096] == 0xef ? 42 : 2;
}

__attribute__((used, noreturn)) void attack_landed(long rax, long rbx, unsigned long *rsp)
{
	pvsub_exit(rax == FORGED_RAX && rbx == FORGED_RBX && rsp == forged_sp ? 42 : 43);
}

/*
 * rt_sigreturn with a forged frame: the kernel reads a struct rt_sigframe
 * 8 bytes below the stack pointer (its return address is what a handler's
 * ret popped), so the ucontext lies at %rsp itself.  The frame, built on
 * the guest's own stack, asks for %rip = attack_landing, %rsp = @stack (16-
 * byte aligned, in the guest's memory), %rax and %rbx of its choice, the
 * user code and stack segments; everything else 0 (no FPU state, an empty
 * signal mask, no alternate stack).  Jumping (not calling) onto the
 * runtime's `syscall` keeps the frame's first word intact.
 */
static void forge_sigreturn(const unsigned char *site, unsigned long *stack)
{
	/* struct ucontext in words: uc_flags, uc_link, uc_stack (3), then
	 * struct sigcontext: r8 to r15, rdi, rsi, rbp, rbx, rdx, rax, rcx,
	 * rsp, rip, eflags, cs/gs/fs/ss, err, trapno, oldmask, cr2, fpstate,
	 * 8 reserved; then uc_sigmask */
	unsigned long uc[48] __attribute__((aligned(16))) = {0};
	enum { SC = 5 };

	forged_sp = stack;
	uc[SC + 11] = FORGED_RBX;
	uc[SC + 13] = FORGED_RAX;
	uc[SC + 15] = (unsigned long)stack;
	uc[SC + 16] = (unsigned long)(uintptr_t)attack_landing;
	uc[SC + 17] = 0x202;		   /* eflags: IF */
	uc[SC + 18] = 0x33 | 0x2bUL << 48; /* cs __USER_CS, ss __USER_DS */
	__asm__ volatile("movq %[uc], %%rsp\n\t"
			 "jmp *%[site]"
			 :
			 : [uc] "r"(uc), [site] "r"(site), "a"(15L)
			 : "memory");
}

/*
 * The runtime's saved stack pointer (guestapi.c's saved_sp, which
 * pvsub_exit() returns to) lies in its .bss, which the guest can write:
 * point it at a forged stack in the guest's memory, whose six
 * callee-saved registers and return address then come back, with %eax
 * and %esi the exit status and %rdi the forged stack's address.  The
 * return address is the runtime's `syscall; ret`: with status 10 and %rdx
 * 7 that is mprotect(forged page, 10, PROT_READ | PROT_WRITE | PROT_EXEC);
 * its `ret` then lands on attack_resume, which runs code written to the
 * page (42).  Under lockdown it is one more system call from the
 * runtime's text that the filter kills.
 */
extern char attack_resume[];
__asm__(".text\n"
	".globl attack_resume\n"
	".type attack_resume, @function\n"
	"attack_resume:\n"
	"	andq $-16, %rsp\n"
	"	call attack_resumed\n"
	"	ud2\n");

static unsigned long saved_sp_was;
static unsigned char *forged_page;

__attribute__((used, noreturn)) void attack_resumed(void)
{
	volatile unsigned char *code = forged_page + 2048;

	*(volatile unsigned long *)SAVED_SP = saved_sp_was; /* a real exit again */
	for (int i = 0; i < 6; i++)
		code[i] = payload[i];
	pvsub_exit(((int (*)(void))(uintptr_t)code)());
}

static int forge_exit(const unsigned char *site, const struct pvsub_guest *g)
{
	unsigned long *stack;

	forged_page = (unsigned char *)g->mem + (1 << 20);
	stack = (unsigned long *)forged_page;
	saved_sp_was = *(volatile unsigned long *)SAVED_SP;
	if (!saved_sp_was)
		return 8; /* not the runtime's saved_sp */
	for (int i = 0; i < 6; i++)
		stack[i] = 0; /* r15, r14, r13, r12, rbx, rbp */
	stack[6] = (unsigned long)(uintptr_t)site;
	stack[7] = (unsigned long)(uintptr_t)attack_resume;
	*(volatile unsigned long *)SAVED_SP = (unsigned long)stack;
	__asm__ volatile("sub $128, %%rsp\n\tcall *%[exit]"
			 :
			 : [exit] "r"(pvsub_exit), "D"(10L), "d"(PROT_RWX)
			 : "memory");
	return 1; /* not reached */
}

/*
 * A thread (clone with CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND,
 * CLONE_THREAD and CLONE_SYSVSEM) on a stack in the guest's memory: the
 * child returns from the runtime's `syscall; ret` onto attack_child_entry,
 * the first word of its stack, sets a flag and exits; the parent waits up
 * to 2 s for the flag.  The flags are put together at run time: 0x50f00
 * as an immediate holds the bytes of a `syscall`.
 */
static volatile int thread_ran;
static volatile long clone_high = 0x50000; /* CLONE_THREAD | CLONE_SYSVSEM */
static const unsigned char *thread_site;

extern char attack_child_entry[];
__asm__(".text\n"
	".globl attack_child_entry\n"
	".type attack_child_entry, @function\n"
	"attack_child_entry:\n"
	"	andq $-16, %rsp\n"
	"	call attack_child\n"
	"	ud2\n");

__attribute__((used, noreturn)) void attack_child(void)
{
	thread_ran = 1;
	for (;;)
		sys(thread_site, 60, 0, 0, 0, 0, 0); /* exit: this thread only */
}

static int spawn_thread(const unsigned char *site, const struct pvsub_guest *g)
{
	unsigned long *top = (unsigned long *)((unsigned char *)g->mem + (2 << 20));
	uint64_t t0;
	long r;

	thread_site = site;
	top[-2] = (unsigned long)(uintptr_t)attack_child_entry;
	r = sys(site, 56, clone_high | 0xf00, (long)(top - 2), 0, 0, 0);
	if (r <= 0)
		return 1;
	t0 = pvsub_clock_ns();
	while (!thread_ran && pvsub_clock_ns() - t0 < 2000000000u)
		;
	return thread_ran ? 0 : 2;
}

int pvsub_guest_main(const struct pvsub_guest *g)
{
	const unsigned char *s = find_syscall();
	unsigned char byte = 0xc3;
	long r = 0;

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
	case 18: /* rt_sigreturn with a forged frame: see forge_sigreturn() */
		forge_sigreturn(s, (unsigned long *)g->mem + 8192);
		return 1;
	case 19: { /* mremap the device window into its own memory */
		unsigned char *to = (unsigned char *)g->mem + (8 << 20);

		r = sys(s, 25, WINDOW, WINDOW_SIZE, WINDOW_SIZE, MREMAP_MAYMOVE_FIXED, (long)to);
		if (r != (long)to)
			return 1;
		/* the API's world (struct pvsub_guest first) is now its own */
		return *(volatile unsigned *)to == g->size && to[24] == g->mac[0] ? 0 : 2;
	}
	case 20: { /* mremap a page of its code into its own memory */
		unsigned char *to = (unsigned char *)g->mem + (4 << 20);
		unsigned char first = *(volatile unsigned char *)(uintptr_t)victim_page;

		if ((uintptr_t)pvsub_guest_main >> 12 == (uintptr_t)victim_page >> 12)
			return 7; /* it would move itself away */
		r = sys(s, 25, (long)(uintptr_t)victim_page, 4096, 4096, MREMAP_MAYMOVE_FIXED,
			(long)to);
		return r == (long)to && *(volatile unsigned char *)to == first ? 0 : 1;
	}
	case 21: /* map standard input (a file of code) executable: run it */
		r = sys(s, 9, 0, 4096, PROT_READ_EXEC, MAP_PRIVATE, 0);
		if (r < 0 && r > -4096)
			return 1;
		return ((int (*)(void))(uintptr_t)r)();
	case 22: { /* a memfd mapped twice, shared: written through one alias,
		    * run through the other */
		static char name[] = "alias";
		long fd = sys(s, 319, (long)name, 0, 0, 0, 0); /* memfd_create */
		long w, x;

		if (fd < 0 || sys(s, 77, fd, 4096, 0, 0, 0) != 0) /* ftruncate */
			return 1;
		w = sys(s, 9, 0, 4096, PROT_READ_WRITE, MAP_SHARED, fd);
		x = sys(s, 9, 0, 4096, PROT_READ_EXEC, MAP_SHARED, fd);
		if ((w < 0 && w > -4096) || (x < 0 && x > -4096))
			return 2;
		for (int i = 0; i < 6; i++)
			((volatile unsigned char *)w)[i] = payload[i];
		return ((int (*)(void))(uintptr_t)x)();
	}
	case 23: /* open (the old call, not openat): create a file */
		r = sys(s, 2, (long)path_open, O_WRONLY | O_CREAT, 0644, 0, 0);
		return r >= 0 ? 0 : 1;
	case 24: /* the runtime's saved stack pointer: see forge_exit() */
		return forge_exit(s, g);
	case 25: /* the closing sites' protection, in the runtime's data */
		*(volatile long *)GATE_CLOSE_PROT = 3;
		pvsub_log("attack", 6); /* its closing site asks for read-write */
		*(volatile unsigned char *)WINDOW = 0xff;
		return 0;
	case 26: /* a thread: see spawn_thread() */
		return spawn_thread(s, g);
	case 27: /* mremap joining two clean pages into a WRPKRU: join_pages() */
		return join_pages(s);
	case 10: /* write its own code directly */
		*(volatile unsigned char *)(uintptr_t)victim = 0xc3;
		return 1;
	case 11: /* the control of 10: write its own data */
		data_target = 7;
		return data_target == 7 ? 0 : 1;
	}
	return 9;
}

/* A page of code that nothing calls, moved by attack 20: last in the file,
 * so that nothing else lies on its page. */
/* A page of code that nothing calls, moved by attack 20. */
__attribute__((noinline, aligned(4096))) int victim_page(int x)
{
	return x * 3;
}
