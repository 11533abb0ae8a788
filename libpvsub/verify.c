/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/manifest_read.h"
#include "libpvsub/verify.h"

/* Everything one verification holds; released by ctx_release(). */
struct verify_ctx {
	struct pvsub_verify_request req; /* the caller's, zero-extended */
	struct pvsub_verify_result *res;

	/* the inputs, loose or from the bundle, and their names */
	const uint8_t *manifest, *sig, *bin;
	size_t manifest_len, sig_len, bin_len;
	const char *m_name, *b_name;
	struct pvsub_buf m_name_buf; /* "BUNDLE: manifest.xml" */
	struct pvsub_bundle bundle;

	struct pvsub_buf signer_pem;
	struct pvsub_manifest_info *info;
	struct pvsub_policy **profiles; /* the required built-in profiles */
	size_t n_profiles;
};

/* Record the failure of check @c in the result; returns @err (negative). */
static _printf_format_(5, 6) int fail(struct verify_ctx *x, enum pvsub_verify_status status,
				      enum pvsub_verify_check c, int err, const char *fmt, ...)
{
	struct pvsub_verify_result *res = x->res;
	va_list ap;

	res->status = status;
	res->failed = c;
	res->error = err;
	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
	pvsub_one_line(res->msg);
	return err;
}

static const char *reason(const struct pvsub_diag *d, int err)
{
	return d->msg[0] ? d->msg : strerror(-err);
}

/* What the signature check's errnos mean: a verdict on the inputs, or an
 * error that leaves them unjudged. */
static enum pvsub_verify_status crypto_status(int err)
{
	if (err == -EBADMSG || err == -EKEYREJECTED || err == -EKEYEXPIRED || err == -ENOKEY)
		return PVSUB_VERIFY_FAILED;
	return PVSUB_VERIFY_ERROR;
}

/* --- the request ---------------------------------------------------------- */

/* Copy @in as far as the caller's struct goes; a larger struct must hold
 * zeroes past ours, or the caller asks for something we cannot check. */
static int copy_request(struct verify_ctx *x, const struct pvsub_verify_request *in)
{
	const uint8_t *bytes = (const uint8_t *)in;

	if (in->sz < sizeof(in->sz))
		return fail(x, PVSUB_VERIFY_ERROR, PVSUB_VERIFY_CHECK_REQUEST, -EINVAL,
			    "verify request: size not set");
	for (size_t i = sizeof(x->req); i < in->sz; i++)
		if (bytes[i])
			return fail(x, PVSUB_VERIFY_ERROR, PVSUB_VERIFY_CHECK_REQUEST, -E2BIG,
				    "verify request: fields this library does not know");
	memcpy(&x->req, in, PVSUB_MIN(in->sz, sizeof(x->req)));
	return 0;
}

static int request_error(struct verify_ctx *x, const char *what)
{
	return fail(x, PVSUB_VERIFY_ERROR, PVSUB_VERIFY_CHECK_REQUEST, -EINVAL,
		    "verify request: %s", what);
}

/* The required profiles, loaded before any check so that a misspelt name is
 * a request error whatever the inputs hold. */
static int load_profiles(struct verify_ctx *x)
{
	const struct pvsub_verify_request *q = &x->req;
	struct pvsub_diag d = {{0}};

	if (q->n_require_profiles == 0)
		return 0;
	if (!q->require_profiles)
		return request_error(x, "profile count without profiles");
	x->profiles = calloc(q->n_require_profiles, sizeof(*x->profiles));
	if (!x->profiles)
		return fail(x, PVSUB_VERIFY_ERROR, PVSUB_VERIFY_CHECK_REQUEST, -ENOMEM,
			    "verify request: %s", strerror(ENOMEM));
	for (size_t i = 0; i < q->n_require_profiles; i++, x->n_profiles++) {
		const char *name = q->require_profiles[i] ? q->require_profiles[i] : "";
		int r = pvsub_policy_new_builtin(name, &x->profiles[i], &d);

		if (r < 0)
			return fail(x, PVSUB_VERIFY_ERROR, PVSUB_VERIFY_CHECK_REQUEST, r,
				    "verify request: %s", reason(&d, r));
	}
	return 0;
}

static int check_request(struct verify_ctx *x)
{
	const struct pvsub_verify_request *q = &x->req;

	if (!q->ca)
		return request_error(x, "no trust anchors");
	switch (q->inputs) {
	case PVSUB_VERIFY_MANIFEST:
		if (!q->manifest || !q->signature || !q->binary)
			return request_error(x, "manifest, signature and binary are all needed");
		x->manifest = q->manifest;
		x->manifest_len = q->manifest_len;
		x->sig = q->signature;
		x->sig_len = q->signature_len;
		x->bin = q->binary;
		x->bin_len = q->binary_len;
		x->m_name = q->manifest_name ? q->manifest_name : "manifest";
		x->b_name = q->binary_name ? q->binary_name : "binary";
		break;
	case PVSUB_VERIFY_BUNDLE:
		if (!q->bundle)
			return request_error(x, "no bundle");
		if (!q->bundle_name)
			x->req.bundle_name = "bundle";
		break;
	default:
		return request_error(x, "unknown kind of inputs");
	}
	return load_profiles(x);
}

/* --- the checks, in order ----------------------------------------------------- */

static int check_bundle(struct verify_ctx *x)
{
	const struct pvsub_verify_request *q = &x->req;
	struct pvsub_diag d = {{0}};
	size_t max = q->bundle_max_member ? q->bundle_max_member : PVSUB_VERIFY_MEMBER_MAX;
	struct pvsub_bundle *b = &x->bundle;
	int r;

	if (q->inputs != PVSUB_VERIFY_BUNDLE)
		return 0;
	if (q->keep_binary && q->binary_in_place)
		r = pvsub_bundle_read_in_place(q->bundle, q->bundle_len, max, b, &d);
	else
		r = pvsub_bundle_read(q->bundle, q->bundle_len, max, b, &d);
	if (r < 0)
		return fail(x, r == -EINVAL ? PVSUB_VERIFY_FAILED : PVSUB_VERIFY_ERROR,
			    PVSUB_VERIFY_CHECK_BUNDLE, r, "%s: %s", q->bundle_name, reason(&d, r));
	if (pvsub_buf_printf(&x->m_name_buf, "%s: %s", q->bundle_name, PVSUB_BUNDLE_MANIFEST) < 0)
		return fail(x, PVSUB_VERIFY_ERROR, PVSUB_VERIFY_CHECK_BUNDLE, -ENOMEM, "%s: %s",
			    q->bundle_name, strerror(ENOMEM));
	snprintf(x->res->driver_name, sizeof(x->res->driver_name), "%s", b->driver_name);
	x->manifest = b->manifest.data;
	x->manifest_len = b->manifest.len;
	x->sig = b->signature.data;
	x->sig_len = b->signature.len;
	x->bin = b->driver.data;
	x->bin_len = b->driver.len;
	x->m_name = x->m_name_buf.data;
	x->b_name = b->driver_name;
	return 0;
}

static int check_signature(struct verify_ctx *x)
{
	struct pvsub_diag d = {{0}};
	int r;

	r = pvsub_cms_verify_chain_signer(x->sig, x->sig_len, x->manifest, x->manifest_len,
					  x->req.ca, &x->signer_pem, x->res->signer,
					  sizeof(x->res->signer), &d);
	if (r < 0)
		return fail(x, crypto_status(r), PVSUB_VERIFY_CHECK_SIGNATURE, r, "%s: %s",
			    x->m_name, reason(&d, r));
	return 0;
}

static int check_schema(struct verify_ctx *x)
{
	struct pvsub_verify_result *res = x->res;
	struct pvsub_diag d = {{0}};
	int r;

	r = pvsub_manifest_read((const char *)x->manifest, x->manifest_len, &x->info, &d);
	if (r == -EINVAL)
		return fail(x, PVSUB_VERIFY_FAILED, PVSUB_VERIFY_CHECK_SCHEMA, r,
			    "%s: schema error: %s", x->m_name, d.msg);
	if (r < 0)
		return fail(x, PVSUB_VERIFY_ERROR, PVSUB_VERIFY_CHECK_SCHEMA, r, "%s: %s",
			    x->m_name, reason(&d, r));
	/* A loader links what a bundle holds: never a disk image. */
	if (x->info->image && x->req.inputs == PVSUB_VERIFY_BUNDLE)
		return fail(x, PVSUB_VERIFY_FAILED, PVSUB_VERIFY_CHECK_SCHEMA, -EINVAL,
			    "%s: an image manifest describes a disk image, not a driver: it "
			    "is never bundled",
			    x->m_name);
	res->manifest_read = true;
	res->verdict = x->info->verdict;
	memcpy(res->policy_sha256, x->info->policy_sha256, sizeof(res->policy_sha256));
	return 0;
}

static int hash_mismatch(struct verify_ctx *x, const char *detail)
{
	return fail(x, PVSUB_VERIFY_FAILED, PVSUB_VERIFY_CHECK_HASHES, -EBADMSG,
		    "%s: hash mismatch: %s", x->b_name, detail);
}

static int cannot_hash(struct verify_ctx *x, int r)
{
	return fail(x, PVSUB_VERIFY_ERROR, PVSUB_VERIFY_CHECK_HASHES, r, "%s: cannot hash",
		    x->b_name);
}

/* The whole object: size, then SHA-256. */
static int check_object_hash(struct verify_ctx *x)
{
	const struct pvsub_manifest_info *m = x->info;
	char hex[PVSUB_SHA256_HEX_LEN], detail[256];
	int r;

	if (x->bin_len != m->object_size) {
		snprintf(detail, sizeof(detail), "size %zu, the manifest says %" PRIu64, x->bin_len,
			 m->object_size);
		return hash_mismatch(x, detail);
	}
	r = pvsub_sha256_hex(x->bin, x->bin_len, hex);
	if (r < 0)
		return cannot_hash(x, r);
	if (strcmp(hex, m->object_sha256) != 0) {
		snprintf(detail, sizeof(detail), "SHA-256 %s, the manifest says %s", hex,
			 m->object_sha256);
		return hash_mismatch(x, detail);
	}
	return 0;
}

static int check_region_hash(struct verify_ctx *x, const struct pvsub_manifest_region *g)
{
	char hex[PVSUB_SHA256_HEX_LEN], detail[PVSUB_DIAG_MAX];
	int r;

	if (g->file_offset > x->bin_len || g->size > x->bin_len - g->file_offset) {
		snprintf(detail, sizeof(detail), "region %s lies outside the file", g->name);
		return hash_mismatch(x, detail);
	}
	r = pvsub_sha256_hex(x->bin + g->file_offset, g->size, hex);
	if (r < 0)
		return cannot_hash(x, r);
	if (strcmp(hex, g->sha256) != 0) {
		snprintf(detail, sizeof(detail), "region %s", g->name);
		return hash_mismatch(x, detail);
	}
	return 0;
}

static int check_hashes(struct verify_ctx *x)
{
	int r = check_object_hash(x);

	for (size_t i = 0; r == 0 && i < x->info->n_regions; i++)
		r = check_region_hash(x, &x->info->regions[i]);
	return r;
}

static int check_signer_cert(struct verify_ctx *x)
{
	const struct pvsub_bundle_member *cert = &x->bundle.cert;

	if (x->req.inputs != PVSUB_VERIFY_BUNDLE)
		return 0;
	if (x->signer_pem.len != cert->len ||
	    memcmp(x->signer_pem.data, cert->data, cert->len) != 0)
		return fail(x, PVSUB_VERIFY_FAILED, PVSUB_VERIFY_CHECK_SIGNER_CERT, -EBADMSG,
			    "%s: bad signature: %s is not the signer's certificate",
			    x->req.bundle_name, PVSUB_BUNDLE_CERT);
	return 0;
}

static int check_verdict(struct verify_ctx *x)
{
	if (!x->req.require_certified || pvsub_verdict_certifies(x->info->verdict))
		return 0;
	return fail(x, PVSUB_VERIFY_FAILED, PVSUB_VERIFY_CHECK_VERDICT, -EBADMSG,
		    "%s: verdict is not certified", x->m_name);
}

static int check_policy(struct verify_ctx *x)
{
	const struct pvsub_policy *want = x->req.require_policy;
	char id[160];

	if (!want || strcmp(x->info->policy_sha256, pvsub_policy_sha256_hex(want)) == 0)
		return 0;
	pvsub_quote(x->info->policy_id, strlen(x->info->policy_id), id, sizeof(id));
	return fail(x, PVSUB_VERIFY_FAILED, PVSUB_VERIFY_CHECK_POLICY, -EBADMSG,
		    "%s: policy mismatch: the manifest's policy %s has SHA-256 %s, the required "
		    "policy %s has %s",
		    x->m_name, id, x->info->policy_sha256, pvsub_policy_id(want),
		    pvsub_policy_sha256_hex(want));
}

static bool manifest_covers(const struct pvsub_manifest_info *m, const struct pvsub_pattern *want)
{
	for (size_t i = 0; i < m->n_patterns; i++)
		if (pvsub_pattern_covers(&m->patterns[i], want))
			return true;
	return false;
}

static int check_profile(struct verify_ctx *x, const char *name, const struct pvsub_policy *prof)
{
	const struct pvsub_pattern *pats;
	char bytes[3 * PVSUB_PATTERN_MAX * 2];
	size_t n = 0;

	pats = pvsub_policy_patterns(prof, &n);
	for (size_t i = 0; i < n; i++) {
		if (manifest_covers(x->info, &pats[i]))
			continue;
		pvsub_pattern_format(&pats[i], bytes, sizeof(bytes));
		return fail(x, PVSUB_VERIFY_FAILED, PVSUB_VERIFY_CHECK_PROFILES, -EBADMSG,
			    "%s: policy does not cover profile %s: no pattern for %s (%s)",
			    x->m_name, name, pats[i].id, bytes);
	}
	return 0;
}

static int check_profiles(struct verify_ctx *x)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < x->n_profiles; i++)
		r = check_profile(x, x->req.require_profiles[i], x->profiles[i]);
	return r;
}

const char *pvsub_verify_check_name(enum pvsub_verify_check c)
{
	static const char *const names[] = {
		[PVSUB_VERIFY_CHECK_NONE] = "none",
		[PVSUB_VERIFY_CHECK_REQUEST] = "request",
		[PVSUB_VERIFY_CHECK_BUNDLE] = "bundle",
		[PVSUB_VERIFY_CHECK_SIGNATURE] = "signature",
		[PVSUB_VERIFY_CHECK_SCHEMA] = "schema",
		[PVSUB_VERIFY_CHECK_HASHES] = "hashes",
		[PVSUB_VERIFY_CHECK_SIGNER_CERT] = "signer certificate",
		[PVSUB_VERIFY_CHECK_VERDICT] = "verdict",
		[PVSUB_VERIFY_CHECK_POLICY] = "policy",
		[PVSUB_VERIFY_CHECK_PROFILES] = "profiles",
	};

	if ((unsigned)c >= PVSUB_ARRAY_SIZE(names))
		return "unknown";
	return names[c];
}

/* The driver member and the manifest's patterns move from the bundle and
 * the manifest into the result: no copy. */
static void keep_binary(struct verify_ctx *x)
{
	struct pvsub_bundle_member *drv = &x->bundle.driver;

	if (!x->req.keep_binary || x->req.inputs != PVSUB_VERIFY_BUNDLE)
		return;
	x->res->binary = drv->data;
	x->res->binary_len = drv->len;
	x->res->binary_borrowed = drv->borrowed;
	drv->data = NULL;
	drv->len = 0;
	drv->borrowed = false;
	x->res->patterns = x->info->patterns;
	x->res->n_patterns = x->info->n_patterns;
	x->info->patterns = NULL;
	x->info->n_patterns = 0;
}

static void ctx_release(struct verify_ctx *x)
{
	for (size_t i = 0; i < x->n_profiles; i++)
		pvsub_policy_free(x->profiles[i]);
	free(x->profiles);
	pvsub_manifest_info_free(x->info);
	pvsub_buf_release(&x->signer_pem);
	pvsub_bundle_release(&x->bundle);
	pvsub_buf_release(&x->m_name_buf);
}

int pvsub_verify(const struct pvsub_verify_request *req, struct pvsub_verify_result *res)
{
	/* The order of the header's list; each check skips itself when the
	 * request does not ask for it. */
	static int (*const checks[])(struct verify_ctx *) = {
		check_request,	   check_bundle,  check_signature, check_schema,   check_hashes,
		check_signer_cert, check_verdict, check_policy,	   check_profiles,
	};
	struct verify_ctx x = {.res = res};
	int r;

	memset(res, 0, sizeof(*res));
	res->verdict = PVSUB_VERDICT_REJECTED;
	r = copy_request(&x, req);
	for (size_t i = 0; r == 0 && i < PVSUB_ARRAY_SIZE(checks); i++)
		r = checks[i](&x);
	if (r == 0)
		keep_binary(&x);
	ctx_release(&x);
	return r;
}

void pvsub_verify_result_release(struct pvsub_verify_result *res)
{
	if (!res->binary_borrowed)
		free(res->binary);
	res->binary = NULL;
	res->binary_len = 0;
	res->binary_borrowed = false;
	free(res->patterns);
	res->patterns = NULL;
	res->n_patterns = 0;
}
