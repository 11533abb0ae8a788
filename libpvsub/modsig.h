/* SPDX-License-Identifier: MIT */
/*
 * modsig: the signature the Linux kernel expects appended to a module
 * (kernel module_signing.rst):
 *
 *   module bytes | PKCS#7 SignedData (DER, detached, over the module bytes)
 *   | struct module_signature (12 bytes) | "~Module signature appended~\n"
 *
 * struct module_signature is { u8 algo, hash, id_type, signer_len,
 * key_id_len; u8 pad[3]; be32 sig_len; }; for PKCS#7 everything but
 * id_type (2) and sig_len is zero.
 */
#ifndef PVSUB_MODSIG_H
#define PVSUB_MODSIG_H

#include <stddef.h>
#include <stdint.h>

#include "libpvsub/crypto.h"
#include "libpvsub/util.h"

#define PVSUB_MODSIG_MAGIC "~Module signature appended~\n"
#define PVSUB_MODSIG_MAGIC_LEN 28
#define PVSUB_MODSIG_INFO_LEN 12
#define PVSUB_MODSIG_ID_PKCS7 2

struct pvsub_modsig_trailer {
	size_t content_len; /* module bytes the signature covers */
	const uint8_t *sig; /* the PKCS#7 blob, inside the caller's buffer */
	size_t sig_len;
	uint8_t algo, hash, id_type, signer_len, key_id_len;
	uint8_t pad[3];
};

/*
 * Find the appended signature of @len bytes at @data.  0 with @out filled;
 * -ENOKEY when there is no marker (unsigned module); -EBADMSG when the
 * marker is there but the trailer is not the kernel's PKCS#7 form (fields
 * the kernel requires to be zero are not, or sig_len runs out of the file).
 */
int pvsub_modsig_parse(const uint8_t *data, size_t len, struct pvsub_modsig_trailer *out,
		       struct pvsub_diag *diag) _must_check_ _nonnull_(3);

/* The length of the module without any appended signatures (stacked ones
 * included); @len when there is none.  Malformed trailers are left alone. */
size_t pvsub_modsig_strip(const uint8_t *data, size_t len);

/* Append @content, @sig and the trailer for @sig to @out.  0, -EINVAL
 * (@sig_len does not fit 32 bits), -ENOMEM. */
int pvsub_modsig_build(const uint8_t *content, size_t content_len, const uint8_t *sig,
		       size_t sig_len, struct pvsub_buf *out) _must_check_ _nonnull_(5);

/* The ELF types pvsub_modsig_check_object() may accept, as a mask. */
enum pvsub_object_types {
	PVSUB_OBJECT_REL = 1u << 0,  /* ET_REL: kernel modules, driver objects */
	PVSUB_OBJECT_DYN = 1u << 1,  /* ET_DYN: shared objects, PIEs */
	PVSUB_OBJECT_EXEC = 1u << 2, /* ET_EXEC */
};

/*
 * Whether @len bytes at @data are an x86-64 ELF object of one of @types
 * (a mask of enum pvsub_object_types): ELFCLASS64, little-endian,
 * EM_X86_64, and a section header table of 64-byte entries inside the
 * file, as the kernel's module loader checks; an ET_REL object must have
 * one.  Appended module signatures are ignored.  The content decides, never
 * a file name.  0, or -ENOEXEC with a one-line reason in @diag (no file
 * name in it) that says what the bytes are instead: compressed (gzip, xz,
 * zstd, bzip2, lz4: with the advice to sign before compressing), not ELF,
 * truncated, 32-bit, big-endian, another machine, another ELF type.
 */
int pvsub_modsig_check_object(const uint8_t *data, size_t len, unsigned types,
			      struct pvsub_diag *diag) _must_check_;

/*
 * Whether @len bytes at @data can carry a Linux module signature: an x86-64
 * ELF relocatable object (pvsub_modsig_check_object() with
 * PVSUB_OBJECT_REL).  pvsub_modsig_sign() signs any bytes: whoever signs a
 * file calls this first, so that a compressed module or a text file is
 * refused, not corrupted.
 */
int pvsub_modsig_check_signable(const uint8_t *data, size_t len, struct pvsub_diag *diag)
	_must_check_;

/*
 * Sign a module as the kernel's sign-file does (CMS, no attributes, no
 * certificates, signer by issuer and serial) and append the result to @out:
 * any signature already there is replaced, never stacked.  -EBADMSG when
 * the module ends in a signature marker with a malformed trailer.
 */
int pvsub_modsig_sign(const struct pvsub_signer *s, enum pvsub_hash hash, const uint8_t *data,
		      size_t len, struct pvsub_buf *out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 5);

/* Verify a signed module against the certificates of @keyring as the kernel
 * does.  0 or a result of pvsub_cms_verify_keyring(); -ENOKEY unsigned. */
int pvsub_modsig_verify(const uint8_t *data, size_t len, const struct pvsub_trust *keyring,
			struct pvsub_diag *diag) _must_check_ _nonnull_(3);

#endif
