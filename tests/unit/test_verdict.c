/* SPDX-License-Identifier: MIT */
/*
 * verdict: the one decision whether a file may be certified, over every
 * finding class and violation, on made-up scan results and on objects
 * assembled at test time; and that the rewriter, the file status and the
 * manifest take it from there and nowhere else.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/manifest.h"
#include "libpvsub/manifest_read.h"
#include "pvsub-scan/report.h"
#include "libpvsub/rewrite.h"
#include "libpvsub/scan.h"
#include "libpvsub/certify.h"
#include "tests/unit/elfgen.h"

static const struct pvsub_pattern vmfunc = {
	.id = "vmfunc",
	.len = 3,
	.value = {0x0f, 0x01, 0xd4},
	.mask = {0xff, 0xff, 0xff},
};

static const enum pvsub_class classes[] = {
	PVSUB_CLASS_INSTRUCTION, PVSUB_CLASS_EMBEDDED,	 PVSUB_CLASS_SPANNING,
	PVSUB_CLASS_RELOCATION,	 PVSUB_CLASS_PATCH_SITE, PVSUB_CLASS_UNDECODED,
};

static struct pvsub_finding make_finding(enum pvsub_class cls)
{
	struct pvsub_finding f = {.pattern = &vmfunc, .segment = -1, .segment2 = -1, .len = 3};

	memcpy(f.bytes, vmfunc.value, 3);
	f.cls.cls = cls;
	return f;
}

static enum pvsub_verdict verdict_of(const enum pvsub_class *cls, size_t n, size_t violations)
{
	struct pvsub_finding f[8];
	struct pvsub_violation v[2] = {{.kind = "wx-section"}, {.kind = "textrel"}};
	struct pvsub_scan_result r = {.kind = PVSUB_ELF_REL};

	cr_assert_leq(n, PVSUB_ARRAY_SIZE(f));
	for (size_t i = 0; i < n; i++)
		f[i] = make_finding(cls[i]);
	r.findings = f;
	r.n_findings = n;
	r.violations = v;
	r.n_violations = violations;
	return pvsub_verdict_of(&r);
}

Test(verdict, every_class_alone)
{
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(classes); i++) {
		struct pvsub_finding f = make_finding(classes[i]);
		enum pvsub_verdict want = classes[i] == PVSUB_CLASS_RELOCATION
						  ? PVSUB_VERDICT_LOAD_TIME
						  : PVSUB_VERDICT_REJECTED;

		cr_assert_eq(pvsub_verdict_of_finding(&f), want, "%s",
			     pvsub_class_name(classes[i]));
		cr_assert_eq(verdict_of(&classes[i], 1, 0), want, "%s",
			     pvsub_class_name(classes[i]));
		/* one finding or many of the same class: the same */
		enum pvsub_class three[3] = {classes[i], classes[i], classes[i]};
		cr_assert_eq(verdict_of(three, 3, 0), want, "%s", pvsub_class_name(classes[i]));
	}
}

Test(verdict, nothing_found_is_certified)
{
	cr_assert_eq(verdict_of(NULL, 0, 0), PVSUB_VERDICT_CERTIFIED);
}

Test(verdict, a_violation_rejects_whatever_else)
{
	cr_assert_eq(verdict_of(NULL, 0, 1), PVSUB_VERDICT_REJECTED);
	cr_assert_eq(verdict_of(NULL, 0, 2), PVSUB_VERDICT_REJECTED);
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(classes); i++)
		cr_assert_eq(verdict_of(&classes[i], 1, 1), PVSUB_VERDICT_REJECTED, "%s",
			     pvsub_class_name(classes[i]));
}

Test(verdict, the_worst_finding_decides_in_any_order)
{
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(classes); i++) {
		enum pvsub_class before[2] = {PVSUB_CLASS_RELOCATION, classes[i]};
		enum pvsub_class after[2] = {classes[i], PVSUB_CLASS_RELOCATION};
		enum pvsub_verdict want = classes[i] == PVSUB_CLASS_RELOCATION
						  ? PVSUB_VERDICT_LOAD_TIME
						  : PVSUB_VERDICT_REJECTED;

		cr_assert_eq(verdict_of(before, 2, 0), want, "%s", pvsub_class_name(classes[i]));
		cr_assert_eq(verdict_of(after, 2, 0), want, "%s", pvsub_class_name(classes[i]));
	}
}

Test(verdict, a_refused_rewrite_is_rejected)
{
	struct pvsub_finding reloc = make_finding(PVSUB_CLASS_RELOCATION);
	struct pvsub_scan_result none = {.kind = PVSUB_ELF_REL};
	struct pvsub_scan_result load_time = {
		.kind = PVSUB_ELF_REL, .findings = &reloc, .n_findings = 1};
	static char text[] = ".text";
	struct pvsub_rewrite_refusal refusal = {.section = text, .reason = "no rule"};
	struct pvsub_rewrite_result refused = {.refusals = &refusal, .n_refusals = 1};
	struct pvsub_rewrite_result accepted = {0};

	cr_assert_eq(pvsub_verdict_of_file(&none, NULL), PVSUB_VERDICT_CERTIFIED);
	cr_assert_eq(pvsub_verdict_of_file(&load_time, NULL), PVSUB_VERDICT_LOAD_TIME);
	cr_assert_eq(pvsub_verdict_of_file(&none, &accepted), PVSUB_VERDICT_CERTIFIED);
	cr_assert_eq(pvsub_verdict_of_file(&load_time, &accepted), PVSUB_VERDICT_LOAD_TIME);
	cr_assert_eq(pvsub_verdict_of_file(&none, &refused), PVSUB_VERDICT_REJECTED);
	cr_assert_eq(pvsub_verdict_of_file(&load_time, &refused), PVSUB_VERDICT_REJECTED);

	/* and the file status follows */
	cr_assert_eq(pvsub_file_status_of(&none, NULL), PVSUB_FILE_CLEAN);
	cr_assert_eq(pvsub_file_status_of(&load_time, NULL), PVSUB_FILE_CLEAN);
	cr_assert_eq(pvsub_file_status_of(&load_time, &accepted), PVSUB_FILE_CLEAN);
	cr_assert_eq(pvsub_file_status_of(&none, &refused), PVSUB_FILE_REFUSED);
	accepted.n_sites = 1;
	cr_assert_eq(pvsub_file_status_of(&load_time, &accepted), PVSUB_FILE_REWRITTEN);
	reloc.cls.cls = PVSUB_CLASS_PATCH_SITE;
	cr_assert_eq(pvsub_file_status_of(&load_time, NULL), PVSUB_FILE_FINDINGS);
}

Test(verdict, names_and_certifies)
{
	static const struct {
		enum pvsub_verdict v;
		const char *name;
		bool certifies;
	} all[] = {
		{PVSUB_VERDICT_CERTIFIED, "certified", true},
		{PVSUB_VERDICT_LOAD_TIME, "certified-with-load-time-checks", true},
		{PVSUB_VERDICT_REJECTED, "rejected", false},
	};
	enum pvsub_verdict v;

	cr_assert_eq(PVSUB_ARRAY_SIZE(all), PVSUB_VERDICT_COUNT);
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(all); i++) {
		cr_assert_str_eq(pvsub_verdict_name(all[i].v), all[i].name);
		cr_assert_eq(pvsub_verdict_certifies(all[i].v), all[i].certifies);
		cr_assert_eq(pvsub_verdict_parse(all[i].name, &v), 0);
		cr_assert_eq(v, all[i].v);
	}
	/* nothing else is a verdict, and nothing unknown certifies */
	v = PVSUB_VERDICT_CERTIFIED;
	cr_assert_eq(pvsub_verdict_parse("Certified", &v), -EINVAL);
	cr_assert_eq(pvsub_verdict_parse("certified-with-load-time", &v), -EINVAL);
	cr_assert_eq(pvsub_verdict_parse("", &v), -EINVAL);
	cr_assert_eq(v, PVSUB_VERDICT_CERTIFIED, "a failed parse changed the output");
	cr_assert_str_eq(pvsub_verdict_name(PVSUB_VERDICT_COUNT), "rejected");
	cr_assert_not(pvsub_verdict_certifies(PVSUB_VERDICT_COUNT));
}

/* ---- on real objects ------------------------------------------------------------ */

static struct pvsub_policy *policy;
static struct pvsub_matcher *matcher;
static struct pvsub_decoder *decoder;

static void setup(void)
{
	const struct pvsub_pattern *p;
	size_t n;

	cr_assert_eq(pvsub_policy_new_builtin("default", &policy, NULL), 0);
	p = pvsub_policy_patterns(policy, &n);
	cr_assert_eq(pvsub_matcher_new(p, n, &matcher), 0);
	cr_assert_eq(pvsub_decoder_new(&decoder), 0);
}

static void teardown(void)
{
	pvsub_decoder_free(decoder);
	pvsub_matcher_free(matcher);
	pvsub_policy_free(policy);
}

TestSuite(objects, .init = setup, .fini = teardown);

#define FUNC "\t.text\n\t.globl f\n\t.type f,@function\nf:\n"
#define MODINFO "\t.section .modinfo,\"a\"\n\t.asciz \"license=GPL\"\n"

/* One object per class (and a clean one, and a layout violation), what
 * the scan must find there, and the verdict. */
static const struct object {
	const char *name, *src;
	int cls; /* of the one finding; -1 for none */
	bool violation;
	enum pvsub_verdict verdict;
	bool rewritten; /* the rewriter changes it and certifies the output */
} objects[] = {
	{"clean", FUNC "\tret\n", -1, false, PVSUB_VERDICT_CERTIFIED, false},
	{"instruction", FUNC "\t.byte 0x0f,0x01,0xd4\n\tret\n", PVSUB_CLASS_INSTRUCTION, false,
	 PVSUB_VERDICT_REJECTED, false},
	{"embedded", FUNC "\tmov $0xd4010f, %eax\n\tret\n", PVSUB_CLASS_EMBEDDED, false,
	 PVSUB_VERDICT_REJECTED, true},
	{"spanning", FUNC "\tmov $0x0f000000, %eax\n\tadd %edx, %esp\n\tret\n",
	 PVSUB_CLASS_SPANNING, false, PVSUB_VERDICT_REJECTED, true},
	/* the reproduction: a one-byte relocation over the d4 */
	{"relocation", FUNC "\t.reloc .+2, R_X86_64_8, g\n\t.byte 0x0f,0x01,0xd4\n\tret\n",
	 PVSUB_CLASS_RELOCATION, false, PVSUB_VERDICT_LOAD_TIME, false},
	/* an alternative whose original instruction holds the occurrence */
	{"patch-site",
	 MODINFO FUNC "\tnop\n661:\tmov $0xd4010f, %eax\n662:\tret\n"
		      "\t.section .altinstr_replacement,\"ax\"\n663:\txor %eax, %eax\n664:\n"
		      "\t.section .altinstructions,\"a\"\n\t.long 661b - ., 663b - .\n"
		      "\t.word 42\n\t.byte 662b-661b, 664b-663b\n",
	 PVSUB_CLASS_PATCH_SITE, false, PVSUB_VERDICT_REJECTED, false},
	{"undecoded", FUNC "\t.byte 0xff,0xff\n\t.byte 0x0f,0x01,0xd4\n\tret\n",
	 PVSUB_CLASS_UNDECODED, false, PVSUB_VERDICT_REJECTED, false},
	{"violation", FUNC "\tret\n\t.section .wx,\"awx\",@progbits\n\tret\n", -1, true,
	 PVSUB_VERDICT_REJECTED, false},
};

static struct pvsub_scan_result *scan(const uint8_t *data, size_t size)
{
	struct pvsub_scan_opts o = {policy, matcher, decoder, false, true};
	struct pvsub_scan_result *r = NULL;
	struct pvsub_diag d = {""};

	cr_assert_eq(pvsub_scan_buffer(&o, data, size, &r, &d), 0, "%s", d.msg);
	return r;
}

/* The manifest's <verdict result="..."> for @r (and @rw). */
static void manifest_says(const struct pvsub_scan_result *r, const struct pvsub_rewrite_result *rw,
			  const char *name)
{
	struct pvsub_manifest_input mi = {
		.tool_name = "pvsub-scan",
		.tool_version = "1",
		.policy = policy,
		.object_path = name,
		.result = r,
		.rewrite = rw,
	};
	struct pvsub_buf b = {0};
	char want[96];

	cr_assert_eq(pvsub_manifest_write(&mi, &b), 0);
	cr_assert_eq(pvsub_manifest_validate(b.data, b.len, NULL), 0, "%s", name);
	snprintf(want, sizeof(want), "<verdict result=\"%s\"",
		 pvsub_verdict_name(pvsub_verdict_of_file(r, rw)));
	cr_assert_not_null(strstr(b.data, want), "%s: %s", name, b.data);
	pvsub_buf_release(&b);
}

Test(objects, every_class_scans_to_its_verdict)
{
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(objects); i++) {
		const struct object *o = &objects[i];
		uint8_t *data = NULL;
		size_t size = 0;

		cr_assert_eq(elfgen_assemble(o->src, NULL, &data, &size), 0, "%s", o->name);
		struct pvsub_scan_result *r = scan(data, size);
		cr_assert_eq(r->n_findings, o->cls < 0 ? 0 : 1, "%s: %zu findings", o->name,
			     r->n_findings);
		if (o->cls >= 0)
			cr_assert_eq(r->findings[0].cls.cls, (enum pvsub_class)o->cls, "%s: %s",
				     o->name, pvsub_class_name(r->findings[0].cls.cls));
		cr_assert_eq(r->n_violations > 0, o->violation, "%s", o->name);
		cr_assert_eq(pvsub_verdict_of(r), o->verdict, "%s: %s", o->name,
			     pvsub_verdict_name(pvsub_verdict_of(r)));
		cr_assert_eq(pvsub_file_status_of(r, NULL),
			     pvsub_verdict_certifies(o->verdict) ? PVSUB_FILE_CLEAN
								 : PVSUB_FILE_FINDINGS,
			     "%s", o->name);
		manifest_says(r, NULL, o->name);
		pvsub_scan_result_free(r);
		free(data);
	}
}

/*
 * The rewriter accepts an output only when its verdict certifies: the
 * relocation object is handed on as it is, certified with load-time
 * checks; the patch-site object is refused at its site, nothing made; what
 * it can rewrite certifies; the rest is refused.
 */
Test(objects, the_rewriter_accepts_only_what_certifies)
{
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(objects); i++) {
		const struct object *o = &objects[i];
		struct pvsub_rewrite_opts ro = {policy, matcher, decoder, false, true};
		struct pvsub_rewrite_result *rw = NULL;
		struct pvsub_diag d = {""};
		uint8_t *data = NULL;
		size_t size = 0;

		cr_assert_eq(elfgen_assemble(o->src, NULL, &data, &size), 0, "%s", o->name);
		cr_assert_eq(pvsub_rewrite_buffer(&ro, data, size, &rw, &d), 0, "%s: %s", o->name,
			     d.msg);
		enum pvsub_verdict v = pvsub_verdict_of_file(rw->scan, rw);
		bool certifies = pvsub_verdict_certifies(o->verdict) || o->rewritten;

		cr_assert_eq(pvsub_verdict_certifies(v), certifies, "%s: %s", o->name,
			     pvsub_verdict_name(v));
		cr_assert_eq(rw->data != NULL, certifies, "%s", o->name);
		cr_assert_eq(rw->n_refusals == 0, certifies, "%s", o->name);
		if (certifies) {
			/* what the report shows is the output's own verdict */
			cr_assert_eq(v, pvsub_verdict_of(rw->scan), "%s", o->name);
			if (!o->rewritten) {
				cr_assert_eq(v, o->verdict, "%s", o->name);
				cr_assert_eq(rw->size, size);
				cr_assert_eq(memcmp(rw->data, data, size), 0, "%s: not as it was",
					     o->name);
			}
			struct pvsub_scan_result *again = scan(rw->data, rw->size);
			cr_assert_eq(pvsub_verdict_of(again), v, "%s", o->name);
			pvsub_scan_result_free(again);
		}
		cr_assert_eq(pvsub_file_status_of(rw->scan, rw),
			     !certifies	    ? PVSUB_FILE_REFUSED
			     : o->rewritten ? PVSUB_FILE_REWRITTEN
					    : PVSUB_FILE_CLEAN,
			     "%s", o->name);
		if (o->cls == PVSUB_CLASS_PATCH_SITE) {
			cr_assert_eq(rw->n_refusals, 1);
			cr_assert_str_eq(rw->refusals[0].section, ".text");
			cr_assert_eq(rw->refusals[0].offset, 2);
			cr_assert_str_eq(rw->refusals[0].pattern, "vmfunc");
			cr_assert_str_eq(rw->refusals[0].reason,
					 "inside a kernel mutable window (alternative): the "
					 "kernel writes those bytes");
		}
		manifest_says(rw->scan, rw, o->name);
		pvsub_rewrite_result_free(rw);
		free(data);
	}
}

Test(verdict, a_file_not_scanned_rejects_unless_allowed)
{
	cr_assert_eq(pvsub_verdict_of_unscanned(false), PVSUB_VERDICT_REJECTED);
	cr_assert_eq(pvsub_verdict_of_unscanned(true), PVSUB_VERDICT_CERTIFIED);
}
