/* SPDX-License-Identifier: MIT */
/*
 * The runtime's seccomp filter (runtime/lockdown.c), run without being
 * installed: a classic BPF interpreter that knows only what a seccomp
 * filter may hold runs lockdown_filter()'s program on synthetic system
 * calls (struct seccomp_data from the kernel's own headers, not
 * lockdown.c's copy) and the verdict is compared with the allowlist of
 * pvsub-loader(8), for the mprotect backend (gate sites) and the pkey
 * backend (none): every system call number from the runtime's text, the
 * instruction pointer at and around each range's borders, the other
 * architectures, x32, the window's exact arguments.  The controls: a
 * filter that allows everything is told apart, and so are the two
 * backends' filters, on the calls where they must differ.
 */
#include <criterion/criterion.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "runtime/lockdown.h"

_Static_assert(sizeof(struct lockdown_insn) == sizeof(struct sock_filter), "sock_filter");
_Static_assert(offsetof(struct lockdown_insn, jt) == offsetof(struct sock_filter, jt), "jt");
_Static_assert(offsetof(struct lockdown_insn, k) == offsetof(struct sock_filter, k), "k");

#define ALLOW SECCOMP_RET_ALLOW
#define KILL SECCOMP_RET_KILL_PROCESS

/* A plausible process: the runtime's text low, the vDSO high. */
#define TEXT_LO 0x401000ul
#define TEXT_HI 0x40f000ul
#define VDSO_LO 0x7ffff7fc1000ul
#define VDSO_HI 0x7ffff7fc3000ul
#define GUEST_IP 0x40001234ul
#define WINDOW 0x20000000ul
#define WINDOW_SIZE 0x100000ul

static const uintptr_t open_sites[3] = {0x402100, 0x402200, 0x402300};
static const uintptr_t close_sites[3] = {0x402150, 0x402250, 0x402350};
/* the pkey backend's clone and thread-exit sites, and the clone's flags
 * (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
 * CLONE_SYSVSEM) */
#define CLONE_SITE 0x402400ul
#define EXIT_SITE 0x402440ul
#define FLAGS 0x50f00ul

static struct lockdown_ranges ranges(bool mprotect)
{
	return (struct lockdown_ranges){
		.text_lo = TEXT_LO,
		.text_hi = TEXT_HI,
		.vdso_lo = VDSO_LO,
		.vdso_hi = VDSO_HI,
		.window = WINDOW,
		.window_size = WINDOW_SIZE,
		.open_sites = open_sites,
		.close_sites = close_sites,
		.n_sites = mprotect ? 3 : 0,
	};
}

struct filter {
	struct lockdown_insn insn[LOCKDOWN_PROG_MAX];
	int n;
};

static struct filter build(const struct lockdown_ranges *r)
{
	struct filter f;

	f.n = lockdown_filter(r, f.insn);
	cr_assert_gt(f.n, 0, "lockdown_filter: %d", f.n);
	cr_assert_leq(f.n, BPF_MAXINSNS);
	return f;
}

/*
 * Run @f on @d as the kernel would: loads of aligned words inside
 * seccomp_data, conditional jumps with a constant, returns of a
 * constant.  Anything else, or a jump out of the program, fails the test.
 */
static uint32_t run(const struct filter *f, const struct seccomp_data *d)
{
	uint32_t a = 0;

	for (int pc = 0; pc < f->n; pc++) {
		const struct lockdown_insn *i = &f->insn[pc];
		bool cond;

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			cr_assert(i->k % 4 == 0 && i->k + 4 <= sizeof(*d), "load at %u", i->k);
			memcpy(&a, (const char *)d + i->k, 4);
			continue;
		case BPF_RET | BPF_K:
			return i->k;
		case BPF_JMP | BPF_JEQ | BPF_K:
			cond = a == i->k;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			cond = a > i->k;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			cond = a >= i->k;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			cond = (a & i->k) != 0;
			break;
		default:
			cr_assert_fail("instruction %d: code %#x", pc, i->code);
			return 0;
		}
		cr_assert_lt(pc + 1 + (cond ? i->jt : i->jf), f->n, "jump out at %d", pc);
		pc += cond ? i->jt : i->jf;
	}
	cr_assert_fail("ran off the end of the program");
	return 0;
}

static uint32_t call(const struct filter *f, uint32_t arch, int nr, uint64_t ip, uint64_t a0,
		     uint64_t a1, uint64_t a2)
{
	struct seccomp_data d = {
		.nr = nr,
		.arch = arch,
		.instruction_pointer = ip,
		.args = {a0, a1, a2, 0, 0, 0},
	};

	return run(f, &d);
}

/* A 64-bit call with arguments @a0 to @a2 from @ip. */
static uint32_t sys(const struct filter *f, int nr, uint64_t ip, uint64_t a0, uint64_t a1,
		    uint64_t a2)
{
	return call(f, AUDIT_ARCH_X86_64, nr, ip, a0, a1, a2);
}

static const char *verdict(uint32_t v)
{
	return v == ALLOW ? "allowed" : v == KILL ? "killed" : "other";
}

/* What both backends' filters do with every call that is not mprotect. */
static void check_common(const struct filter *f)
{
	const uint64_t text = TEXT_LO + 0x123, vdso = VDSO_LO + 0x10;

	cr_assert_eq(sys(f, __NR_exit_group, text, 0, 0, 0), ALLOW);
	cr_assert_eq(sys(f, __NR_clock_gettime, text, 1, 0, 0), ALLOW);
	cr_assert_eq(sys(f, __NR_write, text, 2, 0, 10), ALLOW);
	cr_assert_eq(sys(f, __NR_write, text, 1, 0, 10), KILL);
	cr_assert_eq(sys(f, __NR_write, text, 2 | 1ull << 32, 0, 10), KILL);
	/* the text's borders: [lo, hi) */
	cr_assert_eq(sys(f, __NR_exit_group, TEXT_LO, 0, 0, 0), ALLOW);
	cr_assert_eq(sys(f, __NR_exit_group, TEXT_HI - 1, 0, 0, 0), ALLOW);
	cr_assert_eq(sys(f, __NR_exit_group, TEXT_HI, 0, 0, 0), KILL);
	cr_assert_eq(sys(f, __NR_exit_group, TEXT_LO - 1, 0, 0, 0), KILL);
	cr_assert_eq(sys(f, __NR_exit_group, TEXT_LO + (1ull << 32), 0, 0, 0), KILL);
	/* guest code: nothing */
	cr_assert_eq(sys(f, __NR_exit_group, GUEST_IP, 0, 0, 0), KILL);
	cr_assert_eq(sys(f, __NR_clock_gettime, GUEST_IP, 1, 0, 0), KILL);
	cr_assert_eq(sys(f, __NR_write, GUEST_IP, 2, 0, 10), KILL);
	/* the vDSO: clock_gettime only, inside its range */
	cr_assert_eq(sys(f, __NR_clock_gettime, vdso, 1, 0, 0), ALLOW);
	cr_assert_eq(sys(f, __NR_clock_gettime, VDSO_HI, 1, 0, 0), KILL);
	cr_assert_eq(sys(f, __NR_clock_gettime, VDSO_LO - 1, 1, 0, 0), KILL);
	cr_assert_eq(sys(f, __NR_exit_group, vdso, 0, 0, 0), KILL);
	cr_assert_eq(sys(f, __NR_write, vdso, 2, 0, 10), KILL);
	/* other ABIs, from the runtime's text */
	cr_assert_eq(call(f, AUDIT_ARCH_I386, 1 /* exit */, text, 0, 0, 0), KILL);
	cr_assert_eq(call(f, AUDIT_ARCH_I386, __NR_exit_group, text, 0, 0, 0), KILL);
	cr_assert_eq(sys(f, 0x40000000 | __NR_exit_group, text, 0, 0, 0), KILL);
	cr_assert_eq(sys(f, 0x40000000 | __NR_write, text, 2, 0, 10), KILL);
}

/* Every number up to 1023 from the runtime's text, with the window's
 * read-write arguments from a text address that is no gate site: killed
 * unless it is exit_group, clock_gettime or write. */
static void check_every_number(const struct filter *f)
{
	for (int nr = 0; nr < 1024; nr++) {
		uint32_t want = nr == __NR_exit_group || nr == __NR_clock_gettime ? ALLOW : KILL;
		uint32_t got = sys(f, nr, TEXT_LO + 8, WINDOW, WINDOW_SIZE, PROT_READ | PROT_WRITE);

		if (nr == __NR_write)
			continue; /* descriptor 0x20000000: killed, checked above */
		cr_assert_eq(got, want, "system call %d: %s", nr, verdict(got));
	}
	cr_assert_eq(sys(f, __NR_write, TEXT_LO + 8, WINDOW, 0, 0), KILL);
}

Test(lockdown, mprotect_backend)
{
	struct lockdown_ranges r = ranges(true);
	struct filter f = build(&r);
	const uint64_t rw = PROT_READ | PROT_WRITE;

	check_common(&f);
	check_every_number(&f);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(sys(&f, __NR_mprotect, open_sites[i], WINDOW, WINDOW_SIZE, rw), ALLOW);
		cr_assert_eq(sys(&f, __NR_mprotect, close_sites[i], WINDOW, WINDOW_SIZE, 0), ALLOW);
		/* each site only its own protection */
		cr_assert_eq(sys(&f, __NR_mprotect, open_sites[i], WINDOW, WINDOW_SIZE, 0), KILL);
		cr_assert_eq(sys(&f, __NR_mprotect, close_sites[i], WINDOW, WINDOW_SIZE, rw), KILL);
		cr_assert_eq(sys(&f, __NR_mprotect, open_sites[i], WINDOW, WINDOW_SIZE, 7), KILL);
		/* exactly the window */
		cr_assert_eq(sys(&f, __NR_mprotect, open_sites[i], WINDOW + 4096, WINDOW_SIZE, rw),
			     KILL);
		cr_assert_eq(sys(&f, __NR_mprotect, open_sites[i], WINDOW, WINDOW_SIZE * 2, rw),
			     KILL);
		cr_assert_eq(
			sys(&f, __NR_mprotect, open_sites[i], WINDOW | 1ull << 32, WINDOW_SIZE, rw),
			KILL);
		cr_assert_eq(
			sys(&f, __NR_mprotect, open_sites[i], WINDOW, WINDOW_SIZE, rw | 1ull << 32),
			KILL);
		/* the site's address in another 4 GiB, or one byte off */
		cr_assert_eq(
			sys(&f, __NR_mprotect, open_sites[i] | 1ull << 32, WINDOW, WINDOW_SIZE, rw),
			KILL);
		cr_assert_eq(sys(&f, __NR_mprotect, open_sites[i] + 1, WINDOW, WINDOW_SIZE, rw),
			     KILL);
		/* pkey_mprotect from the same site, with its arguments */
		cr_assert_eq(sys(&f, __NR_pkey_mprotect, open_sites[i], WINDOW, WINDOW_SIZE, rw),
			     KILL);
	}
}

Test(lockdown, pkey_backend)
{
	struct lockdown_ranges r = ranges(false);
	struct filter f = build(&r);
	const uint64_t rw = PROT_READ | PROT_WRITE;

	check_common(&f);
	check_every_number(&f);
	/* no mprotect at all, not even the mprotect gates' own calls */
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(sys(&f, __NR_mprotect, open_sites[i], WINDOW, WINDOW_SIZE, rw), KILL);
		cr_assert_eq(sys(&f, __NR_mprotect, close_sites[i], WINDOW, WINDOW_SIZE, 0), KILL);
	}
	cr_assert_eq(sys(&f, __NR_pkey_mprotect, TEXT_LO + 8, WINDOW, WINDOW_SIZE, rw), KILL);
	cr_assert_eq(sys(&f, __NR_pkey_alloc, TEXT_LO + 8, 0, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_pkey_free, TEXT_LO + 8, 1, 0, 0), KILL);
	/* no thread either: the guest API has no call that makes one */
	cr_assert_eq(sys(&f, __NR_clone, TEXT_LO + 8, 0x50f00, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_clone3, TEXT_LO + 8, 0, 88, 0), KILL);
	cr_assert_eq(sys(&f, __NR_clone, CLONE_SITE, FLAGS, 0, 0), KILL);
}

/* The pkey backend with guest threads: clone from its one site with
 * exactly its flags, exit from its one site; everything else as before. */
static struct lockdown_ranges thread_ranges(bool mprotect)
{
	struct lockdown_ranges r = ranges(mprotect);

	r.clone_site = CLONE_SITE;
	r.clone_flags = FLAGS;
	r.exit_site = EXIT_SITE;
	return r;
}

Test(lockdown, pkey_threads)
{
	struct lockdown_ranges r = thread_ranges(false);
	struct filter f = build(&r);
	const uint64_t rw = PROT_READ | PROT_WRITE;

	check_common(&f);
	cr_assert_eq(sys(&f, __NR_clone, CLONE_SITE, FLAGS, 0x40100000, 0), ALLOW);
	cr_assert_eq(sys(&f, __NR_clone, CLONE_SITE, FLAGS, 0, 0), ALLOW);
	/* from anywhere else: a byte off, another 4 GiB, the text, the exit
	 * site, guest code, the vDSO */
	cr_assert_eq(sys(&f, __NR_clone, CLONE_SITE + 1, FLAGS, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_clone, CLONE_SITE - 1, FLAGS, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_clone, CLONE_SITE | 1ull << 32, FLAGS, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_clone, TEXT_LO + 8, FLAGS, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_clone, EXIT_SITE, FLAGS, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_clone, GUEST_IP, FLAGS, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_clone, VDSO_LO + 8, FLAGS, 0, 0), KILL);
	/* other flags from the site: fork-like (SIGCHLD, no CLONE_VM), vfork,
	 * each thread flag missing, each extra flag (TLS, tid stores, a new
	 * namespace, CLONE_PARENT, CLONE_PTRACE...), the high half */
	cr_assert_eq(sys(&f, __NR_clone, CLONE_SITE, 17, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_clone, CLONE_SITE, 0x4111, 0, 0), KILL);
	for (int bit = 0; bit < 64; bit++) {
		uint64_t flags = FLAGS ^ (1ull << bit);
		uint32_t got = sys(&f, __NR_clone, CLONE_SITE, flags, 0, 0);

		cr_assert_eq(got, KILL, "flags %#llx: %s", (unsigned long long)flags, verdict(got));
	}
	cr_assert_eq(sys(&f, __NR_clone3, CLONE_SITE, 0, 88, 0), KILL);
	cr_assert_eq(sys(&f, __NR_fork, CLONE_SITE, 0, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_vfork, CLONE_SITE, 0, 0, 0), KILL);
	/* exit: from its site only; exit_group as before */
	cr_assert_eq(sys(&f, __NR_exit, EXIT_SITE, 0, 0, 0), ALLOW);
	cr_assert_eq(sys(&f, __NR_exit, EXIT_SITE + 1, 0, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_exit, CLONE_SITE, 0, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_exit, TEXT_LO + 8, 0, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_exit, GUEST_IP, 0, 0, 0), KILL);
	/* still no mprotect, pkey_* */
	cr_assert_eq(sys(&f, __NR_mprotect, open_sites[0], WINDOW, WINDOW_SIZE, rw), KILL);
	cr_assert_eq(sys(&f, __NR_pkey_mprotect, CLONE_SITE, WINDOW, WINDOW_SIZE, rw), KILL);
	/* every other number from either site: as from anywhere in the text */
	for (int nr = 0; nr < 1024; nr++) {
		uint32_t want = nr == __NR_exit_group || nr == __NR_clock_gettime ? ALLOW : KILL;

		if (nr == __NR_clone || nr == __NR_exit || nr == __NR_write)
			continue;
		cr_assert_eq(sys(&f, nr, CLONE_SITE, FLAGS, 0, 0), want, "system call %d", nr);
		cr_assert_eq(sys(&f, nr, EXIT_SITE, FLAGS, 0, 0), want, "system call %d", nr);
	}
}

/* Under mprotect the runtime passes no clone site (guestrun.c): clone and
 * exit are killed from every site; the control: with a site, the same
 * filter allows the site's exact clone. */
Test(lockdown, mprotect_no_threads)
{
	struct lockdown_ranges r = ranges(true), rt = thread_ranges(true);
	struct filter f = build(&r), t = build(&rt);

	cr_assert_eq(sys(&f, __NR_clone, CLONE_SITE, FLAGS, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_exit, EXIT_SITE, 0, 0, 0), KILL);
	cr_assert_eq(sys(&t, __NR_clone, CLONE_SITE, FLAGS, 0, 0), ALLOW);
	cr_assert_eq(sys(&t, __NR_exit, EXIT_SITE, 0, 0, 0), ALLOW);
	cr_assert_eq(
		sys(&t, __NR_mprotect, open_sites[0], WINDOW, WINDOW_SIZE, PROT_READ | PROT_WRITE),
		ALLOW);
}

Test(lockdown, no_vdso)
{
	struct lockdown_ranges r = ranges(false);
	struct filter f;

	r.vdso_lo = r.vdso_hi = 0;
	f = build(&r);
	cr_assert_eq(sys(&f, __NR_clock_gettime, TEXT_LO + 8, 1, 0, 0), ALLOW);
	cr_assert_eq(sys(&f, __NR_clock_gettime, VDSO_LO + 8, 1, 0, 0), KILL);
	cr_assert_eq(sys(&f, __NR_clock_gettime, 0, 1, 0, 0), KILL);
}

/* The controls: the interpreter and these checks tell filters apart. */
Test(lockdown, control)
{
	struct lockdown_ranges rm = ranges(true), rp = ranges(false);
	struct filter m = build(&rm), p = build(&rp), all = {.n = 1};
	const uint64_t rw = PROT_READ | PROT_WRITE;

	all.insn[0] = (struct lockdown_insn){.code = BPF_RET | BPF_K, .k = ALLOW};
	cr_assert_eq(sys(&all, __NR_openat, GUEST_IP, 0, 0, 0), ALLOW);
	cr_assert_eq(sys(&m, __NR_openat, GUEST_IP, 0, 0, 0), KILL);
	cr_assert_eq(sys(&all, __NR_mprotect, TEXT_LO + 8, WINDOW, WINDOW_SIZE, 7), ALLOW);
	/* the two backends differ exactly on the gates' mprotect */
	cr_assert_eq(sys(&m, __NR_mprotect, open_sites[0], WINDOW, WINDOW_SIZE, rw), ALLOW);
	cr_assert_eq(sys(&p, __NR_mprotect, open_sites[0], WINDOW, WINDOW_SIZE, rw), KILL);
	cr_assert_lt(p.n, m.n);
}
