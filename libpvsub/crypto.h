/* SPDX-License-Identifier: MIT */
/*
 * crypto: hashing, CMS signing and verification on OpenSSL 3, shared by
 * pvsub-sign and (later) the loader.
 *
 * Signatures are detached CMS SignedData in DER, made without signed
 * attributes (no signing time), so the same key, certificate and bytes give
 * the same signature with RSA (PKCS#1 v1.5 is deterministic) -- bundles are
 * reproducible.  ECDSA keys work too, with randomised signatures; OpenSSL
 * 3.0 cannot make Ed25519 CMS signatures without signed attributes.
 *
 * Verification results are negative errnos a tool maps to "verification
 * failed", each with a one-line reason in the diag:
 *   -EBADMSG      bad signature (or a signature that does not parse, or
 *                 that is not in the one canonical form pvsub accepts)
 *   -EKEYREJECTED untrusted signer (no chain to the trust anchors, or no
 *                 keyring certificate matches the signer)
 *   -EKEYEXPIRED  a certificate of the chain has expired or is not yet valid
 * Anything else (-ENOMEM, -EIO for an OpenSSL failure, -EINVAL for bad
 * arguments) is an operational error.  OpenSSL's error queue is drained into
 * the diag message.
 */
#ifndef PVSUB_CRYPTO_H
#define PVSUB_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "libpvsub/util.h"

#define PVSUB_SHA256_LEN 32
#define PVSUB_SHA256_HEX_LEN (2 * PVSUB_SHA256_LEN + 1)

/* SHA-256 of @len bytes at @data into @out.  0 or -EIO (OpenSSL failure). */
int pvsub_sha256(const void *data, size_t len, uint8_t out[PVSUB_SHA256_LEN]) _must_check_;

/* Same, as 64 lower-case hex digits plus NUL. */
int pvsub_sha256_hex(const void *data, size_t len, char out[PVSUB_SHA256_HEX_LEN]) _must_check_;

/*
 * SHA-256 (hex) of the first @size bytes of the file @fd, read with pread()
 * from offset 0 (the file position is untouched), for a file too large to
 * hold: a disk image.  0, -EIO when the file ends before @size bytes or a
 * read fails (@diag says which), or -EIO for an OpenSSL failure.
 */
int pvsub_sha256_fd_hex(int fd, uint64_t size, char out[PVSUB_SHA256_HEX_LEN],
			struct pvsub_diag *diag) _must_check_ _nonnull_(3, 4);

enum pvsub_hash {
	PVSUB_HASH_SHA256,
	PVSUB_HASH_SHA384,
	PVSUB_HASH_SHA512,
};

/* "sha256", "sha384" or "sha512" into @out: 0 or -EINVAL. */
int pvsub_hash_from_name(const char *name, enum pvsub_hash *out) _must_check_ _nonnull_(1, 2);

/* A private key and its certificate. */
struct pvsub_signer;

/*
 * Load a signer: @key is a PEM private key file (encrypted ones are opened
 * with @pass; NULL means none) or a PKCS#11 URI ("pkcs11:...") resolved
 * through OpenSSL's "pkcs11" engine; @cert a PEM certificate file.  The key
 * must match the certificate.  0, -ENOENT/-EACCES (unreadable file),
 * -ENOKEY (the PEM key is encrypted and @pass is NULL), -EINVAL (not a key
 * or certificate, wrong passphrase, mismatch), -ENOTSUP (no PKCS#11 support
 * installed), -ENOMEM.  The message in @diag starts with the one file that
 * failed (never with a PKCS#11 URI, which may hold a PIN) and says nothing
 * of how a tool takes a passphrase.
 */
int pvsub_signer_load(const char *key, const char *cert, const char *pass,
		      struct pvsub_signer **out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 2, 4);
void pvsub_signer_free(struct pvsub_signer *s);

/*
 * Whether the signer's certificate is within its validity period at @now.
 * Signing does not depend on it (the kernel ignores the validity of module
 * signing certificates), but a manifest signature is verified against the
 * chain at the time of verification, so a tool warns.  0, or -EKEYEXPIRED
 * with "certificate SUBJECT expired (notAfter TIME)" or "certificate
 * SUBJECT is not valid yet (notBefore TIME)" in @diag, TIME as
 * "YYYY-MM-DD HH:MM:SS UTC"; -EIO if the dates cannot be read.
 */
int pvsub_signer_check_validity(const struct pvsub_signer *s, time_t now, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1);

/* The signer's certificate as PEM text (appended to @out). */
int pvsub_signer_cert_pem(const struct pvsub_signer *s, struct pvsub_buf *out)
	_must_check_ _nonnull_(1, 2);

enum pvsub_sign_flags {
	/* The kernel's module format: no certificates in the SignedData.  The
	 * signer is always named by issuer and serial number. */
	PVSUB_SIGN_NOCERTS = 1u << 0,
};

/*
 * Detached CMS signature (DER, appended to @out) over @len bytes at @data.
 * 0, -EIO (OpenSSL failure; reason in @diag), -ENOMEM.
 */
int pvsub_cms_sign(const struct pvsub_signer *s, enum pvsub_hash hash, unsigned flags,
		   const void *data, size_t len, struct pvsub_buf *out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 6);

/* A set of certificates read from one PEM file: trust anchors for chain
 * verification, or a keyring of signer certificates (the kernel's model). */
struct pvsub_trust;

/* 0, -ENOENT/-EACCES, -EINVAL (no certificate in the file), -ENOMEM. */
int pvsub_trust_load(const char *pem_path, struct pvsub_trust **out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 2);
/* The same from PEM text in memory. */
int pvsub_trust_load_mem(const void *pem, size_t len, struct pvsub_trust **out,
			 struct pvsub_diag *diag) _must_check_ _nonnull_(1, 3);
void pvsub_trust_free(struct pvsub_trust *t);

/*
 * Verify a detached CMS signature @sig over @data with the signer's
 * certificate taken from the signature and a chain built to one of the
 * trust anchors in @ca (certificates in the signature may serve as
 * intermediates; every certificate in it must be part of that chain).
 * The chain is checked at the current time.  When @signer_pem is not NULL
 * the signer certificate is appended to it as PEM.  See the top of the
 * file for the results.
 */
int pvsub_cms_verify_chain(const uint8_t *sig, size_t sig_len, const void *data, size_t len,
			   const struct pvsub_trust *ca, struct pvsub_buf *signer_pem,
			   struct pvsub_diag *diag) _must_check_ _nonnull_(1, 5);

/*
 * The same, and when @subject is not NULL, the signer's subject in the
 * form of pvsub_cert_pem_subject() into @subject (@subject_size bytes,
 * always terminated, cut if longer) once the signature and chain verify:
 * taken from the certificate the verification used, not parsed again.
 */
int pvsub_cms_verify_chain_signer(const uint8_t *sig, size_t sig_len, const void *data, size_t len,
				  const struct pvsub_trust *ca, struct pvsub_buf *signer_pem,
				  char *subject, size_t subject_size, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 5);

/*
 * The subject of the first certificate in @len bytes of PEM text at @pem
 * (what pvsub_cms_verify_chain() hands back as @signer_pem), in OpenSSL's
 * one-line form ("/CN=..."), into @out (@size bytes, always terminated,
 * cut if longer).  0, -EINVAL (no certificate), -ENOMEM.
 */
int pvsub_cert_pem_subject(const void *pem, size_t len, char *out, size_t size)
	_must_check_ _nonnull_(1, 3);

/*
 * Verify a detached CMS signature over @data as the kernel verifies module
 * signatures: the signer is looked up by issuer and serial number (or
 * subject key identifier) among the certificates of @keyring, which are
 * trusted as they are (no chain, no validity period).  The signature must
 * carry no certificates.
 */
int pvsub_cms_verify_keyring(const uint8_t *sig, size_t sig_len, const void *data, size_t len,
			     const struct pvsub_trust *keyring, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 5);

/*
 * Drain OpenSSL's error queue of this thread into @d as
 * "@what: <first error>" (no-op for a NULL @d, but the queue is still
 * emptied).  Returns -@err like pvsub_diag_set().
 */
int pvsub_crypto_diag(struct pvsub_diag *d, int err, const char *what) _nonnull_(3);

#endif
