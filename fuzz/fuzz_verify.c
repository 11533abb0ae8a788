/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: a signed manifest and its binary as pvsub-sign verify
 * and the loader check them, through pvsub_verify(): the detached CMS
 * signature over the manifest bytes with the signer's chain to a CA, the
 * manifest read and validated, its hashes against the binary, and the
 * verdict, policy and profile expectations.  The manifest is also read on
 * its own (pvsub_manifest_read), so that mutations of it are not all
 * stopped at the signature.
 *
 * Input: a 2-byte big-endian signature length N, N bytes of DER signature,
 * the manifest XML up to and including its first "</manifest>" and the
 * newline after it, then the binary.  The low two bits of the input's size
 * choose the expectations (certified verdict; policy and profiles of
 * "default").  The CA is the PEM file named by $PVSUB_FUZZ_CA
 * (build-and-run.sh makes one and signs the seeds with a signer it issued);
 * without it only the manifest is read.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/crypto.h"
#include "libpvsub/manifest_read.h"
#include "libpvsub/verify.h"

static struct pvsub_trust *ca;
static struct pvsub_policy *default_policy;
static const char *const profiles[] = {"vmfunc", "pku"};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("PVSUB_FUZZ_CA");
	struct pvsub_diag d = {{0}};

	(void)argc;
	(void)argv;
	if (pvsub_policy_new_builtin("default", &default_policy, &d) < 0) {
		fprintf(stderr, "fuzz_verify: %s\n", d.msg);
		abort();
	}
	if (!path || !*path) {
		fprintf(stderr, "fuzz_verify: PVSUB_FUZZ_CA not set, signatures not checked\n");
		return 0;
	}
	if (pvsub_trust_load(path, &ca, &d) < 0) {
		fprintf(stderr, "fuzz_verify: %s\n", d.msg);
		abort();
	}
	return 0;
}

/* A failure must say why, on one line. */
static void check_diag(int r, const struct pvsub_diag *d)
{
	if (r < 0 && r != -ENOMEM && (!d->msg[0] || strchr(d->msg, '\n')))
		abort();
}

/* Where the manifest ends in @len bytes at @xml: after its first
 * "</manifest>" and one newline, else at the end. */
static size_t manifest_end(const uint8_t *xml, size_t len)
{
	static const char tag[] = "</manifest>";
	const uint8_t *p = memmem(xml, len, tag, sizeof(tag) - 1);
	size_t end;

	if (!p)
		return len;
	end = (size_t)(p - xml) + sizeof(tag) - 1;
	return end < len && xml[end] == '\n' ? end + 1 : end;
}

/* What every result must be: consistent with the return value, a failure
 * explained on one line, nothing learnt from a manifest that was not read. */
static void check_result(int r, const struct pvsub_verify_result *res)
{
	if (r == 0) {
		if (res->status != PVSUB_VERIFY_PASSED || res->failed != PVSUB_VERIFY_CHECK_NONE ||
		    res->msg[0] || !res->manifest_read || !res->signer[0])
			abort();
		return;
	}
	if (r != res->error || res->status == PVSUB_VERIFY_PASSED ||
	    res->failed <= PVSUB_VERIFY_CHECK_REQUEST ||
	    res->failed > PVSUB_VERIFY_CHECK_PROFILES || !res->msg[0] || strchr(res->msg, '\n'))
		abort();
	if (res->status == PVSUB_VERIFY_FAILED && r != -EBADMSG && r != -EKEYREJECTED &&
	    r != -EKEYEXPIRED && r != -ENOKEY && r != -EINVAL)
		abort();
	if (res->failed <= PVSUB_VERIFY_CHECK_SCHEMA &&
	    (res->manifest_read || res->verdict != PVSUB_VERDICT_REJECTED))
		abort();
}

static void verify(const uint8_t *sig, size_t sig_len, const uint8_t *xml, size_t xml_len,
		   const uint8_t *bin, size_t bin_len, unsigned expect)
{
	struct pvsub_verify_request q = {
		.sz = sizeof(q),
		.inputs = PVSUB_VERIFY_MANIFEST,
		.manifest = xml,
		.manifest_len = xml_len,
		.signature = sig,
		.signature_len = sig_len,
		.binary = bin,
		.binary_len = bin_len,
		.ca = ca,
		.require_certified = expect & 1,
	};
	struct pvsub_verify_result res;
	int r;

	if (expect & 2) {
		q.require_policy = default_policy;
		q.require_profiles = profiles;
		q.n_require_profiles = 2;
	}
	r = pvsub_verify(&q, &res);
	check_result(r, &res);
}

static void read_manifest(const uint8_t *xml, size_t xml_len)
{
	struct pvsub_manifest_info *info = NULL;
	struct pvsub_diag d = {{0}};
	int r;

	r = pvsub_manifest_read((const char *)xml, xml_len, &info, &d);
	if (r == 0) {
		if (!info || !info->policy_id || !info->object_path ||
		    (info->n_regions && !info->regions) || (info->n_patterns && !info->patterns))
			abort();
		for (size_t i = 0; i < info->n_regions; i++) {
			if (!info->regions[i].name)
				abort();
		}
		for (size_t i = 0; i < info->n_patterns; i++) {
			if (info->patterns[i].len == 0 || info->patterns[i].len > PVSUB_PATTERN_MAX)
				abort();
		}
	} else {
		if (info || (r != -EINVAL && r != -ENOMEM && r != -EIO))
			abort();
		check_diag(r, &d);
	}
	pvsub_manifest_info_free(info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sig, *xml;
	size_t sig_len, xml_len, rest;

	if (size < 2)
		return 0;
	sig_len = (size_t)data[0] << 8 | data[1];
	if (sig_len > size - 2)
		sig_len = size - 2;
	sig = data + 2;
	xml = sig + sig_len;
	rest = size - 2 - sig_len;
	xml_len = manifest_end(xml, rest);

	if (ca)
		verify(sig, sig_len, xml, xml_len, xml + xml_len, rest - xml_len, size & 3);
	read_manifest(xml, xml_len);
	return 0;
}
