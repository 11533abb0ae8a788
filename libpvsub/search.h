/* SPDX-License-Identifier: MIT */
/*
 * search: complete masked multi-pattern search.
 *
 * Completeness is the product: every byte offset of the buffer is a candidate
 * start, including offset 0 and the last len-1 bytes' worth of starts that
 * still fit.  The matcher is built once per policy and is read-only
 * afterwards, so many threads may search with one matcher.
 *
 * How it is fast: each pattern is anchored on its most selective pair of
 * adjacent bytes; a 64 Ki-bit table keyed by the 16-bit value at every offset
 * says whether any anchor can match there, and only then are the candidate
 * patterns verified.  Patterns of length 1 are handled by a 256-entry table.
 */
#ifndef PVSUB_SEARCH_H
#define PVSUB_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "libpvsub/policy.h"
#include "libpvsub/util.h"

struct pvsub_matcher;

/* Build a matcher for @n patterns (copied).  -EINVAL for n == 0 or a bad
 * pattern, -ENOMEM. */
int pvsub_matcher_new(const struct pvsub_pattern *pats, size_t n, struct pvsub_matcher **out)
	_must_check_ _nonnull_(1, 3);
void pvsub_matcher_free(struct pvsub_matcher *m);

/* Longest pattern length (the overlap needed between adjacent chunks). */
size_t pvsub_matcher_max_len(const struct pvsub_matcher *m) _nonnull_(1);
size_t pvsub_matcher_count(const struct pvsub_matcher *m) _nonnull_(1);
const struct pvsub_pattern *pvsub_matcher_pattern(const struct pvsub_matcher *m, size_t i)
	_nonnull_(1);

/*
 * Called for each occurrence, in ascending (offset, pattern index) order.
 * Return 0 to go on, anything else to stop the search (returned as is).
 */
typedef int (*pvsub_match_fn)(void *data, size_t offset, size_t pattern);

/* Search @len bytes at @buf.  Returns 0, or the first non-zero callback value. */
int pvsub_matcher_search(const struct pvsub_matcher *m, const uint8_t *buf, size_t len,
			 pvsub_match_fn fn, void *data) _nonnull_(1, 4);

/* True if pattern @p occurs at @buf (which has at least p->len bytes). */
static inline int pvsub_pattern_matches(const struct pvsub_pattern *p, const uint8_t *buf)
{
	for (unsigned i = 0; i < p->len; i++)
		if ((buf[i] & p->mask[i]) != p->value[i])
			return 0;
	return 1;
}

#endif
