/* SPDX-License-Identifier: MIT */
/*
 * pvsub-sign: sign and verify subtraction manifests and Linux modules, and
 * pack a signed driver into a reproducible bundle (DESIGN §7).
 *
 * One file per subcommand; this one dispatches and holds what they share.
 * The cryptography is in libpvsub/crypto, the module trailer in
 * libpvsub/modsig, the archive in libpvsub/bundle.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libpvsub/modsig.h"
#include "pvsub-sign/pvsub-sign.h"

int read_input(const char *path, uint8_t **data, size_t *len)
{
	struct pvsub_diag d = {{0}};

	if (pvsub_read_file(path, INPUT_MAX, data, len, &d) < 0) {
		error_msg("%s: %s", path, d.msg[0] ? d.msg : "cannot read");
		return EXIT_USAGE;
	}
	return 0;
}

/* The first line of @path, without its newline. */
static int read_pass_file(const char *path, char **out)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	r = read_input(path, &data, &len);
	if (r)
		return r;
	data[strcspn((char *)data, "\r\n")] = '\0';
	*out = (char *)data;
	return 0;
}

int signer_option(int c, const char *arg, const char *cmd, struct signer_opts *o)
{
	switch (c) {
	case 'k':
		o->key = arg;
		return 1;
	case 'c':
		o->cert = arg;
		return 1;
	case OPT_SIGNER_HASH:
		if (pvsub_hash_from_name(arg, &o->hash) < 0)
			return usage_error(cmd, "invalid hash '%s'", arg);
		return 1;
	case OPT_SIGNER_PASS_FILE:
		o->pass_file = arg;
		return 1;
	}
	return 0;
}

int load_signer(const char *cmd, const char *key, const char *cert, const char *pass_file,
		struct pvsub_signer **out)
{
	struct pvsub_diag d = {{0}};
	char *pass = NULL;
	const char *env = getenv("PVSUB_KEY_PASS");
	int r;

	if (!key || !cert)
		return usage_error(cmd, "--key and --cert are required");
	if (pass_file) {
		r = read_pass_file(pass_file, &pass);
		if (r)
			return r;
	} else if (env) {
		pass = strdup(env);
		if (!pass) {
			error_msg("out of memory");
			return EXIT_USAGE;
		}
	}
	r = pvsub_signer_load(key, cert, pass, out, &d);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	/* the library names the file that failed */
	if (r == -ENOKEY) {
		error_msg("%s; give it with --pass-file=FILE or in PVSUB_KEY_PASS", d.msg);
		return EXIT_USAGE;
	}
	if (r < 0) {
		error_msg("%s", d.msg[0] ? d.msg : strerror(-r));
		return EXIT_USAGE;
	}
	/* Signing goes on: the kernel ignores the validity of module signing
	 * certificates, and a CI job may sign with a renewed certificate
	 * later.  But verify --ca will refuse a manifest signature made with
	 * it, so say so now rather than at verification. */
	if (pvsub_signer_check_validity(*out, time(NULL), &d) < 0)
		fprintf(stderr, PROGRAM ": warning: %s: %s; signing anyway\n", cert, d.msg);
	return 0;
}

int check_signable(const char *path, const uint8_t *data, size_t len)
{
	struct pvsub_diag d = {{0}};

	if (pvsub_modsig_check_signable(data, len, &d) < 0) {
		error_msg("%s: %s", path, d.msg);
		return EXIT_USAGE;
	}
	return 0;
}

bool is_verification_failure(int err)
{
	return err == -EBADMSG || err == -EKEYREJECTED || err == -EKEYEXPIRED || err == -ENOKEY;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROGRAM " COMMAND [OPTION]... FILE...\n"
		"Sign and verify pvsub subtraction manifests and Linux kernel modules, and\n"
		"pack a signed driver into a reproducible bundle.\n"
		"\n"
		"Commands:\n"
		"  sign --key KEY --cert CERT [--hash ALG] FILE [-o SIG]\n"
		"                            detached CMS signature (DER) of FILE, default "
		"FILE.p7s\n"
		"  sign --module --key KEY --cert CERT MODULE.ko [-o OUT]\n"
		"                            append a Linux module signature (in place without "
		"-o)\n"
		"  verify --module --keyring CERTS MODULE.ko...\n"
		"                            check appended module signatures as the kernel does\n"
		"  verify --ca CA --manifest M --binary B\n"
		"                            check M.p7s, the chain to CA, the schema and the "
		"hashes\n"
		"  verify --ca CA BUNDLE     the same for the contents of a bundle\n"
		"  bundle --key KEY --cert CERT -o OUT DRIVER MANIFEST\n"
		"                            sign MANIFEST and write a reproducible bundle\n"
		"  unbundle [-C DIR] BUNDLE  extract a bundle's four files into DIR\n"
		"\n"
		"Key options (sign, bundle):\n"
		"  -k, --key=KEY             PEM private key file or pkcs11: URI\n"
		"  -c, --cert=CERT           PEM certificate of the key\n"
		"      --pass-file=FILE      passphrase or PIN: first line of FILE\n"
		"                            (default: $PVSUB_KEY_PASS)\n"
		"      --hash=ALG            sha256 (default), sha384 or sha512\n"
		"\n"
		"      --help                display this help and exit\n"
		"      --version             output version information and exit\n"
		"\n"
		"'" PROGRAM " COMMAND --help' lists the options of COMMAND.\n"
		"\n"
		"Exit status: 0 if all is well, 1 if a verification failed, 2 on a usage\n"
		"or input error.\n"
		"See pvsub-sign(1), pvsub-manifest(5) and pvsub(7).\n");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{"sign", cmd_sign},
		{"verify", cmd_verify},
		{"bundle", cmd_bundle},
		{"unbundle", cmd_unbundle},
	};
	const char *cmd = argc > 1 ? argv[1] : NULL;

	cli_init(PROGRAM, NULL);
	if (!cmd)
		return usage_error(NULL, "no command");
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return EXIT_GOOD;
	}
	if (strcmp(cmd, "--version") == 0) {
		print_version();
		return EXIT_GOOD;
	}
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(cmds); i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	return usage_error(NULL, "unknown command '%s'", cmd);
}
