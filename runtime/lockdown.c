/* SPDX-License-Identifier: MIT */
/*
 * lockdown: no new privileges, no core dumps, and a seccomp filter written
 * as raw BPF (libseccomp cannot check the instruction pointer).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/lockdown.h"

/*
 * The kernel's seccomp ABI (linux/audit.h, linux/filter.h,
 * linux/seccomp.h), written out here because musl-gcc does not see the
 * kernel's headers.  These values are ABI: they never change.
 */
#define AUDIT_ARCH_X86_64 0xc000003eu
#define SECCOMP_SET_MODE_FILTER 1u
#define SECCOMP_RET_KILL_PROCESS 0x80000000u
#define SECCOMP_RET_ALLOW 0x7fff0000u

struct sock_fprog {
	unsigned short len;
	struct lockdown_insn *filter; /* struct sock_filter */
};

struct seccomp_data {
	int nr;
	uint32_t arch;
	uint64_t instruction_pointer;
	uint64_t args[6];
};

/* Classic BPF's opcodes (linux/bpf_common.h). */
#define BPF_CLASS(code) ((code)&0x07)
#define BPF_LD 0x00
#define BPF_JMP 0x05
#define BPF_RET 0x06
#define BPF_W 0x00
#define BPF_ABS 0x20
#define BPF_K 0x00
#define BPF_JEQ 0x10
#define BPF_JGT 0x20
#define BPF_JGE 0x30
#define BPF_JSET 0x40

#ifndef __NR_mseal
#define __NR_mseal 462
#endif

int lockdown_seal(void *addr, size_t len)
{
	if (syscall(__NR_mseal, addr, len, 0UL) < 0)
		return -errno;
	return 0;
}

/* --- the filter ------------------------------------------------------------ */

/* The offsets of seccomp_data's fields (x86-64 is little-endian: the low
 * half of a 64-bit field comes first). */
#define SD_NR offsetof(struct seccomp_data, nr)
#define SD_ARCH offsetof(struct seccomp_data, arch)
#define SD_IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define SD_IP_HI (SD_IP_LO + 4)
#define SD_ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define SD_ARG_HI(i) (SD_ARG_LO(i) + 4)

/* Labels a jump may name; every one lies after every jump to it. */
enum label {
	L_NEXT,	    /* the next instruction */
	L_VDSO,	    /* the call does not come from the runtime's text */
	L_RUNTIME,  /* the call comes from the runtime's text */
	L_MPROTECT, /* an mprotect from the runtime's text */
	L_OPEN,	    /* from a gate's opening site */
	L_CLOSE,    /* from a gate's closing site */
	L_CLONE,    /* a clone from the runtime's text */
	L_EXIT,	    /* an exit from the runtime's text */
	L_ALLOW,
	L_KILL,
	L_COUNT,
};

#define PROG_MAX LOCKDOWN_PROG_MAX

struct prog {
	struct lockdown_insn insn[PROG_MAX];
	/* per instruction: the labels of a conditional jump */
	unsigned char jt[PROG_MAX], jf[PROG_MAX];
	unsigned n;
	unsigned at[L_COUNT];
	int overflow;
};

static void emit(struct prog *p, uint16_t code, uint32_t k, enum label jt, enum label jf)
{
	if (p->n == PROG_MAX) {
		p->overflow = 1;
		return;
	}
	p->insn[p->n] = (struct lockdown_insn){.code = code, .k = k};
	p->jt[p->n] = (unsigned char)jt;
	p->jf[p->n] = (unsigned char)jf;
	p->n++;
}

static void load(struct prog *p, uint32_t off)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, off, L_NEXT, L_NEXT);
}

static void jump(struct prog *p, uint16_t op, uint32_t k, enum label jt, enum label jf)
{
	emit(p, BPF_JMP | op | BPF_K, k, jt, jf);
}

static void label(struct prog *p, enum label l)
{
	p->at[l] = p->n;
}

/* Resolve the labels into the forward offsets BPF takes. */
static int resolve(struct prog *p)
{
	if (p->overflow)
		return -E2BIG;
	for (unsigned i = 0; i < p->n; i++) {
		if (BPF_CLASS(p->insn[i].code) != BPF_JMP)
			continue;
		for (int side = 0; side < 2; side++) {
			enum label l = side ? p->jf[i] : p->jt[i];
			unsigned to = l == L_NEXT ? i + 1 : p->at[l];

			if (to <= i || to - i - 1 > 255)
				return -EINVAL;
			if (side)
				p->insn[i].jf = (uint8_t)(to - i - 1);
			else
				p->insn[i].jt = (uint8_t)(to - i - 1);
		}
	}
	return 0;
}

/* Jump to @in when the instruction pointer lies in [@lo, @hi), else to
 * @out.  A range that crosses a 4 GiB boundary, or an empty one, is never
 * matched. */
static void ip_in(struct prog *p, uintptr_t lo, uintptr_t hi, enum label in, enum label out)
{
	if (lo >= hi || (uint64_t)lo >> 32 != (uint64_t)(hi - 1) >> 32) {
		jump(p, BPF_JSET, 0, out, out); /* A & 0 is never true: out */
		return;
	}
	load(p, SD_IP_HI);
	jump(p, BPF_JEQ, (uint32_t)((uint64_t)lo >> 32), L_NEXT, out);
	load(p, SD_IP_LO);
	jump(p, BPF_JGE, (uint32_t)lo, L_NEXT, out);
	/* (hi - 1) is inside the same 4 GiB: compare with it, inclusive */
	jump(p, BPF_JGT, (uint32_t)(hi - 1), out, in);
}

/* Go to @yes when argument @i is @v, else kill. */
static void arg_is(struct prog *p, unsigned i, uint64_t v, enum label yes)
{
	load(p, SD_ARG_HI(i));
	jump(p, BPF_JEQ, (uint32_t)(v >> 32), L_NEXT, L_KILL);
	load(p, SD_ARG_LO(i));
	jump(p, BPF_JEQ, (uint32_t)v, yes, L_KILL);
}

static void build_mprotect(struct prog *p, const struct lockdown_ranges *r)
{
	/* mprotect: the window exactly, from a gate's site, with the
	 * protection of that site */
	label(p, L_MPROTECT);
	arg_is(p, 0, r->window, L_NEXT);
	arg_is(p, 1, r->window_size, L_NEXT);
	load(p, SD_IP_HI);
	jump(p, BPF_JEQ, 0, L_NEXT, L_KILL);
	load(p, SD_IP_LO);
	for (size_t i = 0; i < r->n_sites; i++) {
		jump(p, BPF_JEQ, (uint32_t)r->open_sites[i], L_OPEN, L_NEXT);
		jump(p, BPF_JEQ, (uint32_t)r->close_sites[i], L_CLOSE, L_NEXT);
	}
	jump(p, BPF_JSET, 0, L_KILL, L_KILL);
	label(p, L_OPEN);
	arg_is(p, 2, PROT_READ | PROT_WRITE, L_ALLOW);
	label(p, L_CLOSE);
	arg_is(p, 2, PROT_NONE, L_ALLOW);
}

/* Go to @yes when the instruction pointer is @ip, else kill. */
static void ip_is(struct prog *p, uint64_t ip, enum label yes)
{
	load(p, SD_IP_HI);
	jump(p, BPF_JEQ, (uint32_t)(ip >> 32), L_NEXT, L_KILL);
	load(p, SD_IP_LO);
	jump(p, BPF_JEQ, (uint32_t)ip, yes, L_KILL);
}

static void build_threads(struct prog *p, const struct lockdown_ranges *r)
{
	/* clone: from its site, with exactly its flags; the rest of its
	 * arguments mean nothing without CLONE_SETTLS and the tid flags */
	label(p, L_CLONE);
	ip_is(p, r->clone_site, L_NEXT);
	arg_is(p, 0, r->clone_flags, L_ALLOW);
	/* exit (one thread, not exit_group): from its site */
	label(p, L_EXIT);
	ip_is(p, r->exit_site, L_ALLOW);
}

static void build(struct prog *p, const struct lockdown_ranges *r)
{
	/* i386 (int 0x80, sysenter) and any other ABI: killed */
	load(p, SD_ARCH);
	jump(p, BPF_JEQ, AUDIT_ARCH_X86_64, L_NEXT, L_KILL);
	/* x32 system calls have the same arch and bit 30 set in nr */
	load(p, SD_NR);
	jump(p, BPF_JSET, 0x40000000u, L_KILL, L_NEXT);
	ip_in(p, r->text_lo, r->text_hi, L_RUNTIME, L_VDSO);

	/* from the vDSO: only its clock_gettime fallback */
	label(p, L_VDSO);
	ip_in(p, r->vdso_lo, r->vdso_hi, L_NEXT, L_KILL);
	load(p, SD_NR);
	jump(p, BPF_JEQ, __NR_clock_gettime, L_ALLOW, L_KILL);

	/* from the runtime's text (which a guest can jump into: the
	 * allowlist is what holds then) */
	label(p, L_RUNTIME);
	load(p, SD_NR);
	jump(p, BPF_JEQ, __NR_exit_group, L_ALLOW, L_NEXT);
	jump(p, BPF_JEQ, __NR_clock_gettime, L_ALLOW, L_NEXT);
	if (r->n_sites)
		jump(p, BPF_JEQ, __NR_mprotect, L_MPROTECT, L_NEXT);
	if (r->clone_site) {
		jump(p, BPF_JEQ, __NR_clone, L_CLONE, L_NEXT);
		jump(p, BPF_JEQ, __NR_exit, L_EXIT, L_NEXT);
	}
	jump(p, BPF_JEQ, __NR_write, L_NEXT, L_KILL);
	arg_is(p, 0, STDERR_FILENO, L_ALLOW);
	if (r->n_sites)
		build_mprotect(p, r);
	if (r->clone_site)
		build_threads(p, r);

	label(p, L_ALLOW);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, L_NEXT, L_NEXT);
	label(p, L_KILL);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, L_NEXT, L_NEXT);
}

int lockdown_filter(const struct lockdown_ranges *r, struct lockdown_insn *insn)
{
	static struct prog p;
	int err;

	memset(&p, 0, sizeof(p));
	build(&p, r);
	err = resolve(&p);
	if (err)
		return err;
	memcpy(insn, p.insn, p.n * sizeof(*insn));
	return (int)p.n;
}

int lockdown_apply(const struct lockdown_ranges *r, const char **step)
{
	static struct lockdown_insn insn[LOCKDOWN_PROG_MAX];
	struct sock_fprog fprog;
	struct rlimit none = {0, 0};
	int n;

	*step = "PR_SET_NO_NEW_PRIVS";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	*step = "PR_SET_DUMPABLE";
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	*step = "RLIMIT_CORE";
	if (setrlimit(RLIMIT_CORE, &none) < 0)
		return -errno;
	*step = "the seccomp filter";
	n = lockdown_filter(r, insn);
	if (n < 0)
		return n;
	fprog.len = (unsigned short)n;
	fprog.filter = insn;
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0UL, &fprog) < 0)
		return -errno;
	return 0;
}
