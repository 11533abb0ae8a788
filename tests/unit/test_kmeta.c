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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/image.h"
#include "libpvsub/kmeta.h"
#include "libpvsub/relobj.h"
#include "libpvsub/scan.h"
#include "libpvsub/search.h"
#include "tests/unit/elfgen.h"
#include "tests/unit/ksymgen.h"

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
	/* The vmfunc in the replacement is a finding in a patch site, and in
	 * the original once the kernel applies the alternative (.text comes
	 * first). */
	cr_assert_eq(res->n_findings, 2);
	cr_assert_eq(res->findings[0].cls.cls, PVSUB_CLASS_PATCH_SITE);
	cr_assert_str_eq(res->findings[0].cls.field, "alternative, only when patched");
	cr_assert_eq(res->findings[1].cls.cls, PVSUB_CLASS_PATCH_SITE);
	cr_assert_str_eq(res->findings[1].cls.field, "alt-replacement");
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

/* --- a linked kernel (vmlinux) ---------------------------------------------------- */

/*
 * A vmlinux-like ET_EXEC with every table kind, as a kernel links them:
 * most tables are sections of their own, __jump_table, .static_call_sites
 * and __mcount_loc lie in .rodata between their symbols, and .smp_locks ends
 * in padding.  The first WRPKRU is the alternative's original, the second is
 * just after its window; the replacement holds a VMFUNC.
 */
static const char vmlinux_src[] = "\t.text\n"
				  "\t.globl _start\n"
				  "_start:\n"
				  "1:\tlock incl (%rdi)\n"
				  "2:\t.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
				  "3:\t.byte 0x0f, 0x01, 0xef\n"
				  "4:\t.byte 0x0f, 0x01, 0xef\n"
				  "5:\t.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
				  "6:\t.byte 0xe8\n"
				  "\t.long 0\n"
				  "7:\tcall _start\n"
				  "8:\t.byte 0xe9\n"
				  "\t.long _start - (. + 4)\n"
				  "9:\t.byte 0xf3, 0x0f, 0x1e, 0xfa\n"
				  "10:\tcall *0x1000\n"
				  "11:\tret\n"
				  "\t.section .altinstr_replacement, \"ax\"\n"
				  "20:\t.byte 0x0f, 0x01, 0xd4\n"
				  "21:\n"
				  "\t.section .altinstructions, \"a\"\n"
				  "\t.long 3b - ., 20b - .\n"
				  "\t.word 0x1234\n"
				  "\t.byte 4b - 3b, 21b - 20b\n"
				  "\t.section .parainstructions, \"a\"\n"
				  "\t.balign 8\n"
				  "\t.quad 10b\n"
				  "\t.byte 1, 11b - 10b\n"
				  "\t.balign 8\n"
				  "\t.section .smp_locks, \"a\"\n"
				  "\t.long 1b - .\n"
				  "\t.long 0\n"
				  "\t.section .retpoline_sites, \"a\"\n"
				  "\t.long 7b - .\n"
				  "\t.section .return_sites, \"a\"\n"
				  "\t.long 8b - .\n"
				  "\t.section .ibt_endbr_seal, \"a\"\n"
				  "\t.long 9b - .\n"
				  "\t.section .rodata, \"a\"\n"
				  "\t.balign 8\n"
				  "\t.globl __start___jump_table, __stop___jump_table\n"
				  "__start___jump_table:\n"
				  "\t.long 2b - ., 4b - .\n"
				  "\t.quad key - .\n"
				  "__stop___jump_table:\n"
				  "\t.globl __start_static_call_sites, __stop_static_call_sites\n"
				  "__start_static_call_sites:\n"
				  "\t.long 6b - ., key - . + 1\n"
				  "__stop_static_call_sites:\n"
				  "\t.globl __start_mcount_loc, __stop_mcount_loc\n"
				  "__start_mcount_loc:\n"
				  "\t.quad 5b\n"
				  "__stop_mcount_loc:\n"
				  "\t.data\n"
				  "key:\t.quad 0\n";

/* vmlinux_src with @from replaced by @to (once). */
static char *edit_vmlinux(const char *from, const char *to)
{
	const char *at = strstr(vmlinux_src, from);
	cr_assert_not_null(at, "no '%s' in the source", from);
	size_t head = (size_t)(at - vmlinux_src);
	char *s = malloc(strlen(vmlinux_src) - strlen(from) + strlen(to) + 1);
	cr_assert_not_null(s);
	memcpy(s, vmlinux_src, head);
	strcpy(s + head, to);
	strcat(s, at + strlen(from));
	return s;
}

static struct pvsub_image *link_vmlinux(const char *src, const char *flags)
{
	struct pvsub_diag d = {""};
	struct pvsub_image *img = NULL;

	free(data);
	data = NULL;
	cr_assert_eq(elfgen_link_exec(src, flags, &data, &size), 0, "linking failed");
	cr_assert_eq(pvsub_image_new(data, size, &img, &d), 0, "%s", d.msg);
	cr_assert_eq(pvsub_image_kind(img), PVSUB_ELF_EXEC);
	return img;
}

/* The details of @img's boot-patching-unchecked violations, "|"-joined. */
static const char *boot_violations(const struct pvsub_image *img)
{
	static char out[1024];

	out[0] = '\0';
	for (size_t i = 0; i < pvsub_image_violation_count(img); i++) {
		const struct pvsub_violation *v = pvsub_image_violation(img, i);
		if (strcmp(v->kind, "boot-patching-unchecked") != 0)
			continue;
		if (out[0])
			strcat(out, "|");
		strncat(out, v->detail, sizeof(out) - strlen(out) - 1);
	}
	return out;
}

static size_t count_kind(const struct pvsub_mwindow *w, size_t n, enum pvsub_window_kind k)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += w[i].kind == k;
	return c;
}

Test(kmeta, a_vmlinux_has_a_window_per_entry_on_the_right_bytes)
{
	static const struct {
		enum pvsub_window_kind kind;
		uint32_t len;
		uint8_t first[3];
	} want[] = {
		{PVSUB_WINDOW_SMP_LOCK, 1, {0xf0}},
		{PVSUB_WINDOW_JUMP_LABEL, 5, {0x0f, 0x1f, 0x44}},
		{PVSUB_WINDOW_ALTERNATIVE, 3, {0x0f, 0x01, 0xef}},
		{PVSUB_WINDOW_FTRACE, 5, {0x0f, 0x1f, 0x44}},
		{PVSUB_WINDOW_STATIC_CALL, 5, {0xe8, 0, 0}},
		{PVSUB_WINDOW_RETPOLINE, 5, {0xe8}},
		{PVSUB_WINDOW_RETURN_THUNK, 5, {0xe9}},
		{PVSUB_WINDOW_ENDBR_SEAL, 4, {0xf3, 0x0f, 0x1e}},
		{PVSUB_WINDOW_PARAVIRT, 7, {0xff, 0x14, 0x25}},
		{PVSUB_WINDOW_ALT_REPLACEMENT, 3, {0x0f, 0x01, 0xd4}},
	};
	const size_t n_want = sizeof(want) / sizeof(want[0]);
	/* Linked as usual (the text segment starts on a page) and without
	 * page alignment (it starts 0x78 bytes into one: origin < 0). */
	const char *flags[] = {NULL, "-Wl,-n"};

	for (size_t f = 0; f < 2; f++) {
		struct pvsub_image *img = link_vmlinux(vmlinux_src, flags[f]);
		const struct pvsub_mwindow *all, *w;
		const char *why;
		size_t n_all, n, seen = 0;

		cr_assert_str_eq(boot_violations(img), "", "%s", boot_violations(img));
		cr_assert_eq(pvsub_image_kmeta(img, &all, &n_all, &why), 0);
		cr_assert_str_eq(why, "");
		/* One window per entry; the padding of .smp_locks is none. */
		cr_assert_eq(n_all, n_want, "flags %s: %zu windows", flags[f], n_all);
		for (size_t r = 0; r < pvsub_image_region_count(img); r++) {
			const struct pvsub_region *rg = pvsub_image_region(img, r);
			cr_assert_eq(pvsub_image_mutable_windows(img, r, &w, &n), 0);
			for (size_t i = 0; i < n; i++, seen++) {
				size_t k = seen;
				int64_t pos = (int64_t)w[i].offset - rg->origin;
				cr_assert_lt(k, n_want);
				cr_assert_eq(w[i].section, rg->index);
				cr_assert_eq(w[i].kind, want[k].kind, "window %zu is %s", k,
					     pvsub_window_kind_name(w[i].kind));
				cr_assert_eq(w[i].len, want[k].len, "%s",
					     pvsub_window_kind_name(w[i].kind));
				cr_assert(pos >= 0 && (uint64_t)pos + w[i].len <= rg->size);
				for (size_t b = 0; b < 3 && want[k].first[b]; b++)
					cr_assert_eq(rg->bytes[pos + (int64_t)b], want[k].first[b],
						     "%s byte %zu",
						     pvsub_window_kind_name(w[i].kind), b);
			}
		}
		cr_assert_eq(seen, n_want);
		pvsub_image_free(img);
	}
}

Test(kmeta, a_stripped_vmlinux_does_not_locate_three_tables)
{
	struct pvsub_image *img = link_vmlinux(vmlinux_src, "-Wl,-s");
	const struct pvsub_mwindow *w;
	const char *why;
	size_t n;

	cr_assert_str_eq(
		boot_violations(img),
		"a stripped vmlinux does not say where __jump_table, .static_call_sites "
		"and __mcount_loc lie and its kallsyms cannot be read: kallsyms not found: "
		"no kallsyms_token_index; the code they patch at boot is not modelled");
	cr_assert_eq(pvsub_image_kmeta(img, &w, &n, &why), 0);
	cr_assert_eq(n, 7);
	cr_assert_eq(count_kind(w, n, PVSUB_WINDOW_JUMP_LABEL), 0);
	cr_assert_eq(count_kind(w, n, PVSUB_WINDOW_STATIC_CALL), 0);
	cr_assert_eq(count_kind(w, n, PVSUB_WINDOW_FTRACE), 0);
	pvsub_image_free(img);
}

/* vmlinux_src followed by ksymgen_kernel_asm(@names): its kallsyms. */
static char *vmlinux_with_kallsyms(const char *const *names)
{
	char *ks = ksymgen_kernel_asm(names);
	char *src;

	cr_assert_not_null(ks);
	src = malloc(strlen(vmlinux_src) + strlen(ks) + 1);
	cr_assert_not_null(src);
	strcpy(stpcpy(src, vmlinux_src), ks);
	free(ks);
	return src;
}

/* The windows of @a and @b are the same, window by window. */
static void same_windows(struct pvsub_image *a, struct pvsub_image *b)
{
	const struct pvsub_mwindow *wa, *wb;
	const char *why;
	size_t na, nb;

	cr_assert_eq(pvsub_image_kmeta(a, &wa, &na, &why), 0);
	cr_assert_eq(pvsub_image_kmeta(b, &wb, &nb, &why), 0);
	cr_assert_eq(na, nb);
	for (size_t i = 0; i < na; i++)
		cr_assert(wa[i].kind == wb[i].kind && wa[i].section == wb[i].section &&
				  wa[i].offset == wb[i].offset && wa[i].len == wb[i].len,
			  "window %zu differs", i);
}

Test(kmeta, a_stripped_vmlinux_locates_them_through_its_kallsyms)
{
	char *src = vmlinux_with_kallsyms(ksymgen_kernel_syms);
	struct pvsub_image *img, *full;
	const struct pvsub_mwindow *w;
	uint8_t *full_data;
	const char *why;
	size_t n;

	/* The control: the same file with its symbol table. */
	full = link_vmlinux(src, NULL);
	full_data = data;
	data = NULL;
	cr_assert_str_eq(boot_violations(full), "");
	img = link_vmlinux(src, "-Wl,-s");
	cr_assert_str_eq(boot_violations(img), "", "%s", boot_violations(img));
	cr_assert_eq(pvsub_image_kmeta(img, &w, &n, &why), 0);
	cr_assert_eq(n, 10);
	cr_assert_eq(count_kind(w, n, PVSUB_WINDOW_JUMP_LABEL), 1);
	cr_assert_eq(count_kind(w, n, PVSUB_WINDOW_STATIC_CALL), 1);
	cr_assert_eq(count_kind(w, n, PVSUB_WINDOW_FTRACE), 1);
	same_windows(img, full);
	pvsub_image_free(img);
	pvsub_image_free(full);
	free(full_data);
	free(src);
}

Test(kmeta, a_kallsyms_without_the_delimiters_says_so)
{
	static const char *const names[] = {
		"_start",  "__start___jump_table", "__stop___jump_table", "other_a",
		"other_b", "__start_mcount_loc",   "__stop_mcount_loc",
	};
	char *src = vmlinux_with_kallsyms(names);
	struct pvsub_image *img = link_vmlinux(src, "-Wl,-s");
	const struct pvsub_mwindow *w;
	const char *why;
	size_t n;

	cr_assert_str_eq(boot_violations(img),
			 ".static_call_sites: the kernel's kallsyms names neither "
			 "__start_static_call_sites nor __stop_static_call_sites; its patch sites "
			 "are not modelled");
	cr_assert_eq(pvsub_image_kmeta(img, &w, &n, &why), 0);
	cr_assert_eq(n, 9);
	cr_assert_eq(count_kind(w, n, PVSUB_WINDOW_STATIC_CALL), 0);
	pvsub_image_free(img);
	free(src);
}

Test(kmeta, delimiters_from_kallsyms_are_checked_as_symbols_are)
{
	/* __stop_mcount_loc named where __start___jump_table is: before its
	 * start, as a symbol table that said so would be refused. */
	static const char *const names[] = {
		"_start",
		"__stop_mcount_loc",
		"__stop___jump_table",
		"__start_static_call_sites",
		"__stop_static_call_sites",
		"__start_mcount_loc",
		"other",
	};
	char *src = vmlinux_with_kallsyms(names);
	struct pvsub_image *img = link_vmlinux(src, "-Wl,-s");
	const char *v = boot_violations(img);
	const char *want = "__jump_table: __stop___jump_table without __start___jump_table; its "
			   "patch sites are not modelled|__mcount_loc: __start_mcount_loc (0x";

	cr_assert(strncmp(v, want, strlen(want)) == 0, "%s", v);
	cr_assert_not_null(strstr(v, ") lies after __stop_mcount_loc (0x"), "%s", v);
	pvsub_image_free(img);
	free(src);
}

/* @from -> @to in the vmlinux: its boot-patching violations start with
 * @head and end with @tail (one line each, "|"-joined), and @n_windows
 * windows remain. */
static void expect_vmlinux(const char *from, const char *to, const char *head, const char *tail,
			   size_t n_windows)
{
	char *src = edit_vmlinux(from, to);
	struct pvsub_image *img = link_vmlinux(src, NULL);
	const struct pvsub_mwindow *w;
	const char *why, *v = boot_violations(img);
	size_t n;

	cr_assert(strncmp(v, head, strlen(head)) == 0, "'%s' does not start with '%s'", v, head);
	cr_assert(strlen(v) >= strlen(tail) && strcmp(v + strlen(v) - strlen(tail), tail) == 0,
		  "'%s' does not end with '%s'", v, tail);
	cr_assert_eq(pvsub_image_kmeta(img, &w, &n, &why), 0);
	cr_assert_str_eq(why, "");
	cr_assert_eq(n, n_windows, "'%s' -> '%s': %zu windows", from, to, n);
	pvsub_image_free(img);
	free(src);
}

Test(kmeta, a_vmlinux_entry_outside_the_executable_bytes_names_its_table)
{
	/* key is in .data; the other tables are still read. */
	expect_vmlinux("\t.long 7b - .\n", "\t.long key - .\n", ".retpoline_sites+0: 0x",
		       " is not in an executable segment's file bytes; its patch sites are not "
		       "modelled",
		       9);
	expect_vmlinux("\t.quad 5b\n", "\t.quad key\n", "__mcount_loc+0: 0x",
		       " is not in an executable segment's file bytes; its patch sites are not "
		       "modelled",
		       9);
	/* A table's own bytes are no code either. */
	expect_vmlinux("\t.long 2b - ., 4b - .\n", "\t.long 0, 4b - .\n", "__jump_table+0: 0x",
		       " is not in an executable segment's file bytes; its patch sites are not "
		       "modelled",
		       9);
	/* Both windows of the alternative go with its table. */
	expect_vmlinux("\t.long 3b - ., 20b - .\n", "\t.long 3b - ., key - .\n",
		       ".altinstructions+0x4: 0x", "; its patch sites are not modelled", 8);
}

Test(kmeta, a_vmlinux_table_of_the_wrong_layout_names_its_table)
{
	expect_vmlinux("\t.byte 4b - 3b, 21b - 20b\n", "\t.byte 4b - 3b, 21b - 20b, 0\n",
		       ".altinstructions: size 13 is not a multiple of 12; its patch sites are not "
		       "modelled",
		       "", 8);
	expect_vmlinux("\t.quad key - .\n", "\t.long key - .\n",
		       "__jump_table: size 12 is not a multiple of 16; its patch sites are not "
		       "modelled",
		       "", 9);
	/* A return thunk site must be a call, jmp or jcc: the ret is none. */
	expect_vmlinux("\t.long 8b - .\n", "\t.long 11b - .\n",
		       ".return_sites+0: no patch site of a known size at segment ",
		       "; its patch sites are not modelled", 9);
	/* A jump label site is a jmp or a NOP, nothing else. */
	expect_vmlinux("\t.long 2b - ., 4b - .\n", "\t.long 1b - ., 4b - .\n",
		       "__jump_table+0: no patch site of a known size at segment ",
		       "; its patch sites are not modelled", 9);
}

Test(kmeta, a_vmlinux_table_between_symbols_needs_both)
{
	expect_vmlinux("__stop_mcount_loc:\n", "",
		       "__mcount_loc: __start_mcount_loc without __stop_mcount_loc; its patch "
		       "sites are not modelled",
		       "", 9);
	expect_vmlinux("__start_static_call_sites:\n", "",
		       ".static_call_sites: __stop_static_call_sites without "
		       "__start_static_call_sites; its patch sites are not modelled",
		       "", 9);
	/* A symbol table without the pair: the kernel has no such table
	 * (the linker script defines both whenever it has). */
	expect_vmlinux("\t.globl __start_mcount_loc, __stop_mcount_loc\n__start_mcount_loc:\n"
		       "\t.quad 5b\n__stop_mcount_loc:\n",
		       "\t.quad 5b\n", "", "", 9);
}

Test(kmeta, a_vmlinux_with_call_sites_is_not_modelled)
{
	expect_vmlinux("\t.section .ibt_endbr_seal, \"a\"\n",
		       "\t.section .call_sites, \"a\"\n\t.long 7b - .\n"
		       "\t.section .ibt_endbr_seal, \"a\"\n",
		       ".call_sites rewrites code at boot (call depth tracking, Linux 6.2 and "
		       "later); not modelled",
		       "", 10);
}

Test(kmeta, linked_windows_stay_inside_their_run)
{
	/* 8 code bytes at 0x1000, the segment's bytes 0x10..0x18. */
	static const uint8_t code[8] = {0x90, 0xf0, 0x90, 0x90, 0x90, 0x90, 0xe9, 0x00};
	struct pvsub_kmeta_code run = {0x1000, code, sizeof(code), 3, 0x10, "segment 3"};
	uint8_t locks[8], alt[12] = {0}, ret[4];
	/* .smp_locks at 0x2000: the lock prefix at 0x1001, then padding. */
	uint32_t rel = (uint32_t)(0x1001 - 0x2000);
	memcpy(locks, &rel, 4);
	memset(locks + 4, 0, 4);
	/* An empty alternative at the very end of the run: no window. */
	rel = (uint32_t)(0x1008 - 0x3000);
	memcpy(alt, &rel, 4);
	rel = (uint32_t)(0x1008 - 0x3004);
	memcpy(alt + 4, &rel, 4);
	/* A return thunk jmp that would run past the run's end. */
	rel = (uint32_t)(0x1006 - 0x4000);
	memcpy(ret, &rel, 4);
	struct pvsub_kmeta_table tabs[] = {
		{".smp_locks", 0x2000, locks, sizeof(locks), 7, 0},
		{".altinstructions", 0x3000, alt, sizeof(alt), 8, 0},
		{".return_sites", 0x4000, ret, sizeof(ret), 9, 0},
	};
	struct pvsub_diag why[3];
	struct pvsub_mwindow *w = NULL;
	size_t n = 0;

	cr_assert_eq(pvsub_kmeta_linked_windows(tabs, 3, &run, 1, &w, &n, why), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(w[0].section, 3);
	cr_assert_eq(w[0].offset, 0x11);
	cr_assert_eq(w[0].len, 1);
	cr_assert_eq(w[0].table, 7);
	cr_assert_eq(w[0].table_off, 0);
	cr_assert_str_eq(why[0].msg, "");
	cr_assert_str_eq(why[1].msg, "");
	cr_assert_str_eq(why[2].msg,
			 ".return_sites+0: no patch site of a known size at segment 3+0x16");
	free(w);
}
