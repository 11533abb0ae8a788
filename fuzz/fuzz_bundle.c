/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: bundle unpacking (pvsub_bundle_read).  A bundle that
 * reads must be the four members with a valid driver name, each within the
 * member limit; written again and read back it must give the same members;
 * extracted, it must put exactly those four files into the directory.
 *
 * With $PVSUB_FUZZ_CA set (build-and-run.sh signs the seeds with a signer of
 * that CA), the bundle is also verified as pvsub-sign verify and the loader
 * verify it (pvsub_verify): a bundle that does not read must fail there at
 * the bundle check, one that does is named by its driver, and a verified
 * bundle's certificate is the signer's.
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
#include "libpvsub/verify.h"

#define MAX_MEMBER (1u << 20)

static char dir[PATH_MAX];
static struct pvsub_trust *ca;

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
	if (getenv("PVSUB_FUZZ_CA") && *getenv("PVSUB_FUZZ_CA")) {
		struct pvsub_diag d = {{0}};

		if (pvsub_trust_load(getenv("PVSUB_FUZZ_CA"), &ca, &d) < 0) {
			fprintf(stderr, "fuzz_bundle: %s\n", d.msg);
			abort();
		}
	}
	return 0;
}

/* pvsub_verify() on the same bytes agrees with pvsub_bundle_read()'s
 * outcome @read_r and, when it read, with the bundle @b. */
static void check_verify(const uint8_t *data, size_t size, int read_r, const struct pvsub_bundle *b)
{
	struct pvsub_verify_request q = {
		.sz = sizeof(q),
		.inputs = PVSUB_VERIFY_BUNDLE,
		.bundle = data,
		.bundle_len = size,
		.bundle_name = "fuzz.tar",
		.bundle_max_member = MAX_MEMBER,
		.ca = ca,
	};
	struct pvsub_verify_result res;
	char subject[PVSUB_VERIFY_SUBJECT_MAX];
	int r;

	if (!ca || !data)
		return;
	r = pvsub_verify(&q, &res);
	if (r != res.error || !res.msg[0] != (r == 0) || strchr(res.msg, '\n'))
		abort();
	if (read_r < 0) {
		if (r != read_r || res.failed != PVSUB_VERIFY_CHECK_BUNDLE)
			abort();
		return;
	}
	if (res.failed == PVSUB_VERIFY_CHECK_BUNDLE || strcmp(res.driver_name, b->driver_name))
		abort();
	if (r == 0 &&
	    (pvsub_cert_pem_subject(b->cert.data, b->cert.len, subject, sizeof(subject)) < 0 ||
	     strcmp(subject, res.signer)))
		abort();
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
	check_verify(data, size, r, &b);
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
