/* SPDX-License-Identifier: MIT */
/*
 * verdict: whether one scanned file may be certified, decided in one place.
 *
 * Every exit status, summary line, report field and manifest that says
 * whether a file is certified derives from pvsub_verdict_of(); nothing else
 * in pvsub decides it.  The three states:
 *
 *   CERTIFIED   no occurrence and no layout violation in any byte that can
 *               execute as the file stands.  For a relocatable object this
 *               still presumes what DESIGN §8 requires of every loader: the
 *               final bytes are rescanned after relocation.
 *   LOAD_TIME   certified with load-time checks: every occurrence lies in a
 *               relocation window (its bytes are overwritten when the object
 *               is relocated), no violation.  Only a loader that rescans the
 *               final bytes after relocation (pvsub-loader) may run it.
 *   REJECTED    anything else: an occurrence outside relocation windows, a
 *               layout violation.  An occurrence in a kernel mutable window
 *               (patch-site) rejects too, because the bytes run unpatched
 *               whenever the kernel does not patch them and pvsub does not
 *               yet decide per window what the patched bytes can be.
 */
#ifndef PVSUB_VERDICT_H
#define PVSUB_VERDICT_H

#include <stdbool.h>

#include "libpvsub/scan.h"
#include "libpvsub/util.h"

enum pvsub_verdict {
	PVSUB_VERDICT_CERTIFIED,
	PVSUB_VERDICT_LOAD_TIME,
	PVSUB_VERDICT_REJECTED,
};

/* The verdict of the file scanned into @r. */
enum pvsub_verdict pvsub_verdict_of(const struct pvsub_scan_result *r) _nonnull_(1);

/* True for CERTIFIED and LOAD_TIME: the file may be signed and shipped. */
bool pvsub_verdict_certifies(enum pvsub_verdict v);

/* The manifest's token: "certified", "certified-with-load-time-checks",
 * "rejected". */
const char *pvsub_verdict_name(enum pvsub_verdict v);

/* The verdict named @name (a token above); -EINVAL for any other string. */
int pvsub_verdict_parse(const char *name, enum pvsub_verdict *out) _must_check_ _nonnull_(1, 2);

#endif
