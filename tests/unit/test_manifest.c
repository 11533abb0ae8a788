/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "libpvsub/kmeta.h"
#include "libpvsub/manifest.h"
#include "libpvsub/manifest_read.h"

/* ---- a hand-built scan result (the scanner is not involved) -------------- */

static const char policy_xml[] =
	"<policy xmlns=\"urn:pvsub:policy:1\" id=\"site-gates\" version=\"3\" "
	"on-instruction=\"reject\">\n"
	"  <pattern id=\"wrpkru\" bytes=\"0f 01 ef\"/>\n"
	"</policy>\n";

static struct pvsub_policy *policy;

static const struct pvsub_pattern wrpkru = {
	.id = "wrpkru",
	.len = 3,
	.value = {0x0f, 0x01, 0xef},
	.mask = {0xff, 0xff, 0xff},
};

static char sec_text[] = ".text";
static char sec_junction[] = ".text|.text.unlikely";
static char name_text[] = ".text";
static char name_unlikely[] = ".text.unlikely";
static char name_seg[] = "segment 2";

static struct pvsub_finding findings[3];
static struct pvsub_violation violations[1];
static struct pvsub_region_summary regions[2];
static struct pvsub_scan_result result;

static void fill_sha(char *out, char c)
{
	memset(out, c, PVSUB_SHA256_HEX_LEN - 1);
	out[PVSUB_SHA256_HEX_LEN - 1] = '\0';
}

static void finding(struct pvsub_finding *f, char *section, int64_t off, uint64_t file_off,
		    enum pvsub_class cls, const char *field)
{
	memset(f, 0, sizeof(*f));
	f->pattern = &wrpkru;
	f->section = section;
	f->segment = -1;
	f->segment2 = -1;
	f->offset = off;
	f->file_offset = file_off;
	f->len = 3;
	memcpy(f->bytes, wrpkru.value, 3);
	f->cls.cls = cls;
	snprintf(f->cls.field, sizeof(f->cls.field), "%s", field);
}

static void setup(void)
{
	struct pvsub_diag d = {{0}};
	int r;

	/* may run twice when a test adds its own .init */
	pvsub_policy_free(policy);
	policy = NULL;
	r = pvsub_policy_new_from_memory(policy_xml, strlen(policy_xml), "test", &policy, &d);
	cr_assert_eq(r, 0, "policy: %s", d.msg);

	memset(&result, 0, sizeof(result));
	result.kind = PVSUB_ELF_REL;
	result.machine = 62;
	result.size = 1234;
	fill_sha(result.sha256, 'a');
	result.modsig.present = true;
	result.modsig.size = 700;

	regions[0] = (struct pvsub_region_summary){
		.name = name_text, .index = 1, .file_offset = 64, .size = 32, .reloc_windows = 2};
	fill_sha(regions[0].sha256, 'b');
	regions[1] = (struct pvsub_region_summary){
		.name = name_unlikely, .index = 2, .file_offset = 96, .size = 8};
	fill_sha(regions[1].sha256, 'c');
	result.regions = regions;
	result.n_regions = 2;
	result.reloc_windows = 2;

	finding(&findings[0], sec_text, 4, 68, PVSUB_CLASS_EMBEDDED, "immediate");
	finding(&findings[1], sec_text, 16, 80, PVSUB_CLASS_INSTRUCTION, "");
	finding(&findings[2], sec_junction, 31, 95, PVSUB_CLASS_SPANNING, "");
	findings[2].junction = true;
	findings[2].pad = 0;
	result.findings = findings;
	result.n_findings = 3;

	violations[0].kind = "wx-section";
	snprintf(violations[0].detail, sizeof(violations[0].detail),
		 "section .data.x has flags \"WAX\" & <no> reason");
	result.violations = violations;
	result.n_violations = 1;
}

static void teardown(void)
{
	pvsub_policy_free(policy);
	policy = NULL;
}

TestSuite(manifest, .init = setup, .fini = teardown);

static char *write_manifest(const struct pvsub_scan_result *r, const char *original, size_t *len)
{
	struct pvsub_manifest_input in = {
		.tool_name = "pvsub-scan",
		.tool_version = "0.1.0",
		.policy = policy,
		.object_path = "dir/drv \"x\".ko",
		.result = r,
		.original_sha256 = original,
	};
	struct pvsub_buf b = {0};

	cr_assert_eq(pvsub_manifest_write(&in, &b), 0);
	return pvsub_buf_steal(&b, len);
}

#define ORIGINAL "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

static const char golden_fmt[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<manifest xmlns=\"urn:pvsub:manifest:1\" version=\"1\">\n"
	"  <tool name=\"pvsub-scan\" version=\"0.1.0\"/>\n"
	"  <policy id=\"site-gates\" version=\"3\" on-instruction=\"reject\" sha256=\"%s\">\n"
	"    <pattern id=\"wrpkru\" value=\"0f01ef\" mask=\"ffffff\"/>\n"
	"  </policy>\n"
	"  <object path=\"dir/drv &quot;x&quot;.ko\" size=\"1234\" "
	"sha256=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" "
	"elf-type=\"REL\" machine=\"62\"/>\n"
	"  <original sha256=\"" ORIGINAL "\"/>\n"
	"  <module-signature size=\"700\"/>\n"
	"  <regions>\n"
	"    <region name=\".text\" kind=\"section\" index=\"1\" file-offset=\"64\" size=\"32\" "
	"sha256=\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\" "
	"relocation-windows=\"2\"/>\n"
	"    <region name=\".text.unlikely\" kind=\"section\" index=\"2\" file-offset=\"96\" "
	"size=\"8\" sha256=\"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\" "
	"relocation-windows=\"0\"/>\n"
	"  </regions>\n"
	"  <findings>\n"
	"    <finding pattern=\"wrpkru\" section=\".text\" offset=\"4\" file-offset=\"68\" "
	"bytes=\"0f01ef\" class=\"embedded\" field=\"immediate\"/>\n"
	"    <finding pattern=\"wrpkru\" section=\".text\" offset=\"16\" file-offset=\"80\" "
	"bytes=\"0f01ef\" class=\"instruction\"/>\n"
	"    <finding pattern=\"wrpkru\" section=\".text|.text.unlikely\" offset=\"31\" "
	"file-offset=\"95\" bytes=\"0f01ef\" class=\"spanning\" pad=\"0\"/>\n"
	"  </findings>\n"
	"  <rewrites/>\n"
	"  <mutable-windows/>\n"
	"  <violations>\n"
	"    <violation kind=\"wx-section\" detail=\"section .data.x has flags &quot;WAX&quot; "
	"&amp; &lt;no&gt; reason\"/>\n"
	"  </violations>\n"
	"  <verdict result=\"rejected\">\n"
	"    <reason>1 finding of class embedded</reason>\n"
	"    <reason>1 finding of class instruction</reason>\n"
	"    <reason>1 finding of class spanning</reason>\n"
	"    <reason>1 violation of kind wx-section</reason>\n"
	"  </verdict>\n"
	"</manifest>\n";

Test(manifest, golden)
{
	char expected[sizeof(golden_fmt) + 128];
	size_t len;
	char *xml;

	snprintf(expected, sizeof(expected), golden_fmt, pvsub_policy_sha256_hex(policy));
	xml = write_manifest(&result, ORIGINAL, &len);
	cr_assert_str_eq(xml, expected);
	cr_assert_eq(len, strlen(expected));
	free(xml);
}

Test(manifest, canonical_bytes_repeat)
{
	struct pvsub_manifest_input in = {
		.tool_name = "pvsub-scan",
		.tool_version = "0.1.0",
		.policy = policy,
		.object_path = "a.ko",
		.result = &result,
	};
	struct pvsub_buf a = {0}, b = {0};

	cr_assert_eq(pvsub_manifest_write(&in, &a), 0);
	/* appended, not overwritten */
	cr_assert_eq(pvsub_buf_puts(&b, "prefix"), 0);
	cr_assert_eq(pvsub_manifest_write(&in, &b), 0);
	cr_assert_eq(b.len, a.len + 6);
	cr_assert_eq(memcmp(b.data, "prefix", 6), 0);
	cr_assert_eq(memcmp(a.data, b.data + 6, a.len), 0);
	/* no <original> without an original hash */
	cr_assert_null(strstr(a.data, "<original"));
	pvsub_buf_release(&a);
	pvsub_buf_release(&b);
}

Test(manifest, golden_validates)
{
	struct pvsub_diag d = {{0}};
	size_t len;
	char *xml = write_manifest(&result, ORIGINAL, &len);

	cr_assert_eq(pvsub_manifest_validate(xml, len, &d), 0, "%s", d.msg);
	free(xml);
}

Test(manifest, clean_result_is_certified_and_valid)
{
	struct pvsub_scan_result clean = result;
	struct pvsub_diag d = {{0}};
	size_t len;
	char *xml;

	clean.findings = NULL;
	clean.n_findings = 0;
	clean.violations = NULL;
	clean.n_violations = 0;
	clean.regions = NULL;
	clean.n_regions = 0;
	clean.modsig.present = false;
	xml = write_manifest(&clean, NULL, &len);
	cr_assert_not_null(strstr(xml, "  <verdict result=\"certified\"/>\n</manifest>\n"));
	cr_assert_not_null(strstr(xml, "  <regions/>\n  <findings/>\n  <rewrites/>\n"
				       "  <mutable-windows/>\n  <violations/>\n"));
	cr_assert_null(strstr(xml, "<reason>"));
	cr_assert_null(strstr(xml, "<module-signature"));
	cr_assert_eq(pvsub_manifest_validate(xml, len, &d), 0, "%s", d.msg);
	free(xml);
}

/* Only relocation windows: certified with load-time checks, and the reason
 * says what the loader must check; the verdict the reader gets back is the
 * same. */
Test(manifest, relocation_windows_only_is_certified_with_load_time_checks)
{
	struct pvsub_scan_result lt = result;
	struct pvsub_finding f[2];
	struct pvsub_manifest_info *info = NULL;
	struct pvsub_diag d = {{0}};
	size_t len;
	char *xml;

	finding(&f[0], sec_text, 4, 68, PVSUB_CLASS_RELOCATION, "");
	finding(&f[1], sec_text, 20, 84, PVSUB_CLASS_RELOCATION, "");
	lt.findings = f;
	lt.n_findings = 2;
	lt.violations = NULL;
	lt.n_violations = 0;
	xml = write_manifest(&lt, NULL, &len);
	cr_assert_not_null(strstr(xml, "  <verdict result=\"certified-with-load-time-checks\">\n"
				       "    <reason>2 findings of class relocation</reason>\n"
				       "  </verdict>\n</manifest>\n"),
			   "%s", xml);
	cr_assert_eq(pvsub_manifest_validate(xml, len, &d), 0, "%s", d.msg);
	cr_assert_eq(pvsub_manifest_read(xml, len, &info, &d), 0, "%s", d.msg);
	cr_assert_eq(info->verdict, PVSUB_VERDICT_LOAD_TIME);
	pvsub_manifest_info_free(info);
	free(xml);

	/* one patch site more: rejected, and both reasons are given */
	struct pvsub_finding g[3] = {f[0], f[1]};
	finding(&g[2], sec_text, 40, 104, PVSUB_CLASS_PATCH_SITE, "jump-label");
	lt.findings = g;
	lt.n_findings = 3;
	xml = write_manifest(&lt, NULL, &len);
	cr_assert_not_null(strstr(xml, "  <verdict result=\"rejected\">\n"
				       "    <reason>1 finding of class patch-site</reason>\n"
				       "    <reason>2 findings of class relocation</reason>\n"
				       "  </verdict>\n"),
			   "%s", xml);
	cr_assert_eq(pvsub_manifest_validate(xml, len, &d), 0, "%s", d.msg);
	free(xml);
}

/* A rewrite that was refused is rejected even when the scan shown would
 * certify: the manifest says what pvsub-scan says of the file. */
Test(manifest, a_refused_rewrite_is_rejected)
{
	struct pvsub_scan_result none = result;
	static char text[] = ".text";
	struct pvsub_rewrite_refusal refusal = {.section = text, .offset = 2, .reason = "no rule"};
	struct pvsub_rewrite_result rw = {
		.size_before = 1234, .refusals = &refusal, .n_refusals = 1};
	struct pvsub_manifest_input in = {
		.tool_name = "pvsub-scan",
		.tool_version = "0.1.0",
		.policy = policy,
		.object_path = "a.ko",
		.result = &none,
		.rewrite = &rw,
	};
	struct pvsub_buf b = {0};
	struct pvsub_diag d = {{0}};

	none.findings = NULL;
	none.n_findings = 0;
	none.violations = NULL;
	none.n_violations = 0;
	cr_assert_eq(pvsub_manifest_write(&in, &b), 0);
	cr_assert_not_null(strstr(b.data, "  <verdict result=\"rejected\">\n"
					  "    <reason>1 site refused by the rewriter</reason>\n"
					  "  </verdict>\n"),
			   "%s", b.data);
	cr_assert_eq(pvsub_manifest_validate(b.data, b.len, &d), 0, "%s", d.msg);
	pvsub_buf_release(&b);
	/* accepted: the scan's own verdict */
	rw.n_refusals = 0;
	cr_assert_eq(pvsub_manifest_write(&in, &b), 0);
	cr_assert_not_null(strstr(b.data, "  <verdict result=\"certified\"/>\n"), "%s", b.data);
	pvsub_buf_release(&b);
}

Test(manifest, segments_and_counts)
{
	struct pvsub_scan_result dyn = result;
	struct pvsub_finding f[3];
	struct pvsub_region_summary seg = regions[0];
	struct pvsub_diag d = {{0}};
	size_t len;
	char *xml;

	dyn.kind = PVSUB_ELF_DYN;
	dyn.modsig.present = false;
	seg.name = name_seg;
	seg.is_segment = true;
	seg.index = 2;
	dyn.regions = &seg;
	dyn.n_regions = 1;
	finding(&f[0], NULL, -16, 4080, PVSUB_CLASS_UNDECODED, "");
	f[0].segment = 2;
	finding(&f[1], NULL, 8, 4104, PVSUB_CLASS_UNDECODED, "");
	f[1].segment = 2;
	finding(&f[2], NULL, 4094, 8190, PVSUB_CLASS_SPANNING, "");
	f[2].segment = 2;
	f[2].segment2 = 3;
	f[2].junction = true;
	f[2].pad = 12;
	dyn.findings = f;
	dyn.n_findings = 3;
	dyn.n_violations = 0;
	xml = write_manifest(&dyn, NULL, &len);
	cr_assert_not_null(strstr(xml, "elf-type=\"DYN\""));
	cr_assert_not_null(strstr(xml, "kind=\"segment\" index=\"2\""));
	cr_assert_not_null(strstr(xml, "<finding pattern=\"wrpkru\" segment=\"2\" offset=\"-16\" "
				       "file-offset=\"4080\""));
	cr_assert_not_null(strstr(xml, "segment=\"2\" segment2=\"3\" offset=\"4094\""));
	cr_assert_not_null(strstr(xml, "pad=\"12\"/>"));
	/* counted per class, plural when more than one */
	cr_assert_not_null(strstr(xml, "<reason>1 finding of class spanning</reason>\n"
				       "    <reason>2 findings of class undecoded</reason>\n"));
	cr_assert_null(strstr(xml, "section="));
	cr_assert_eq(pvsub_manifest_validate(xml, len, &d), 0, "%s", d.msg);
	free(xml);
}

Test(manifest, missing_input_is_einval)
{
	struct pvsub_manifest_input in = {
		.tool_name = "t", .tool_version = "1", .policy = policy, .object_path = "x"};
	struct pvsub_buf b = {0};

	cr_assert_eq(pvsub_manifest_write(&in, &b), -EINVAL);
	cr_assert_eq(b.len, 0);
	pvsub_buf_release(&b);
}

/* Replace the first @from in @xml by @to; the result is malloc'ed. */
static char *tamper(const char *xml, const char *from, const char *to)
{
	const char *at = strstr(xml, from);
	struct pvsub_buf b = {0};

	cr_assert_not_null(at, "'%s' not in the manifest", from);
	cr_assert_eq(pvsub_buf_append(&b, xml, (size_t)(at - xml)), 0);
	cr_assert_eq(pvsub_buf_puts(&b, to), 0);
	cr_assert_eq(pvsub_buf_puts(&b, at + strlen(from)), 0);
	return pvsub_buf_steal(&b, NULL);
}

static void expect_invalid(const char *xml, const char *from, const char *to, const char *why)
{
	struct pvsub_diag d = {{0}};
	char *bad = tamper(xml, from, to);

	cr_assert_eq(pvsub_manifest_validate(bad, strlen(bad), &d), -EINVAL, "%s accepted", why);
	cr_assert_neq(d.msg[0], '\0', "%s: no diagnostic", why);
	cr_assert_eq(strchr(d.msg, '\n'), NULL, "%s: diagnostic is not one line: %s", why, d.msg);
	free(bad);
}

Test(manifest, tampered_documents_fail, .init = cr_redirect_stderr)
{
	size_t len;
	char *xml;

	setup();
	xml = write_manifest(&result, ORIGINAL, &len);
	expect_invalid(xml, "  <rewrites/>\n", "", "missing <rewrites>");
	expect_invalid(xml, "  <tool name=\"pvsub-scan\" version=\"0.1.0\"/>\n", "",
		       "missing <tool>");
	expect_invalid(xml, "elf-type=\"REL\"", "elf-type=\"ELF\"", "bad elf-type");
	expect_invalid(xml, "machine=\"62\"", "machine=\"x86\"", "bad machine");
	expect_invalid(xml, "class=\"spanning\"", "class=\"sideways\"", "bad class");
	expect_invalid(xml, "bytes=\"0f01ef\"", "bytes=\"0F01EF\"", "upper-case hex");
	expect_invalid(xml, "sha256=\"aaaa", "sha256=\"aaa", "short hash");
	expect_invalid(xml, " version=\"1\">", " version=\"2\">", "wrong manifest version");
	expect_invalid(xml, "result=\"rejected\"", "result=\"maybe\"", "bad verdict");
	expect_invalid(xml, " offset=\"16\"", "", "finding without offset");
	expect_invalid(xml, "<tool name", "<tool colour=\"red\" name", "unknown attribute");
	expect_invalid(xml, "urn:pvsub:manifest:1", "urn:pvsub:manifest:2", "wrong namespace");
	expect_invalid(xml, "  <findings>\n", "  <findings>\n    <surprise/>\n", "unknown element");
	expect_invalid(xml, "<regions>", "<findingz>", "not well-formed");
	/* beyond what XSD 1.0 can say */
	expect_invalid(xml, "mask=\"ffffff\"", "mask=\"ffff\"", "mask shorter than value");
	expect_invalid(xml, " section=\".text\" offset=\"16\"",
		       " section=\".text\" segment=\"1\" offset=\"16\"", "section and segment");
	expect_invalid(xml, " section=\".text\" offset=\"16\"", " offset=\"16\"",
		       "neither section nor segment");
	expect_invalid(xml, " section=\".text\" offset=\"16\"",
		       " section=\".text\" segment2=\"1\" offset=\"16\"", "segment2 alone");
	/* element order is part of the format */
	{
		char *a = tamper(xml, "  <rewrites/>\n  <mutable-windows/>\n",
				 "  <mutable-windows/>\n  <rewrites/>\n");
		struct pvsub_diag d = {{0}};

		cr_assert_eq(pvsub_manifest_validate(a, strlen(a), &d), -EINVAL);
		free(a);
	}
	free(xml);
	teardown();
	/* libxml2 must never print: errors go to the diag only */
	fflush(stderr);
	cr_assert_stderr_eq_str("");
}

Test(manifest, diag_names_the_line)
{
	static const char bad[] = "<?xml version=\"1.0\"?>\n<manifest>\n<oops\n";
	struct pvsub_diag d = {{0}};

	cr_assert_eq(pvsub_manifest_validate(bad, strlen(bad), &d), -EINVAL);
	cr_assert_eq(strncmp(d.msg, "line ", 5), 0, "%s", d.msg);
}

Test(manifest, dtd_and_entities_refused)
{
	static const char dtd[] =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE manifest [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
		"<manifest xmlns=\"urn:pvsub:manifest:1\" version=\"1\">&x;</manifest>\n";
	struct pvsub_diag d = {{0}};

	cr_assert_eq(pvsub_manifest_validate(dtd, strlen(dtd), &d), -EINVAL);
	cr_assert_neq(d.msg[0], '\0');
	cr_assert_null(strstr(d.msg, "root:"), "entity was expanded: %s", d.msg);
}

Test(manifest, every_truncation_fails_cleanly)
{
	size_t len;
	char *xml = write_manifest(&result, ORIGINAL, &len);

	/* all but the final newline leaves an incomplete document */
	for (size_t n = 0; n + 1 < len; n += 7) {
		struct pvsub_diag d = {{0}};

		cr_assert_eq(pvsub_manifest_validate(xml, n, &d), -EINVAL, "prefix %zu accepted",
			     n);
	}
	free(xml);
}

/* The checked-in schema file, used by the command-line tools, agrees. */
Test(manifest, xmllint_agrees)
{
	const char *xmllint = getenv("XMLLINT");
	const char *srcdir = getenv("top_srcdir");
	char cmd[4096];
	size_t len;
	char *xml;
	FILE *f;
	int st;

	if (!xmllint || !*xmllint)
		xmllint = "xmllint";
	if (!srcdir || system("command -v xmllint >/dev/null 2>&1") != 0)
		cr_skip_test("xmllint or top_srcdir not available");
	xml = write_manifest(&result, ORIGINAL, &len);
	f = fopen("manifest-test.xml", "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(xml, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	snprintf(cmd, sizeof(cmd),
		 "'%s' --noout --nonet --schema '%s/schemas/pvsub-manifest.xsd' manifest-test.xml "
		 ">/dev/null 2>&1",
		 xmllint, srcdir);
	st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "xmllint rejected the manifest");
	remove("manifest-test.xml");
	free(xml);
}

/* Every mutable window with its verdict, named by its region; a window in
 * no region still gets a (schema-valid) section name. */
Test(manifest, mutable_windows_with_their_verdicts)
{
	struct pvsub_scan_result r = result;
	struct pvsub_window_verdict w[3] = {
		{.region = 0,
		 .offset = 16,
		 .len = 5,
		 .kind = PVSUB_WINDOW_FTRACE,
		 .verdict = PVSUB_WVERDICT_RUNTIME},
		{.region = 0,
		 .offset = 40,
		 .len = 2,
		 .kind = PVSUB_WINDOW_JUMP_LABEL,
		 .verdict = PVSUB_WVERDICT_STATIC},
		{.region = SIZE_MAX,
		 .offset = 7,
		 .len = 1,
		 .kind = PVSUB_WINDOW_SMP_LOCK,
		 .verdict = PVSUB_WVERDICT_CANNOT_FORM},
	};
	struct pvsub_diag d = {{0}};
	size_t len;
	char *xml;

	r.wverdicts = w;
	r.n_wverdicts = 3;
	xml = write_manifest(&r, NULL, &len);
	cr_assert_not_null(strstr(xml,
				  "  <mutable-windows>\n"
				  "    <mutable-window section=\".text\" offset=\"16\" size=\"5\" "
				  "kind=\"ftrace\" verdict=\"runtime\"/>\n"
				  "    <mutable-window section=\".text\" offset=\"40\" size=\"2\" "
				  "kind=\"jump-label\" verdict=\"static\"/>\n"
				  "    <mutable-window section=\"(none)\" offset=\"7\" size=\"1\" "
				  "kind=\"smp-lock\" verdict=\"cannot-form\"/>\n"
				  "  </mutable-windows>\n"),
			   "%s", xml);
	cr_assert_eq(pvsub_manifest_validate(xml, len, &d), 0, "%s", d.msg);
	free(xml);
	/* none: the empty element, as before */
	r.n_wverdicts = 0;
	xml = write_manifest(&r, NULL, &len);
	cr_assert_not_null(strstr(xml, "  <mutable-windows/>\n"));
	free(xml);
}
