/* SPDX-License-Identifier: MIT */
/* pvsub-sign bundle: sign a manifest and pack it with its driver. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/bundle.h"
#include "libpvsub/manifest_read.h"
#include "pvsub-sign/pvsub-sign.h"

enum {
	OPT_HELP = 0x100,
};

static const struct option options[] = {
	SIGNER_LONG_OPTIONS,
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, OPT_HELP},
	VERSION_LONG_OPTION,
	{NULL, 0, NULL, 0},
};

static void usage(void)
{
	printf("Usage: " PROGRAM " bundle --key KEY --cert CERT -o OUT DRIVER MANIFEST\n"
	       "Sign MANIFEST and write OUT, a reproducible ustar archive of DRIVER (under its\n"
	       "base name), manifest.xml, manifest.xml.p7s and signer.pem.  The manifest must\n"
	       "be valid and describe DRIVER.\n"
	       "\n"
	       "  -k, --key=KEY             PEM private key file or pkcs11: URI\n"
	       "  -c, --cert=CERT           PEM certificate of the key\n"
	       "      --pass-file=FILE      passphrase or PIN: first line of FILE\n"
	       "                            (default: $PVSUB_KEY_PASS)\n"
	       "      --hash=ALG            sha256 (default), sha384 or sha512\n"
	       "  -o, --output=OUT          the bundle to write\n"
	       "      --help                display this help and exit\n"
	       "      --version             output version information and exit\n"
	       "\n"
	       "DRIVER must be an uncompressed x86-64 ELF object: relocatable (a kernel module\n"
	       "or driver object), shared or executable.\n");
}

/* Refuse a driver that is not an x86-64 ELF object (pvsub-sign(1)). */
static int check_driver(const char *path, const struct pvsub_bundle *b)
{
	struct pvsub_diag d = {{0}};

	if (pvsub_bundle_check_driver(b->driver.data, b->driver.len, &d) < 0) {
		error_msg("%s: %s", path, d.msg);
		return EXIT_USAGE;
	}
	return 0;
}

/* Refuse to sign a manifest that would not verify against this driver. */
static int check_manifest(const char *m_path, const struct pvsub_bundle *b)
{
	struct pvsub_manifest_info *info = NULL;
	struct pvsub_diag d = {{0}};
	char hex[PVSUB_SHA256_HEX_LEN];
	int r = 0;

	if (pvsub_manifest_read((const char *)b->manifest.data, b->manifest.len, &info, &d) < 0) {
		error_msg("%s: schema error: %s", m_path, d.msg);
		return EXIT_USAGE;
	}
	if (info->image) {
		error_msg("%s: an image manifest is not bundled (a bundle holds a driver): "
			  "sign it with 'sign' and check it with 'verify --manifest'",
			  m_path);
		r = EXIT_USAGE;
	} else if (pvsub_sha256_hex(b->driver.data, b->driver.len, hex) < 0 ||
		   info->object_size != b->driver.len || strcmp(hex, info->object_sha256) != 0) {
		error_msg("%s: hash mismatch: the manifest does not describe %s", m_path,
			  b->driver_name);
		r = EXIT_USAGE;
	}
	pvsub_manifest_info_free(info);
	return r;
}

int cmd_bundle(int argc, char **argv)
{
	struct signer_opts so = {.hash = PVSUB_HASH_SHA256};
	const char *output = NULL;
	struct pvsub_signer *signer = NULL;
	struct pvsub_bundle b = {0};
	struct pvsub_buf sig = {0}, pem = {0}, out = {0};
	struct pvsub_diag d = {{0}};
	char *copy = NULL;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:c:o:", options, NULL)) != -1) {
		r = signer_option(c, optarg, "bundle", &so);
		if (r == EXIT_USAGE)
			return r;
		if (r)
			continue;
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case OPT_HELP:
			usage();
			return EXIT_GOOD;
		case OPT_VERSION:
			print_version();
			return EXIT_GOOD;
		default:
			return option_error("bundle", argv, c, options);
		}
	}
	if (!output)
		return usage_error("bundle", "no output (-o)");
	if (optind + 2 != argc)
		return usage_error("bundle", "need DRIVER and MANIFEST");

	copy = strdup(argv[optind]);
	if (!copy) {
		error_msg("out of memory");
		return EXIT_USAGE;
	}
	b.driver_name = basename(copy);
	if (!pvsub_bundle_driver_name_ok(b.driver_name)) {
		r = usage_error("bundle", "%s: the driver's file name cannot be a bundle member",
				argv[optind]);
		goto out;
	}
	if (!so.key || !so.cert) {
		r = usage_error("bundle", "--key and --cert are required");
		goto out;
	}
	r = read_input(argv[optind], &b.driver.data, &b.driver.len);
	if (!r)
		r = check_driver(argv[optind], &b);
	if (!r)
		r = read_input(argv[optind + 1], &b.manifest.data, &b.manifest.len);
	if (!r)
		r = check_manifest(argv[optind + 1], &b);
	if (!r)
		r = load_signer("bundle", so.key, so.cert, so.pass_file, &signer);
	if (r)
		goto out;
	if (pvsub_cms_sign(signer, so.hash, 0, b.manifest.data, b.manifest.len, &sig, &d) < 0) {
		error_msg("%s: %s", argv[optind + 1], d.msg);
		r = EXIT_USAGE;
		goto out;
	}
	if (pvsub_signer_cert_pem(signer, &pem) < 0) {
		error_msg("%s: cannot encode the certificate", so.cert);
		r = EXIT_USAGE;
		goto out;
	}
	b.signature = (struct pvsub_bundle_member){(uint8_t *)sig.data, sig.len};
	b.cert = (struct pvsub_bundle_member){(uint8_t *)pem.data, pem.len};
	if (pvsub_bundle_write(&b, &out, &d) < 0 ||
	    pvsub_write_file_atomic(output, out.data, out.len, 0644, &d) < 0) {
		error_msg("%s: %s", output, d.msg);
		r = EXIT_USAGE;
	}
out:
	pvsub_buf_release(&out);
	pvsub_buf_release(&pem);
	pvsub_buf_release(&sig);
	free(b.manifest.data);
	free(b.driver.data);
	free(copy);
	pvsub_signer_free(signer);
	return r;
}
