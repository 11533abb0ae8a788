/* SPDX-License-Identifier: MIT */
/*
 * pvsub-sign verify: module signatures against a keyring; manifests (alone
 * or in a bundle) against a CA, the schema and the binary they describe.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/bundle.h"
#include "libpvsub/manifest.h"
#include "libpvsub/modsign.h"
#include "pvsub-sign/pvsub-sign.h"

enum {
	OPT_KEYRING = 0x100,
	OPT_CA,
	OPT_MANIFEST,
	OPT_BINARY,
	OPT_SIGNATURE,
	OPT_REQUIRE_CERTIFIED,
	OPT_HELP,
};

static const struct option options[] = {
	{"module", no_argument, NULL, 'm'},
	{"keyring", required_argument, NULL, OPT_KEYRING},
	{"ca", required_argument, NULL, OPT_CA},
	{"manifest", required_argument, NULL, OPT_MANIFEST},
	{"binary", required_argument, NULL, OPT_BINARY},
	{"signature", required_argument, NULL, OPT_SIGNATURE},
	{"require-certified", no_argument, NULL, OPT_REQUIRE_CERTIFIED},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, OPT_HELP},
	VERSION_LONG_OPTION,
	{NULL, 0, NULL, 0},
};

static void usage(void)
{
	printf("Usage: " PROGRAM " verify --module --keyring CERTS MODULE.ko...\n"
	       "  or:  " PROGRAM " verify --ca CA --manifest M --binary B\n"
	       "  or:  " PROGRAM " verify --ca CA BUNDLE...\n"
	       "Verify appended module signatures as the kernel does, or a signed manifest:\n"
	       "its signature, the signer's chain to CA, the manifest schema and that its\n"
	       "hashes match the binary.\n"
	       "\n"
	       "  -m, --module              verify appended module signatures\n"
	       "      --keyring=CERTS       PEM file of trusted signer certificates (--module)\n"
	       "      --ca=CA               PEM file of trusted CA certificates\n"
	       "      --manifest=M          the manifest; its signature is M.p7s\n"
	       "      --signature=SIG       the manifest's signature, instead of M.p7s\n"
	       "      --binary=B            the object the manifest describes\n"
	       "      --require-certified   also fail unless the verdict is certified\n"
	       "  -q, --quiet               print nothing on success\n"
	       "      --help                display this help and exit\n"
	       "      --version             output version information and exit\n"
	       "\n"
	       "Exit status: 0 verified, 1 verification failed, 2 usage or input error.\n");
}

struct verify_opts {
	const char *keyring, *ca, *manifest, *binary, *signature;
	bool module, require_certified, quiet;
};

/* Print the one-line reason of a failed verification; the exit status. */
static int report(const char *what, int err, const struct pvsub_diag *d)
{
	error_msg("%s: %s", what, d->msg[0] ? d->msg : strerror(-err));
	return is_verification_failure(err) ? EXIT_FAILED : EXIT_USAGE;
}

static int load_trust(const char *path, struct pvsub_trust **out)
{
	struct pvsub_diag d = {{0}};

	if (pvsub_trust_load(path, out, &d) < 0) {
		error_msg("%s", d.msg);
		return EXIT_USAGE;
	}
	return 0;
}

static int verify_module(const char *path, const struct pvsub_trust *keyring, bool quiet)
{
	struct pvsub_diag d = {{0}};
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	r = read_input(path, &data, &len);
	if (r)
		return r;
	r = pvsub_modsig_verify(data, len, keyring, &d);
	free(data);
	if (r < 0)
		return report(path, r, &d);
	if (!quiet)
		printf("%s: module signature OK\n", path);
	return EXIT_GOOD;
}

/* The manifest's hashes against the binary: size and SHA-256 of the whole
 * object, then each executable region. */
static int check_hashes(const char *bin_name, const struct pvsub_manifest_info *m,
			const uint8_t *bin, size_t len)
{
	char hex[PVSUB_SHA256_HEX_LEN];

	if (len != m->object_size) {
		error_msg("%s: hash mismatch: size %zu, the manifest says %" PRIu64, bin_name, len,
			  m->object_size);
		return EXIT_FAILED;
	}
	if (pvsub_sha256_hex(bin, len, hex) < 0) {
		error_msg("%s: cannot hash", bin_name);
		return EXIT_USAGE;
	}
	if (strcmp(hex, m->object_sha256) != 0) {
		error_msg("%s: hash mismatch: SHA-256 %s, the manifest says %s", bin_name, hex,
			  m->object_sha256);
		return EXIT_FAILED;
	}
	for (size_t i = 0; i < m->n_regions; i++) {
		const struct pvsub_manifest_region *g = &m->regions[i];

		if (g->file_offset > len || g->size > len - g->file_offset) {
			error_msg("%s: hash mismatch: region %s lies outside the file", bin_name,
				  g->name);
			return EXIT_FAILED;
		}
		if (pvsub_sha256_hex(bin + g->file_offset, g->size, hex) < 0) {
			error_msg("%s: cannot hash", bin_name);
			return EXIT_USAGE;
		}
		if (strcmp(hex, g->sha256) != 0) {
			error_msg("%s: hash mismatch: region %s", bin_name, g->name);
			return EXIT_FAILED;
		}
	}
	return EXIT_GOOD;
}

/*
 * The checks shared by a manifest on disk and one in a bundle, in the order
 * that names the most useful failure: signature and chain, schema, hashes.
 * @signer_pem receives the signer's certificate.
 */
static int verify_manifest_bytes(const char *m_name, const uint8_t *manifest, size_t m_len,
				 const uint8_t *sig, size_t sig_len, const char *b_name,
				 const uint8_t *bin, size_t b_len, const struct pvsub_trust *ca,
				 bool require_certified, struct pvsub_buf *signer_pem)
{
	struct pvsub_manifest_info *info = NULL;
	struct pvsub_diag d = {{0}};
	int r;

	r = pvsub_cms_verify_chain(sig, sig_len, manifest, m_len, ca, signer_pem, &d);
	if (r < 0)
		return report(m_name, r, &d);
	r = pvsub_manifest_read((const char *)manifest, m_len, &info, &d);
	if (r == -EINVAL) {
		error_msg("%s: schema error: %s", m_name, d.msg);
		return EXIT_FAILED;
	}
	if (r < 0)
		return report(m_name, r, &d);
	r = check_hashes(b_name, info, bin, b_len);
	if (r == EXIT_GOOD && require_certified &&
	    !pvsub_verdict_certifies(info->verdict)) {
		error_msg("%s: verdict is not certified", m_name);
		r = EXIT_FAILED;
	}
	pvsub_manifest_info_free(info);
	return r;
}

static int verify_manifest(const struct verify_opts *o, const struct pvsub_trust *ca)
{
	uint8_t *manifest = NULL, *sig = NULL, *bin = NULL;
	size_t m_len = 0, s_len = 0, b_len = 0;
	char *sig_path = NULL;
	int r;

	if (!o->signature && asprintf(&sig_path, "%s.p7s", o->manifest) < 0) {
		error_msg("out of memory");
		return EXIT_USAGE;
	}
	r = read_input(o->manifest, &manifest, &m_len);
	if (!r)
		r = read_input(o->signature ? o->signature : sig_path, &sig, &s_len);
	if (!r)
		r = read_input(o->binary, &bin, &b_len);
	if (!r)
		r = verify_manifest_bytes(o->manifest, manifest, m_len, sig, s_len, o->binary, bin,
					  b_len, ca, o->require_certified, NULL);
	if (!r && !o->quiet)
		printf("%s: manifest OK for %s\n", o->manifest, o->binary);
	free(bin);
	free(sig);
	free(manifest);
	free(sig_path);
	return r;
}

static int verify_bundle(const char *path, const struct verify_opts *o,
			 const struct pvsub_trust *ca)
{
	struct pvsub_bundle b = {0};
	struct pvsub_buf signer_pem = {0};
	struct pvsub_diag d = {{0}};
	uint8_t *data = NULL;
	size_t len = 0;
	char *m_name = NULL;
	int r;

	r = read_input(path, &data, &len);
	if (r)
		return r;
	if (pvsub_bundle_read(data, len, INPUT_MAX, &b, &d) < 0) {
		error_msg("%s: %s", path, d.msg);
		r = EXIT_FAILED;
		goto out;
	}
	if (asprintf(&m_name, "%s: %s", path, PVSUB_BUNDLE_MANIFEST) < 0) {
		m_name = NULL;
		r = EXIT_USAGE;
		goto out;
	}
	r = verify_manifest_bytes(m_name, b.manifest.data, b.manifest.len, b.signature.data,
				  b.signature.len, b.driver_name, b.driver.data, b.driver.len, ca,
				  o->require_certified, &signer_pem);
	if (r)
		goto out;
	/* the enclosed certificate must be the one that signed, so that no byte
	 * of the bundle goes unchecked */
	if (signer_pem.len != b.cert.len || memcmp(signer_pem.data, b.cert.data, b.cert.len) != 0) {
		error_msg("%s: bad signature: %s is not the signer's certificate", path,
			  PVSUB_BUNDLE_CERT);
		r = EXIT_FAILED;
		goto out;
	}
	if (!o->quiet)
		printf("%s: bundle OK (%s)\n", path, b.driver_name);
out:
	free(m_name);
	pvsub_buf_release(&signer_pem);
	pvsub_bundle_release(&b);
	free(data);
	return r;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_opts o = {0};
	struct pvsub_trust *trust = NULL;
	int c, r = EXIT_GOOD;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":mq", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			o.module = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case OPT_KEYRING:
			o.keyring = optarg;
			break;
		case OPT_CA:
			o.ca = optarg;
			break;
		case OPT_MANIFEST:
			o.manifest = optarg;
			break;
		case OPT_BINARY:
			o.binary = optarg;
			break;
		case OPT_SIGNATURE:
			o.signature = optarg;
			break;
		case OPT_REQUIRE_CERTIFIED:
			o.require_certified = true;
			break;
		case OPT_HELP:
			usage();
			return EXIT_GOOD;
		case OPT_VERSION:
			print_version();
			return EXIT_GOOD;
		default:
			return option_error("verify", argv, c, options);
		}
	}

	if (o.module) {
		if (!o.keyring)
			return usage_error("verify", "--module needs --keyring");
		if (o.ca || o.manifest || o.binary || o.signature)
			return usage_error("verify", "--module takes only --keyring");
		if (optind == argc)
			return usage_error("verify", "no module");
		r = load_trust(o.keyring, &trust);
		if (r)
			goto out;
		/* keep going: each module gets its line, the worst result wins */
		for (int i = optind; i < argc; i++) {
			int one = verify_module(argv[i], trust, o.quiet);

			r = PVSUB_MAX(r, one);
		}
		goto out;
	}

	if (!o.ca)
		return usage_error("verify", "--ca or --module is required");
	if (o.keyring)
		return usage_error("verify", "--keyring is for --module");
	if (o.manifest || o.binary || o.signature) {
		if (!o.manifest || !o.binary)
			return usage_error("verify", "--manifest and --binary go together");
		if (optind != argc)
			return usage_error("verify", "no file arguments with --manifest");
		r = load_trust(o.ca, &trust);
		if (!r)
			r = verify_manifest(&o, trust);
		goto out;
	}
	if (optind == argc)
		return usage_error("verify", "no bundle");
	r = load_trust(o.ca, &trust);
	if (r)
		goto out;
	for (int i = optind; i < argc; i++) {
		int one = verify_bundle(argv[i], &o, trust);

		r = PVSUB_MAX(r, one);
	}
out:
	pvsub_trust_free(trust);
	return r;
}
