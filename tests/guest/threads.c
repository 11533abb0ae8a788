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
 */
#include <pvsub/guest.h>

#define EINVAL 22
#define EPERM 1

#define STACK_OFF 0x10000u
#define STACK_SIZE 0x10000u
#define FRAME_OFF 0x40000u
#define BACK_OFF 0x41000u
#define FRAME_LEN 100u

static volatile int ran;
static unsigned check;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		check++;                                                                           \
		if (!(cond))                                                                       \
			return (int)check;                                                         \
	} while (0)

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
