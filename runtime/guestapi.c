/* SPDX-License-Identifier: MIT */
/*
 * The guest API (<pvsub/guest.h>) as pvsub-guestrun provides it, and the
 * loopback device behind pvsub_tx() and pvsub_rx().
 *
 * Each call copies the guest's descriptors into a private snapshot first
 * and checks every one of them before it acts on any (DESIGN §9: buffer
 * inside the guest's memory, length within the largest frame, queue inside
 * the guest's queues, ring space), so that what it checked is what it
 * uses.  The snapshot is on the caller's stack, which nothing else writes
 * during the call: in pvsub-guestrun the gates' own stack, inside the
 * window, which one thread at a time uses (under pkey, the only backend
 * with guest threads, the gates take a lock first: gate.h).  With the none backend nothing
 * stops the guest from bypassing the API; in pvsub-guestrun under
 * mprotect and pkey the device's state (the world, at the fixed GUESTAPI_WORLD,
 * and the rings) lies in the window that only the gates (gate.c) open, so
 * these checks are the only way to it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime/guestapi.h"
#include "runtime/handoff.h"
#ifdef GUESTAPI_WORLD
#include "runtime/gate.h"
#endif

/* The guest API has no context argument: one guest per process. */
#ifdef GUESTAPI_WORLD
#define world ((struct loader_world *)(uintptr_t)GUESTAPI_WORLD)
/* the gates (runtime/gate.c) export the guest's names */
#define pvsub_tx guestapi_tx
#define pvsub_rx guestapi_rx
#define pvsub_log guestapi_log
#else
static struct loader_world *world;
#endif
/* The runtime's stack while the guest runs, for pvsub_exit(). */
static uintptr_t saved_sp;

#define LOG_MAX 256u

int world_init(struct loader_world *w, void *mem, uint64_t mem_size, const uint8_t *image_lo,
	       const uint8_t *image_hi, uint8_t *stack_lo, uint8_t *stack_hi, uint8_t *slots)
{
#ifdef GUESTAPI_WORLD
	if (w != world)
		return -EINVAL;
#endif
	memset(w, 0, sizeof(*w));
	w->g = (struct pvsub_guest){
		.size = sizeof(struct pvsub_guest),
		.abi_version = PVSUB_GUEST_ABI_VERSION,
		.mem = mem,
		.mem_size = mem_size,
		/* locally administered, unicast */
		.mac = {0x02, 0x70, 0x76, 0x73, 0x75, 0x62},
		.n_queues = LOOPBACK_QUEUES,
		.frame_max = LOOPBACK_FRAME_MAX,
	};
	w->image_lo = image_lo;
	w->image_hi = image_hi;
	w->stack_lo = stack_lo;
	w->stack_hi = stack_hi;
	w->own_slots = !slots;
	if (!slots)
		slots = malloc(LOOPBACK_SLOTS_SIZE);
	if (!slots)
		return -ENOMEM;
	for (size_t q = 0; q < LOOPBACK_QUEUES; q++)
		w->rings[q].slots = slots + q * (LOOPBACK_SLOTS_SIZE / LOOPBACK_QUEUES);
#ifndef GUESTAPI_WORLD
	world = w;
#endif
	return 0;
}

void world_release(struct loader_world *w)
{
	if (w->own_slots)
		free(w->rings[0].slots);
	for (size_t q = 0; q < LOOPBACK_QUEUES; q++)
		w->rings[q].slots = NULL;
#ifndef GUESTAPI_WORLD
	if (world == w)
		world = NULL;
#endif
}

/*
 * int call_on_stack(entry, g, top, saved): entry(g) with the stack pointer
 * at @top (16-byte aligned), its value returned.  The loader's callee-saved
 * registers stay on the loader's stack, whose pointer goes to *@saved so
 * that exit_to_loader(*saved, status) can return from call_on_stack() with
 * @status from anywhere in the guest: a longjmp() of two instructions,
 * which leaves sanitizers' view of the stacks alone.
 */
int call_on_stack(int (*entry)(const struct pvsub_guest *), const struct pvsub_guest *g, void *top,
		  uintptr_t *saved);
/* Not declared noreturn: instrumented callers would announce the jump. */
void exit_to_loader(uintptr_t saved, int status);
__asm__(".text\n"
	".globl call_on_stack\n"
	".hidden call_on_stack\n"
	".type call_on_stack, @function\n"
	"call_on_stack:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, (%rcx)\n"
	"	movq %rcx, %rbx\n"
	"	movq %rdx, %rsp\n"
	"	movq %rdi, %rax\n"
	"	movq %rsi, %rdi\n"
	"	callq *%rax\n"
	"	movq (%rbx), %rsp\n"
	"1:	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size call_on_stack, . - call_on_stack\n"
	".globl exit_to_loader\n"
	".hidden exit_to_loader\n"
	".type exit_to_loader, @function\n"
	"exit_to_loader:\n"
	"	movl %esi, %eax\n"
	"	movq %rdi, %rsp\n"
	"	jmp 1b\n"
	".size exit_to_loader, . - exit_to_loader\n");

int world_run(int (*entry)(const struct pvsub_guest *), const struct pvsub_guest *g,
	      uint8_t *stack_top)
{
	return call_on_stack(entry, g, stack_top, &saved_sp);
}

/* --- checks ---------------------------------------------------------------- */

/* Whether @off and @len name bytes inside the guest's memory. */
static bool in_memory(uint64_t off, uint64_t len)
{
	return off <= world->g.mem_size && len <= world->g.mem_size - off;
}

static bool frame_ok(const struct pvsub_frame *f)
{
	return f->flags == 0 && f->len >= 1 && f->len <= world->g.frame_max &&
	       in_memory(f->off, f->len);
}

/*
 * Whether @n descriptors at @frames overlap the device window.  The gates
 * open it around these functions, so descriptors read from it, and
 * pvsub_rx()'s lengths written back to it, would read and change the
 * device's state (its ring counters) on the guest's behalf.
 */
static bool in_window(const struct pvsub_frame *frames, uint32_t n)
{
#ifdef GUESTAPI_WORLD
	const uintptr_t lo = GUESTRUN_WINDOW, hi = lo + GUESTRUN_WINDOW_SIZE;
	uintptr_t p = (uintptr_t)frames;

	return n && p < hi && (p >= lo || lo - p < (uintptr_t)n * sizeof(*frames));
#else
	(void)frames;
	(void)n;
	return false;
#endif
}

/* Copy the guest's @n descriptors into @snap and check the call: 0 or
 * -EINVAL. */
static int snapshot(uint32_t queue, const struct pvsub_frame *frames, uint32_t n,
		    struct pvsub_frame *snap)
{
	if (!world || queue >= world->g.n_queues || n > PVSUB_GUEST_BATCH_MAX || (n && !frames) ||
	    in_window(frames, n))
		return -EINVAL;
	if (n) /* frames may be NULL for an empty batch */
		memcpy(snap, frames, n * sizeof(*snap));
	for (uint32_t i = 0; i < n; i++)
		if (!frame_ok(&snap[i]))
			return -EINVAL;
	return 0;
}

static uint8_t *slot(struct loopback_ring *r, uint32_t i)
{
	return r->slots + (size_t)(i % LOOPBACK_RING) * LOOPBACK_FRAME_MAX;
}

/* --- the API ------------------------------------------------------------------ */

int pvsub_tx(uint32_t queue, const struct pvsub_frame *frames, uint32_t n)
{
	struct pvsub_frame snap[PVSUB_GUEST_BATCH_MAX];
	struct loopback_ring *r;
	const uint8_t *mem;
	uint32_t i;
	int err = snapshot(queue, frames, n, snap);

	if (err)
		return err;
	r = &world->rings[queue];
	mem = world->g.mem;
	for (i = 0; i < n && r->head - r->tail < LOOPBACK_RING; i++, r->head++) {
		memcpy(slot(r, r->head), mem + snap[i].off, snap[i].len);
		r->len[r->head % LOOPBACK_RING] = snap[i].len;
	}
	return (int)i;
}

int pvsub_rx(uint32_t queue, struct pvsub_frame *frames, uint32_t n)
{
	struct pvsub_frame snap[PVSUB_GUEST_BATCH_MAX];
	struct loopback_ring *r;
	uint8_t *mem;
	uint32_t i;
	int err = snapshot(queue, frames, n, snap);

	if (err)
		return err;
	r = &world->rings[queue];
	mem = world->g.mem;
	for (i = 0; i < n && r->head != r->tail; i++, r->tail++) {
		uint32_t len = r->len[r->tail % LOOPBACK_RING];

		if (len > snap[i].len) {
			if (i == 0)
				return -EMSGSIZE;
			break;
		}
		memcpy(mem + snap[i].off, slot(r, r->tail), len);
		snap[i].len = len;
	}
	/* The lengths go back to the guest's array last: a write through it
	 * must not change what the copies use (the array is the guest's, and
	 * it may alias the buffers). */
	for (uint32_t k = 0; k < i; k++)
		frames[k].len = snap[k].len;
	return (int)i;
}

uint64_t pvsub_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether [@p, @p + @len) lies inside [@lo, @hi). */
static bool inside(uintptr_t p, size_t len, uintptr_t lo, uintptr_t hi)
{
	return p >= lo && p <= hi && len <= hi - p;
}

/*
 * One write(2) of @n bytes at @buf to standard error, the only descriptor
 * the seccomp filter lets the runtime write; a short write loses the rest
 * of the line, which is all a log line is worth.  In the runtime it is a
 * bare system call: libc's write() stores a failure's errno through the
 * thread pointer, which a guest can move without a system call (wrfsbase,
 * where the CPU has FSGSBASE), and the gate runs it with the window open.
 */
static void log_write(const char *buf, size_t n)
{
#ifdef GUESTAPI_WORLD
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"((long)SYS_write), "D"((long)STDERR_FILENO), "S"(buf), "d"(n)
			 : "rcx", "r11", "memory");
	(void)ret;
#else
	ssize_t w = write(STDERR_FILENO, buf, n);

	(void)w;
#endif
}

int pvsub_log(const char *msg, size_t len)
{
	static const char prefix[] = GUESTAPI_PREFIX;
	char line[sizeof(prefix) - 1 + LOG_MAX + 1];
	uintptr_t p = (uintptr_t)msg, mem = (uintptr_t)(world ? world->g.mem : NULL);
	size_t n = sizeof(prefix) - 1;

	if (!world)
		return -EINVAL;
	len = PVSUB_MIN(len, (size_t)LOG_MAX);
	if (!inside(p, len, mem, mem + world->g.mem_size) &&
	    !inside(p, len, (uintptr_t)world->image_lo, (uintptr_t)world->image_hi) &&
	    !inside(p, len, (uintptr_t)world->stack_lo, (uintptr_t)world->stack_hi))
		return -EINVAL;
	memcpy(line, prefix, n);
	for (size_t i = 0; i < len; i++)
		line[n++] = msg[i] >= 0x20 && msg[i] < 0x7f ? msg[i] : '?';
	line[n++] = '\n';
	log_write(line, n);
	return 0;
}

void pvsub_exit(int status)
{
	if (!saved_sp)
		abort(); /* no guest is running: nowhere to return to */
	exit_to_loader(saved_sp, status);
	abort(); /* not reached */
}

/*
 * Threads (<pvsub/guest.h>): the arguments are checked, then every thread
 * is refused.  Nothing here reads the world or the runtime's data, so it
 * needs no gate: under mprotect and pkey the seccomp filter kills clone
 * and clone3 from anywhere (lockdown.c), which is what holds if a guest
 * skips this function; the -EPERM only tells an honest guest so.
 */
static int thread_args(void (*fn)(void *), void *stack, size_t stack_size)
{
	uintptr_t lo = (uintptr_t)stack;

	if (!fn || !stack || lo % 16 || stack_size % 16 || stack_size < PVSUB_THREAD_STACK_MIN ||
	    stack_size > UINTPTR_MAX - lo)
		return -EINVAL;
	return 0;
}

int pvsub_thread_start(void (*fn)(void *), void *arg, void *stack, size_t stack_size)
{
	int r = thread_args(fn, stack, stack_size);

	(void)arg;
	return r ? r : -EPERM;
}

#ifdef GUESTAPI_WORLD
/*
 * Under the pkey backend (gate.h): the wrapper checks the arguments as
 * above, the gate's body checks what it relies on again (a guest can call
 * the gate itself) with the window open and the gates' lock held, and
 * counts the thread.
 */
int guestapi_thread_start(void (*fn)(void *), void *arg, uintptr_t top)
{
	uintptr_t mem = (uintptr_t)world->g.mem;
	long r;

	if (!fn || top % 16 ||
	    !inside(top - PVSUB_THREAD_STACK_MIN, PVSUB_THREAD_STACK_MIN, mem,
		    mem + world->g.mem_size))
		return -EINVAL;
	if (world->n_threads >= GATE_THREAD_MAX)
		return -EAGAIN;
	r = gate_clone(fn, arg, top);
	if (r < 0)
		return (int)r;
	world->n_threads++;
	return 0;
}

int pvsub_thread_start_pkey(void (*fn)(void *), void *arg, void *stack, size_t stack_size)
{
	int r = thread_args(fn, stack, stack_size);

	if (r)
		return r;
	return gate_thread_start_pkey(fn, arg, (uintptr_t)stack + stack_size);
}
#endif
