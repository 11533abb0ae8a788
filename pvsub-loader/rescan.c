/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/search.h"
#include "pvsub-loader/rescan.h"

static bool same_bytes(const struct pvsub_pattern *a, const struct pvsub_pattern *b)
{
	return a->len == b->len && memcmp(a->value, b->value, a->len) == 0 &&
	       memcmp(a->mask, b->mask, a->len) == 0;
}

/* The patterns of every policy, each byte string once, into a new array. */
static int pattern_union(const struct loader_policy *pols, size_t n, struct pvsub_pattern **out,
			 size_t *n_out)
{
	struct pvsub_pattern *all;
	size_t total = 0, k = 0;

	for (size_t i = 0; i < n; i++) {
		if (pols[i].n > SIZE_MAX / sizeof(*all) - total)
			return -ENOMEM;
		total += pols[i].n;
	}
	if (total == 0)
		return -EINVAL;
	all = malloc(total * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < pols[i].n; j++) {
			const struct pvsub_pattern *p = &pols[i].pats[j];
			bool seen = false;

			for (size_t m = 0; m < k && !seen; m++)
				seen = same_bytes(&all[m], p);
			if (!seen)
				all[k++] = *p;
		}
	}
	*out = all;
	*n_out = k;
	return 0;
}

struct first_hit {
	size_t offset, pattern;
};

static int stop_at_first(void *data, size_t offset, size_t pattern)
{
	struct first_hit *h = data;

	h->offset = offset;
	h->pattern = pattern;
	return 1;
}

int loader_rescan(const struct loader_policy *pols, size_t n, const uint8_t *code, size_t len,
		  struct loader_hit *hit)
{
	struct pvsub_pattern *pats = NULL;
	struct pvsub_matcher *m = NULL;
	struct first_hit h = {0};
	size_t n_pats = 0;
	int r;

	r = pattern_union(pols, n, &pats, &n_pats);
	if (r < 0)
		goto out;
	r = pvsub_matcher_new(pats, n_pats, &m);
	if (r < 0)
		goto out;
	r = pvsub_matcher_search(m, code, len, stop_at_first, &h);
	if (r == 1) {
		hit->offset = h.offset;
		hit->pattern = *pvsub_matcher_pattern(m, h.pattern);
	}
out:
	pvsub_matcher_free(m);
	free(pats);
	return r;
}
