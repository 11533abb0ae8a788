/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

Test(cli, range_takes_digits_only)
{
	uint64_t v = 7;

	cr_assert_eq(cli_parse_range("1", 1, 256, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(cli_parse_range("256", 1, 256, &v), 0);
	cr_assert_eq(v, 256);
	cr_assert_eq(cli_parse_range("0", 0, 64, &v), 0);
	cr_assert_eq(v, 0);
	/* Out of range, and everything strtoull() would let through. */
	const char *bad[] = {"0", "257", "", "-1", "+1", " 1", "1 ", "0x10", "1k",
			     "18446744073709551616", "99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		cr_assert_eq(cli_parse_range(bad[i], 1, 256, &v), -EINVAL, "'%s'", bad[i]);
		cr_assert_eq(v, 7, "'%s' changed the output", bad[i]);
	}
	cr_assert_eq(cli_parse_range("18446744073709551615", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, UINT64_MAX);
}

Test(cli, sizes_and_units)
{
	uint64_t v = 0;

	cr_assert_eq(cli_parse_size("12", &v), 0);
	cr_assert_eq(v, 12);
	cr_assert_eq(cli_parse_size("3k", &v), 0);
	cr_assert_eq(v, 3 << 10);
	cr_assert_eq(cli_parse_size("3M", &v), 0);
	cr_assert_eq(v, 3 << 20);
	cr_assert_eq(cli_parse_size("2g", &v), 0);
	cr_assert_eq(v, (uint64_t)2 << 30);
	cr_assert_eq(cli_parse_size("17179869183G", &v), 0);
	cr_assert_eq(v, (uint64_t)17179869183 << 30);
	const char *bad[] = {"", "k", "-1", "1 ", "1 k", "1kb", "1T", "1\x2b", "17179869184G",
			     "18446744073709551616"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(cli_parse_size(bad[i], &v), -EINVAL, "'%s'", bad[i]);
}

static const struct option longopts[] = {
	{"quiet", no_argument, NULL, 'q'},
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 0x100},
	{NULL, 0, NULL, 0},
};

/* What option_error() says for @words, parsed as a tool parses it. */
static void parse_one(int argc, const char *const *words)
{
	char *argv[8] = {NULL};
	int c;

	cr_assert_lt(argc, 8);
	for (int i = 0; i < argc; i++)
		argv[i] = strdup(words[i]);

	cli_init("tool", NULL);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qo:", longopts, NULL)) != -1)
		if (c == '?' || c == ':') {
			cr_assert_eq(option_error("cmd", argv, c, longopts), CLI_EXIT_USAGE);
			break;
		}
	for (int i = 0; i < argc; i++)
		free(argv[i]);
}

Test(cli, unknown_long_option, .init = cr_redirect_stderr)
{
	const char *const argv[] = {"tool", "--bogus=1", NULL};

	parse_one(2, argv);
	fflush(stderr);
	cr_assert_stderr_eq_str("tool: unrecognized option '--bogus'\n"
				"Try 'tool cmd --help' for more information.\n");
}

Test(cli, value_given_to_a_flag, .init = cr_redirect_stderr)
{
	const char *const argv[] = {"tool", "--qui=3", NULL};

	parse_one(2, argv);
	fflush(stderr);
	cr_assert_stderr_eq_str("tool: option '--quiet' doesn't allow an argument\n"
				"Try 'tool cmd --help' for more information.\n");
}

Test(cli, missing_argument, .init = cr_redirect_stderr)
{
	const char *const argv[] = {"tool", "-q", "-o", NULL};

	parse_one(3, argv);
	fflush(stderr);
	cr_assert_stderr_eq_str("tool: option requires an argument -- 'o'\n"
				"Try 'tool cmd --help' for more information.\n");
}

Test(cli, unknown_letter, .init = cr_redirect_stderr)
{
	const char *const argv[] = {"tool", "-qZ", NULL};

	parse_one(2, argv);
	fflush(stderr);
	cr_assert_stderr_eq_str("tool: invalid option -- 'Z'\n"
				"Try 'tool cmd --help' for more information.\n");
}

static int hook_calls;
static void hook(void)
{
	hook_calls++;
}

Test(cli, every_message_calls_the_hook, .init = cr_redirect_stderr)
{
	cli_init("tool", hook);
	error_msg("one %d", 1);
	cr_assert_eq(usage_error(NULL, "two"), CLI_EXIT_USAGE);
	fflush(stderr);
	cr_assert_eq(hook_calls, 2);
	cr_assert_stderr_eq_str("tool: one 1\ntool: two\n"
				"Try 'tool --help' for more information.\n");
}
