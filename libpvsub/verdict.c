/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <string.h>

#include "libpvsub/verdict.h"

static const char *const names[] = {
	[PVSUB_VERDICT_CERTIFIED] = "certified",
	[PVSUB_VERDICT_LOAD_TIME] = "certified-with-load-time-checks",
	[PVSUB_VERDICT_REJECTED] = "rejected",
};
_Static_assert(PVSUB_ARRAY_SIZE(names) == PVSUB_VERDICT_COUNT, "a name for every verdict");

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
