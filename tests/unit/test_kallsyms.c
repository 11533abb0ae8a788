/* SPDX-License-Identifier: MIT */
/*
 * kallsyms: tables built here (ksymgen), hidden in noise, are found by
 * their structure and give back every name, type and address; each kind
 * of damage gives its documented refusal, after a control that shows the
 * same blob undamaged is found.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/kallsyms.h"
#include "tests/unit/ksymgen.h"

#define VADDR 0xffffffff82000004ull /* the run starts 4 bytes off alignment */
#define AT 0x1004u		    /* the blob, 8-aligned by address */
#define TAIL 0x800u

static struct ksymgen_sym *syms;
static char (*names)[600];
static size_t n_syms;

/* @n symbols: two absolute per-cpu ones, then _text (the relative base),
 * a name long enough for the two-byte length, the six delimiters, and
 * numbered functions up to @n. */
static void make_syms(size_t n)
{
	static const char *const fixed[] = {
		"__start___jump_table",	    "__stop___jump_table", "__start_static_call_sites",
		"__stop_static_call_sites", "__start_mcount_loc",  "__stop_mcount_loc",
	};
	uint64_t addr = 0xffffffff81000000ull;
	size_t k = 0;

	cr_assert_geq(n, 10);
	free(syms);
	free(names);
	syms = calloc(n, sizeof(*syms));
	names = calloc(n, sizeof(*names));
	cr_assert(syms && names);
	strcpy(names[k], "fixed_percpu_data");
	syms[k] = (struct ksymgen_sym){names[k], 'A', 0, true};
	k++;
	strcpy(names[k], "cpu_number");
	syms[k] = (struct ksymgen_sym){names[k], 'A', 0x2c, true};
	k++;
	strcpy(names[k], "_text");
	syms[k] = (struct ksymgen_sym){names[k], 'T', addr, false};
	k++;
	memset(names[k], 'x', 200);
	memcpy(names[k], "long_", 5);
	syms[k] = (struct ksymgen_sym){names[k], 't', addr += 0x40, false};
	k++;
	for (size_t i = 0; k < n; i++, k++) {
		if (i < 6)
			strcpy(names[k], fixed[i]);
		else
			snprintf(names[k], sizeof(names[k]), "sym_%05zu", i);
		/* The two pairs that meet share an address. */
		addr += (i == 2 || i == 4) ? 0 : 0x10 + 8 * (i % 7);
		syms[k] = (struct ksymgen_sym){names[k], i < 6 ? 'D' : (i % 2 ? 't' : 'T'), addr,
					       false};
	}
	n_syms = n;
}

/* A run of noise holding the blob of the symbols at AT: *@size bytes. */
static uint8_t *make_run(bool seqs, struct ksymgen_layout *lay, size_t *size)
{
	uint8_t *blob, *run;
	uint32_t x = 12345;

	cr_assert_eq(ksymgen_build(syms, n_syms, seqs, &blob, lay), 0);
	*size = AT + lay->size + TAIL;
	run = malloc(*size);
	cr_assert_not_null(run);
	for (size_t i = 0; i < *size; i++) {
		x = x * 1103515245u + 12345u;
		run[i] = (uint8_t)(x >> 16);
	}
	memcpy(run + AT, blob, lay->size);
	free(blob);
	return run;
}

static int find(const uint8_t *run, size_t size, struct pvsub_kallsyms **ks, struct pvsub_diag *d)
{
	struct pvsub_kallsyms_run r = {VADDR, run, size};

	return pvsub_kallsyms_find(&r, 1, ks, d);
}

struct walk {
	size_t i;
	bool ok;
};

static int check_one(const char *name, char type, uint64_t addr, void *arg)
{
	struct walk *w = arg;

	if (w->i >= n_syms || strcmp(name, syms[w->i].name) != 0 || type != syms[w->i].type ||
	    addr != syms[w->i].addr)
		w->ok = false;
	w->i++;
	return 0;
}

static void expect_found(bool seqs, size_t n)
{
	struct pvsub_kallsyms_layout got;
	struct ksymgen_layout lay;
	struct pvsub_kallsyms *ks = NULL;
	struct pvsub_diag d = {""};
	struct walk w = {0, true};
	uint64_t addr, at = VADDR + AT;
	size_t size;
	uint8_t *run;

	make_syms(n);
	run = make_run(seqs, &lay, &size);
	cr_assert_eq(find(run, size, &ks, &d), 0, "%s", d.msg);
	pvsub_kallsyms_layout(ks, &got);
	cr_assert_eq(got.count, n);
	cr_assert_eq(got.offsets, at + lay.offsets);
	cr_assert_eq(got.relative_base, at + lay.relative_base);
	cr_assert_eq(got.num_syms, at + lay.num_syms);
	cr_assert_eq(got.names, at + lay.names);
	cr_assert_eq(got.markers, at + lay.markers);
	cr_assert_eq(got.seqs_of_names, seqs ? at + lay.seqs : 0);
	cr_assert_eq(got.token_table, at + lay.token_table);
	cr_assert_eq(got.token_index, at + lay.token_index);
	cr_assert_eq(pvsub_kallsyms_foreach(ks, check_one, &w), 0);
	cr_assert(w.ok && w.i == n, "symbols differ (%zu walked)", w.i);
	for (size_t i = 0; i < n; i += 37) {
		cr_assert_eq(pvsub_kallsyms_lookup(ks, syms[i].name, &addr, &d), 0, "%s", d.msg);
		cr_assert_eq(addr, syms[i].addr, "%s", syms[i].name);
	}
	cr_assert_eq(pvsub_kallsyms_lookup(ks, "__stop_mcount_loc", &addr, &d), 0);
	cr_assert_eq(addr, syms[9].addr);
	cr_assert_eq(pvsub_kallsyms_lookup(ks, "cpu_number", &addr, &d), 0);
	cr_assert_eq(addr, 0x2c);
	cr_assert_eq(pvsub_kallsyms_lookup(ks, "no_such_symbol", &addr, &d), -ENOENT);
	cr_assert_str_eq(d.msg, "kallsyms does not name no_such_symbol");
	pvsub_kallsyms_free(ks);
	free(run);
}

Test(kallsyms, found_by_structure_with_seqs_of_names)
{
	expect_found(true, 700);
}

Test(kallsyms, found_by_structure_without_seqs_of_names)
{
	expect_found(false, 700);
}

Test(kallsyms, found_with_fewer_than_one_marker_block)
{
	expect_found(true, 12);
}

/* Damage the blob (at @b, layout @lay) of 700 symbols with @damage, after
 * the control: undamaged, it is found.  Then @err and a message starting
 * with @head that holds @part. */
static void expect_refused(bool seqs, void (*damage)(uint8_t *b, const struct ksymgen_layout *lay),
			   int err, const char *head, const char *part)
{
	struct ksymgen_layout lay;
	struct pvsub_kallsyms *ks = NULL;
	struct pvsub_diag d = {""};
	size_t size;
	uint8_t *run;

	make_syms(700);
	run = make_run(seqs, &lay, &size);
	cr_assert_eq(find(run, size, &ks, &d), 0, "control: %s", d.msg);
	pvsub_kallsyms_free(ks);
	ks = NULL;
	damage(run + AT, &lay);
	cr_assert_eq(find(run, size, &ks, &d), err, "%s", d.msg);
	cr_assert_null(ks);
	cr_assert(strncmp(d.msg, head, strlen(head)) == 0, "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, part), "%s", d.msg);
	free(run);
}

static void swap_index(uint8_t *b, const struct ksymgen_layout *lay)
{
	uint8_t *p = b + lay->token_index + 2 * 40, t[2];

	memcpy(t, p, 2);
	memcpy(p, p + 2, 2);
	memcpy(p + 2, t, 2);
}

Test(kallsyms, a_token_index_that_does_not_increase_is_no_table)
{
	expect_refused(true, swap_index, -ENOENT,
		       "kallsyms not found: ", "no kallsyms_token_index");
}

static void long_last_name(uint8_t *b, const struct ksymgen_layout *lay)
{
	b[lay->last_name] = 0x7f;
}

Test(kallsyms, a_name_running_past_the_end_is_refused)
{
	expect_refused(true, long_last_name, -ENOENT, "kallsyms not found: ",
		       "symbol 699 (127 tokens) runs past the end of kallsyms_names");
}

static void more_syms(uint8_t *b, const struct ksymgen_layout *lay)
{
	b[lay->num_syms]++;
}

static void fewer_syms(uint8_t *b, const struct ksymgen_layout *lay)
{
	b[lay->num_syms]--;
}

Test(kallsyms, num_syms_that_lies_is_refused)
{
	/* One more: the last name is followed by zero padding: no name. */
	expect_refused(true, more_syms, -ENOENT,
		       "kallsyms not found: ", "symbol 700 has no tokens");
	/* One fewer: with kallsyms_seqs_of_names, where they would start is
	 * not followed by zero padding up to the token table; without, the
	 * names end one name before the markers. */
	expect_refused(true, fewer_syms, -ENOENT, "kallsyms not found: ",
		       "no kallsyms_num_syms and kallsyms_markers before the token table");
	expect_refused(false, fewer_syms, -ENOENT,
		       "kallsyms not found: ", "kallsyms_names of 699 symbols end");
}

static void bad_marker(uint8_t *b, const struct ksymgen_layout *lay)
{
	b[lay->markers + 4]++;
}

Test(kallsyms, a_marker_off_its_block_is_refused)
{
	expect_refused(true, bad_marker, -ENOENT, "kallsyms not found: ",
		       "kallsyms_markers[1] is not where symbol 256 starts");
}

static void repeated_seq(uint8_t *b, const struct ksymgen_layout *lay)
{
	memcpy(b + lay->seqs + 3 * 5, b + lay->seqs + 3 * 4, 3);
}

Test(kallsyms, seqs_of_names_that_repeat_are_refused)
{
	expect_refused(true, repeated_seq, -ENOENT, "kallsyms not found: ",
		       "kallsyms_seqs_of_names[5] is not a symbol index or repeats one");
}

static void unsorted(uint8_t *b, const struct ksymgen_layout *lay)
{
	uint8_t t[4], *p = b + lay->offsets + 4 * 100;

	memcpy(t, p, 4);
	memcpy(p, p + 4, 4);
	memcpy(p + 4, t, 4);
}

Test(kallsyms, offsets_out_of_order_are_refused)
{
	expect_refused(true, unsorted, -ENOENT,
		       "kallsyms not found: ", "kallsyms_offsets are not sorted at symbol 101");
}

static void not_base(uint8_t *b, const struct ksymgen_layout *lay)
{
	memset(b + lay->relative_base, 0, 8);
}

Test(kallsyms, a_relative_base_that_is_no_symbol_is_refused)
{
	expect_refused(true, not_base, -ENOENT,
		       "kallsyms not found: ", "kallsyms_offsets are not sorted at symbol 2");
}

static void empty_token(uint8_t *b, const struct ksymgen_layout *lay)
{
	/* The first token of symbol 0's name ('A') becomes code 0x80. */
	b[lay->names + 1] = 0x80;
}

static void digit_type(uint8_t *b, const struct ksymgen_layout *lay)
{
	b[lay->names + 1] = '1';
}

Test(kallsyms, names_of_empty_tokens_or_without_type_are_refused)
{
	expect_refused(true, empty_token, -ENOENT,
		       "kallsyms not found: ", "symbol 0 uses the empty token 128");
	expect_refused(true, digit_type, -ENOENT,
		       "kallsyms not found: ", "symbol 0 has no name or no type letter");
}

static void unprintable_token(uint8_t *b, const struct ksymgen_layout *lay)
{
	const uint8_t *z = b + lay->token_index + 2 * 'z';

	b[lay->token_table + (size_t)(z[0] | z[1] << 8)] = 0x07;
}

static void nul_in_token(uint8_t *b, const struct ksymgen_layout *lay)
{
	/* Token 1 is "__start_": a NUL in its middle ends it early. */
	const uint8_t *one = b + lay->token_index + 2;

	b[lay->token_table + (size_t)(one[0] | one[1] << 8) + 3] = 0;
}

Test(kallsyms, a_token_that_is_not_printable_is_no_table)
{
	expect_refused(true, unprintable_token, -ENOENT,
		       "kallsyms not found: ", "no kallsyms_token_index");
	expect_refused(true, nul_in_token, -ENOENT,
		       "kallsyms not found: ", "no kallsyms_token_index");
}

Test(kallsyms, two_copies_are_ambiguous)
{
	struct ksymgen_layout lay;
	struct pvsub_kallsyms *ks = NULL;
	struct pvsub_diag d = {""};
	size_t size;
	uint8_t *run, *two;

	make_syms(300);
	run = make_run(true, &lay, &size);
	cr_assert_eq(find(run, size, &ks, &d), 0, "control: %s", d.msg);
	pvsub_kallsyms_free(ks);
	/* The same run twice, back to back: two whole tables. */
	two = malloc(2 * size);
	cr_assert_not_null(two);
	memcpy(two, run, size);
	memcpy(two + size + (8 - size % 8) % 8, run, size - (8 - size % 8) % 8);
	cr_assert_eq(find(two, 2 * size, &ks, &d), -EINVAL);
	cr_assert_null(ks);
	cr_assert(strncmp(d.msg, "kallsyms ambiguous: ", 20) == 0, "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "2 whole tables, token tables at 0x"), "%s", d.msg);
	/* Two runs, one copy each: ambiguous as well. */
	struct pvsub_kallsyms_run runs[2] = {{VADDR, run, size}, {VADDR + 0x100000, run, size}};
	cr_assert_eq(pvsub_kallsyms_find(runs, 2, &ks, &d), -EINVAL);
	cr_assert(strncmp(d.msg, "kallsyms ambiguous: ", 20) == 0, "%s", d.msg);
	free(two);
	free(run);
}

Test(kallsyms, no_run_or_noise_only_is_not_found)
{
	struct pvsub_kallsyms *ks = NULL;
	struct pvsub_diag d = {""};
	uint8_t zeros[4096] = {0};

	cr_assert_eq(pvsub_kallsyms_find(NULL, 0, &ks, &d), -ENOENT);
	cr_assert_str_eq(d.msg, "kallsyms not found: no kallsyms_token_index");
	cr_assert_eq(find(zeros, sizeof(zeros), &ks, &d), -ENOENT);
	cr_assert_eq(find(zeros, 100, &ks, &d), -ENOENT);
	cr_assert_null(ks);
}

/* Every prefix and every suffix of a small blob: refused, one line, never
 * a read outside the run (the sanitizer build checks that). */
Test(kallsyms, every_truncation_is_refused)
{
	struct ksymgen_layout lay;
	struct pvsub_kallsyms *ks = NULL;
	struct pvsub_diag d = {""};
	size_t size;
	uint8_t *run;

	make_syms(12);
	run = make_run(true, &lay, &size);
	for (size_t cut = 0; cut < lay.size; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		struct pvsub_kallsyms_run r = {VADDR + AT, copy, cut};

		memcpy(copy, run + AT, cut);
		cr_assert_eq(pvsub_kallsyms_find(&r, 1, &ks, &d), -ENOENT, "prefix %zu", cut);
		cr_assert_null(strchr(d.msg, '\n'));
		free(copy);
	}
	for (size_t cut = 1; cut <= lay.size; cut++) {
		size_t len = lay.size - cut;
		uint8_t *copy = malloc(len ? len : 1);
		struct pvsub_kallsyms_run r = {VADDR + AT + cut, copy, len};

		memcpy(copy, run + AT + cut, len);
		cr_assert_eq(pvsub_kallsyms_find(&r, 1, &ks, &d), -ENOENT, "suffix from %zu", cut);
		free(copy);
	}
	free(run);
}

/* @copies token tables with their index back to back, and no names. */
static int find_token_tables(size_t copies, struct pvsub_diag *d)
{
	struct ksymgen_layout lay;
	struct pvsub_kallsyms_run one;
	struct pvsub_kallsyms *ks = NULL;
	uint8_t *blob, *run;
	size_t block;
	int r;

	/* The run starts on an 8-aligned address, with the first table. */
	make_syms(12);
	cr_assert_eq(ksymgen_build(syms, n_syms, false, &blob, &lay), 0);
	block = lay.size - lay.token_table;
	cr_assert_eq(block % 8, 0);
	run = malloc(copies * block);
	cr_assert_not_null(run);
	for (size_t i = 0; i < copies; i++)
		memcpy(run + i * block, blob + lay.token_table, block);
	one = (struct pvsub_kallsyms_run){VADDR + 4, run, copies * block};
	r = pvsub_kallsyms_find(&one, 1, &ks, d);
	cr_assert_null(ks);
	free(run);
	free(blob);
	return r;
}

Test(kallsyms, many_token_tables_are_ambiguous_before_they_cost_a_walk_each)
{
	struct pvsub_diag d = {""};

	/* The control: 16 are each tried, and none has names before it. */
	cr_assert_eq(find_token_tables(16, &d), -ENOENT);
	cr_assert_str_eq(d.msg, "kallsyms not found: no kallsyms_num_syms and kallsyms_markers "
				"before the token table");
	cr_assert_eq(find_token_tables(17, &d), -EINVAL);
	cr_assert_str_eq(
		d.msg,
		"kallsyms ambiguous: more than 16 token tables, 16 candidates or 64 MiB of tokens");
}
