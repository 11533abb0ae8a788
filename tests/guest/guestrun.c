/* SPDX-License-Identifier: MIT */
/*
 * guestrun OBJECT...: link guest objects with guestlink into one anonymous
 * mapping near this program (so that the guests' PC-relative references to
 * the API in api.c reach it), make its code read-execute (it is never
 * writable and executable at once), its guard pages inaccessible, its
 * rodata and GOT read-only, then call pvsub_guest_main and print
 * "result N" as tests/guest/ref.c does.  It links only libpvsub's core and
 * elf areas, as pvsub-loader will.
 *
 * Exit status: 0 when the guest ran, 2 on a usage or I/O error, 3 when the
 * link was refused (the reason on stderr).  The layout goes to stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "libpvsub/guestlink.h"
#include "libpvsub/relobj.h"
#include "tests/guest/api.h"

#define MAX_OBJECTS 16

static const struct pvsub_guestlink_api api[] = {
	{"test_log", (uintptr_t)test_log},
	{"test_add", (uintptr_t)test_add},
	{"test_input", (uintptr_t)test_input},
	{"test_value", (uintptr_t)&test_value},
};

/* An anonymous read-write mapping of @size bytes within reach of this
 * program's text: the first free spot from 64 MiB past test_add. */
static uint8_t *map_near(uint64_t size)
{
	uintptr_t hint =
		((uintptr_t)test_add + (64u << 20)) & ~(uintptr_t)(PVSUB_GUESTLINK_PAGE - 1);

	for (int i = 0; i < 64; i++, hint += 16u << 20) {
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
		fprintf(stderr, "guestrun: mprotect: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int run(uint8_t *base, const struct pvsub_guestlink_layout *l)
{
	int (*entry)(const void *);

	if (protect(base, &l->guard_lo, PROT_NONE) < 0 ||
	    protect(base, &l->guard_hi, PROT_NONE) < 0 ||
	    protect(base, &l->code, PROT_READ | PROT_EXEC) < 0 ||
	    protect(base, &l->rodata, PROT_READ) < 0 || protect(base, &l->got, PROT_READ) < 0)
		return 2;
	entry = (int (*)(const void *))(uintptr_t)(base + l->entry);
	printf("result %d\n", entry(NULL));
	return 0;
}

int main(int argc, char **argv)
{
	const struct pvsub_relobj *objs[MAX_OBJECTS];
	struct pvsub_relobj *views[MAX_OBJECTS] = {NULL};
	uint8_t *bytes[MAX_OBJECTS] = {NULL};
	struct pvsub_diag diag = {""};
	struct pvsub_guestlink *gl = NULL;
	struct pvsub_guestlink_layout l;
	uint8_t *base = NULL;
	size_t n = (size_t)argc - 1;
	int status = 2;

	if (argc < 2 || n > MAX_OBJECTS) {
		fprintf(stderr, "usage: guestrun OBJECT...\n");
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len;

		if (pvsub_read_file(argv[i + 1], 1 << 26, &bytes[i], &len, &diag) < 0 ||
		    pvsub_relobj_view(bytes[i], len, &views[i], &diag) < 0) {
			fprintf(stderr, "guestrun: %s: %s\n", argv[i + 1], diag.msg);
			goto out;
		}
		objs[i] = views[i];
	}
	if (pvsub_guestlink_plan(objs, (const char *const *)argv + 1, n, api, PVSUB_ARRAY_SIZE(api),
				 &gl, &diag) < 0) {
		fprintf(stderr, "guestrun: refused: %s\n", diag.msg);
		status = 3;
		goto out;
	}
	pvsub_guestlink_layout(gl, &l);
	fprintf(stderr,
		"guestrun: image %llu bytes: code %llu, rodata %llu, got %llu (%zu entries), "
		"data %llu, bss %llu\n",
		(unsigned long long)l.size, (unsigned long long)l.code.size,
		(unsigned long long)l.rodata.size, (unsigned long long)l.got.size,
		pvsub_guestlink_got_count(gl), (unsigned long long)l.data.size,
		(unsigned long long)l.bss.size);
	base = map_near(l.size);
	if (!base) {
		fprintf(stderr, "guestrun: no room for the image near the program\n");
		goto out;
	}
	if (pvsub_guestlink_apply(gl, (uintptr_t)base, base, l.size, &diag) < 0) {
		fprintf(stderr, "guestrun: refused: %s\n", diag.msg);
		status = 3;
		goto out;
	}
	status = run(base, &l);
out:
	if (base)
		munmap(base, l.size);
	pvsub_guestlink_free(gl);
	for (size_t i = 0; i < n && i < MAX_OBJECTS; i++) {
		pvsub_relobj_free(views[i]);
		free(bytes[i]);
	}
	return status;
}
