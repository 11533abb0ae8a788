/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "libpvsub/crypto.h"
#include "libpvsub/policy.h"

/* --- helpers ----------------------------------------------------------------- */

/* tests/fixtures/policy/NAME: from $top_srcdir (make check), else beside this file. */
static char *fixture(const char *name)
{
	const char *top = getenv("top_srcdir");
	char *path = NULL;
	int r;

	if (top && *top) {
		r = asprintf(&path, "%s/tests/fixtures/policy/%s", top, name);
	} else {
		const char *file = __FILE__;
		const char *tail = strstr(file, "tests/unit/test_policy.c");
		int dirlen = tail ? (int)(tail - file) : 0;

		r = asprintf(&path, "%.*stests/fixtures/policy/%s", dirlen, file, name);
	}
	cr_assert(r > 0 && path);
	return path;
}

static int load_fixture(const char *name, struct pvsub_policy **out, struct pvsub_diag *diag)
{
	char *path = fixture(name);
	int r = pvsub_policy_new_from_file(path, out, diag);

	free(path);
	return r;
}

static int load_string(const char *xml, struct pvsub_policy **out, struct pvsub_diag *diag)
{
	return pvsub_policy_new_from_memory(xml, strlen(xml), "test.xml", out, diag);
}

static void assert_pattern(const struct pvsub_pattern *p, const char *id, size_t len,
			   const uint8_t *value, const uint8_t *mask)
{
	cr_assert_str_eq(p->id, id);
	cr_assert_eq(p->len, len, "pattern %s: len %u, expected %zu", id, p->len, len);
	cr_assert_arr_eq(p->value, value, len, "pattern %s: value differs", id);
	cr_assert_arr_eq(p->mask, mask, len, "pattern %s: mask differs", id);
}

static void assert_format(const struct pvsub_pattern *p, const char *expected)
{
	char buf[3 * PVSUB_PATTERN_MAX * 2];

	pvsub_pattern_format(p, buf, sizeof(buf));
	cr_assert_str_eq(buf, expected);
}

/* Expect @expr to fail to compile, leave the array alone, and name @needle. */
static void assert_compile_error(const char *id, const char *expr, const char *needle)
{
	struct pvsub_pattern *pats = NULL;
	struct pvsub_diag diag = {{0}};
	size_t n = 0;
	int r;

	r = pvsub_pattern_compile("keep", "90", &pats, &n, &diag);
	cr_assert_eq(r, 0);
	r = pvsub_pattern_compile(id, expr, &pats, &n, &diag);
	cr_assert_eq(r, -EINVAL, "'%s' compiled (r=%d)", expr, r);
	cr_assert_eq(n, 1, "a failed compile must not append");
	cr_assert_str_eq(pats[0].id, "keep");
	cr_assert_not_null(strstr(diag.msg, needle), "diag '%s' lacks '%s'", diag.msg, needle);
	cr_assert_null(strchr(diag.msg, '\n'), "diag must be one line: '%s'", diag.msg);
	free(pats);
}

static void assert_xml_error(const char *fixture_name, const char *needle)
{
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};
	int r = load_fixture(fixture_name, &p, &diag);

	cr_assert_eq(r, -EINVAL, "%s: r=%d (%s)", fixture_name, r, diag.msg);
	cr_assert_null(p);
	cr_assert_not_null(strstr(diag.msg, needle), "%s: diag '%s' lacks '%s'", fixture_name,
			   diag.msg, needle);
	cr_assert_null(strchr(diag.msg, '\n'), "diag must be one line: '%s'", diag.msg);
}

static const uint8_t FF3[] = {0xff, 0xff, 0xff};

/* --- byte tokens ------------------------------------------------------------- */

Test(pattern, exact_bytes)
{
	struct pvsub_pattern *pats = NULL;
	size_t n = 0;

	cr_assert_eq(pvsub_pattern_compile("vmfunc", "0f 01 d4", &pats, &n, NULL), 0);
	cr_assert_eq(n, 1);
	assert_pattern(&pats[0], "vmfunc", 3, (const uint8_t[]){0x0f, 0x01, 0xd4}, FF3);
	assert_format(&pats[0], "0f 01 d4");
	free(pats);
}

Test(pattern, case_insensitive_and_any_whitespace)
{
	struct pvsub_pattern *pats = NULL;
	size_t n = 0;

	cr_assert_eq(pvsub_pattern_compile("x", "\t 0F\n01   D4 \r", &pats, &n, NULL), 0);
	cr_assert_eq(n, 1);
	assert_pattern(&pats[0], "x", 3, (const uint8_t[]){0x0f, 0x01, 0xd4}, FF3);
	cr_assert_eq(pvsub_pattern_compile("y", "0F C0/F8 /3M", &pats, &n, NULL), 0);
	cr_assert_eq(n, 4);
	assert_pattern(&pats[1], "y", 3, (const uint8_t[]){0x0f, 0xc0, 0x18},
		       (const uint8_t[]){0xff, 0xf8, 0xf8});
	free(pats);
}

Test(pattern, wildcard)
{
	struct pvsub_pattern *pats = NULL;
	size_t n = 0;

	cr_assert_eq(pvsub_pattern_compile("any-int", "cd ??", &pats, &n, NULL), 0);
	assert_pattern(&pats[0], "any-int", 2, (const uint8_t[]){0xcd, 0x00},
		       (const uint8_t[]){0xff, 0x00});
	assert_format(&pats[0], "cd ??");
	free(pats);
}

Test(pattern, value_and_mask)
{
	struct pvsub_pattern *pats = NULL;
	size_t n = 0;

	cr_assert_eq(pvsub_pattern_compile("masked", "0f 01 c0/f8", &pats, &n, NULL), 0);
	assert_pattern(&pats[0], "masked", 3, (const uint8_t[]){0x0f, 0x01, 0xc0},
		       (const uint8_t[]){0xff, 0xff, 0xf8});
	assert_format(&pats[0], "0f 01 c0/f8");
	free(pats);
}

Test(pattern, mask_ff_and_00_read_back_as_plain_tokens)
{
	struct pvsub_pattern *pats = NULL;
	size_t n = 0;

	cr_assert_eq(pvsub_pattern_compile("m", "0f/ff 00/00 cd", &pats, &n, NULL), 0);
	assert_format(&pats[0], "0f ?? cd");
	free(pats);
}

Test(pattern, modrm_reg_any_mod)
{
	struct pvsub_pattern *pats = NULL;
	size_t n = 0;

	cr_assert_eq(pvsub_pattern_compile("xrstor-any", "0f ae /5", &pats, &n, NULL), 0);
	cr_assert_eq(n, 1);
	assert_pattern(&pats[0], "xrstor-any", 3, (const uint8_t[]){0x0f, 0xae, 0x28},
		       (const uint8_t[]){0xff, 0xff, 0x38});
	assert_format(&pats[0], "0f ae 28/38");
	free(pats);
}

Test(pattern, modrm_memory_forms_expand_to_three)
{
	struct pvsub_pattern *pats = NULL;
	const uint8_t mask[] = {0xff, 0xff, 0xf8};
	size_t n = 0;

	cr_assert_eq(pvsub_pattern_compile("xrstor", "0f ae /5m", &pats, &n, NULL), 0);
	cr_assert_eq(n, 3);
	/* mod 00, 01, 10 with reg 101: never mod 11 (0f ae e8 is LFENCE). */
	assert_pattern(&pats[0], "xrstor", 3, (const uint8_t[]){0x0f, 0xae, 0x28}, mask);
	assert_pattern(&pats[1], "xrstor", 3, (const uint8_t[]){0x0f, 0xae, 0x68}, mask);
	assert_pattern(&pats[2], "xrstor", 3, (const uint8_t[]){0x0f, 0xae, 0xa8}, mask);
	assert_format(&pats[0], "0f ae 28/f8");
	assert_format(&pats[1], "0f ae 68/f8");
	assert_format(&pats[2], "0f ae a8/f8");
	free(pats);
}

Test(pattern, modrm_alone_and_every_reg)
{
	struct pvsub_pattern *pats = NULL;
	size_t n = 0;

	for (unsigned reg = 0; reg < 8; reg++) {
		char expr[8];

		snprintf(expr, sizeof(expr), "/%u", reg);
		cr_assert_eq(pvsub_pattern_compile("r", expr, &pats, &n, NULL), 0);
		cr_assert_eq(pats[n - 1].len, 1);
		cr_assert_eq(pats[n - 1].value[0], reg << 3);
		cr_assert_eq(pats[n - 1].mask[0], 0x38);
	}
	cr_assert_eq(n, 8);
	free(pats);
}

Test(pattern, appends_to_existing_array)
{
	struct pvsub_pattern *pats = NULL;
	size_t n = 0;

	cr_assert_eq(pvsub_pattern_compile("a", "0f 05", &pats, &n, NULL), 0);
	cr_assert_eq(pvsub_pattern_compile("b", "0f c7 /3m", &pats, &n, NULL), 0);
	cr_assert_eq(pvsub_pattern_compile("c", "cd 80", &pats, &n, NULL), 0);
	cr_assert_eq(n, 5);
	cr_assert_str_eq(pats[0].id, "a");
	cr_assert_str_eq(pats[1].id, "b");
	cr_assert_str_eq(pats[3].id, "b");
	cr_assert_eq(pats[3].value[2], 0x98);
	cr_assert_str_eq(pats[4].id, "c");
	free(pats);
}

Test(pattern, sixteen_bytes_is_the_limit)
{
	static const char sixteen[] = "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f";
	struct pvsub_pattern *pats = NULL;
	size_t n = 0;

	cr_assert_eq(pvsub_pattern_compile("s", sixteen, &pats, &n, NULL), 0);
	cr_assert_eq(pats[0].len, 16);
	cr_assert_eq(pats[0].value[15], 0x0f);
	assert_format(&pats[0], sixteen);
	cr_assert_eq(pvsub_pattern_compile("t", "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e /2m",
					   &pats, &n, NULL),
		     0);
	cr_assert_eq(n, 4);
	cr_assert_eq(pats[3].len, 16);
	free(pats);

	assert_compile_error("s", "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10",
			     "more than 16 bytes (at token '10')");
	assert_compile_error("s", "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f /5",
			     "more than 16 bytes (at token '/5')");
}

Test(pattern, longest_format_fits_the_documented_buffer)
{
	struct pvsub_pattern *pats = NULL;
	char buf[3 * PVSUB_PATTERN_MAX * 2];
	size_t n = 0;

	cr_assert_eq(pvsub_pattern_compile("w",
					   "01/ff 02/fe 03/fb 04/fc 05/f5 06/f6 07/f7 08/f8 09/f9 "
					   "0a/fa 0b/fb 0c/fc 0d/fd 0e/fe 0f/ff 10/f0",
					   &pats, &n, NULL),
		     0);
	pvsub_pattern_format(&pats[0], buf, sizeof(buf));
	cr_assert_str_eq(buf, "01 02/fe 03/fb 04/fc 05/f5 06/f6 07/f7 08/f8 09/f9 0a/fa 0b/fb "
			      "0c/fc 0d/fd 0e/fe 0f 10/f0");
	free(pats);
}

Test(pattern, format_truncates_at_whole_tokens)
{
	struct pvsub_pattern *pats = NULL;
	char buf[9];
	size_t n = 0;

	cr_assert_eq(pvsub_pattern_compile("v", "0f 01 d4", &pats, &n, NULL), 0);
	pvsub_pattern_format(&pats[0], buf, 8);
	cr_assert_str_eq(buf, "0f 01");
	pvsub_pattern_format(&pats[0], buf, 9);
	cr_assert_str_eq(buf, "0f 01 d4");
	pvsub_pattern_format(&pats[0], buf, 1);
	cr_assert_str_eq(buf, "");
	free(pats);
}

Test(pattern, bad_tokens_are_named)
{
	assert_compile_error("p", "0f zz d4", "bad token 'zz'");
	assert_compile_error("p", "0f 1", "bad token '1'");
	assert_compile_error("p", "0f 011", "bad token '011'");
	assert_compile_error("p", "0x0f", "bad token '0x0f'");
	assert_compile_error("p", "0f ?", "bad token '?'");
	assert_compile_error("p", "0f ???", "bad token '??\?'");
	assert_compile_error("p", "0f c0/f", "bad token 'c0/f'");
	assert_compile_error("p", "0f c0/fg", "bad token 'c0/fg'");
	assert_compile_error("p", "0f /8", "bad token '/8'");
	assert_compile_error("p", "0f /5x", "bad token '/5x'");
	assert_compile_error("p", "0f /5mm", "bad token '/5mm'");
	assert_compile_error("p", "0f /", "bad token '/'");
	assert_compile_error("p", "0f ,01", "bad token ',01'");
}

Test(pattern, value_outside_mask_is_an_error)
{
	assert_compile_error("p", "0f 01 c7/f8", "token 'c7/f8' has value bits outside its mask");
	assert_compile_error("p", "ff/00", "token 'ff/00'");
}

Test(pattern, modrm_token_must_be_last)
{
	assert_compile_error("p", "0f ae /5 00", "token '00' after the ModRM token");
	assert_compile_error("p", "/5m /5m", "token '/5m' after the ModRM token");
}

Test(pattern, empty_and_all_wildcard_rejected)
{
	assert_compile_error("p", "", "pattern 'p' has no bytes");
	assert_compile_error("p", " \t\n ", "pattern 'p' has no bytes");
	assert_compile_error("p", "??", "only wildcards");
	assert_compile_error("p", "?? ?? 00/00", "only wildcards");
}

Test(pattern, bad_ids)
{
	char longid[PVSUB_PATTERN_ID_MAX + 1];
	struct pvsub_pattern *pats = NULL;
	size_t n = 0;

	assert_compile_error("", "0f", "pattern id '' is not valid");
	assert_compile_error("a b", "0f", "pattern id 'a b' is not valid");
	assert_compile_error("a<b", "0f", "not valid");
	memset(longid, 'a', PVSUB_PATTERN_ID_MAX);
	longid[PVSUB_PATTERN_ID_MAX] = '\0';
	assert_compile_error(longid, "0f", "not valid");
	longid[PVSUB_PATTERN_ID_MAX - 1] = '\0';
	cr_assert_eq(pvsub_pattern_compile(longid, "0f", &pats, &n, NULL), 0);
	cr_assert_str_eq(pats[0].id, longid);
	cr_assert_eq(pvsub_pattern_compile("A-z_0.9:x", "0f", &pats, &n, NULL), 0);
	free(pats);
}

Test(pattern, hostile_token_stays_on_one_short_line)
{
	char expr[4096];

	assert_compile_error("p", "0f \x01\x7f\xff", "bad token '\\x01\\x7f\\xff'");
	memset(expr, 'z', sizeof(expr) - 1);
	expr[sizeof(expr) - 1] = '\0';
	assert_compile_error("p", expr, "zzz...'");
}

/* --- built-in profiles --------------------------------------------------------- */

Test(builtin, names_and_descriptions)
{
	const char *const *names = pvsub_policy_builtin_names();
	static const char *const expected[] = {"vmfunc", "pku", "syscall", "default"};
	size_t i;

	for (i = 0; names[i]; i++) {
		cr_assert_lt(i, PVSUB_ARRAY_SIZE(expected));
		cr_assert_str_eq(names[i], expected[i]);
		cr_assert_not_null(pvsub_policy_builtin_description(names[i]));
		cr_assert_gt(strlen(pvsub_policy_builtin_description(names[i])), 10);
	}
	cr_assert_eq(i, PVSUB_ARRAY_SIZE(expected));
	cr_assert_null(pvsub_policy_builtin_description("nope"));
}

static struct pvsub_policy *builtin(const char *name)
{
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};

	cr_assert_eq(pvsub_policy_new_builtin(name, &p, &diag), 0, "%s: %s", name, diag.msg);
	cr_assert_not_null(p);
	return p;
}

Test(builtin, vmfunc)
{
	struct pvsub_policy *p = builtin("vmfunc");
	const struct pvsub_pattern *pats;
	size_t n;

	cr_assert_str_eq(pvsub_policy_id(p), "builtin:vmfunc");
	cr_assert_eq(pvsub_policy_version(p), 1);
	cr_assert_eq(pvsub_policy_on_instruction(p), PVSUB_ON_INSTRUCTION_REJECT);
	pats = pvsub_policy_patterns(p, &n);
	cr_assert_eq(n, 1);
	assert_pattern(&pats[0], "vmfunc", 3, (const uint8_t[]){0x0f, 0x01, 0xd4}, FF3);
	pvsub_policy_free(p);
}

static void assert_pku(const struct pvsub_pattern *pats)
{
	const uint8_t m[] = {0xff, 0xff, 0xf8};

	assert_pattern(&pats[0], "wrpkru", 3, (const uint8_t[]){0x0f, 0x01, 0xef}, FF3);
	assert_pattern(&pats[1], "xrstor", 3, (const uint8_t[]){0x0f, 0xae, 0x28}, m);
	assert_pattern(&pats[2], "xrstor", 3, (const uint8_t[]){0x0f, 0xae, 0x68}, m);
	assert_pattern(&pats[3], "xrstor", 3, (const uint8_t[]){0x0f, 0xae, 0xa8}, m);
	assert_pattern(&pats[4], "xrstors", 3, (const uint8_t[]){0x0f, 0xc7, 0x18}, m);
	assert_pattern(&pats[5], "xrstors", 3, (const uint8_t[]){0x0f, 0xc7, 0x58}, m);
	assert_pattern(&pats[6], "xrstors", 3, (const uint8_t[]){0x0f, 0xc7, 0x98}, m);
}

Test(builtin, pku)
{
	struct pvsub_policy *p = builtin("pku");
	size_t n;

	cr_assert_str_eq(pvsub_policy_id(p), "builtin:pku");
	assert_pku(pvsub_policy_patterns(p, &n));
	cr_assert_eq(n, 7);
	pvsub_policy_free(p);
}

Test(builtin, syscall)
{
	struct pvsub_policy *p = builtin("syscall");
	const struct pvsub_pattern *pats;
	const uint8_t ff[] = {0xff, 0xff};
	size_t n;

	pats = pvsub_policy_patterns(p, &n);
	cr_assert_eq(n, 3);
	assert_pattern(&pats[0], "syscall", 2, (const uint8_t[]){0x0f, 0x05}, ff);
	assert_pattern(&pats[1], "sysenter", 2, (const uint8_t[]){0x0f, 0x34}, ff);
	assert_pattern(&pats[2], "int80", 2, (const uint8_t[]){0xcd, 0x80}, ff);
	pvsub_policy_free(p);
}

Test(builtin, default_is_vmfunc_then_pku)
{
	struct pvsub_policy *p = builtin("default");
	const struct pvsub_pattern *pats;
	size_t n;

	cr_assert_str_eq(pvsub_policy_id(p), "builtin:default");
	cr_assert_eq(pvsub_policy_version(p), 1);
	pats = pvsub_policy_patterns(p, &n);
	cr_assert_eq(n, 8);
	assert_pattern(&pats[0], "vmfunc", 3, (const uint8_t[]){0x0f, 0x01, 0xd4}, FF3);
	assert_pku(pats + 1);
	pvsub_policy_free(p);
}

Test(builtin, unknown)
{
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};

	cr_assert_eq(pvsub_policy_new_builtin("vmfunc2", &p, &diag), -ENOENT);
	cr_assert_null(p);
	cr_assert_not_null(strstr(diag.msg, "vmfunc2"));
	cr_assert_eq(pvsub_policy_new_builtin("", &p, NULL), -ENOENT);
}

Test(builtin, canonical_form_exact)
{
	struct pvsub_policy *p = builtin("vmfunc");
	struct pvsub_buf buf = {0};
	char sha[PVSUB_SHA256_HEX_LEN];
	static const char expected[] = "pvsub-policy-canonical 1\n"
				       "id builtin:vmfunc\n"
				       "version 1\n"
				       "on-instruction reject\n"
				       "pattern vmfunc 0f01d4 ffffff\n";

	cr_assert_eq(pvsub_policy_canonical(p, &buf), 0);
	cr_assert_str_eq(buf.data, expected);
	cr_assert_eq(buf.len, strlen(expected));
	cr_assert_eq(pvsub_sha256_hex(expected, strlen(expected), sha), 0);
	cr_assert_str_eq(pvsub_policy_sha256_hex(p), sha);
	cr_assert_eq(strlen(pvsub_policy_sha256_hex(p)), 64);
	pvsub_buf_release(&buf);
	pvsub_policy_free(p);
}

Test(builtin, on_instruction_names)
{
	cr_assert_str_eq(pvsub_on_instruction_name(PVSUB_ON_INSTRUCTION_REJECT), "reject");
	cr_assert_str_eq(pvsub_on_instruction_name(PVSUB_ON_INSTRUCTION_TRAP), "trap");
}

/* --- XML policy files ---------------------------------------------------------- */

Test(xml, design_example)
{
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};
	const struct pvsub_pattern *pats;
	size_t n;

	cr_assert_eq(load_fixture("design-example.xml", &p, &diag), 0, "%s", diag.msg);
	cr_assert_str_eq(pvsub_policy_id(p), "site-gates");
	cr_assert_eq(pvsub_policy_version(p), 3);
	cr_assert_eq(pvsub_policy_on_instruction(p), PVSUB_ON_INSTRUCTION_REJECT);
	pats = pvsub_policy_patterns(p, &n);
	cr_assert_eq(n, 7 + 1 + 3 + 1 + 1);
	assert_pku(pats);
	assert_pattern(&pats[7], "vmfunc", 3, (const uint8_t[]){0x0f, 0x01, 0xd4}, FF3);
	cr_assert_str_eq(pats[8].id, "xrstor");
	cr_assert_str_eq(pats[10].id, "xrstor");
	cr_assert_eq(pats[10].value[2], 0xa8);
	assert_pattern(&pats[11], "any-int", 2, (const uint8_t[]){0xcd, 0},
		       (const uint8_t[]){0xff, 0});
	assert_pattern(&pats[12], "masked", 3, (const uint8_t[]){0x0f, 0x01, 0xc0},
		       (const uint8_t[]){0xff, 0xff, 0xf8});
	pvsub_policy_free(p);
}

Test(xml, include_contributes_where_it_stands)
{
	static const char *const order[] = {"first",  "syscall", "sysenter", "int80",
					    "middle", "vmfunc",	 "last"};
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};
	const struct pvsub_pattern *pats;
	size_t n;

	cr_assert_eq(load_fixture("include-order.xml", &p, &diag), 0, "%s", diag.msg);
	pats = pvsub_policy_patterns(p, &n);
	cr_assert_eq(n, PVSUB_ARRAY_SIZE(order));
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(pats[i].id, order[i], "pattern %zu", i);
	cr_assert_eq(pvsub_policy_on_instruction(p), PVSUB_ON_INSTRUCTION_REJECT);
	pvsub_policy_free(p);
}

Test(xml, trap)
{
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};
	size_t n;

	cr_assert_eq(load_fixture("trap.xml", &p, &diag), 0, "%s", diag.msg);
	cr_assert_eq(pvsub_policy_on_instruction(p), PVSUB_ON_INSTRUCTION_TRAP);
	cr_assert_eq(pvsub_policy_version(p), 7);
	pvsub_policy_patterns(p, &n);
	cr_assert_eq(n, 8);
	pvsub_policy_free(p);
}

Test(xml, missing_attribute)
{
	assert_xml_error("missing-bytes.xml",
			 "line 3: Element 'pattern': The attribute 'bytes' is required");
}

Test(xml, bad_token_names_line_and_token)
{
	assert_xml_error("bad-token.xml", "line 4: pattern 'oops': bad token 'zz'");
}

Test(xml, bad_mask_caught_by_the_compiler)
{
	assert_xml_error("bad-mask.xml", "line 3: pattern 'loose': token 'c7/f8' has value bits");
}

Test(xml, more_than_sixteen_bytes)
{
	assert_xml_error("too-long.xml", "line 3: pattern 'seventeen': more than 16 bytes");
}

Test(xml, unknown_element)
{
	assert_xml_error("unknown-element.xml", "line 4: Element 'exclude'");
}

Test(xml, wrong_namespace)
{
	assert_xml_error("wrong-namespace.xml", "not <policy> in namespace 'urn:pvsub:policy:2'");
	assert_xml_error("no-namespace.xml", "root element must be <policy "
					     "xmlns=\"urn:pvsub:policy:1\">, not <policy> "
					     "without a namespace");
}

Test(xml, empty_policy)
{
	assert_xml_error("empty-policy.xml", "line 2:");
}

Test(xml, malformed)
{
	assert_xml_error("malformed.xml", "line 4:");
}

Test(xml, huge_version)
{
	assert_xml_error("huge-version.xml", "version '184467440737095516160' is too large");
}

Test(xml, version_limits)
{
	struct pvsub_policy *p = NULL;
	char xml[512];

	snprintf(xml, sizeof(xml),
		 "<policy xmlns='urn:pvsub:policy:1' id='v' version=' %lu '>"
		 "<include profile='vmfunc'/></policy>",
		 ULONG_MAX);
	cr_assert_eq(load_string(xml, &p, NULL), 0);
	cr_assert_eq(pvsub_policy_version(p), ULONG_MAX);
	pvsub_policy_free(p);
	p = NULL;
	cr_assert_eq(load_string("<policy xmlns='urn:pvsub:policy:1' id='v' version='-1'>"
				 "<include profile='vmfunc'/></policy>",
				 &p, NULL),
		     -EINVAL);
	cr_assert_eq(load_string("<policy xmlns='urn:pvsub:policy:1' id='v' version='1.0'>"
				 "<include profile='vmfunc'/></policy>",
				 &p, NULL),
		     -EINVAL);
	cr_assert_null(p);
}

Test(xml, billion_laughs_refused, .timeout = 10)
{
	assert_xml_error("billion-laughs.xml", "DTDs are not allowed");
}

Test(xml, external_entity_refused)
{
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};

	cr_assert_eq(load_fixture("external-entity.xml", &p, &diag), -EINVAL);
	cr_assert_not_null(strstr(diag.msg, "DTDs are not allowed"), "%s", diag.msg);
	cr_assert_null(strstr(diag.msg, "root:"), "%s", diag.msg);
	cr_assert_eq(load_fixture("external-dtd.xml", &p, &diag), -EINVAL);
	cr_assert_not_null(strstr(diag.msg, "DTDs are not allowed"), "%s", diag.msg);
	cr_assert_null(p);
}

/*
 * Proof that an external entity or DTD is never even opened: it names a
 * FIFO with no writer, so opening it for reading would block and the test
 * would time out.
 */
Test(xml, external_resources_never_opened, .timeout = 10)
{
	char dir[] = "/tmp/pvsub-policy-XXXXXX", fifo[64], *xml = NULL;
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};
	static const char *const templates[][2] = {
		{"<?xml version='1.0'?><!DOCTYPE policy SYSTEM 'file://",
		 "'><policy xmlns='urn:pvsub:policy:1' id='x' version='1'>"
		 "<include profile='vmfunc'/></policy>"},
		{"<?xml version='1.0'?><!DOCTYPE policy [<!ENTITY e SYSTEM 'file://",
		 "'>]><policy xmlns='urn:pvsub:policy:1' id='x' version='1'>"
		 "<pattern id='&e;' bytes='0f'/></policy>"},
		{"<?xml version='1.0'?><!DOCTYPE policy [<!ENTITY % pe SYSTEM '",
		 "'> %pe;]><policy xmlns='urn:pvsub:policy:1' id='x' version='1'>"
		 "<include profile='vmfunc'/></policy>"},
	};

	cr_assert_not_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(templates); i++) {
		cr_assert_gt(asprintf(&xml, "%s%s%s", templates[i][0], fifo, templates[i][1]), 0);
		cr_assert_eq(load_string(xml, &p, &diag), -EINVAL, "template %zu", i);
		cr_assert_not_null(strstr(diag.msg, "DTDs are not allowed"), "%s", diag.msg);
		free(xml);
	}
	unlink(fifo);
	rmdir(dir);
}

Test(xml, undeclared_entity_is_an_error)
{
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};

	cr_assert_eq(load_string("<policy xmlns='urn:pvsub:policy:1' id='&x;' version='1'>"
				 "<include profile='vmfunc'/></policy>",
				 &p, &diag),
		     -EINVAL);
	cr_assert_not_null(strstr(diag.msg, "line 1:"), "%s", diag.msg);
	cr_assert_null(p);
}

Test(xml, ids_are_checked)
{
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};

	cr_assert_eq(load_string("<policy xmlns='urn:pvsub:policy:1' id='a b' version='1'>"
				 "<include profile='vmfunc'/></policy>",
				 &p, &diag),
		     -EINVAL);
	cr_assert_not_null(strstr(diag.msg, "attribute 'id'"), "%s", diag.msg);
	cr_assert_eq(load_string("<policy xmlns='urn:pvsub:policy:1' id='a' version='1'>"
				 "<pattern id=' v' bytes='0f'/></policy>",
				 &p, &diag),
		     -EINVAL);
	cr_assert_not_null(strstr(diag.msg, "attribute 'id'"), "%s", diag.msg);
	cr_assert_eq(load_string("<policy xmlns='urn:pvsub:policy:1' id='a' version='1'>"
				 "<include profile='nosuch'/></policy>",
				 &p, &diag),
		     -EINVAL);
	cr_assert_not_null(strstr(diag.msg, "attribute 'profile'"), "%s", diag.msg);
	cr_assert_null(p);
}

Test(xml, reads_only_the_given_length)
{
	static const char doc[] = "<policy xmlns='urn:pvsub:policy:1' id='a' version='1'>"
				  "<include profile='vmfunc'/></policy>";
	char buf[sizeof(doc) + 16];
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};

	memcpy(buf, doc, sizeof(doc) - 1);
	memcpy(buf + sizeof(doc) - 1, "<garbage>&&&&&&", 16);
	cr_assert_eq(pvsub_policy_new_from_memory(buf, sizeof(doc) - 1, "buf", &p, &diag), 0, "%s",
		     diag.msg);
	pvsub_policy_free(p);
}

Test(xml, garbage_never_crashes)
{
	static const char *const inputs[] = {
		"",
		" ",
		"<",
		"<policy",
		"\xff\xfe<\0p",
		"<?xml version='1.0'?>",
		"<policy xmlns='urn:pvsub:policy:1'/>",
		"<p:policy xmlns:p='urn:pvsub:policy:1' id='a' version='1'><q:pattern/></p:policy>",
		"<policy xmlns='urn:pvsub:policy:1' id='a' version='1'><![CDATA[x]]></policy>",
	};
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};

	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(inputs); i++) {
		size_t len = i == 4 ? 5 : strlen(inputs[i]);

		diag.msg[0] = '\0';
		cr_assert_eq(pvsub_policy_new_from_memory(inputs[i], len, "g", &p, &diag), -EINVAL,
			     "input %zu", i);
		cr_assert_neq(diag.msg[0], '\0', "input %zu has no diag", i);
		cr_assert_null(p);
	}
}

Test(xml, libxml2_never_prints, .init = cr_redirect_stderr)
{
	static const char *const bad[] = {"bad-token.xml",	 "missing-bytes.xml",
					  "malformed.xml",	 "billion-laughs.xml",
					  "external-entity.xml", "wrong-namespace.xml"};
	struct pvsub_policy *p = NULL;

	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(bad); i++)
		cr_assert_eq(load_fixture(bad[i], &p, NULL), -EINVAL);
	fflush(stderr);
	cr_assert_stderr_eq_str("");
}

Test(xml, same_patterns_same_hash)
{
	struct pvsub_policy *a = NULL, *b = NULL, *c = NULL;
	struct pvsub_buf ca = {0}, cb = {0};
	struct pvsub_diag diag = {{0}};

	cr_assert_eq(load_fixture("same-a.xml", &a, &diag), 0, "%s", diag.msg);
	cr_assert_eq(load_fixture("same-b.xml", &b, &diag), 0, "%s", diag.msg);
	cr_assert_eq(pvsub_policy_canonical(a, &ca), 0);
	cr_assert_eq(pvsub_policy_canonical(b, &cb), 0);
	cr_assert_str_eq(ca.data, cb.data);
	cr_assert_str_eq(pvsub_policy_sha256_hex(a), pvsub_policy_sha256_hex(b));

	/* Any change that matters changes the hash. */
	cr_assert_eq(load_string("<policy xmlns='urn:pvsub:policy:1' id='same' version='3'>"
				 "<include profile='vmfunc'/>"
				 "<pattern id='xrstor' bytes='0f ae /5m'/></policy>",
				 &c, &diag),
		     0, "%s", diag.msg);
	cr_assert_str_neq(pvsub_policy_sha256_hex(a), pvsub_policy_sha256_hex(c));
	pvsub_policy_free(c);
	c = NULL;
	cr_assert_eq(load_string("<policy xmlns='urn:pvsub:policy:1' id='same' version='2' "
				 "on-instruction='trap'><include profile='vmfunc'/>"
				 "<pattern id='xrstor' bytes='0f ae /5m'/></policy>",
				 &c, &diag),
		     0, "%s", diag.msg);
	cr_assert_str_neq(pvsub_policy_sha256_hex(a), pvsub_policy_sha256_hex(c));

	pvsub_buf_release(&ca);
	pvsub_buf_release(&cb);
	pvsub_policy_free(a);
	pvsub_policy_free(b);
	pvsub_policy_free(c);
}

Test(xml, canonical_form_exact)
{
	struct pvsub_policy *p = NULL;
	struct pvsub_buf buf = {0};
	struct pvsub_diag diag = {{0}};
	char sha[PVSUB_SHA256_HEX_LEN];
	static const char expected[] = "pvsub-policy-canonical 1\n"
				       "id site:small\n"
				       "version 42\n"
				       "on-instruction trap\n"
				       "pattern wrpkru 0f01ef ffffff\n"
				       "pattern any-int cd00 ff00\n"
				       "pattern xs 0fc718 ffff38\n"
				       "pattern m 0f01c0 fffff8\n";

	cr_assert_eq(load_string("<policy xmlns='urn:pvsub:policy:1' id='site:small' "
				 "version='42' on-instruction='trap'>"
				 "<pattern id='wrpkru' bytes='0f 01 ef'/>"
				 "<pattern id='any-int' bytes='cd ?\?'/>"
				 "<pattern id='xs' bytes='0f c7 /3'/>"
				 "<pattern id='m' bytes='0f 01 c0/f8'/></policy>",
				 &p, &diag),
		     0, "%s", diag.msg);
	cr_assert_eq(pvsub_policy_canonical(p, &buf), 0);
	cr_assert_str_eq(buf.data, expected);
	cr_assert_eq(pvsub_sha256_hex(expected, strlen(expected), sha), 0);
	cr_assert_str_eq(pvsub_policy_sha256_hex(p), sha);
	pvsub_buf_release(&buf);
	pvsub_policy_free(p);
}

/* --- loading by name or path ---------------------------------------------------- */

Test(load, builtin_name)
{
	struct pvsub_policy *p = NULL;

	cr_assert_eq(pvsub_policy_load("pku", &p, NULL), 0);
	cr_assert_str_eq(pvsub_policy_id(p), "builtin:pku");
	pvsub_policy_free(p);
}

Test(load, file_path)
{
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};
	char *path = fixture("trap.xml");

	cr_assert_eq(pvsub_policy_load(path, &p, &diag), 0, "%s", diag.msg);
	cr_assert_str_eq(pvsub_policy_id(p), "trap-gates");
	pvsub_policy_free(p);
	free(path);
}

Test(load, unknown)
{
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};

	cr_assert_eq(pvsub_policy_load("no-such-policy", &p, &diag), -ENOENT);
	cr_assert_str_eq(diag.msg, "no such built-in policy or file");
	cr_assert_null(p);
}

Test(load, file_limit_is_one_mebibyte)
{
	char path[] = "/tmp/pvsub-policy-big-XXXXXX";
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 1024 * 1024 + 1), 0);
	close(fd);
	cr_assert_eq(pvsub_policy_load(path, &p, &diag), -EFBIG);
	cr_assert_null(p);
	unlink(path);
}

Test(load, directory_is_not_a_policy)
{
	struct pvsub_policy *p = NULL;
	struct pvsub_diag diag = {{0}};

	cr_assert_lt(pvsub_policy_load("/", &p, &diag), 0);
	cr_assert_null(p);
	cr_assert_neq(diag.msg[0], '\0');
}
