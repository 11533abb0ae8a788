/* SPDX-License-Identifier: MIT */
/*
 * guestapi: the guest API (<pvsub/guest.h>) and the loopback device behind
 * pvsub_tx() and pvsub_rx(), as pvsub-guestrun provides them to the guest
 * it runs (and tests/unit/test_guestapi.c to its own entry points).  Only
 * libc's string functions, clock_gettime() and write() to standard error
 * are used while the guest runs: that is what the seccomp filter allows.
 */
#ifndef PVSUB_RUNTIME_GUESTAPI_H
#define PVSUB_RUNTIME_GUESTAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/util.h"
#include "runtime/include/pvsub/guest.h"

/* What the guest's log lines start with: the user ran pvsub-loader, which
 * became the runtime. */
#define GUESTAPI_PREFIX "pvsub-loader: guest: "

/* The loopback device: frames per ring, and queue pairs per guest. */
#define LOOPBACK_RING 256u
#define LOOPBACK_QUEUES 2u
/* An Ethernet frame without its FCS (1500-byte MTU). */
#define LOOPBACK_FRAME_MAX 1514u

/* One queue's receive ring, fed by the same queue's transmissions. */
struct loopback_ring {
	uint8_t *slots; /* LOOPBACK_RING slots of LOOPBACK_FRAME_MAX bytes */
	uint32_t len[LOOPBACK_RING];
	uint32_t head, tail; /* head - tail frames pending; free-running */
};

/* Everything the guest API reaches: one guest per process. */
struct loader_world {
	struct pvsub_guest g;
	/* the guest's loaded image, readable between these bounds (its guard
	 * pages excluded), for pvsub_log()'s check */
	const uint8_t *image_lo, *image_hi;
	/* the guest's stack: it runs, and calls the API, on a stack of its
	 * own between these bounds, not on the runtime's */
	uint8_t *stack_lo, *stack_hi;
	struct loopback_ring rings[LOOPBACK_QUEUES];
	/* threads the guest started (pkey backend; at most GATE_THREAD_MAX) */
	uint32_t n_threads;
	bool own_slots; /* world_init() allocated the slots */
};

/* Bytes of the ring slots world_init() takes from its caller. */
#define LOOPBACK_SLOTS_SIZE ((size_t)LOOPBACK_QUEUES * LOOPBACK_RING * LOOPBACK_FRAME_MAX)

/* Bytes of the guest's stack, and of the inaccessible guard page below it. */
#define GUEST_STACK_SIZE ((size_t)256 << 10)
#define GUEST_STACK_GUARD ((size_t)4096)

/*
 * Make @w the world of the guest API for @mem_size bytes at @mem, the
 * image between @image_lo and @image_hi and the stack between @stack_lo
 * and @stack_hi (16-byte aligned).  The loopback rings' slots are the
 * LOOPBACK_SLOTS_SIZE bytes at @slots, or allocated when @slots is NULL.
 * 0, or -ENOMEM with nothing allocated; -EINVAL when the world's address
 * is fixed (GUESTAPI_WORLD) and @w is not it.
 */
int world_init(struct loader_world *w, void *mem, uint64_t mem_size, const uint8_t *image_lo,
	       const uint8_t *image_hi, uint8_t *stack_lo, uint8_t *stack_hi, uint8_t *slots)
	_must_check_ _nonnull_(1, 2);

/* Free the rings world_init() allocated and forget @w as the API's world. */
void world_release(struct loader_world *w) _nonnull_(1);

/*
 * Call the guest's entry point @entry with @g, on the guest's stack whose
 * top is @stack_top (16-byte aligned).  Returns its return value, or the
 * status it gave pvsub_exit().  Neither reads the world: the runtime
 * calls it with the device window closed.
 */
int world_run(int (*entry)(const struct pvsub_guest *), const struct pvsub_guest *g,
	      uint8_t *stack_top) _nonnull_(1, 2, 3);

#ifdef GUESTAPI_WORLD
/*
 * The runtime (pvsub-guestrun) fixes the world's address at GUESTAPI_WORLD,
 * the start of the device window, so that no pointer in memory the guest
 * can write leads to it; the guest's pvsub_tx(), pvsub_rx() and
 * pvsub_log() are then gates (runtime/gate.c) that open the window, call
 * these, and close it.
 */
int guestapi_tx(uint32_t queue, const struct pvsub_frame *frames, uint32_t n);
int guestapi_rx(uint32_t queue, struct pvsub_frame *frames, uint32_t n);
int guestapi_log(const char *msg, size_t len);

/*
 * The body of gate_thread_start_pkey() (gate.h): start a thread that runs
 * @fn(@arg) on the stack whose top is @top, when @top is 16-byte aligned
 * and the PVSUB_THREAD_STACK_MIN bytes below it lie in the guest's
 * memory, @fn is not NULL and fewer than GATE_THREAD_MAX threads were
 * started before.  0, or -EINVAL, -EAGAIN (the limit), or clone's errno.
 */
int guestapi_thread_start(void (*fn)(void *), void *arg, uintptr_t top);

/* pvsub_thread_start() as the pkey backend links it: the same argument
 * checks, then gate_thread_start_pkey(). */
int pvsub_thread_start_pkey(void (*fn)(void *), void *arg, void *stack, size_t stack_size);
#endif

#endif
