/* SPDX-License-Identifier: MIT */
/*
 * guestlib.h: what the example guests share, as static inline functions
 * (a guest imports nothing but the guest API, so there is no library to
 * link): big-endian fields, a log line built from text, numbers and hex,
 * and the test stream's frame format that pktgen sends and sink checks.
 *
 * Loops index their bytes so that the compiler turns none of them into a
 * memset() or memcpy() call, which a guest could not import.
 */
#ifndef PVSUB_EXAMPLES_GUESTLIB_H
#define PVSUB_EXAMPLES_GUESTLIB_H

#include <pvsub/guest.h>

/* How the example guests are configured: each reads a const struct
 * defined weak in its own object (the defaults, which make build
 * bundles); a second bundle that defines the same symbol strongly (a
 * "config bundle", certified and signed like any guest object) replaces
 * it, since the guest linker lets a strong definition beat a weak one.
 * So a configuration is as authenticated as the code it configures. */
#define GUEST_CONFIG __attribute__((weak))

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* The volatile index keeps the compiler from making this a memcpy() call. */
static inline void copy(uint8_t *dst, const uint8_t *src, uint32_t n)
{
	for (volatile uint32_t i = 0; i < n; i++)
		dst[i] = src[i];
}

static inline int equal(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* A receive buffer's length for a slot of @slot bytes: a descriptor may
 * not be longer than the largest frame. */
static inline uint32_t rx_len(const struct pvsub_guest *g, uint32_t slot)
{
	return g->frame_max < slot ? g->frame_max : slot;
}

/* --- the guests' configurations ----------------------------------------------------------- */

/* pktgen.c */
#define PKTGEN_SIZES_MAX 16u
struct pktgen_config {
	uint32_t count;	  /* frames to send */
	uint32_t batch;	  /* frames per pvsub_tx(), 1 to 32 */
	uint32_t n_sizes; /* sizes[0 .. n_sizes - 1], taken in turn */
	uint32_t sizes[PKTGEN_SIZES_MAX];
	uint8_t dst[6]; /* destination address */
	uint16_t queue;
};

/* sink.c; SINK_NONE: no frame is skipped or damaged */
#define SINK_NONE 0xffffffffu
struct sink_config {
	uint32_t count;	  /* frames expected */
	uint64_t idle_ns; /* stop when nothing came for this long */
	uint16_t queue;
	uint8_t feed;	      /* transmit the stream too (loopback self-test) */
	uint32_t feed_size;   /* of each fed frame, 60 to 2048 */
	uint32_t feed_skip;   /* a sequence number not fed, or SINK_NONE */
	uint32_t feed_damage; /* a sequence number fed damaged, or SINK_NONE */
};

/* echo.c */
struct echo_config {
	uint8_t ip[4]; /* 0.0.0.0: 169.254.mac[4].mac[5] */
	uint8_t selftest;
	uint64_t serve_ns; /* without selftest: how long to serve, 0 for ever */
	uint16_t queue;
};

/* --- log lines ----------------------------------------------------------------------- */

struct line {
	char s[256];
	uint32_t n;
};

/* Start @l empty (not "= {0}": clang would clear it with memset()). */
static inline void line_start(struct line *l, const char *t)
{
	l->n = 0;
	while (*t && l->n < sizeof(l->s))
		l->s[l->n++] = *t++;
}

static inline void line_str(struct line *l, const char *t)
{
	while (*t && l->n < sizeof(l->s))
		l->s[l->n++] = *t++;
}

static inline void line_u64(struct line *l, uint64_t v)
{
	char d[20];
	uint32_t k = 0;

	do {
		d[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k && l->n < sizeof(l->s))
		l->s[l->n++] = d[--k];
}

static inline void line_hex(struct line *l, const uint8_t *p, uint32_t n)
{
	static const char x[] = "0123456789abcdef";

	for (uint32_t i = 0; i < n && l->n + 2 <= sizeof(l->s); i++) {
		l->s[l->n++] = x[p[i] >> 4];
		l->s[l->n++] = x[p[i] & 15];
	}
}

static inline void line_log(const struct line *l)
{
	pvsub_log(l->s, l->n);
}

/* --- the test stream ------------------------------------------------------------------ */

/*
 * A stream frame: Ethernet (destination, source, ethertype 0x88b5, the
 * IEEE local experimental one), then "PVSG", the sequence number and the
 * frame's length (big endian), then bytes that depend on the sequence
 * number and the offset, so that a frame cut, mixed up or corrupted shows.
 */
#define STREAM_ETHERTYPE 0x88b5u
#define STREAM_HDR 26u
#define STREAM_MIN 60u

static inline uint8_t stream_byte(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31u + i * 7u + (i >> 8));
}

static inline void stream_build(uint8_t *p, uint32_t len, const uint8_t dst[6],
				const uint8_t src[6], uint32_t seq)
{
	copy(p, dst, 6);
	copy(p + 6, src, 6);
	put16(p + 12, STREAM_ETHERTYPE);
	p[14] = 'P';
	p[15] = 'V';
	p[16] = 'S';
	p[17] = 'G';
	put32(p + 18, seq);
	put32(p + 22, len);
	for (uint32_t i = STREAM_HDR; i < len; i++)
		p[i] = stream_byte(seq, i);
}

enum stream_check { STREAM_OK, STREAM_OTHER, STREAM_BAD };

/* Whether @len bytes at @p are a stream frame (its sequence number into
 * *@seq), something else, or a stream frame that is damaged. */
static inline enum stream_check stream_check(const uint8_t *p, uint32_t len, uint32_t *seq)
{
	if (len < STREAM_HDR || get16(p + 12) != STREAM_ETHERTYPE || p[14] != 'P' || p[15] != 'V' ||
	    p[16] != 'S' || p[17] != 'G')
		return STREAM_OTHER;
	*seq = get32(p + 18);
	if (get32(p + 22) != len)
		return STREAM_BAD;
	for (uint32_t i = STREAM_HDR; i < len; i++)
		if (p[i] != stream_byte(*seq, i))
			return STREAM_BAD;
	return STREAM_OK;
}

#endif
