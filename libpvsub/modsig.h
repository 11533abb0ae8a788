/* SPDX-License-Identifier: MIT */
/*
 * modsig: the signature the Linux kernel expects appended to a module
 * (kernel module_signing.rst), and the one parser of its trailer that
 * every reader of modules uses (the image for scanning, pvsub-sign for
 * signing and verifying).  Byte layout only, no cryptography: signing and
 * verifying are modsign.h, in the trust area.
 *
 *
 *   module bytes | signer name | key id | signature
 *   | struct module_signature (12 bytes) | "~Module signature appended~\n"
 *
 * struct module_signature is { u8 algo, hash, id_type, signer_len,
 * key_id_len; u8 pad[3]; be32 sig_len; }.  Since Linux 4.3 the signature
 * is PKCS#7 SignedData (DER, detached, over the module bytes), id_type is
 * 2 and every other field but sig_len is zero, so the signer name and key
 * id are empty.  Linux 3.7 to 4.2 wrote id_type 1 (X.509) with algo, hash,
 * signer_len and key_id_len set and the signer name and key id before the
 * signature; such modules are still around (RHEL 7).
 */
#ifndef PVSUB_MODSIG_H
#define PVSUB_MODSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/util.h"

#define PVSUB_MODSIG_MAGIC "~Module signature appended~\n"
#define PVSUB_MODSIG_MAGIC_LEN 28
#define PVSUB_MODSIG_INFO_LEN 12
#define PVSUB_MODSIG_ID_PKCS7 2

/*
 * An appended signature as found at the end of a file.  Offsets, not
 * pointers: the struct is copied into scan results that outlive the bytes.
 * All zero (present false) when the file has none.
 */
struct pvsub_modsig {
	bool present;
	uint64_t offset;     /* where the signature starts: the length of the module
				bytes it covers, the end of the ELF file */
	uint64_t size;	     /* from @offset to the end: signer name, key id,
				signature, struct module_signature, marker */
	uint64_t sig_offset; /* the signature proper (the PKCS#7 blob) */
	uint32_t sig_len;
	uint8_t algo, hash, id_type, signer_len, key_id_len;
	uint8_t pad[3];
};

/*
 * What counts as an appended signature.  One parser, two sets of rules,
 * because its two readers ask different questions:
 *
 * PVSUB_MODSIG_KERNEL, for signing and verifying: "is this the signature
 * the kernel checks?"  The rules of the kernel's mod_check_sig(): id_type
 * PKCS#7, algo, hash, signer_len, key_id_len and pad zero, sig_len nonzero
 * and inside the file.  (The kernel also wants at least one module byte
 * before the signature; the format does not, and nothing here needs it.)
 * pvsub-sign verify must not call a module good that the kernel refuses,
 * and pvsub-sign sign must not strip, and so silently replace, a trailer
 * that the kernel would not have accepted: it refuses it instead.
 *
 * PVSUB_MODSIG_LAYOUT, for scanning: "where does the ELF file end?"  Any
 * trailer whose lengths add up: marker, struct, then signer name, key id
 * and a nonzero sig_len that together fit in the file.  The fields that
 * only say which format the signature is in (id_type, algo, hash, pad) are
 * not checked.  This is safe because of what the scanner does with the
 * bytes past @offset (pvsub_image_new(), ET_REL only: in other ELF types a
 * marker is just bytes of a page-extended segment and is never looked
 * for): every section that lies there is a section-out-of-file violation
 * and a header table there an input error, so no trailer, real or forged,
 * can take bytes out of a section and out of the scan; a forged one can
 * only make the file rejected.  Stricter rules would buy nothing and would
 * turn a real signature of the older format (above) into an input error:
 * the module could not be scanned, rewritten or certified at all.  The
 * lengths stay strict: a trailer that claims more bytes than the file has
 * is an input error, never a reason to guess where the ELF file ends.
 *
 * In both, a marker that is not preceded by a whole struct is malformed,
 * and only the last signature counts (the kernel strips one; see
 * pvsub_modsig_strip() for stacks).
 */
enum pvsub_modsig_rules {
	PVSUB_MODSIG_KERNEL,
	PVSUB_MODSIG_LAYOUT,
};

/*
 * Find the appended signature of @len bytes at @data under @rules.  0 with
 * @out filled; -ENOKEY when there is no marker (unsigned module);
 * -EBADMSG with a one-line reason in @diag when the marker is there but
 * the trailer breaks @rules.  @out is all zero unless 0 is returned.
 */
int pvsub_modsig_parse(const uint8_t *data, size_t len, enum pvsub_modsig_rules rules,
		       struct pvsub_modsig *out, struct pvsub_diag *diag) _must_check_ _nonnull_(4);

/* The length of the module without any appended signatures (stacked ones
 * included) under PVSUB_MODSIG_KERNEL; @len when there is none.  A
 * malformed trailer ends the stripping and is left in place. */
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

#endif
