/* SPDX-License-Identifier: MIT */
/*
 * gatecost (built with -Iexamples/guests for guestlib.h's log lines): the benchmark guest of
 * bench/loader.sh.  For batch sizes 1, 8 and 32 it transmits a batch of 64-byte frames and receives
 * it back (pvsub-loader --loopback), ROUNDS times, timing the loop with pvsub_clock_ns(); then it
 * times ROUNDS * 2 calls of a plain function in its own code.  One log line each:
 *
 *   gatecost: batch B: N calls T ns
 *   gatecost: plain: N calls T ns
 *
 * (a round is two gate calls, pvsub_tx and pvsub_rx, and B frames each
 * way); bench/loader.sh divides.  Exit 0, or 1 when a frame went missing.
 */
#include "guestlib.h"

#define ROUNDS 200000u
#define SLOT 2048u
#define BATCH_MAX 32u
#define RX_BASE (BATCH_MAX * SLOT)

static const uint32_t batches[] = {1, 8, 32};

/* "gatecost: WHAT: CALLS calls NS ns" */
static void report(const char *what, uint64_t b, uint64_t calls, uint64_t ns)
{
	struct line l;

	line_start(&l, "gatecost: ");
	line_str(&l, what);
	if (b) {
		line_str(&l, " ");
		line_u64(&l, b);
	}
	line_str(&l, ": ");
	line_u64(&l, calls);
	line_str(&l, " calls ");
	line_u64(&l, ns);
	line_str(&l, " ns");
	line_log(&l);
}

static int gates(const struct pvsub_guest *g, uint32_t b)
{
	struct pvsub_frame tx[BATCH_MAX], rx[BATCH_MAX];
	uint64_t t0, t1;

	for (uint32_t i = 0; i < b; i++) {
		tx[i] = (struct pvsub_frame){.off = i * SLOT, .len = 64};
		((uint8_t *)g->mem)[i * SLOT] = (uint8_t)i;
	}
	t0 = pvsub_clock_ns();
	for (uint32_t r = 0; r < ROUNDS; r++) {
		for (uint32_t i = 0; i < b; i++)
			rx[i] = (struct pvsub_frame){.off = RX_BASE + i * SLOT, .len = 64};
		if (pvsub_tx(0, tx, b) != (int)b || pvsub_rx(0, rx, b) != (int)b)
			return 1;
	}
	t1 = pvsub_clock_ns();
	report("batch", b, 2ull * ROUNDS, t1 - t0);
	return 0;
}

__attribute__((noinline)) int plain(uint32_t queue, const struct pvsub_frame *f, uint32_t n)
{
	__asm__ volatile("" : : "r"(queue), "r"(f), "r"(n) : "memory");
	return (int)n;
}

int pvsub_guest_main(const struct pvsub_guest *g)
{
	struct pvsub_frame f = {.off = 0, .len = 64};
	uint64_t t0, t1;

	for (uint32_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++)
		if (gates(g, batches[i]))
			return 1;
	t0 = pvsub_clock_ns();
	for (uint32_t r = 0; r < 2 * ROUNDS; r++)
		if (plain(0, &f, 1) != 1)
			return 1;
	t1 = pvsub_clock_ns();
	report("plain", 0, 2ull * ROUNDS, t1 - t0);
	return 0;
}
