/* SPDX-License-Identifier: MIT */
/*
 * lockdown: what pvsub-guestrun does to its own process, after the guest
 * is mapped and rescanned and before its first instruction (DESIGN §8
 * step 6).  pvsub-loader(8) documents the allowlist.
 */
#ifndef PVSUB_RUNTIME_LOCKDOWN_H
#define PVSUB_RUNTIME_LOCKDOWN_H

#include <stddef.h>
#include <stdint.h>

/* The only code allowed to make system calls: the runtime's own text and
 * the vDSO (which falls back to a real clock_gettime when the clock source
 * cannot be read from user space).  Empty ranges (lo == hi) allow nothing. */
struct lockdown_ranges {
	uintptr_t text_lo, text_hi;
	uintptr_t vdso_lo, vdso_hi;
	/* the device window, and the gates' system-call sites (addresses
	 * after their `syscall`, below 4 GiB) that may open it (read-write)
	 * and close it (PROT_NONE); no site (the pkey backend): no mprotect
	 * at all */
	uintptr_t window, window_size;
	const uintptr_t *open_sites, *close_sites;
	size_t n_sites;
	/* guest threads (the pkey backend): the address after the runtime's
	 * one clone `syscall`, the only flags it may pass, and the address
	 * after its threads' exit `syscall`; 0 (no site): no clone, no exit */
	uintptr_t clone_site, exit_site;
	uint64_t clone_flags;
};

/* One classic BPF instruction: the kernel's struct sock_filter. */
struct lockdown_insn {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};

/* The longest filter lockdown_filter() builds. */
#define LOCKDOWN_PROG_MAX 96

/*
 * Seal @len bytes at @addr (page-aligned) with mseal(2), so that their
 * protections and the mapping itself can never change again.  0, -ENOSYS
 * when the kernel has no mseal, or another negative errno.
 */
int lockdown_seal(void *addr, size_t len);

/*
 * The seccomp filter for @r into the LOCKDOWN_PROG_MAX instructions at
 * @insn: it kills the process (SIGSYS) on a system call from another
 * architecture (i386 `int 0x80`, x32), from outside @r's ranges, or
 * outside the allowlist: exit_group, clock_gettime and write to
 * descriptor 2 from the runtime's text, and, when @r has gate sites (the
 * mprotect backend), mprotect of exactly the window from a gate's site
 * with that site's protection; when @r has a clone site (the pkey
 * backend), clone from exactly that site with exactly @r's flags, and exit
 * (one thread's end) from exactly the exit site; clone3 never;
 * clock_gettime alone from the vDSO.  The
 * number of instructions, or -E2BIG or -EINVAL when the program would
 * not fit or not resolve.  It installs nothing (tests/unit/test_lockdown.c
 * runs it on synthetic system calls).
 */
int lockdown_filter(const struct lockdown_ranges *r, struct lockdown_insn *insn);

/*
 * Lock the process down, in this order: PR_SET_NO_NEW_PRIVS; not dumpable
 * and RLIMIT_CORE 0 (no core dumps); lockdown_filter()'s filter.  0 or a
 * negative errno, in *@step the name of the step that failed.
 */
int lockdown_apply(const struct lockdown_ranges *r, const char **step);

#endif
