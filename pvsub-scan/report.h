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
 *            "module_signature" ({"size": N} or null), "verdict" (the
 *            manifest's token, verdict.h; null on error), and "deep"
 *            ({bytes, instructions, table_hits, undecoded_bytes,
 *            undecoded_runs}) only when the file was scanned with --deep,
 *            "format" (string) only for a file whose status is
 *            "not-scanned".
 *   summary: "clean" (files clean or rewritten: their verdict certifies),
 *            "load_time" (of those, certified with load-time checks),
 *            "status" (files by status), "verdict" (files by verdict
 *            token; files in error have none), "not_scanned" (files
 *            not scanned, allowed or not).
 *   root:    "policy" is null when the report was made without a policy.
 *
 * SARIF: a finding's level is "warning" when it leaves its file certified
 * with load-time checks (a relocation window), "error" otherwise; every
 * finding and violation has the file's verdict token in
 * properties["verdict"].
 *
 * A not-scanned file: text "PATH: not scanned: FORMAT" (with --rewrite
 * "...: cannot be rewritten, nothing written"); a SARIF result of rule
 * "not-scanned" (added when first met) at level "error", "note" when the
 * run allows it; a JUnit <failure> unless allowed.
 *
 * SARIF: one rule per pattern id of the policy (in policy order), then
 * "violation/KIND" for each violation kind, then "input-error"; kinds or
 * pattern ids met later that are not in this list get rules appended.  The
 * driver has no informationUri: pvsub has no web site, and its documentation
 * is the man page that rules' help texts name.
 *
 * Locations.  Every result (findings, violations, input errors) has one
 * physicalLocation whose region has "startLine": 1, which GitHub code
 * scanning requires; a finding's region also has the file offset of its
 * first byte as "byteOffset" and its length as "byteLength".  The artifact
 * URI is the file's display path with its on-disk part (before the first
 * '!') made absolute (with opts->cwd) and lexically normalised: under
 * opts->sarif_root it is relative to that directory, with uriBaseId
 * "%SRCROOT%" (run.originalUriBaseIds gives "%SRCROOT%" as a file: URI);
 * elsewhere it is an absolute file: URI.  Archive members follow as
 * "!MEMBER" (member names as they are in the archive).  Standard input is
 * the relative URI "-".  Bytes outside RFC 3986's unreserved set, '/' and
 * '!' are percent-encoded.  Without opts->sarif_root the URI is the display
 * path itself, percent-encoded, without uriBaseId.
 *
 * Fingerprints.  Results carry partialFingerprints["pvsubFinding/v2"],
 * "HASH:N": HASH is the hex SHA-256 of a material that names what was found
 * and where it is *identified*, not where the file happens to lie, and N
 * counts the results of this run with the same HASH (1 for the first, in
 * report order), as GitHub's own primaryLocationLineHash does, so that two
 * identical occurrences still differ.  The material is lines joined by
 * '\n':
 *   finding:    "pvsubFinding/v2", IDENTITY, LOCATION, PATTERN-ID, CONTEXT,
 *               and for a junction "pad P";
 *   violation:  "pvsubFinding/v2", IDENTITY, "violation/KIND", DETAIL;
 *   input error: "pvsubFinding/v2", IDENTITY, "input-error".
 * LOCATION is the section name ("A|B" for a junction), or "segment N"
 * ("segment N|segment M").  CONTEXT is the hex of the up to 8 bytes of the
 * same region before the occurrence, '.', the occurrence's bytes, '.', and
 * the up to 8 bytes after it (struct pvsub_finding): the offset is left
 * out, so an alert survives code being added above it.  IDENTITY is
 * pvsub_report_identity() of the display path: see there.
 *
 * JUnit: one <testsuite> in a <testsuites>, one <testcase> per file, with
 * at most one <failure> (a file whose verdict is rejected: its findings,
 * violations and refused sites, the first in the message, every one a line
 * of the text; a file certified with load-time checks passes) or
 * <error> (a file that could not be scanned), as the Ant JUnit schema
 * wants.  Every testcase and the testsuite have "time" in seconds (the
 * record's, and their sum); the testsuite has "timestamp" (opts, UTC,
 * without a zone), "hostname", "id" 0, "package", the policy as
 * <properties>, and empty <system-out/> and <system-err/>.
 *
 * The report copies the policy's id, version and hash (and, for SARIF, its
 * pattern ids) when it is created: the policy need not outlive it.
 */
#ifndef PVSUB_REPORT_H
#define PVSUB_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "libpvsub/policy.h"
#include "libpvsub/rewrite.h"
#include "libpvsub/scan.h"
#include "libpvsub/util.h"
#include "libpvsub/certify.h"

enum pvsub_report_format {
	PVSUB_REPORT_TEXT,
	PVSUB_REPORT_JSON,
	PVSUB_REPORT_SARIF,
};

/* Parse "text", "json", "sarif".  0 or -EINVAL. */
int pvsub_report_format_parse(const char *s, enum pvsub_report_format *out) _nonnull_(1, 2);

enum pvsub_file_status {
	PVSUB_FILE_CLEAN,    /* the verdict certifies (with or without load-time checks) */
	PVSUB_FILE_FINDINGS, /* rejected: findings or violations remain */
	PVSUB_FILE_REWRITTEN,
	PVSUB_FILE_ERROR,
	PVSUB_FILE_REFUSED, /* --rewrite: a site could not be changed; nothing written */
	/* An executable in a format pvsub does not scan (pvsub_item.format):
	 * its verdict is pvsub_verdict_of_unscanned(), nothing is written. */
	PVSUB_FILE_NOT_SCANNED,
	PVSUB_FILE_STATUS_COUNT
};
/* "clean", "findings", "rewritten", "error", "refused", "not-scanned" */
const char *pvsub_file_status_name(enum pvsub_file_status s);

/*
 * The status of a file that was scanned (into @r) and, with --rewrite,
 * rewritten (@rw), from its verdict (pvsub_verdict_of_file()): without @rw,
 * CLEAN when the verdict certifies, else FINDINGS; with @rw, REFUSED when
 * it does not, else REWRITTEN when the rewriter changed anything, CLEAN
 * when the input is handed on as it is.  Writing the output may still fail:
 * that is ERROR, the caller's to say.
 */
enum pvsub_file_status pvsub_file_status_of(const struct pvsub_scan_result *r,
					    const struct pvsub_rewrite_result *rw) _nonnull_(1);

struct pvsub_file_record {
	const char *path; /* display path */
	/* pvsub_file_status_of() @result and @rewrite, or ERROR. */
	enum pvsub_file_status status;
	const struct pvsub_scan_result *result; /* NULL for ERROR */
	const char *error;			/* one line, for ERROR */
	/* NOT_SCANNED: the format ("PE/COFF (x86-64)"), and whether the run
	 * allows such files (--allow-unscanned): the verdict derives from it. */
	const char *format;
	bool allow_unscanned;
	/* --rewrite: what the rewriter did (or refused), and where the output
	 * went (NULL when nothing was written). */
	const struct pvsub_rewrite_result *rewrite;
	const char *output;
	/* The command-line input the file was found under, as given (a file,
	 * a directory), or NULL: see pvsub_report_identity(). */
	const char *input;
	double seconds; /* time spent on the file (JUnit), 0 if not measured */
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
	/* SARIF: absolute, normalised directory that URIs are relative to
	 * (see above), and the absolute current directory that relative
	 * display paths start from.  NULL: URIs are display paths as given. */
	const char *sarif_root;
	const char *cwd;
	/* JUnit: when the run started (seconds since the epoch) and where. */
	int64_t junit_timestamp;
	const char *junit_hostname; /* NULL: "localhost" */
	/* Called right before the report writes to its stream (text output as
	 * each file is added, every format when finishing): pvsub-scan clears
	 * its progress line there.  May be NULL. */
	void (*before_write)(void *data);
	void *before_write_data;
};

struct pvsub_report;

int pvsub_report_new(const struct pvsub_report_opts *opts, FILE *out, struct pvsub_report **rep)
	_must_check_ _nonnull_(1, 2, 3);

/* Add one file (copied as needed; @rec may be freed afterwards).  Text
 * output is written immediately.  0, -ENOMEM or -EIO; -EINVAL after
 * pvsub_report_finish(), and for a record whose status is not ERROR and
 * disagrees with its verdict (a status other than pvsub_file_status_of()),
 * which is then neither written nor counted.  JUnit may be written before
 * or after finishing. */
int pvsub_report_add(struct pvsub_report *rep, const struct pvsub_file_record *rec)
	_must_check_ _nonnull_(1, 2);

/* Write what remains (summary; the whole JSON/SARIF document). 0 or -EIO. */
int pvsub_report_finish(struct pvsub_report *rep) _must_check_ _nonnull_(1);

/* JUnit XML: one <testcase> per file, one <failure> for a file with
 * findings, violations or refusals, an <error> for a file that could not be
 * scanned (see above).  0 or -EIO. */
int pvsub_report_write_junit(struct pvsub_report *rep, FILE *out) _must_check_ _nonnull_(1, 2);

struct pvsub_report_summary {
	size_t files, findings, violations, errors;
	size_t clean;	    /* status clean or rewritten: the verdict certifies */
	size_t load_time;   /* of those, certified with load-time checks */
	size_t not_scanned; /* status not-scanned, allowed or not */
};
void pvsub_report_get_summary(const struct pvsub_report *rep, struct pvsub_report_summary *s)
	_nonnull_(1, 2);

void pvsub_report_free(struct pvsub_report *rep);

/*
 * What identifies the file at display path @path in fingerprints, in
 * @out (appended, NUL-terminated): what stays the same when the file is
 * named another way or comes in the next version of its package.
 *
 *  - An archive member: the member path, every archive level below the
 *    file on disk ("data.tar.xz!lib/modules/.../kvm.ko"); the archive's own
 *    name, often versioned, is left out.
 *  - A file found in a directory named on the command line (@input): its
 *    path below that directory.
 *  - Any other file (named on the command line, or @input unknown): its
 *    file name.
 *
 * Then, in each '!'-separated part, path segments that are empty or "."
 * are dropped, ".." removes the segment before it, and the segment after
 * "lib/modules/" that is itself a directory (the kernel release) becomes
 * "*".  That last rule looks at the whole path, made absolute with @cwd
 * (may be NULL) when it is relative, so "lib/modules/" named as the input
 * directory still counts.  0 or -ENOMEM.
 */
int pvsub_report_identity(const char *path, const char *input, const char *cwd,
			  struct pvsub_buf *out) _must_check_ _nonnull_(1, 4);

#endif
