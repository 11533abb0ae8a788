/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libpvsub/crypto.h"
#include "libpvsub/manifest_read.h"
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

static struct pvsub_signer *signer(const char *key, const char *cert)
{
	struct pvsub_signer *s = NULL;
	struct pvsub_diag d = {{0}};

	cr_assert_eq(pvsub_signer_load(key, cert, NULL, &s, &d), 0, "%s", d.msg);
	return s;
}

static struct pvsub_trust *trust(const char *path)
{
	struct pvsub_trust *t = NULL;
	struct pvsub_diag d = {{0}};

	cr_assert_eq(pvsub_trust_load(path, &t, &d), 0, "%s", d.msg);
	return t;
}

static void sign(struct pvsub_signer *s, unsigned flags, const char *msg, struct pvsub_buf *out)
{
	struct pvsub_diag d = {{0}};

	cr_assert_eq(pvsub_cms_sign(s, PVSUB_HASH_SHA256, flags, msg, strlen(msg), out, &d), 0,
		     "%s", d.msg);
	cr_assert_gt(out->len, 100);
}

Test(crypto, sha256_known_answer)
{
	char hex[PVSUB_SHA256_HEX_LEN];

	cr_assert_eq(pvsub_sha256_hex("abc", 3, hex), 0);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(crypto, hash_names)
{
	enum pvsub_hash h;

	cr_assert_eq(pvsub_hash_from_name("sha384", &h), 0);
	cr_assert_eq(h, PVSUB_HASH_SHA384);
	cr_assert_eq(pvsub_hash_from_name("sha512", &h), 0);
	cr_assert_eq(h, PVSUB_HASH_SHA512);
	cr_assert_eq(pvsub_hash_from_name("md5", &h), -EINVAL);
	cr_assert_eq(pvsub_hash_from_name("SHA256", &h), -EINVAL);
}

Test(crypto, signer_load_errors, .init = setup, .fini = teardown)
{
	struct pvsub_signer *s = NULL;
	struct pvsub_diag d = {{0}};

	/* each message starts with the one file that failed, and only that */
	cr_assert_eq(pvsub_signer_load("/nonexistent/key.pem", fx.cert, NULL, &s, &d), -ENOENT);
	cr_assert_eq(strncmp(d.msg, "/nonexistent/key.pem: ", 22), 0, "%s", d.msg);
	cr_assert_eq(pvsub_signer_load(fx.key, "/nonexistent/cert.pem", NULL, &s, &d), -ENOENT);
	cr_assert_eq(strncmp(d.msg, "/nonexistent/cert.pem: ", 23), 0, "%s", d.msg);
	cr_assert_null(strstr(d.msg, fx.key), "%s", d.msg);
	cr_assert_eq(pvsub_signer_load(fx.key2, fx.cert, NULL, &s, &d), -EINVAL);
	cr_assert(strstr(d.msg, "does not match"), "%s", d.msg);
	cr_assert_eq(strncmp(d.msg, fx.key2, strlen(fx.key2)), 0, "%s", d.msg);
	cr_assert_eq(pvsub_signer_load(fx.cert, fx.cert, NULL, &s, &d), -EINVAL);
	cr_assert(strstr(d.msg, "not a PEM private key"), "%s", d.msg);
	cr_assert_eq(strncmp(d.msg, fx.cert, strlen(fx.cert)), 0, "%s", d.msg);
	cr_assert_eq(pvsub_signer_load(fx.key, fx.key, NULL, &s, &d), -EINVAL);
	cr_assert(strstr(d.msg, "certificate"), "%s", d.msg);
	cr_assert_eq(strncmp(d.msg, fx.key, strlen(fx.key)), 0, "%s", d.msg);
	cr_assert_null(s);

	/* an encrypted key without a passphrase is its own case, said once */
	cr_assert_eq(pvsub_signer_load(fx.key_enc, fx.cert, NULL, &s, &d), -ENOKEY);
	cr_assert(strstr(d.msg, "passphrase"), "%s", d.msg);
	cr_assert_eq(strncmp(d.msg, fx.key_enc, strlen(fx.key_enc)), 0, "%s", d.msg);
	cr_assert_null(strstr(d.msg + strlen(fx.key_enc), fx.key_enc), "%s", d.msg);
	cr_assert_eq(pvsub_signer_load(fx.key_enc, fx.cert, "wrong", &s, &d), -EINVAL);
	cr_assert(strstr(d.msg, "passphrase"), "%s", d.msg);
	cr_assert_eq(pvsub_signer_load(fx.key_enc, fx.cert, "s3cret", &s, &d), 0, "%s", d.msg);
	pvsub_signer_free(s);
	pvsub_signer_free(NULL);
}

Test(crypto, sign_verify_chain, .init = setup, .fini = teardown)
{
	struct pvsub_signer *s = signer(fx.key, fx.cert);
	struct pvsub_trust *ca = trust(fx.ca), *ca2 = trust(fx.ca2);
	struct pvsub_buf sig = {0}, again = {0}, pem = {0};
	struct pvsub_diag d = {{0}};
	const char *msg = "hello, manifest\n";

	sign(s, 0, msg, &sig);
	cr_assert_eq(pvsub_cms_verify_chain((uint8_t *)sig.data, sig.len, msg, strlen(msg), ca,
					    &pem, &d),
		     0, "%s", d.msg);
	cr_assert(strstr(pem.data, "BEGIN CERTIFICATE"));

	/* the subject handed back is the signer certificate's, as read from
	 * its PEM; and none when the signature does not verify (the control) */
	{
		char want[256], got[256] = "x";

		cr_assert_eq(pvsub_cert_pem_subject(pem.data, pem.len, want, sizeof(want)), 0);
		cr_assert(want[0] == '/', "%s", want);
		cr_assert_eq(pvsub_cms_verify_chain_signer((uint8_t *)sig.data, sig.len, msg,
							   strlen(msg), ca, NULL, got, sizeof(got),
							   &d),
			     0, "%s", d.msg);
		cr_assert_str_eq(got, want);
		got[0] = '\0';
		cr_assert_eq(pvsub_cms_verify_chain_signer((uint8_t *)sig.data, sig.len, "hello", 5,
							   ca, NULL, got, sizeof(got), &d),
			     -EBADMSG);
		cr_assert_str_eq(got, "");
	}

	/* no signing time: the same input signs to the same bytes */
	sign(s, 0, msg, &again);
	cr_assert_eq(again.len, sig.len);
	cr_assert_eq(memcmp(again.data, sig.data, sig.len), 0);

	cr_assert_eq(pvsub_cms_verify_chain((uint8_t *)sig.data, sig.len, "hello", 5, ca, NULL, &d),
		     -EBADMSG);
	cr_assert(strstr(d.msg, "bad signature"), "%s", d.msg);
	cr_assert_eq(pvsub_cms_verify_chain((uint8_t *)sig.data, sig.len, msg, strlen(msg), ca2,
					    NULL, &d),
		     -EKEYREJECTED);
	cr_assert(strstr(d.msg, "untrusted signer"), "%s", d.msg);

	pvsub_buf_release(&pem);
	pvsub_buf_release(&again);
	pvsub_buf_release(&sig);
	pvsub_trust_free(ca2);
	pvsub_trust_free(ca);
	pvsub_signer_free(s);
}

Test(crypto, untrusted_signer_and_expired, .init = setup, .fini = teardown)
{
	struct pvsub_signer *s2 = signer(fx.key2, fx.cert2), *old = signer(fx.key_old, fx.cert_old);
	struct pvsub_trust *ca = trust(fx.ca), *ca2 = trust(fx.ca2);
	struct pvsub_buf sig2 = {0}, sig_old = {0};
	struct pvsub_diag d = {{0}};
	const char *msg = "payload";

	sign(s2, 0, msg, &sig2);
	cr_assert_eq(pvsub_cms_verify_chain((uint8_t *)sig2.data, sig2.len, msg, strlen(msg), ca,
					    NULL, &d),
		     -EKEYREJECTED);
	cr_assert(strstr(d.msg, "untrusted signer"), "%s", d.msg);
	cr_assert_eq(pvsub_cms_verify_chain((uint8_t *)sig2.data, sig2.len, msg, strlen(msg), ca2,
					    NULL, &d),
		     0, "%s", d.msg);

	sign(old, 0, msg, &sig_old);
	cr_assert_eq(pvsub_cms_verify_chain((uint8_t *)sig_old.data, sig_old.len, msg, strlen(msg),
					    ca, NULL, &d),
		     -EKEYEXPIRED);
	cr_assert(strstr(d.msg, "expired certificate"), "%s", d.msg);
	cr_assert(strstr(d.msg, "pvsub expired signer"), "%s", d.msg);

	pvsub_buf_release(&sig_old);
	pvsub_buf_release(&sig2);
	pvsub_trust_free(ca2);
	pvsub_trust_free(ca);
	pvsub_signer_free(old);
	pvsub_signer_free(s2);
}

Test(crypto, keyring, .init = setup, .fini = teardown)
{
	struct pvsub_signer *s = signer(fx.key, fx.cert);
	struct pvsub_trust *kr = trust(fx.cert), *kr2 = trust(fx.cert2);
	struct pvsub_buf bare = {0}, with_certs = {0};
	struct pvsub_diag d = {{0}};
	const char *msg = "module bytes";

	sign(s, PVSUB_SIGN_NOCERTS, msg, &bare);
	sign(s, 0, msg, &with_certs);
	cr_assert_lt(bare.len, with_certs.len);
	cr_assert_eq(
		pvsub_cms_verify_keyring((uint8_t *)bare.data, bare.len, msg, strlen(msg), kr, &d),
		0, "%s", d.msg);
	cr_assert_eq(
		pvsub_cms_verify_keyring((uint8_t *)bare.data, bare.len, msg, strlen(msg), kr2, &d),
		-EKEYREJECTED);
	cr_assert(strstr(d.msg, "untrusted signer"), "%s", d.msg);
	/* the kernel's form carries no certificates; anything else is refused */
	cr_assert_eq(pvsub_cms_verify_keyring((uint8_t *)with_certs.data, with_certs.len, msg,
					      strlen(msg), kr, &d),
		     -EBADMSG);
	cr_assert_eq(pvsub_cms_verify_keyring((uint8_t *)bare.data, bare.len, "module bytez",
					      strlen(msg), kr, &d),
		     -EBADMSG);

	pvsub_buf_release(&with_certs);
	pvsub_buf_release(&bare);
	pvsub_trust_free(kr2);
	pvsub_trust_free(kr);
	pvsub_signer_free(s);
}

Test(crypto, trust_load_errors, .init = setup, .fini = teardown)
{
	struct pvsub_trust *t = NULL;
	struct pvsub_diag d = {{0}};

	cr_assert_eq(pvsub_trust_load(fx.key, &t, &d), -EINVAL);
	cr_assert(strstr(d.msg, "no PEM certificate"), "%s", d.msg);
	cr_assert_eq(pvsub_trust_load_mem("junk", 4, &t, &d), -EINVAL);
	cr_assert_eq(pvsub_trust_load("/nonexistent", &t, &d), -ENOENT);
	cr_assert_null(t);
	pvsub_trust_free(NULL);
}

Test(crypto, garbage_signatures, .init = setup, .fini = teardown)
{
	struct pvsub_trust *ca = trust(fx.ca);
	struct pvsub_diag d = {{0}};
	static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};

	cr_assert_eq(pvsub_cms_verify_chain(junk, sizeof(junk), "x", 1, ca, NULL, &d), -EBADMSG);
	cr_assert_eq(pvsub_cms_verify_chain(junk, 0, "x", 1, ca, NULL, &d), -EBADMSG);
	cr_assert_eq(pvsub_cms_verify_keyring(junk, 1, "x", 1, ca, &d), -EBADMSG);
	pvsub_trust_free(ca);
}

/* Every single flipped byte, in the signature or in the signed bytes,
 * makes verification fail (two flips per byte: one bit, all bits). */
Test(crypto, any_flipped_byte_fails, .init = setup, .fini = teardown, .timeout = 600)
{
	struct pvsub_signer *s = signer(fx.key, fx.cert);
	struct pvsub_trust *ca = trust(fx.ca);
	struct pvsub_buf sig = {0};
	char msg[] = "<manifest>tiny</manifest>\n";
	static const uint8_t masks[] = {0x01, 0xff};

	sign(s, 0, msg, &sig);
	for (size_t m = 0; m < sizeof(masks); m++) {
		for (size_t i = 0; i < sig.len; i++) {
			sig.data[i] ^= (char)masks[m];
			cr_assert_neq(pvsub_cms_verify_chain((uint8_t *)sig.data, sig.len, msg,
							     strlen(msg), ca, NULL, NULL),
				      0, "signature byte %zu ^ %#x still verifies", i, masks[m]);
			sig.data[i] ^= (char)masks[m];
		}
		for (size_t i = 0; i < strlen(msg); i++) {
			msg[i] ^= (char)masks[m];
			cr_assert_eq(pvsub_cms_verify_chain((uint8_t *)sig.data, sig.len, msg,
							    sizeof(msg) - 1, ca, NULL, NULL),
				     -EBADMSG, "message byte %zu ^ %#x still verifies", i,
				     masks[m]);
			msg[i] ^= (char)masks[m];
		}
	}
	cr_assert_eq(pvsub_cms_verify_chain((uint8_t *)sig.data, sig.len, msg, strlen(msg), ca,
					    NULL, NULL),
		     0);
	pvsub_buf_release(&sig);
	pvsub_trust_free(ca);
	pvsub_signer_free(s);
}

/* ---- pvsub_manifest_read ------------------------------------------------- */

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const char manifest[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<manifest xmlns=\"urn:pvsub:manifest:1\" version=\"1\">\n"
	"  <tool name=\"pvsub-scan\" version=\"0.1.0\"/>\n"
	"  <policy id=\"site\" version=\"7\" on-instruction=\"reject\" sha256=\"" SHA_A "\"/>\n"
	"  <object path=\"drv.ko\" size=\"4096\" sha256=\"" SHA_B "\" elf-type=\"REL\" "
	"machine=\"62\"/>\n"
	"  <regions>\n"
	"    <region name=\".text\" kind=\"section\" index=\"2\" file-offset=\"64\" size=\"32\" "
	"sha256=\"" SHA_A "\" relocation-windows=\"0\"/>\n"
	"    <region name=\"segment 1\" kind=\"segment\" index=\"1\" file-offset=\"128\" "
	"size=\"16\" sha256=\"" SHA_B "\" relocation-windows=\"3\"/>\n"
	"  </regions>\n"
	"  <findings/>\n"
	"  <rewrites/>\n"
	"  <mutable-windows/>\n"
	"  <violations/>\n"
	"  <verdict result=\"certified\"/>\n"
	"</manifest>\n";

Test(manifest_read, extracts_what_verify_needs)
{
	struct pvsub_manifest_info *m = NULL;
	struct pvsub_diag d = {{0}};

	cr_assert_eq(pvsub_manifest_read(manifest, strlen(manifest), &m, &d), 0, "%s", d.msg);
	cr_assert_str_eq(m->policy_id, "site");
	cr_assert_eq(m->policy_version, 7);
	cr_assert_str_eq(m->policy_sha256, SHA_A);
	cr_assert_str_eq(m->object_path, "drv.ko");
	cr_assert_eq(m->object_size, 4096);
	cr_assert_str_eq(m->object_sha256, SHA_B);
	cr_assert_eq(m->verdict, PVSUB_VERDICT_CERTIFIED);
	cr_assert_eq(m->n_regions, 2);
	cr_assert_str_eq(m->regions[0].name, ".text");
	cr_assert_not(m->regions[0].is_segment);
	cr_assert_eq(m->regions[0].file_offset, 64);
	cr_assert_eq(m->regions[0].size, 32);
	cr_assert_str_eq(m->regions[0].sha256, SHA_A);
	cr_assert(m->regions[1].is_segment);
	cr_assert_eq(m->regions[1].file_offset, 128);
	pvsub_manifest_info_free(m);
	pvsub_manifest_info_free(NULL);
}

Test(manifest_read, policy_patterns)
{
	struct pvsub_manifest_info *m = NULL;
	struct pvsub_diag d = {{0}};
	struct pvsub_buf xml = {0};
	const char *policy = "  <policy id=\"site\" version=\"7\" on-instruction=\"reject\" "
			     "sha256=\"" SHA_A "\">\n"
			     "    <pattern id=\"syscall\" value=\"0f05\" mask=\"ffff\"/>\n"
			     "    <pattern id=\"xrstor\" value=\"0fae28\" mask=\"ffff38\"/>\n"
			     "  </policy>\n";
	const char *at = strstr(manifest, "  <policy"), *end = strstr(at, "  <object");

	cr_assert_eq(
		pvsub_buf_printf(&xml, "%.*s%s%s", (int)(at - manifest), manifest, policy, end), 0);
	cr_assert_eq(pvsub_manifest_read(xml.data, xml.len, &m, &d), 0, "%s", d.msg);
	cr_assert_eq(m->n_patterns, 2);
	cr_assert_str_eq(m->patterns[0].id, "syscall");
	cr_assert_eq(m->patterns[0].len, 2);
	cr_assert_eq(memcmp(m->patterns[0].value, "\x0f\x05", 2), 0);
	cr_assert_eq(memcmp(m->patterns[0].mask, "\xff\xff", 2), 0);
	cr_assert_str_eq(m->patterns[1].id, "xrstor");
	cr_assert_eq(m->patterns[1].len, 3);
	cr_assert_eq(m->patterns[1].value[2], 0x28);
	cr_assert_eq(m->patterns[1].mask[2], 0x38);
	pvsub_manifest_info_free(m);
	pvsub_buf_release(&xml);

	/* the manifest above has none */
	cr_assert_eq(pvsub_manifest_read(manifest, strlen(manifest), &m, &d), 0, "%s", d.msg);
	cr_assert_eq(m->n_patterns, 0);
	cr_assert_null(m->patterns);
	pvsub_manifest_info_free(m);
}

Test(manifest_read, refuses_invalid)
{
	struct pvsub_manifest_info *m = NULL;
	struct pvsub_diag d = {{0}};
	char *bad = strdup(manifest);
	char *p = strstr(bad, "size=\"4096\"");

	cr_assert(p);
	p[6] = 'x'; /* size="x096" */
	cr_assert_eq(pvsub_manifest_read(bad, strlen(bad), &m, &d), -EINVAL);
	cr_assert_null(m);
	cr_assert(strstr(d.msg, "line 5"), "%s", d.msg);
	cr_assert_eq(pvsub_manifest_read("<manifest", 9, &m, &d), -EINVAL);
	free(bad);
}

Test(crypto, signer_validity, .init = setup, .fini = teardown)
{
	struct pvsub_signer *s = signer(fx.key, fx.cert), *old = signer(fx.key_old, fx.cert_old);
	struct pvsub_diag d = {{0}};
	time_t now = time(NULL);

	cr_assert_eq(pvsub_signer_check_validity(s, now, &d), 0, "%s", d.msg);
	cr_assert_eq(pvsub_signer_check_validity(old, now, &d), -EKEYEXPIRED);
	cr_assert(strstr(d.msg, "expired (notAfter "), "%s", d.msg);
	cr_assert(strstr(d.msg, " UTC)"), "%s", d.msg);
	/* the same certificate before and after its period */
	cr_assert_eq(pvsub_signer_check_validity(s, now - 30L * 86400, &d), -EKEYEXPIRED);
	cr_assert(strstr(d.msg, "is not valid yet (notBefore "), "%s", d.msg);
	cr_assert_eq(pvsub_signer_check_validity(s, now + 3650L * 86400, &d), -EKEYEXPIRED);
	cr_assert(strstr(d.msg, "expired (notAfter "), "%s", d.msg);
	pvsub_signer_free(old);
	pvsub_signer_free(s);
}
