/* SPDX-License-Identifier: MIT */
/* pvsub-sign: what the subcommands share (main.c). */
#ifndef PVSUB_SIGN_H
#define PVSUB_SIGN_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"
#include "libpvsub/crypto.h"
#include "libpvsub/util.h"

#define PROGRAM "pvsub-sign"

/* Exit statuses, as pvsub-sign(1) documents them. */
enum exit_status {
	EXIT_GOOD = 0,
	EXIT_FAILED = 1, /* verification failed */
	EXIT_USAGE = CLI_EXIT_USAGE, /* usage or input error */
};

/* Largest input file read into memory. */
#define INPUT_MAX ((size_t)1 << 30)

#define OPT_VERSION 0x1ff /* clear of every subcommand's own options */
#define VERSION_LONG_OPTION                                                                        \
	{                                                                                          \
		"version", no_argument, NULL, OPT_VERSION                                          \
	}

/* Read @path whole; prints the error.  0 or EXIT_USAGE. */
int read_input(const char *path, uint8_t **data, size_t *len);

/* The signer from --key/--cert of the subcommand @cmd, the passphrase from
 * @pass_file or else $PVSUB_KEY_PASS.  Prints the error, and a warning when
 * the certificate is outside its validity period (signing goes on).  0 or
 * EXIT_USAGE. */
int load_signer(const char *cmd, const char *key, const char *cert, const char *pass_file,
		struct pvsub_signer **out);

/* Refuse @len bytes read from @path unless they can carry a module
 * signature (pvsub_modsig_check_signable()); prints why.  0 or EXIT_USAGE. */
int check_signable(const char *path, const uint8_t *data, size_t len);

/* The options of every subcommand that signs (sign, bundle). */
enum {
	OPT_SIGNER_HASH = 0x180, /* clear of each subcommand's own 0x100... */
	OPT_SIGNER_PASS_FILE,
};
#define SIGNER_LONG_OPTIONS                                                                        \
	{"key", required_argument, NULL, 'k'}, {"cert", required_argument, NULL, 'c'},             \
		{"hash", required_argument, NULL, OPT_SIGNER_HASH},                                \
	{                                                                                          \
		"pass-file", required_argument, NULL, OPT_SIGNER_PASS_FILE                         \
	}

struct signer_opts {
	const char *key, *cert, *pass_file;
	enum pvsub_hash hash; /* PVSUB_HASH_SHA256 unless --hash */
};

/* If getopt's @c is one of SIGNER_LONG_OPTIONS, store @arg in @o and return
 * 1 (or EXIT_USAGE, after a usage error for @cmd, on a bad --hash); else 0. */
int signer_option(int c, const char *arg, const char *cmd, struct signer_opts *o);

/* Whether a negative errno from a verification means "failed" (exit 1)
 * rather than an operational error (exit 2). */
bool is_verification_failure(int err);

int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_unbundle(int argc, char **argv);

#endif
