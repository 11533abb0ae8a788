/* SPDX-License-Identifier: MIT */
/*
 * echo: a responder guest that answers ARP requests and ICMP echo
 * requests for its own Ethernet and IPv4 address, for the later uplink
 * test (ping it from the host).
 *
 * Its MAC is the guest's (g->mac).  Its IPv4 address is echo_config.ip;
 * the default, 0.0.0.0, means "derived from the MAC": 169.254.M4.M5, the
 * last two bytes of the MAC in the link-local range (a byte of 0 or 255
 * becomes 1 or 254, so the address is a usable host address).  The guest
 * API has no arguments; a config bundle that defines echo_config
 * strongly replaces the defaults (guestlib.h).
 *
 * What it answers, as a host stack would, and nothing else:
 *   - ARP (Ethernet, IPv4) requests whose target is its address: a reply
 *     to the sender, padded to 60 bytes;
 *   - ICMP echo requests to its MAC and address in IPv4 packets with a
 *     correct header checksum, no options needed, not fragmented, with a
 *     correct ICMP checksum: an echo reply with the same identifier,
 *     sequence number and data, in a fresh 20-byte IPv4 header (TTL 64,
 *     the request's identification and TOS, no options).
 *
 * echo_config.selftest (the default) is for pvsub-loader --loopback,
 * where every frame sent comes back to the sender: playing the peer
 * (02:00:00:00:00:01, 169.254.0.1) it sends an ARP request for its
 * address; it gets it back and answers it as a responder; the answer comes
 * back and is logged in hex ("echo: arp-reply HEX"), to be compared by
 * the test with a reply it builds independently; the same for an ICMP echo
 * request of 56 data bytes ("echo: icmp-reply HEX"); then it checks that
 * a request for another address, an ICMP request with a bad checksum and
 * an echo reply get no answer.  Exit status 0 when every step went as
 * described, else the step's number (10 and up).  Without selftest it
 * serves for echo_config.serve_ns (0: until killed), and reports counts
 * when it stops.
 */
#include "guestlib.h"

#define SLOT 2048u
#define BATCH 16u
#define RX_BASE (BATCH * SLOT)
#define REPLY_BASE (2 * BATCH * SLOT)

#define ETH_ARP 0x0806u
#define ETH_IP 0x0800u
#define ICMP_DATA 56u

GUEST_CONFIG const struct echo_config echo_config = {
	.ip = {0, 0, 0, 0},
	.selftest = 1,
	.serve_ns = 0,
	.queue = 0,
};

static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_ip[4] = {169, 254, 0, 1};
static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct echo {
	uint8_t mac[6];
	uint8_t ip[4];
};

static uint8_t host_byte(uint8_t b)
{
	return b == 0 ? 1 : b == 255 ? 254 : b;
}

static void echo_init(struct echo *e, const struct pvsub_guest *g, const struct echo_config *c)
{
	copy(e->mac, g->mac, 6);
	if (c->ip[0] | c->ip[1] | c->ip[2] | c->ip[3]) {
		copy(e->ip, c->ip, 4);
		return;
	}
	e->ip[0] = 169;
	e->ip[1] = 254;
	e->ip[2] = host_byte(g->mac[4]);
	e->ip[3] = host_byte(g->mac[5]);
}

/* The Internet checksum (RFC 1071) of @n bytes at @p. */
static uint16_t inet_sum(const uint8_t *p, uint32_t n)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += get16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void zero(uint8_t *p, uint32_t n)
{
	for (volatile uint32_t i = 0; i < n; i++)
		p[i] = 0;
}

/* --- the responder ------------------------------------------------------------------- */

/* The ARP reply to request @q (@len bytes) into @r; its length, or 0. */
static uint32_t answer_arp(const struct echo *e, const uint8_t *q, uint32_t len, uint8_t *r)
{
	const uint8_t *a = q + 14;

	if (len < 42 || get16(a) != 1 || get16(a + 2) != ETH_IP || a[4] != 6 || a[5] != 4 ||
	    get16(a + 6) != 1 || !equal(a + 24, e->ip, 4))
		return 0;
	zero(r, 60);
	copy(r, a + 8, 6); /* to the sender's hardware address */
	copy(r + 6, e->mac, 6);
	put16(r + 12, ETH_ARP);
	put16(r + 14, 1);
	put16(r + 16, ETH_IP);
	r[18] = 6;
	r[19] = 4;
	put16(r + 20, 2);
	copy(r + 22, e->mac, 6);
	copy(r + 28, e->ip, 4);
	copy(r + 32, a + 8, 10); /* the sender's addresses become the target's */
	return 60;
}

/* The ICMP echo reply to request @q (@len bytes) into @r; its length, or 0. */
static uint32_t answer_icmp(const struct echo *e, const uint8_t *q, uint32_t len, uint8_t *r)
{
	const uint8_t *ip = q + 14, *icmp;
	uint32_t ihl, total, icmp_len;

	if (len < 14 + 20 || !equal(q, e->mac, 6) || ip[0] >> 4 != 4)
		return 0;
	ihl = (ip[0] & 15u) * 4;
	total = get16(ip + 2);
	if (ihl < 20 || total < ihl + 8 || total > len - 14 || inet_sum(ip, ihl) != 0 ||
	    (get16(ip + 6) & 0x3fff) != 0 || ip[9] != 1 || !equal(ip + 16, e->ip, 4))
		return 0;
	icmp = ip + ihl;
	icmp_len = total - ihl;
	if (icmp[0] != 8 || icmp[1] != 0 || inet_sum(icmp, icmp_len) != 0)
		return 0;
	if (14 + 20 + icmp_len > SLOT)
		return 0;
	copy(r, q + 6, 6);
	copy(r + 6, e->mac, 6);
	put16(r + 12, ETH_IP);
	r[14] = 0x45;
	r[15] = ip[1];
	put16(r + 16, (uint16_t)(20 + icmp_len));
	copy(r + 18, ip + 4, 2); /* identification */
	put16(r + 20, 0);
	r[22] = 64;
	r[23] = 1;
	put16(r + 24, 0);
	copy(r + 26, e->ip, 4);
	copy(r + 30, ip + 12, 4);
	put16(r + 24, inet_sum(r + 14, 20));
	copy(r + 34, icmp, icmp_len);
	r[34] = 0;
	put16(r + 36, 0);
	put16(r + 36, inet_sum(r + 34, icmp_len));
	return 14 + 20 + icmp_len;
}

/* The answer to frame @q into @r: its length, 0 for none. */
static uint32_t answer(const struct echo *e, const uint8_t *q, uint32_t len, uint8_t *r)
{
	if (len < 14)
		return 0;
	if (get16(q + 12) == ETH_ARP && (equal(q, broadcast, 6) || equal(q, e->mac, 6)))
		return answer_arp(e, q, len, r);
	if (get16(q + 12) == ETH_IP)
		return answer_icmp(e, q, len, r);
	return 0;
}

/* --- the peer's requests (selftest) ----------------------------------------------------- */

static uint32_t arp_request(const struct echo *e, const uint8_t target[4], uint8_t *p)
{
	zero(p, 60);
	copy(p, broadcast, 6);
	copy(p + 6, peer_mac, 6);
	put16(p + 12, ETH_ARP);
	put16(p + 14, 1);
	put16(p + 16, ETH_IP);
	p[18] = 6;
	p[19] = 4;
	put16(p + 20, 1);
	copy(p + 22, peer_mac, 6);
	copy(p + 28, peer_ip, 4);
	copy(p + 38, target, 4);
	(void)e;
	return 60;
}

/* An echo request (identifier 0x1234, sequence 1, 56 bytes i * 3 + 1)
 * from the peer; type 8, or 0 for an echo reply. */
static uint32_t icmp_request(const struct echo *e, uint8_t type, uint8_t *p)
{
	uint32_t icmp_len = 8 + ICMP_DATA;

	copy(p, e->mac, 6);
	copy(p + 6, peer_mac, 6);
	put16(p + 12, ETH_IP);
	p[14] = 0x45;
	p[15] = 0;
	put16(p + 16, (uint16_t)(20 + icmp_len));
	put16(p + 18, 0x4242);
	put16(p + 20, 0x4000); /* don't fragment */
	p[22] = 64;
	p[23] = 1;
	put16(p + 24, 0);
	copy(p + 26, peer_ip, 4);
	copy(p + 30, e->ip, 4);
	put16(p + 24, inet_sum(p + 14, 20));
	p[34] = type;
	p[35] = 0;
	put16(p + 36, 0);
	put16(p + 38, 0x1234);
	put16(p + 40, 1);
	for (uint32_t i = 0; i < ICMP_DATA; i++)
		p[42 + i] = (uint8_t)(i * 3 + 1);
	put16(p + 36, inet_sum(p + 34, icmp_len));
	return 14 + 20 + icmp_len;
}

/* --- the loopback round trips ------------------------------------------------------------ */

struct loop {
	const struct pvsub_guest *g;
	uint16_t queue;
	uint8_t *mem;
};

static int send(const struct loop *lp, uint64_t off, uint32_t len)
{
	struct pvsub_frame f = {.off = off, .len = len};

	return pvsub_tx(lp->queue, &f, 1) == 1;
}

/* The next frame, at RX_BASE; its length, 0 when none is pending. */
static uint32_t receive(const struct loop *lp)
{
	struct pvsub_frame f = {.off = RX_BASE, .len = rx_len(lp->g, SLOT)};

	return pvsub_rx(lp->queue, &f, 1) == 1 ? f.len : 0;
}

static void log_hex(const char *what, const uint8_t *p, uint32_t n)
{
	struct line l;

	line_start(&l, "echo: ");
	line_str(&l, what);
	line_str(&l, " ");
	line_hex(&l, p, n);
	line_log(&l);
}

/*
 * The peer's request of @len bytes at 0 goes out and comes back; the
 * responder answers it; the answer goes out, comes back, is no request
 * of its own to answer, and is logged as @what.  0, or the step that
 * failed from @step on.
 */
static int round_trip(const struct loop *lp, const struct echo *e, uint32_t len, const char *what,
		      int step)
{
	uint8_t *rx = lp->mem + RX_BASE, *reply = lp->mem + REPLY_BASE;
	uint32_t n, m;

	if (!send(lp, 0, len))
		return step;
	n = receive(lp);
	if (n != len || !equal(rx, lp->mem, len))
		return step + 1;
	m = answer(e, rx, n, reply);
	if (m == 0 || !send(lp, REPLY_BASE, m))
		return step + 2;
	n = receive(lp);
	if (n != m || answer(e, rx, n, lp->mem + REPLY_BASE + SLOT) != 0)
		return step + 3;
	log_hex(what, rx, n);
	return 0;
}

/* The peer's frame of @len bytes at 0 gets no answer. */
static int no_answer(const struct loop *lp, const struct echo *e, uint32_t len, int step)
{
	uint32_t n;

	if (!send(lp, 0, len) || (n = receive(lp)) != len)
		return step;
	return answer(e, lp->mem + RX_BASE, n, lp->mem + REPLY_BASE) == 0 ? 0 : step + 1;
}

static int selftest(const struct loop *lp, const struct echo *e)
{
	uint8_t other[4];
	uint32_t len;
	int r;

	len = arp_request(e, e->ip, lp->mem);
	r = round_trip(lp, e, len, "arp-reply", 10);
	if (r)
		return r;
	len = icmp_request(e, 8, lp->mem);
	r = round_trip(lp, e, len, "icmp-reply", 20);
	if (r)
		return r;
	copy(other, e->ip, 4);
	other[3] ^= 1;
	r = no_answer(lp, e, arp_request(e, other, lp->mem), 30);
	if (r)
		return r;
	len = icmp_request(e, 8, lp->mem);
	lp->mem[len - 1] ^= 1; /* the ICMP checksum no longer holds */
	r = no_answer(lp, e, len, 32);
	if (r)
		return r;
	r = no_answer(lp, e, icmp_request(e, 0, lp->mem), 34);
	if (r)
		return r;
	return receive(lp) == 0 ? 0 : 36;
}

/* Answer what comes for @ns (0: for ever); the counts are logged. */
static int serve(const struct loop *lp, const struct echo *e, uint64_t ns)
{
	uint64_t t0 = pvsub_clock_ns(), seen = 0, answered = 0;
	struct line l;
	uint32_t n;

	while (ns == 0 || pvsub_clock_ns() - t0 < ns) {
		uint32_t m;

		n = receive(lp);
		if (n == 0)
			continue;
		seen++;
		m = answer(e, lp->mem + RX_BASE, n, lp->mem + REPLY_BASE);
		if (m && send(lp, REPLY_BASE, m))
			answered++;
	}
	line_start(&l, "echo: served ");
	line_u64(&l, seen);
	line_str(&l, " frames, answered ");
	line_u64(&l, answered);
	line_log(&l);
	return 0;
}

int pvsub_guest_main(const struct pvsub_guest *g)
{
	const struct echo_config *c = &echo_config;
	struct loop lp = {.g = g, .queue = c->queue, .mem = g->mem};
	struct echo e;
	struct line l;
	int r;

	if (g->abi_version != PVSUB_GUEST_ABI_VERSION || !PVSUB_GUEST_HAS(g, frame_max) ||
	    c->queue >= g->n_queues || g->mem_size < REPLY_BASE + 2 * SLOT ||
	    g->frame_max < 14 + 20 + 8 + ICMP_DATA)
		return 2;
	echo_init(&e, g, c);
	line_start(&l, "echo: ");
	line_hex(&l, e.mac, 6);
	line_str(&l, " at ");
	for (int i = 0; i < 4; i++) {
		if (i)
			line_str(&l, ".");
		line_u64(&l, e.ip[i]);
	}
	line_log(&l);
	if (!c->selftest)
		return serve(&lp, &e, c->serve_ns);
	r = selftest(&lp, &e);
	if (r == 0)
		pvsub_log("echo: selftest passed", 21);
	return r;
}
