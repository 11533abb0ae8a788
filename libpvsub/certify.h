/* SPDX-License-Identifier: MIT */
/*
 * certify: the verdict of one scanned file, decided in one place.
 *
 * Every exit status, file status, summary line, report field and manifest
 * that says whether a file is certified derives from pvsub_verdict_of()
 * (through rewrite.h's pvsub_verdict_of_file() for what --rewrite hands
 * on), and the
 * rewriter accepts an output only when its verdict certifies; nothing else
 * in pvsub decides it.  The states and what each means are verdict.h.
 */
#ifndef PVSUB_CERTIFY_H
#define PVSUB_CERTIFY_H

#include "libpvsub/scan.h"
#include "libpvsub/util.h"
#include "libpvsub/verdict.h"

/* What the one finding @f allows: LOAD_TIME for an occurrence in a
 * relocation window, REJECTED for every other class. */
enum pvsub_verdict pvsub_verdict_of_finding(const struct pvsub_finding *f) _nonnull_(1);

/* The verdict of the file scanned into @r: REJECTED with any violation,
 * else the worst of its findings' (CERTIFIED when there is none). */
enum pvsub_verdict pvsub_verdict_of(const struct pvsub_scan_result *r) _nonnull_(1);

/* The verdict of an executable that pvsub does not scan (a format it does
 * not read: pvsub_item.format): REJECTED, since gate opcodes in it were
 * never looked for, unless @allow (pvsub-scan --allow-unscanned) says the
 * run accepts such files; then CERTIFIED, meaning only that it does not
 * count against the run: no manifest is made for it. */
enum pvsub_verdict pvsub_verdict_of_unscanned(bool allow);

#endif
