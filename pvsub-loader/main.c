/* SPDX-License-Identifier: MIT */
/*
 * pvsub-loader: verify certified guest bundles, link them into one image
 * and hand it to pvsub-guestrun, which runs the guest (DESIGN §8).
 *
 * The order is visible in main(): options; the backend; the trust anchors
 * and the required policy; each bundle read once and verified by
 * pvsub_verify() (libpvsub decides: signature, chain, hashes, verdict,
 * policy, profile coverage), its driver kept from the verification where
 * it lies in the bundle's bytes (read into this process's own memory,
 * never written, never copied); the
 * objects linked by guestlink against the guest API of pvsub-guestrun
 * alone, for the fixed base the runtime maps them at; the image and a
 * header written into a memfd, sealed; the runtime executed with it.
 *
 * This process maps glibc, OpenSSL and libxml2, whose code holds real gate
 * opcodes (glibc's pkey_set is a WRPKRU): it never runs guest code.  The
 * static runtime (runtime/guestrun.c) maps, rescans, seals and locks down.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libpvsub/crypto.h"
#include "libpvsub/guestlink.h"
#include "libpvsub/policy.h"
#include "libpvsub/relobj.h"
#include "libpvsub/verify.h"
#include "pvsub-loader/loader.h"
#include "pvsub-loader/rescan.h"

/* Largest bundle read into memory. */
#define BUNDLE_MAX ((size_t)256 << 20)
/* Most bundles in one guest. */
#define BUNDLES_MAX 64

/*
 * The backends.  Every manifest's policy must cover the backend's gate
 * profile and `syscall`; the gate profile is `default` (every gate opcode
 * pvsub knows) for all of them, so that a bundle certified once runs under
 * whichever backend the host picks.
 */
struct backend {
	const char *name;
	enum guestrun_backend run;
	const char *profiles[2];
	/* the guest API the guest is linked against: the backend's gates */
	const struct pvsub_guestlink_api *api;
};

static const struct backend backends[] = {
	{"pkey", GUESTRUN_PKEY, {"default", "syscall"}, loader_api_pkey},
	{"mprotect", GUESTRUN_MPROTECT, {"default", "syscall"}, loader_api},
	{"none", GUESTRUN_NONE, {"default", "syscall"}, loader_api},
};

enum {
	OPT_BACKEND = 0x100,
	OPT_CA,
	OPT_POLICY,
	OPT_LOOPBACK,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option options[] = {
	{"backend", required_argument, NULL, OPT_BACKEND},
	{"ca", required_argument, NULL, OPT_CA},
	{"policy", required_argument, NULL, OPT_POLICY},
	{"loopback", no_argument, NULL, OPT_LOOPBACK},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

struct opts {
	const char *backend, *ca, *policy;
	bool loopback;
};

/* One bundle: its path, its bytes, and what its verification kept (the
 * driver's bytes lie in @bundle: they are never copied). */
struct guest_object {
	const char *path;
	uint8_t *bundle;
	char name[PATH_MAX + PVSUB_BUNDLE_NAME_MAX + 3]; /* "BUNDLE: DRIVER" */
	struct pvsub_verify_result res;
	struct pvsub_relobj *view;
};

/* Everything one run holds; released by state_release(). */
struct state {
	struct pvsub_trust *ca;
	struct pvsub_policy *policy;
	struct guest_object *objs;
	size_t n_objs;
	struct pvsub_guestlink *gl;
	int memfd; /* the sealed hand-off, -1 until made */
};

static void usage(void)
{
	printf("Usage: " PROGRAM " [--backend none|mprotect|pkey] --ca FILE [--policy FILE]\n"
	       "                    [--loopback] BUNDLE...\n"
	       "Verify certified guest bundles, link their objects into one image against\n"
	       "the guest API and run the guest.\n"
	       "\n"
	       "      --backend=NAME    how gates isolate the guest: pkey (the default where\n"
	       "                        the CPU has protection keys), mprotect (the default\n"
	       "                        elsewhere), or none (no isolation, no lockdown: for\n"
	       "                        tests and benchmarks only)\n"
	       "      --ca=FILE         PEM file of the CA certificates bundles must chain to\n"
	       "      --policy=NAME|FILE\n"
	       "                        every manifest must have been made under this policy\n"
	       "      --loopback        give the guest an in-process loopback device\n"
	       "                        (required in this version)\n"
	       "      --help            display this help and exit\n"
	       "      --version         output version information and exit\n"
	       "\n"
	       "Exit status: the guest's (0-125); 126 a bundle did not verify or was not\n"
	       "accepted, 127 the link was refused, 128 usage or input error, 129 backend\n"
	       "not available, 130 system error while loading, 131 guest status out of range,\n"
	       "132 gate opcode in an executable mapping, 133 the linked guest code holds a\n"
	       "pattern of its policy; killed by SIGSYS: a system call outside the allowlist.\n"
	       "See pvsub-loader(8) and pvsub-guest(3).\n");
}

/* 0 to go on, -1 after --help or --version, else an exit status. */
static int parse_options(int argc, char **argv, struct opts *o)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		switch (c) {
		case OPT_BACKEND:
			o->backend = optarg;
			break;
		case OPT_CA:
			o->ca = optarg;
			break;
		case OPT_POLICY:
			o->policy = optarg;
			break;
		case OPT_LOOPBACK:
			o->loopback = true;
			break;
		case OPT_HELP:
			usage();
			return -1;
		case OPT_VERSION:
			print_version();
			return -1;
		default:
			option_error(NULL, argv, c, options);
			return EXIT_USAGE;
		}
	}
	if (!o->ca) {
		usage_error(NULL, "--ca is required");
		return EXIT_USAGE;
	}
	if (optind == argc) {
		usage_error(NULL, "no bundle");
		return EXIT_USAGE;
	}
	if (argc - optind > BUNDLES_MAX) {
		usage_error(NULL, "more than %d bundles", BUNDLES_MAX);
		return EXIT_USAGE;
	}
	return 0;
}

/* Whether the CPU and kernel have protection keys: a key can be allocated
 * (errno says why not).  pvsub-guestrun allocates its own. */
static bool have_pkeys(void)
{
	long k = syscall(SYS_pkey_alloc, 0UL, 0UL);

	if (k < 0)
		return false;
	syscall(SYS_pkey_free, k);
	return true;
}

/* The backend of --backend (by default pkey where the machine has
 * protection keys, else mprotect), refused unless it runs guests. */
static int pick_backend(const struct opts *o, const struct backend **out)
{
	const char *name = o->backend;
	bool pkeys = have_pkeys();

	if (!name)
		name = pkeys ? "pkey" : "mprotect";
	if (strcmp(name, "pkey") == 0 && !pkeys) {
		error_msg("backend pkey: this machine has no protection keys (pkey_alloc: %s)",
			  strerror(errno));
		return EXIT_BACKEND;
	}
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(backends); i++) {
		if (strcmp(name, backends[i].name) != 0)
			continue;
		if (loader_api_count == 0) {
			error_msg("backend %s: " PROGRAM " was built without pvsub-guestrun "
				  "(no musl-gcc): it cannot run guests",
				  name);
			return EXIT_BACKEND;
		}
		*out = &backends[i];
		return 0;
	}
	usage_error(NULL, "unknown backend '%s' (none, mprotect or pkey)", name);
	return EXIT_USAGE;
}

static int load_inputs(struct state *s, const struct opts *o)
{
	struct pvsub_diag d = {{0}};
	int r;

	if (pvsub_trust_load(o->ca, &s->ca, &d) < 0) {
		error_msg("%s", d.msg);
		return EXIT_USAGE;
	}
	if (!o->policy)
		return 0;
	r = pvsub_policy_load(o->policy, &s->policy, &d);
	if (r < 0) {
		error_msg("%s: %s", o->policy, d.msg[0] ? d.msg : strerror(-r));
		return EXIT_USAGE;
	}
	return 0;
}

/* Print @msg naming bundle @path once: the library's messages start with
 * the name of the input that failed, which is the bundle or its driver. */
static void refuse(const char *path, const char *msg)
{
	size_t n = strlen(path);

	if (strncmp(msg, path, n) == 0 && msg[n] == ':')
		error_msg("%s", msg);
	else
		error_msg("%s: %s", path, msg);
}

/* Read bundle @g->path once, verify it and keep its driver.  0 or an exit
 * status, the refusal printed. */
static int verify_bundle(struct state *s, const struct backend *be, struct guest_object *g)
{
	struct pvsub_diag d = {{0}};
	struct pvsub_verify_request q = {
		.sz = sizeof(q),
		.inputs = PVSUB_VERIFY_BUNDLE,
		.bundle_name = g->path,
		.bundle_max_member = BUNDLE_MAX,
		.ca = s->ca,
		.require_certified = true,
		.require_policy = s->policy,
		.require_profiles = be->profiles,
		.n_require_profiles = PVSUB_ARRAY_SIZE(be->profiles),
		.keep_binary = true,
		.binary_in_place = true,
	};
	size_t len = 0;
	int r;

	if (pvsub_read_file(g->path, BUNDLE_MAX, &g->bundle, &len, &d) < 0) {
		error_msg("%s: %s", g->path, d.msg[0] ? d.msg : "cannot read");
		return EXIT_USAGE;
	}
	q.bundle = g->bundle;
	q.bundle_len = len;
	r = pvsub_verify(&q, &g->res);
	if (r < 0) {
		refuse(g->path, g->res.msg);
		return EXIT_VERIFY;
	}
	/* certified, or certified with load-time checks: check_final_bytes()
	 * makes those checks, and the same for every bundle */
	snprintf(g->name, sizeof(g->name), "%s: %s", g->path, g->res.driver_name);
	if (pvsub_relobj_view(g->res.binary, g->res.binary_len, &g->view, &d) < 0) {
		error_msg("%s: %s", g->name, d.msg);
		return EXIT_LINK;
	}
	return 0;
}

/* Print a refusal of the link, @msg, naming the bundle at fault: the
 * linker names the object (as "BUNDLE: DRIVER") when one is at fault, else
 * the refusal is the guest's as a whole and every bundle is named. */
static void refuse_link(const struct state *s, const char *msg)
{
	struct pvsub_buf all = {0};

	for (size_t i = 0; i < s->n_objs; i++) {
		size_t n = strlen(s->objs[i].name);

		if (strncmp(msg, s->objs[i].name, n) == 0 && msg[n] == ':') {
			error_msg("%s", msg);
			return;
		}
	}
	for (size_t i = 0; i < s->n_objs; i++)
		if (pvsub_buf_printf(&all, "%s%s", i ? ", " : "", s->objs[i].path) < 0)
			break;
	error_msg("%s: %s", all.data ? all.data : "guest", msg);
	pvsub_buf_release(&all);
}

/* "PATH, PATH" of every bundle into @dst (cut to fit). */
static void bundle_names(const struct state *s, char *dst, size_t size)
{
	size_t n = 0;

	dst[0] = '\0';
	for (size_t i = 0; i < s->n_objs && n < size; i++) {
		int r = snprintf(dst + n, size - n, "%s%s", i ? ", " : "", s->objs[i].path);

		if (r < 0)
			break;
		n += (size_t)r;
	}
}

static void region(struct guestrun_region *dst, const struct pvsub_guestlink_region *src)
{
	dst->offset = src->offset;
	dst->size = src->size;
}

/* The header the runtime checks, for layout @l and backend @be. */
static void fill_header(const struct state *s, const struct backend *be,
			const struct pvsub_guestlink_layout *l, struct guestrun_header *h)
{
	memset(h, 0, sizeof(*h));
	h->magic = GUESTRUN_MAGIC;
	h->version = GUESTRUN_VERSION;
	h->backend = be->run;
	h->base = GUESTRUN_BASE;
	h->size = l->size;
	h->entry = l->entry;
	region(&h->guard_lo, &l->guard_lo);
	region(&h->code, &l->code);
	region(&h->guard_hi, &l->guard_hi);
	region(&h->rodata, &l->rodata);
	region(&h->got, &l->got);
	region(&h->data, &l->data);
	region(&h->bss, &l->bss);
	for (size_t i = 0; i < GUESTRUN_API_COUNT; i++)
		h->api[i] = be->api[i].addr;
	bundle_names(s, h->names, sizeof(h->names));
}

static int system_error(const char *what)
{
	error_msg("%s: %s", what, strerror(errno));
	return EXIT_SYSTEM;
}

/*
 * The load-time checks (DESIGN §8 step 5): the linked code, relocation
 * values and padding included, searched for every pattern of every
 * bundle's policy.  0, or the refusal printed and its exit status.
 */
static int check_final_bytes(const struct state *s, const struct pvsub_guestlink_layout *l,
			     const uint8_t *image)
{
	struct loader_policy pols[BUNDLES_MAX];
	struct pvsub_guestlink_place at;
	char bytes[3 * PVSUB_PATTERN_MAX * 2], where[PATH_MAX + 160];
	struct loader_hit hit;
	uint64_t off;
	int r;

	for (size_t i = 0; i < s->n_objs; i++) {
		pols[i].pats = s->objs[i].res.patterns;
		pols[i].n = s->objs[i].res.n_patterns;
	}
	r = loader_rescan(pols, s->n_objs, image + l->code.offset, l->code.size, &hit);
	if (r == 0)
		return 0;
	if (r < 0) {
		bundle_names(s, where, sizeof(where));
		error_msg("%s: the linked code cannot be rescanned: %s", where,
			  r == -EINVAL ? "no manifest lists a pattern" : strerror(-r));
		return r == -EINVAL ? EXIT_VERIFY : EXIT_SYSTEM;
	}
	off = l->code.offset + hit.offset;
	pvsub_pattern_format(&hit.pattern, bytes, sizeof(bytes));
	if (pvsub_guestlink_locate(s->gl, off, &at) == 0)
		snprintf(where, sizeof(where), "%s: %s+0x%llx", s->objs[at.obj].name, at.section,
			 (unsigned long long)at.offset);
	else
		bundle_names(s, where, sizeof(where));
	error_msg("%s: the linked code at 0x%llx holds %s (%s), which its policy forbids", where,
		  (unsigned long long)(GUESTRUN_BASE + off), hit.pattern.id, bytes);
	return EXIT_FINAL_BYTES;
}

/*
 * Link the objects for GUESTRUN_BASE straight into a memfd, after a page
 * of header, and seal it: the runtime maps the very bytes written here,
 * and neither it nor this process can change them afterwards.
 */
static int link_image(struct state *s, const struct backend *be)
{
	const unsigned seals = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	const struct pvsub_relobj *objs[BUNDLES_MAX];
	const char *names[BUNDLES_MAX];
	struct pvsub_guestlink_layout l;
	struct pvsub_diag d = {{0}};
	uint8_t *map;
	size_t total;
	int r;

	for (size_t i = 0; i < s->n_objs; i++) {
		objs[i] = s->objs[i].view;
		names[i] = s->objs[i].name;
	}
	r = pvsub_guestlink_plan(objs, names, s->n_objs, be->api, loader_api_count, &s->gl, &d);
	if (r < 0) {
		refuse_link(s, d.msg);
		return EXIT_LINK;
	}
	pvsub_guestlink_layout(s->gl, &l);
	total = GUESTRUN_HEADER_SIZE + (size_t)l.size;
	s->memfd = memfd_create("pvsub-guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->memfd < 0)
		return system_error("memfd_create");
	if (ftruncate(s->memfd, (off_t)total) < 0)
		return system_error("ftruncate");
	map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, s->memfd, 0);
	if (map == MAP_FAILED)
		return system_error("mmap");
	fill_header(s, be, &l, (struct guestrun_header *)map);
	r = pvsub_guestlink_apply(s->gl, GUESTRUN_BASE, map + GUESTRUN_HEADER_SIZE, l.size, &d);
	if (r < 0) {
		munmap(map, total);
		refuse_link(s, d.msg);
		return EXIT_LINK;
	}
	r = check_final_bytes(s, &l, map + GUESTRUN_HEADER_SIZE);
	munmap(map, total);
	if (r)
		return r;
	/* the shared writable mapping is gone: F_SEAL_WRITE may be set */
	if (fcntl(s->memfd, F_ADD_SEALS, seals) < 0)
		return system_error("F_ADD_SEALS");
	return 0;
}

/* Run pvsub-guestrun with the sealed image as descriptor GUESTRUN_FD, an
 * empty environment and nothing else open but standard input, output and
 * error.  Returns only on failure. */
static int exec_runtime(int memfd)
{
	const char *path = getenv("PVSUB_GUESTRUN");
	char *const argv[] = {(char *)"pvsub-guestrun", NULL};
	char *const envp[] = {NULL};

	if (!path || !*path)
		path = loader_guestrun_path;
	if (memfd == GUESTRUN_FD) {
		if (fcntl(memfd, F_SETFD, 0) < 0)
			return system_error("fcntl");
	} else if (dup2(memfd, GUESTRUN_FD) < 0) {
		return system_error("dup2");
	}
	if (syscall(SYS_close_range, GUESTRUN_FD + 1, ~0U, 0) < 0)
		return system_error("close_range");
	fflush(NULL);
	execve(path, argv, envp);
	error_msg("%s: %s", path, strerror(errno));
	return EXIT_SYSTEM;
}

static void state_release(struct state *s)
{
	if (s->memfd >= 0)
		close(s->memfd);
	pvsub_guestlink_free(s->gl);
	for (size_t i = 0; i < s->n_objs; i++) {
		pvsub_relobj_free(s->objs[i].view);
		pvsub_verify_result_release(&s->objs[i].res);
		free(s->objs[i].bundle);
	}
	free(s->objs);
	pvsub_policy_free(s->policy);
	pvsub_trust_free(s->ca);
}

int main(int argc, char **argv)
{
	const struct backend *be = NULL;
	struct opts o = {0};
	struct state s = {.memfd = -1};
	int r;

	cli_init(PROGRAM, NULL);
	r = parse_options(argc, argv, &o);
	if (r)
		return r < 0 ? 0 : r;
	r = pick_backend(&o, &be);
	if (r)
		return r;
	if (!o.loopback) {
		usage_error(NULL, "--loopback is required: pvsub-hostd's device descriptors are "
				  "not implemented yet");
		return EXIT_USAGE;
	}
	if (strcmp(be->name, "none") == 0)
		fprintf(stderr, PROGRAM ": warning: --backend none: nothing isolates the guest and "
					"nothing locks it down\n");
	r = load_inputs(&s, &o);
	if (r)
		goto out;
	s.objs = calloc((size_t)(argc - optind), sizeof(*s.objs));
	if (!s.objs) {
		error_msg("%s", strerror(ENOMEM));
		r = EXIT_SYSTEM;
		goto out;
	}
	for (int i = optind; i < argc && !r; i++) {
		struct guest_object *g = &s.objs[s.n_objs++];

		g->path = argv[i];
		r = verify_bundle(&s, be, g);
	}
	if (!r)
		r = link_image(&s, be);
	if (!r) {
		/* nothing but the sealed image goes on into the runtime */
		int fd = s.memfd;

		s.memfd = -1;
		state_release(&s);
		r = exec_runtime(fd);
		close(fd);
		return r;
	}
out:
	state_release(&s);
	return r;
}
