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
 * It logs "clone attack: jump" right before the jump.
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
 *
 * With -DMAP_RACE=1 or 2 (PKU Pitfalls' mapping races): a thread spins in
 * race_page, a page of certified code, while the main thread replaces that
 * page through the runtime's `syscall; ret` (found as tests/guest/attack.c
 * finds it) with a page of NOPs ending in "mov $42, %eax; ret": 1, a fresh
 * mapping (mmap read-write-execute, written, then mremap'd over
 * race_page); 2, mremap of race_new, such a page of its own code.  42 when
 * the spinning thread ran the new page, 7 when it ran the old one to its
 * end.  Right before each system call that replaces the page (race 1:
 * the mmap, then the mremap; race 2: the mremap) the main thread logs a
 * line naming it ("map race: ... mmap" or "... mremap"), then sees the
 * spinner's loop counter move, so that the spinner is shown inside
 * race_page, running, as the call is made (3 when it was not); a test
 * that expects a kill there requires that line last.  Where threads are
 * refused (mprotect, none) the main thread does the same alone ("map
 * race: alone, ..."): it replaces the page, then calls it.
 *
 * With -DDOUBLE_FETCH: a thread flips the descriptors that the main thread
 * hands pvsub_tx() and pvsub_rx() in a loop, between a valid buffer and
 * places outside the guest's memory (past its end, wrapping, the device
 * window, the runtime's text, the guest's own data) or an oversized
 * length.  Every call must be refused (-EINVAL) or done as the valid
 * descriptor says: each frame that comes back is the valid buffer's 64
 * bytes, the guest's data (a canary) is unchanged, and the frames left
 * pending on queue 1 (whose ring the window target is) come back intact.
 * The main thread reads the descriptor right before and right after each
 * call: a call during which it changed (its offset, or for pvsub_tx its
 * length; pvsub_rx writes the length itself) is counted, and both kinds of
 * call must have met such a change, or the flips ran beside the calls, not
 * during them.  The counts are logged ("double fetch: ...").
 * 0 when all held and both kinds of call were seen, else the number of
 * the first check that failed (2 where threads are refused).
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
	!defined(THREAD_EXIT) && !defined(MAP_RACE) && !defined(DOUBLE_FETCH)
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
#elif defined(MAP_RACE)
#define PROT_RWX 7
#define MAP_PRIVATE_ANON 0x22
#define MREMAP_MAYMOVE_FIXED 3

/* The needle, one less per byte: the bytes 0f 05 c3 (syscall; ret) are
 * never in the guest's own code. */
static volatile unsigned char needle[3] = {0x0e, 0x04, 0xc2};

/* A `syscall; ret` in the runtime's text, read forward from
 * pvsub_clock_ns (the same function under every backend). */
static const unsigned char *find_syscall(void)
{
	const volatile unsigned char *p = (const volatile unsigned char *)(uintptr_t)pvsub_clock_ns;

	for (unsigned i = 0; i < 65536; i++)
		if (p[i] == needle[0] + 1 && p[i + 1] == needle[1] + 1 && p[i + 2] == needle[2] + 1)
			return (const unsigned char *)(uintptr_t)(p + i);
	return 0;
}

/* The system call @nr with arguments @a to @e, through @site. */
static long sys(const unsigned char *site, long nr, long a, long b, long c, long d, long e)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	long ret;

	/* below the red zone: the call pushes its return address */
	__asm__ volatile("sub $128, %%rsp\n\tcall *%[site]\n\tadd $128, %%rsp"
			 : "=a"(ret)
			 : [site] "r"(site), "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r9", "r11", "memory");
	return ret;
}

/*
 * race_page: sets race_in, spins (counting in race_spins) until race_stop,
 * returns 7; nothing else lies on its page.  race_new: the page that replaces it, NOPs and then
 * "mov $42, %eax; ret", so that a thread spinning anywhere in race_page
 * slides into the 42.
 */
volatile int race_in, race_stop;
volatile unsigned race_spins;
int race_page(void);
extern const unsigned char race_new[];
__asm__(".pushsection .text\n"
	".balign 4096\n"
	"race_page:\n"
	"	movl $1, race_in(%rip)\n"
	"1:	incl race_spins(%rip)\n"
	"	cmpl $0, race_stop(%rip)\n"
	"	je 1b\n"
	"	movl $7, %eax\n"
	"	ret\n"
	"	.balign 4096, 0xcc\n"
	"race_new:\n"
	"	.fill 4090, 1, 0x90\n"
	"	movl $42, %eax\n"
	"	ret\n"
	".popsection\n");

static volatile int race_result;
static int race_alone;

/* Whether the spinner, which leaves race_page only after race_stop, is
 * running in it now: its counter moves within 2 s (alone: trivially). */
static int spinning(void)
{
	unsigned s0 = race_spins;
	uint64_t t0 = pvsub_clock_ns();

	if (race_alone)
		return 1;
	while (race_spins == s0 && pvsub_clock_ns() - t0 < 2000000000ull)
		;
	return race_spins != s0 && !race_result;
}

/* Logs @msg (the call about to be made) and checks that the spinner is
 * still in race_page: 0, or 3. */
static int about_to(const char *msg, size_t len)
{
	pvsub_log(msg, len);
	return spinning() ? 0 : 3;
}

#define ABOUT_TO(alone, threaded)                                                                  \
	(race_alone ? about_to(alone, sizeof(alone) - 1) : about_to(threaded, sizeof(threaded) - 1))

static void spinner(void *arg)
{
	(void)arg;
	race_result = race_page();
}

/* Replace race_page as MAP_RACE says: 0, 3 when the spinner was not in
 * race_page before a call, or 4 to 6 when a call failed. */
static int replace(const unsigned char *s)
{
	long from = (long)(uintptr_t)race_new, r;

	if (MAP_RACE == 1) {
		if (ABOUT_TO("map race: alone, mmap", "map race: spinner in race_page, mmap"))
			return 3;
		from = sys(s, 9, 0, 4096, PROT_RWX, MAP_PRIVATE_ANON, -1);
		if (from < 0 && from > -4096)
			return 4;
		for (unsigned i = 0; i < 4096; i++)
			((volatile unsigned char *)from)[i] = race_new[i];
	}
	if (ABOUT_TO("map race: alone, mremap", "map race: spinner in race_page, mremap"))
		return 3;
	r = sys(s, 25, from, 4096, 4096, MREMAP_MAYMOVE_FIXED, (long)(uintptr_t)race_page);
	return r == (long)(uintptr_t)race_page ? 0 : 5;
}

int pvsub_guest_main(const struct pvsub_guest *g)
{
	const unsigned char *s = find_syscall();
	uint64_t t0;
	int r;

	if (!s || (uintptr_t)race_page % 4096 ||
	    race_new != (const unsigned char *)race_page + 4096)
		return 9;
	r = pvsub_thread_start(spinner, 0, (uint8_t *)g->mem + 0x200000u, STACK_SIZE);
	if (r == -EPERM) { /* no threads here: the same, alone */
		race_alone = 1;
		r = replace(s);
		race_stop = 1;
		return r ? r : race_page();
	}
	if (r)
		return 2;
	t0 = pvsub_clock_ns();
	while (!race_in && pvsub_clock_ns() - t0 < 10000000000ull)
		;
	if (!race_in)
		return 3;
	r = replace(s);
	/* the spinner slides into the new page's 42, or (not replaced)
	 * runs the old one to its end */
	t0 = pvsub_clock_ns();
	while (!race_result && pvsub_clock_ns() - t0 < 2000000000ull)
		;
	race_stop = 1;
	while (!race_result)
		;
	return r ? r : race_result;
}
#elif defined(DOUBLE_FETCH)
#define WINDOW 0x20000000UL
/* queue 1's ring in the window (struct loader_world in runtime/guestapi.h:
 * the 40-byte struct pvsub_guest, four pointers, rings[0]: slots, len[256],
 * head, tail; then rings[1]) */
#define RING1_OFF (40 + 4 * 8 + 8 + 256 * 4 + 8)
#define TX_OFF 0x100000u
#define RX_OFF 0x101000u
#define Q1_OFF 0x102000u
#define DESC_OFF 0x103000u
#define LEN 64u
#define Q1_FRAMES 3u
#define PHASE_NS 4000000000ull
#define BATCH 32u

/* Each check has its number, the guest's status when it fails. */
#define DF_CHECK(n, cond)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return (n);                                                                \
	} while (0)

static const struct pvsub_guest *G;
/* The guest's own data: outside its memory, and a target of the flips. */
static volatile uint8_t canary[256];
static volatile int flip_stop, flip_done;
/* all volatile: the flipper reads each afresh as the main thread changes
 * them between the phases */
static volatile struct pvsub_frame *volatile flipped;
static volatile struct pvsub_frame good, bad[8];
static volatile unsigned n_bad;

/* The flipper: the descriptor at `flipped` alternates between `good` and
 * each of `bad` in turn, field by field, until flip_stop.  It runs beside
 * the main thread, which sets the targets (n_bad may still be 0) and
 * `flipped` as it goes. */
static void flipper(void *arg)
{
	(void)arg;
	for (unsigned k = 0; !flip_stop; k++) {
		volatile struct pvsub_frame *d = flipped;
		unsigned n = n_bad;

		if (!d || !n)
			continue;
		k %= n;
		for (int i = 0; i < 64; i++) {
			d->off = bad[k].off;
			d->len = bad[k].len;
		}
		for (int i = 0; i < 64; i++) {
			d->off = good.off;
			d->len = good.len;
		}
	}
	flip_done = 1;
}

static uint8_t pattern(uint32_t i, uint32_t seed)
{
	return (uint8_t)(i * 13 + seed * 29 + 5);
}

static int canary_ok(void)
{
	for (unsigned i = 0; i < sizeof(canary); i++)
		if (canary[i] != 0xa5)
			return 0;
	return 1;
}

/* Whether the LEN bytes at @off are the valid buffer's (seed 0), and
 * clears them for the next frame. */
static int received_ok(uint32_t off)
{
	uint8_t *rx = (uint8_t *)G->mem + off;
	int ok = 1;

	for (uint32_t i = 0; i < LEN; i++) {
		ok &= rx[i] == pattern(i, 0);
		rx[i] = 0;
	}
	return ok;
}

/* The flip targets, as offsets from the guest's memory for a LEN-byte
 * frame (@window: where in the window), and the oversized length. */
static void targets(uintptr_t window)
{
	uintptr_t mem = (uintptr_t)G->mem;
	const uint64_t size = G->mem_size;

	n_bad = 0;
	bad[n_bad++] = (struct pvsub_frame){size - LEN / 2, LEN, 0};	/* past the end */
	bad[n_bad++] = (struct pvsub_frame){size + 4096, LEN, 0};	/* outside */
	bad[n_bad++] = (struct pvsub_frame){~(uint64_t)0 - 15, LEN, 0}; /* wrapping */
	bad[n_bad++] = (struct pvsub_frame){window - mem, LEN, 0};	/* the window */
	bad[n_bad++] = (struct pvsub_frame){(uintptr_t)pvsub_clock_ns - mem, LEN, 0}; /* runtime */
	bad[n_bad++] = (struct pvsub_frame){(uintptr_t)canary - mem, LEN, 0};	      /* its data */
	bad[n_bad++] = (struct pvsub_frame){good.off, 0x10000, 0}; /* oversized */
}

/* Appends " @v" in decimal at @p; returns the end. */
static char *put_u32(char *p, uint32_t v)
{
	char digits[10];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while (v /= 10);
	*p++ = ' ';
	while (n)
		*p++ = digits[--n];
	return p;
}

/* How many calls of each kind the flips met. */
struct df_counts {
	uint32_t sent, refused, tx_changed, got, rx_refused, rx_changed;
};

/* Logs @c. */
static void log_counts(const struct df_counts *c)
{
	static const char head[] = "double fetch: tx sent, refused, changed during the call; rx "
				   "got, refused, changed:";
	char line[sizeof(head) + 66], *p = line;

	for (unsigned i = 0; i < sizeof(head) - 1; i++)
		*p++ = head[i];
	p = put_u32(p, c->sent);
	p = put_u32(p, c->refused);
	p = put_u32(p, c->tx_changed);
	p = put_u32(p, c->got);
	p = put_u32(p, c->rx_refused);
	p = put_u32(p, c->rx_changed);
	pvsub_log(line, (size_t)(p - line));
}

/* pvsub_tx(0, @d, 1), counting in @c->tx_changed whether *@d changed
 * between the reads right before and right after the call. */
static int tx_watched(struct pvsub_frame *d, struct df_counts *c)
{
	const volatile struct pvsub_frame *v = d;
	uint64_t off = v->off;
	uint32_t len = v->len;
	int r = pvsub_tx(0, d, 1);

	c->tx_changed += v->off != off || v->len != len;
	return r;
}

/* pvsub_rx(0, @d, 1), counting in @c->rx_changed whether @d's offset (the
 * call itself writes its length) changed across the call. */
static int rx_watched(struct pvsub_frame *d, struct df_counts *c)
{
	const volatile struct pvsub_frame *v = d;
	uint64_t off = v->off;
	int r = pvsub_rx(0, d, 1);

	c->rx_changed += v->off != off;
	return r;
}

int pvsub_guest_main(const struct pvsub_guest *g)
{
	uint8_t *mem = g->mem;
	struct pvsub_frame *txd = (struct pvsub_frame *)(mem + DESC_OFF);
	struct pvsub_frame *rxd = txd + 8;
	struct pvsub_frame stable_tx = {TX_OFF, LEN, 0}, stable_rx = {RX_OFF, 0, 0};
	struct pvsub_frame txs[BATCH], rxs[BATCH];
	struct df_counts c = {0};
	uint64_t t0;
	int r;

	G = g;
	stable_rx.len = g->frame_max;
	for (unsigned i = 0; i < sizeof(canary); i++)
		canary[i] = 0xa5;
	for (uint32_t i = 0; i < LEN; i++)
		mem[TX_OFF + i] = pattern(i, 0);
	/* frames left pending on queue 1, whose ring the rx flips aim at */
	for (uint32_t f = 0; f < Q1_FRAMES; f++) {
		struct pvsub_frame q1 = {Q1_OFF + f * 2048u, LEN + f, 0};

		for (uint32_t i = 0; i < LEN + f; i++)
			mem[Q1_OFF + f * 2048u + i] = pattern(i, f + 1);
		DF_CHECK(3, pvsub_tx(1, &q1, 1) == 1);
	}
	r = pvsub_thread_start(flipper, 0, mem + 0x200000u, STACK_SIZE);
	DF_CHECK(2, r == 0);

	/* transmit: the flipped descriptor reads the window's start; BATCH
	 * frames sent, then received at once (most of the time in pvsub_tx) */
	good = stable_tx;
	targets(WINDOW);
	*txd = good;
	flipped = txd;
	for (t0 = pvsub_clock_ns(); pvsub_clock_ns() - t0 < PHASE_NS;) {
		uint32_t pending = 0;

		while (pending < BATCH) {
			r = tx_watched(txd, &c);
			if (r == -EINVAL) {
				c.refused++;
				continue;
			}
			DF_CHECK(7, r == 1);
			pending++;
		}
		c.sent += pending;
		for (uint32_t k = 0; k < BATCH; k++)
			rxs[k] = (struct pvsub_frame){RX_OFF + k * 128u, g->frame_max, 0};
		DF_CHECK(8, pvsub_rx(0, rxs, BATCH) == BATCH);
		for (uint32_t k = 0; k < BATCH; k++) {
			DF_CHECK(9, rxs[k].len == LEN);
			DF_CHECK(10, received_ok(RX_OFF + k * 128u));
		}
	}
	/* receive: the flipped descriptor writes queue 1's ring; BATCH frames
	 * sent at once, then received one by one */
	flipped = 0;
	good = (struct pvsub_frame){RX_OFF, g->frame_max, 0};
	targets(WINDOW + RING1_OFF);
	*rxd = good;
	flipped = rxd;
	for (uint32_t k = 0; k < BATCH; k++)
		txs[k] = stable_tx;
	for (t0 = pvsub_clock_ns(); pvsub_clock_ns() - t0 < PHASE_NS;) {
		DF_CHECK(11, pvsub_tx(0, txs, BATCH) == BATCH);
		for (uint32_t k = 0; k < BATCH; k++) {
			while ((r = rx_watched(rxd, &c)) == -EINVAL)
				c.rx_refused++;
			DF_CHECK(12, r == 1);
			c.got++;
			DF_CHECK(13, received_ok(RX_OFF));
		}
		DF_CHECK(14, canary_ok());
	}
	flip_stop = 1;
	while (!flip_done)
		;
	log_counts(&c);
	DF_CHECK(15, canary_ok());
	/* queue 1 kept its frames */
	for (uint32_t f = 0; f < Q1_FRAMES; f++) {
		uint8_t *rx = mem + RX_OFF;

		stable_rx.len = g->frame_max;
		DF_CHECK(16, pvsub_rx(1, &stable_rx, 1) == 1);
		DF_CHECK(17, stable_rx.len == LEN + f);
		for (uint32_t i = 0; i < LEN + f; i++)
			DF_CHECK(18, rx[i] == pattern(i, f + 1));
	}
	DF_CHECK(19, pvsub_rx(1, &stable_rx, 1) == 0);
	/* both kinds of call seen, or the flips proved nothing */
	DF_CHECK(20, c.sent && c.refused && c.got && c.rx_refused);
	/* and the descriptor changed during calls of each kind: the race ran */
	DF_CHECK(21, c.tx_changed && c.rx_changed);
	return 0;
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
	static const char line[] = "clone attack: jump";

	pvsub_log(line, sizeof(line) - 1);
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
