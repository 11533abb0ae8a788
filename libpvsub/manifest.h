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
	 * its path, and its size and hash from @boot. */
	const char *boot_image_path;
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

#endif
