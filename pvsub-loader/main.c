/* SPDX-License-Identifier: MIT */
/*
 * pvsub-loader: verify certified guest bundles, link them into one image
 * and run the guest (DESIGN §8).
 *
 * The order is visible in main(): options; the backend; the trust anchors
 * and the required policy; each bundle read once and verified by
 * pvsub_verify() (libpvsub decides: signature, chain, hashes, verdict,
 * policy, profile coverage), its driver kept from the verification; the
 * objects linked by guestlink against the guest API alone; the image
 * mapped near the loader (so that the guest's PC-relative calls reach the
 * API), written, then protected (code read-execute, rodata and GOT read
 * only, guard pages inaccessible); the guest's memory; the guest run.
 *
 * Not yet (pvsub-loader(8), STATUS): the rescan of the final bytes,
 * seccomp lockdown, the mprotect and pkey gates, threads, pvsub-hostd's
 * descriptors.  Only --backend none runs guests.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "libpvsub/crypto.h"
#include "libpvsub/guestlink.h"
#include "libpvsub/policy.h"
#include "libpvsub/relobj.h"
#include "libpvsub/verdict.h"
#include "libpvsub/verify.h"
#include "pvsub-loader/loader.h"

/* Largest bundle read into memory. */
#define BUNDLE_MAX ((size_t)256 << 20)
/* The guest's memory. */
#define GUEST_MEM_SIZE ((uint64_t)16 << 20)
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
	bool implemented;
	const char *profiles[2];
};

static const struct backend backends[] = {
	{"pkey", false, {"default", "syscall"}},
	{"mprotect", false, {"default", "syscall"}},
	{"none", true, {"default", "syscall"}},
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

/* One bundle: its path, and what its verification kept. */
struct guest_object {
	const char *path;
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
	uint8_t *image;
	uint64_t image_size;
	uint8_t *mem;
	uint8_t *stack; /* guard page, then the guest's stack */
	struct loader_world world;
	bool world_ready;
};

static void usage(void)
{
	printf("Usage: " PROGRAM " [--backend none|mprotect|pkey] --ca FILE [--policy FILE]\n"
	       "                    [--loopback] BUNDLE...\n"
	       "Verify certified guest bundles, link their objects into one image against\n"
	       "the guest API and run the guest.\n"
	       "\n"
	       "      --backend=NAME    how gates isolate the guest: only 'none' (no\n"
	       "                        isolation) is implemented yet, and must be named\n"
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
	       "not available, 130 system error while loading, 131 guest status out of range.\n"
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

/* The backend of --backend, refused unless it runs guests in this version. */
static int pick_backend(const struct opts *o, const struct backend **out)
{
	if (!o->backend) {
		error_msg("no --backend: the default (pkey where the CPU has protection keys, "
			  "else mprotect) is not implemented yet; name --backend none to run "
			  "without isolation");
		return EXIT_BACKEND;
	}
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(backends); i++) {
		if (strcmp(o->backend, backends[i].name) != 0)
			continue;
		if (!backends[i].implemented) {
			error_msg("backend %s: not implemented yet", o->backend);
			return EXIT_BACKEND;
		}
		*out = &backends[i];
		return 0;
	}
	usage_error(NULL, "unknown backend '%s' (none, mprotect or pkey)", o->backend);
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
	};
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if (pvsub_read_file(g->path, BUNDLE_MAX, &data, &len, &d) < 0) {
		error_msg("%s: %s", g->path, d.msg[0] ? d.msg : "cannot read");
		return EXIT_USAGE;
	}
	q.bundle = data;
	q.bundle_len = len;
	r = pvsub_verify(&q, &g->res);
	free(data);
	if (r < 0) {
		refuse(g->path, g->res.msg);
		return EXIT_VERIFY;
	}
	/* A load-time verdict holds only if the relocated bytes are rescanned,
	 * which this version does not do yet. */
	if (g->res.verdict != PVSUB_VERDICT_CERTIFIED) {
		error_msg("%s: verdict %s: it needs the rescan of the relocated bytes, which "
			  "this version of " PROGRAM " does not do",
			  g->path, pvsub_verdict_name(g->res.verdict));
		return EXIT_VERIFY;
	}
	snprintf(g->name, sizeof(g->name), "%s: %s", g->path, g->res.driver_name);
	if (pvsub_relobj_view(g->res.binary, g->res.binary_len, &g->view, &d) < 0) {
		error_msg("%s: %s", g->name, d.msg);
		return EXIT_LINK;
	}
	return 0;
}

/* An anonymous read-write mapping of @size bytes within reach of the
 * guest API's code (the guest calls it PC-relative, 32-bit): the first
 * free spot from 64 MiB past it, downwards after 1 GiB upwards. */
static uint8_t *map_near_api(uint64_t size)
{
	uintptr_t api = (uintptr_t)pvsub_tx & ~(uintptr_t)(PVSUB_GUESTLINK_PAGE - 1);
	const uintptr_t step = (uintptr_t)16 << 20;

	for (int i = 1; i <= 128; i++) {
		uintptr_t d = (uintptr_t)(64u << 20) + (uintptr_t)((i - 1) / 2) * step;
		uintptr_t hint = i % 2 ? api + d : api - d - size;
		void *p = mmap((void *)hint, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (p == (void *)hint)
			return p;
		if (p != MAP_FAILED)
			munmap(p, size); /* a kernel without MAP_FIXED_NOREPLACE */
	}
	return NULL;
}

static int protect(uint8_t *base, const struct pvsub_guestlink_region *r, int prot)
{
	if (r->size && mprotect(base + r->offset, r->size, prot) < 0) {
		error_msg("mprotect: %s", strerror(errno));
		return EXIT_SYSTEM;
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

/* Plan, map, write and protect the image; the entry point in *@entry. */
static int link_image(struct state *s, int (**entry)(const struct pvsub_guest *))
{
	const struct pvsub_relobj *objs[BUNDLES_MAX];
	const char *names[BUNDLES_MAX];
	struct pvsub_guestlink_layout l;
	struct pvsub_diag d = {{0}};
	int r;

	for (size_t i = 0; i < s->n_objs; i++) {
		objs[i] = s->objs[i].view;
		names[i] = s->objs[i].name;
	}
	r = pvsub_guestlink_plan(objs, names, s->n_objs, loader_api, loader_api_count, &s->gl, &d);
	if (r < 0) {
		refuse_link(s, d.msg);
		return EXIT_LINK;
	}
	pvsub_guestlink_layout(s->gl, &l);
	s->image = map_near_api(l.size);
	if (!s->image) {
		char msg[128];

		snprintf(msg, sizeof(msg), "no room for a %llu-byte image near the guest API",
			 (unsigned long long)l.size);
		refuse_link(s, msg);
		return EXIT_SYSTEM;
	}
	s->image_size = l.size;
	if (pvsub_guestlink_apply(s->gl, (uintptr_t)s->image, s->image, l.size, &d) < 0) {
		refuse_link(s, d.msg);
		return EXIT_LINK;
	}
	/* never writable and executable at once: code becomes read-execute
	 * only after every byte is written */
	r = protect(s->image, &l.guard_lo, PROT_NONE);
	if (!r)
		r = protect(s->image, &l.guard_hi, PROT_NONE);
	if (!r)
		r = protect(s->image, &l.code, PROT_READ | PROT_EXEC);
	if (!r)
		r = protect(s->image, &l.rodata, PROT_READ);
	if (!r)
		r = protect(s->image, &l.got, PROT_READ);
	*entry = (int (*)(const struct pvsub_guest *))(uintptr_t)(s->image + l.entry);
	return r;
}

static int run_guest(struct state *s, int (*entry)(const struct pvsub_guest *))
{
	struct pvsub_guestlink_layout l;
	void *mem;

	mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	if (mem == MAP_FAILED) {
		error_msg("guest memory: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	s->mem = mem;
	mem = mmap(NULL, GUEST_STACK_GUARD + GUEST_STACK_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (mem == MAP_FAILED) {
		error_msg("guest stack: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	s->stack = mem;
	if (mprotect(s->stack, GUEST_STACK_GUARD, PROT_NONE) < 0) {
		error_msg("mprotect: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	pvsub_guestlink_layout(s->gl, &l);
	/* pvsub_log() may read the image past its upper guard page */
	if (world_init(&s->world, s->mem, GUEST_MEM_SIZE,
		       s->image + l.guard_hi.offset + l.guard_hi.size, s->image + l.size,
		       s->stack + GUEST_STACK_GUARD,
		       s->stack + GUEST_STACK_GUARD + GUEST_STACK_SIZE) < 0) {
		error_msg("%s", strerror(ENOMEM));
		return EXIT_SYSTEM;
	}
	s->world_ready = true;
	fflush(NULL);
	world_run(&s->world, entry);
	fflush(NULL);
	if (s->world.exit_status < 0 || s->world.exit_status > EXIT_GUEST_MAX) {
		error_msg("the guest's exit status %d is outside 0-%d", s->world.exit_status,
			  EXIT_GUEST_MAX);
		return EXIT_GUEST_RANGE;
	}
	return s->world.exit_status;
}

static void state_release(struct state *s)
{
	if (s->world_ready)
		world_release(&s->world);
	if (s->stack)
		munmap(s->stack, GUEST_STACK_GUARD + GUEST_STACK_SIZE);
	if (s->mem)
		munmap(s->mem, GUEST_MEM_SIZE);
	if (s->image)
		munmap(s->image, s->image_size);
	pvsub_guestlink_free(s->gl);
	for (size_t i = 0; i < s->n_objs; i++) {
		pvsub_relobj_free(s->objs[i].view);
		pvsub_verify_result_release(&s->objs[i].res);
	}
	free(s->objs);
	pvsub_policy_free(s->policy);
	pvsub_trust_free(s->ca);
}

int main(int argc, char **argv)
{
	const struct backend *be = NULL;
	int (*entry)(const struct pvsub_guest *) = NULL;
	struct opts o = {0};
	struct state s = {0};
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
	fprintf(stderr, PROGRAM ": warning: --backend none: nothing isolates the guest from the "
				"loader\n");
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
		r = link_image(&s, &entry);
	if (!r)
		r = run_guest(&s, entry);
out:
	state_release(&s);
	return r;
}
