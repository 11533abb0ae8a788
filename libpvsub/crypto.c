/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/* The PKCS#11 path goes through the ENGINE API: Debian 12 ships libp11's
 * engine but no PKCS#11 provider.  ENGINE is deprecated in OpenSSL 3, hence
 * the pragma around its only user below. */
#include <openssl/engine.h>

#include "libpvsub/crypto.h"

int pvsub_sha256(const void *data, size_t len, uint8_t out[PVSUB_SHA256_LEN])
{
	unsigned int outlen = 0;

	if (!EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL) || outlen != PVSUB_SHA256_LEN)
		return -EIO;
	return 0;
}

int pvsub_sha256_hex(const void *data, size_t len, char out[PVSUB_SHA256_HEX_LEN])
{
	uint8_t md[PVSUB_SHA256_LEN];
	int r = pvsub_sha256(data, len, md);

	if (r < 0)
		return r;
	pvsub_hex(md, sizeof(md), out);
	return 0;
}

int pvsub_sha256_fd_hex(int fd, uint64_t size, char out[PVSUB_SHA256_HEX_LEN],
			struct pvsub_diag *diag)
{
	enum { CHUNK = 1 << 20 };
	uint8_t md[PVSUB_SHA256_LEN], *buf = malloc(CHUNK);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int outlen = 0;
	uint64_t off = 0;
	int r = -EIO;

	if (!buf || !c) {
		r = -ENOMEM;
		goto out;
	}
	if (!EVP_DigestInit_ex(c, EVP_sha256(), NULL))
		goto out;
	while (off < size) {
		size_t want = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = pvsub_diag_set(diag, EIO, "%s",
					   n < 0 ? strerror(errno) : "file shorter than its size");
			goto out;
		}
		if (!EVP_DigestUpdate(c, buf, (size_t)n))
			goto out;
		off += (uint64_t)n;
	}
	if (!EVP_DigestFinal_ex(c, md, &outlen) || outlen != PVSUB_SHA256_LEN)
		goto out;
	pvsub_hex(md, sizeof(md), out);
	r = 0;
out:
	if (r == -EIO && !diag->msg[0])
		pvsub_diag_set(diag, EIO, "SHA-256 failed in OpenSSL");
	EVP_MD_CTX_free(c);
	free(buf);
	return r;
}

int pvsub_hash_from_name(const char *name, enum pvsub_hash *out)
{
	static const char *const names[] = {
		[PVSUB_HASH_SHA256] = "sha256",
		[PVSUB_HASH_SHA384] = "sha384",
		[PVSUB_HASH_SHA512] = "sha512",
	};

	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(names); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum pvsub_hash)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const EVP_MD *hash_md(enum pvsub_hash h)
{
	switch (h) {
	case PVSUB_HASH_SHA256:
		return EVP_sha256();
	case PVSUB_HASH_SHA384:
		return EVP_sha384();
	case PVSUB_HASH_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

int pvsub_crypto_diag(struct pvsub_diag *d, int err, const char *what)
{
	unsigned long e, first = 0;
	char buf[256];

	/* The first queued error is the root cause; the rest are the callers
	 * that passed it up. */
	while ((e = ERR_get_error()) != 0) {
		if (!first)
			first = e;
	}
	if (!first)
		return pvsub_diag_set(d, err, "%s", what);
	ERR_error_string_n(first, buf, sizeof(buf));
	return pvsub_diag_set(d, err, "%s: %s", what, buf);
}

static int open_file_bio(const char *path, BIO **out, struct pvsub_diag *diag)
{
	FILE *f = fopen(path, "rb");

	if (!f)
		return pvsub_diag_set(diag, errno, "%s: %s", path, strerror(errno));
	*out = BIO_new_fp(f, BIO_CLOSE);
	if (!*out) {
		fclose(f);
		return pvsub_crypto_diag(diag, ENOMEM, "cannot allocate a BIO");
	}
	return 0;
}

/* ---- signer ------------------------------------------------------------------ */

struct pvsub_signer {
	EVP_PKEY *key;
	X509 *cert;
	ENGINE *engine; /* the PKCS#11 engine holding the key, or NULL */
};

struct pass_ctx {
	const char *pass;
	bool asked;
};

/* Never prompt: the passphrase comes from the caller or not at all. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *pc = u;
	size_t n;

	pc->asked = true;
	if (!pc->pass)
		return -1;
	n = strlen(pc->pass);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pc->pass, n);
	return (int)n;
}

static int load_pem_key(const char *path, const char *pass, EVP_PKEY **out, struct pvsub_diag *diag)
{
	struct pass_ctx pc = {.pass = pass};
	char what[PATH_MAX + 64];
	BIO *bio = NULL;
	int r;

	r = open_file_bio(path, &bio, diag);
	if (r < 0)
		return r;
	*out = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &pc);
	BIO_free(bio);
	if (*out)
		return 0;
	if (pc.asked && !pass) {
		ERR_clear_error();
		return pvsub_diag_set(diag, ENOKEY,
				      "%s: the key is encrypted and no passphrase was given", path);
	}
	snprintf(what, sizeof(what), "%s: %s", path,
		 pc.asked ? "cannot decrypt the key (wrong passphrase?)" : "not a PEM private key");
	return pvsub_crypto_diag(diag, EINVAL, what);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static int load_pkcs11_key(const char *uri, const char *pin, EVP_PKEY **key, ENGINE **engine,
			   struct pvsub_diag *diag)
{
	const char *module = getenv("PKCS11_MODULE_PATH");
	ENGINE *e = NULL;
	bool inited = false;
	int r;

	ENGINE_load_builtin_engines();
	e = ENGINE_by_id("pkcs11");
	if (!e) {
		ERR_clear_error();
		return pvsub_diag_set(
			diag, ENOTSUP,
			"no OpenSSL pkcs11 engine (Debian: libengine-pkcs11-openssl)");
	}
	if (module && *module && !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0)) {
		r = pvsub_crypto_diag(diag, EINVAL, "pkcs11 engine refuses MODULE_PATH");
		goto out;
	}
	if (pin && !ENGINE_ctrl_cmd_string(e, "PIN", pin, 0)) {
		r = pvsub_crypto_diag(diag, EINVAL, "pkcs11 engine refuses the PIN");
		goto out;
	}
	if (!ENGINE_init(e)) {
		r = pvsub_crypto_diag(diag, EIO, "cannot initialise the pkcs11 engine");
		goto out;
	}
	inited = true;
	*key = ENGINE_load_private_key(e, uri, NULL, NULL);
	if (!*key) {
		r = pvsub_crypto_diag(diag, EINVAL, "cannot load the PKCS#11 key");
		goto out;
	}
	*engine = e;
	return 0;
out:
	if (inited)
		ENGINE_finish(e);
	ENGINE_free(e);
	return r;
}

static void engine_release(ENGINE *e)
{
	if (e) {
		ENGINE_finish(e);
		ENGINE_free(e);
	}
}
#pragma GCC diagnostic pop

static int load_cert(const char *path, X509 **out, struct pvsub_diag *diag)
{
	char what[PATH_MAX + 32];
	BIO *bio = NULL;
	int r;

	r = open_file_bio(path, &bio, diag);
	if (r < 0)
		return r;
	*out = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!*out) {
		snprintf(what, sizeof(what), "%s: not a PEM certificate", path);
		return pvsub_crypto_diag(diag, EINVAL, what);
	}
	return 0;
}

int pvsub_signer_load(const char *key, const char *cert, const char *pass,
		      struct pvsub_signer **out, struct pvsub_diag *diag)
{
	struct pvsub_signer *s;
	bool is_pkcs11;
	int r;

	ERR_clear_error();
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	is_pkcs11 = strncmp(key, "pkcs11:", 7) == 0;
	if (is_pkcs11)
		r = load_pkcs11_key(key, pass, &s->key, &s->engine, diag);
	else
		r = load_pem_key(key, pass, &s->key, diag);
	if (r < 0)
		goto err;
	r = load_cert(cert, &s->cert, diag);
	if (r < 0)
		goto err;
	if (X509_check_private_key(s->cert, s->key) != 1) {
		/* a PKCS#11 URI is not repeated: it may carry the PIN */
		ERR_clear_error();
		if (is_pkcs11)
			r = pvsub_diag_set(diag, EINVAL,
					   "%s: the certificate does not match the PKCS#11 key",
					   cert);
		else
			r = pvsub_diag_set(diag, EINVAL,
					   "%s: the key does not match the certificate %s", key,
					   cert);
		goto err;
	}
	*out = s;
	return 0;
err:
	pvsub_signer_free(s);
	return r;
}

void pvsub_signer_free(struct pvsub_signer *s)
{
	if (!s)
		return;
	X509_free(s->cert);
	EVP_PKEY_free(s->key);
	engine_release(s->engine);
	free(s);
}

/* @t as "YYYY-MM-DD HH:MM:SS UTC" */
static int format_time(const ASN1_TIME *t, char *buf, size_t size)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		return -EIO;
	return 0;
}

int pvsub_signer_check_validity(const struct pvsub_signer *s, time_t now, struct pvsub_diag *diag)
{
	const ASN1_TIME *before = X509_get0_notBefore(s->cert),
			*after = X509_get0_notAfter(s->cert);
	char name[256], when[64];
	int b, a;

	ERR_clear_error();
	b = X509_cmp_time(before, &now);
	a = X509_cmp_time(after, &now);
	if (b == 0 || a == 0) {
		ERR_clear_error();
		return pvsub_diag_set(diag, EIO, "cannot read the certificate's validity period");
	}
	if (b < 0 && a > 0)
		return 0;
	X509_NAME_oneline(X509_get_subject_name(s->cert), name, sizeof(name));
	if (format_time(a > 0 ? before : after, when, sizeof(when)) < 0) {
		ERR_clear_error();
		return pvsub_diag_set(diag, EIO, "cannot read the certificate's validity period");
	}
	if (a > 0)
		return pvsub_diag_set(diag, EKEYEXPIRED,
				      "certificate %s is not valid yet (notBefore %s)", name, when);
	return pvsub_diag_set(diag, EKEYEXPIRED, "certificate %s expired (notAfter %s)", name,
			      when);
}

static int x509_pem(X509 *x, struct pvsub_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;
	int r = -ENOMEM;

	if (!bio)
		return -ENOMEM;
	if (PEM_write_bio_X509(bio, x)) {
		n = BIO_get_mem_data(bio, &p);
		r = n > 0 ? pvsub_buf_append(out, p, (size_t)n) : -EIO;
	}
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

int pvsub_signer_cert_pem(const struct pvsub_signer *s, struct pvsub_buf *out)
{
	return x509_pem(s->cert, out);
}

int pvsub_cms_sign(const struct pvsub_signer *s, enum pvsub_hash hash, unsigned flags,
		   const void *data, size_t len, struct pvsub_buf *out, struct pvsub_diag *diag)
{
	/* As the kernel's sign-file does: partial, then one signer without
	 * attributes or S/MIME capabilities, then final over the raw bytes. */
	unsigned common = CMS_BINARY | CMS_DETACHED | CMS_NOSMIMECAP |
			  ((flags & PVSUB_SIGN_NOCERTS) ? CMS_NOCERTS : 0);
	const EVP_MD *md = hash_md(hash);
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL;
	unsigned char *der = NULL;
	int n, r;

	ERR_clear_error();
	if (!md || len > INT_MAX || (!data && len))
		return pvsub_diag_set(diag, EINVAL, "invalid signing request");
	in = BIO_new_mem_buf(len ? data : "", (int)len);
	if (!in) {
		r = -ENOMEM;
		goto out;
	}
	cms = CMS_sign(NULL, NULL, NULL, NULL, common | CMS_PARTIAL);
	if (!cms) {
		r = pvsub_crypto_diag(diag, EIO, "cannot create CMS");
		goto out;
	}
	if (!CMS_add1_signer(cms, s->cert, s->key, md, common | CMS_NOATTR)) {
		r = pvsub_crypto_diag(diag, EIO, "cannot add the signer");
		goto out;
	}
	if (!CMS_final(cms, in, NULL, common)) {
		r = pvsub_crypto_diag(diag, EIO, "cannot sign");
		goto out;
	}
	n = i2d_CMS_ContentInfo(cms, &der);
	if (n <= 0) {
		r = pvsub_crypto_diag(diag, EIO, "cannot encode the signature");
		goto out;
	}
	r = pvsub_buf_append(out, der, (size_t)n);
out:
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return r;
}

/* ---- trust ---------------------------------------------------------------------- */

struct pvsub_trust {
	STACK_OF(X509) * certs;
	X509_STORE *store;
};

void pvsub_trust_free(struct pvsub_trust *t)
{
	if (!t)
		return;
	X509_STORE_free(t->store);
	sk_X509_pop_free(t->certs, X509_free);
	free(t);
}

static int trust_from_bio(BIO *bio, const char *name, struct pvsub_trust **out,
			  struct pvsub_diag *diag)
{
	struct pvsub_trust *t;
	X509 *x;
	int r;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->certs = sk_X509_new_null();
	t->store = X509_STORE_new();
	if (!t->certs || !t->store) {
		r = -ENOMEM;
		goto err;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(t->certs, x)) {
			X509_free(x);
			r = -ENOMEM;
			goto err;
		}
		if (!X509_STORE_add_cert(t->store, x)) {
			r = pvsub_crypto_diag(diag, EINVAL, name);
			goto err;
		}
	}
	/* reading stops at the end of the file with a "no start line" error */
	ERR_clear_error();
	if (sk_X509_num(t->certs) == 0) {
		r = pvsub_diag_set(diag, EINVAL, "%s: no PEM certificate", name);
		goto err;
	}
	*out = t;
	return 0;
err:
	pvsub_trust_free(t);
	return r;
}

int pvsub_trust_load(const char *pem_path, struct pvsub_trust **out, struct pvsub_diag *diag)
{
	BIO *bio = NULL;
	int r;

	ERR_clear_error();
	r = open_file_bio(pem_path, &bio, diag);
	if (r < 0)
		return r;
	r = trust_from_bio(bio, pem_path, out, diag);
	BIO_free(bio);
	return r;
}

int pvsub_trust_load_mem(const void *pem, size_t len, struct pvsub_trust **out,
			 struct pvsub_diag *diag)
{
	BIO *bio;
	int r;

	ERR_clear_error();
	if (len > INT_MAX)
		return pvsub_diag_set(diag, EINVAL, "certificate file too large");
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return -ENOMEM;
	r = trust_from_bio(bio, "certificate", out, diag);
	BIO_free(bio);
	return r;
}

/* ---- verification ---------------------------------------------------------------- */

static bool algor_params_null_or_absent(const X509_ALGOR *a)
{
	int ptype;

	X509_ALGOR_get0(NULL, &ptype, NULL, a);
	return ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL;
}

static bool algor_params_absent(const X509_ALGOR *a)
{
	int ptype;

	X509_ALGOR_get0(NULL, &ptype, NULL, a);
	return ptype == V_ASN1_UNDEF;
}

static int algor_nid(const X509_ALGOR *a)
{
	const ASN1_OBJECT *obj;

	X509_ALGOR_get0(&obj, NULL, NULL, a);
	return OBJ_obj2nid(obj);
}

static int ecdsa_nid_for(int md_nid)
{
	switch (md_nid) {
	case NID_sha256:
		return NID_ecdsa_with_SHA256;
	case NID_sha384:
		return NID_ecdsa_with_SHA384;
	case NID_sha512:
		return NID_ecdsa_with_SHA512;
	}
	return NID_undef;
}

/*
 * CMS verification leaves parts of SignedData unchecked (version numbers,
 * the digestAlgorithms set, the content type, algorithm parameters, a
 * "signature algorithm" that only selects the key type).  A byte flipped
 * there would still verify, so accept exactly one form: the DER that pvsub
 * and the kernel's sign-file write -- one signer named by issuer and serial,
 * no unsigned attributes, no CRLs, detached id-data content.
 */
static const char *canonical_problem(const uint8_t *sig, size_t len, bool allow_certs)
{
	const unsigned char *p = sig;
	unsigned char *der = NULL;
	PKCS7_SIGNED *sd;
	PKCS7_SIGNER_INFO *si;
	PKCS7 *p7 = NULL;
	const char *problem = NULL;
	int n, md_nid, enc_nid;

	if (len > LONG_MAX)
		return "signature too large";
	p7 = d2i_PKCS7(NULL, &p, (long)len);
	if (!p7 || p != sig + len) {
		problem = "not a DER CMS SignedData";
		goto out;
	}
	n = i2d_PKCS7(p7, &der);
	if (n < 0 || (size_t)n != len || memcmp(der, sig, len) != 0) {
		problem = "not in canonical DER";
		goto out;
	}
	if (!PKCS7_type_is_signed(p7) || !(sd = p7->d.sign)) {
		problem = "not SignedData";
		goto out;
	}
	if (ASN1_INTEGER_get(sd->version) != 1 || !sd->contents ||
	    !PKCS7_type_is_data(sd->contents) || sd->contents->d.data) {
		problem = "not a version 1 detached SignedData over data";
		goto out;
	}
	if (sk_X509_CRL_num(sd->crl) > 0) {
		problem = "carries CRLs";
		goto out;
	}
	if (!allow_certs && sk_X509_num(sd->cert) > 0) {
		problem = "carries certificates";
		goto out;
	}
	if (sk_PKCS7_SIGNER_INFO_num(sd->signer_info) != 1) {
		problem = "not exactly one signer";
		goto out;
	}
	si = sk_PKCS7_SIGNER_INFO_value(sd->signer_info, 0);
	if (ASN1_INTEGER_get(si->version) != 1 || sk_X509_ATTRIBUTE_num(si->unauth_attr) > 0) {
		problem = "signer is not version 1 or has unsigned attributes";
		goto out;
	}
	md_nid = algor_nid(si->digest_alg);
	if ((md_nid != NID_sha256 && md_nid != NID_sha384 && md_nid != NID_sha512) ||
	    !algor_params_null_or_absent(si->digest_alg)) {
		problem = "digest algorithm is not SHA-256, SHA-384 or SHA-512";
		goto out;
	}
	if (sk_X509_ALGOR_num(sd->md_algs) != 1 ||
	    X509_ALGOR_cmp(sk_X509_ALGOR_value(sd->md_algs, 0), si->digest_alg) != 0) {
		problem = "digest algorithm list does not match the signer";
		goto out;
	}
	enc_nid = algor_nid(si->digest_enc_alg);
	if (!((enc_nid == NID_rsaEncryption && algor_params_null_or_absent(si->digest_enc_alg)) ||
	      (enc_nid == ecdsa_nid_for(md_nid) && algor_params_absent(si->digest_enc_alg))))
		problem = "unsupported signature algorithm";
out:
	OPENSSL_free(der);
	PKCS7_free(p7);
	ERR_clear_error();
	return problem;
}

static int parse_cms(const uint8_t *sig, size_t len, bool allow_certs, CMS_ContentInfo **out,
		     struct pvsub_diag *diag)
{
	const unsigned char *p = sig;
	const char *problem;

	problem = canonical_problem(sig, len, allow_certs);
	if (problem)
		return pvsub_diag_set(diag, EBADMSG, "bad signature: %s", problem);
	*out = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (!*out)
		return pvsub_crypto_diag(diag, EBADMSG, "bad signature");
	return 0;
}

static void name_of(X509 *x, char *buf, size_t size)
{
	X509_NAME_oneline(X509_get_subject_name(x), buf, (int)size);
}

static int check_signature(CMS_ContentInfo *cms, STACK_OF(X509) * certs, const void *data,
			   size_t len, unsigned extra, struct pvsub_diag *diag)
{
	BIO *in;
	int ok;

	if (len > INT_MAX)
		return pvsub_diag_set(diag, EINVAL, "signed data too large");
	in = BIO_new_mem_buf(len ? data : "", (int)len);
	if (!in)
		return -ENOMEM;
	ok = CMS_verify(cms, certs, NULL, in, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY | extra);
	BIO_free(in);
	if (!ok)
		return pvsub_crypto_diag(diag, EBADMSG, "bad signature");
	return 0;
}

static bool in_stack(STACK_OF(X509) * sk, X509 *x)
{
	for (int i = 0; i < sk_X509_num(sk); i++)
		if (X509_cmp(sk_X509_value(sk, i), x) == 0)
			return true;
	return false;
}

int pvsub_cms_verify_chain(const uint8_t *sig, size_t sig_len, const void *data, size_t len,
			   const struct pvsub_trust *ca, struct pvsub_buf *signer_pem,
			   struct pvsub_diag *diag)
{
	return pvsub_cms_verify_chain_signer(sig, sig_len, data, len, ca, signer_pem, NULL, 0,
					     diag);
}

int pvsub_cms_verify_chain_signer(const uint8_t *sig, size_t sig_len, const void *data, size_t len,
				  const struct pvsub_trust *ca, struct pvsub_buf *signer_pem,
				  char *subject, size_t subject_size, struct pvsub_diag *diag)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *signers = NULL, *embedded = NULL, *chain;
	X509_STORE_CTX *ctx = NULL;
	X509 *signer;
	char name[256];
	int r, verr;

	ERR_clear_error();
	r = parse_cms(sig, sig_len, true, &cms, diag);
	if (r < 0)
		goto out;
	r = check_signature(cms, NULL, data, len, 0, diag);
	if (r < 0)
		goto out;
	signers = CMS_get0_signers(cms);
	embedded = CMS_get1_certs(cms);
	if (sk_X509_num(signers) != 1 || !embedded) {
		r = pvsub_diag_set(diag, EBADMSG, "bad signature: no signer certificate");
		goto out;
	}
	signer = sk_X509_value(signers, 0);
	name_of(signer, name, sizeof(name));
	/* a certificate restricted to other uses (a CA's keyCertSign, say) does
	 * not vouch for signatures */
	if ((X509_get_extension_flags(signer) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(signer) & KU_DIGITAL_SIGNATURE)) {
		r = pvsub_diag_set(
			diag, EKEYREJECTED,
			"untrusted signer: %s: key usage does not include digitalSignature", name);
		goto out;
	}

	ctx = X509_STORE_CTX_new();
	if (!ctx || !X509_STORE_CTX_init(ctx, ca->store, signer, embedded)) {
		r = pvsub_crypto_diag(diag, ENOMEM, "cannot set up chain verification");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		verr = X509_STORE_CTX_get_error(ctx);
		if (verr == X509_V_ERR_CERT_HAS_EXPIRED || verr == X509_V_ERR_CERT_NOT_YET_VALID)
			r = pvsub_diag_set(diag, EKEYEXPIRED, "expired certificate: %s: %s", name,
					   X509_verify_cert_error_string(verr));
		else
			r = pvsub_diag_set(diag, EKEYREJECTED, "untrusted signer: %s: %s", name,
					   X509_verify_cert_error_string(verr));
		ERR_clear_error();
		goto out;
	}
	/* an unused certificate could be altered without any check noticing */
	chain = X509_STORE_CTX_get0_chain(ctx);
	for (int i = 0; i < sk_X509_num(embedded); i++) {
		if (!in_stack(chain, sk_X509_value(embedded, i))) {
			r = pvsub_diag_set(
				diag, EBADMSG,
				"bad signature: carries a certificate outside the chain");
			goto out;
		}
	}
	if (subject && subject_size)
		name_of(signer, subject, subject_size);
	if (signer_pem)
		r = x509_pem(signer, signer_pem);
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(embedded, X509_free);
	sk_X509_free(signers);
	CMS_ContentInfo_free(cms);
	return r;
}

int pvsub_cert_pem_subject(const void *pem, size_t len, char *out, size_t size)
{
	BIO *bio;
	X509 *x = NULL;

	if (size == 0 || len > INT_MAX)
		return -EINVAL;
	out[0] = '\0';
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return -ENOMEM;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!x)
		return -EINVAL;
	name_of(x, out, size);
	X509_free(x);
	return 0;
}

int pvsub_cms_verify_keyring(const uint8_t *sig, size_t sig_len, const void *data, size_t len,
			     const struct pvsub_trust *keyring, struct pvsub_diag *diag)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) * sis;
	STACK_OF(X509) *match = NULL;
	CMS_SignerInfo *si;
	X509 *found = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *serial = NULL;
	char iname[256] = "?";
	int r;

	ERR_clear_error();
	r = parse_cms(sig, sig_len, false, &cms, diag);
	if (r < 0)
		goto out;
	sis = CMS_get0_SignerInfos(cms);
	si = sk_CMS_SignerInfo_value(sis, 0);
	for (int i = 0; si && i < sk_X509_num(keyring->certs) && !found; i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(keyring->certs, i)) == 0)
			found = sk_X509_value(keyring->certs, i);
	if (!found) {
		if (si && CMS_SignerInfo_get0_signer_id(si, NULL, &issuer, &serial) == 1 && issuer)
			X509_NAME_oneline(issuer, iname, sizeof(iname));
		r = pvsub_diag_set(diag, EKEYREJECTED,
				   "untrusted signer: no keyring certificate matches issuer %s",
				   iname);
		ERR_clear_error();
		goto out;
	}
	match = sk_X509_new_null();
	if (!match || !sk_X509_push(match, found)) {
		r = -ENOMEM;
		goto out;
	}
	r = check_signature(cms, match, data, len, CMS_NOINTERN, diag);
out:
	sk_X509_free(match);
	CMS_ContentInfo_free(cms);
	return r;
}
