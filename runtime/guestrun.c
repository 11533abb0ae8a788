/* SPDX-License-Identifier: MIT */
/*
 * pvsub-guestrun: the small static runtime a guest runs in (DESIGN §8,
 * steps 5 to 7).  pvsub-loader verifies and links, then execs this
 * program with the linked image in a sealed memfd (runtime/handoff.h).
 * Built with musl-gcc, static and not position-independent, it maps
 * nothing but itself, the vDSO, the guest and the guest's memory: no
 * glibc (whose pkey_set is a real WRPKRU and whose ld.so trampoline a real
 * XRSTOR), no OpenSSL, no libelf.
 *
 * The order is visible in main(): the hand-off checked; the image mapped
 * from the sealed file region by region with its final protections (code
 * read-execute, never writable); the guest's memory, stack and loopback
 * device; every executable mapping of the process rescanned for the gate
 * profile (gate opcodes accepted only at the pkey gates' recorded WRPKRU
 * sites); under pkey, the window put behind its protection key; then,
 * unless the backend is none, the image sealed (mseal), no new privileges,
 * no core dumps and the seccomp filter; the guest called.
 *
 * Messages carry pvsub-loader's name: that is the program the user ran.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime/gate.h"
#include "runtime/gatescan.h"
#include "runtime/guestapi.h"
#include "runtime/handoff.h"
#include "runtime/lockdown.h"

#define PROGRAM "pvsub-loader"
#define GUEST_MEM_SIZE ((uint64_t)16 << 20)
#define MAPS_MAX ((size_t)64 << 10)
#define PAGE 4096u

/* The runtime's text, from the linker's default script. */
extern const char __executable_start[], etext[];

/* The guest API as the loader links it, per backend (gen-api.sh). */
static const uintptr_t runtime_api[GUESTRUN_API_COUNT] = {
	(uintptr_t)pvsub_tx,  (uintptr_t)pvsub_rx,   (uintptr_t)pvsub_clock_ns,
	(uintptr_t)pvsub_log, (uintptr_t)pvsub_exit, (uintptr_t)pvsub_thread_start,
};
static const uintptr_t runtime_api_pkey[GUESTRUN_API_COUNT] = {
	(uintptr_t)pvsub_tx_pkey,  (uintptr_t)pvsub_rx_pkey, (uintptr_t)pvsub_clock_ns,
	(uintptr_t)pvsub_log_pkey, (uintptr_t)pvsub_exit,    (uintptr_t)pvsub_thread_start_pkey,
};

/* The window: the API's world, then the rings' slots from its second page. */
#define WORLD ((struct loader_world *)(uintptr_t)GUESTRUN_WINDOW)
#define WINDOW_SLOTS ((uint8_t *)(uintptr_t)GUESTRUN_WINDOW + PAGE)
_Static_assert(sizeof(struct loader_world) <= PAGE, "the world fits the window's first page");
_Static_assert(PAGE + LOOPBACK_SLOTS_SIZE + 64 + GATE_STACK_SIZE <= GUESTRUN_WINDOW_SIZE,
	       "the slots and the gates' stack fit the window");
_Static_assert(GUESTRUN_WINDOW + GUESTRUN_WINDOW_SIZE <= GUESTRUN_BASE,
	       "the window lies below the guest's image");

static struct guestrun_header hdr;
/* What the guest is given (read from the window before it closes). */
static struct pvsub_guest guest_view;
static uint8_t *guest_stack_top;

/* One line on standard error, "pvsub-loader: MESSAGE". */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	char line[512];
	size_t n = sizeof(PROGRAM ": ") - 1;
	va_list ap;
	int r;

	memcpy(line, PROGRAM ": ", n);
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	n += PVSUB_MIN((size_t)r, sizeof(line) - n - 2);
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

/* --- the hand-off ------------------------------------------------------------ */

static bool region_ok(const struct guestrun_region *r, uint64_t size)
{
	return r->offset % PAGE == 0 && r->size % PAGE == 0 && r->offset <= size &&
	       r->size <= size - r->offset;
}

/* Read and check the header of the sealed memfd GUESTRUN_FD. */
static int read_handoff(void)
{
	const unsigned need = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	const struct guestrun_region *rs[] = {&hdr.guard_lo, &hdr.code, &hdr.guard_hi, &hdr.rodata,
					      &hdr.got,	     &hdr.data, &hdr.bss};
	struct stat st;
	int seals = fcntl(GUESTRUN_FD, F_GET_SEALS);

	if (seals < 0 || ((unsigned)seals & need) != need) {
		say("pvsub-guestrun is started by pvsub-loader only: descriptor %d is not a "
		    "sealed guest image",
		    GUESTRUN_FD);
		return EXIT_USAGE;
	}
	if (fstat(GUESTRUN_FD, &st) < 0 ||
	    pread(GUESTRUN_FD, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
		say("guest image: %s", strerror(errno ? errno : EIO));
		return EXIT_SYSTEM;
	}
	hdr.names[sizeof(hdr.names) - 1] = '\0';
	if (hdr.magic != GUESTRUN_MAGIC || hdr.version != GUESTRUN_VERSION ||
	    hdr.base != GUESTRUN_BASE || hdr.size == 0 || hdr.size % PAGE ||
	    hdr.size > GUESTRUN_IMAGE_MAX ||
	    (uint64_t)st.st_size != GUESTRUN_HEADER_SIZE + hdr.size ||
	    hdr.backend > GUESTRUN_PKEY) {
		say("guest image: not a hand-off of this pvsub-loader");
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(rs); i++)
		if (!region_ok(rs[i], hdr.size)) {
			say("guest image: region %zu outside the image", i);
			return EXIT_USAGE;
		}
	if (hdr.entry < hdr.code.offset || hdr.entry >= hdr.code.offset + hdr.code.size) {
		say("guest image: entry point outside its code");
		return EXIT_USAGE;
	}
	if (memcmp(hdr.api, hdr.backend == GUESTRUN_PKEY ? runtime_api_pkey : runtime_api,
		   sizeof(runtime_api)) != 0) {
		say("%s: linked for another build of pvsub-guestrun", hdr.names);
		return EXIT_USAGE;
	}
	return 0;
}

/* Map @r of the image from the sealed file with @prot. */
static int map_region(const struct guestrun_region *r, int prot)
{
	void *at = (void *)(uintptr_t)(hdr.base + r->offset);

	if (!r->size)
		return 0;
	if (mmap(at, r->size, prot, MAP_PRIVATE | MAP_FIXED, GUESTRUN_FD,
		 (off_t)(GUESTRUN_HEADER_SIZE + r->offset)) != at) {
		say("guest image: mmap: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	return 0;
}

/* Reserve the image's range (inaccessible), then map each region over it:
 * what no region covers (the guard pages) stays inaccessible. */
static int map_image(void)
{
	void *base = (void *)(uintptr_t)hdr.base;
	int r;

	if (mmap(base, hdr.size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		 0) != base) {
		say("guest image: cannot map %#llx: %s", (unsigned long long)hdr.base,
		    strerror(errno));
		return EXIT_SYSTEM;
	}
	r = map_region(&hdr.code, PROT_READ | PROT_EXEC);
	if (!r)
		r = map_region(&hdr.rodata, PROT_READ);
	if (!r)
		r = map_region(&hdr.got, PROT_READ);
	if (!r)
		r = map_region(&hdr.data, PROT_READ | PROT_WRITE);
	if (!r)
		r = map_region(&hdr.bss, PROT_READ | PROT_WRITE);
	close(GUESTRUN_FD);
	return r;
}

/* The guest's memory and stack, and the device window with the API's
 * world in it; the window is left with the backend's protection. */
static int make_world(void)
{
	void *window = (void *)(uintptr_t)GUESTRUN_WINDOW;
	uint8_t *mem, *stack;
	const uint8_t *hi_lo =
		(const uint8_t *)(uintptr_t)(hdr.base + hdr.guard_hi.offset + hdr.guard_hi.size);

	mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	stack = mmap(NULL, GUEST_STACK_GUARD + GUEST_STACK_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (mem == MAP_FAILED || stack == MAP_FAILED ||
	    mprotect(stack, GUEST_STACK_GUARD, PROT_NONE) < 0) {
		say("guest memory: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	if (mmap(window, GUESTRUN_WINDOW_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != window) {
		say("device window: cannot map %#x: %s", GUESTRUN_WINDOW, strerror(errno));
		return EXIT_SYSTEM;
	}
	/* pvsub_log() may read the image past its upper guard page */
	if (world_init(WORLD, mem, GUEST_MEM_SIZE, hi_lo,
		       (const uint8_t *)(uintptr_t)(hdr.base + hdr.size), stack + GUEST_STACK_GUARD,
		       stack + GUEST_STACK_GUARD + GUEST_STACK_SIZE, WINDOW_SLOTS) < 0) {
		say("%s", strerror(ENOMEM));
		return EXIT_SYSTEM;
	}
	guest_view = WORLD->g;
	guest_stack_top = WORLD->stack_hi;
	gate_close_prot = hdr.backend == GUESTRUN_NONE ? PROT_READ | PROT_WRITE : PROT_NONE;
	if (mprotect(window, GUESTRUN_WINDOW_SIZE, (int)gate_close_prot) < 0) {
		say("device window: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	return 0;
}

/* --- the rescan -------------------------------------------------------------- */

/* Read all of /proc/self/maps into @buf (NUL-terminated). */
static int read_maps(char *buf, size_t max)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r = 1;

	if (fd < 0)
		return -errno;
	while (n < max - 1 && (r = read(fd, buf + n, max - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (r < 0)
		return -EIO;
	if (n == max - 1)
		return -E2BIG;
	buf[n] = '\0';
	return 0;
}

/* Whether @name at @addr is a recorded gate site: a WRPKRU of a pkey
 * gate (gate.h), wherever it is seen from. */
static bool gate_site(const char *name, uintptr_t addr)
{
	if (strcmp(name, "wrpkru") != 0)
		return false;
	for (size_t i = 0; i < GATE_WRPKRU_COUNT; i++)
		if (gate_wrpkru_sites[i] == addr)
			return true;
	return false;
}

/* Scan one executable range; EXIT_RESCAN with the first occurrence that
 * is not a recorded gate site named. */
static int scan_range(uintptr_t lo, uintptr_t hi, const char *what)
{
	const char *name = NULL;
	size_t len = hi - lo, at = 0;

	for (;; at++) {
		at = gatescan_next((const uint8_t *)lo, len, at, &name);
		if (at == len)
			return 0;
		if (!gate_site(name, lo + at))
			break;
	}
	say("%s: %s at %#lx in %s (%#lx-%#lx), not a recorded gate site: refused", hdr.names, name,
	    (unsigned long)(lo + at), what, (unsigned long)lo, (unsigned long)hi);
	return EXIT_RESCAN;
}

/*
 * Rescan every executable mapping of the process (adjacent ones as one
 * range, so that no pattern hides across their border) and find the
 * vDSO for the filter.  [vsyscall] is not scanned: the kernel emulates
 * its three entry points and it cannot be read when it is execute-only.
 */
static int rescan(struct lockdown_ranges *ranges)
{
	static char maps[MAPS_MAX];
	uintptr_t run_lo = 0, run_hi = 0;
	char run_what[64] = "";
	int r = read_maps(maps, sizeof(maps));

	if (r < 0) {
		say("/proc/self/maps: %s", strerror(-r));
		return EXIT_SYSTEM;
	}
	for (char *line = maps, *next; *line; line = next) {
		unsigned long lo, hi;
		char perms[5], path[64] = "";
		int n;

		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		n = sscanf(line, "%lx-%lx %4s %*s %*s %*s %63s", &lo, &hi, perms, path);
		if (n < 3 || perms[2] != 'x' || strcmp(path, "[vsyscall]") == 0)
			continue;
		if (perms[0] != 'r') {
			say("%s: executable mapping %#lx-%#lx cannot be read: refused", hdr.names,
			    lo, hi);
			return EXIT_RESCAN;
		}
		if (strcmp(path, "[vdso]") == 0) {
			ranges->vdso_lo = lo;
			ranges->vdso_hi = hi;
		}
		if (run_hi == lo) {
			run_hi = hi;
			continue;
		}
		if (run_hi && (r = scan_range(run_lo, run_hi, run_what)) != 0)
			return r;
		run_lo = lo;
		run_hi = hi;
		snprintf(run_what, sizeof(run_what), "%s", path[0] ? path : "anonymous code");
	}
	return run_hi ? scan_range(run_lo, run_hi, run_what) : 0;
}

/* --- the pkey backend's window ---------------------------------------------------- */

#ifndef SYS_pkey_alloc
#define SYS_pkey_alloc 330
#define SYS_pkey_mprotect 329
#endif
#define PKEY_DISABLE_ACCESS 1u
#define PKEY_DISABLE_WRITE 2u

/*
 * Put the window behind protection key GATE_PKEY, closed in this thread's
 * PKRU: pkey_alloc(2) with both rights disabled, then pkey_mprotect(2) of
 * the window, read-write, with the key.  After the rescan, so that a
 * runtime with a gate opcode out of place is refused as such (132) on any
 * machine; before the lockdown, which kills both calls.
 */
static int window_pkey(void)
{
	long key = syscall(SYS_pkey_alloc, 0UL, PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE);

	if (key < 0) {
		say("backend pkey: this machine has no protection keys (pkey_alloc: %s)",
		    strerror(errno));
		return EXIT_BACKEND;
	}
	if (key != GATE_PKEY) {
		say("backend pkey: pkey_alloc gave key %ld, the gates are built for key %d", key,
		    GATE_PKEY);
		return EXIT_BACKEND;
	}
	if (syscall(SYS_pkey_mprotect, (unsigned long)GUESTRUN_WINDOW,
		    (unsigned long)GUESTRUN_WINDOW_SIZE, (unsigned long)(PROT_READ | PROT_WRITE),
		    (unsigned long)key) < 0) {
		say("device window: pkey_mprotect: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	if ((gate_rdpkru() & GATE_PKEY_BITS) != GATE_PKEY_BITS) {
		say("backend pkey: PKRU %#x leaves the window open", gate_rdpkru());
		return EXIT_SYSTEM;
	}
	return 0;
}

/* --- lockdown and run ----------------------------------------------------------- */

static int lock_down(struct lockdown_ranges *ranges)
{
	const char *step = "";
	int r = lockdown_seal((void *)(uintptr_t)hdr.base, hdr.size);

	if (r == -ENOSYS)
		say("note: this kernel has no mseal(2): guest code is kept read-execute by the "
		    "seccomp filter alone");
	else if (r < 0) {
		say("mseal: %s", strerror(-r));
		return EXIT_SYSTEM;
	}
	ranges->text_lo = (uintptr_t)__executable_start;
	ranges->text_hi = (uintptr_t)etext;
	ranges->window = GUESTRUN_WINDOW;
	ranges->window_size = GUESTRUN_WINDOW_SIZE;
	/* the mprotect gates' sites; under pkey no mprotect at all */
	ranges->open_sites = gate_open_sites;
	ranges->close_sites = gate_close_sites;
	ranges->n_sites = hdr.backend == GUESTRUN_MPROTECT ? GATE_COUNT : 0;
	/* under pkey, threads: clone and exit each from their one site */
	if (hdr.backend == GUESTRUN_PKEY) {
		ranges->clone_site = gate_clone_site_addr;
		ranges->clone_flags = GATE_CLONE_FLAGS;
		ranges->exit_site = gate_thread_exit_site_addr;
	}
	r = lockdown_apply(ranges, &step);
	if (r < 0) {
		say("lockdown: %s: %s", step, strerror(-r));
		return EXIT_SYSTEM;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct lockdown_ranges ranges = {0};
	struct timespec ts;
	int r, status;

	(void)argv;
	if (argc != 1) {
		say("pvsub-guestrun takes no arguments: it is started by pvsub-loader");
		return EXIT_USAGE;
	}
	r = read_handoff();
	if (!r)
		r = map_image();
	if (!r)
		r = make_world();
	if (!r)
		r = rescan(&ranges);
	if (!r && hdr.backend == GUESTRUN_PKEY)
		r = window_pkey();
	/* the vDSO's clock set up before the filter */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (!r && hdr.backend != GUESTRUN_NONE)
		r = lock_down(&ranges);
	if (r)
		_exit(r);
	status = world_run((int (*)(const struct pvsub_guest *))(uintptr_t)(hdr.base + hdr.entry),
			   &guest_view, guest_stack_top);
	if (status < 0 || status > EXIT_GUEST_MAX) {
		say("the guest's exit status %d is outside 0-%d", status, EXIT_GUEST_MAX);
		_exit(EXIT_GUEST_RANGE);
	}
	_exit(status);
}
