/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tests/unit/signfix.h"

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);

	cr_assert(k, "RSA key generation failed");
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	cr_assert(ext);
	cr_assert(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
}

/* A certificate for @key named @cn, issued by (@issuer, @issuer_key) or
 * self-signed when @issuer is NULL, valid from @from to @to days from now. */
static X509 *new_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
		      long serial, long from, long to)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	cr_assert(x && name);
	cr_assert(X509_set_version(x, 2));
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	cr_assert(X509_gmtime_adj(X509_getm_notBefore(x), from * 86400L));
	cr_assert(X509_gmtime_adj(X509_getm_notAfter(x), to * 86400L));
	cr_assert(X509_set_pubkey(x, key));
	cr_assert(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn,
					     -1, -1, 0));
	cr_assert(X509_set_subject_name(x, name));
	cr_assert(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name));
	if (!issuer) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
		add_ext(x, x, NID_subject_key_identifier, "hash");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
		add_ext(x, issuer, NID_subject_key_identifier, "hash");
		add_ext(x, issuer, NID_authority_key_identifier, "keyid");
	}
	cr_assert(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()));
	X509_NAME_free(name);
	return x;
}

static void path(char *out, const struct signfix *f, const char *name)
{
	cr_assert(snprintf(out, PATH_MAX, "%s/%s", f->dir, name) < PATH_MAX);
}

static void write_cert(const char *p, X509 *x)
{
	FILE *fp = fopen(p, "w");

	cr_assert(fp);
	cr_assert(PEM_write_X509(fp, x));
	cr_assert(fclose(fp) == 0);
}

static void write_key(const char *p, EVP_PKEY *k, const char *pass)
{
	FILE *fp = fopen(p, "w");

	cr_assert(fp);
	if (pass)
		cr_assert(PEM_write_PrivateKey(fp, k, EVP_aes_256_cbc(), (unsigned char *)pass,
					       (int)strlen(pass), NULL, NULL));
	else
		cr_assert(PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL));
	cr_assert(fclose(fp) == 0);
}

void signfix_make(struct signfix *f)
{
	EVP_PKEY *ca_key = new_key(), *key = new_key(), *ca2_key = new_key(), *key2 = new_key();
	X509 *ca, *cert, *ca2, *cert2, *old;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s/pvsub-signfix.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert(mkdtemp(f->dir));
	path(f->ca, f, "ca.pem");
	path(f->key, f, "key.pem");
	path(f->cert, f, "cert.pem");
	path(f->ca2, f, "ca2.pem");
	path(f->key2, f, "key2.pem");
	path(f->cert2, f, "cert2.pem");
	path(f->key_old, f, "key-old.pem");
	path(f->cert_old, f, "cert-old.pem");
	path(f->key_enc, f, "key-enc.pem");

	ca = new_cert(ca_key, "pvsub test CA", NULL, NULL, 1, -1, 30);
	cert = new_cert(key, "pvsub test signer", ca, ca_key, 2, -1, 30);
	old = new_cert(key, "pvsub expired signer", ca, ca_key, 3, -30, -1);
	ca2 = new_cert(ca2_key, "pvsub untrusted CA", NULL, NULL, 1, -1, 30);
	cert2 = new_cert(key2, "pvsub untrusted signer", ca2, ca2_key, 2, -1, 30);

	write_cert(f->ca, ca);
	write_key(f->key, key, NULL);
	write_key(f->key_enc, key, "s3cret");
	write_cert(f->cert, cert);
	write_key(f->key_old, key, NULL);
	write_cert(f->cert_old, old);
	write_cert(f->ca2, ca2);
	write_key(f->key2, key2, NULL);
	write_cert(f->cert2, cert2);

	X509_free(old);
	X509_free(cert2);
	X509_free(ca2);
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key2);
	EVP_PKEY_free(ca2_key);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
}

void signfix_remove(struct signfix *f)
{
	const char *files[] = {f->ca,	 f->key,     f->cert,	  f->ca2,    f->key2,
			       f->cert2, f->key_old, f->cert_old, f->key_enc};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i][0])
			remove(files[i]);
	if (f->dir[0])
		rmdir(f->dir);
}
