/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: appended module signatures.  The trailer parse
 * (pvsub_modsig_parse) under both rule sets against its contract, the two
 * against each other, and a rebuild of what it found; stripping; the check of what may carry a
 * signature; verification against a keyring (the PKCS#7 blob through pvsub's canonical-form check
 * and OpenSSL); and, for input that ends in the marker, re-signing, which
 * must replace the signature or refuse a malformed trailer, and give a
 * module that verifies.
 *
 * The keyring is the PEM certificate named by $PVSUB_FUZZ_CERT, its key
 * $PVSUB_FUZZ_KEY (build-and-run.sh makes both and signs the seeds with
 * them); without them only parsing, stripping and the check are fuzzed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/modsign.h"

#define TRAILER_LEN (PVSUB_MODSIG_INFO_LEN + PVSUB_MODSIG_MAGIC_LEN)

static struct pvsub_trust *keyring;
static struct pvsub_signer *signer;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *cert = getenv("PVSUB_FUZZ_CERT"), *key = getenv("PVSUB_FUZZ_KEY");
	struct pvsub_diag d = {{0}};

	(void)argc;
	(void)argv;
	if (!cert || !*cert || !key || !*key) {
		fprintf(stderr, "fuzz_modsig: PVSUB_FUZZ_CERT or PVSUB_FUZZ_KEY not set, "
				"no verification or signing\n");
		return 0;
	}
	if (pvsub_trust_load(cert, &keyring, &d) < 0 ||
	    pvsub_signer_load(key, cert, NULL, &signer, &d) < 0) {
		fprintf(stderr, "fuzz_modsig: %s\n", d.msg);
		abort();
	}
	return 0;
}

static void check_diag(int r, const struct pvsub_diag *d)
{
	if (r < 0 && r != -ENOMEM && (!d->msg[0] || strchr(d->msg, '\n')))
		abort();
}

static bool same_modsig(const struct pvsub_modsig *a, const struct pvsub_modsig *b)
{
	return a->present == b->present && a->offset == b->offset && a->size == b->size &&
	       a->sig_offset == b->sig_offset && a->sig_len == b->sig_len && a->algo == b->algo &&
	       a->hash == b->hash && a->id_type == b->id_type && a->signer_len == b->signer_len &&
	       a->key_id_len == b->key_id_len && memcmp(a->pad, b->pad, sizeof(a->pad)) == 0;
}

static void check_parse(const uint8_t *data, size_t size)
{
	static const struct pvsub_modsig none;
	struct pvsub_modsig t, l;
	struct pvsub_diag d = {{0}};
	struct pvsub_buf again = {0};
	int r = pvsub_modsig_parse(data, size, PVSUB_MODSIG_KERNEL, &t, &d);
	int rl;

	check_diag(r, &d);
	/* The scanner's rules: lengths that add up, any format fields. */
	rl = pvsub_modsig_parse(data, size, PVSUB_MODSIG_LAYOUT, &l, &d);
	check_diag(rl, &d);
	if (rl == 0) {
		if (!l.present || l.sig_len == 0 || l.offset + l.size != size ||
		    l.size != (uint64_t)l.signer_len + l.key_id_len + l.sig_len + TRAILER_LEN ||
		    l.sig_offset != l.offset + l.signer_len + l.key_id_len)
			abort();
	} else if ((rl != -ENOKEY && rl != -EBADMSG) || !same_modsig(&l, &none)) {
		abort();
	}
	/* One parser: the rule sets agree on what has no marker, the kernel's
	 * signatures are the layout's with the same answer, and they differ
	 * only where a format field is not the kernel's. */
	if ((r == -ENOKEY) != (rl == -ENOKEY) || (r == 0 && (rl != 0 || !same_modsig(&t, &l))))
		abort();
	if (r == -EBADMSG && rl == 0 && l.id_type == PVSUB_MODSIG_ID_PKCS7 && !l.algo && !l.hash &&
	    !l.signer_len && !l.key_id_len && !l.pad[0] && !l.pad[1] && !l.pad[2])
		abort();

	if (r == -ENOKEY || r == -EBADMSG) {
		if (!same_modsig(&t, &none))
			abort();
		return;
	}
	if (r != 0 || t.id_type != PVSUB_MODSIG_ID_PKCS7 || t.sig_len == 0 ||
	    t.offset + t.sig_len + TRAILER_LEN != size || t.sig_offset != t.offset)
		abort();
	/* the trailer pvsub writes for that signature is the one it found */
	if (pvsub_modsig_build(data, t.offset, data + t.sig_offset, t.sig_len, &again) < 0 ||
	    again.len != size || memcmp(again.data, data, size) != 0)
		abort();
	pvsub_buf_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvsub_modsig t;
	struct pvsub_diag d = {{0}};
	struct pvsub_buf out = {0};
	size_t content;
	int r;

	check_parse(data, size);

	/* what may be signed: 0 or a one-line refusal, never anything else */
	r = pvsub_modsig_check_signable(data, size, &d);
	if (r != 0 && r != -ENOEXEC)
		abort();
	check_diag(r, &d);

	/* stripping ends on a module with no well-formed signature left */
	content = pvsub_modsig_strip(data, size);
	if (content > size || pvsub_modsig_parse(data, content, PVSUB_MODSIG_KERNEL, &t, NULL) == 0)
		abort();

	if (!keyring)
		return 0;
	r = pvsub_modsig_verify(data, size, keyring, &d);
	if (r < 0 && r != -ENOKEY && r != -EBADMSG && r != -EKEYREJECTED && r != -ENOMEM &&
	    r != -EIO)
		abort();
	check_diag(r, &d);

	/* Signing costs a millisecond: only for input with a marker, where
	 * replacing or refusing is at stake. */
	if (size < PVSUB_MODSIG_MAGIC_LEN || memcmp(data + size - PVSUB_MODSIG_MAGIC_LEN,
						    PVSUB_MODSIG_MAGIC, PVSUB_MODSIG_MAGIC_LEN))
		return 0;
	r = pvsub_modsig_sign(signer, PVSUB_HASH_SHA256, data, size, &out, &d);
	if (r == -EBADMSG) {
		/* refused: what is left after stripping ends in a bad trailer */
		if (pvsub_modsig_parse(data, content, PVSUB_MODSIG_KERNEL, &t, NULL) != -EBADMSG)
			abort();
	} else if (r == 0) {
		if (pvsub_modsig_parse((const uint8_t *)out.data, out.len, PVSUB_MODSIG_KERNEL, &t,
				       NULL) != 0 ||
		    t.offset != content || memcmp(out.data, data, content) != 0 ||
		    pvsub_modsig_verify((const uint8_t *)out.data, out.len, keyring, &d) != 0)
			abort();
	} else if (r != -ENOMEM && r != -EIO) {
		abort();
	}
	pvsub_buf_release(&out);
	return 0;
}
