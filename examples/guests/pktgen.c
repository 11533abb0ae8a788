/* SPDX-License-Identifier: MIT */
/*
 * pktgen: a packet generator guest.  It transmits pktgen_config.count
 * stream frames (guestlib.h) on one queue, in batches, their sizes taken
 * in turn from pktgen_config.sizes, numbered from 0, and counts them.
 * Whatever comes back on the receive ring (under pvsub-loader --loopback:
 * every frame it sent) is drained and counted too, and checked: a stream
 * frame must come back whole and in order.  One log line reports
 *
 *   pktgen: sent N frames B bytes, back K in order, bad X, T ns
 *
 * and the exit status is 0 when all N were sent and nothing came back
 * damaged or out of order, 1 otherwise, 2 for a configuration it cannot
 * use.  The defaults below are weak: a config bundle replaces them
 * (guestlib.h).
 */
#include "guestlib.h"

#define SLOT 2048u
#define BATCH_MAX 32u
#define RX_BASE (BATCH_MAX * SLOT)
/* Give up when neither transmit nor receive moves for this long. */
#define STALL_NS 1000000000ull

GUEST_CONFIG const struct pktgen_config pktgen_config = {
	.count = 1000,
	.batch = 32,
	.n_sizes = 4,
	.sizes = {60, 128, 512, 1514},
	.dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	.queue = 0,
};

struct counts {
	uint64_t sent, bytes, back, bad;
	uint32_t next_back;
};

static int config_ok(const struct pvsub_guest *g, const struct pktgen_config *c)
{
	if (c->batch < 1 || c->batch > BATCH_MAX || c->n_sizes < 1 ||
	    c->n_sizes > PKTGEN_SIZES_MAX || c->queue >= g->n_queues ||
	    g->mem_size < RX_BASE + BATCH_MAX * SLOT)
		return 0;
	for (uint32_t i = 0; i < c->n_sizes; i++)
		if (c->sizes[i] < STREAM_MIN || c->sizes[i] > g->frame_max || c->sizes[i] > SLOT)
			return 0;
	return 1;
}

/* Drain the receive ring; the number of frames taken. */
static uint32_t drain(const struct pvsub_guest *g, const struct pktgen_config *c, struct counts *k)
{
	uint8_t *mem = g->mem;
	struct pvsub_frame rx[BATCH_MAX];
	uint32_t total = 0;
	int n;

	do {
		for (uint32_t i = 0; i < BATCH_MAX; i++)
			rx[i] = (struct pvsub_frame){.off = RX_BASE + i * SLOT,
						     .len = rx_len(g, SLOT)};
		n = pvsub_rx(c->queue, rx, BATCH_MAX);
		for (int i = 0; i < n; i++) {
			uint32_t seq;

			if (stream_check(mem + rx[i].off, rx[i].len, &seq) == STREAM_OK &&
			    seq == k->next_back) {
				k->back++;
				k->next_back++;
			} else {
				k->bad++;
			}
		}
		total += n > 0 ? (uint32_t)n : 0;
	} while (n == (int)BATCH_MAX);
	return total;
}

/* Build and transmit up to one batch; the number of frames sent. */
static uint32_t send_batch(const struct pvsub_guest *g, const struct pktgen_config *c,
			   struct counts *k)
{
	uint8_t *mem = g->mem;
	struct pvsub_frame tx[BATCH_MAX];
	uint32_t n = c->batch;
	int sent;

	if (c->count - k->sent < n)
		n = (uint32_t)(c->count - k->sent);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t seq = (uint32_t)k->sent + i;
		uint32_t len = c->sizes[seq % c->n_sizes];

		tx[i] = (struct pvsub_frame){.off = i * SLOT, .len = len};
		stream_build(mem + tx[i].off, len, c->dst, g->mac, seq);
	}
	sent = pvsub_tx(c->queue, tx, n);
	if (sent <= 0)
		return 0;
	for (int i = 0; i < sent; i++)
		k->bytes += tx[i].len;
	k->sent += (uint32_t)sent;
	return (uint32_t)sent;
}

int pvsub_guest_main(const struct pvsub_guest *g)
{
	const struct pktgen_config *c = &pktgen_config;
	struct counts k = {0};
	struct line l;
	uint64_t t0, last;

	if (g->abi_version != PVSUB_GUEST_ABI_VERSION || !PVSUB_GUEST_HAS(g, frame_max) ||
	    !config_ok(g, c)) {
		line_start(&l, "pktgen: unusable configuration");
		line_log(&l);
		return 2;
	}
	t0 = last = pvsub_clock_ns();
	while (k.sent < c->count) {
		uint64_t now;

		if (send_batch(g, c, &k) + drain(g, c, &k) > 0) {
			last = pvsub_clock_ns();
			continue;
		}
		now = pvsub_clock_ns();
		if (now - last > STALL_NS)
			break;
	}
	drain(g, c, &k);
	line_start(&l, "pktgen: sent ");
	line_u64(&l, k.sent);
	line_str(&l, " frames ");
	line_u64(&l, k.bytes);
	line_str(&l, " bytes, back ");
	line_u64(&l, k.back);
	line_str(&l, " in order, bad ");
	line_u64(&l, k.bad);
	line_str(&l, ", ");
	line_u64(&l, pvsub_clock_ns() - t0);
	line_str(&l, " ns");
	line_log(&l);
	return k.sent == c->count && k.bad == 0 ? 0 : 1;
}
