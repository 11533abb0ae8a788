/* SPDX-License-Identifier: MIT */
/*
 * pvsub-loader's guest API and loopback device (runtime/guestapi.c):
 * every descriptor check at its boundary, with the value just inside as
 * the control; ring space; frames too long for their buffer; the log's
 * range check; running an entry point on the guest's stack and leaving it
 * through pvsub_exit().
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "runtime/guestapi.h"

#define MEM 65536u
#define STACK 65536u

static uint8_t mem[MEM];
static uint8_t image[4096];
static uint8_t stack[STACK] __attribute__((aligned(16)));
static struct loader_world w;

static void setup(void)
{
	memset(mem, 0, sizeof(mem));
	cr_assert_eq(
		world_init(&w, mem, MEM, image, image + sizeof(image), stack, stack + STACK, NULL),
		0);
}

static void teardown(void)
{
	world_release(&w);
}

static int tx1(uint32_t q, uint64_t off, uint32_t len)
{
	struct pvsub_frame f = {.off = off, .len = len};

	return pvsub_tx(q, &f, 1);
}

TestSuite(guestapi, .init = setup, .fini = teardown);

Test(guestapi, the_guest_sees_its_world)
{
	cr_assert_eq(w.g.size, sizeof(struct pvsub_guest));
	cr_assert_eq(w.g.abi_version, PVSUB_GUEST_ABI_VERSION);
	cr_assert_eq(w.g.mem, mem);
	cr_assert_eq(w.g.mem_size, MEM);
	cr_assert_eq(w.g.n_queues, LOOPBACK_QUEUES);
	cr_assert_eq(w.g.frame_max, LOOPBACK_FRAME_MAX);
	cr_assert(PVSUB_GUEST_HAS(&w.g, frame_max));
	cr_assert_eq(w.g.mac[0] & 3, 2, "not a locally administered unicast address");
}

Test(guestapi, descriptors_at_their_bounds)
{
	/* each refusal next to the value just inside it */
	cr_assert_eq(tx1(0, MEM - 60, 60), 1);
	cr_assert_eq(tx1(0, MEM - 59, 60), -EINVAL);
	cr_assert_eq(tx1(0, MEM, 1), -EINVAL);
	cr_assert_eq(tx1(0, UINT64_MAX - 10, 60), -EINVAL); /* wraps */
	cr_assert_eq(tx1(0, 0, LOOPBACK_FRAME_MAX), 1);
	cr_assert_eq(tx1(0, 0, LOOPBACK_FRAME_MAX + 1), -EINVAL);
	cr_assert_eq(tx1(0, 0, 1), 1);
	cr_assert_eq(tx1(0, 0, 0), -EINVAL);
	cr_assert_eq(tx1(LOOPBACK_QUEUES - 1, 0, 60), 1);
	cr_assert_eq(tx1(LOOPBACK_QUEUES, 0, 60), -EINVAL);
	cr_assert_eq(tx1(UINT32_MAX, 0, 60), -EINVAL);

	struct pvsub_frame f[PVSUB_GUEST_BATCH_MAX + 1];

	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(f); i++)
		f[i] = (struct pvsub_frame){.off = 0, .len = 60};
	cr_assert_eq(pvsub_tx(1, f, PVSUB_GUEST_BATCH_MAX + 1), -EINVAL);
	cr_assert_eq(pvsub_tx(1, f, PVSUB_GUEST_BATCH_MAX), (int)PVSUB_GUEST_BATCH_MAX);
	f[0].flags = 1;
	cr_assert_eq(pvsub_tx(1, f, 1), -EINVAL);
	cr_assert_eq(pvsub_tx(1, NULL, 1), -EINVAL);
	cr_assert_eq(pvsub_tx(1, NULL, 0), 0);
}

Test(guestapi, one_bad_descriptor_sends_nothing)
{
	struct pvsub_frame f[3] = {
		{.off = 0, .len = 60}, {.off = 100, .len = 60}, {.off = MEM, .len = 60}};
	struct pvsub_frame r = {.off = 0, .len = LOOPBACK_FRAME_MAX};

	cr_assert_eq(pvsub_tx(0, f, 3), -EINVAL);
	cr_assert_eq(pvsub_rx(0, &r, 1), 0, "a frame of the refused batch was sent");
}

Test(guestapi, frames_come_back_on_their_queue_in_order)
{
	struct pvsub_frame r[3];

	for (uint32_t i = 0; i < 3; i++) {
		memset(mem + i * 2048, 'a' + i, 100 + i);
		r[i] = (struct pvsub_frame){.off = 16384 + i * 2048, .len = LOOPBACK_FRAME_MAX};
	}
	cr_assert_eq(tx1(1, 0, 100), 1);
	cr_assert_eq(tx1(1, 2048, 101), 1);
	cr_assert_eq(tx1(1, 4096, 102), 1);
	cr_assert_eq(pvsub_rx(0, r, 3), 0, "queue 1's frames came back on queue 0");
	cr_assert_eq(pvsub_rx(1, r, 3), 3);
	for (uint32_t i = 0; i < 3; i++) {
		cr_assert_eq(r[i].len, 100 + i);
		for (uint32_t k = 0; k < 100 + i; k++)
			cr_assert_eq(mem[16384 + i * 2048 + k], 'a' + i);
	}
	cr_assert_eq(pvsub_rx(1, r, 3), 0);
}

Test(guestapi, a_full_ring_takes_what_fits)
{
	struct pvsub_frame f[PVSUB_GUEST_BATCH_MAX], r = {.off = 0, .len = LOOPBACK_FRAME_MAX};
	uint32_t sent = 0;
	int n;

	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(f); i++)
		f[i] = (struct pvsub_frame){.off = 0, .len = 60};
	while ((n = pvsub_tx(0, f, 50)) == 50)
		sent += 50;
	cr_assert_eq(sent + (uint32_t)n, LOOPBACK_RING);
	cr_assert_eq(pvsub_tx(0, f, 1), 0, "a full ring took a frame");
	cr_assert_eq(pvsub_rx(0, &r, 1), 1);
	cr_assert_eq(pvsub_tx(0, f, 2), 1, "one slot was free");
}

Test(guestapi, a_frame_longer_than_its_buffer_stays_pending)
{
	struct pvsub_frame r[2] = {{.off = 0, .len = 999}, {.off = 4096, .len = 999}};

	cr_assert_eq(tx1(0, 0, 100), 1);
	cr_assert_eq(tx1(0, 0, 1000), 1);
	/* the first fits, the second ends the batch */
	cr_assert_eq(pvsub_rx(0, r, 2), 1);
	cr_assert_eq(r[0].len, 100);
	cr_assert_eq(r[1].len, 999, "the descriptor of a frame not received changed");
	cr_assert_eq(pvsub_rx(0, r + 1, 1), -EMSGSIZE);
	r[1].len = 1000;
	cr_assert_eq(pvsub_rx(0, r + 1, 1), 1);
	cr_assert_eq(r[1].len, 1000);
	/* buffers are checked as transmitted frames are */
	r[0] = (struct pvsub_frame){.off = MEM - 10, .len = 60};
	cr_assert_eq(pvsub_rx(0, r, 1), -EINVAL);
}

Test(guestapi, log_reads_only_the_guests_bytes)
{
	static const char outside[] = "not the guest's";

	memcpy(mem, "in memory", 9);
	memcpy(image + 100, "in the image", 12);
	memcpy(stack + 8, "on the stack", 12);
	cr_assert_eq(pvsub_log((const char *)mem, 9), 0);
	cr_assert_eq(pvsub_log((const char *)image + 100, 12), 0);
	cr_assert_eq(pvsub_log((const char *)stack + 8, 12), 0);
	cr_assert_eq(pvsub_log(outside, sizeof(outside) - 1), -EINVAL);
	cr_assert_eq(pvsub_log((const char *)mem + MEM - 4, 5), -EINVAL);
	cr_assert_eq(pvsub_log((const char *)mem + MEM - 4, 4), 0);
	/* only the first 256 bytes are read */
	cr_assert_eq(pvsub_log((const char *)mem + MEM - 256, 100000), 0);
	cr_assert_eq(pvsub_log((const char *)mem + MEM - 255, 100000), -EINVAL);
}

static uintptr_t seen_sp;

static int entry_returns(const struct pvsub_guest *g)
{
	volatile uint8_t here = 0;

	seen_sp = (uintptr_t)&here;
	return g->abi_version == PVSUB_GUEST_ABI_VERSION ? 42 : 1;
}

/* Called through a pointer the compiler cannot see through: it would
 * otherwise take deep() for an endless recursion. */
static void (*volatile quit)(int) = pvsub_exit;

static __attribute__((noinline)) void deep(int n)
{
	if (n == 0)
		quit(17);
	else
		deep(n - 1);
	seen_sp = 0;
}

static int entry_exits(const struct pvsub_guest *g)
{
	deep(20);
	return 3;
}

Test(guestapi, the_guest_runs_on_its_stack_and_leaves_by_exit)
{
	cr_assert_eq(world_run(entry_returns, &w.g, w.stack_hi), 42);
	cr_assert(seen_sp > (uintptr_t)stack && seen_sp < (uintptr_t)stack + STACK,
		  "the guest ran on the loader's stack");
	seen_sp = (uintptr_t)stack;
	cr_assert_eq(world_run(entry_exits, &w.g, w.stack_hi), 17);
	cr_assert_eq(seen_sp, (uintptr_t)stack, "pvsub_exit() returned");
	/* and the loader's own frame is intact afterwards */
	cr_assert_eq(world_run(entry_returns, &w.g, w.stack_hi), 42);
}
