/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: policy XML parsing, schema validation, pattern
 * compilation and the canonical form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/policy.h"
#include "libpvsub/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvsub_diag diag = {0};
	struct pvsub_policy *p = NULL;
	struct pvsub_buf canon = {0};
	const struct pvsub_pattern *pats;
	char text[3 * PVSUB_PATTERN_MAX * 2];
	size_t n;

	if (pvsub_policy_new_from_memory((const char *)data, size, "fuzz.xml", &p, &diag) < 0)
		return 0;
	pats = pvsub_policy_patterns(p, &n);
	for (size_t i = 0; i < n; i++) {
		if (pats[i].len == 0 || pats[i].len > PVSUB_PATTERN_MAX)
			abort();
		pvsub_pattern_format(&pats[i], text, sizeof(text));
	}
	if (pvsub_policy_canonical(p, &canon) < 0)
		abort();
	if (strlen(pvsub_policy_sha256_hex(p)) != 64)
		abort();
	pvsub_buf_release(&canon);
	pvsub_policy_free(p);
	return 0;
}
