/* SPDX-License-Identifier: MIT */
/*
 * pvsub-sign verify: module signatures against a keyring; manifests (alone
 * or in a bundle) against a CA, the schema, the binary they describe and
 * what the options require.  libpvsub/verify decides; this file reads the
 * inputs, prints its result and maps it to the exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/modsign.h"
#include "libpvsub/policy.h"
#include "libpvsub/verify.h"
#include "pvsub-sign/pvsub-sign.h"

enum {
	OPT_KEYRING = 0x100,
	OPT_CA,
	OPT_MANIFEST,
	OPT_BINARY,
	OPT_SIGNATURE,
	OPT_REQUIRE_CERTIFIED,
	OPT_REQUIRE_POLICY,
	OPT_REQUIRE_PROFILE,
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
	{"require-policy", required_argument, NULL, OPT_REQUIRE_POLICY},
	{"require-profile", required_argument, NULL, OPT_REQUIRE_PROFILE},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, OPT_HELP},
	VERSION_LONG_OPTION,
	{NULL, 0, NULL, 0},
};

static void usage(void)
{
	printf("Usage: " PROGRAM " verify --module --keyring CERTS MODULE.ko...\n"
	       "  or:  " PROGRAM " verify --ca CA [REQUIRE]... --manifest M --binary B\n"
	       "  or:  " PROGRAM " verify --ca CA [REQUIRE]... BUNDLE...\n"
	       "Verify appended module signatures as the kernel does, or a signed manifest:\n"
	       "its signature, the signer's chain to CA, the manifest schema, that its\n"
	       "hashes match the binary, and what the REQUIRE options ask of it.\n"
	       "\n"
	       "  -m, --module              verify appended module signatures\n"
	       "      --keyring=CERTS       PEM file of trusted signer certificates (--module)\n"
	       "      --ca=CA               PEM file of trusted CA certificates\n"
	       "      --manifest=M          the manifest; its signature is M.p7s\n"
	       "      --signature=SIG       the manifest's signature, instead of M.p7s\n"
	       "      --binary=B            the object the manifest describes\n"
	       "      --require-certified   also fail unless the verdict is certified\n"
	       "      --require-policy=NAME|FILE\n"
	       "                            also fail unless the manifest was made under this\n"
	       "                            policy (a built-in profile or an XML policy file,\n"
	       "                            as pvsub-scan takes them): the same SHA-256\n"
	       "      --require-profile=NAME\n"
	       "                            also fail unless the manifest's policy covers every\n"
	       "                            pattern of the built-in profile NAME (repeatable)\n"
	       "  -q, --quiet               print nothing on success\n"
	       "      --help                display this help and exit\n"
	       "      --version             output version information and exit\n"
	       "\n"
	       "Exit status: 0 verified, 1 verification failed, 2 usage or input error.\n");
}

struct verify_opts {
	const char *keyring, *ca, *manifest, *binary, *signature, *policy_arg;
	bool module, require_certified, quiet;
	struct pvsub_policy *policy; /* loaded from policy_arg */
	const char **profiles;	     /* --require-profile, in order */
	size_t n_profiles;
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

/* Print why a manifest or bundle did not verify; the exit status. */
static int print_failure(const struct pvsub_verify_result *res)
{
	error_msg("%s", res->msg);
	return res->status == PVSUB_VERIFY_FAILED ? EXIT_FAILED : EXIT_USAGE;
}

/* The expectations every manifest and bundle is held to. */
static struct pvsub_verify_request expectations(const struct verify_opts *o,
						const struct pvsub_trust *ca)
{
	return (struct pvsub_verify_request){
		.sz = sizeof(struct pvsub_verify_request),
		.ca = ca,
		.require_certified = o->require_certified,
		.require_policy = o->policy,
		.require_profiles = o->profiles,
		.n_require_profiles = o->n_profiles,
	};
}

/* A certificate that holds only if the loader rescans after relocation
 * says so: whoever runs the binary must be such a loader. */
static void say_load_time(const char *name, const struct pvsub_verify_result *res)
{
	if (res->manifest_read && res->verdict == PVSUB_VERDICT_LOAD_TIME)
		printf("%s: verdict %s: only a loader that rescans the relocated bytes may run "
		       "it\n",
		       name, pvsub_verdict_name(res->verdict));
}

static int verify_manifest(const struct verify_opts *o, const struct pvsub_trust *ca)
{
	struct pvsub_verify_request q = expectations(o, ca);
	struct pvsub_verify_result res;
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
	if (r)
		goto out;
	q.inputs = PVSUB_VERIFY_MANIFEST;
	q.manifest = manifest;
	q.manifest_len = m_len;
	q.manifest_name = o->manifest;
	q.signature = sig;
	q.signature_len = s_len;
	q.binary = bin;
	q.binary_len = b_len;
	q.binary_name = o->binary;
	r = pvsub_verify(&q, &res) == 0 ? EXIT_GOOD : print_failure(&res);
	if (!r && !o->quiet) {
		printf("%s: manifest OK for %s\n", o->manifest, o->binary);
		say_load_time(o->manifest, &res);
	}
out:
	free(bin);
	free(sig);
	free(manifest);
	free(sig_path);
	return r;
}

static int verify_bundle(const char *path, const struct verify_opts *o,
			 const struct pvsub_trust *ca)
{
	struct pvsub_verify_request q = expectations(o, ca);
	struct pvsub_verify_result res;
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	r = read_input(path, &data, &len);
	if (r)
		return r;
	q.inputs = PVSUB_VERIFY_BUNDLE;
	q.bundle = data;
	q.bundle_len = len;
	q.bundle_name = path;
	q.bundle_max_member = INPUT_MAX;
	r = pvsub_verify(&q, &res) == 0 ? EXIT_GOOD : print_failure(&res);
	if (!r && !o->quiet) {
		printf("%s: bundle OK (%s)\n", path, res.driver_name);
		say_load_time(path, &res);
	}
	free(data);
	return r;
}

/* --require-profile NAME: a built-in profile, kept in @o.  0 or EXIT_USAGE. */
static int add_profile(struct verify_opts *o, const char *name, int argc)
{
	if (!pvsub_policy_builtin_description(name))
		return usage_error("verify", "no such built-in profile '%s'", name);
	if (!o->profiles) {
		o->profiles = calloc((size_t)argc, sizeof(*o->profiles));
		if (!o->profiles) {
			error_msg("out of memory");
			return EXIT_USAGE;
		}
	}
	o->profiles[o->n_profiles++] = name;
	return 0;
}

static int parse_options(int argc, char **argv, struct verify_opts *o)
{
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":mq", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->module = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_KEYRING:
			o->keyring = optarg;
			break;
		case OPT_CA:
			o->ca = optarg;
			break;
		case OPT_MANIFEST:
			o->manifest = optarg;
			break;
		case OPT_BINARY:
			o->binary = optarg;
			break;
		case OPT_SIGNATURE:
			o->signature = optarg;
			break;
		case OPT_REQUIRE_CERTIFIED:
			o->require_certified = true;
			break;
		case OPT_REQUIRE_POLICY:
			o->policy_arg = optarg;
			break;
		case OPT_REQUIRE_PROFILE:
			if (add_profile(o, optarg, argc))
				return EXIT_USAGE;
			break;
		case OPT_HELP:
			usage();
			return -1;
		case OPT_VERSION:
			print_version();
			return -1;
		default:
			return option_error("verify", argv, c, options);
		}
	}
	return 0;
}

static int verify_modules(int argc, char **argv, const struct verify_opts *o)
{
	struct pvsub_trust *trust = NULL;
	int r;

	if (!o->keyring)
		return usage_error("verify", "--module needs --keyring");
	if (o->ca || o->manifest || o->binary || o->signature)
		return usage_error("verify", "--module takes only --keyring");
	if (o->policy_arg || o->n_profiles)
		return usage_error("verify", "--require-policy and --require-profile are for "
					     "manifests and bundles");
	if (optind == argc)
		return usage_error("verify", "no module");
	r = load_trust(o->keyring, &trust);
	if (r)
		return r;
	/* keep going: each module gets its line, the worst result wins */
	for (int i = optind; i < argc; i++) {
		int one = verify_module(argv[i], trust, o->quiet);

		r = PVSUB_MAX(r, one);
	}
	pvsub_trust_free(trust);
	return r;
}

/* The policy of --require-policy, loaded as pvsub-scan --policy loads it
 * so that its SHA-256 is the one pvsub-scan writes. */
static int load_required_policy(struct verify_opts *o)
{
	struct pvsub_diag d = {{0}};
	int r;

	if (!o->policy_arg)
		return 0;
	r = pvsub_policy_load(o->policy_arg, &o->policy, &d);
	if (r < 0) {
		error_msg("%s: %s", o->policy_arg, d.msg[0] ? d.msg : strerror(-r));
		return EXIT_USAGE;
	}
	return 0;
}

static int verify_signed(int argc, char **argv, struct verify_opts *o)
{
	struct pvsub_trust *trust = NULL;
	int r;

	if (!o->ca)
		return usage_error("verify", "--ca or --module is required");
	if (o->keyring)
		return usage_error("verify", "--keyring is for --module");
	if (o->manifest || o->binary || o->signature) {
		if (!o->manifest || !o->binary)
			return usage_error("verify", "--manifest and --binary go together");
		if (optind != argc)
			return usage_error("verify", "no file arguments with --manifest");
	} else if (optind == argc) {
		return usage_error("verify", "no bundle");
	}
	r = load_required_policy(o);
	if (!r)
		r = load_trust(o->ca, &trust);
	if (r)
		return r;
	if (o->manifest)
		r = verify_manifest(o, trust);
	/* as for modules: every bundle, the worst result */
	for (int i = optind; !o->manifest && i < argc; i++) {
		int one = verify_bundle(argv[i], o, trust);

		r = PVSUB_MAX(r, one);
	}
	pvsub_trust_free(trust);
	return r;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_opts o = {0};
	int r;

	r = parse_options(argc, argv, &o);
	if (r < 0)
		r = EXIT_GOOD; /* --help, --version */
	else if (!r && o.module)
		r = verify_modules(argc, argv, &o);
	else if (!r)
		r = verify_signed(argc, argv, &o);
	pvsub_policy_free(o.policy);
	free(o.profiles);
	return r;
}
