/* SPDX-License-Identifier: MIT */
/*
 * manifest: writing the subtraction manifest (DESIGN §6, pvsub-manifest(5)).
 * Analysis area: it serialises scan and rewrite results.  Validating and
 * reading a manifest is manifest_read.h, in the trust area, so that a
 * verifier needs neither libelf nor capstone.
 *
 * An XML document, valid against schemas/pvsub-manifest.xsd, that binds the
 * tool, the policy (id, version, SHA-256 of its canonical form, patterns),
 * the certified object and the original it came from, each executable
 * section or segment with its SHA-256, every finding, every rewrite, the
 * relocation and mutable windows, every violation, and the verdict.
 *
 * Serialisation is canonical: elements in a fixed order, attributes in a
 * fixed order, lists sorted as the scan sorts them, no timestamps, UTF-8,
 * LF line ends, two-space indentation.  The same input and policy always give
 * the same bytes.
 */
#ifndef PVSUB_MANIFEST_H
#define PVSUB_MANIFEST_H

#include "libpvsub/crypto.h"
#include "libpvsub/policy.h"
#include "libpvsub/rewrite.h"
#include "libpvsub/scan.h"
#include "libpvsub/util.h"
#include "libpvsub/certify.h"

struct pvsub_manifest_input {
	const char *tool_name; /* "pvsub-scan" */
	const char *tool_version;
	const struct pvsub_policy *policy;
	const char *object_path;		/* display path of the certified object */
	const struct pvsub_scan_result *result; /* scan of the certified object */
	/* SHA-256 (hex) of the original the object came from; NULL when the
	 * object is the original (no rewrite). */
	const char *original_sha256;
	/* The rewriter's record (rewrites, refusals, sizes), or NULL. */
	const struct pvsub_rewrite_result *rewrite;
	/* The bzImage the object (its vmlinux) was decompressed from, or NULL:
	 * its path, size and hash. */
	const struct pvsub_boot_code *boot;
};

/*
 * Serialise the manifest into @out (appended).  The verdict is
 * pvsub_verdict_of_file(@in->result, @in->rewrite) (certify.h), the one
 * pvsub-scan reports for the file: `certified`, or
 * `certified-with-load-time-checks` or `rejected` with one <reason> per
 * finding class and violation kind (and one for the rewriter's refused
 * sites).  0 or -ENOMEM.
 */
int pvsub_manifest_write(const struct pvsub_manifest_input *in, struct pvsub_buf *out)
	_must_check_ _nonnull_(1, 2);

/*
 * The image manifest (pvsub-manifest(5), root element <image-manifest>):
 * what pvsub-scan found in one guest disk image, and the image's own size
 * and SHA-256, so that one signature binds the exact image scanned.
 */

/* What became of one file found in the image. */
enum pvsub_image_file_kind {
	PVSUB_IMAGE_FILE_SCANNED,     /* an ELF file: size, SHA-256 and verdict */
	PVSUB_IMAGE_FILE_NOT_SCANNED, /* an executable pvsub does not read */
	PVSUB_IMAGE_FILE_ERROR,	      /* unreadable, too large, a corrupt partition */
};

struct pvsub_image_file {
	/* Inside the image: "p2!/lib/x.ko", "p2!/boot/initrd.img!early.ko",
	 * "p3" for a partition, "" for the image itself. */
	const char *path;
	enum pvsub_image_file_kind kind;
	uint64_t size;	    /* SCANNED only */
	const char *sha256; /* SCANNED only: hex */
	/* The file's verdict as pvsub-scan reports it: pvsub_verdict_of_file()
	 * for SCANNED, pvsub_verdict_of_unscanned() for NOT_SCANNED; an ERROR
	 * is REJECTED whatever is said here. */
	enum pvsub_verdict verdict;
	/* NOT_SCANNED: the format; ERROR: the one-line reason; else NULL. */
	const char *detail;
};

struct pvsub_image_manifest_input {
	const char *tool_name;
	const char *tool_version;
	const struct pvsub_policy *policy;
	const char *image_path; /* display path of the image */
	const char *format;	/* "raw", "qcow2" */
	uint64_t size;		/* of the image file */
	const char *sha256;	/* of the image file, hex */
	const struct pvsub_image_file *files;
	size_t n_files; /* in the order pvsub-scan reported them */
};

/*
 * Serialise the image manifest of @in into @out (appended), canonically as
 * pvsub_manifest_write() does.  The image's verdict is the worst of its
 * files' (an ERROR counts as REJECTED; an image with no file is
 * certified: pvsub found nothing in it that executes), with one <reason>
 * per kind of file that keeps it from `certified`, counted.  0, -EINVAL for an
 * input without its names or hashes, or -ENOMEM.
 */
int pvsub_manifest_write_image(const struct pvsub_image_manifest_input *in, struct pvsub_buf *out)
	_must_check_ _nonnull_(1, 2);

#endif
