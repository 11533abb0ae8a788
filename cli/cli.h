/* SPDX-License-Identifier: MIT */
/*
 * cli: what pvsub's command-line tools share, and nothing else.
 *
 * The tools print; libpvsub never does.  This small front-end holds the
 * printing and argument conventions every tool follows, so that they read
 * the same from each: "program: message" on standard error, GNU getopt's
 * own words for a bad option followed by one "Try ... --help" line, the GNU
 * --version text, and number arguments checked against their range.  It
 * links nothing but libc; a tool calls cli_init() first.
 */
#ifndef PVSUB_CLI_H
#define PVSUB_CLI_H

#include <getopt.h>
#include <stdint.h>

#include "libpvsub/util.h"

/* Exit status of a usage error, in every tool (GNU convention). */
#define CLI_EXIT_USAGE 2

/*
 * Name the program for every message, and give a function to call before
 * each one (NULL for none): pvsub-scan clears its progress line there.
 */
void cli_init(const char *program, void (*before_message)(void));

/* "program: <message>\n" on standard error. */
void error_msg(const char *fmt, ...) _printf_format_(1, 2);

/*
 * "program: <message>" and then "Try 'program [CMD] --help' for more
 * information." on standard error; @cmd is the subcommand or NULL.
 * Returns CLI_EXIT_USAGE.
 */
int usage_error(const char *cmd, const char *fmt, ...) _printf_format_(2, 3);

/*
 * The one error for what getopt_long() returned as @c ('?' or ':') when
 * @argv is parsed with @longopts, opterr = 0 and an optstring that starts
 * with ':': GNU getopt's own words, followed by usage_error()'s "Try" line
 * for @cmd (NULL for the program itself).  Returns CLI_EXIT_USAGE.
 */
int option_error(const char *cmd, char **argv, int c, const struct option *longopts)
	_nonnull_(2, 4);

/* The GNU --version text on standard output. */
void print_version(void);

/*
 * The decimal integer @s, when it lies in [@min, @max]: 0, or -EINVAL for
 * anything else (a sign, spaces, trailing text, overflow).
 */
int cli_parse_range(const char *s, uint64_t min, uint64_t max, uint64_t *out) _must_check_
	_nonnull_(1, 4);

/*
 * A size: a decimal integer with an optional K, M or G (powers of 1024).
 * 0, or -EINVAL for anything else or a value past UINT64_MAX.
 */
int cli_parse_size(const char *s, uint64_t *out) _must_check_ _nonnull_(1, 2);

#endif
