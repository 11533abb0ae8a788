/* SPDX-License-Identifier: MIT */
/* pvsub-sign unbundle: extract a bundle's four files, refusing anything else. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "libpvsub/bundle.h"
#include "pvsub-sign/pvsub-sign.h"

enum {
	OPT_HELP = 0x100,
};

static const struct option options[] = {
	{"directory", required_argument, NULL, 'C'},
	{"help", no_argument, NULL, OPT_HELP},
	VERSION_LONG_OPTION,
	{NULL, 0, NULL, 0},
};

static void usage(void)
{
	printf("Usage: " PROGRAM " unbundle [-C DIR] BUNDLE\n"
	       "Extract the driver, manifest.xml, manifest.xml.p7s and signer.pem of BUNDLE\n"
	       "into DIR (default: the current directory).  Absolute paths, \"..\", links,\n"
	       "devices and any other member are refused, and then nothing is written.\n"
	       "This does not verify the bundle: use '" PROGRAM " verify --ca CA BUNDLE'.\n"
	       "\n"
	       "  -C, --directory=DIR       extract into DIR, which must exist\n"
	       "      --help                display this help and exit\n"
	       "      --version             output version information and exit\n");
}

int cmd_unbundle(int argc, char **argv)
{
	const char *dir = ".";
	struct pvsub_bundle b = {0};
	struct pvsub_diag d = {{0}};
	struct stat st;
	uint8_t *data = NULL;
	size_t len = 0;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":C:", options, NULL)) != -1) {
		switch (c) {
		case 'C':
			dir = optarg;
			break;
		case OPT_HELP:
			usage();
			return EXIT_GOOD;
		case OPT_VERSION:
			print_version();
			return EXIT_GOOD;
		default:
			return option_error("unbundle", argv, c, options);
		}
	}
	if (optind + 1 != argc)
		return usage_error("unbundle", "need exactly one BUNDLE");
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		error_msg("%s: not a directory", dir);
		return EXIT_USAGE;
	}
	r = read_input(argv[optind], &data, &len);
	if (r)
		return r;
	if (pvsub_bundle_read(data, len, INPUT_MAX, &b, &d) < 0 ||
	    pvsub_bundle_extract(&b, dir, &d) < 0) {
		error_msg("%s: %s", argv[optind], d.msg);
		r = EXIT_USAGE;
	}
	pvsub_bundle_release(&b);
	free(data);
	return r;
}
