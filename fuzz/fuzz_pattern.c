/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: one pattern expression (DESIGN §3 byte tokens), the
 * part of the policy parser that does its own string handling, then a
 * matcher built from it searching the input bytes themselves.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/policy.h"
#include "libpvsub/search.h"

static int on_hit(void *data, size_t offset, size_t pattern)
{
	size_t *len = data;

	if (offset >= *len)
		abort();
	(void)pattern;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvsub_pattern *pats = NULL;
	struct pvsub_matcher *m = NULL;
	struct pvsub_diag diag = {0};
	char *expr;
	size_t n = 0;

	expr = malloc(size + 1);
	if (!expr)
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';
	if (pvsub_pattern_compile("fuzz", expr, &pats, &n, &diag) == 0 && n > 0) {
		char text[3 * PVSUB_PATTERN_MAX * 2];

		for (size_t i = 0; i < n; i++)
			pvsub_pattern_format(&pats[i], text, sizeof(text));
		if (pvsub_matcher_new(pats, n, &m) == 0)
			(void)pvsub_matcher_search(m, data, size, on_hit, &size);
		pvsub_matcher_free(m);
	}
	free(pats);
	free(expr);
	return 0;
}
