/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: bundle unpacking (pvsub_bundle_read).  A bundle that
 * reads must be the four members with a valid driver name, each within the
 * member limit; written again and read back it must give the same members;
 * extracted, it must put exactly those four files into the directory.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libpvsub/bundle.h"

#define MAX_MEMBER (1u << 20)

static char dir[PATH_MAX];

static void remove_dir(void)
{
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz-bundle.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("fuzz_bundle: mkdtemp");
		abort();
	}
	atexit(remove_dir);
	return 0;
}

static bool same(const struct pvsub_bundle_member *a, const struct pvsub_bundle_member *b)
{
	return a->len == b->len && (!a->len || memcmp(a->data, b->data, a->len) == 0);
}

static bool same_bundle(const struct pvsub_bundle *a, const struct pvsub_bundle *b)
{
	return strcmp(a->driver_name, b->driver_name) == 0 && same(&a->driver, &b->driver) &&
	       same(&a->manifest, &b->manifest) && same(&a->signature, &b->signature) &&
	       same(&a->cert, &b->cert);
}

/* The directory holds exactly the four members, with their sizes; empty it. */
static void check_extracted(const struct pvsub_bundle *b)
{
	const struct {
		const char *name;
		const struct pvsub_bundle_member *m;
	} want[] = {
		{b->driver_name, &b->driver},
		{PVSUB_BUNDLE_MANIFEST, &b->manifest},
		{PVSUB_BUNDLE_SIGNATURE, &b->signature},
		{PVSUB_BUNDLE_CERT, &b->cert},
	};
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (!d)
		abort();
	while ((de = readdir(d))) {
		bool known = false;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		for (size_t i = 0; i < PVSUB_ARRAY_SIZE(want); i++) {
			if (strcmp(de->d_name, want[i].name) == 0 && lstat(path, &st) == 0 &&
			    S_ISREG(st.st_mode) && (size_t)st.st_size == want[i].m->len)
				known = true;
		}
		if (!known) {
			fprintf(stderr, "fuzz_bundle: unexpected file %s\n", path);
			abort();
		}
		unlink(path);
		n++;
	}
	closedir(d);
	if (n != PVSUB_ARRAY_SIZE(want))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvsub_bundle b, again;
	struct pvsub_buf out = {0};
	struct pvsub_diag d = {{0}};
	size_t largest;
	int r;

	r = pvsub_bundle_read(data, size, MAX_MEMBER, &b, &d);
	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			abort();
		if (r == -EINVAL && (!d.msg[0] || strchr(d.msg, '\n')))
			abort();
		pvsub_bundle_release(&b);
		return 0;
	}
	if (!b.driver_name || !pvsub_bundle_driver_name_ok(b.driver_name) || !b.driver.data ||
	    !b.manifest.data || !b.signature.data || !b.cert.data)
		abort();
	largest = PVSUB_MAX(PVSUB_MAX(b.driver.len, b.manifest.len),
			    PVSUB_MAX(b.signature.len, b.cert.len));
	if (largest > MAX_MEMBER)
		abort();

	/* the member limit holds: one byte less refuses the largest member */
	if (largest > 0) {
		if (pvsub_bundle_read(data, size, largest - 1, &again, &d) != -EINVAL)
			abort();
		pvsub_bundle_release(&again);
	}

	/* written and read back, the same bundle */
	if (pvsub_bundle_write(&b, &out, &d) < 0)
		abort();
	if (pvsub_bundle_read((const uint8_t *)out.data, out.len, MAX_MEMBER, &again, &d) < 0 ||
	    !same_bundle(&b, &again))
		abort();
	pvsub_bundle_release(&again);
	pvsub_buf_release(&out);

	if (pvsub_bundle_extract(&b, dir, &d) == 0)
		check_extracted(&b);
	pvsub_bundle_release(&b);
	return 0;
}
