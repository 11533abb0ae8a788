/* SPDX-License-Identifier: MIT */
/*
 * pvsub_verify(): every check with the attack it stops and a control that
 * passes.  Manifests are written by pvsub_manifest_write() from a scan
 * result built here over a made-up binary, so their policy SHA-256 is the
 * one pvsub-scan writes; keys and certificates come from signfix.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/bundle.h"
#include "libpvsub/manifest.h"
#include "libpvsub/verify.h"
#include "tests/unit/signfix.h"

static struct signfix fx;

static void setup(void)
{
	signfix_make(&fx);
}

static void teardown(void)
{
	signfix_remove(&fx);
}

/* ---- inputs ---------------------------------------------------------------- */

#define BIN_LEN 256
#define REGION_OFF 64
#define REGION_LEN 32

static uint8_t bin[BIN_LEN];

static void make_bin(void)
{
	for (size_t i = 0; i < BIN_LEN; i++)
		bin[i] = (uint8_t)(i * 7 + 3);
}

enum outcome { CLEAN, LOAD_TIME, REJECTED, BAD_REGION_HASH, REGION_OUTSIDE };

static struct pvsub_policy *policy(const char *name_or_xml)
{
	struct pvsub_policy *p = NULL;
	struct pvsub_diag d = {{0}};
	int r;

	if (name_or_xml[0] == '<')
		r = pvsub_policy_new_from_memory(name_or_xml, strlen(name_or_xml), "test", &p, &d);
	else
		r = pvsub_policy_new_builtin(name_or_xml, &p, &d);
	cr_assert_eq(r, 0, "%s: %s", name_or_xml, d.msg);
	return p;
}

/* The manifest of bin[] scanned under @policy_name: one region, and one
 * finding whose class gives the verdict @o asks for. */
static void manifest(const char *policy_name, enum outcome o, struct pvsub_buf *out)
{
	static char sec[] = ".text";
	struct pvsub_policy *p = policy(policy_name);
	size_t n = 0;
	const struct pvsub_pattern *pats = pvsub_policy_patterns(p, &n);
	struct pvsub_region_summary g = {
		.name = sec, .index = 1, .file_offset = REGION_OFF, .size = REGION_LEN};
	struct pvsub_finding f = {.pattern = &pats[0],
				  .section = sec,
				  .segment = -1,
				  .segment2 = -1,
				  .offset = 4,
				  .file_offset = REGION_OFF + 4,
				  .len = pats[0].len};
	struct pvsub_scan_result res = {.kind = PVSUB_ELF_REL,
					.machine = 62,
					.size = BIN_LEN,
					.regions = &g,
					.n_regions = 1};
	struct pvsub_manifest_input in = {.tool_name = "pvsub-scan",
					  .tool_version = "0.1.0",
					  .policy = p,
					  .object_path = "drv.ko",
					  .result = &res};

	cr_assert_eq(pvsub_sha256_hex(bin, BIN_LEN, res.sha256), 0);
	cr_assert_eq(pvsub_sha256_hex(bin + REGION_OFF, REGION_LEN, g.sha256), 0);
	if (o == BAD_REGION_HASH)
		g.sha256[0] = g.sha256[0] == '0' ? '1' : '0';
	if (o == REGION_OUTSIDE)
		g.file_offset = BIN_LEN - REGION_LEN / 2;
	memcpy(f.bytes, pats[0].value, pats[0].len);
	f.cls.cls = o == LOAD_TIME ? PVSUB_CLASS_RELOCATION : PVSUB_CLASS_EMBEDDED;
	if (o == LOAD_TIME || o == REJECTED) {
		res.findings = &f;
		res.n_findings = 1;
	}
	cr_assert_eq(pvsub_manifest_write(&in, out), 0);
	pvsub_policy_free(p);
}

static void sign(const char *key, const char *cert, const struct pvsub_buf *m,
		 struct pvsub_buf *sig)
{
	struct pvsub_signer *s = NULL;
	struct pvsub_diag d = {{0}};

	cr_assert_eq(pvsub_signer_load(key, cert, NULL, &s, &d), 0, "%s", d.msg);
	cr_assert_eq(pvsub_cms_sign(s, PVSUB_HASH_SHA256, 0, m->data, m->len, sig, &d), 0, "%s",
		     d.msg);
	pvsub_signer_free(s);
}

static void slurp(const char *path, struct pvsub_buf *out)
{
	uint8_t *data = NULL;
	size_t len = 0;

	cr_assert_eq(pvsub_read_file(path, 1 << 20, &data, &len, NULL), 0, "%s", path);
	cr_assert_eq(pvsub_buf_append(out, data, len), 0);
	free(data);
}

/* bin[] made afresh, its manifest under @policy_name, and that signed by
 * the test signer. */
static void signed_manifest(const char *policy_name, enum outcome o, struct pvsub_buf *m,
			    struct pvsub_buf *sig)
{
	make_bin();
	manifest(policy_name, o, m);
	sign(fx.key, fx.cert, m, sig);
}

/* Trust anchors from the PEM files @a and (if not NULL) @b together. */
static struct pvsub_trust *anchors(const char *a, const char *b)
{
	struct pvsub_buf pem = {0};
	struct pvsub_trust *t = NULL;
	struct pvsub_diag d = {{0}};

	slurp(a, &pem);
	if (b)
		slurp(b, &pem);
	cr_assert_eq(pvsub_trust_load_mem(pem.data, pem.len, &t, &d), 0, "%s", d.msg);
	pvsub_buf_release(&pem);
	return t;
}

/* A bundle of bin[] as drv.ko, @m, @sig and the certificate in @cert_path. */
static void bundle(const struct pvsub_buf *m, const struct pvsub_buf *sig, const char *cert_path,
		   struct pvsub_buf *out)
{
	struct pvsub_buf cert = {0};
	struct pvsub_diag d = {{0}};
	char name[] = "drv.ko";
	struct pvsub_bundle b = {
		.driver_name = name,
		.driver = {bin, BIN_LEN},
		.manifest = {(uint8_t *)m->data, m->len},
		.signature = {(uint8_t *)sig->data, sig->len},
	};

	slurp(cert_path, &cert);
	b.cert = (struct pvsub_bundle_member){(uint8_t *)cert.data, cert.len};
	cr_assert_eq(pvsub_bundle_write(&b, out, &d), 0, "%s", d.msg);
	pvsub_buf_release(&cert);
}

/* A request for the loose inputs; the test adds expectations. */
static struct pvsub_verify_request loose(const struct pvsub_buf *m, const struct pvsub_buf *sig,
					 const struct pvsub_trust *ca)
{
	return (struct pvsub_verify_request){
		.sz = sizeof(struct pvsub_verify_request),
		.inputs = PVSUB_VERIFY_MANIFEST,
		.manifest = (const uint8_t *)m->data,
		.manifest_len = m->len,
		.manifest_name = "drv.xml",
		.signature = (const uint8_t *)sig->data,
		.signature_len = sig->len,
		.binary = bin,
		.binary_len = BIN_LEN,
		.binary_name = "drv.ko",
		.ca = ca,
	};
}

static struct pvsub_verify_request bundled(const struct pvsub_buf *b, const struct pvsub_trust *ca)
{
	return (struct pvsub_verify_request){
		.sz = sizeof(struct pvsub_verify_request),
		.inputs = PVSUB_VERIFY_BUNDLE,
		.bundle = (const uint8_t *)b->data,
		.bundle_len = b->len,
		.bundle_name = "drv.tar",
		.ca = ca,
	};
}

static void expect_pass(const struct pvsub_verify_request *q, struct pvsub_verify_result *res)
{
	int r = pvsub_verify(q, res);

	cr_assert_eq(r, 0, "%s", res->msg);
	cr_assert_eq(res->status, PVSUB_VERIFY_PASSED);
	cr_assert_eq(res->failed, PVSUB_VERIFY_CHECK_NONE);
	cr_assert_eq(res->error, 0);
	cr_assert_str_empty(res->msg);
	cr_assert(res->manifest_read);
	cr_assert_str_eq(res->signer, "/CN=pvsub test signer");
}

/* A failure of @check with @err whose message contains @words. */
static void expect_fail(const struct pvsub_verify_request *q, enum pvsub_verify_check check,
			int err, const char *words)
{
	struct pvsub_verify_result res;
	int r = pvsub_verify(q, &res);

	cr_assert_eq(r, err, "%d, not %d: %s", r, err, res.msg);
	cr_assert_eq(res.error, err);
	cr_assert_eq(res.status, PVSUB_VERIFY_FAILED, "%s", res.msg);
	cr_assert_eq(res.failed, check, "failed %s, not %s: %s",
		     pvsub_verify_check_name(res.failed), pvsub_verify_check_name(check), res.msg);
	cr_assert(strstr(res.msg, words), "'%s' not in '%s'", words, res.msg);
	cr_assert_null(strchr(res.msg, '\n'));
}

/* ---- signature, chain, schema, hashes -------------------------------------- */

Test(verify, manifest_and_binary_pass, .init = setup, .fini = teardown)
{
	struct pvsub_buf m = {0}, sig = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL);
	struct pvsub_policy *p = policy("default");
	struct pvsub_verify_request q;
	struct pvsub_verify_result res;

	signed_manifest("default", CLEAN, &m, &sig);
	q = loose(&m, &sig, ca);
	expect_pass(&q, &res);
	cr_assert_eq(res.verdict, PVSUB_VERDICT_CERTIFIED);
	cr_assert_str_eq(res.policy_sha256, pvsub_policy_sha256_hex(p));
	cr_assert_str_empty(res.driver_name);
	pvsub_policy_free(p);
	pvsub_trust_free(ca);
	pvsub_buf_release(&sig);
	pvsub_buf_release(&m);
}

Test(verify, any_flipped_byte_fails, .init = setup, .fini = teardown, .timeout = 600)
{
	struct pvsub_buf m = {0}, sig = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL);
	struct pvsub_verify_request q;
	struct pvsub_verify_result res;

	signed_manifest("default", CLEAN, &m, &sig);
	q = loose(&m, &sig, ca);
	for (size_t i = 0; i < BIN_LEN; i++) {
		bin[i] ^= 0x01;
		expect_fail(&q, PVSUB_VERIFY_CHECK_HASHES, -EBADMSG,
			    "drv.ko: hash mismatch: SHA-256");
		bin[i] ^= 0x01;
	}
	for (size_t i = 0; i < m.len; i++) {
		m.data[i] ^= 0x01;
		expect_fail(&q, PVSUB_VERIFY_CHECK_SIGNATURE, -EBADMSG, "drv.xml: bad signature");
		m.data[i] ^= 0x01;
	}
	for (size_t i = 0; i < sig.len; i++) {
		sig.data[i] ^= 0x01;
		cr_assert_neq(pvsub_verify(&q, &res), 0, "signature byte %zu", i);
		cr_assert_eq(res.failed, PVSUB_VERIFY_CHECK_SIGNATURE, "byte %zu: %s", i, res.msg);
		cr_assert_neq(res.status, PVSUB_VERIFY_PASSED);
		cr_assert_not(res.manifest_read);
		cr_assert_eq(res.verdict, PVSUB_VERDICT_REJECTED);
		sig.data[i] ^= 0x01;
	}
	/* the size too, and the control: untouched, it passes */
	q.binary_len--;
	expect_fail(&q, PVSUB_VERIFY_CHECK_HASHES, -EBADMSG, "hash mismatch: size 255");
	q.binary_len++;
	expect_pass(&q, &res);
	pvsub_trust_free(ca);
	pvsub_buf_release(&sig);
	pvsub_buf_release(&m);
}

Test(verify, region_hashes, .init = setup, .fini = teardown)
{
	struct pvsub_buf m = {0}, sig = {0}, m2 = {0}, sig2 = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL);
	struct pvsub_verify_request q;

	/* a signed manifest whose object hash is right but whose region hash
	 * is not: only the region check can catch it */
	signed_manifest("default", BAD_REGION_HASH, &m, &sig);
	q = loose(&m, &sig, ca);
	expect_fail(&q, PVSUB_VERIFY_CHECK_HASHES, -EBADMSG, "drv.ko: hash mismatch: region .text");
	signed_manifest("default", REGION_OUTSIDE, &m2, &sig2);
	q = loose(&m2, &sig2, ca);
	expect_fail(&q, PVSUB_VERIFY_CHECK_HASHES, -EBADMSG, "region .text lies outside the file");
	pvsub_trust_free(ca);
	pvsub_buf_release(&sig2);
	pvsub_buf_release(&m2);
	pvsub_buf_release(&sig);
	pvsub_buf_release(&m);
}

Test(verify, untrusted_and_expired_signers, .init = setup, .fini = teardown)
{
	struct pvsub_buf m = {0}, sig2 = {0}, sig_old = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL), *ca2 = anchors(fx.ca2, NULL);
	struct pvsub_verify_request q;
	struct pvsub_verify_result res;

	make_bin();
	manifest("default", CLEAN, &m);
	sign(fx.key2, fx.cert2, &m, &sig2);
	q = loose(&m, &sig2, ca);
	expect_fail(&q, PVSUB_VERIFY_CHECK_SIGNATURE, -EKEYREJECTED, "drv.xml: untrusted signer");
	cr_assert_neq(pvsub_verify(&q, &res), 0);
	cr_assert_str_empty(res.signer);
	/* control: the same signature against its own CA */
	q.ca = ca2;
	cr_assert_eq(pvsub_verify(&q, &res), 0, "%s", res.msg);
	cr_assert_str_eq(res.signer, "/CN=pvsub untrusted signer");

	sign(fx.key_old, fx.cert_old, &m, &sig_old);
	q = loose(&m, &sig_old, ca);
	expect_fail(&q, PVSUB_VERIFY_CHECK_SIGNATURE, -EKEYEXPIRED, "expired certificate");
	pvsub_trust_free(ca2);
	pvsub_trust_free(ca);
	pvsub_buf_release(&sig_old);
	pvsub_buf_release(&sig2);
	pvsub_buf_release(&m);
}

Test(verify, schema_error_after_a_good_signature, .init = setup, .fini = teardown)
{
	struct pvsub_buf m = {0}, sig = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL);
	struct pvsub_verify_request q;
	char *v;

	make_bin();
	manifest("default", CLEAN, &m);
	v = strstr(m.data, "result=\"certified\"");
	cr_assert(v);
	memcpy(v, "result=\"certifiex\"", 18);
	sign(fx.key, fx.cert, &m, &sig);
	q = loose(&m, &sig, ca);
	expect_fail(&q, PVSUB_VERIFY_CHECK_SCHEMA, -EINVAL, "drv.xml: schema error: line ");
	pvsub_trust_free(ca);
	pvsub_buf_release(&sig);
	pvsub_buf_release(&m);
}

/* ---- bundles ------------------------------------------------------------- */

Test(verify, bundle_certificate_must_be_the_signers, .init = setup, .fini = teardown)
{
	struct pvsub_buf m = {0}, sig = {0}, good = {0}, swapped = {0};
	struct pvsub_trust *both = anchors(fx.ca, fx.ca2);
	struct pvsub_verify_request q;
	struct pvsub_verify_result res;

	signed_manifest("default", CLEAN, &m, &sig);
	bundle(&m, &sig, fx.cert, &good);
	q = bundled(&good, both);
	expect_pass(&q, &res);
	cr_assert_str_eq(res.driver_name, "drv.ko");

	/* cert2 chains to a trusted CA too, but did not sign */
	bundle(&m, &sig, fx.cert2, &swapped);
	q = bundled(&swapped, both);
	expect_fail(&q, PVSUB_VERIFY_CHECK_SIGNER_CERT, -EBADMSG,
		    "drv.tar: bad signature: signer.pem is not the signer's certificate");
	pvsub_trust_free(both);
	pvsub_buf_release(&swapped);
	pvsub_buf_release(&good);
	pvsub_buf_release(&sig);
	pvsub_buf_release(&m);
}

Test(verify, bundle_members_and_names, .init = setup, .fini = teardown)
{
	struct pvsub_buf m = {0}, sig = {0}, b = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL);
	struct pvsub_verify_request q;
	static const uint8_t junk[] = "not a tar archive";

	signed_manifest("default", CLEAN, &m, &sig);
	bundle(&m, &sig, fx.cert, &b);
	q = bundled(&b, ca);
	/* members over the limit; 0 is the default limit */
	q.bundle_max_member = BIN_LEN - 1;
	expect_fail(&q, PVSUB_VERIFY_CHECK_BUNDLE, -EINVAL, "drv.tar: ");
	q.bundle_max_member = 0;
	cr_assert_eq(pvsub_verify(&q, &(struct pvsub_verify_result){0}), 0);
	q.bundle = junk;
	q.bundle_len = sizeof(junk);
	expect_fail(&q, PVSUB_VERIFY_CHECK_BUNDLE, -EINVAL, "drv.tar: ");
	pvsub_trust_free(ca);
	pvsub_buf_release(&b);
	pvsub_buf_release(&sig);
	pvsub_buf_release(&m);
}

/* A loader keeps the verified driver's bytes instead of reading them again:
 * only on request, only when every check passed, and they are the driver's. */
Test(verify, bundle_keeps_the_verified_binary, .init = setup, .fini = teardown)
{
	struct pvsub_buf m = {0}, sig = {0}, b = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL), *ca2 = anchors(fx.ca2, NULL);
	struct pvsub_verify_request q;
	struct pvsub_verify_result res;

	signed_manifest("default", CLEAN, &m, &sig);
	bundle(&m, &sig, fx.cert, &b);
	q = bundled(&b, ca);
	expect_pass(&q, &res);
	cr_assert_null(res.binary, "kept without being asked");
	q.keep_binary = true;
	expect_pass(&q, &res);
	cr_assert_not_null(res.binary);
	cr_assert_eq(res.binary_len, BIN_LEN);
	cr_assert_eq(memcmp(res.binary, bin, BIN_LEN), 0, "not the bundled driver's bytes");
	/* with it, the manifest's patterns: the default profile's */
	{
		struct pvsub_policy *def = NULL;
		const struct pvsub_pattern *want;
		size_t n_want = 0;

		cr_assert_eq(pvsub_policy_new_builtin("default", &def, NULL), 0);
		want = pvsub_policy_patterns(def, &n_want);
		cr_assert_eq(res.n_patterns, n_want);
		cr_assert_not_null(res.patterns);
		for (size_t i = 0; i < n_want; i++) {
			cr_assert_eq(res.patterns[i].len, want[i].len);
			cr_assert_eq(memcmp(res.patterns[i].value, want[i].value, want[i].len), 0);
			cr_assert_eq(memcmp(res.patterns[i].mask, want[i].mask, want[i].len), 0);
		}
		pvsub_policy_free(def);
	}
	pvsub_verify_result_release(&res);
	cr_assert_null(res.binary);
	cr_assert_eq(res.binary_len, 0);
	cr_assert_null(res.patterns);
	cr_assert_eq(res.n_patterns, 0);
	pvsub_verify_result_release(&res); /* releasing twice is harmless */
	/* a failed verification hands back nothing */
	q.ca = ca2;
	cr_assert_neq(pvsub_verify(&q, &res), 0);
	cr_assert_null(res.binary);
	cr_assert_null(res.patterns);
	/* the request field is ignored for loose inputs: the caller holds them */
	q = loose(&m, &sig, ca);
	q.keep_binary = true;
	expect_pass(&q, &res);
	cr_assert_null(res.binary);
	cr_assert_null(res.patterns);
	pvsub_trust_free(ca2);
	pvsub_trust_free(ca);
	pvsub_buf_release(&b);
	pvsub_buf_release(&sig);
	pvsub_buf_release(&m);
}

/* binary_in_place: the kept driver's bytes are the bundle's own, not a
 * copy, and releasing the result leaves them alone; without the request
 * (the control) they are a copy; a failed verification keeps nothing. */
Test(verify, bundle_binary_in_place, .init = setup, .fini = teardown)
{
	struct pvsub_buf m = {0}, sig = {0}, b = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL), *ca2 = anchors(fx.ca2, NULL);
	struct pvsub_verify_request q;
	struct pvsub_verify_result res;
	const uint8_t *lo, *kept;

	signed_manifest("default", CLEAN, &m, &sig);
	bundle(&m, &sig, fx.cert, &b);
	lo = (const uint8_t *)b.data;
	q = bundled(&b, ca);
	q.keep_binary = true;
	q.binary_in_place = true;
	expect_pass(&q, &res);
	cr_assert(res.binary_borrowed);
	cr_assert(res.binary >= lo && res.binary + res.binary_len <= lo + b.len,
		  "not inside the bundle");
	cr_assert_eq(res.binary_len, BIN_LEN);
	cr_assert_eq(memcmp(res.binary, bin, BIN_LEN), 0, "not the bundled driver's bytes");
	cr_assert_not_null(res.patterns);
	kept = res.binary;
	pvsub_verify_result_release(&res); /* frees the patterns, not the bundle */
	cr_assert_null(res.binary);
	cr_assert_not(res.binary_borrowed);
	cr_assert_eq(memcmp(kept, bin, BIN_LEN), 0, "the bundle's bytes changed");

	q.binary_in_place = false;
	expect_pass(&q, &res);
	cr_assert_not(res.binary_borrowed);
	cr_assert(res.binary + res.binary_len <= lo || res.binary >= lo + b.len, "not a copy");
	pvsub_verify_result_release(&res);

	q.binary_in_place = true;
	q.ca = ca2;
	cr_assert_neq(pvsub_verify(&q, &res), 0);
	cr_assert_null(res.binary);
	cr_assert_not(res.binary_borrowed);
	pvsub_trust_free(ca2);
	pvsub_trust_free(ca);
	pvsub_buf_release(&b);
	pvsub_buf_release(&sig);
	pvsub_buf_release(&m);
}

Test(verify, bundle_failures_name_the_member, .init = setup, .fini = teardown)
{
	struct pvsub_buf m = {0}, sig = {0}, b = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL), *ca2 = anchors(fx.ca2, NULL);
	struct pvsub_verify_request q;

	signed_manifest("default", CLEAN, &m, &sig);
	bin[REGION_OFF] ^= 0xff; /* the bundled driver differs from the scanned one */
	bundle(&m, &sig, fx.cert, &b);
	q = bundled(&b, ca2);
	expect_fail(&q, PVSUB_VERIFY_CHECK_SIGNATURE, -EKEYREJECTED,
		    "drv.tar: manifest.xml: untrusted signer");
	q.ca = ca;
	expect_fail(&q, PVSUB_VERIFY_CHECK_HASHES, -EBADMSG, "drv.ko: hash mismatch");
	pvsub_trust_free(ca2);
	pvsub_trust_free(ca);
	pvsub_buf_release(&b);
	pvsub_buf_release(&sig);
	pvsub_buf_release(&m);
}

/* ---- the verdict ------------------------------------------------------------ */

Test(verify, verdict_only_on_request, .init = setup, .fini = teardown)
{
	struct pvsub_buf rej = {0}, rej_sig = {0}, lt = {0}, lt_sig = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL);
	struct pvsub_verify_request q;
	struct pvsub_verify_result res;

	signed_manifest("default", REJECTED, &rej, &rej_sig);
	q = loose(&rej, &rej_sig, ca);
	expect_pass(&q, &res);
	cr_assert_eq(res.verdict, PVSUB_VERDICT_REJECTED);
	q.require_certified = true;
	expect_fail(&q, PVSUB_VERIFY_CHECK_VERDICT, -EBADMSG, "drv.xml: verdict is not certified");

	/* certified with load-time checks: accepted, and said so */
	signed_manifest("default", LOAD_TIME, &lt, &lt_sig);
	q = loose(&lt, &lt_sig, ca);
	q.require_certified = true;
	expect_pass(&q, &res);
	cr_assert_eq(res.verdict, PVSUB_VERDICT_LOAD_TIME);
	pvsub_trust_free(ca);
	pvsub_buf_release(&lt_sig);
	pvsub_buf_release(&lt);
	pvsub_buf_release(&rej_sig);
	pvsub_buf_release(&rej);
}

/* ---- the policy: by hash, by profiles ------------------------------------------ */

Test(verify, required_policy, .init = setup, .fini = teardown)
{
	/* the built-in vmfunc profile again, under another id: same patterns,
	 * another policy */
	static const char site_vmfunc[] =
		"<policy xmlns=\"urn:pvsub:policy:1\" id=\"site\" version=\"1\" "
		"on-instruction=\"reject\"><pattern id=\"vmfunc\" bytes=\"0f 01 d4\"/></policy>";
	struct pvsub_buf m = {0}, sig = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL);
	struct pvsub_policy *vmfunc = policy("vmfunc"), *pku = policy("pku");
	struct pvsub_policy *site = policy(site_vmfunc);
	struct pvsub_verify_request q;
	struct pvsub_verify_result res;

	signed_manifest("vmfunc", CLEAN, &m, &sig);
	q = loose(&m, &sig, ca);
	q.require_policy = pku;
	expect_fail(&q, PVSUB_VERIFY_CHECK_POLICY, -EBADMSG,
		    "drv.xml: policy mismatch: the manifest's policy builtin:vmfunc");
	q.require_policy = site;
	expect_fail(&q, PVSUB_VERIFY_CHECK_POLICY, -EBADMSG, "the required policy site has");
	q.require_policy = vmfunc;
	expect_pass(&q, &res);
	/* the verdict comes first */
	pvsub_buf_release(&m);
	pvsub_buf_release(&sig);
	signed_manifest("vmfunc", REJECTED, &m, &sig);
	q = loose(&m, &sig, ca);
	q.require_policy = pku;
	q.require_certified = true;
	expect_fail(&q, PVSUB_VERIFY_CHECK_VERDICT, -EBADMSG, "verdict is not certified");
	pvsub_policy_free(site);
	pvsub_policy_free(pku);
	pvsub_policy_free(vmfunc);
	pvsub_trust_free(ca);
	pvsub_buf_release(&sig);
	pvsub_buf_release(&m);
}

Test(verify, required_profiles, .init = setup, .fini = teardown)
{
	/* pku's and syscall's patterns, the syscall ones written more
	 * generally than the profile (a shorter window, a wildcard) */
	static const char wide[] = "<policy xmlns=\"urn:pvsub:policy:1\" id=\"wide\" version=\"2\" "
				   "on-instruction=\"reject\">"
				   "<include profile=\"pku\"/>"
				   "<pattern id=\"sys\" bytes=\"0f 05\"/>"
				   "<pattern id=\"sysenter-or-more\" bytes=\"0f 34/fc\"/>"
				   "<pattern id=\"int\" bytes=\"cd ??\"/>"
				   "</policy>";
	static const char *const syscall[] = {"syscall"};
	static const char *const gates[] = {"vmfunc", "pku"};
	static const char *const both[] = {"pku", "syscall"};
	struct pvsub_buf m = {0}, sig = {0}, mw = {0}, sigw = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL);
	struct pvsub_verify_request q;
	struct pvsub_verify_result res;

	signed_manifest("default", CLEAN, &m, &sig);
	q = loose(&m, &sig, ca);
	q.require_profiles = gates;
	q.n_require_profiles = 2;
	expect_pass(&q, &res);
	q.require_profiles = syscall;
	q.n_require_profiles = 1;
	expect_fail(
		&q, PVSUB_VERIFY_CHECK_PROFILES, -EBADMSG,
		"drv.xml: policy does not cover profile syscall: no pattern for syscall (0f 05)");

	signed_manifest(wide, CLEAN, &mw, &sigw);
	q = loose(&mw, &sigw, ca);
	q.require_profiles = both;
	q.n_require_profiles = 2;
	expect_pass(&q, &res);
	q.require_profiles = gates;
	expect_fail(&q, PVSUB_VERIFY_CHECK_PROFILES, -EBADMSG,
		    "policy does not cover profile vmfunc: no pattern for vmfunc (0f 01 d4)");
	pvsub_trust_free(ca);
	pvsub_buf_release(&sigw);
	pvsub_buf_release(&mw);
	pvsub_buf_release(&sig);
	pvsub_buf_release(&m);
}

/* A pattern from "VV/MM VV/MM ...". */
static struct pvsub_pattern pat(const char *bytes_and_masks)
{
	struct pvsub_pattern p = {.id = "p"};
	const char *s = bytes_and_masks;
	unsigned v, mk;
	int used;

	while (p.len < PVSUB_PATTERN_MAX && sscanf(s, " %2x/%2x%n", &v, &mk, &used) == 2) {
		p.value[p.len] = (uint8_t)v;
		p.mask[p.len++] = (uint8_t)mk;
		s += used;
	}
	cr_assert_gt(p.len, 0, "%s", bytes_and_masks);
	return p;
}

static bool covers(const char *have, const char *want)
{
	struct pvsub_pattern h = pat(have), w = pat(want);

	return pvsub_pattern_covers(&h, &w);
}

Test(verify, pattern_cover)
{
	const char *syscall = "0f/ff 05/ff", *wrpkru = "0f/ff 01/ff ef/ff";
	const char *xrstor = "0f/ff ae/ff 28/38"; /* 0f ae /5, memory operand */

	cr_assert(covers(syscall, syscall));
	/* a wildcard or a shorter window finds every occurrence */
	cr_assert(covers("0f/ff 00/00", syscall));
	cr_assert(covers("01/ff ef/ff", wrpkru));
	cr_assert(covers("0f/ff ae/ff 20/30", xrstor));
	/* ...but not one that requires more, or other bytes, or is longer */
	cr_assert_not(covers(xrstor, "0f/ff ae/ff"));
	cr_assert_not(covers("0f/ff ae/ff 28/ff", xrstor));
	cr_assert_not(covers("0f/ff 34/ff", syscall));
	cr_assert_not(covers(wrpkru, syscall));
	/* wildcards only cover nothing */
	cr_assert_not(covers("00/00", syscall));
}

/* ---- requests ---------------------------------------------------------------- */

static void expect_request_error(const struct pvsub_verify_request *q, int err, const char *words)
{
	struct pvsub_verify_result res;

	cr_assert_eq(pvsub_verify(q, &res), err, "%s", res.msg);
	cr_assert_eq(res.status, PVSUB_VERIFY_ERROR);
	cr_assert_eq(res.failed, PVSUB_VERIFY_CHECK_REQUEST);
	cr_assert(strstr(res.msg, words), "'%s' not in '%s'", words, res.msg);
}

Test(verify, bad_requests, .init = setup, .fini = teardown)
{
	static const char *const typo[] = {"pku", "sycsall"};
	struct pvsub_buf m = {0}, sig = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL);
	struct pvsub_verify_request q;
	struct {
		struct pvsub_verify_request q;
		int future;
	} grown;

	signed_manifest("default", CLEAN, &m, &sig);
	q = loose(&m, &sig, ca);
	q.ca = NULL;
	expect_request_error(&q, -EINVAL, "no trust anchors");
	q = loose(&m, &sig, ca);
	q.binary = NULL;
	expect_request_error(&q, -EINVAL, "all needed");
	q = loose(&m, &sig, ca);
	q.require_profiles = typo;
	q.n_require_profiles = 2;
	expect_request_error(&q, -ENOENT, "sycsall");
	q = loose(&m, &sig, ca);
	q.sz = 0;
	expect_request_error(&q, -EINVAL, "size");
	/* a caller built against a larger request: zeroes past ours are fine */
	memset(&grown, 0, sizeof(grown));
	grown.q = loose(&m, &sig, ca);
	grown.q.sz = sizeof(grown);
	cr_assert_eq(pvsub_verify(&grown.q, &(struct pvsub_verify_result){0}), 0);
	grown.future = 1;
	expect_request_error(&grown.q, -E2BIG, "does not know");
	/* an older, smaller one: the expectations it lacks read as none */
	q = loose(&m, &sig, ca);
	q.require_certified = true;
	q.sz = offsetof(struct pvsub_verify_request, require_certified);
	cr_assert_eq(pvsub_verify(&q, &(struct pvsub_verify_result){0}), 0);
	pvsub_trust_free(ca);
	pvsub_buf_release(&sig);
	pvsub_buf_release(&m);
}

Test(verify, check_names)
{
	cr_assert_str_eq(pvsub_verify_check_name(PVSUB_VERIFY_CHECK_SIGNER_CERT),
			 "signer certificate");
	cr_assert_str_eq(pvsub_verify_check_name(PVSUB_VERIFY_CHECK_PROFILES), "profiles");
	cr_assert_str_eq(pvsub_verify_check_name((enum pvsub_verify_check)99), "unknown");
}

/* ---- image manifests ---------------------------------------------------------- */

/* An image manifest for bin[] as a disk image, with one file in it. */
static void image_manifest(struct pvsub_buf *out)
{
	struct pvsub_policy *p = policy("default");
	char hash[PVSUB_SHA256_HEX_LEN];
	struct pvsub_image_file f = {.path = "p1!/drv.ko",
				     .kind = PVSUB_IMAGE_FILE_SCANNED,
				     .size = 16,
				     .sha256 = hash,
				     .verdict = PVSUB_VERDICT_CERTIFIED};
	struct pvsub_image_manifest_input in = {.tool_name = "pvsub-scan",
						.tool_version = "0.1.0",
						.policy = p,
						.image_path = "disk.raw",
						.format = "raw",
						.size = BIN_LEN,
						.sha256 = hash,
						.files = &f,
						.n_files = 1};

	make_bin();
	cr_assert_eq(pvsub_sha256_hex(bin, BIN_LEN, hash), 0);
	cr_assert_eq(pvsub_manifest_write_image(&in, out), 0);
	pvsub_policy_free(p);
}

/* Loose, an image manifest binds the image like a manifest its binary; a
 * bundle, whose driver a loader links, never holds one. */
Test(verify, image_manifest_loose_not_bundled, .init = setup, .fini = teardown)
{
	struct pvsub_buf m = {0}, sig = {0}, b = {0};
	struct pvsub_trust *ca = anchors(fx.ca, NULL);
	struct pvsub_verify_request q;
	struct pvsub_verify_result res;

	image_manifest(&m);
	sign(fx.key, fx.cert, &m, &sig);
	q = loose(&m, &sig, ca);
	q.require_certified = true;
	expect_pass(&q, &res);
	cr_assert_eq(res.verdict, PVSUB_VERDICT_CERTIFIED);
	bin[BIN_LEN / 2] ^= 1;
	expect_fail(&q, PVSUB_VERIFY_CHECK_HASHES, -EBADMSG, "drv.ko: hash mismatch: SHA-256");
	bin[BIN_LEN / 2] ^= 1;
	bundle(&m, &sig, fx.cert, &b);
	q = bundled(&b, ca);
	expect_fail(&q, PVSUB_VERIFY_CHECK_SCHEMA, -EINVAL, "is never bundled");
	pvsub_trust_free(ca);
	pvsub_buf_release(&b);
	pvsub_buf_release(&sig);
	pvsub_buf_release(&m);
}
