/* SPDX-License-Identifier: MIT */
/*
 * forge.c: a certified guest that hands the guest API forged frame
 * descriptors (tests/integration/loader-attacks.sh compiles it once per
 * part, with -DFORGE=N).
 *
 * FORGE=1: descriptors that must each be refused with -EINVAL and nothing
 * sent: a buffer outside the guest's memory, an offset and length that
 * wrap around 2^64, one whose pointer sum would reach the device window, a
 * length above frame_max, a queue outside the guest's, a count of 0 (not
 * an error: nothing sent), "negative" and above the batch maximum or the
 * ring, a bad descriptor in a batch of good ones, flags; each through
 * pvsub_tx() and pvsub_rx().  Then what the refused calls left behind: no
 * frame pending on either queue, a transmit ring that takes exactly
 * LOOPBACK_RING frames, and those frames coming back intact.  Returns 0,
 * or the number of the first check that failed (1 to about 50).
 *
 * FORGE=2: the descriptor array itself pointed into the device window, at
 * the loopback device's own ring counters (see window_rx()).
 *
 * FORGE=3 (with -DERRNO_LOCATION): the thread pointer moved so that libc's
 * errno, stored by a gate, lands in the window (see errno_window()).
 *
 * FORGE=4: the gates entered with the direction flag set (see set_df()).
 *
 * FORGE=5: pvsub_rx()'s array aimed at the gate's own stack frame (see
 * gate_stack()).
 *
 * FORGE=6: a frame received onto the gate stub's return address (see
 * hijack()).
 */
#include <pvsub/guest.h>

#define EINVAL 22

/* The loopback device (runtime/guestapi.h: LOOPBACK_RING, _QUEUES). */
#define RING 256u
#define QUEUES 2u
/* The device window (runtime/handoff.h's GUESTRUN_WINDOW). */
#define WINDOW 0x20000000UL

static const struct pvsub_guest *G;
static unsigned check;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		check++;                                                                           \
		if (!(cond))                                                                       \
			return (int)check;                                                         \
	} while (0)

static int tx1(uint32_t queue, uint64_t off, uint32_t len)
{
	struct pvsub_frame f = {off, len, 0};

	return pvsub_tx(queue, &f, 1);
}

static int rx1(uint32_t queue, uint64_t off, uint32_t len)
{
	struct pvsub_frame f = {off, len, 0};

	return pvsub_rx(queue, &f, 1);
}

/* Frame i of the ring test: RING_LEN(i) bytes at offset i * 2048, each
 * byte (i + k) & 0xff. */
#define RING_LEN(i) (60u + (i) % 1400u)

static int refused(void)
{
	const uint64_t size = G->mem_size, to_window = WINDOW - (uintptr_t)G->mem;
	struct pvsub_frame f[RING + 1] = {{0}};

	for (unsigned i = 0; i <= RING; i++)
		f[i] = (struct pvsub_frame){(uint64_t)i * 2048, 60, 0};
	for (unsigned d = 0; d < 2; d++) {
		int (*one)(uint32_t, uint64_t, uint32_t) = d ? rx1 : tx1;

		CHECK(one(0, size, 1) == -EINVAL);	       /* just past the end */
		CHECK(one(0, size - 59, 60) == -EINVAL);       /* across the end */
		CHECK(one(0, UINT64_MAX - 10, 60) == -EINVAL); /* wraps */
		CHECK(one(0, (uint64_t)0 - (uintptr_t)G->mem, 60) == -EINVAL); /* mem + off = 0 */
		CHECK(one(0, to_window, 60) == -EINVAL); /* mem + off = the window */
		CHECK(one(0, 0, G->frame_max + 1) == -EINVAL);
		CHECK(one(0, 0, UINT32_MAX) == -EINVAL);
		CHECK(one(0, 0, 0) == -EINVAL);
		CHECK(one(QUEUES, 0, 60) == -EINVAL);
		CHECK(one(G->n_queues, 0, 60) == -EINVAL);
		CHECK(one(UINT32_MAX, 0, 60) == -EINVAL);
	}
	CHECK(pvsub_tx(0, f, PVSUB_GUEST_BATCH_MAX + 1) == -EINVAL);
	CHECK(pvsub_tx(0, f, RING + 1) == -EINVAL);
	CHECK(pvsub_tx(0, f, (uint32_t)-1) == -EINVAL); /* a "negative" count */
	CHECK(pvsub_rx(0, f, RING + 1) == -EINVAL);
	CHECK(pvsub_rx(0, f, (uint32_t)-1) == -EINVAL);
	CHECK(pvsub_tx(0, 0, 1) == -EINVAL);
	CHECK(pvsub_tx(0, 0, 0) == 0); /* nothing to send */
	CHECK(pvsub_tx(0, f, 0) == 0);
	CHECK(pvsub_rx(0, f, 0) == 0);
	/* one bad descriptor refuses the whole batch */
	f[2].off = size;
	CHECK(pvsub_tx(1, f, 4) == -EINVAL);
	f[2].off = 2 * 2048;
	f[3].flags = 1;
	CHECK(pvsub_tx(1, f, 4) == -EINVAL);
	f[3].flags = 0;
	f[1].len = 0;
	CHECK(pvsub_tx(1, f, 4) == -EINVAL);
	return 0;
}

/* After the refused calls: nothing pending, and a ring that takes exactly
 * RING frames, each coming back intact. */
static int unchanged(void)
{
	volatile uint8_t *mem = G->mem;
	struct pvsub_frame f[PVSUB_GUEST_BATCH_MAX];
	uint32_t sent = 0, got = 0, bad = 0;
	int n = 1;

	CHECK(rx1(0, 0, G->frame_max) == 0);
	CHECK(rx1(1, 0, G->frame_max) == 0);
	for (uint32_t i = 0; i < RING; i++)
		for (uint32_t k = 0; k < RING_LEN(i); k++)
			mem[(uint64_t)i * 2048 + k] = (uint8_t)(i + k);
	/* one batch more than the ring holds */
	while (n > 0 && sent < RING + PVSUB_GUEST_BATCH_MAX) {
		for (uint32_t i = 0; i < PVSUB_GUEST_BATCH_MAX; i++) {
			uint32_t j = (sent + i) % RING;

			f[i] = (struct pvsub_frame){(uint64_t)j * 2048, RING_LEN(j), 0};
		}
		n = pvsub_tx(1, f, PVSUB_GUEST_BATCH_MAX);
		sent += n > 0 ? (uint32_t)n : 0;
	}
	CHECK(n == 0);
	CHECK(sent == RING); /* no slot was taken by a refused call */
	for (uint32_t i = 0; i < RING; i++)
		for (uint32_t k = 0; k < RING_LEN(i); k++)
			mem[(uint64_t)i * 2048 + k] = 0;
	for (n = 1; n > 0 && got < RING; got += (uint32_t)n) {
		for (uint32_t i = 0; i < PVSUB_GUEST_BATCH_MAX; i++)
			f[i] = (struct pvsub_frame){(uint64_t)(got + i) * 2048, G->frame_max, 0};
		n = pvsub_rx(1, f, PVSUB_GUEST_BATCH_MAX);
		for (int i = 0; i < n; i++) {
			uint32_t j = got + (uint32_t)i;

			bad += f[i].len != RING_LEN(j);
			for (uint32_t k = 0; k < RING_LEN(j); k++)
				bad += mem[(uint64_t)j * 2048 + k] != (uint8_t)(j + k);
		}
	}
	CHECK(n > 0 && got == RING);
	CHECK(bad == 0);
	CHECK(rx1(1, 0, G->frame_max) == 0);
	CHECK(rx1(0, 0, G->frame_max) == 0);
	return 0;
}

/*
 * The descriptor array of pvsub_rx() pointed into the device window: the
 * gate reads the descriptors and writes each received frame's length
 * back to them while the window is open.  The target is queue 0's ring
 * head (struct loader_world in runtime/guestapi.h: the 40-byte struct
 * pvsub_guest, four pointers, then rings[0]: slots, len[256], head, tail).
 * A descriptor that starts 8 bytes before it reads as off = len[254] |
 * len[255] << 32 (0: those slots are unused), len = head, flags = tail (0:
 * nothing received yet): it passes every check, and the received frame's
 * length is written over head.
 *
 * Queue 0 holds 200 frames of 60 bytes; queue 1 one frame of 5 bytes,
 * received with that descriptor.  Returns 0 when the gate refuses the
 * descriptor array (-EINVAL) and queue 0 still holds its 200 frames; 3
 * when the call succeeds and queue 0 now holds 5 frames (the gate wrote
 * the guest's chosen value into the device's state); 4 to 9 for anything
 * else; 8 when pvsub_tx() takes a descriptor array in the window (the
 * first ring slot, whose bytes the guest sent: a valid descriptor).
 * Built with UNDER_NONE, for --backend none, where the window is
 * always open: it first checks that the ring head is where it aims (7 if
 * not), so that a change of the world's layout fails the test instead of
 * hiding the attack; and after the refusal it writes the head itself,
 * which none allows (0 when queue 0 then holds 5 frames).
 */
#define HEAD0_OFF (40 + 4 * 8 + 8 + 256 * 4)

/* 200 frames of 60 bytes from offset 0 pending on queue 0: 0, or 1 when
 * pvsub_tx() takes none. */
static int queue_200(void)
{
	struct pvsub_frame f[PVSUB_GUEST_BATCH_MAX];
	uint32_t sent = 0;

	for (uint32_t i = 0; i < PVSUB_GUEST_BATCH_MAX; i++)
		f[i] = (struct pvsub_frame){0, 60, 0};
	while (sent < 200) {
		int n = pvsub_tx(0, f,
				 200 - sent < PVSUB_GUEST_BATCH_MAX ? 200 - sent
								    : PVSUB_GUEST_BATCH_MAX);

		if (n <= 0)
			return 1;
		sent += (uint32_t)n;
	}
	return 0;
}

/* Receive queue 0 until it is empty, adding what came to *@left into @f
 * (PVSUB_GUEST_BATCH_MAX frames); -1 when pvsub_rx fails. */
static int drain(struct pvsub_frame *f, uint32_t *left)
{
	for (;;) {
		int k = pvsub_rx(0, f, PVSUB_GUEST_BATCH_MAX);

		if (k < 0)
			return -1;
		if (k == 0)
			return 0;
		*left += (uint32_t)k;
	}
}

static int window_rx(void)
{
	struct pvsub_frame f[PVSUB_GUEST_BATCH_MAX];
	volatile uint32_t *head0 = (volatile uint32_t *)(WINDOW + HEAD0_OFF);
	uint32_t left = 0;
	int n, t;

	for (uint32_t i = 0; i < PVSUB_GUEST_BATCH_MAX; i++)
		f[i] = (struct pvsub_frame){0, 60, 0};
	/* each frame starts with a valid descriptor (for the read side) */
	*(struct pvsub_frame *)G->mem = f[0];
	if (queue_200())
		return 4;
	if (tx1(1, 0, 5) != 1)
		return 5;
#ifdef UNDER_NONE
	if (head0[0] != 200 || head0[1] != 0 || head0[-1] != 0 || head0[-2] != 0)
		return 7;
#endif
	n = pvsub_rx(1, (struct pvsub_frame *)(uintptr_t)(head0 - 2), 1);
#ifdef UNDER_NONE
	if (n == -EINVAL)
		*head0 = 5;
#define LEFT 5u
#else
#define LEFT 200u
#endif
	if (drain(f, &left) < 0)
		return 6;
	/* the read side: descriptors read from queue 0's first slot, which
	 * holds a frame that starts with a valid one */
	t = pvsub_tx(1, (const struct pvsub_frame *)(WINDOW + 4096), 1);
	if (n == 1 && left == 5)
		return 3;
	if (t != -EINVAL)
		return 8;
	if (n == -EINVAL && left == LEFT)
		return 0;
	return 9;
}

#ifdef ERRNO_LOCATION
/*
 * The thread pointer: the runtime's libc finds errno through %fs, and
 * FSGSBASE lets any code move %fs without a system call (wrfsbase; the
 * kernel enables it where the CPU has it, and no certificate looks for
 * it).  A gate whose write(2) fails (standard error is /dev/full: the
 * script sees to it) stores the errno, ENOSPC (28), at %fs:0's value plus
 * libc's offset of errno, with the window open.  The guest points %fs at
 * its own memory, whose first word aims that store at queue 0's ring head
 * (200 frames pending), logs a line, and restores %fs.  libc's offset is
 * read from its __errno_location(), at ERRNO_LOCATION (nm gives it to the
 * script): "mov %fs:0, %rax; add $OFF, %rax".
 *
 * Returns 0 when queue 0 still holds 200 frames, 3 when it holds 28 (the
 * gate stored the errno in the device's state), 8 when
 * __errno_location() is not what it expects, 9 for anything else.  Built
 * with UNDER_NONE and WRITE_FN (libc's write(), from nm), for --backend
 * none, where the window is always open, it is also the control: it
 * checks that the head is where it aims (7 if not) and reads it after the
 * line (3 when the gate stored there), then calls libc's write() itself
 * with %fs still moved: 0 when that stored 28 on the head, which shows
 * that standard error failed and that the aim is right, 9 if not.
 */
static int errno_window(void)
{
	static const unsigned char mov_fs0[] = {0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0};
	const volatile unsigned char *loc = (const volatile unsigned char *)ERRNO_LOCATION;
	volatile uint32_t *head0 = (volatile uint32_t *)(WINDOW + HEAD0_OFF);
	uint64_t *tp = (uint64_t *)((uint8_t *)G->mem + (2 << 20));
	struct pvsub_frame f[PVSUB_GUEST_BATCH_MAX];
	uint32_t left = 0;
	unsigned long fs;

	for (unsigned i = 0; i < sizeof(mov_fs0); i++)
		if (loc[i] != mov_fs0[i])
			return 8;
	if (loc[9] != 0x48 || loc[10] != 0x83 || loc[11] != 0xc0)
		return 8;
	for (uint32_t i = 0; i < PVSUB_GUEST_BATCH_MAX; i++)
		f[i] = (struct pvsub_frame){0, 60, 0};
	if (queue_200())
		return 4;
#ifdef UNDER_NONE
	if (head0[0] != 200 || head0[1] != 0)
		return 7;
#endif
	tp[0] = (uint64_t)(uintptr_t)head0 - loc[12];
	__asm__ volatile("rdfsbase %0\n\t"
			 "wrfsbase %1"
			 : "=&r"(fs)
			 : "r"(tp)
			 : "memory");
	pvsub_log("errno", 5);
#ifdef UNDER_NONE
	left = head0[0];
	((long (*)(int, const void *, size_t))WRITE_FN)(2, "errno\n", 6);
	__asm__ volatile("wrfsbase %0" : : "r"(fs) : "memory");
	return left == 28 ? 3 : left == 200 && head0[0] == 28 ? 0 : 9;
#endif
	__asm__ volatile("wrfsbase %0" : : "r"(fs) : "memory");
	if (drain(f, &left) < 0)
		return 6;
	return left == 200 ? 0 : left == 28 ? 3 : 9;
}
#endif

/*
 * The direction flag: the ABI says it is clear at every call, and libc's
 * memcpy() (rep movsq) copies downwards when it is set, from below the
 * source into below the destination.  A gate entered with it set would
 * copy other bytes than the descriptor it checked names, below a ring
 * slot in the window (pvsub_tx) or below the guest's buffer (pvsub_rx).
 * The guest sets it (std) for one pvsub_tx() and for one pvsub_rx() of
 * 1000 bytes each, clears it, and checks what came back.  Returns 0 when
 * both frames come back intact, 3 when the transmitted one does not, 4
 * when the received one does not (a gate copied with the flag set), 5 or
 * 6 when a call fails.
 */
static int set_df(void)
{
	volatile uint8_t *mem = G->mem;
	struct pvsub_frame f = {8192, 1000, 0}, r = {65536, G->frame_max, 0};
	uint32_t bad = 0;
	int n;

	for (uint32_t i = 0; i < 3 * 65536; i++)
		mem[i] = (uint8_t)(i * 7 + i / 251);
	__asm__ volatile("std" : : : "memory");
	n = pvsub_tx(0, &f, 1);
	__asm__ volatile("cld" : : : "memory");
	if (n != 1 || pvsub_rx(0, &r, 1) != 1 || r.len != 1000)
		return 5;
	for (uint32_t i = 0; i < 1000; i++)
		bad += mem[65536 + i] != (uint8_t)((8192 + i) * 7 + (8192 + i) / 251);
	if (bad)
		return 3;
	r = (struct pvsub_frame){2 * 65536, G->frame_max, 0};
	if (pvsub_tx(1, &f, 1) != 1)
		return 6;
	__asm__ volatile("std" : : : "memory");
	n = pvsub_rx(1, &r, 1);
	__asm__ volatile("cld" : : : "memory");
	if (n != 1 || r.len != 1000)
		return 6;
	for (uint32_t i = 0; i < 1000; i++)
		bad += mem[2 * 65536 + i] != (uint8_t)((8192 + i) * 7 + (8192 + i) / 251);
	return bad ? 4 : 0;
}

/*
 * The descriptor array aimed below the guest's stack pointer, where the
 * gate's body kept its state (spilled pointers, saved registers, return
 * addresses) while the gates ran on the guest's stack; they now run on
 * their own, and only the stub's pushes land there.  The snapshot is
 * copied from the array, and the received lengths are written back to it.  The guest runs on a stack of its own in its memory,
 * every quadword of which reads as a valid descriptor (0x5ea: offset 1514,
 * length 1514, no flags), and calls pvsub_rx() for two frames with the
 * array at each byte from 16 to 2048 bytes below its stack pointer, two
 * frames pending each time.  Returns 0 when every call returned (refused,
 * or received what its snapshot allowed; the gate's own pushes spoil some
 * of the descriptors, so the result varies), 5 for a result that is
 * neither a count nor an errno; a call that wrote through state the
 * lengths overwrote does not return (SIGSEGV, or worse).
 */
#define SWEEP_STACK (64u << 10)

/* pvsub_rx(0, @frames, @count) called with the stack pointer at @sp. */
static long rx_on(uint8_t *sp, struct pvsub_frame *frames, long count)
{
	register long n __asm__("rdx") = count;
	register long q __asm__("rdi") = 0;
	register struct pvsub_frame *a __asm__("rsi") = frames;
	long r;

	__asm__ volatile("movq %%rsp, %%rbx\n\t"
			 "movq %[sp], %%rsp\n\t"
			 "call *%[rx]\n\t"
			 "movq %%rbx, %%rsp"
			 : "=a"(r), "+d"(n), "+D"(q), "+S"(a)
			 : [sp] "r"(sp), [rx] "r"(pvsub_rx)
			 : "rbx", "rcx", "r8", "r9", "r10", "r11", "memory");
	return r;
}

static int gate_stack(void)
{
	uint64_t *stack = (uint64_t *)((uint8_t *)G->mem + (4u << 20));
	uint8_t *sp = (uint8_t *)(stack + SWEEP_STACK / 8 / 2);
	struct pvsub_frame f[2] = {{0, 100, 0}, {0, 200, 0}};

	for (unsigned below = 16; below <= 2048; below++) {
		for (unsigned i = 0; i < SWEEP_STACK / 8; i++)
			stack[i] = 0x5ea;
		if (pvsub_tx(0, f, 2) != 2)
			return 4;
		/* an int: %eax */
		int r = (int)rx_on(sp, (struct pvsub_frame *)(uintptr_t)(sp - below), 2);

		if (r > 2 || r < -4095)
			return 5;
		while (pvsub_rx(0, f, 2) > 0) /* what was refused */
			f[0].len = 100, f[1].len = 200;
		f[0].len = 100;
		f[1].len = 200;
	}
	return 0;
}

/*
 * A frame received onto the gate stub's return address.  The guest runs on
 * a stack in its own memory and asks pvsub_rx() for an 8-byte frame at the
 * slot where its call leaves the stub's return address (8 below its stack
 * pointer); the frame holds the address of attack_hijack().  The body runs
 * on the gates' own stack, so the copy cannot reach the body's state; it
 * does overwrite the stub's return address, and the stub, once it has
 * closed the window, "returns" to attack_hijack(), which writes the
 * window's last byte and ends the guest with 42 when that write held.  So
 * the guest gains a jump to its own code with the window closed: SIGSEGV
 * under mprotect, 42 under none (the control that shows the slot was the
 * return address).  5 when the stub came back: the slot was not it.
 */
extern char attack_hijack[];
__asm__(".text\n"
	".globl attack_hijack\n"
	".type attack_hijack, @function\n"
	"attack_hijack:\n"
	"	andq $-16, %rsp\n"
	"	call attack_hijacked\n"
	"	ud2\n");

__attribute__((used, noreturn)) void attack_hijacked(void)
{
	volatile uint8_t *last = (volatile uint8_t *)(WINDOW + 0x100000 - 1);

	*last = 0x5a;
	pvsub_exit(*last == 0x5a ? 42 : 43);
}

static int hijack(void)
{
	uint8_t *mem = G->mem, *sp = mem + (8u << 20);
	static struct pvsub_frame d;
	struct pvsub_frame f = {4096, 8, 0};
	uint64_t target = (uint64_t)(uintptr_t)attack_hijack;

	for (int i = 0; i < 8; i++)
		mem[4096 + i] = (uint8_t)(target >> 8 * i);
	if (pvsub_tx(0, &f, 1) != 1)
		return 4;
	d = (struct pvsub_frame){(uint64_t)(sp - 8 - mem), 8, 0};
	rx_on(sp, &d, 1);
	return 5;
}

int pvsub_guest_main(const struct pvsub_guest *g)
{
	int r;

	G = g;
	if (FORGE == 2)
		return window_rx();
	if (FORGE == 4)
		return set_df();
	if (FORGE == 5)
		return gate_stack();
	if (FORGE == 6)
		return hijack();
#ifdef ERRNO_LOCATION
	if (FORGE == 3)
		return errno_window();
#endif
	r = refused();
	if (r)
		return r;
	return unchanged();
}
