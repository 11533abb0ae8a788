/* SPDX-License-Identifier: MIT */
/*
 * gate: the guest API's gates for the loopback device window
 * (GUESTRUN_WINDOW, runtime/handoff.h).  pvsub_tx(), pvsub_rx() and
 * pvsub_log(), as the guest imports them, are each one straight-line
 * assembly stub: mprotect(window, read-write) from its own system-call
 * site; the C function (guestapi_*), whose checks use only the window's
 * state and the call's arguments; mprotect(window, gate_close_prot) from a
 * second site of its own; return.  A guest that jumps onto a stub's first
 * site runs the rest of the stub, which is the same as calling it, and
 * leaves with the window closed again; the seccomp filter allows each
 * site only its own protection (lockdown.h).
 */
#ifndef PVSUB_RUNTIME_GATE_H
#define PVSUB_RUNTIME_GATE_H

#include <stdint.h>

#define GATE_COUNT 3

/* The addresses just after each gate's opening and closing `syscall`, as
 * seccomp reports the instruction pointer. */
extern const uintptr_t gate_open_sites[GATE_COUNT];
extern const uintptr_t gate_close_sites[GATE_COUNT];

/* The protection the gates leave the window with: PROT_NONE for mprotect,
 * PROT_READ | PROT_WRITE for none (the window is always open).  A guest
 * may overwrite it; the filter kills a closing site asked for anything
 * but PROT_NONE. */
extern long gate_close_prot;

#endif
