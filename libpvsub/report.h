/* SPDX-License-Identifier: MIT */
/*
 * report: what pvsub-scan tells people and machines.
 *
 * A report is fed one file record at a time, in output order, and written to
 * a stdio stream as it goes (text) or at the end (JSON, SARIF, which need the
 * summary or a single document).  A JUnit document can be produced from the
 * same records alongside any format.
 *
 * The JSON shape is a stable interface (pvsub-scan(1), DESIGN §5): keys may
 * be added, never renamed or removed.
 *
 * Keys added to the DESIGN §5 shape, always after the original ones, in this
 * order (2-space indentation, deterministic output):
 *   finding: "file_offset" (number), "instruction" (capstone text or null);
 *            junctions also "pad" (number) and either "sections" (the two
 *            section names) or "segment2" (the second segment index).
 *   file:    "size" and "sha256" of the whole file (null on error),
 *            "module_signature" ({"size": N} or null), and "deep"
 *            ({bytes, instructions, table_hits, undecoded_bytes,
 *            undecoded_runs}) only when the file was scanned with --deep.
 *   summary: "clean" (files clean or rewritten).
 *   root:    "policy" is null when the report was made without a policy.
 *
 * SARIF: one rule per pattern id of the policy (in policy order), then
 * "violation/KIND" for each violation kind, then "input-error"; kinds or
 * pattern ids met later that are not in this list get rules appended.
 * Results carry partialFingerprints["pvsubFinding/v1"], the SHA-256 of
 * "PATH\nSECTION-or-'segment N'\nOFFSET\nPATTERN" (plus "\nPAD" for a
 * junction).  Input errors are results of rule "input-error" and also
 * toolExecutionNotifications; executionSuccessful is false when any input
 * failed.
 *
 * The report copies the policy's id, version and hash (and, for SARIF, its
 * pattern ids) when it is created: the policy need not outlive it.
 */
#ifndef PVSUB_REPORT_H
#define PVSUB_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "libpvsub/policy.h"
#include "libpvsub/rewrite.h"
#include "libpvsub/scan.h"
#include "libpvsub/util.h"

enum pvsub_report_format {
	PVSUB_REPORT_TEXT,
	PVSUB_REPORT_JSON,
	PVSUB_REPORT_SARIF,
};

/* Parse "text", "json", "sarif".  0 or -EINVAL. */
int pvsub_report_format_parse(const char *s, enum pvsub_report_format *out) _nonnull_(1, 2);

enum pvsub_file_status {
	PVSUB_FILE_CLEAN,
	PVSUB_FILE_FINDINGS, /* findings or violations remain */
	PVSUB_FILE_REWRITTEN,
	PVSUB_FILE_ERROR,
	PVSUB_FILE_REFUSED, /* --rewrite: a site could not be changed; nothing written */
	PVSUB_FILE_STATUS_COUNT
};
/* "clean", "findings", "rewritten", "error", "refused" */
const char *pvsub_file_status_name(enum pvsub_file_status s);

struct pvsub_file_record {
	const char *path; /* display path */
	enum pvsub_file_status status;
	const struct pvsub_scan_result *result; /* NULL for ERROR */
	const char *error;			/* one line, for ERROR */
	/* --rewrite: what the rewriter did (or refused), and where the output
	 * went (NULL when nothing was written). */
	const struct pvsub_rewrite_result *rewrite;
	const char *output;
};

struct pvsub_report_opts {
	enum pvsub_report_format format;
	bool color;	       /* text only: ANSI colours */
	bool verbose;	       /* text only: list clean files too */
	const char *tool_name; /* "pvsub-scan" */
	const char *tool_version;
	const struct pvsub_policy *policy;
	bool want_junit; /* keep what pvsub_report_write_junit() needs */
	/* A --rewrite run: the text summary counts clean, rewritten, refused
	 * and error files. */
	bool rewrite;
};

struct pvsub_report;

int pvsub_report_new(const struct pvsub_report_opts *opts, FILE *out, struct pvsub_report **rep)
	_must_check_ _nonnull_(1, 2, 3);

/* Add one file (copied as needed; @rec may be freed afterwards).  Text
 * output is written immediately.  0, -ENOMEM or -EIO; -EINVAL after
 * pvsub_report_finish().  JUnit may be written before or after finishing. */
int pvsub_report_add(struct pvsub_report *rep, const struct pvsub_file_record *rec)
	_must_check_ _nonnull_(1, 2);

/* Write what remains (summary; the whole JSON/SARIF document). 0 or -EIO. */
int pvsub_report_finish(struct pvsub_report *rep) _must_check_ _nonnull_(1);

/* JUnit XML: one <testcase> per file, a <failure> per finding/violation,
 * an <error> for a file that could not be scanned.  0 or -EIO. */
int pvsub_report_write_junit(struct pvsub_report *rep, FILE *out) _must_check_ _nonnull_(1, 2);

struct pvsub_report_summary {
	size_t files, findings, violations, errors, clean;
};
void pvsub_report_get_summary(const struct pvsub_report *rep, struct pvsub_report_summary *s)
	_nonnull_(1, 2);

void pvsub_report_free(struct pvsub_report *rep);

#endif
