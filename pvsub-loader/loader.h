/* SPDX-License-Identifier: MIT */
/*
 * pvsub-loader: what main.c (verification, link, mapping) and guestapi.c
 * (the guest API and the loopback device) share.
 */
#ifndef PVSUB_LOADER_H
#define PVSUB_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"
#include "libpvsub/guestlink.h"
#include "runtime/include/pvsub/guest.h"

#define PROGRAM "pvsub-loader"

/* Exit statuses, as pvsub-loader(8) documents them: 0 to 125 are the
 * guest's own, everything the loader says itself lies above. */
enum loader_exit {
	EXIT_GUEST_MAX = 125,
	EXIT_VERIFY = 126,	/* a bundle did not verify, or its manifest is not accepted */
	EXIT_LINK = 127,	/* the guest linker refused the objects */
	EXIT_USAGE = 128,	/* usage or input error */
	EXIT_BACKEND = 129,	/* the backend is not available */
	EXIT_SYSTEM = 130,	/* a system call failed while loading */
	EXIT_GUEST_RANGE = 131, /* the guest's status was outside 0..125 */
};

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
	 * own between these bounds, not on the loader's */
	uint8_t *stack_lo, *stack_hi;
	struct loopback_ring rings[LOOPBACK_QUEUES];
	uintptr_t saved_sp; /* the loader's stack while the guest runs */
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

/* The guest API, as guestlink resolves it: name and address. */
extern const struct pvsub_guestlink_api loader_api[];
extern const size_t loader_api_count;

#endif
