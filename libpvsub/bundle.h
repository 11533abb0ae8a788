/* SPDX-License-Identifier: MIT */
/*
 * bundle: a signed driver as one reproducible archive.
 *
 * A POSIX ustar archive, uncompressed, of exactly four regular files in
 * this order: the driver (under its base name), manifest.xml,
 * manifest.xml.p7s (the detached CMS signature over manifest.xml) and
 * signer.pem (the signer's certificate).  Every header has mode 0644,
 * uid/gid 0, no owner names and mtime 0, so the same inputs always give the
 * same bytes.
 *
 * The reader accepts the same four members in any order, uncompressed or
 * gzip-compressed, and refuses everything else: absolute names, "..", any
 * directory part, links, devices, FIFOs, duplicate or extra members.
 */
#ifndef PVSUB_BUNDLE_H
#define PVSUB_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/util.h"

#define PVSUB_BUNDLE_MANIFEST "manifest.xml"
#define PVSUB_BUNDLE_SIGNATURE "manifest.xml.p7s"
#define PVSUB_BUNDLE_CERT "signer.pem"
#define PVSUB_BUNDLE_NAME_MAX 100 /* a ustar name field */

struct pvsub_bundle_member {
	uint8_t *data;
	size_t len;
	/* @data points into the bytes given to pvsub_bundle_read_in_place()
	 * and is not freed by pvsub_bundle_release(): those bytes must outlive
	 * the member (and whoever it is handed on to) and stay unchanged */
	bool borrowed;
};

/* Largest manifest, signature or certificate member read from a bundle. */
#define PVSUB_BUNDLE_META_MAX (16u << 20)

struct pvsub_bundle {
	char *driver_name;
	struct pvsub_bundle_member driver, manifest, signature, cert;
};

/* Whether @name can be the driver's member name: a plain base name of at
 * most PVSUB_BUNDLE_NAME_MAX printable bytes, not hidden, not one of the
 * three fixed names. */
bool pvsub_bundle_driver_name_ok(const char *name) _nonnull_(1);

/*
 * Whether @len bytes at @data can be a bundle's driver: an x86-64 ELF
 * object, relocatable (a kernel module or driver object), shared or
 * executable -- whatever pvsub-scan certifies with a manifest -- checked as
 * pvsub_modsig_check_object() does.  A compressed file, a text file, a
 * 32-bit, big-endian or other-machine object is refused: 0 or -ENOEXEC with
 * the reason.
 */
int pvsub_bundle_check_driver(const uint8_t *data, size_t len, struct pvsub_diag *diag)
	_must_check_;

/* Serialise @b (nothing is taken over) into @out.  0, -EINVAL (bad driver
 * name; reason in @diag), -EIO (libarchive), -ENOMEM. */
int pvsub_bundle_write(const struct pvsub_bundle *b, struct pvsub_buf *out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 2);

/*
 * Parse @len bytes into @out (zeroed first; release with
 * pvsub_bundle_release() even on failure).  A driver larger than
 * @max_member bytes, or a manifest, signature or certificate larger than
 * PVSUB_BUNDLE_META_MAX (or @max_member), is refused.  0, -EINVAL with the
 * reason, -ENOMEM.
 */
int pvsub_bundle_read(const uint8_t *data, size_t len, size_t max_member, struct pvsub_bundle *out,
		      struct pvsub_diag *diag) _must_check_ _nonnull_(4);

/*
 * The same, except that the driver member is not copied where its bytes
 * lie whole in @data (an uncompressed bundle): then out->driver.data
 * points into @data and out->driver.borrowed is set.  For a caller that
 * holds the bundle's bytes anyway (pvsub-loader): a large driver is
 * neither copied nor given fresh pages.  Otherwise, and for every other
 * member, as pvsub_bundle_read().
 */
int pvsub_bundle_read_in_place(const uint8_t *data, size_t len, size_t max_member,
			       struct pvsub_bundle *out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(4);

/*
 * Write the four members into the existing directory @dir.  Each file is
 * written atomically; if one fails, the ones already written are removed.
 */
int pvsub_bundle_extract(const struct pvsub_bundle *b, const char *dir, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 2);

void pvsub_bundle_release(struct pvsub_bundle *b);

#endif
