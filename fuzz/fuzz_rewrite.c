/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the rewriter over one input as if it were an object
 * named with --rewrite.  Its policy holds patterns that real code is full
 * of, so most inputs that parse exercise every rule, the relocation and
 * symbol fixing and the table rewriting.  Whatever it writes must be an
 * ELF object pvsub can read again, and must scan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/image.h"
#include "libpvsub/policy.h"
#include "libpvsub/rewrite.h"
#include "libpvsub/scan.h"
#include "libpvsub/search.h"
#include "libpvsub/x86.h"

static const char policy_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<policy xmlns=\"urn:pvsub:policy:1\" id=\"fuzz\" version=\"1\" on-instruction=\"trap\">\n"
	"  <pattern id=\"mov\" bytes=\"48 89\"/>\n"
	"  <pattern id=\"neg\" bytes=\"ff ff\"/>\n"
	"  <pattern id=\"ret\" bytes=\"c3 ??\"/>\n"
	"  <pattern id=\"wrpkru\" bytes=\"0f 01 ef\"/>\n"
	"</policy>\n";

static struct pvsub_policy *policy;
static struct pvsub_matcher *matcher;
static struct pvsub_decoder *decoder;

static void setup(void)
{
	struct pvsub_diag diag = {0};
	const struct pvsub_pattern *pats;
	size_t n;

	if (pvsub_policy_new_from_memory(policy_xml, strlen(policy_xml), "fuzz", &policy, &diag) < 0)
		abort();
	pats = pvsub_policy_patterns(policy, &n);
	if (pvsub_matcher_new(pats, n, &matcher) < 0 || pvsub_decoder_new(&decoder) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvsub_rewrite_opts ro = {.policy = NULL};
	struct pvsub_rewrite_result *res = NULL;
	struct pvsub_diag diag = {0};

	if (!policy)
		setup();
	ro = (struct pvsub_rewrite_opts){.policy = policy, .matcher = matcher, .decoder = decoder};
	if (pvsub_rewrite_buffer(&ro, data, size, &res, &diag) < 0) {
		/* Every refusal of the input says why, in one line. */
		if (!diag.msg[0] || strchr(diag.msg, '\n'))
			abort();
		return 0;
	}
	for (size_t i = 0; i < res->n_refusals; i++)
		if (!res->refusals[i].reason[0] || strchr(res->refusals[i].reason, '\n'))
			abort();
	if (res->data) {
		struct pvsub_scan_opts so = {.policy = policy, .matcher = matcher, .decoder = decoder};
		struct pvsub_scan_result *sr = NULL;
		/* What the rewriter writes must be an object pvsub reads again. */
		if (pvsub_scan_buffer(&so, res->data, res->size, &sr, &diag) < 0)
			abort();
		pvsub_scan_result_free(sr);
	}
	pvsub_rewrite_result_free(res);
	return 0;
}
