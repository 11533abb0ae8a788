/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <string.h>

#include "libpvsub/rewrite.h"
#include "libpvsub/verdict.h"

static const char *const names[] = {
	[PVSUB_VERDICT_CERTIFIED] = "certified",
	[PVSUB_VERDICT_LOAD_TIME] = "certified-with-load-time-checks",
	[PVSUB_VERDICT_REJECTED] = "rejected",
};
_Static_assert(PVSUB_ARRAY_SIZE(names) == PVSUB_VERDICT_COUNT, "a name for every verdict");

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

enum pvsub_verdict pvsub_verdict_of_file(const struct pvsub_scan_result *r,
					 const struct pvsub_rewrite_result *rw)
{
	if (rw && rw->n_refusals)
		return PVSUB_VERDICT_REJECTED;
	return pvsub_verdict_of(r);
}

bool pvsub_verdict_certifies(enum pvsub_verdict v)
{
	return v == PVSUB_VERDICT_CERTIFIED || v == PVSUB_VERDICT_LOAD_TIME;
}

const char *pvsub_verdict_name(enum pvsub_verdict v)
{
	if ((unsigned)v < PVSUB_ARRAY_SIZE(names))
		return names[v];
	return "rejected";
}

int pvsub_verdict_parse(const char *name, enum pvsub_verdict *out)
{
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(names); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum pvsub_verdict)i;
			return 0;
		}
	}
	return -EINVAL;
}
