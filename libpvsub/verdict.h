/* SPDX-License-Identifier: MIT */
/*
 * verdict: the three states of a file's certification, and their names.
 *
 * Trust area: what a manifest says and a verifier checks.  Deciding a
 * file's verdict from its scan is certify.h, in the analysis area; every
 * exit status, file status, summary line, report field and manifest that
 * says whether a file is certified derives from it.  The three states:
 *
 *   CERTIFIED   no occurrence and no layout violation in any byte that can
 *               execute as the file stands.  For a relocatable object this
 *               still presumes what DESIGN §8 requires of every loader: the
 *               final bytes are rescanned after relocation.
 *   LOAD_TIME   certified with load-time checks: every occurrence lies in a
 *               relocation window (bytes that a relocation overwrites when
 *               the object is loaded), no violation.  Only a loader that
 *               rescans the final bytes after relocation (pvsub-loader) may
 *               run it; pvsub-scan exits 0 for it.
 *   REJECTED    anything else: an occurrence of any other class, or a layout
 *               violation.  An occurrence in a kernel mutable window
 *               (patch-site) rejects too: those bytes run as they are
 *               whenever the kernel does not patch them, and pvsub does not
 *               yet decide per window what the patched bytes can be, so no
 *               load-time check covers them.
 */
#ifndef PVSUB_VERDICT_H
#define PVSUB_VERDICT_H

#include <stdbool.h>

#include "libpvsub/util.h"

enum pvsub_verdict {
	PVSUB_VERDICT_CERTIFIED,
	PVSUB_VERDICT_LOAD_TIME,
	PVSUB_VERDICT_REJECTED,
	PVSUB_VERDICT_COUNT
};

/* True for CERTIFIED and LOAD_TIME: the file may be signed and shipped. */
bool pvsub_verdict_certifies(enum pvsub_verdict v);

/* The manifest's token: "certified", "certified-with-load-time-checks",
 * "rejected" (for any value out of range too). */
const char *pvsub_verdict_name(enum pvsub_verdict v);

/* The verdict named @name (a token above); -EINVAL for any other string. */
int pvsub_verdict_parse(const char *name, enum pvsub_verdict *out) _must_check_ _nonnull_(1, 2);

#endif
