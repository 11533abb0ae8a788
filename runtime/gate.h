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
 * a WRPKRU, under every backend. */
#define GATE_WRPKRU_COUNT (2 * GATE_COUNT)
extern const uintptr_t gate_wrpkru_sites[GATE_WRPKRU_COUNT];

/* PKRU as RDPKRU reads it.  Only where the CPU has protection keys (else
 * SIGILL). */
uint32_t gate_rdpkru(void);

/* The pkey gates, as the loader links them under the guest's names. */
int pvsub_tx_pkey(uint32_t queue, const struct pvsub_frame *frames, uint32_t n);
int pvsub_rx_pkey(uint32_t queue, struct pvsub_frame *frames, uint32_t n);
int pvsub_log_pkey(const char *msg, size_t len);

#endif
