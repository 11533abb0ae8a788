/* SPDX-License-Identifier: MIT */
/*
 * gate: the guest API's gates for the loopback device window
 * (GUESTRUN_WINDOW, runtime/handoff.h).  pvsub_tx(), pvsub_rx() and
 * pvsub_log(), as the guest imports them, are each one straight-line
 * assembly stub: mprotect(window, read-write) from its own system-call
 * site; the C function (guestapi_*), whose checks use only the window's
 * state and the call's arguments, on the gates' own stack in the window;
 * mprotect(window, gate_close_prot) from a
 * second site of its own; return.  A guest that jumps onto a stub's first
 * site runs the rest of the stub, which is the same as calling it, and
 * leaves with the window closed again; the seccomp filter allows each
 * site only its own protection (lockdown.h).  Under the pkey backend the
 * filter allows no mprotect at all, and the guest's names are linked to
 * the pkey gates below instead.
 */
#ifndef PVSUB_RUNTIME_GATE_H
#define PVSUB_RUNTIME_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/handoff.h"
#include "runtime/include/pvsub/guest.h"

#define GATE_COUNT 3

/* The gates' own stack: the window's top GATE_STACK_SIZE bytes, which
 * only an open window reaches; every gate's body runs on it, whatever
 * stack pointer the guest came in with (gate.c). */
#define GATE_STACK_SIZE 0x10000

/* The addresses just after each gate's opening and closing `syscall`, as
 * seccomp reports the instruction pointer. */
extern const uintptr_t gate_open_sites[GATE_COUNT];
extern const uintptr_t gate_close_sites[GATE_COUNT];

/* The protection the gates leave the window with: PROT_NONE for mprotect,
 * PROT_READ | PROT_WRITE for none (the window is always open).  A guest
 * may overwrite it; the filter kills a closing site asked for anything
 * but PROT_NONE. */
extern long gate_close_prot;

/*
 * The pkey backend's gates, pvsub_tx_pkey(), pvsub_rx_pkey() and
 * pvsub_log_pkey() (what the guest's pvsub_tx, pvsub_rx and pvsub_log are
 * linked to under --backend pkey): one straight-line stub each, the ERIM
 * discipline.  Open: RDPKRU, clear the window key's two bits (access and
 * write disable), WRPKRU, then RDPKRU again and ud2 unless the key's bits
 * are clear; call the C function; close: RDPKRU, set both bits, WRPKRU,
 * RDPKRU again and ud2 unless both are set; return.  The checks test
 * immediates, never a register or memory the guest chose, so a guest that
 * jumps onto a WRPKRU with its own %eax either dies on the check or runs
 * the rest of the stub, which closes the window before it returns.  The
 * key is fixed at build time (GATE_PKEY: the first key pkey_alloc(2)
 * hands out in a fresh process) because the guest can write the runtime's
 * data; the runtime refuses to run when it gets another.
 */
#define GATE_PKEY 1
/* its access- and write-disable bits in PKRU, 3 << (2 * GATE_PKEY), as a
 * literal for the gates' assembly */
#define GATE_PKEY_BITS 0xc

/* The addresses of the pkey gates' WRPKRU instructions (the 0f of
 * 0f 01 ef), two per gate: the only places pvsub-guestrun's rescan accepts
 * a WRPKRU, under every backend: two for each of the three API gates and
 * for gate_thread_start_pkey(), and the new thread's closing one in
 * gate_clone(). */
#define GATE_WRPKRU_COUNT (2 * GATE_COUNT + 3)
extern const uintptr_t gate_wrpkru_sites[GATE_WRPKRU_COUNT];

/*
 * Threads, under the pkey backend only.  The gates' lock: a word just
 * below the gates' stack, inside the window, so that only an open window
 * reaches it; every pkey gate takes it (lock cmpxchg, spinning) after its
 * opening check and gives it back before its closing WRPKRU, so that one
 * thread at a time runs on the gates' one stack and in the device's state.
 * Literal numbers: the gates' assembly takes it.
 */
#define GATE_LOCK (GUESTRUN_WINDOW + GUESTRUN_WINDOW_SIZE - GATE_STACK_SIZE - 64)

/* The flags of the one clone(2) the runtime makes: a thread sharing the
 * address space, descriptors, file-system state, signal handlers and
 * System V semaphore undo lists; no TLS, no tid stores, no exit signal.
 * The filter allows clone only from gate_clone()'s site with exactly
 * these (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
 * CLONE_THREAD | CLONE_SYSVSEM).  A literal: the assembly takes it. */
#define GATE_CLONE_FLAGS 0x50f00

/* How many threads a guest may start in its life (its main one aside). */
#define GATE_THREAD_MAX PVSUB_THREAD_MAX

/* The addresses just after gate_clone()'s clone and its thread's exit
 * `syscall`, as seccomp reports the instruction pointer. */
extern const uintptr_t gate_clone_site_addr, gate_thread_exit_site_addr;

/*
 * Start a thread that closes the window and runs @fn(@arg) on the stack
 * whose top is @top: see gate.c.  Called only from guestapi_thread_start()
 * inside gate_thread_start_pkey(), with the window open and the gates'
 * lock held.  The new thread's id, or a negative errno.
 */
long gate_clone(void (*fn)(void *), void *arg, uintptr_t top);

/* The pkey gate of thread starts: guestapi_thread_start() in the window. */
int gate_thread_start_pkey(void (*fn)(void *), void *arg, uintptr_t top);

/* PKRU as RDPKRU reads it.  Only where the CPU has protection keys (else
 * SIGILL). */
uint32_t gate_rdpkru(void);

/* The pkey gates, as the loader links them under the guest's names. */
int pvsub_tx_pkey(uint32_t queue, const struct pvsub_frame *frames, uint32_t n);
int pvsub_rx_pkey(uint32_t queue, struct pvsub_frame *frames, uint32_t n);
int pvsub_log_pkey(const char *msg, size_t len);

#endif
