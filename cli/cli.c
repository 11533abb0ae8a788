/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *program = "pvsub";
static void (*before)(void);

void cli_init(const char *name, void (*before_message)(void))
{
	program = name;
	before = before_message;
}

static void vmessage(const char *fmt, va_list ap)
{
	if (before)
		before();
	fprintf(stderr, "%s: ", program);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void error_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s%s%s --help' for more information.\n", program, cmd ? " " : "",
		cmd ? cmd : "");
	return CLI_EXIT_USAGE;
}

/* The long option of @longopts, taking no argument and reported by getopt
 * as @val, that @arg ("--name=value", name possibly abbreviated) gave a
 * value; NULL if @arg is not that. */
static const struct option *long_with_value(const char *arg, const struct option *longopts, int val)
{
	size_t n;

	if (strncmp(arg, "--", 2) != 0)
		return NULL;
	n = strcspn(arg + 2, "=");
	if (arg[2 + n] != '=')
		return NULL;
	for (const struct option *o = longopts; o->name; o++)
		if (o->has_arg == no_argument && o->val == val && strncmp(o->name, arg + 2, n) == 0)
			return o;
	return NULL;
}

int option_error(const char *cmd, char **argv, int c, const struct option *longopts)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	const struct option *o;

	/*
	 * An unknown long option leaves optopt 0; a missing argument can only
	 * be the last word; an unknown letter inside a cluster ("-mZk") leaves
	 * optind on the cluster, so argv[optind - 1] says nothing about it.
	 */
	if (c == ':') {
		if (strncmp(arg, "--", 2) == 0)
			return usage_error(cmd, "option '%s' requires an argument", arg);
		return usage_error(cmd, "option requires an argument -- '%c'", optopt);
	}
	if (optopt == 0)
		return usage_error(cmd, "unrecognized option '%.*s'", (int)strcspn(arg, "="), arg);
	if ((o = long_with_value(arg, longopts, optopt)) != NULL)
		return usage_error(cmd, "option '--%s' doesn't allow an argument", o->name);
	if (optopt > 0 && optopt < 0x100)
		return usage_error(cmd, "invalid option -- '%c'", optopt);
	return usage_error(cmd, "invalid option '%s'", arg);
}

void print_version(void)
{
	printf("%s (pvsub) " PACKAGE_VERSION "\n"
	       "License: MIT.\n"
	       "This is free software: you are free to change and redistribute it.\n"
	       "There is NO WARRANTY, to the extent permitted by law.\n",
	       program);
}

/* strtoull() that takes digits only: no sign, no space, no base prefix. */
static int parse_digits(const char *s, uint64_t *out, char **end)
{
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno)
		return -EINVAL;
	*out = v;
	return 0;
}

int cli_parse_range(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	char *end;

	if (parse_digits(s, &v, &end) < 0 || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMG";
	uint64_t v;
	unsigned shift = 0;
	char *end;

	if (parse_digits(s, &v, &end) < 0)
		return -EINVAL;
	if (*end) {
		const char *u = strchr(units, *end & ~0x20);

		if (!u || !*u || end[1])
			return -EINVAL;
		shift = 10 * (unsigned)(u - units + 1);
	}
	if (v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}
