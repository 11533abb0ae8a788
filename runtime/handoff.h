/* SPDX-License-Identifier: MIT */
/*
 * handoff: how pvsub-loader hands a linked guest to pvsub-guestrun.
 *
 * The loader verifies and links; the runtime runs.  The loader links the
 * guest for GUESTRUN_BASE against the runtime's guest API addresses (the
 * runtime is static and not position-independent, so they are fixed at
 * build time and taken from its symbols), writes one page of header and
 * then the image's bytes into a memfd, seals it (F_SEAL_WRITE, SHRINK,
 * GROW and SEAL: nobody, the loader included, can change it afterwards)
 * and execs the runtime with the memfd as descriptor GUESTRUN_FD.  The
 * runtime maps each region of the image straight from the sealed file
 * with its final protections: guest code is never writable, not even
 * while it is placed.
 *
 * Both sides are built from one tree and the header is checked field by
 * field on the runtime's side; it is not a stable format.
 */
#ifndef PVSUB_RUNTIME_HANDOFF_H
#define PVSUB_RUNTIME_HANDOFF_H

#include <stdint.h>

/* "pvsubrun" */
#define GUESTRUN_MAGIC 0x6e75726275737670ull
#define GUESTRUN_VERSION 1u
/* The descriptor the sealed memfd arrives on. */
#define GUESTRUN_FD 3
/* Where the image is linked and mapped: above the runtime's own text (at
 * 0x400000) and its heap, below 2 GiB so that the guest's 32-bit
 * PC-relative calls reach the API from anywhere in a 1 GiB image. */
#define GUESTRUN_BASE 0x40000000ull
/* The loopback device's window: its state (the API's world and the rings'
 * slots) at a fixed address, inaccessible outside the gates under
 * --backend mprotect.  Literal numbers: runtime/gate.c's assembly uses
 * them as immediates. */
#define GUESTRUN_WINDOW 0x20000000
#define GUESTRUN_WINDOW_SIZE 0x100000
/* The header's bytes: the image starts at this offset of the file, so that
 * its pages can be mapped from it. */
#define GUESTRUN_HEADER_SIZE 4096u
/* The largest image (guestlink plans no larger). */
#define GUESTRUN_IMAGE_MAX (1ull << 30)
/* The guest API, in this order (pvsub_tx, pvsub_rx, pvsub_clock_ns,
 * pvsub_log, pvsub_exit, pvsub_thread_start).  Under the pkey backend the first, second and
 * fourth are the pkey gates (pvsub_tx_pkey, pvsub_rx_pkey, pvsub_log_pkey,
 * runtime/gate.h): the loader links for the backend's gates. */
#define GUESTRUN_API_COUNT 6u

/* Exit statuses, as pvsub-loader(8) documents them: 0 to 125 are the
 * guest's own, everything the loader or the runtime says itself lies
 * above.  A guest killed by the seccomp filter dies of SIGSYS. */
enum loader_exit {
	EXIT_GUEST_MAX = 125,
	EXIT_VERIFY = 126,	/* a bundle did not verify, or its manifest is not accepted */
	EXIT_LINK = 127,	/* the guest linker refused the objects */
	EXIT_USAGE = 128,	/* usage or input error */
	EXIT_BACKEND = 129,	/* the backend is not available */
	EXIT_SYSTEM = 130,	/* a system call failed while loading */
	EXIT_GUEST_RANGE = 131, /* the guest's status was outside 0..125 */
	EXIT_RESCAN = 132,	/* a gate opcode outside a recorded gate site */
	EXIT_FINAL_BYTES = 133, /* the linked guest code holds a pattern of its policy */
};

enum guestrun_backend {
	GUESTRUN_NONE = 0,     /* no lockdown: the negative control */
	GUESTRUN_MPROTECT = 1, /* locked down; gates are the API's functions */
	GUESTRUN_PKEY = 2,     /* locked down; the window behind a protection key */
};

struct guestrun_region {
	uint64_t offset, size; /* from the image's base; page multiples */
};

struct guestrun_header {
	uint64_t magic;
	uint32_t version;
	uint32_t backend; /* enum guestrun_backend */
	uint64_t base;	  /* GUESTRUN_BASE */
	uint64_t size;	  /* bytes of the image after the header */
	uint64_t entry;	  /* offset of pvsub_guest_main, inside code */
	struct guestrun_region guard_lo, code, guard_hi, rodata, got, data, bss;
	/* the API addresses the image was linked against: the runtime
	 * refuses an image linked for another build of itself */
	uint64_t api[GUESTRUN_API_COUNT];
	/* the bundles, for messages: "PATH, PATH" cut to fit, NUL-terminated */
	char names[256];
};

#endif
