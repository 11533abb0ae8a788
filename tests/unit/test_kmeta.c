/* SPDX-License-Identifier: MIT */
/*
 * kmeta: the mutable windows of a small module-like object with the Linux
 * 6.1 tables (.altinstructions, __jump_table, __mcount_loc, .smp_locks,
 * .static_call_sites, .retpoline_sites), read through the object reader;
 * tables with the wrong layout refused with their name; the windows as the
 * image and the scan hand them on (read once per file).
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/image.h"
#include "libpvsub/kmeta.h"
#include "libpvsub/relobj.h"
#include "libpvsub/scan.h"
#include "libpvsub/search.h"
#include "tests/unit/elfgen.h"

/*
 * In .text: a lock prefix (offset 0), a jump label NOP (3), an alternative
 * of 3 bytes (8) whose replacement is in .altinstr_replacement, an ftrace
 * call site (11), a static call (16) and a retpoline site (21).
 */
static const char tables_src[] =
	"\t.text\n"
	"\t.globl f\n"
	"f:\n"
	"1:\tlock incl (%rdi)\n"
	"2:\t.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
	"3:\t.byte 0x90, 0x90, 0x90\n"
	"4:\n"
	"5:\t.byte 0xe8, 0, 0, 0, 0\n"
	"6:\t.byte 0xe8, 0, 0, 0, 0\n"
	"7:\tcall g\n"
	"\tret\n"
	"\t.section .altinstr_replacement, \"ax\"\n"
	"8:\t.byte 0x0f, 0x01, 0xd4\n"
	"9:\n"
	"\t.section .altinstructions, \"a\"\n"
	"\t.long 3b - .\n"
	"\t.long 8b - .\n"
	"\t.word 0x1234\n"
	"\t.byte 4b - 3b\n"
	"\t.byte 9b - 8b\n"
	"\t.section __jump_table, \"aw\"\n"
	"\t.balign 8\n"
	"\t.long 2b - ., 3b - .\n"
	"\t.quad key - .\n"
	"\t.section .smp_locks, \"a\"\n"
	"\t.balign 4\n"
	"\t.long 1b - .\n"
	"\t.section __mcount_loc, \"a\"\n"
	"\t.quad 5b\n"
	"\t.section .static_call_sites, \"a\"\n"
	"\t.long 6b - ., key - .\n"
	"\t.section .retpoline_sites, \"a\"\n"
	"\t.long 7b - .\n"
	"\t.data\n"
	"key:\t.quad 0\n";

static uint8_t *data;
static size_t size;

static void teardown(void)
{
	free(data);
	data = NULL;
}

TestSuite(kmeta, .fini = teardown);

static void build(const char *src)
{
	free(data);
	data = NULL;
	cr_assert_eq(elfgen_assemble(src, NULL, &data, &size), 0, "assembling failed");
}

/* The windows of @src, or the error with its reason in @d. */
static int windows_of(const char *src, struct pvsub_mwindow **w, size_t *n, struct pvsub_diag *d)
{
	struct pvsub_relobj *o = NULL;

	build(src);
	cr_assert_eq(pvsub_relobj_view(data, size, &o, d), 0, "%s", d->msg);
	int r = pvsub_kmeta_windows(o, w, n, d);
	pvsub_relobj_free(o);
	return r;
}

/* @src with @from replaced by @to (once). */
static char *edit(const char *from, const char *to)
{
	const char *at = strstr(tables_src, from);
	cr_assert_not_null(at, "no '%s' in the source", from);
	size_t head = (size_t)(at - tables_src);
	char *s = malloc(strlen(tables_src) - strlen(from) + strlen(to) + 1);
	cr_assert_not_null(s);
	memcpy(s, tables_src, head);
	strcpy(s + head, to);
	strcat(s, at + strlen(from));
	return s;
}

static void expect_refused(const char *from, const char *to, const char *needle)
{
	struct pvsub_diag d = {""};
	struct pvsub_mwindow *w = NULL;
	size_t n = 0;
	char *src = edit(from, to);

	cr_assert_eq(windows_of(src, &w, &n, &d), -EINVAL, "'%s' -> '%s' was accepted", from, to);
	cr_assert_not_null(strstr(d.msg, needle), "'%s' lacks '%s'", d.msg, needle);
	cr_assert_null(strchr(d.msg, '\n'));
	free(src);
}

Test(kmeta, windows_of_every_table)
{
	struct pvsub_diag d = {""};
	struct pvsub_mwindow *w = NULL;
	size_t n = 0;
	struct pvsub_relobj *o = NULL;

	cr_assert_eq(windows_of(tables_src, &w, &n, &d), 0, "%s", d.msg);
	cr_assert_eq(pvsub_relobj_view(data, size, &o, &d), 0);
	size_t text = pvsub_relobj_find(o, ".text");
	size_t repl = pvsub_relobj_find(o, ".altinstr_replacement");
	cr_assert(text && repl);
	static const struct {
		bool in_text;
		uint64_t offset;
		uint32_t len;
		enum pvsub_window_kind kind;
		const char *table;
	} want[] = {
		{true, 0, 1, PVSUB_WINDOW_SMP_LOCK, ".smp_locks"},
		{true, 3, 5, PVSUB_WINDOW_JUMP_LABEL, "__jump_table"},
		{true, 8, 3, PVSUB_WINDOW_ALTERNATIVE, ".altinstructions"},
		{true, 11, 5, PVSUB_WINDOW_FTRACE, "__mcount_loc"},
		{true, 16, 5, PVSUB_WINDOW_STATIC_CALL, ".static_call_sites"},
		{true, 21, 5, PVSUB_WINDOW_RETPOLINE, ".retpoline_sites"},
		{false, 0, 3, PVSUB_WINDOW_ALT_REPLACEMENT, ".altinstructions"},
	};
	cr_assert_eq(n, sizeof(want) / sizeof(want[0]));
	/* Sorted by section, then offset. */
	cr_assert_lt(text, repl);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(w[i].section, want[i].in_text ? text : repl, "window %zu", i);
		cr_assert_eq(w[i].offset, want[i].offset, "window %zu", i);
		cr_assert_eq(w[i].len, want[i].len, "window %zu", i);
		cr_assert_eq(w[i].kind, want[i].kind, "window %zu is %s", i,
			     pvsub_window_kind_name(w[i].kind));
		cr_assert_str_eq(o->sec[w[i].table].name, want[i].table);
	}
	pvsub_relobj_free(o);
	free(w);
}

Test(kmeta, an_object_without_tables_has_no_windows)
{
	struct pvsub_diag d = {""};
	struct pvsub_mwindow *w = (struct pvsub_mwindow *)&d;
	size_t n = 99;

	cr_assert_eq(windows_of("\t.text\nf:\tret\n", &w, &n, &d), 0, "%s", d.msg);
	cr_assert_null(w);
	cr_assert_eq(n, 0);
}

Test(kmeta, an_empty_alternative_is_no_window)
{
	/* A replacement of length 0 (the kernel pads with NOPs): no window
	 * for it, the original still has one. */
	struct pvsub_diag d = {""};
	struct pvsub_mwindow *w = NULL;
	size_t n = 0;
	char *src = edit("\t.byte 9b - 8b\n", "\t.byte 0\n");

	cr_assert_eq(windows_of(src, &w, &n, &d), 0, "%s", d.msg);
	size_t alt = 0, repl = 0;
	for (size_t i = 0; i < n; i++) {
		alt += w[i].kind == PVSUB_WINDOW_ALTERNATIVE;
		repl += w[i].kind == PVSUB_WINDOW_ALT_REPLACEMENT;
	}
	cr_assert_eq(alt, 1);
	cr_assert_eq(repl, 0);
	free(w);
	free(src);
}

Test(kmeta, a_table_of_the_wrong_size_is_refused_with_its_name)
{
	expect_refused("\t.byte 9b - 8b\n", "\t.byte 9b - 8b\n\t.byte 0\n",
		       ".altinstructions: size 13 is not a multiple of 12");
	expect_refused("\t.quad key - .\n", "\t.long key - .\n", "__jump_table: size 12");
}

Test(kmeta, an_entry_without_its_relocation_is_refused)
{
	expect_refused("\t.long 1b - .\n", "\t.long 1b - .\n\t.long 0\n",
		       ".smp_locks: 2 entries but 1 relocations");
}

Test(kmeta, a_pointer_of_the_wrong_relocation_type_is_refused)
{
	/* __mcount_loc holds absolute addresses; a PC-relative one is not
	 * the 6.1 layout. */
	expect_refused("\t.quad 5b\n", "\t.quad 5b - .\n", "__mcount_loc+0: unexpected relocation");
}

Test(kmeta, a_pointer_outside_code_is_refused)
{
	expect_refused("\t.long 1b - .\n", "\t.long key - .\n", ".smp_locks+0: does not point into code");
}

Test(kmeta, a_site_that_is_no_branch_is_refused)
{
	/* A retpoline site must be a call, jmp or jcc: here it is the ret. */
	expect_refused("\t.long 7b - .\n", "\t.long 7b + 5 - .\n",
		       ".retpoline_sites+0: no patch site of a known size");
}

Test(kmeta, code_tables_and_names)
{
	cr_assert(pvsub_kmeta_is_code_table(".altinstructions"));
	cr_assert(pvsub_kmeta_is_code_table("__ex_table"));
	cr_assert(pvsub_kmeta_is_code_table(".orc_unwind_ip"));
	cr_assert_not(pvsub_kmeta_is_code_table(".data"));
	cr_assert_not(pvsub_kmeta_is_code_table(".altinstructions.x"));
	cr_assert_str_eq(pvsub_window_kind_name(PVSUB_WINDOW_JUMP_LABEL), "jump-label");
	cr_assert_str_eq(pvsub_window_kind_name(PVSUB_WINDOW_ALT_REPLACEMENT), "alt-replacement");
	cr_assert_str_eq(pvsub_window_kind_name((enum pvsub_window_kind)99), "?");
}

/* --- read once, handed on -------------------------------------------------------- */

Test(kmeta, the_image_reads_them_once_and_keeps_the_reason)
{
	struct pvsub_diag d = {""};
	struct pvsub_image *img = NULL;
	const struct pvsub_mwindow *w, *again;
	const char *why;
	size_t n, n2;

	build(tables_src);
	cr_assert_eq(pvsub_image_new(data, size, &img, &d), 0, "%s", d.msg);
	cr_assert_eq(pvsub_image_kmeta(img, &w, &n, &why), 0);
	cr_assert_eq(n, 7);
	cr_assert_str_eq(why, "");
	/* Asked again: the same array, not a second reading. */
	cr_assert_eq(pvsub_image_kmeta(img, &again, &n2, &why), 0);
	cr_assert_eq(again, w);
	cr_assert_eq(n2, n);
	pvsub_image_free(img);

	char *src = edit("\t.long 1b - .\n", "\t.long 1b - .\n\t.long 0\n");
	build(src);
	free(src);
	cr_assert_eq(pvsub_image_new(data, size, &img, &d), 0, "%s", d.msg);
	cr_assert_eq(pvsub_image_kmeta(img, &w, &n, &why), 0);
	cr_assert_eq(n, 0);
	cr_assert_not_null(strstr(why, ".smp_locks"), "%s", why);
	pvsub_image_free(img);
}

static struct pvsub_scan_result *scan(bool kmeta)
{
	struct pvsub_policy *pol = NULL;
	struct pvsub_matcher *m = NULL;
	struct pvsub_scan_result *res = NULL;
	struct pvsub_diag d = {""};

	const struct pvsub_pattern *p;
	size_t np;

	cr_assert_eq(pvsub_policy_new_builtin("default", &pol, &d), 0, "%s", d.msg);
	p = pvsub_policy_patterns(pol, &np);
	cr_assert_eq(pvsub_matcher_new(p, np, &m), 0);
	struct pvsub_scan_opts so = {.policy = pol, .matcher = m, .kmeta = kmeta};
	cr_assert_eq(pvsub_decoder_new(&so.decoder), 0);
	cr_assert_eq(pvsub_scan_buffer(&so, data, size, &res, &d), 0, "%s", d.msg);
	pvsub_decoder_free(so.decoder);
	pvsub_matcher_free(m);
	pvsub_policy_free(pol);
	return res;
}

Test(kmeta, the_scan_hands_them_on_when_asked)
{
	build(tables_src);
	struct pvsub_scan_result *res = scan(true);
	cr_assert_not_null(res->kmeta_error);
	cr_assert_eq(res->n_mwindows, 7);
	cr_assert_str_eq(res->kmeta_error, "");
	/* The vmfunc in the replacement is a finding in a patch site. */
	cr_assert_eq(res->n_findings, 1);
	cr_assert_eq(res->findings[0].cls.cls, PVSUB_CLASS_PATCH_SITE);
	cr_assert_str_eq(res->findings[0].cls.field, "alt-replacement");
	pvsub_scan_result_free(res);
	/* Not asked: nothing kept. */
	res = scan(false);
	cr_assert_null(res->kmeta_error);
	cr_assert_null(res->mwindows);
	cr_assert_eq(res->findings[0].cls.cls, PVSUB_CLASS_PATCH_SITE);
	pvsub_scan_result_free(res);

	char *src = edit("\t.quad 5b\n", "\t.quad 5b - .\n");
	build(src);
	free(src);
	res = scan(true);
	cr_assert_not_null(res->kmeta_error);
	cr_assert_eq(res->n_mwindows, 0);
	cr_assert_not_null(strstr(res->kmeta_error, "__mcount_loc"), "%s", res->kmeta_error);
	/* Without windows the occurrence is judged as plain code: stricter. */
	cr_assert_neq(res->findings[0].cls.cls, PVSUB_CLASS_PATCH_SITE);
	pvsub_scan_result_free(res);
}
