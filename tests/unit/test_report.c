/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "libpvsub/crypto.h"
#include "libpvsub/report.h"

/* ---- a tiny JSON syntax checker (RFC 8259), enough to prove validity ------ */

struct jp {
	const char *s;
	size_t pos, len;
	unsigned depth;
};

static bool jp_value(struct jp *p);

static void jp_ws(struct jp *p)
{
	while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]))
		p->pos++;
}

static bool jp_lit(struct jp *p, const char *lit)
{
	size_t n = strlen(lit);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n) != 0)
		return false;
	p->pos += n;
	return true;
}

static bool jp_string(struct jp *p)
{
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return false;
	p->pos++;
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos++];

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (p->pos >= p->len)
			return false;
		c = (unsigned char)p->s[p->pos++];
		if (c == 'u') {
			for (int i = 0; i < 4; i++, p->pos++)
				if (p->pos >= p->len || p->s[p->pos] == '\0' ||
				    !strchr("0123456789abcdefABCDEF", p->s[p->pos]))
					return false;
		} else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
			return false;
		}
	}
	return false;
}

static bool jp_digits(struct jp *p)
{
	size_t start = p->pos;

	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
		p->pos++;
	return p->pos > start;
}

static bool jp_number(struct jp *p)
{
	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '0')
		p->pos++;
	else if (!jp_digits(p))
		return false;
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (!jp_digits(p))
			return false;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (!jp_digits(p))
			return false;
	}
	return true;
}

static bool jp_container(struct jp *p, char close, bool object)
{
	p->pos++;
	if (++p->depth > 64)
		return false;
	jp_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		p->depth--;
		return true;
	}
	for (;;) {
		jp_ws(p);
		if (object) {
			if (!jp_string(p))
				return false;
			jp_ws(p);
			if (p->pos >= p->len || p->s[p->pos++] != ':')
				return false;
		}
		if (!jp_value(p))
			return false;
		jp_ws(p);
		if (p->pos >= p->len)
			return false;
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] != close)
			return false;
		p->pos++;
		p->depth--;
		return true;
	}
}

static bool jp_value(struct jp *p)
{
	jp_ws(p);
	if (p->pos >= p->len)
		return false;
	switch (p->s[p->pos]) {
	case '{':
		return jp_container(p, '}', true);
	case '[':
		return jp_container(p, ']', false);
	case '"':
		return jp_string(p);
	case 't':
		return jp_lit(p, "true");
	case 'f':
		return jp_lit(p, "false");
	case 'n':
		return jp_lit(p, "null");
	default:
		return jp_number(p);
	}
}

static bool json_valid(const char *s, size_t len)
{
	struct jp p = {.s = s, .len = len};

	if (!jp_value(&p))
		return false;
	jp_ws(&p);
	return p.pos == p.len;
}

Test(report, json_checker_rejects_bad_json)
{
	static const char *const bad[] = {"",		"{",	   "{\"a\" 1}", "[1,]",
					  "{\"a\":1,}", "\"x",	   "\"\t\"",	"01x",
					  "[1] 2",	"{'a':1}", "nul"};
	static const char *const good[] = {
		"{}",
		"[]",
		"{\"a\": [1, -2.5e3, true, null, \"\\u00e9\"]}",
		"  0 ",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(!json_valid(bad[i], strlen(bad[i])), "accepted: %s", bad[i]);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(json_valid(good[i], strlen(good[i])), "rejected: %s", good[i]);
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- hand-built records ------------------------------------------------------ */

static struct pvsub_policy *policy;

static const struct pvsub_pattern wrpkru = {
	.id = "wrpkru",
	.len = 3,
	.value = {0x0f, 0x01, 0xef},
	.mask = {0xff, 0xff, 0xff},
};
static const struct pvsub_pattern xrstor = {
	.id = "xrstor",
	.len = 3,
	.value = {0x0f, 0xae, 0x28},
	.mask = {0xff, 0xff, 0xf8},
};

static char sec_text[] = ".text";
static char sec_junction[] = ".text|.text.unlikely";

static struct pvsub_finding rel_findings[4];
static struct pvsub_violation rel_violations[1];
static struct pvsub_scan_result rel; /* an ET_REL with findings */
static struct pvsub_finding dyn_findings[2];
static struct pvsub_scan_result dyn;   /* an ET_DYN with segment findings */
static struct pvsub_scan_result clean; /* nothing found, signed module */

static void finding(struct pvsub_finding *f, const struct pvsub_pattern *pat, char *section,
		    int64_t off, uint64_t file_off, enum pvsub_class cls, const char *field,
		    const char *insn)
{
	memset(f, 0, sizeof(*f));
	f->pattern = pat;
	f->section = section;
	f->segment = -1;
	f->segment2 = -1;
	f->offset = off;
	f->file_offset = file_off;
	f->len = pat->len;
	memcpy(f->bytes, pat->value, pat->len);
	f->cls.cls = cls;
	snprintf(f->cls.field, sizeof(f->cls.field), "%s", field);
	snprintf(f->cls.insn_text, sizeof(f->cls.insn_text), "%s", insn);
}

static void setup(void)
{
	struct pvsub_diag d = {{0}};

	pvsub_policy_free(policy);
	policy = NULL;
	cr_assert_eq(pvsub_policy_new_builtin("pku", &policy, &d), 0, "%s", d.msg);

	memset(&rel, 0, sizeof(rel));
	rel.kind = PVSUB_ELF_REL;
	rel.machine = 62;
	rel.size = 2048;
	memset(rel.sha256, 'a', 64);
	finding(&rel_findings[0], &wrpkru, sec_text, 0x10, 0x50, PVSUB_CLASS_INSTRUCTION, "",
		"wrpkru");
	finding(&rel_findings[1], &wrpkru, sec_text, 0x21, 0x61, PVSUB_CLASS_EMBEDDED, "immediate",
		"mov eax, 0xef010f");
	finding(&rel_findings[2], &xrstor, sec_text, 0x40, 0x80, PVSUB_CLASS_RELOCATION, "", "");
	finding(&rel_findings[3], &wrpkru, sec_junction, 0x7f, 0xbf, PVSUB_CLASS_SPANNING, "",
		"ret");
	rel_findings[3].junction = true;
	rel_findings[3].pad = 1;
	rel.findings = rel_findings;
	rel.n_findings = 4;
	rel_violations[0].kind = "wx-section";
	snprintf(rel_violations[0].detail, sizeof(rel_violations[0].detail),
		 "section .wx is writable and executable");
	rel.violations = rel_violations;
	rel.n_violations = 1;

	memset(&dyn, 0, sizeof(dyn));
	dyn.kind = PVSUB_ELF_DYN;
	dyn.machine = 62;
	dyn.size = 16384;
	memset(dyn.sha256, 'b', 64);
	finding(&dyn_findings[0], &wrpkru, NULL, -0x20, 0xfe0, PVSUB_CLASS_UNDECODED, "", "");
	dyn_findings[0].segment = 2;
	finding(&dyn_findings[1], &wrpkru, NULL, 0xfff, 0x1fff, PVSUB_CLASS_SPANNING, "", "");
	dyn_findings[1].segment = 2;
	dyn_findings[1].segment2 = 3;
	dyn_findings[1].junction = true;
	dyn_findings[1].pad = 0;
	dyn.findings = dyn_findings;
	dyn.n_findings = 2;
	dyn.deep = true;
	dyn.deep_stats.bytes = 100;
	dyn.deep_stats.instructions = 40;

	memset(&clean, 0, sizeof(clean));
	clean.kind = PVSUB_ELF_REL;
	clean.machine = 62;
	clean.size = 900;
	memset(clean.sha256, 'c', 64);
	clean.modsig.present = true;
	clean.modsig.size = 740;
}

static void teardown(void)
{
	pvsub_policy_free(policy);
	policy = NULL;
}

TestSuite(report, .init = setup, .fini = teardown);

struct output {
	char *data;
	size_t len;
};

/*
 * Feed the standard four records (findings, segments, error, clean) to a
 * report in @format; return what it wrote, and the JUnit document when
 * @junit is not NULL.
 */
static void run(enum pvsub_report_format format, bool color, bool verbose, struct output *out,
		struct output *junit, struct pvsub_report_summary *sum)
{
	const struct pvsub_file_record recs[] = {
		{.path = "drv.o", .status = PVSUB_FILE_FINDINGS, .result = &rel},
		{.path = "img dir/a.deb!data.tar.xz!./usr/lib/libx.so",
		 .status = PVSUB_FILE_FINDINGS,
		 .result = &dyn},
		{.path = "bad\"name.ko",
		 .status = PVSUB_FILE_ERROR,
		 .error = "truncated ELF header"},
		{.path = "ok.ko", .status = PVSUB_FILE_CLEAN, .result = &clean},
	};
	struct pvsub_report_opts opts = {
		.format = format,
		.color = color,
		.verbose = verbose,
		.tool_name = "pvsub-scan",
		.tool_version = "0.1.0",
		.policy = policy,
		.want_junit = junit != NULL,
	};
	struct pvsub_report *rep = NULL;
	FILE *f = open_memstream(&out->data, &out->len);

	cr_assert_not_null(f);
	cr_assert_eq(pvsub_report_new(&opts, f, &rep), 0);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		cr_assert_eq(pvsub_report_add(rep, &recs[i]), 0);
	cr_assert_eq(pvsub_report_finish(rep), 0);
	if (junit) {
		FILE *j = open_memstream(&junit->data, &junit->len);

		cr_assert_not_null(j);
		cr_assert_eq(pvsub_report_write_junit(rep, j), 0);
		cr_assert_eq(fclose(j), 0);
	}
	if (sum)
		pvsub_report_get_summary(rep, sum);
	pvsub_report_free(rep);
	cr_assert_eq(fclose(f), 0);
}

/* ---- text ------------------------------------------------------------------- */

static const char text_golden[] =
	"drv.o: .text+0x10: wrpkru (0f 01 ef) instruction: wrpkru\n"
	"drv.o: .text+0x21: wrpkru (0f 01 ef) embedded immediate: mov eax, 0xef010f\n"
	"drv.o: .text+0x40: xrstor (0f ae 28) relocation\n"
	"drv.o: .text|.text.unlikely+0x7f (pad 1): wrpkru (0f 01 ef) spanning: ret\n"
	"drv.o: violation wx-section: section .wx is writable and executable\n"
	"img dir/a.deb!data.tar.xz!./usr/lib/libx.so: segment 2-0x20: wrpkru (0f 01 ef) undecoded\n"
	"img dir/a.deb!data.tar.xz!./usr/lib/libx.so: segment 2|segment 3+0xfff (pad 0): "
	"wrpkru (0f 01 ef) spanning\n"
	"bad\"name.ko: error: truncated ELF header\n"
	"4 files scanned: 1 clean, 2 with findings (6 findings, 1 violations), 1 errors\n";

Test(report, text_golden)
{
	struct output out = {0};
	struct pvsub_report_summary s;

	run(PVSUB_REPORT_TEXT, false, false, &out, NULL, &s);
	cr_assert_str_eq(out.data, text_golden);
	cr_assert_eq(s.files, 4);
	cr_assert_eq(s.clean, 1);
	cr_assert_eq(s.errors, 1);
	cr_assert_eq(s.findings, 6);
	cr_assert_eq(s.violations, 1);
	free(out.data);
}

Test(report, text_verbose_lists_clean_and_signature)
{
	struct output out = {0};

	run(PVSUB_REPORT_TEXT, false, true, &out, NULL, NULL);
	cr_assert_not_null(strstr(out.data, "ok.ko: note: appended module signature (740 bytes) "
					    "not scanned as code\nok.ko: clean\n"));
	/* only once per file, and never without --verbose */
	cr_assert_null(strstr(strstr(out.data, "ok.ko: note") + 1, "ok.ko: note"));
	free(out.data);
	memset(&out, 0, sizeof(out));
	run(PVSUB_REPORT_TEXT, false, false, &out, NULL, NULL);
	cr_assert_null(strstr(out.data, "note:"));
	cr_assert_null(strstr(out.data, ": clean"));
	free(out.data);
}

Test(report, text_color)
{
	struct output out = {0};

	run(PVSUB_REPORT_TEXT, true, false, &out, NULL, NULL);
	cr_assert_not_null(strstr(out.data, "\033[1mdrv.o\033[0m: .text+0x10: wrpkru (0f 01 ef) "
					    "\033[31minstruction\033[0m: wrpkru\n"));
	cr_assert_not_null(strstr(out.data, "\033[33membedded immediate\033[0m"));
	cr_assert_not_null(strstr(out.data, "\033[33mrelocation\033[0m"));
	free(out.data);
	memset(&out, 0, sizeof(out));
	run(PVSUB_REPORT_TEXT, false, false, &out, NULL, NULL);
	cr_assert_null(strchr(out.data, '\033'));
	free(out.data);
}

Test(report, rewritten_counts_as_clean)
{
	struct pvsub_report_opts opts = {.format = PVSUB_REPORT_TEXT,
					 .policy = policy,
					 .tool_name = "pvsub-scan",
					 .tool_version = "1"};
	struct pvsub_file_record rec = {
		.path = "x.ko", .status = PVSUB_FILE_REWRITTEN, .result = &clean};
	struct pvsub_report_summary s;
	struct pvsub_report *rep = NULL;
	struct output out = {0};
	FILE *f = open_memstream(&out.data, &out.len);

	cr_assert_eq(pvsub_report_new(&opts, f, &rep), 0);
	cr_assert_eq(pvsub_report_add(rep, &rec), 0);
	cr_assert_eq(pvsub_report_finish(rep), 0);
	/* finishing twice writes nothing more; adding afterwards is refused */
	cr_assert_eq(pvsub_report_finish(rep), 0);
	cr_assert_eq(pvsub_report_add(rep, &rec), -EINVAL);
	/* JUnit was not asked for */
	cr_assert_eq(pvsub_report_write_junit(rep, f), -EINVAL);
	pvsub_report_get_summary(rep, &s);
	cr_assert_eq(s.files, 1);
	cr_assert_eq(s.clean, 1);
	pvsub_report_free(rep);
	fclose(f);
	cr_assert_str_eq(out.data, "1 files scanned: 1 clean (1 rewritten), 0 with findings "
				   "(0 findings, 0 violations), 0 errors\n");
	free(out.data);
}

Test(report, format_and_status_names)
{
	enum pvsub_report_format fmt;

	cr_assert_eq(pvsub_report_format_parse("json", &fmt), 0);
	cr_assert_eq(fmt, PVSUB_REPORT_JSON);
	cr_assert_eq(pvsub_report_format_parse("sarif", &fmt), 0);
	cr_assert_eq(fmt, PVSUB_REPORT_SARIF);
	cr_assert_eq(pvsub_report_format_parse("text", &fmt), 0);
	cr_assert_eq(fmt, PVSUB_REPORT_TEXT);
	cr_assert_eq(pvsub_report_format_parse("JSON", &fmt), -EINVAL);
	cr_assert_eq(pvsub_report_format_parse("", &fmt), -EINVAL);
	cr_assert_str_eq(pvsub_file_status_name(PVSUB_FILE_CLEAN), "clean");
	cr_assert_str_eq(pvsub_file_status_name(PVSUB_FILE_FINDINGS), "findings");
	cr_assert_str_eq(pvsub_file_status_name(PVSUB_FILE_REWRITTEN), "rewritten");
	cr_assert_str_eq(pvsub_file_status_name(PVSUB_FILE_ERROR), "error");
}

/* ---- JSON ------------------------------------------------------------------- */

/* python3 -m json.tool as a second opinion, when it is there. */
static void python_agrees(const struct output *out)
{
	FILE *p;
	int st;

	if (system("python3 -c '' >/dev/null 2>&1") != 0)
		return;
	p = popen("python3 -m json.tool >/dev/null 2>&1", "w");
	cr_assert_not_null(p);
	cr_assert_eq(fwrite(out->data, 1, out->len, p), out->len);
	st = pclose(p);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "python3 -m json.tool rejected it");
}

Test(report, json_valid_and_shaped)
{
	struct output out = {0};

	run(PVSUB_REPORT_JSON, true, true, &out, NULL, NULL);
	cr_assert(json_valid(out.data, out.len), "invalid JSON:\n%s", out.data);
	python_agrees(&out);
	/* colour and verbosity are for text only */
	cr_assert_null(strchr(out.data, '\033'));

	cr_assert(starts_with(out.data, "{\n  \"tool\": {\n    \"name\": \"pvsub-scan\",\n"
					"    \"version\": \"0.1.0\"\n  },\n  \"policy\": {\n"
					"    \"id\": \"builtin:pku\",\n    \"version\": 1,\n"
					"    \"sha256\": \""),
		  "%s", out.data);
	cr_assert_not_null(strstr(out.data, pvsub_policy_sha256_hex(policy)));

	/* the DESIGN §5 keys of a finding, in order, then the additions */
	cr_assert_not_null(strstr(out.data, "        {\n"
					    "          \"pattern\": \"wrpkru\",\n"
					    "          \"section\": \".text\",\n"
					    "          \"offset\": 33,\n"
					    "          \"bytes\": \"0f01ef\",\n"
					    "          \"class\": \"embedded\",\n"
					    "          \"field\": \"immediate\",\n"
					    "          \"file_offset\": 97,\n"
					    "          \"instruction\": \"mov eax, 0xef010f\"\n"
					    "        }"),
			   "%s", out.data);
	cr_assert_not_null(strstr(out.data, "\"class\": \"instruction\",\n"
					    "          \"field\": null,"));
	/* section junction */
	cr_assert_not_null(strstr(out.data, "\"section\": \".text|.text.unlikely\",\n"
					    "          \"offset\": 127,"));
	cr_assert_not_null(strstr(out.data, "\"pad\": 1,\n"
					    "          \"sections\": [\n"
					    "            \".text\",\n"
					    "            \".text.unlikely\"\n"
					    "          ]\n"));
	/* segments: "segment" instead of "section", signed offsets */
	cr_assert_not_null(strstr(out.data, "\"segment\": 2,\n          \"offset\": -32,"));
	cr_assert_not_null(strstr(out.data, "\"pad\": 0,\n          \"segment2\": 3\n"));
	cr_assert_not_null(strstr(out.data, "\"elf_type\": \"DYN\""));
	cr_assert_not_null(strstr(out.data, "\"deep\": {\n        \"bytes\": 100,\n"
					    "        \"instructions\": 40,"));
	/* the violation */
	cr_assert_not_null(strstr(out.data, "\"violations\": [\n        {\n"
					    "          \"kind\": \"wx-section\",\n"
					    "          \"detail\": \"section .wx is writable and "
					    "executable\"\n        }\n      ],\n"
					    "      \"error\": null,"));
	/* the error file: escaped path, null type, empty lists */
	cr_assert_not_null(strstr(out.data, "      \"path\": \"bad\\\"name.ko\",\n"
					    "      \"elf_type\": null,\n"
					    "      \"status\": \"error\",\n"
					    "      \"findings\": [],\n"
					    "      \"violations\": [],\n"
					    "      \"error\": \"truncated ELF header\",\n"
					    "      \"size\": null,\n"));
	/* the clean signed module */
	cr_assert_not_null(strstr(out.data, "\"status\": \"clean\""));
	cr_assert_not_null(strstr(out.data, "\"module_signature\": {\n        \"size\": 740\n"));
	cr_assert_not_null(strstr(out.data, "  \"summary\": {\n"
					    "    \"files\": 4,\n"
					    "    \"findings\": 6,\n"
					    "    \"errors\": 1,\n"
					    "    \"violations\": 1,\n"
					    "    \"clean\": 1,\n"
					    "    \"status\": {\n"
					    "      \"clean\": 1,\n"
					    "      \"findings\": 2,\n"
					    "      \"rewritten\": 0,\n"
					    "      \"error\": 1,\n"
					    "      \"refused\": 0\n"
					    "    }\n"
					    "  }\n}\n"));
	free(out.data);
}

Test(report, json_empty_and_hostile_strings)
{
	struct pvsub_report_opts opts = {.format = PVSUB_REPORT_JSON, .policy = NULL};
	struct pvsub_file_record rec = {.path = "x\n\x01\xff.ko",
					.status = PVSUB_FILE_ERROR,
					.error = "bad \"\\\" \t byte"};
	struct pvsub_report *rep = NULL;
	struct output out = {0};
	FILE *f = open_memstream(&out.data, &out.len);

	cr_assert_eq(pvsub_report_new(&opts, f, &rep), 0);
	cr_assert_eq(pvsub_report_finish(rep), 0);
	pvsub_report_free(rep);
	fclose(f);
	cr_assert(json_valid(out.data, out.len), "%s", out.data);
	cr_assert_not_null(strstr(out.data, "\"policy\": null,\n  \"files\": [],\n"));
	free(out.data);

	memset(&out, 0, sizeof(out));
	f = open_memstream(&out.data, &out.len);
	opts.format = PVSUB_REPORT_SARIF;
	cr_assert_eq(pvsub_report_new(&opts, f, &rep), 0);
	cr_assert_eq(pvsub_report_add(rep, &rec), 0);
	cr_assert_eq(pvsub_report_finish(rep), 0);
	pvsub_report_free(rep);
	fclose(f);
	cr_assert(json_valid(out.data, out.len), "%s", out.data);
	python_agrees(&out);
	cr_assert_not_null(strstr(out.data, "\"uri\": \"x%0A%01%FF.ko\""), "%s", out.data);
	free(out.data);

	memset(&out, 0, sizeof(out));
	f = open_memstream(&out.data, &out.len);
	opts.format = PVSUB_REPORT_JSON;
	cr_assert_eq(pvsub_report_new(&opts, f, &rep), 0);
	cr_assert_eq(pvsub_report_add(rep, &rec), 0);
	cr_assert_eq(pvsub_report_finish(rep), 0);
	pvsub_report_free(rep);
	fclose(f);
	cr_assert(json_valid(out.data, out.len), "%s", out.data);
	cr_assert_not_null(strstr(out.data, "\"path\": \"x\\n\\u0001\xef\xbf\xbd.ko\""));
	free(out.data);
}

Test(report, output_is_deterministic)
{
	enum pvsub_report_format fmts[] = {PVSUB_REPORT_TEXT, PVSUB_REPORT_JSON,
					   PVSUB_REPORT_SARIF};

	for (size_t i = 0; i < 3; i++) {
		struct output a = {0}, b = {0}, ja = {0}, jb = {0};

		run(fmts[i], false, true, &a, &ja, NULL);
		run(fmts[i], false, true, &b, &jb, NULL);
		cr_assert_eq(a.len, b.len);
		cr_assert_eq(memcmp(a.data, b.data, a.len), 0);
		cr_assert_str_eq(ja.data, jb.data);
		free(a.data);
		free(b.data);
		free(ja.data);
		free(jb.data);
	}
}

/* ---- SARIF ---------------------------------------------------------------- */

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(report, sarif_required_keys)
{
	struct output out = {0};
	char hash[PVSUB_SHA256_HEX_LEN], want[256];
	static const char material[] = "drv.o\n.text\n16\nwrpkru";

	run(PVSUB_REPORT_SARIF, false, false, &out, NULL, NULL);
	cr_assert(json_valid(out.data, out.len), "invalid JSON:\n%s", out.data);
	python_agrees(&out);
	cr_assert(starts_with(out.data, "{\n  \"$schema\": "
					"\"https://json.schemastore.org/sarif-2.1.0.json\",\n"
					"  \"version\": \"2.1.0\",\n  \"runs\": [\n"));
	cr_assert_not_null(strstr(out.data, "\"driver\": {\n          \"name\": \"pvsub-scan\",\n"
					    "          \"version\": \"0.1.0\",\n"
					    "          \"semanticVersion\": \"0.1.0\",\n"
					    "          \"informationUri\": "));

	/* pku: wrpkru, xrstor (three patterns, one rule), xrstors; eight
	 * violation kinds; input-error */
	cr_assert_eq(count_of(out.data, "\"defaultConfiguration\""), 12);
	cr_assert_eq(count_of(out.data, "\"security-severity\""), 11);
	cr_assert_not_null(strstr(out.data, "\"id\": \"xrstor\",\n              \"name\": "
					    "\"GateOpcodeXrstor\","));
	cr_assert_not_null(strstr(out.data, "\"text\": \"Forbidden byte pattern xrstor "
					    "(0f ae 28/f8, 0f ae 68/f8, 0f ae a8/f8) in executable "
					    "memory\""));
	cr_assert_not_null(strstr(out.data, "\"id\": \"violation/wx-section\""));
	cr_assert_not_null(strstr(out.data, "\"id\": \"input-error\""));

	/* results: 6 findings + 1 violation + 1 error */
	cr_assert_eq(count_of(out.data, "\"ruleId\""), 8);
	cr_assert_eq(count_of(out.data, "\"partialFingerprints\""), 8);
	cr_assert_not_null(strstr(out.data, "\"ruleId\": \"wrpkru\",\n          \"ruleIndex\": 0,\n"
					    "          \"level\": \"error\",\n"
					    "          \"message\": {\n"
					    "            \"text\": \"Pattern wrpkru (0f 01 ef) at "
					    ".text+0x10 is a real instruction: `wrpkru`\"\n"));
	cr_assert_not_null(strstr(out.data, "(0f 01 ef) at .text+0x21 is embedded in the immediate "
					    "of `mov eax, 0xef010f`\""));
	cr_assert_not_null(strstr(out.data, "\"ruleId\": \"xrstor\",\n          \"ruleIndex\": 1,\n"
					    "          \"level\": \"warning\","));
	cr_assert_not_null(strstr(out.data, "\"ruleId\": \"violation/wx-section\",\n"
					    "          \"ruleIndex\": 10,\n"
					    "          \"level\": \"error\","));
	cr_assert_not_null(strstr(out.data, "\"ruleId\": \"input-error\",\n"
					    "          \"ruleIndex\": 11,\n"));
	cr_assert_not_null(strstr(out.data, "\"uri\": \"drv.o\"\n                },\n"
					    "                \"region\": {\n"
					    "                  \"byteOffset\": 80,\n"
					    "                  \"byteLength\": 3\n"));
	/* archive paths keep '!' and '/', spaces are escaped */
	cr_assert_not_null(
		strstr(out.data, "\"uri\": \"img%20dir/a.deb!data.tar.xz!./usr/lib/libx.so\""));
	cr_assert_not_null(strstr(out.data, "\"uri\": \"bad%22name.ko\""));

	cr_assert_eq(pvsub_sha256_hex(material, strlen(material), hash), 0);
	snprintf(want, sizeof(want), "\"pvsubFinding/v1\": \"%s\"", hash);
	cr_assert_not_null(strstr(out.data, want), "fingerprint of drv.o .text+16 wrpkru");

	/* an input error: the run is not a full success */
	cr_assert_not_null(strstr(out.data, "\"executionSuccessful\": false,\n"
					    "          \"toolExecutionNotifications\": [\n"
					    "            {\n"
					    "              \"level\": \"error\",\n"
					    "              \"message\": {\n"
					    "                \"text\": "
					    "\"bad\\\"name.ko: truncated ELF header\"\n"));
	free(out.data);
}

Test(report, sarif_fingerprints_differ_by_place)
{
	struct output out = {0};
	char *p;
	char a[65], b[65];

	run(PVSUB_REPORT_SARIF, false, false, &out, NULL, NULL);
	p = strstr(out.data, "\"pvsubFinding/v1\": \"");
	cr_assert_not_null(p);
	memcpy(a, p + strlen("\"pvsubFinding/v1\": \""), 64);
	a[64] = '\0';
	p = strstr(p + 1, "\"pvsubFinding/v1\": \"");
	cr_assert_not_null(p);
	memcpy(b, p + strlen("\"pvsubFinding/v1\": \""), 64);
	b[64] = '\0';
	cr_assert_str_neq(a, b);
	free(out.data);
}

/* ---- JUnit ------------------------------------------------------------------ */

static void xml_well_formed(const struct output *x)
{
	const char *xmllint = getenv("XMLLINT");
	char cmd[512];
	FILE *f;
	int st;

	if (!xmllint || !*xmllint)
		xmllint = "xmllint";
	snprintf(cmd, sizeof(cmd), "command -v '%s' >/dev/null 2>&1", xmllint);
	if (system(cmd) != 0)
		cr_skip_test("xmllint not available");
	snprintf(cmd, sizeof(cmd), "'%s' --noout --nonet - >/dev/null 2>&1", xmllint);
	f = popen(cmd, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(x->data, 1, x->len, f), x->len);
	st = pclose(f);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "not well-formed:\n%s", x->data);
}

Test(report, junit_document)
{
	struct output out = {0}, junit = {0};

	run(PVSUB_REPORT_TEXT, false, false, &out, &junit, NULL);
	/* the format does not change the JUnit document */
	cr_assert(starts_with(junit.data,
			      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			      "<testsuites name=\"pvsub-scan\" tests=\"4\" failures=\"2\" "
			      "errors=\"1\">\n"
			      "  <testsuite name=\"pvsub-scan\" tests=\"4\" failures=\"2\" "
			      "errors=\"1\">\n"
			      "    <testcase classname=\"pvsub-scan\" name=\"drv.o\">\n"
			      "      <failure message=\"wrpkru at .text+0x10: instruction\" "
			      "type=\"finding\">drv.o: .text+0x10: wrpkru (0f 01 ef) instruction: "
			      "wrpkru</failure>\n"),
		  "%s", junit.data);
	cr_assert_eq(count_of(junit.data, "<failure "), 7);
	cr_assert_eq(count_of(junit.data, "type=\"violation\""), 1);
	cr_assert_not_null(strstr(junit.data, "<testcase classname=\"pvsub-scan\" "
					      "name=\"bad&quot;name.ko\">\n"
					      "      <error message=\"truncated ELF header\" "
					      "type=\"input-error\">truncated ELF header</error>\n"
					      "    </testcase>\n"));
	cr_assert_not_null(strstr(junit.data, "<testcase classname=\"pvsub-scan\" "
					      "name=\"ok.ko\"/>\n  </testsuite>\n</testsuites>\n"));
	xml_well_formed(&junit);
	free(out.data);
	free(junit.data);
}

Test(report, junit_empty_run)
{
	struct pvsub_report_opts opts = {
		.format = PVSUB_REPORT_SARIF, .policy = policy, .want_junit = true};
	struct pvsub_report *rep = NULL;
	struct output out = {0}, junit = {0};
	FILE *f = open_memstream(&out.data, &out.len), *j;

	cr_assert_eq(pvsub_report_new(&opts, f, &rep), 0);
	j = open_memstream(&junit.data, &junit.len);
	cr_assert_eq(pvsub_report_write_junit(rep, j), 0);
	fclose(j);
	cr_assert_eq(pvsub_report_finish(rep), 0);
	pvsub_report_free(rep);
	fclose(f);
	cr_assert(json_valid(out.data, out.len), "%s", out.data);
	cr_assert_not_null(strstr(out.data, "\"executionSuccessful\": true"));
	cr_assert_not_null(strstr(out.data, "\"results\": []"));
	cr_assert_not_null(strstr(junit.data, "tests=\"0\" failures=\"0\" errors=\"0\"/>\n"
					      "</testsuites>\n"));
	xml_well_formed(&junit);
	free(out.data);
	free(junit.data);
}
