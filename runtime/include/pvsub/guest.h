/* SPDX-License-Identifier: MIT */
/*
 * <pvsub/guest.h>: the guest API, everything a pvsub guest may use.
 *
 * A guest is one or more certified relocatable objects that pvsub-loader(8)
 * verifies, links and runs (DESIGN §8).  Its undefined symbols are resolved
 * only against the functions declared here: no libc, no other library.  Its
 * entry point is pvsub_guest_main(), called once with the description of
 * its world; its return value is its exit status.
 *
 * Build guest objects freestanding, as libpvsub/guestlink.h documents:
 *
 *   cc -fPIE -mcmodel=small -ffreestanding -fno-stack-protector
 *      -fno-common -O2 -c
 *
 * This header needs only <stddef.h> and <stdint.h>, which a freestanding
 * compiler provides.  pvsub-guest(3) is its manual.
 *
 * ABI: struct pvsub_guest starts with its size and ABI version, so that it
 * can grow at its end; a guest compares abi_version with the version it was
 * built for (PVSUB_GUEST_ABI_VERSION) and reads a field only when size
 * covers it (PVSUB_GUEST_HAS()).  A change that is not such a growth bumps
 * the version.  A new function is such a growth too: a guest that imports
 * it is refused by an older loader when it links ("unknown symbol"), and
 * older guests never name it; pvsub_thread_start() came so, in version 1.
 * Under the pkey backend a guest may have more threads
 * (pvsub_thread_start()); the API's functions may be called from any of
 * them, and one thread at a time runs inside the device's gates.
 */
#ifndef PVSUB_GUEST_H
#define PVSUB_GUEST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. */
#define PVSUB_GUEST_ABI_VERSION 1u

/* The most frames one pvsub_tx() or pvsub_rx() call takes. */
#define PVSUB_GUEST_BATCH_MAX 64u

/* A frame descriptor: @len bytes at offset @off in the guest's memory
 * (struct pvsub_guest's mem), never a pointer, so that the loader checks
 * it against the memory's bounds alone. */
struct pvsub_frame {
	uint64_t off;
	uint32_t len;
	uint32_t flags; /* 0; reserved */
};

/* What the loader gives the guest (read only for the guest). */
struct pvsub_guest {
	uint32_t size;	      /* sizeof(struct pvsub_guest) as the loader knows it */
	uint32_t abi_version; /* PVSUB_GUEST_ABI_VERSION of the loader */
	/* The guest's memory: @mem_size bytes at @mem, readable and writable,
	 * zero at entry; every frame lives here. */
	void *mem;
	uint64_t mem_size;
	/* The guest's Ethernet address, and how many queue pairs (transmit
	 * and receive) it has, numbered 0 to n_queues - 1. */
	uint8_t mac[6];
	uint16_t n_queues;
	/* The largest frame, in bytes (an Ethernet frame without its FCS). */
	uint32_t frame_max;
};

/* Whether @g is large enough to hold @field. */
#define PVSUB_GUEST_HAS(g, field)                                                                  \
	((g)->size >= offsetof(struct pvsub_guest, field) + sizeof((g)->field))

/* The guest's entry point, defined exactly once among its objects.  Its
 * return value, 0 to 125, is the guest's exit status. */
int pvsub_guest_main(const struct pvsub_guest *g);

/*
 * Transmit up to @n frames (at most PVSUB_GUEST_BATCH_MAX) on queue @queue.
 * Every descriptor is checked before any frame is sent: its bytes must lie
 * inside the guest's memory, its length be 1 to frame_max, its flags 0.
 * The frames are copied out before the call returns, so their memory may be
 * reused at once.
 *
 * Returns how many frames, from the first, were sent (fewer than @n when the
 * transmit ring is full; 0 is not an error), or a negative errno and nothing
 * sent: -EINVAL (a queue outside the guest's, @n above the batch maximum, a
 * descriptor outside the guest's memory, of length 0 or above frame_max, or
 * with flags).
 */
int pvsub_tx(uint32_t queue, const struct pvsub_frame *frames, uint32_t n);

/*
 * Receive up to @n frames (at most PVSUB_GUEST_BATCH_MAX) from queue @queue
 * into the buffers the descriptors give: on entry each @off and @len give a
 * buffer in the guest's memory (checked as pvsub_tx() does; a buffer of
 * frame_max bytes holds any frame); on return the first k descriptors' @len
 * say how long each received frame is.  Never waits.
 *
 * Returns k, the number of frames received (0: none pending), or a
 * negative errno and nothing received: -EINVAL as for pvsub_tx(),
 * -EMSGSIZE when the first pending frame is longer than the first buffer
 * (it stays pending).  A later frame longer than its buffer ends the batch
 * early and stays pending too.
 */
int pvsub_rx(uint32_t queue, struct pvsub_frame *frames, uint32_t n);

/* Nanoseconds of a monotonic clock (CLOCK_MONOTONIC): only differences
 * mean anything. */
uint64_t pvsub_clock_ns(void);

/*
 * One line for the guest's log: @len bytes at @msg (at most 256 bytes are
 * kept; bytes that are not printable ASCII are shown as '?'), with the
 * loader's prefix and a newline added.  @msg must lie in the guest's
 * memory or its own loaded image.  0, or -EINVAL (nothing logged) when it
 * does not.
 */
int pvsub_log(const char *msg, size_t len);

/* End the guest now with exit status @status (0 to 125), as if
 * pvsub_guest_main() had returned it.  Does not return. */
_Noreturn void pvsub_exit(int status);

/* The smallest stack pvsub_thread_start() takes, in bytes. */
#define PVSUB_THREAD_STACK_MIN 16384u

/* The most threads a guest may start in its life, its main one aside. */
#define PVSUB_THREAD_MAX 8u

/*
 * Start a thread that runs @fn(@arg) on the @stack_size bytes at @stack
 * (memory of the guest's own: the PVSUB_THREAD_STACK_MIN bytes below its
 * top must lie in the guest's memory), and ends when @fn returns.  The
 * thread shares everything with its creator; pvsub_exit() or the return of
 * pvsub_guest_main() ends the whole guest, every thread with it.  There is
 * no join: a guest that needs to know when a thread is done says so in
 * its own memory.
 *
 * Returns 0 when the thread was started, or a negative errno and no thread:
 * -EINVAL when @fn or @stack is NULL, @stack or @stack_size is not a
 * multiple of 16, @stack_size is below PVSUB_THREAD_STACK_MIN, or the
 * stack would wrap around the address space or lies outside the guest's
 * memory; -EPERM when the backend does not run guest threads; -EAGAIN
 * when PVSUB_THREAD_MAX threads were started already.  Only the pkey
 * backend runs them.  Under mprotect they are refused for good (the window
 * a gate opens is open for the whole process, so a second thread could use
 * it), under none because none is the lockdown's negative control, not a
 * mode to run guests in (pvsub-loader(8), LOCKDOWN).  A guest that makes a
 * thread by other means (a system call of the runtime's) is killed, except
 * through the runtime's own clone with its own flags, which gives what this
 * call gives.
 */
int pvsub_thread_start(void (*fn)(void *), void *arg, void *stack, size_t stack_size);

#ifdef __cplusplus
}
#endif

#endif
