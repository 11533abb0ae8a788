/* SPDX-License-Identifier: MIT */
/*
 * loopback: a guest that tests its loopback device (pvsub-loader
 * --loopback).  On every queue it sends frames of several sizes in one
 * batch, receives them back and compares every byte; it checks that the
 * API refuses descriptors outside its memory, of length 0 or above the
 * largest frame, on a queue it does not have, and a buffer too small for
 * the pending frame.  Exit status 0 when all holds, else the number of the
 * first check that failed (10 and up).
 *
 * Freestanding: only <pvsub/guest.h>.  The byte patterns depend on the
 * index so that the compiler does not turn loops into memset() calls,
 * which no guest can import.
 */
#include <pvsub/guest.h>

#define GUEST_EINVAL 22
#define GUEST_EMSGSIZE 90
#define SLOT 2048u
#define RX_BASE (64u * SLOT)

static const uint32_t sizes[] = {14, 60, 64, 128, 511, 1000, 1513, 1514};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static uint8_t pattern(uint32_t seed, uint32_t i)
{
	return (uint8_t)(seed * 131u + i * 7u + (i >> 8));
}

static void fill(uint8_t *p, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = pattern(seed, i);
}

static int same(const uint8_t *p, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != pattern(seed, i))
			return 0;
	return 1;
}

/* "text N" into @out; its length. */
static size_t with_number(char *out, const char *text, uint64_t n)
{
	char digits[20];
	size_t len = 0, k = 0;

	while (text[len]) {
		out[len] = text[len];
		len++;
	}
	do {
		digits[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	while (k)
		out[len++] = digits[--k];
	return len;
}

/* One batch of every size on @q, back on the same queue. */
static int round_trip(const struct pvsub_guest *g, uint32_t q)
{
	uint8_t *mem = g->mem;
	struct pvsub_frame tx[N_SIZES], rx[N_SIZES];

	for (uint32_t i = 0; i < N_SIZES; i++) {
		tx[i] = (struct pvsub_frame){.off = i * SLOT, .len = sizes[i], .flags = 0};
		fill(mem + tx[i].off, sizes[i], q * 16 + i);
		rx[i] = (struct pvsub_frame){.off = RX_BASE + i * SLOT, .len = g->frame_max};
	}
	if (pvsub_tx(q, tx, N_SIZES) != (int)N_SIZES)
		return 12;
	if (pvsub_rx(q, rx, N_SIZES) != (int)N_SIZES)
		return 13;
	for (uint32_t i = 0; i < N_SIZES; i++)
		if (rx[i].len != sizes[i] || !same(mem + rx[i].off, rx[i].len, q * 16 + i))
			return 14;
	if (pvsub_rx(q, rx, N_SIZES) != 0)
		return 15;
	return 0;
}

/* What the API must refuse. */
static int refusals(const struct pvsub_guest *g)
{
	struct pvsub_frame f = {.off = 0, .len = 64};
	struct pvsub_frame small = {.off = RX_BASE, .len = 100};

	if (pvsub_tx(g->n_queues, &f, 1) != -GUEST_EINVAL)
		return 20;
	f.off = g->mem_size - 10; /* runs past the end */
	if (pvsub_tx(0, &f, 1) != -GUEST_EINVAL)
		return 21;
	f.off = ~(uint64_t)0 - 8; /* wraps */
	if (pvsub_tx(0, &f, 1) != -GUEST_EINVAL)
		return 22;
	f = (struct pvsub_frame){.off = 0, .len = 0};
	if (pvsub_tx(0, &f, 1) != -GUEST_EINVAL)
		return 23;
	f.len = g->frame_max + 1;
	if (pvsub_tx(0, &f, 1) != -GUEST_EINVAL)
		return 24;
	f.len = 64;
	if (pvsub_tx(0, &f, PVSUB_GUEST_BATCH_MAX + 1) != -GUEST_EINVAL)
		return 25;
	/* a frame too long for the buffer stays pending */
	f.len = 1000;
	fill(g->mem, 1000, 99);
	if (pvsub_tx(0, &f, 1) != 1)
		return 26;
	if (pvsub_rx(0, &small, 1) != -GUEST_EMSGSIZE)
		return 27;
	small.len = g->frame_max;
	if (pvsub_rx(0, &small, 1) != 1 || small.len != 1000 ||
	    !same((uint8_t *)g->mem + RX_BASE, 1000, 99))
		return 28;
	return 0;
}

int pvsub_guest_main(const struct pvsub_guest *g)
{
	char line[80];
	uint64_t t0 = pvsub_clock_ns();
	int r;

	if (g->abi_version != PVSUB_GUEST_ABI_VERSION || !PVSUB_GUEST_HAS(g, frame_max))
		return 10;
	if (g->n_queues < 1 || g->frame_max < 1514 || g->mem_size < RX_BASE + N_SIZES * SLOT)
		return 11;
	for (uint32_t q = 0; q < g->n_queues; q++) {
		r = round_trip(g, q);
		if (r)
			return r;
	}
	r = refusals(g);
	if (r)
		return r;
	if (pvsub_clock_ns() < t0)
		return 30;
	pvsub_log(line, with_number(line, "loopback: every frame came back, queues ", g->n_queues));
	return 0;
}
