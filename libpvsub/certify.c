/* SPDX-License-Identifier: MIT */
#include "libpvsub/certify.h"

enum pvsub_verdict pvsub_verdict_of_finding(const struct pvsub_finding *f)
{
	/* Only a relocation window's bytes are replaced, whole, before the
	 * code can run, by the loader that then rescans them. */
	return f->cls.cls == PVSUB_CLASS_RELOCATION ? PVSUB_VERDICT_LOAD_TIME
						    : PVSUB_VERDICT_REJECTED;
}

/* The verdicts are ordered from best to worst. */
static enum pvsub_verdict worse(enum pvsub_verdict a, enum pvsub_verdict b)
{
	return a > b ? a : b;
}

enum pvsub_verdict pvsub_verdict_of(const struct pvsub_scan_result *r)
{
	enum pvsub_verdict v = PVSUB_VERDICT_CERTIFIED;

	if (r->n_violations)
		return PVSUB_VERDICT_REJECTED;
	for (size_t i = 0; i < r->n_findings; i++)
		v = worse(v, pvsub_verdict_of_finding(&r->findings[i]));
	return v;
}

enum pvsub_verdict pvsub_verdict_of_unscanned(bool allow)
{
	return allow ? PVSUB_VERDICT_CERTIFIED : PVSUB_VERDICT_REJECTED;
}
