/* SPDX-License-Identifier: MIT */
/*
 * verify: whether a signed manifest and the binary it describes (loose, or
 * in a bundle) may be trusted, decided in one place for pvsub-sign verify,
 * pvsub-loader and pvsub-hostd.  Trust area: OpenSSL, libxml2, libarchive.
 *
 * One call, pvsub_verify(), runs every check in this order and stops at the
 * first that fails:
 *
 *   BUNDLE       (bundles only) the archive reads and holds exactly the
 *                four members pvsub_bundle_read() admits
 *   SIGNATURE    the detached CMS signature is over the exact manifest
 *                bytes and the signer chains to the trust anchors now
 *   SCHEMA       the manifest is valid (pvsub_manifest_read()); an image
 *                manifest (a disk image's) is accepted with loose inputs,
 *                its <image> the binary, and refused in a bundle
 *   HASHES       the binary's size and SHA-256 are the manifest's, and so is
 *                the SHA-256 of every region at its offset and size
 *   SIGNER_CERT  (bundles only) the bundled certificate is the one that
 *                made the signature, so that no byte of a bundle goes
 *                unchecked
 *   VERDICT      (when required) the manifest's verdict certifies
 *                (pvsub_verdict_certifies(): certified, or certified with
 *                load-time checks)
 *   POLICY       (when required) the manifest's policy SHA-256 is the
 *                required policy's (pvsub_policy_sha256_hex(), the hash
 *                pvsub-scan writes into the manifest)
 *   PROFILES     (when required) every pattern of each required built-in
 *                profile is covered by a pattern of the manifest's policy
 *
 * Nothing is printed and nothing is global: the result says what passed,
 * what failed and why, and the caller prints it or refuses the load.
 */
#ifndef PVSUB_VERIFY_H
#define PVSUB_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/bundle.h"
#include "libpvsub/crypto.h"
#include "libpvsub/policy.h"
#include "libpvsub/util.h"
#include "libpvsub/verdict.h"

/* What the request gives: a manifest, its signature and its binary as three
 * inputs, or one bundle holding all of them and the signer's certificate. */
enum pvsub_verify_inputs {
	PVSUB_VERIFY_MANIFEST,
	PVSUB_VERIFY_BUNDLE,
};

/* Largest driver member read from a bundle when the request says 0. */
#define PVSUB_VERIFY_MEMBER_MAX ((size_t)1 << 30)

struct pvsub_verify_request {
	/* sizeof(struct pvsub_verify_request) as the caller was built: fields
	 * past it read as zero, so the struct can grow (libbpf's opts). */
	size_t sz;
	enum pvsub_verify_inputs inputs;

	/* PVSUB_VERIFY_MANIFEST: the three inputs, and how messages name them
	 * (NULL: "manifest", "binary"; the signature is named as the
	 * manifest, whose signature it is). */
	const uint8_t *manifest;
	size_t manifest_len;
	const char *manifest_name;
	const uint8_t *signature;
	size_t signature_len;
	const uint8_t *binary;
	size_t binary_len;
	const char *binary_name;

	/* PVSUB_VERIFY_BUNDLE: the archive's bytes (uncompressed or gzip) and
	 * its name (NULL: "bundle"); the driver member may be at most
	 * @bundle_max_member bytes (0: PVSUB_VERIFY_MEMBER_MAX). */
	const uint8_t *bundle;
	size_t bundle_len;
	const char *bundle_name;
	size_t bundle_max_member;

	/* The trust anchors the signer must chain to.  Required. */
	const struct pvsub_trust *ca;

	/* Expectations; each is checked only when given. */
	bool require_certified;
	const struct pvsub_policy *require_policy;
	const char *const *require_profiles; /* built-in profile names */
	size_t n_require_profiles;

	/* PVSUB_VERIFY_BUNDLE: when every check passed, hand the verified
	 * driver member's bytes back in the result (binary, binary_len), so
	 * that a loader runs exactly the bytes that were checked and reads
	 * nothing twice; and the manifest's policy patterns with it
	 * (patterns, n_patterns), so that it can rescan the bytes it linked
	 * for what the certificate says is absent.  Ignored for
	 * PVSUB_VERIFY_MANIFEST, whose caller holds the binary already. */
	bool keep_binary;
	/* With keep_binary: the result's binary may point into @bundle
	 * instead of being a copy (res->binary_borrowed tells), where the
	 * driver member lies whole in it (an uncompressed bundle): the caller
	 * then keeps @bundle's bytes, unchanged, until it has released the
	 * result.  A large driver is neither copied nor given fresh pages. */
	bool binary_in_place;
};

enum pvsub_verify_status {
	PVSUB_VERIFY_PASSED, /* every check passed */
	PVSUB_VERIFY_FAILED, /* a check found the inputs untrustworthy */
	/* a check could not be made (out of memory, an OpenSSL or libxml2
	 * failure, a malformed request): neither trusted nor refuted, and a
	 * loader refuses the inputs all the same */
	PVSUB_VERIFY_ERROR,
};

/* The checks, in the order they run (see the top of this file). */
enum pvsub_verify_check {
	PVSUB_VERIFY_CHECK_NONE, /* no check failed */
	PVSUB_VERIFY_CHECK_REQUEST,
	PVSUB_VERIFY_CHECK_BUNDLE,
	PVSUB_VERIFY_CHECK_SIGNATURE,
	PVSUB_VERIFY_CHECK_SCHEMA,
	PVSUB_VERIFY_CHECK_HASHES,
	PVSUB_VERIFY_CHECK_SIGNER_CERT,
	PVSUB_VERIFY_CHECK_VERDICT,
	PVSUB_VERIFY_CHECK_POLICY,
	PVSUB_VERIFY_CHECK_PROFILES,
};

#define PVSUB_VERIFY_MSG_MAX (4096 + PVSUB_DIAG_MAX)
#define PVSUB_VERIFY_SUBJECT_MAX 256

struct pvsub_verify_result {
	enum pvsub_verify_status status;
	/* The check that failed or could not be made; NONE when passed. */
	enum pvsub_verify_check failed;
	/* The negative errno behind a failure: for SIGNATURE -EBADMSG (bad
	 * signature), -EKEYREJECTED (untrusted signer), -EKEYEXPIRED
	 * (expired or not yet valid certificate); -EINVAL for SCHEMA and
	 * BUNDLE, -EBADMSG for the other checks; the operational errno
	 * (-ENOMEM, -EIO, ...) for an ERROR.  0 when passed. */
	int error;
	/* One line, "NAME: reason", NAME the input that failed as the request
	 * names it; empty when passed. */
	char msg[PVSUB_VERIFY_MSG_MAX];

	/* What the checks learnt, filled as far as they got. */
	/* The signer's subject ("/CN=..."), once SIGNATURE passed. */
	char signer[PVSUB_VERIFY_SUBJECT_MAX];
	/* From the manifest, once SCHEMA passed (@manifest_read true); until
	 * then the verdict is REJECTED, never a certifying one. */
	bool manifest_read;
	enum pvsub_verdict verdict;
	char policy_sha256[PVSUB_SHA256_HEX_LEN];
	/* The bundle's driver member name, once BUNDLE passed. */
	char driver_name[PVSUB_BUNDLE_NAME_MAX + 1];

	/* The verified driver member, when the request asked to keep it and
	 * every check passed; NULL otherwise.  Owned by the result: released
	 * by pvsub_verify_result_release(); or, when @binary_borrowed, inside
	 * the request's bundle (binary_in_place), which is not freed. */
	uint8_t *binary;
	size_t binary_len;
	bool binary_borrowed;
	/* With the binary: the patterns of the manifest's <policy>, in
	 * document order (what the certificate says the binary's executable
	 * bytes hold no occurrence of, relocation windows aside).  Owned by
	 * the result, released with the binary. */
	struct pvsub_pattern *patterns;
	size_t n_patterns;
};

/*
 * Run the checks above on the inputs of @req and describe the outcome in
 * *@res (overwritten whatever happens).  0 when every check passed
 * (res->status PASSED, and res->binary kept when the request asked for
 * it); otherwise res->error: a verification failure
 * (status FAILED) or an operational error (status ERROR), the message in
 * res->msg.  A request without trust anchors or without its inputs, or
 * naming a profile that is not built in, is an ERROR of check REQUEST
 * (-EINVAL, or -ENOENT for the profile).  Thread-safe; @req is not kept.
 */
int pvsub_verify(const struct pvsub_verify_request *req, struct pvsub_verify_result *res)
	_must_check_ _nonnull_(1, 2);

/* Free what @res owns (the kept binary and patterns) and clear those fields; a result
 * that owns nothing is left as it is.  Call it before a result that holds
 * a binary is passed to pvsub_verify() again, which overwrites it. */
void pvsub_verify_result_release(struct pvsub_verify_result *res) _nonnull_(1);

/* The check's name as messages and logs say it ("signature", "hashes",
 * "signer certificate", ...); "unknown" for a value out of range. */
const char *pvsub_verify_check_name(enum pvsub_verify_check c);

#endif
