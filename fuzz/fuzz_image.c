/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the ELF image model, then the whole scan (search,
 * junctions, classification) and the deep sweep, over one input as if it
 * were a file named on the command line.
 */
#include <stdint.h>
#include <stdlib.h>

#include "libpvsub/image.h"
#include "libpvsub/kmeta.h"
#include "libpvsub/policy.h"
#include "libpvsub/scan.h"
#include "libpvsub/search.h"
#include "libpvsub/x86.h"

static struct pvsub_policy *policy;
static struct pvsub_matcher *matcher;
static struct pvsub_decoder *decoder;

static void setup(void)
{
	struct pvsub_diag diag = {0};
	const struct pvsub_pattern *pats;
	size_t n;

	if (pvsub_policy_new_builtin("default", &policy, &diag) < 0)
		abort();
	pats = pvsub_policy_patterns(policy, &n);
	if (pvsub_matcher_new(pats, n, &matcher) < 0 || pvsub_decoder_new(&decoder) < 0)
		abort();
}

/* Walk everything the model exposes, so that lazily built parts run too. */
static void walk_image(const uint8_t *data, size_t size)
{
	struct pvsub_diag diag = {0};
	struct pvsub_image *img = NULL;
	size_t n, pad;

	if (pvsub_image_new(data, size, &img, &diag) < 0)
		return;
	n = pvsub_image_region_count(img);
	for (size_t i = 0; i < n; i++) {
		const struct pvsub_region *rg = pvsub_image_region(img, i);
		const struct pvsub_code_start *cs;
		const struct pvsub_reloc_window *w;
		size_t ncs, nw;
		volatile uint8_t sink = 0;

		/* Every byte a region claims must be readable. */
		for (size_t k = 0; k < rg->size; k += 997)
			sink ^= rg->bytes[k];
		if (rg->size)
			sink ^= rg->bytes[rg->size - 1];
		if (pvsub_image_code_starts(img, i, &cs, &ncs) == 0)
			for (size_t k = 0; k < ncs; k++)
				if (cs[k].pos >= rg->size && rg->size)
					abort();
		if (pvsub_image_reloc_windows(img, i, &w, &nw) == 0)
			for (size_t k = 0; k < nw; k++)
				if (w[k].pos + w[k].size > rg->size)
					abort();
		{
			const struct pvsub_kaslr_window *kw;
			size_t nk;

			/* KASLR windows: inside the region, sorted, apart. */
			if (pvsub_image_kaslr_windows(img, i, &kw, &nk) == 0)
				for (size_t k = 0; k < nk; k++)
					if (kw[k].pos + kw[k].size > rg->size ||
					    (k && kw[k].pos < kw[k - 1].pos + kw[k - 1].size))
						abort();
		}
		{
			const struct pvsub_mwindow *mw;
			size_t nm;

			/* Kernel mutable windows: whole in the region at
			 * offset - origin, sorted by offset. */
			if (pvsub_image_mutable_windows(img, i, &mw, &nm) == 0)
				for (size_t k = 0; k < nm; k++) {
					uint64_t pos = mw[k].offset - (uint64_t)rg->origin;

					if (pos > rg->size || mw[k].len > rg->size - pos ||
					    mw[k].len > PVSUB_MWINDOW_MAX_LEN ||
					    (k && mw[k].offset < mw[k - 1].offset))
						abort();
				}
		}
		for (size_t j = 0; j < n && j < 64; j++)
			(void)pvsub_image_may_adjoin(img, i, j, &pad);
		(void)sink;
	}
	for (size_t i = 0; i < pvsub_image_violation_count(img); i++)
		(void)pvsub_image_violation(img, i)->kind;
	(void)pvsub_image_modsig(img);
	pvsub_image_free(img);
}

static void scan(const uint8_t *data, size_t size, bool deep)
{
	struct pvsub_scan_opts so = {
		.policy = policy,
		.matcher = matcher,
		.decoder = decoder,
		.deep = deep,
		.hashes = !deep,
	};
	struct pvsub_scan_result *res = NULL;
	struct pvsub_diag diag = {0};

	if (pvsub_scan_buffer(&so, data, size, &res, &diag) == 0)
		pvsub_scan_result_free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!policy)
		setup();
	walk_image(data, size);
	scan(data, size, false);
	scan(data, size, true);
	return 0;
}
