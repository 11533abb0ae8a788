/* SPDX-License-Identifier: MIT */
/*
 * sink: a guest that receives stream frames (guestlib.h) on one queue,
 * counts them and checks their sequence numbers and bytes: a number
 * skipped counts as lost, one lower than the next expected as late
 * (duplicated or reordered), a damaged frame as bad, anything that is not
 * a stream frame as other.  It stops after sink_config.count frames, or
 * when nothing has come for sink_config.idle_ns, and reports
 *
 *   sink: received N frames B bytes, lost L, late D, bad X, other O
 *
 * with exit status 0 when exactly count frames came, in order and whole,
 * else 1 (2 for a configuration it cannot use).
 *
 * With sink_config.feed (the default) it is its own source, for a run
 * under pvsub-loader --loopback, where every frame sent comes back: it
 * transmits the stream itself, numbers 0 to count - 1, leaving out the
 * number feed_skip and damaging the frame numbered feed_damage (both
 * ~0: none), which is how the tests show that its checks can fail.  The
 * defaults below are weak: a config bundle replaces them (guestlib.h).
 */
#include "guestlib.h"

#define SLOT 2048u
#define BATCH 32u
#define RX_BASE (BATCH * SLOT)

GUEST_CONFIG const struct sink_config sink_config = {
	.count = 1000,
	.idle_ns = 1000000000ull,
	.queue = 0,
	.feed = 1,
	.feed_size = 100,
	.feed_skip = SINK_NONE,
	.feed_damage = SINK_NONE,
};

struct counts {
	uint64_t received, bytes, lost, late, bad, other;
	uint32_t expect;
	uint32_t fed;
};

/* Transmit the next batch of the stream; the number of frames sent. */
static uint32_t feed(const struct pvsub_guest *g, const struct sink_config *c, struct counts *k)
{
	uint8_t *mem = g->mem;
	struct pvsub_frame tx[BATCH];
	uint32_t n = 0;
	int sent;

	while (n < BATCH && k->fed + n < c->count) {
		uint32_t seq = k->fed + n;

		if (seq == c->feed_skip) {
			k->fed++;
			continue;
		}
		tx[n] = (struct pvsub_frame){.off = n * SLOT, .len = c->feed_size};
		stream_build(mem + tx[n].off, c->feed_size, g->mac, g->mac, seq);
		if (seq == c->feed_damage)
			mem[tx[n].off + c->feed_size - 1] ^= 0x5a;
		n++;
	}
	if (n == 0)
		return 0;
	sent = pvsub_tx(c->queue, tx, n);
	if (sent <= 0)
		return 0;
	k->fed += (uint32_t)sent;
	return (uint32_t)sent;
}

static void account(struct counts *k, const uint8_t *p, uint32_t len)
{
	uint32_t seq;

	switch (stream_check(p, len, &seq)) {
	case STREAM_OTHER:
		k->other++;
		return;
	case STREAM_BAD:
		k->bad++;
		break;
	case STREAM_OK:
		break;
	}
	k->received++;
	k->bytes += len;
	if (seq < k->expect) {
		k->late++;
		return;
	}
	k->lost += seq - k->expect;
	k->expect = seq + 1;
}

/* Take what is pending; the number of frames taken. */
static uint32_t take(const struct pvsub_guest *g, const struct sink_config *c, struct counts *k)
{
	struct pvsub_frame rx[BATCH];
	int n;

	for (uint32_t i = 0; i < BATCH; i++)
		rx[i] = (struct pvsub_frame){.off = RX_BASE + i * SLOT, .len = rx_len(g, SLOT)};
	n = pvsub_rx(c->queue, rx, BATCH);
	for (int i = 0; i < n; i++)
		account(k, (const uint8_t *)g->mem + rx[i].off, rx[i].len);
	return n > 0 ? (uint32_t)n : 0;
}

static void report(const struct counts *k)
{
	struct line l;

	line_start(&l, "sink: received ");
	line_u64(&l, k->received);
	line_str(&l, " frames ");
	line_u64(&l, k->bytes);
	line_str(&l, " bytes, lost ");
	line_u64(&l, k->lost);
	line_str(&l, ", late ");
	line_u64(&l, k->late);
	line_str(&l, ", bad ");
	line_u64(&l, k->bad);
	line_str(&l, ", other ");
	line_u64(&l, k->other);
	line_log(&l);
}

int pvsub_guest_main(const struct pvsub_guest *g)
{
	const struct sink_config *c = &sink_config;
	struct counts k = {0};
	uint64_t last;

	if (g->abi_version != PVSUB_GUEST_ABI_VERSION || !PVSUB_GUEST_HAS(g, frame_max) ||
	    c->queue >= g->n_queues || g->mem_size < RX_BASE + BATCH * SLOT ||
	    (c->feed &&
	     (c->feed_size < STREAM_MIN || c->feed_size > SLOT || c->feed_size > g->frame_max))) {
		pvsub_log("sink: unusable configuration", 28);
		return 2;
	}
	last = pvsub_clock_ns();
	/* a skipped number is lost from the count as well */
	while (k.received + k.lost < c->count) {
		uint32_t moved = take(g, c, &k);

		if (c->feed)
			moved += feed(g, c, &k);
		if (moved) {
			last = pvsub_clock_ns();
			continue;
		}
		if (pvsub_clock_ns() - last > c->idle_ns)
			break;
	}
	report(&k);
	return k.received == c->count && k.lost == 0 && k.late == 0 && k.bad == 0 ? 0 : 1;
}
