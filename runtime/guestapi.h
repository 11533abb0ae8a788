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
	uintptr_t saved_sp; /* the runtime's stack while the guest runs */
	int exit_status;
};

/* Bytes of the guest's stack, and of the inaccessible guard page below it. */
#define GUEST_STACK_SIZE ((size_t)256 << 10)
#define GUEST_STACK_GUARD ((size_t)4096)

/*
 * Make @w the world of the guest API for @mem_size bytes at @mem, the
 * image between @image_lo and @image_hi and the stack between @stack_lo
 * and @stack_hi (16-byte aligned); allocates the loopback rings.  0, or
 * -ENOMEM with nothing allocated.
 */
int world_init(struct loader_world *w, void *mem, uint64_t mem_size, const uint8_t *image_lo,
	       const uint8_t *image_hi, uint8_t *stack_lo, uint8_t *stack_hi)
	_must_check_ _nonnull_(1, 2);

/* Free the rings and forget @w as the API's world. */
void world_release(struct loader_world *w) _nonnull_(1);

/*
 * Call the guest's entry point @entry with @w's struct pvsub_guest, on the
 * guest's stack.  Its return value, or the status it gave pvsub_exit(), is
 * stored in w->exit_status.
 */
void world_run(struct loader_world *w, int (*entry)(const struct pvsub_guest *)) _nonnull_(1, 2);

#endif
