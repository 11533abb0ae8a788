/* SPDX-License-Identifier: MIT */
/*
 * wverdict: for each kind of kernel mutable window, a small module whose
 * window forms a pattern only once the kernel patches it (a static verdict
 * and a patch-site finding "KIND, only when patched"), and the same module
 * with one byte changed, where no patched form can make it (cannot-form,
 * no finding): the negative control.  Windows whose bytes depend on a
 * target chosen at run time are `runtime`; two neighbouring windows are
 * decided together.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/kmeta.h"
#include "libpvsub/policy.h"
#include "libpvsub/scan.h"
#include "libpvsub/search.h"
#include "libpvsub/wverdict.h"
#include "tests/unit/elfgen.h"

static uint8_t *data;
static size_t size;
static struct pvsub_scan_result *res;

static void teardown(void)
{
	pvsub_scan_result_free(res);
	res = NULL;
	free(data);
	data = NULL;
}

TestSuite(wverdict, .fini = teardown);

/* Assemble @src and scan it with one pattern @bytes (a policy token
 * string), or with the built-in policy @builtin when @bytes is NULL. */
static void scan_with(const char *src, const char *bytes, const char *builtin)
{
	struct pvsub_policy *pol = NULL;
	struct pvsub_matcher *m = NULL;
	struct pvsub_diag d = {""};
	const struct pvsub_pattern *p;
	size_t np;
	char xml[512];

	pvsub_scan_result_free(res);
	res = NULL;
	free(data);
	data = NULL;
	cr_assert_eq(elfgen_assemble(src, NULL, &data, &size), 0, "assembling failed");
	if (bytes) {
		snprintf(xml, sizeof(xml),
			 "<policy xmlns=\"urn:pvsub:policy:1\" id=\"t\" version=\"1\">"
			 "<pattern id=\"p\" bytes=\"%s\"/></policy>",
			 bytes);
		cr_assert_eq(pvsub_policy_new_from_memory(xml, strlen(xml), "t", &pol, &d), 0, "%s",
			     d.msg);
	} else {
		cr_assert_eq(pvsub_policy_new_builtin(builtin, &pol, &d), 0, "%s", d.msg);
	}
	p = pvsub_policy_patterns(pol, &np);
	cr_assert_eq(pvsub_matcher_new(p, np, &m), 0);
	struct pvsub_scan_opts so = {.policy = pol, .matcher = m};
	cr_assert_eq(pvsub_decoder_new(&so.decoder), 0);
	cr_assert_eq(pvsub_scan_buffer(&so, data, size, &res, &d), 0, "%s", d.msg);
	pvsub_decoder_free(so.decoder);
	pvsub_matcher_free(m);
	/* the findings point into the matcher's patterns: keep only classes */
	for (size_t i = 0; i < res->n_findings; i++)
		res->findings[i].pattern = NULL;
	pvsub_policy_free(pol);
}

/* The verdict of the only window of kind @k. */
static enum pvsub_wverdict verdict_of(enum pvsub_window_kind k)
{
	size_t found = 0, at = 0;

	for (size_t i = 0; i < res->n_wverdicts; i++)
		if (res->wverdicts[i].kind == k) {
			found++;
			at = i;
		}
	cr_assert_eq(found, 1, "%zu windows of kind %s", found, pvsub_window_kind_name(k));
	return (enum pvsub_wverdict)res->wverdicts[at].verdict;
}

/* How many findings have class patch-site and field @field. */
static size_t patched_findings(const char *field)
{
	size_t n = 0;

	for (size_t i = 0; i < res->n_findings; i++)
		n += res->findings[i].cls.cls == PVSUB_CLASS_PATCH_SITE &&
		     strcmp(res->findings[i].cls.field, field) == 0;
	return n;
}

static const struct pvsub_finding *only_finding(void)
{
	cr_assert_eq(res->n_findings, 1, "%zu findings", res->n_findings);
	return &res->findings[0];
}

#define KEY "\t.data\nkey:\t.quad 0\n"

/*
 * A 2-byte jump label (66 90) followed by add %edx,%esp (01 d4): when the
 * key flips, the kernel writes jmp rel8 to the target, eb 0f when the
 * target is 15 bytes past the site's end, and 0f 01 d4 (VMFUNC) appears.
 */
static char *jump_label_src(unsigned skip)
{
	static char src[512];

	snprintf(
		src, sizeof(src),
		"\t.text\nf:\n1:\t.byte 0x66, 0x90\n\tadd %%edx, %%esp\n\t.skip %u, 0x90\n2:\tret\n"
		"\t.section __jump_table, \"aw\"\n\t.balign 8\n\t.long 1b - ., 2b - .\n"
		"\t.quad key - .\n" KEY,
		skip);
	return src;
}

Test(wverdict, a_jump_label_whose_jmp_spells_vmfunc)
{
	scan_with(jump_label_src(13), NULL, "vmfunc");
	cr_assert_eq(verdict_of(PVSUB_WINDOW_JUMP_LABEL), PVSUB_WVERDICT_STATIC);
	const struct pvsub_finding *f = only_finding();
	cr_assert_eq(f->cls.cls, PVSUB_CLASS_PATCH_SITE);
	cr_assert_str_eq(f->cls.field, "jump-label, only when patched");
	cr_assert_eq(f->offset, 1);
	cr_assert_eq(memcmp(f->bytes, "\x0f\x01\xd4", 3), 0);
	/* the context is the file's: the NOP's first byte before it */
	cr_assert_eq(f->n_before, 1);
	cr_assert_eq(f->before[0], 0x66);

	/* One byte further: eb 10 01 d4 forms nothing. */
	scan_with(jump_label_src(14), NULL, "vmfunc");
	cr_assert_eq(verdict_of(PVSUB_WINDOW_JUMP_LABEL), PVSUB_WVERDICT_CANNOT_FORM);
	cr_assert_eq(res->n_findings, 0);
}

/* A jump label whose target is in another section: the displacement
 * depends on where the module loader puts them. */
Test(wverdict, a_jump_label_to_another_section_is_runtime)
{
	scan_with("\t.text\nf:\n1:\t.byte 0x66, 0x90\n\tadd %edx, %esp\n\tret\n"
		  "\t.section .text.unlikely, \"ax\"\n2:\tret\n"
		  "\t.section __jump_table, \"aw\"\n\t.balign 8\n\t.long 1b - ., 2b - .\n"
		  "\t.quad key - .\n" KEY,
		  NULL, "vmfunc");
	cr_assert_eq(verdict_of(PVSUB_WINDOW_JUMP_LABEL), PVSUB_WVERDICT_RUNTIME);
	cr_assert_eq(res->n_findings, 0);
}

/* lock cmpxchg: on one CPU the kernel writes 3e (ds) over the lock
 * prefix; an audit pattern for "ds cmpxchg" forms only then. */
Test(wverdict, an_smp_lock_prefix_that_becomes_ds)
{
	static const char locked[] = "\t.text\nf:\n1:\tlock cmpxchg %ecx, (%rdx)\n\tret\n"
				     "\t.section .smp_locks, \"a\"\n\t.balign 4\n\t.long 1b - .\n";
	static const char xadd[] = "\t.text\nf:\n1:\tlock xadd %ecx, (%rdx)\n\tret\n"
				   "\t.section .smp_locks, \"a\"\n\t.balign 4\n\t.long 1b - .\n";

	scan_with(locked, "3e 0f b1", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_SMP_LOCK), PVSUB_WVERDICT_STATIC);
	cr_assert_str_eq(only_finding()->cls.field, "smp-lock, only when patched");
	cr_assert_eq(only_finding()->offset, 0);
	cr_assert_eq(only_finding()->bytes[0], 0x3e);

	/* 0f c1 (xadd) instead of 0f b1: never. */
	scan_with(xadd, "3e 0f b1", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_SMP_LOCK), PVSUB_WVERDICT_CANNOT_FORM);
	cr_assert_eq(res->n_findings, 0);
	/* and no gate opcode ever forms from a lock prefix */
	scan_with(locked, NULL, "default");
	cr_assert_eq(verdict_of(PVSUB_WINDOW_SMP_LOCK), PVSUB_WVERDICT_CANNOT_FORM);
}

/*
 * The kernel's own case: XRSTOR in the original, XRSTORS as the
 * replacement (X86_FEATURE_XSAVES).  Under a policy that forbids XRSTORS
 * only, the file's .text is clean, but the patched .text is not.
 */
static char *alt_src(const char *replacement)
{
	static char src[768];

	snprintf(src, sizeof(src),
		 "\t.text\nf:\n1:\txrstor64 (%%rdi)\n2:\n\tret\n"
		 "\t.section .altinstr_replacement, \"ax\"\n3:\t%s\n4:\n\tint3\n"
		 "\t.section .altinstructions, \"a\"\n\t.long 1b - .\n\t.long 3b - .\n"
		 "\t.word 0x1234\n\t.byte 2b - 1b\n\t.byte 4b - 3b\n",
		 replacement);
	return src;
}

Test(wverdict, an_alternative_that_becomes_xrstors)
{
	scan_with(alt_src("xrstors64 (%rdi)"), "0f c7 /3m", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_ALTERNATIVE), PVSUB_WVERDICT_STATIC);
	/* the replacement's own bytes hold it: the ordinary finding */
	cr_assert_eq(verdict_of(PVSUB_WINDOW_ALT_REPLACEMENT), PVSUB_WVERDICT_STATIC);
	cr_assert_eq(patched_findings("alternative, only when patched"), 1);
	cr_assert_eq(patched_findings("alt-replacement"), 1);
	for (size_t i = 0; i < res->n_findings; i++)
		if (strcmp(res->findings[i].section, ".text") == 0) {
			cr_assert_eq(res->findings[i].offset, 1); /* after REX.W */
			cr_assert_eq(memcmp(res->findings[i].bytes, "\x0f\xc7\x1f", 3), 0);
		}

	/* 0f c7 /1 (cmpxchg16b) instead of /3: nothing forms. */
	scan_with(alt_src("cmpxchg16b (%rdi)"), "0f c7 /3m", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_ALTERNATIVE), PVSUB_WVERDICT_CANNOT_FORM);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_ALT_REPLACEMENT), PVSUB_WVERDICT_CANNOT_FORM);
	cr_assert_eq(res->n_findings, 0);
}

/* A short replacement is padded with 0x90, which optimize_nops() turns
 * into the P6 NOPs: 0f 1f 00 for three. */
Test(wverdict, an_alternative_padded_with_nops)
{
	scan_with("\t.text\nf:\n1:\t.byte 0x48, 0x0f, 0xae, 0x2f\n2:\n\tret\n"
		  "\t.section .altinstr_replacement, \"ax\"\n3:\tclc\n4:\n"
		  "\t.section .altinstructions, \"a\"\n\t.long 1b - .\n\t.long 3b - .\n"
		  "\t.word 0x1234\n\t.byte 2b - 1b\n\t.byte 4b - 3b\n",
		  "0f 1f 00", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_ALTERNATIVE), PVSUB_WVERDICT_STATIC);
	cr_assert_eq(only_finding()->offset, 1);
	/* 90 90 90 as the kernel first writes it: the raw padding is tried too */
	scan_with("\t.text\nf:\n1:\t.byte 0x48, 0x0f, 0xae, 0x2f\n2:\n\tret\n"
		  "\t.section .altinstr_replacement, \"ax\"\n3:\tclc\n4:\n"
		  "\t.section .altinstructions, \"a\"\n\t.long 1b - .\n\t.long 3b - .\n"
		  "\t.word 0x1234\n\t.byte 2b - 1b\n\t.byte 4b - 3b\n",
		  "f8 90 90", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_ALTERNATIVE), PVSUB_WVERDICT_STATIC);
	/* a pattern neither form has */
	scan_with("\t.text\nf:\n1:\t.byte 0x48, 0x0f, 0xae, 0x2f\n2:\n\tret\n"
		  "\t.section .altinstr_replacement, \"ax\"\n3:\tclc\n4:\n"
		  "\t.section .altinstructions, \"a\"\n\t.long 1b - .\n\t.long 3b - .\n"
		  "\t.word 0x1234\n\t.byte 2b - 1b\n\t.byte 4b - 3b\n",
		  "f8 0f 1f 40", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_ALTERNATIVE), PVSUB_WVERDICT_CANNOT_FORM);
}

/* endbr64 sealed: the kernel writes the 6.1 poison 66 0f 1f 00. */
Test(wverdict, a_sealed_endbr)
{
	static const char src[] =
		"\t.text\nf:\n1:\tendbr64\n\tret\n"
		"\t.section .ibt_endbr_seal, \"a\"\n\t.balign 4\n\t.long 1b - .\n";

	scan_with(src, "66 0f 1f 00", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_ENDBR_SEAL), PVSUB_WVERDICT_STATIC);
	cr_assert_str_eq(only_finding()->cls.field, "endbr-seal, only when patched");
	/* one byte off (the poison is 66 0f 1f 00, not 66 0f 1f 01) */
	scan_with(src, "66 0f 1f 01", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_ENDBR_SEAL), PVSUB_WVERDICT_CANNOT_FORM);
	cr_assert_eq(res->n_findings, 0);
	scan_with(src, NULL, "default");
	cr_assert_eq(verdict_of(PVSUB_WINDOW_ENDBR_SEAL), PVSUB_WVERDICT_CANNOT_FORM);
}

/* ftrace and static calls write a call to a target chosen at run time:
 * runtime, unless no placement of the pattern can avoid a known byte. */
Test(wverdict, a_call_to_a_target_chosen_at_run_time)
{
	static const char ftrace[] = "\t.text\nf:\n\tpush %rbp\n1:\tcall __fentry__\n\tret\n"
				     "\t.section __mcount_loc, \"a\"\n\t.quad 1b\n";
	static const char scall[] = "\t.text\nf:\n\tpush %rbp\n1:\tcall g\n\tret\n"
				    "\t.section .static_call_sites, \"a\"\n"
				    "\t.long 1b - ., key - .\n" KEY;

	scan_with(ftrace, NULL, "vmfunc");
	cr_assert_eq(verdict_of(PVSUB_WINDOW_FTRACE), PVSUB_WVERDICT_RUNTIME);
	cr_assert_eq(res->n_findings, 0);
	/* six bytes cannot fit in a four-byte unknown field between 55, e8
	 * (or the NOP) and c3 */
	scan_with(ftrace, "ff ff ff ff ff ff", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_FTRACE), PVSUB_WVERDICT_CANNOT_FORM);
	scan_with(scall, NULL, "vmfunc");
	cr_assert_eq(verdict_of(PVSUB_WINDOW_STATIC_CALL), PVSUB_WVERDICT_RUNTIME);
	/* ret; int3 is one of the bytes a static call site may get */
	scan_with(scall, "c3 cc cc cc cc c3", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_STATIC_CALL), PVSUB_WVERDICT_STATIC);
}

/* Return thunks and retpolines: the thunk is chosen at boot.  (Code after
 * the site keeps the bytes past the section's end, unknown, out of reach.) */
Test(wverdict, thunk_sites_are_runtime_and_their_rewrites_exact)
{
	static const char ret[] =
		"\t.text\nf:\n\tpush %rbp\n1:\tjmp __x86_return_thunk\n\tint3\n\tret\n"
		"\t.section .return_sites, \"a\"\n\t.long 1b - .\n";
	static const char rp[] = "\t.text\nf:\n\tpush %rbp\n1:\tcall __x86_indirect_thunk_r11\n"
				 "\tret\n\t.section .retpoline_sites, \"a\"\n\t.long 1b - .\n";

	scan_with(ret, NULL, "vmfunc");
	cr_assert_eq(verdict_of(PVSUB_WINDOW_RETURN_THUNK), PVSUB_WVERDICT_RUNTIME);
	/* ret; int3 x 4 without a return thunk */
	scan_with(ret, "55 c3 cc cc cc cc", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_RETURN_THUNK), PVSUB_WVERDICT_STATIC);
	scan_with(ret, "55 c3 cc cc cc cd", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_RETURN_THUNK), PVSUB_WVERDICT_CANNOT_FORM);
	/* call *%r11 (41 ff d3) then NOPs; with lfence (0f ae e8 first) it
	 * would not fit in the five bytes */
	scan_with(rp, "55 41 ff d3 90 90 c3", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_RETPOLINE), PVSUB_WVERDICT_STATIC);
	/* 6.1.192: cs prefixes before the call instead */
	scan_with(rp, "55 2e 2e 41 ff d3 c3", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_RETPOLINE), PVSUB_WVERDICT_STATIC);
	scan_with(rp, "55 41 ff d3 90 90 c4", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_RETPOLINE), PVSUB_WVERDICT_CANNOT_FORM);
}

/*
 * Two windows a byte apart: the jump label's jmp (eb 0f) and the lock
 * prefix turned ds (3e) make 0f 3e 0f together, and neither alone: the
 * combination is decided, and the occurrence charged to both.
 */
static char *pair_src(unsigned skip)
{
	static char src[512];

	snprintf(src, sizeof(src),
		 "\t.text\nf:\n1:\t.byte 0x66, 0x90\n2:\tlock cmpxchg %%ecx, (%%rdx)\n"
		 "\t.skip %u, 0x90\n3:\tret\n"
		 "\t.section __jump_table, \"aw\"\n\t.balign 8\n\t.long 1b - ., 3b - .\n"
		 "\t.quad key - .\n\t.section .smp_locks, \"a\"\n\t.balign 4\n\t.long 2b - .\n" KEY,
		 skip);
	return src;
}

Test(wverdict, neighbouring_windows_are_decided_together)
{
	scan_with(pair_src(11), "0f 3e 0f", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_JUMP_LABEL), PVSUB_WVERDICT_STATIC);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_SMP_LOCK), PVSUB_WVERDICT_STATIC);
	cr_assert_eq(only_finding()->offset, 1);
	cr_assert_str_eq(only_finding()->cls.field, "jump-label, only when patched");

	scan_with(pair_src(12), "0f 3e 0f", NULL);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_JUMP_LABEL), PVSUB_WVERDICT_CANNOT_FORM);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_SMP_LOCK), PVSUB_WVERDICT_CANNOT_FORM);
	cr_assert_eq(res->n_findings, 0);
}

/* The counts per kind and verdict add up to the windows. */
Test(wverdict, counts_and_names)
{
	size_t total = 0;

	scan_with(pair_src(11), "0f 3e 0f", NULL);
	for (size_t k = 0; k < PVSUB_WINDOW_KINDS; k++)
		for (size_t v = 0; v < PVSUB_WVERDICT_COUNT; v++)
			total += res->wverdict_counts[k][v];
	cr_assert_eq(total, res->n_wverdicts);
	cr_assert_eq(res->wverdict_counts[PVSUB_WINDOW_JUMP_LABEL][PVSUB_WVERDICT_STATIC], 1);
	cr_assert_str_eq(pvsub_wverdict_name(PVSUB_WVERDICT_STATIC), "static");
	cr_assert_str_eq(pvsub_wverdict_name(PVSUB_WVERDICT_RUNTIME), "runtime");
	cr_assert_str_eq(pvsub_wverdict_name(PVSUB_WVERDICT_CANNOT_FORM), "cannot-form");
}

/*
 * Six windows back to back (a jump label, an alternative, an ftrace site,
 * a static call, a retpoline site and a lock prefix) have more
 * combinations than the budget (2 * 3 * 3 * 6 * 38 * 2): all are runtime, yet what one patched
 * window forms with the others' file bytes is still found.
 */
Test(wverdict, a_group_over_the_budget_still_finds_what_one_window_forms)
{
	static const char src[] =
		"\t.text\nf:\n2:\t.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
		"3:\t.byte 0x90, 0x90, 0x90\n4:\n5:\t.byte 0xe8, 0, 0, 0, 0\n"
		"6:\t.byte 0xe8, 0, 0, 0, 0\n7:\tcall __x86_indirect_thunk_rax\n"
		"1:\tlock incl (%rdi)\n\tret\n"
		"\t.section .altinstr_replacement, \"ax\"\n8:\t.byte 0x0f, 0x01, 0xd4\n9:\n\tint3\n"
		"\t.section .altinstructions, \"a\"\n\t.long 3b - .\n\t.long 8b - .\n"
		"\t.word 0x1234\n\t.byte 4b - 3b\n\t.byte 9b - 8b\n"
		"\t.section __jump_table, \"aw\"\n\t.balign 8\n\t.long 2b - ., 3b - .\n"
		"\t.quad key - .\n\t.section .smp_locks, \"a\"\n\t.balign 4\n\t.long 1b - .\n"
		"\t.section __mcount_loc, \"a\"\n\t.quad 5b\n"
		"\t.section .static_call_sites, \"a\"\n\t.long 6b - ., key - .\n"
		"\t.section .retpoline_sites, \"a\"\n\t.long 7b - .\n" KEY;

	scan_with(src, NULL, "vmfunc");
	cr_assert_eq(res->wverdict_over_budget, 6);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_ALTERNATIVE), PVSUB_WVERDICT_STATIC);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_SMP_LOCK), PVSUB_WVERDICT_RUNTIME);
	cr_assert_eq(patched_findings("alternative, only when patched"), 1);
	/* the same without the replacement's VMFUNC: nothing static */
	char *other = strdup(src);
	cr_assert_not_null(other);
	char *at = strstr(other, "0x0f, 0x01, 0xd4");
	cr_assert_not_null(at);
	memcpy(at, "0x0f, 0x01, 0xd5", 16);
	scan_with(other, NULL, "vmfunc");
	free(other);
	cr_assert_eq(res->wverdict_over_budget, 6);
	cr_assert_eq(verdict_of(PVSUB_WINDOW_ALTERNATIVE), PVSUB_WVERDICT_RUNTIME);
	cr_assert_eq(res->n_findings, 0);
}

/* Forty jump labels back to back: more windows than one group may hold.
 * All are runtime, yet the last one's jmp (eb 0f | 01 d4) is found. */
static char *chain_src(unsigned skip)
{
	static char src[1024];

	snprintf(src, sizeof(src),
		 "\t.text\nf:\n\t.rept 39\n1:\t.byte 0x66, 0x90\n"
		 "\t.pushsection __jump_table, \"aw\"\n\t.balign 8\n\t.long 1b - ., 3f - .\n"
		 "\t.quad key - .\n\t.popsection\n\t.endr\n"
		 "2:\t.byte 0x66, 0x90\n\tadd %%edx, %%esp\n\t.skip %u, 0x90\n3:\tret\n"
		 "\t.section __jump_table, \"aw\"\n\t.balign 8\n\t.long 2b - ., 3b - .\n"
		 "\t.quad key - .\n" KEY,
		 skip);
	return src;
}

Test(wverdict, a_chain_longer_than_a_group_is_runtime_and_still_searched)
{
	scan_with(chain_src(13), NULL, "vmfunc");
	cr_assert_eq(res->n_wverdicts, 40);
	cr_assert_eq(res->wverdict_over_budget, 40);
	cr_assert_eq(res->wverdict_counts[PVSUB_WINDOW_JUMP_LABEL][PVSUB_WVERDICT_STATIC], 1);
	cr_assert_eq(res->wverdict_counts[PVSUB_WINDOW_JUMP_LABEL][PVSUB_WVERDICT_RUNTIME], 39);
	cr_assert_eq(only_finding()->offset, 79);
	cr_assert_str_eq(only_finding()->cls.field, "jump-label, only when patched");
	/* one byte further: nothing forms, and nothing is proven */
	scan_with(chain_src(14), NULL, "vmfunc");
	cr_assert_eq(res->wverdict_counts[PVSUB_WINDOW_JUMP_LABEL][PVSUB_WVERDICT_RUNTIME], 40);
	cr_assert_eq(res->n_findings, 0);
}
