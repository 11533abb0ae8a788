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
 */
#ifndef PVSUB_REPORT_H
#define PVSUB_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "libpvsub/policy.h"
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
	PVSUB_FILE_FINDINGS,     /* findings or violations remain */
	PVSUB_FILE_REWRITTEN,
	PVSUB_FILE_ERROR,
};
/* "clean", "findings", "rewritten", "error" */
const char *pvsub_file_status_name(enum pvsub_file_status s);

struct pvsub_file_record {
	const char *path;                        /* display path */
	enum pvsub_file_status status;
	const struct pvsub_scan_result *result;  /* NULL for ERROR */
	const char *error;                       /* one line, for ERROR */
};

struct pvsub_report_opts {
	enum pvsub_report_format format;
	bool color;            /* text only: ANSI colours */
	bool verbose;          /* text only: list clean files too */
	const char *tool_name; /* "pvsub-scan" */
	const char *tool_version;
	const struct pvsub_policy *policy;
	bool want_junit;       /* keep what pvsub_report_write_junit() needs */
};

struct pvsub_report;

int pvsub_report_new(const struct pvsub_report_opts *opts, FILE *out, struct pvsub_report **rep)
	_must_check_ _nonnull_(1, 2, 3);

/* Add one file (copied as needed; @rec may be freed afterwards).  Text
 * output is written immediately.  0, -ENOMEM or -EIO. */
int pvsub_report_add(struct pvsub_report *rep, const struct pvsub_file_record *rec) _must_check_
	_nonnull_(1, 2);

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
