/* SPDX-License-Identifier: MIT */
/* pvsub-sign sign: a detached CMS signature, or an appended module signature. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "libpvsub/modsign.h"
#include "pvsub-sign/pvsub-sign.h"

enum {
	OPT_HELP = 0x100,
};

static const struct option options[] = {
	SIGNER_LONG_OPTIONS,
	{"module", no_argument, NULL, 'm'},
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, OPT_HELP},
	VERSION_LONG_OPTION,
	{NULL, 0, NULL, 0},
};

static void usage(void)
{
	printf("Usage: " PROGRAM " sign --key KEY --cert CERT [OPTION]... FILE\n"
	       "  or:  " PROGRAM " sign --module --key KEY --cert CERT [OPTION]... MODULE.ko\n"
	       "Write a detached CMS signature (DER) of FILE to FILE.p7s, or append a Linux\n"
	       "module signature to MODULE.ko (replacing any signature already there).\n"
	       "\n"
	       "  -k, --key=KEY             PEM private key file or pkcs11: URI\n"
	       "  -c, --cert=CERT           PEM certificate of the key\n"
	       "      --pass-file=FILE      passphrase or PIN: first line of FILE\n"
	       "                            (default: $PVSUB_KEY_PASS)\n"
	       "      --hash=ALG            sha256 (default), sha384 or sha512\n"
	       "  -m, --module              append a kernel module signature\n"
	       "  -o, --output=OUT          write here (default: FILE.p7s; the module in place)\n"
	       "      --help                display this help and exit\n"
	       "      --version             output version information and exit\n"
	       "\n"
	       "With --module, MODULE.ko must be an uncompressed x86-64 ELF relocatable object:\n"
	       "anything else (a .ko.xz, .ko.gz or .ko.zst, a text file) is refused and left\n"
	       "untouched.  A certificate outside its validity period gives a warning.\n");
}

static int write_out(const char *path, const void *data, size_t len, unsigned mode)
{
	struct pvsub_diag d = {{0}};

	if (pvsub_write_file_atomic(path, data, len, mode, &d) < 0) {
		error_msg("%s: %s", path, d.msg);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_sign(int argc, char **argv)
{
	struct signer_opts so = {.hash = PVSUB_HASH_SHA256};
	const char *output = NULL, *input;
	struct pvsub_signer *signer = NULL;
	struct pvsub_buf out = {0};
	struct pvsub_diag d = {{0}};
	bool module = false;
	uint8_t *data = NULL;
	size_t len = 0;
	char *sig_path = NULL;
	unsigned mode = 0644;
	struct stat st;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:c:mo:", options, NULL)) != -1) {
		r = signer_option(c, optarg, "sign", &so);
		if (r == EXIT_USAGE)
			return r;
		if (r)
			continue;
		switch (c) {
		case 'm':
			module = true;
			break;
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
			return option_error("sign", argv, c, options);
		}
	}
	if (optind + 1 != argc)
		return usage_error("sign",
				   optind == argc ? "no input file" : "more than one input");
	input = argv[optind];

	if (!so.key || !so.cert)
		return usage_error("sign", "--key and --cert are required");
	r = read_input(input, &data, &len);
	if (r)
		goto out;
	/* before the key: a file that cannot be signed is refused whatever
	 * the key, and nothing is written */
	if (module) {
		r = check_signable(input, data, len);
		if (r)
			goto out;
	}
	r = load_signer("sign", so.key, so.cert, so.pass_file, &signer);
	if (r)
		goto out;

	if (module) {
		if (pvsub_modsig_sign(signer, so.hash, data, len, &out, &d) < 0) {
			error_msg("%s: %s", input, d.msg);
			r = EXIT_USAGE;
			goto out;
		}
		/* in place keeps the module's permissions */
		if (!output && stat(input, &st) == 0)
			mode = st.st_mode & 07777;
		r = write_out(output ? output : input, out.data, out.len, mode);
		goto out;
	}

	if (pvsub_cms_sign(signer, so.hash, 0, data, len, &out, &d) < 0) {
		error_msg("%s: %s", input, d.msg);
		r = EXIT_USAGE;
		goto out;
	}
	if (!output) {
		if (asprintf(&sig_path, "%s.p7s", input) < 0) {
			sig_path = NULL;
			error_msg("out of memory");
			r = EXIT_USAGE;
			goto out;
		}
		output = sig_path;
	}
	r = write_out(output, out.data, out.len, 0644);
out:
	free(sig_path);
	free(data);
	pvsub_buf_release(&out);
	pvsub_signer_free(signer);
	return r;
}
