/* SPDX-License-Identifier: MIT */
/*
 * manifest: the subtraction manifest (DESIGN §6, pvsub-manifest(5)).
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
#include "libpvsub/verdict.h"

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
};

/*
 * Serialise the manifest into @out (appended).  The verdict is
 * pvsub_verdict_of_file(@in->result, @in->rewrite) (verdict.h), the one
 * pvsub-scan reports for the file: `certified`, or
 * `certified-with-load-time-checks` or `rejected` with one <reason> per
 * finding class and violation kind (and one for the rewriter's refused
 * sites).  0 or -ENOMEM.
 */
int pvsub_manifest_write(const struct pvsub_manifest_input *in, struct pvsub_buf *out)
	_must_check_ _nonnull_(1, 2);

/*
 * Validate @len bytes of XML against the manifest schema compiled into the
 * library, through the hardened reader (libpvsub/xml.h: no DTD, no entity,
 * no XInclude, nothing read from outside these bytes, at most 64 MiB), and
 * against the rules the schema cannot say.  0, or -EINVAL with the first
 * problem in @diag (line number and message); -EIO, -ENOMEM.  Thread-safe.
 */
int pvsub_manifest_validate(const char *xml, size_t len, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1);

/* ---- reading (pvsub-sign verify, the loader) ------------------------------- */

struct pvsub_manifest_region {
	char *name;
	bool is_segment;
	uint64_t file_offset;
	uint64_t size;
	char sha256[PVSUB_SHA256_HEX_LEN];
};

/* What a verifier needs from a manifest. */
struct pvsub_manifest_info {
	char *policy_id;
	uint64_t policy_version;
	char policy_sha256[PVSUB_SHA256_HEX_LEN];
	char *object_path;
	uint64_t object_size;
	char object_sha256[PVSUB_SHA256_HEX_LEN];
	enum pvsub_verdict verdict; /* <verdict result=...> */
	size_t n_regions;
	struct pvsub_manifest_region *regions;
};

/*
 * Validate @len bytes of XML as pvsub_manifest_validate() does, then extract
 * the fields above from the same parse into a new *@out (free with
 * pvsub_manifest_info_free()).  0, -EINVAL (not a valid manifest; reason in
 * @diag), -EIO, -ENOMEM.
 */
int pvsub_manifest_read(const char *xml, size_t len, struct pvsub_manifest_info **out,
			struct pvsub_diag *diag) _must_check_ _nonnull_(1, 3);
void pvsub_manifest_info_free(struct pvsub_manifest_info *info);

#endif
