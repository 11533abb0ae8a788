/* SPDX-License-Identifier: MIT */
/*
 * threads.c: a certified guest that asks the guest API for threads
 * (tests/integration/loader-threads.sh).  pvsub_thread_start() must
 * refuse each malformed request with -EINVAL and, in this version, every
 * well-formed one with -EPERM under every backend; the thread function
 * must never run, and the device must still work afterwards (a frame sent
 * on queue 1 comes back intact).  Returns 0, or the number of the first
 * check that failed.
 *
 * With -DEXPECT_STARTED the guest expects the well-formed request to
 * succeed instead (the control that shows the checks can fail: it exits
 * with that check's number).
 *
 * With -DPKEY_THREADS (tests/qemu/loader-threads.sh, under pkey): two
 * threads, one per queue, each transmit and receive ROUNDS frames of
 * varying lengths and contents and check every byte that comes back,
 * while the main thread logs lines through the gates meanwhile; six more
 * threads each count once; a ninth start is refused with -EAGAIN.
 * Returns 0, or the number of the first check that failed (under mprotect
 * and none: the first start's, 2).
 *
 * With -DCLONE_ATTACK=FLAGS -DCLONE_SYSCALL=ADDR: a jump onto the
 * runtime's clone `syscall` at ADDR (gate_clone's) with FLAGS and a stack
 * in the guest's memory, past the API.  42 when the thread it asked for
 * ran, 3 when not; the filter kills it unless FLAGS are the runtime's own.
 *
 * With -DTHREAD_EXIT: a thread calls pvsub_exit(7) while the main thread
 * spins: the guest's status is 7 (the main thread alone would return 3
 * after 10 s).
 *
 * With -DWINDOW_WRITE: a thread started through the API writes the device
 * window's first word, which its creator had open when the thread was
 * made: 42 when the write went through, 3 when the thread never got there;
 * under pkey the new thread's PKRU has the window's key disabled before
 * its first guest instruction, so it dies of SIGSEGV.
 */
#include <pvsub/guest.h>

#define EINVAL 22
#define EPERM 1
#define EAGAIN 11

#define STACK_OFF 0x10000u
#define STACK_SIZE 0x10000u
#define FRAME_OFF 0x40000u
#define BACK_OFF 0x41000u
#define FRAME_LEN 100u

static unsigned check __attribute__((unused));

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		check++;                                                                           \
		if (!(cond))                                                                       \
			return (int)check;                                                         \
	} while (0)

#if !defined(PKEY_THREADS) && !defined(CLONE_ATTACK) && !defined(WINDOW_WRITE) &&                  \
	!defined(THREAD_EXIT)
static volatile int ran;

static void thread_fn(void *arg)
{
	ran = *(int *)arg;
}

/* Sends FRAME_LEN patterned bytes on queue 1 and checks what comes back. */
static int loopback(const struct pvsub_guest *g)
{
	uint8_t *mem = g->mem;
	struct pvsub_frame f = {FRAME_OFF, FRAME_LEN, 0};
	struct pvsub_frame b = {BACK_OFF, g->frame_max, 0};

	for (unsigned i = 0; i < FRAME_LEN; i++)
		mem[FRAME_OFF + i] = (uint8_t)(i * 7 + 3);
	CHECK(pvsub_tx(1, &f, 1) == 1);
	CHECK(pvsub_rx(1, &b, 1) == 1);
	CHECK(b.len == FRAME_LEN);
	for (unsigned i = 0; i < FRAME_LEN; i++)
		CHECK(mem[BACK_OFF + i] == (uint8_t)(i * 7 + 3));
	return 0;
}
#endif

#if defined(PKEY_THREADS)
#define ROUNDS 300u
#define WAIT_NS 60000000000ull

static const struct pvsub_guest *G;
static volatile uint32_t result[2];
static volatile uint32_t counted;

/* One worker on queue (uintptr_t)@arg: result 1 when every frame came back
 * intact, else the round's failure (2 to 5). */
static void worker(void *arg)
{
	uint32_t q = (uint32_t)(uintptr_t)arg;
	uint8_t *mem = G->mem;
	uint64_t tx = 0x100000u + q * 0x10000u, rx = tx + 0x8000u;

	for (uint32_t r = 0; r < ROUNDS; r++) {
		uint32_t len = 60 + (r * 37 + q * 11) % 1400;
		struct pvsub_frame f = {tx, len, 0};
		struct pvsub_frame b = {rx, G->frame_max, 0};

		for (uint32_t i = 0; i < len; i++)
			mem[tx + i] = (uint8_t)(q * 131 + r * 7 + i);
		if (pvsub_tx(q, &f, 1) != 1) {
			result[q] = 2;
			return;
		}
		if (pvsub_rx(q, &b, 1) != 1) {
			result[q] = 3;
			return;
		}
		if (b.len != len) {
			result[q] = 4;
			return;
		}
		for (uint32_t i = 0; i < len; i++)
			if (mem[rx + i] != (uint8_t)(q * 131 + r * 7 + i)) {
				result[q] = 5;
				return;
			}
	}
	result[q] = 1;
}

static void count(void *arg)
{
	(void)arg;
	__atomic_fetch_add(&counted, 1, __ATOMIC_SEQ_CST);
}

int pvsub_guest_main(const struct pvsub_guest *g)
{
	uint8_t *stacks = (uint8_t *)g->mem + 0x200000u;
	static const char line[] = "threads: waiting";
	uint64_t t0;

	G = g;
	CHECK(g->mem_size >= 0x200000u + 9 * STACK_SIZE);
	for (uintptr_t q = 0; q < 2; q++)
		CHECK(pvsub_thread_start(worker, (void *)q, stacks + q * STACK_SIZE, STACK_SIZE) ==
		      0);
	for (unsigned i = 2; i < 8; i++)
		CHECK(pvsub_thread_start(count, 0, stacks + i * STACK_SIZE, STACK_SIZE) == 0);
	CHECK(pvsub_thread_start(count, 0, stacks + 8 * STACK_SIZE, STACK_SIZE) == -EAGAIN);
	t0 = pvsub_clock_ns();
	while ((!result[0] || !result[1] || counted < 6) && pvsub_clock_ns() - t0 < WAIT_NS)
		pvsub_log(line, sizeof(line) - 1);
	CHECK(result[0] == 1);
	CHECK(result[1] == 1);
	CHECK(counted == 6);
	return 0;
}
#elif defined(THREAD_EXIT)
static void exiter(void *arg)
{
	(void)arg;
	pvsub_exit(7);
}

int pvsub_guest_main(const struct pvsub_guest *g)
{
	uint64_t t0;

	if (pvsub_thread_start(exiter, 0, (uint8_t *)g->mem + 0x200000u, STACK_SIZE))
		return 2;
	t0 = pvsub_clock_ns();
	while (pvsub_clock_ns() - t0 < 10000000000ull)
		;
	return 3;
}
#elif defined(WINDOW_WRITE)
static volatile int wrote;

static void writer(void *arg)
{
	(void)arg;
	*(volatile uint32_t *)0x20000000UL = 0;
	wrote = 1;
}

int pvsub_guest_main(const struct pvsub_guest *g)
{
	uint64_t t0;

	if (pvsub_thread_start(writer, 0, (uint8_t *)g->mem + 0x200000u, STACK_SIZE))
		return 2;
	t0 = pvsub_clock_ns();
	while (!wrote && pvsub_clock_ns() - t0 < 10000000000ull)
		;
	return wrote ? 42 : 3;
}
#elif defined(CLONE_ATTACK)
static volatile int attack_ran;

static void attack_fn(void *arg)
{
	(void)arg;
	attack_ran = 1;
}

/*
 * clone_at(flags, top, fn, site): the registers gate_clone() has at its
 * `syscall`, and a frame for the parent's way out of it (two registers it
 * pops, then a return address), then a jump to @site.
 */
__asm__(".text\n"
	"clone_at:\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	leaq 1f(%rip), %rax\n"
	"	pushq %rax\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	movq %rdx, %r12\n"
	"	xorl %r13d, %r13d\n"
	"	movq %rcx, %r11\n"
	"	xorl %edx, %edx\n"
	"	xorl %r10d, %r10d\n"
	"	xorl %r8d, %r8d\n"
	"	movl $56, %eax\n"
	"	jmp *%r11\n"
	"1:	popq %r13\n"
	"	popq %r12\n"
	"	ret\n");
long clone_at(unsigned long flags, uintptr_t top, void (*fn)(void *), uintptr_t site);

int pvsub_guest_main(const struct pvsub_guest *g)
{
	uint64_t t0;
	/* from data: 0x50f00, the runtime's own flags, holds 0f 05 */
	static volatile unsigned long flags = CLONE_ATTACK;

	clone_at(flags, (uintptr_t)g->mem + 0x300000u, attack_fn, CLONE_SYSCALL);
	t0 = pvsub_clock_ns();
	while (!attack_ran && pvsub_clock_ns() - t0 < 10000000000ull)
		;
	return attack_ran ? 42 : 3;
}
#else
int pvsub_guest_main(const struct pvsub_guest *g)
{
	uint8_t *stack = (uint8_t *)g->mem + STACK_OFF;
	static int value = 42;
	uint64_t t0;

	CHECK(g->mem_size >= BACK_OFF + 2048);
	/* malformed: -EINVAL */
	CHECK(pvsub_thread_start(0, &value, stack, STACK_SIZE) == -EINVAL);
	CHECK(pvsub_thread_start(thread_fn, &value, 0, STACK_SIZE) == -EINVAL);
	CHECK(pvsub_thread_start(thread_fn, &value, stack + 8, STACK_SIZE) == -EINVAL);
	CHECK(pvsub_thread_start(thread_fn, &value, stack, STACK_SIZE + 8) == -EINVAL);
	CHECK(pvsub_thread_start(thread_fn, &value, stack, PVSUB_THREAD_STACK_MIN - 16) == -EINVAL);
	CHECK(pvsub_thread_start(thread_fn, &value, (void *)(~(uintptr_t)0 & ~(uintptr_t)15),
				 STACK_SIZE) == -EINVAL);
	/* well-formed: refused, or (the control) started */
#ifdef EXPECT_STARTED
	CHECK(pvsub_thread_start(thread_fn, &value, stack, STACK_SIZE) == 0);
#else
	CHECK(pvsub_thread_start(thread_fn, &value, stack, STACK_SIZE) == -EPERM);
#endif
	/* the thread function never ran (50 ms for a thread to have done so) */
	t0 = pvsub_clock_ns();
	while (pvsub_clock_ns() - t0 < 50000000u)
		;
	CHECK(ran == 0);
	return loopback(g);
}
#endif
