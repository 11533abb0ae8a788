/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: a signed manifest as pvsub-sign verify checks it -- the
 * detached CMS signature over the manifest bytes with the signer's chain to a
 * CA (pvsub_cms_verify_chain), then the manifest read and validated
 * (pvsub_manifest_read).
 *
 * Input: a 2-byte big-endian signature length N, N bytes of DER signature,
 * then the manifest XML.  The CA is the PEM file named by $PVSUB_FUZZ_CA
 * (build-and-run.sh makes one and signs the seeds with a signer it issued);
 * without it only the manifest is read.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/crypto.h"
#include "libpvsub/manifest.h"

static struct pvsub_trust *ca;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("PVSUB_FUZZ_CA");
	struct pvsub_diag d = {{0}};

	(void)argc;
	(void)argv;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvsub_manifest_info *info = NULL;
	struct pvsub_buf pem = {0};
	struct pvsub_diag d = {{0}};
	const uint8_t *sig, *xml;
	size_t sig_len, xml_len;
	int r;

	if (size < 2)
		return 0;
	sig_len = (size_t)data[0] << 8 | data[1];
	if (sig_len > size - 2)
		sig_len = size - 2;
	sig = data + 2;
	xml = sig + sig_len;
	xml_len = size - 2 - sig_len;

	if (ca) {
		r = pvsub_cms_verify_chain(sig, sig_len, xml, xml_len, ca, &pem, &d);
		if (r == 0 &&
		    (pem.len == 0 || strncmp(pem.data, "-----BEGIN CERTIFICATE-----", 27)))
			abort();
		if (r < 0 && r != -EBADMSG && r != -EKEYREJECTED && r != -EKEYEXPIRED &&
		    r != -ENOMEM && r != -EIO)
			abort();
		check_diag(r, &d);
		pvsub_buf_release(&pem);
	}

	/* The manifest is read whatever the signature says, so that mutations
	 * of it are not all stopped at the signature check. */
	r = pvsub_manifest_read((const char *)xml, xml_len, &info, &d);
	if (r == 0) {
		if (!info || !info->policy_id || !info->object_path ||
		    (info->n_regions && !info->regions))
			abort();
		for (size_t i = 0; i < info->n_regions; i++) {
			if (!info->regions[i].name)
				abort();
		}
	} else {
		if (info || (r != -EINVAL && r != -ENOMEM && r != -EIO))
			abort();
		check_diag(r, &d);
	}
	pvsub_manifest_info_free(info);
	return 0;
}
