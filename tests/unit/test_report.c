/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "libpvsub/crypto.h"
#include "pvsub-scan/report.h"

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
	memcpy(rel_findings[0].before, "\x55\x48\x89\xe5", 4);
	rel_findings[0].n_before = 4;
	memcpy(rel_findings[0].after, "\x5d\xc3", 2);
	rel_findings[0].n_after = 2;
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
	/* a kernel address: above INT64_MAX, printed unsigned */
	dyn_findings[0].vaddr = 0xffffffff81000fe0;
	finding(&dyn_findings[1], &wrpkru, NULL, 0xfff, 0x1fff, PVSUB_CLASS_SPANNING, "", "");
	dyn_findings[1].segment = 2;
	dyn_findings[1].segment2 = 3;
	dyn_findings[1].vaddr = 0x1fff;
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

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/*
 * Feed the standard four records (findings, segments, error, clean) to a
 * report in @format; return what it wrote, and the JUnit document when
 * @junit is not NULL.
 */
static void run(enum pvsub_report_format format, bool color, bool verbose, struct output *out,
		struct output *junit, struct pvsub_report_summary *sum)
{
	const struct pvsub_file_record recs[] = {
		{.path = "drv.o", .status = PVSUB_FILE_FINDINGS, .result = &rel, .seconds = 0.25},
		{.path = "img dir/a.deb!data.tar.xz!./usr/lib/libx.so",
		 .status = PVSUB_FILE_FINDINGS,
		 .result = &dyn},
		{.path = "bad\"name.ko",
		 .status = PVSUB_FILE_ERROR,
		 .error = "truncated ELF header"},
		{.path = "ok.ko", .status = PVSUB_FILE_CLEAN, .result = &clean, .seconds = 0.0005},
	};
	struct pvsub_report_opts opts = {
		.format = format,
		.color = color,
		.verbose = verbose,
		.tool_name = "pvsub-scan",
		.tool_version = "0.1.0",
		.policy = policy,
		.want_junit = junit != NULL,
		.sarif_root = "/src",
		.cwd = "/src",
		.junit_timestamp = 1795608000, /* 2026-11-25T12:00:00 UTC */
		.junit_hostname = "ci-7",
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
	"4 files scanned: 1 clean, 2 rejected, 1 error; 6 findings, 1 violation\n";

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
	cr_assert_eq(s.load_time, 0);
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
	static char text[] = ".text";
	struct pvsub_rewrite_site site = {.section = text, .rule = "nop-split"};
	struct pvsub_rewrite_result rw = {.sites = &site, .n_sites = 1};
	struct pvsub_file_record rec = {
		.path = "x.ko", .status = PVSUB_FILE_REWRITTEN, .result = &clean, .rewrite = &rw};
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
	cr_assert_str_eq(out.data, "1 file scanned: 1 clean (1 rewritten), 0 rejected, 0 errors; "
				   "0 findings, 0 violations\n");
	free(out.data);
}

/* A status that disagrees with the file's verdict is refused, neither
 * written nor counted: the report cannot call a rejected file clean. */
Test(report, a_status_against_the_verdict_is_refused)
{
	struct pvsub_report_opts opts = {.format = PVSUB_REPORT_JSON, .policy = policy};
	static char text[] = ".text";
	struct pvsub_rewrite_refusal refusal = {.section = text, .reason = "no rule"};
	struct pvsub_rewrite_result refused = {.refusals = &refusal, .n_refusals = 1};
	struct pvsub_rewrite_result copied = {0};
	struct pvsub_finding reloc, patch;
	struct pvsub_scan_result load_time = clean, patched = clean;
	const struct pvsub_file_record bad[] = {
		{.path = "a.o", .status = PVSUB_FILE_CLEAN, .result = &rel},
		{.path = "b.o", .status = PVSUB_FILE_FINDINGS, .result = &clean},
		{.path = "c.o", .status = PVSUB_FILE_FINDINGS, .result = &load_time},
		{.path = "d.o", .status = PVSUB_FILE_CLEAN, .result = &patched},
		{.path = "e.o", .status = PVSUB_FILE_CLEAN, .result = &clean, .rewrite = &refused},
		{.path = "f.o",
		 .status = PVSUB_FILE_REWRITTEN,
		 .result = &clean,
		 .rewrite = &copied},
		{.path = "g.o", .status = PVSUB_FILE_REFUSED, .result = &patched},
		{.path = "h.o", .status = PVSUB_FILE_CLEAN},
		/* not scanned, yet no format to name */
		{.path = "n.o", .status = PVSUB_FILE_NOT_SCANNED},
	};
	const struct pvsub_file_record good[] = {
		{.path = "i.o", .status = PVSUB_FILE_CLEAN, .result = &load_time},
		{.path = "j.o", .status = PVSUB_FILE_FINDINGS, .result = &patched},
		{.path = "k.o",
		 .status = PVSUB_FILE_REFUSED,
		 .result = &clean,
		 .rewrite = &refused},
		{.path = "l.o",
		 .status = PVSUB_FILE_CLEAN,
		 .result = &load_time,
		 .rewrite = &copied},
		/* an output that could not be written */
		{.path = "m.o", .status = PVSUB_FILE_ERROR, .result = &clean, .rewrite = &copied},
	};
	struct pvsub_report_summary s;
	struct pvsub_report *rep = NULL;
	struct output out = {0};
	FILE *f = open_memstream(&out.data, &out.len);

	finding(&reloc, &xrstor, sec_text, 0x40, 0x80, PVSUB_CLASS_RELOCATION, "", "");
	finding(&patch, &xrstor, sec_text, 0x50, 0x90, PVSUB_CLASS_PATCH_SITE, "jump-label", "");
	load_time.findings = &reloc;
	load_time.n_findings = 1;
	patched.findings = &patch;
	patched.n_findings = 1;
	cr_assert_eq(pvsub_report_new(&opts, f, &rep), 0);
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(bad); i++)
		cr_assert_eq(pvsub_report_add(rep, &bad[i]), -EINVAL, "%s", bad[i].path);
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(good); i++)
		cr_assert_eq(pvsub_report_add(rep, &good[i]), 0, "%s", good[i].path);
	cr_assert_eq(pvsub_report_finish(rep), 0);
	pvsub_report_get_summary(rep, &s);
	cr_assert_eq(s.files, PVSUB_ARRAY_SIZE(good));
	cr_assert_eq(s.clean, 2);
	cr_assert_eq(s.load_time, 2);
	cr_assert_eq(s.errors, 1);
	pvsub_report_free(rep);
	fclose(f);
	cr_assert(json_valid(out.data, out.len), "%s", out.data);
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(bad); i++) {
		char key[32];

		snprintf(key, sizeof(key), "\"%s\"", bad[i].path);
		cr_assert_null(strstr(out.data, key), "%s was written", bad[i].path);
	}
	cr_assert_not_null(strstr(out.data, "    \"load_time\": 2,\n"
					    "    \"verdict\": {\n"
					    "      \"certified\": 0,\n"
					    "      \"certified-with-load-time-checks\": 2,\n"
					    "      \"rejected\": 2\n"
					    "    },\n"
					    "    \"not_scanned\": 0\n"),
			   "%s", out.data);
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
	cr_assert_str_eq(pvsub_file_status_name(PVSUB_FILE_NOT_SCANNED), "not-scanned");
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
					    "          \"vaddr\": null,\n"
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
	/* a segment's finding has its address; an ET_REL section has none */
	cr_assert_not_null(strstr(out.data, "\"file_offset\": 4064,\n"
					    "          \"vaddr\": 18446744071578849248,\n"));
	cr_assert_not_null(strstr(out.data, "\"file_offset\": 8191,\n"
					    "          \"vaddr\": 8191,\n"));
	cr_assert_eq(count_of(out.data, "\"vaddr\": null"), 4);
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
					    "      \"refused\": 0,\n"
					    "      \"not-scanned\": 0\n"
					    "    },\n"
					    "    \"load_time\": 0,\n"
					    "    \"verdict\": {\n"
					    "      \"certified\": 1,\n"
					    "      \"certified-with-load-time-checks\": 0,\n"
					    "      \"rejected\": 2\n"
					    "    },\n"
					    "    \"not_scanned\": 0\n"
					    "  }\n}\n"),
			   "%s", out.data);
	/* every file's verdict, after the keys it had before; none for an
	 * error */
	cr_assert_eq(count_of(out.data, "\"verdict\": \"rejected\""), 2);
	cr_assert_eq(count_of(out.data, "\"verdict\": \"certified\""), 1);
	cr_assert_not_null(strstr(out.data, "      \"module_signature\": null,\n"
					    "      \"verdict\": null\n"));
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

/* The fingerprint the report should give to @material, the @nth of its kind. */
static void expect_fingerprint(const char *doc, const char *material, unsigned nth)
{
	char hash[PVSUB_SHA256_HEX_LEN], want[256];

	cr_assert_eq(pvsub_sha256_hex(material, strlen(material), hash), 0);
	snprintf(want, sizeof(want), "\"pvsubFinding/v2\": \"%s:%u\"", hash, nth);
	cr_assert_not_null(strstr(doc, want), "no %s for:\n%s\nin:\n%s", want, material, doc);
}

Test(report, sarif_required_keys)
{
	struct output out = {0};

	run(PVSUB_REPORT_SARIF, false, false, &out, NULL, NULL);
	cr_assert(json_valid(out.data, out.len), "invalid JSON:\n%s", out.data);
	python_agrees(&out);
	cr_assert(starts_with(out.data, "{\n  \"$schema\": "
					"\"https://json.schemastore.org/sarif-2.1.0.json\",\n"
					"  \"version\": \"2.1.0\",\n  \"runs\": [\n"));
	/* no informationUri: there is no web site to point at */
	cr_assert_not_null(strstr(out.data, "\"driver\": {\n          \"name\": \"pvsub-scan\",\n"
					    "          \"version\": \"0.1.0\",\n"
					    "          \"semanticVersion\": \"0.1.0\",\n"
					    "          \"rules\": ["));
	cr_assert_null(strstr(out.data, "informationUri"));
	cr_assert_null(strstr(out.data, "example.invalid"));

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

	/* the base of relative URIs */
	cr_assert_not_null(strstr(out.data, "\"originalUriBaseIds\": {\n"
					    "        \"%SRCROOT%\": {\n"
					    "          \"uri\": \"file:///src/\"\n"
					    "        }\n      },\n"));

	/* results: 6 findings + 1 violation + 1 error, each with a location
	 * whose region has startLine (GitHub code scanning needs it), and
	 * the error's notification too */
	cr_assert_eq(count_of(out.data, "\"ruleId\""), 8);
	cr_assert_eq(count_of(out.data, "\"partialFingerprints\""), 8);
	cr_assert_eq(count_of(out.data, "\"physicalLocation\""), 9);
	cr_assert_eq(count_of(out.data, "\"region\": {\n"), 9);
	cr_assert_eq(count_of(out.data, "\"startLine\": 1"), 9);
	cr_assert_eq(count_of(out.data, "\"byteOffset\""), 6);
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
	cr_assert_not_null(strstr(out.data, "\"uri\": \"drv.o\",\n"
					    "                  \"uriBaseId\": \"%SRCROOT%\"\n"
					    "                },\n"
					    "                \"region\": {\n"
					    "                  \"startLine\": 1,\n"
					    "                  \"byteOffset\": 80,\n"
					    "                  \"byteLength\": 3\n"));
	/* a finding's address: a segment's, none for an ET_REL section */
	cr_assert_not_null(strstr(out.data, "\"location\": \"segment 2-0x20\",\n"
					    "            \"vaddr\": 18446744071578849248,\n"),
			   "%s", out.data);
	cr_assert_not_null(strstr(out.data, "\"location\": \".text+0x10\",\n"
					    "            \"vaddr\": null,\n"));
	/* a violation: the file, line 1 */
	cr_assert_not_null(strstr(out.data, "\"text\": \"Violation wx-section: section .wx is "
					    "writable and executable\"\n          },\n"
					    "          \"locations\": [\n"
					    "            {\n"
					    "              \"physicalLocation\": {\n"
					    "                \"artifactLocation\": {\n"
					    "                  \"uri\": \"drv.o\",\n"
					    "                  \"uriBaseId\": \"%SRCROOT%\"\n"
					    "                },\n"
					    "                \"region\": {\n"
					    "                  \"startLine\": 1\n"
					    "                }\n"),
			   "%s", out.data);
	/* archive paths keep '!' and '/', spaces are escaped */
	cr_assert_not_null(
		strstr(out.data, "\"uri\": \"img%20dir/a.deb!data.tar.xz!./usr/lib/libx.so\""));
	cr_assert_not_null(strstr(out.data, "\"uri\": \"bad%22name.ko\""));

	/* the fingerprint recipe of report.h, to the byte */
	expect_fingerprint(out.data, "pvsubFinding/v2\ndrv.o\n.text\nwrpkru\n554889e5.0f01ef.5dc3",
			   1);
	/* .text+0x21 has the same (empty) context as a second wrpkru would:
	 * its own material, first of its kind */
	expect_fingerprint(out.data, "pvsubFinding/v2\ndrv.o\n.text\nwrpkru\n.0f01ef.", 1);
	expect_fingerprint(out.data,
			   "pvsubFinding/v2\ndrv.o\n.text|.text.unlikely\nwrpkru\n.0f01ef.\npad 1",
			   1);
	/* the member path without the archive's name */
	expect_fingerprint(out.data,
			   "pvsubFinding/v2\ndata.tar.xz!usr/lib/libx.so\nsegment 2\n"
			   "wrpkru\n.0f01ef.",
			   1);
	expect_fingerprint(out.data,
			   "pvsubFinding/v2\ndata.tar.xz!usr/lib/libx.so\n"
			   "segment 2|segment 3\nwrpkru\n.0f01ef.\npad 0",
			   1);
	expect_fingerprint(out.data,
			   "pvsubFinding/v2\ndrv.o\nviolation/wx-section\n"
			   "section .wx is writable and executable",
			   1);
	expect_fingerprint(out.data, "pvsubFinding/v2\nbad\"name.ko\ninput-error", 1);

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

/* The fingerprint of the one result of a SARIF report of @recs. */
static void fingerprints_of(const struct pvsub_file_record *recs, size_t n, size_t results,
			    const char *cwd, char out[][80])
{
	struct pvsub_report_opts opts = {
		.format = PVSUB_REPORT_SARIF,
		.policy = policy,
		.sarif_root = "/src",
		.cwd = cwd,
	};
	struct pvsub_report *rep = NULL;
	struct output doc = {0};
	FILE *f = open_memstream(&doc.data, &doc.len);
	const char *p;

	cr_assert_eq(pvsub_report_new(&opts, f, &rep), 0);
	for (size_t i = 0; i < n; i++) {
		struct pvsub_file_record rec = recs[i];

		rec.status = pvsub_file_status_of(rec.result, rec.rewrite);
		cr_assert_eq(pvsub_report_add(rep, &rec), 0);
	}
	cr_assert_eq(pvsub_report_finish(rep), 0);
	pvsub_report_free(rep);
	fclose(f);
	p = doc.data;
	for (size_t i = 0; i < results; i++) {
		const char *key = "\"pvsubFinding/v2\": \"";

		p = strstr(p, key);
		cr_assert_not_null(p, "%s", doc.data);
		p += strlen(key);
		cr_assert_lt(strcspn(p, "\""), (size_t)80);
		snprintf(out[i], 80, "%.*s", (int)strcspn(p, "\""), p);
	}
	cr_assert_null(strstr(p, "pvsubFinding/v2"), "more results than records");
	free(doc.data);
}

static struct pvsub_scan_result one_finding(struct pvsub_finding *f, int64_t off)
{
	struct pvsub_scan_result r = rel;

	finding(f, &wrpkru, sec_text, off, off + 0x40, PVSUB_CLASS_INSTRUCTION, "", "wrpkru");
	memcpy(f->before, "\x55\x48\x89\xe5", 4);
	f->n_before = 4;
	memcpy(f->after, "\x5d\xc3", 2);
	f->n_after = 2;
	r.findings = f;
	r.n_findings = 1;
	r.n_violations = 0;
	return r;
}

Test(report, sarif_fingerprints_ignore_spelling_versions_and_offsets)
{
	struct pvsub_finding f[2];
	struct pvsub_scan_result a = one_finding(&f[0], 0x10), moved = one_finding(&f[1], 0x990);
	char fp[6][80];
	/* One module named four ways, and from two versions of its package. */
	const struct pvsub_file_record spell[] = {
		{.path = "drivers/kvm.ko", .input = "drivers/kvm.ko", .result = &a},
		{.path = "./drivers/kvm.ko", .input = "./drivers/kvm.ko", .result = &a},
		{.path = "drivers//kvm.ko", .input = "drivers/", .result = &a},
	};
	const struct pvsub_file_record inside[] = {
		{.path = "kvm.ko", .input = "kvm.ko", .result = &a},
	};
	const struct pvsub_file_record debs[] = {
		{.path = "linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb!data.tar.xz!./lib/"
			 "modules/6.1.0-56-cloud-amd64/kernel/arch/x86/kvm/kvm.ko",
		 .input = "linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb",
		 .result = &a},
	};
	const struct pvsub_file_record debs2[] = {
		{.path = "/pool/linux-image-6.1.0-57-cloud-amd64_6.1.200-1_amd64.deb!data.tar.xz!"
			 "lib/modules/6.1.0-57-cloud-amd64/kernel/arch/x86/kvm/kvm.ko",
		 .input = "/pool",
		 .result = &moved},
	};
	/* The unpacked tree, named at three depths. */
	const struct pvsub_file_record tree[] = {
		{.path = "/srv/lib/modules/6.1.0-56-cloud-amd64/kernel/kvm.ko",
		 .input = "/srv/lib/modules",
		 .result = &a},
		{.path = "modules/6.1.0-57-cloud-amd64/kernel/kvm.ko",
		 .input = "modules",
		 .result = &a},
	};
	char t[2][80];

	for (size_t i = 0; i < 3; i++)
		fingerprints_of(&spell[i], 1, 1, "/src", &fp[i]);
	fingerprints_of(inside, 1, 1, "/src/drivers", &fp[3]);
	for (size_t i = 1; i < 4; i++)
		cr_assert_str_eq(fp[i], fp[0], "path spelling %zu changed the fingerprint", i);
	cr_assert_eq(fp[0][64], ':');
	cr_assert_str_eq(fp[0] + 64, ":1");

	fingerprints_of(debs, 1, 1, "/src", &fp[4]);
	fingerprints_of(debs2, 1, 1, "/src", &fp[5]);
	cr_assert_str_eq(fp[4], fp[5], "a new package version (and moved code) changed it");
	cr_assert_str_neq(fp[4], fp[0], "an archive member is not the file on its own");

	fingerprints_of(&tree[0], 1, 1, "/", &t[0]);
	fingerprints_of(&tree[1], 1, 1, "/srv/lib", &t[1]);
	cr_assert_str_eq(t[0], t[1]);

	/* what does change it: other bytes around the occurrence, another
	 * section, another file name */
	{
		struct pvsub_finding g = f[0];
		struct pvsub_scan_result other = a;
		const struct pvsub_file_record rec = {.path = "kvm.ko", .result = &other};
		char x[1][80];

		other.findings = &g;
		g.after[1] = 0xcc;
		fingerprints_of(&rec, 1, 1, "/src", x);
		cr_assert_str_neq(x[0], fp[3], "context bytes are part of it");
		g = f[0];
		g.section = sec_junction;
		fingerprints_of(&rec, 1, 1, "/src", x);
		cr_assert_str_neq(x[0], fp[3], "the section is part of it");
		g = f[0];
		const struct pvsub_file_record ren = {.path = "kvm2.ko", .result = &other};
		fingerprints_of(&ren, 1, 1, "/src", x);
		cr_assert_str_neq(x[0], fp[3], "the file name is part of it");
	}
}

Test(report, sarif_identical_occurrences_are_counted)
{
	struct pvsub_finding f[2];
	struct pvsub_scan_result a = one_finding(&f[0], 0x10), b;
	char fp[3][80];

	b = one_finding(&f[1], 0x80);
	struct pvsub_finding two[2] = {f[0], f[1]};
	struct pvsub_scan_result both = a;
	both.findings = two;
	both.n_findings = 2;
	const struct pvsub_file_record recs[] = {
		{.path = "x/kvm.ko", .result = &both},
		{.path = "y/kvm.ko", .result = &b},
	};

	fingerprints_of(recs, 2, 3, "/src", fp);
	/* the same bytes in the same section of the same file name: one hash,
	 * told apart by their number in the run */
	cr_assert_eq(memcmp(fp[0], fp[1], 64), 0);
	cr_assert_eq(memcmp(fp[0], fp[2], 64), 0);
	cr_assert_str_eq(fp[0] + 64, ":1");
	cr_assert_str_eq(fp[1] + 64, ":2");
	cr_assert_str_eq(fp[2] + 64, ":3");
}

Test(report, identity_recipe)
{
	static const struct {
		const char *path, *input, *cwd, *want;
	} cases[] = {
		{"drivers/kvm.ko", "drivers/kvm.ko", "/src", "kvm.ko"},
		{"./drivers/kvm.ko", NULL, NULL, "kvm.ko"},
		{"drivers/net/e1000.ko", "drivers", "/src", "net/e1000.ko"},
		{"drivers//net/./e1000.ko", "drivers/", "/src", "net/e1000.ko"},
		{"drivers-old/x.ko", "drivers", "/src", "x.ko"},
		{"img-1.2.tar!./lib//modules/6.1.0-56-cloud-amd64/kernel/kvm.ko", "img-1.2.tar",
		 NULL, "lib/modules/*/kernel/kvm.ko"},
		{"a.deb!data.tar.xz!./usr/lib/modules/6.1.0/kvm.ko", NULL, NULL,
		 "data.tar.xz!usr/lib/modules/*/kvm.ko"},
		/* a module directly in lib/modules has no release to hide */
		{"g.tar!boot/initrd.cpio.gz!lib/modules/gate.o", NULL, NULL,
		 "boot/initrd.cpio.gz!lib/modules/gate.o"},
		{"6.1.0-56-cloud-amd64/kernel/kvm.ko", "6.1.0-56-cloud-amd64", "/lib/modules",
		 "kernel/kvm.ko"},
		{"./6.1.0-56-cloud-amd64/kernel/kvm.ko", ".", "/lib/modules", "*/kernel/kvm.ko"},
		{"-", "-", "/src", "-"},
		{"-!./lib/x.ko", "-", "/src", "lib/x.ko"},
		{"t.tar!../../escape.o", NULL, NULL, "../../escape.o"},
		{"t.tar!a/../b.o", NULL, NULL, "b.o"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pvsub_buf b = {0};

		cr_assert_eq(pvsub_report_identity(cases[i].path, cases[i].input, cases[i].cwd, &b),
			     0);
		cr_assert_str_eq(b.data, cases[i].want, "%s (input %s, cwd %s)", cases[i].path,
				 cases[i].input ? cases[i].input : "-",
				 cases[i].cwd ? cases[i].cwd : "-");
		pvsub_buf_release(&b);
	}
}

/* The URI of a file with findings at display path @path. */
static void uri_of(const char *path, const char *root, const char *cwd, char *out, size_t n,
		   bool *base)
{
	struct pvsub_report_opts opts = {
		.format = PVSUB_REPORT_SARIF, .policy = policy, .sarif_root = root, .cwd = cwd};
	const struct pvsub_file_record rec = {
		.path = path, .status = PVSUB_FILE_FINDINGS, .result = &rel};
	struct pvsub_report *rep = NULL;
	struct output doc = {0};
	FILE *f = open_memstream(&doc.data, &doc.len);
	const char *p;

	cr_assert_eq(pvsub_report_new(&opts, f, &rep), 0);
	cr_assert_eq(pvsub_report_add(rep, &rec), 0);
	cr_assert_eq(pvsub_report_finish(rep), 0);
	pvsub_report_free(rep);
	fclose(f);
	p = strstr(doc.data, "\"artifactLocation\": {\n");
	cr_assert_not_null(p);
	p = strstr(p, "\"uri\": \"");
	p += strlen("\"uri\": \"");
	snprintf(out, n, "%.*s", (int)strcspn(p, "\""), p);
	p += strcspn(p, "\"");
	*base = starts_with(p, "\",\n                  \"uriBaseId\": \"%SRCROOT%\"");
	free(doc.data);
}

Test(report, sarif_uris_relative_to_the_root)
{
	static const struct {
		const char *path, *root, *cwd, *want;
		bool base;
	} cases[] = {
		{"x.ko", "/src", "/src", "x.ko", true},
		{"./a//b/../x.ko", "/src", "/src/sub", "sub/a/x.ko", true},
		{"x.ko", "/src/", "/src", "x.ko", true},
		{"/src/drv/x.ko", "/src", "/elsewhere", "drv/x.ko", true},
		{"../x.ko", "/src", "/src/sub", "x.ko", true},
		{"/srcx/y.ko", "/src", "/src", "file:///srcx/y.ko", false},
		{"../y.ko", "/src", "/src", "file:///y.ko", false},
		{"/abs dir/y.ko!./lib/m.ko", "/src", "/src", "file:///abs%20dir/y.ko!./lib/m.ko",
		 false},
		{"img.tar!./lib/m.ko", "/src", "/src", "img.tar!./lib/m.ko", true},
		{"-", "/src", "/src", "-", false},
		{"-!./lib/m.ko", "/src", "/src", "-!./lib/m.ko", false},
		{"y.ko", "/", "/tmp", "tmp/y.ko", true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char uri[256];
		bool base;

		uri_of(cases[i].path, cases[i].root, cases[i].cwd, uri, sizeof(uri), &base);
		cr_assert_str_eq(uri, cases[i].want, "%s", cases[i].path);
		cr_assert_eq(base, cases[i].base, "%s: uriBaseId", cases[i].path);
	}
}

/* ---- JUnit ------------------------------------------------------------------ */

/*
 * xmllint as the judge: @x must be well-formed and, with @schema_ok, valid
 * against the Ant JUnit schema of tests/fixtures (when top_srcdir says
 * where it is).
 */
static void xml_check(const struct output *x, bool schema)
{
	const char *xmllint = getenv("XMLLINT"), *top = getenv("top_srcdir");
	char cmd[1024];
	FILE *f;
	int st;

	if (!xmllint || !*xmllint)
		xmllint = "xmllint";
	snprintf(cmd, sizeof(cmd), "command -v '%s' >/dev/null 2>&1", xmllint);
	if (system(cmd) != 0)
		cr_skip_test("xmllint not available");
	if (schema && top && *top)
		snprintf(cmd, sizeof(cmd),
			 "'%s' --noout --nonet --schema '%s/tests/fixtures/junit-ant.xsd' - "
			 ">/dev/null 2>&1",
			 xmllint, top);
	else
		snprintf(cmd, sizeof(cmd), "'%s' --noout --nonet - >/dev/null 2>&1", xmllint);
	f = popen(cmd, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(x->data, 1, x->len, f), x->len);
	st = pclose(f);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s:\n%s",
		  schema ? "not valid against the Ant JUnit schema" : "not well-formed", x->data);
}

Test(report, junit_document)
{
	struct output out = {0}, junit = {0};

	run(PVSUB_REPORT_TEXT, false, false, &out, &junit, NULL);
	/* the format does not change the JUnit document */
	cr_assert(starts_with(junit.data,
			      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			      "<testsuites name=\"pvsub-scan\" tests=\"4\" failures=\"2\" "
			      "errors=\"1\" time=\"0.251\">\n"
			      "  <testsuite name=\"pvsub-scan\" tests=\"4\" failures=\"2\" "
			      "errors=\"1\" time=\"0.251\" timestamp=\"2026-11-25T12:00:00\" "
			      "hostname=\"ci-7\" id=\"0\" package=\"pvsub-scan\">\n"
			      "    <properties>\n"
			      "      <property name=\"tool.version\" value=\"0.1.0\"/>\n"
			      "      <property name=\"policy.id\" value=\"builtin:pku\"/>\n"
			      "      <property name=\"policy.version\" value=\"1\"/>\n"
			      "      <property name=\"policy.sha256\" value=\""),
		  "%s", junit.data);
	/* one failure per test case: the first finding in its message, every
	 * finding and violation a line of its text */
	cr_assert_not_null(
		strstr(junit.data,
		       "    <testcase classname=\"pvsub-scan\" name=\"drv.o\" "
		       "time=\"0.250\">\n"
		       "      <failure message=\"wrpkru at .text+0x10: instruction (and 4 "
		       "more)\" type=\"finding\">drv.o: .text+0x10: wrpkru (0f 01 ef) "
		       "instruction: wrpkru&#10;drv.o: .text+0x21: wrpkru (0f 01 ef) "
		       "embedded immediate: mov eax, 0xef010f&#10;drv.o: .text+0x40: xrstor "
		       "(0f ae 28) relocation&#10;drv.o: .text|.text.unlikely+0x7f (pad 1): "
		       "wrpkru (0f 01 ef) spanning: ret&#10;drv.o: violation wx-section: "
		       "section .wx is writable and executable</failure>\n"
		       "    </testcase>\n"),
		"%s", junit.data);
	cr_assert_eq(count_of(junit.data, "<failure "), 2);
	cr_assert_eq(count_of(junit.data, "<testcase "), 4);
	/* every testcase, the testsuite and testsuites have a time */
	cr_assert_eq(count_of(junit.data, " time=\""), 6);
	cr_assert_not_null(strstr(junit.data, "<testcase classname=\"pvsub-scan\" "
					      "name=\"bad&quot;name.ko\" time=\"0.000\">\n"
					      "      <error message=\"truncated ELF header\" "
					      "type=\"input-error\">truncated ELF header</error>\n"
					      "    </testcase>\n"));
	cr_assert_not_null(strstr(junit.data, "<testcase classname=\"pvsub-scan\" "
					      "name=\"ok.ko\" time=\"0.001\"/>\n"
					      "    <system-out/>\n    <system-err/>\n"
					      "  </testsuite>\n</testsuites>\n"));
	xml_check(&junit, false);
	xml_check(&junit, true);
	free(out.data);
	free(junit.data);
}

Test(report, junit_one_failure_for_violations_and_refusals)
{
	struct pvsub_report_opts opts = {
		.format = PVSUB_REPORT_JSON, .policy = policy, .want_junit = true};
	struct pvsub_scan_result viol = rel, none = clean;
	static char text[] = ".text";
	struct pvsub_rewrite_refusal refusals[2] = {
		{.section = text, .offset = 0x10, .reason = "no rule"},
		{.section = text, .offset = 0x20, .reason = "data in code"},
	};
	struct pvsub_rewrite_result rw = {.refusals = refusals, .n_refusals = 2};
	const struct pvsub_file_record recs[] = {
		{.path = "v.o", .status = PVSUB_FILE_FINDINGS, .result = &viol},
		{.path = "r.o", .status = PVSUB_FILE_REFUSED, .result = &none, .rewrite = &rw},
	};
	struct pvsub_report *rep = NULL;
	struct output out = {0}, junit = {0};
	FILE *f = open_memstream(&out.data, &out.len), *j;

	viol.n_findings = 0;
	none.modsig.present = false;
	rw.n_refusals = 2;
	cr_assert_eq(pvsub_report_new(&opts, f, &rep), 0);
	for (size_t i = 0; i < 2; i++)
		cr_assert_eq(pvsub_report_add(rep, &recs[i]), 0);
	cr_assert_eq(pvsub_report_finish(rep), 0);
	j = open_memstream(&junit.data, &junit.len);
	cr_assert_eq(pvsub_report_write_junit(rep, j), 0);
	fclose(j);
	pvsub_report_free(rep);
	fclose(f);
	cr_assert_not_null(strstr(junit.data, "<failure message=\"violation wx-section\" "
					      "type=\"violation\">v.o: violation wx-section: "),
			   "%s", junit.data);
	cr_assert_not_null(strstr(junit.data, "<failure message=\"refused at .text+0x10 (and 1 "
					      "more)\" type=\"refused\">r.o: .text+0x10: refused: "
					      "no rule&#10;r.o: .text+0x20: refused: data in code"
					      "</failure>"),
			   "%s", junit.data);
	cr_assert_eq(count_of(junit.data, "<failure "), 2);
	xml_check(&junit, true);
	free(out.data);
	free(junit.data);
}

/* A file certified with load-time checks (its one finding in a relocation
 * window) and one with a patch-site finding, in every format: the first
 * passes everywhere, the second is rejected everywhere. */
static void verdict_run(enum pvsub_report_format format, struct output *out, struct output *junit)
{
	struct pvsub_report_opts opts = {.format = format,
					 .policy = policy,
					 .tool_name = "pvsub-scan",
					 .tool_version = "1",
					 .want_junit = true,
					 .sarif_root = "/src",
					 .cwd = "/src"};
	static struct pvsub_finding reloc, patch;
	static struct pvsub_scan_result load_time, patched;
	struct pvsub_report *rep = NULL;
	FILE *f = open_memstream(&out->data, &out->len), *j;

	load_time = patched = clean;
	load_time.modsig.present = patched.modsig.present = false;
	finding(&reloc, &xrstor, sec_text, 0x40, 0x80, PVSUB_CLASS_RELOCATION, "", "");
	finding(&patch, &wrpkru, sec_text, 0x50, 0x90, PVSUB_CLASS_PATCH_SITE, "jump-label", "");
	load_time.findings = &reloc;
	load_time.n_findings = 1;
	patched.findings = &patch;
	patched.n_findings = 1;
	const struct pvsub_file_record recs[] = {
		{.path = "lt.o", .status = PVSUB_FILE_CLEAN, .result = &load_time},
		{.path = "ps.o", .status = PVSUB_FILE_FINDINGS, .result = &patched},
	};
	cr_assert_eq(pvsub_report_new(&opts, f, &rep), 0);
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(recs); i++)
		cr_assert_eq(pvsub_report_add(rep, &recs[i]), 0);
	cr_assert_eq(pvsub_report_finish(rep), 0);
	j = open_memstream(&junit->data, &junit->len);
	cr_assert_eq(pvsub_report_write_junit(rep, j), 0);
	fclose(j);
	pvsub_report_free(rep);
	fclose(f);
}

Test(report, load_time_passes_and_patch_sites_fail_in_every_format)
{
	struct output out = {0}, junit = {0};

	verdict_run(PVSUB_REPORT_TEXT, &out, &junit);
	cr_assert_str_eq(
		out.data,
		"lt.o: .text+0x40: xrstor (0f ae 28) relocation\n"
		"lt.o: certified with load-time checks: every occurrence is in a "
		"relocation window, which the loader must rescan after relocation\n"
		"ps.o: .text+0x50: wrpkru (0f 01 ef) patch-site jump-label\n"
		"2 files scanned: 1 clean (1 with load-time checks), 1 rejected, 0 errors; "
		"2 findings, 0 violations\n");
	/* JUnit: one failure, the patch site's; the load-time file passes */
	cr_assert_not_null(strstr(junit.data, "tests=\"2\" failures=\"1\" errors=\"0\""));
	cr_assert_not_null(strstr(junit.data, "<testcase classname=\"pvsub-scan\" name=\"lt.o\" "
					      "time=\"0.000\"/>\n"),
			   "%s", junit.data);
	cr_assert_not_null(strstr(junit.data, "<failure message=\"wrpkru at .text+0x50: "
					      "patch-site\" type=\"finding\">"),
			   "%s", junit.data);
	xml_check(&junit, true);
	free(out.data);
	free(junit.data);

	memset(&out, 0, sizeof(out));
	memset(&junit, 0, sizeof(junit));
	verdict_run(PVSUB_REPORT_SARIF, &out, &junit);
	cr_assert(json_valid(out.data, out.len), "%s", out.data);
	/* the relocation finding is a warning of a certified file, the patch
	 * site an error of a rejected one */
	cr_assert_not_null(strstr(out.data, "\"ruleId\": \"xrstor\",\n"
					    "          \"ruleIndex\": 1,\n"
					    "          \"level\": \"warning\","),
			   "%s", out.data);
	cr_assert_not_null(strstr(out.data, "\"ruleId\": \"wrpkru\",\n"
					    "          \"ruleIndex\": 0,\n"
					    "          \"level\": \"error\","),
			   "%s", out.data);
	cr_assert_not_null(strstr(out.data,
				  "\"class\": \"relocation\",\n"
				  "            \"field\": null,\n"
				  "            \"location\": \".text+0x40\",\n"
				  "            \"vaddr\": null,\n"
				  "            \"verdict\": \"certified-with-load-time-checks\"\n"),
			   "%s", out.data);
	cr_assert_not_null(strstr(out.data, "\"class\": \"patch-site\",\n"
					    "            \"field\": \"jump-label\",\n"
					    "            \"location\": \".text+0x50\",\n"
					    "            \"vaddr\": null,\n"
					    "            \"verdict\": \"rejected\"\n"),
			   "%s", out.data);
	free(out.data);
	free(junit.data);

	memset(&out, 0, sizeof(out));
	memset(&junit, 0, sizeof(junit));
	verdict_run(PVSUB_REPORT_JSON, &out, &junit);
	cr_assert(json_valid(out.data, out.len), "%s", out.data);
	cr_assert_not_null(
		strstr(out.data, "\"verdict\": \"certified-with-load-time-checks\"\n    },"));
	cr_assert_not_null(strstr(out.data, "\"verdict\": \"rejected\"\n    }\n  ],"));
	cr_assert_not_null(strstr(out.data, "\"clean\": 1,\n"), "%s", out.data);
	cr_assert_not_null(strstr(out.data, "\"load_time\": 1,\n"), "%s", out.data);
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
	cr_assert_not_null(strstr(junit.data, "tests=\"0\" failures=\"0\" errors=\"0\" "
					      "time=\"0.000\" timestamp=\"1970-01-01T00:00:00\" "
					      "hostname=\"localhost\" id=\"0\""),
			   "%s", junit.data);
	cr_assert_not_null(strstr(junit.data, "</properties>\n    <system-out/>\n"));
	xml_check(&junit, true);
	free(out.data);
	free(junit.data);
}

/* The report calls before_write right before it writes, and only then. */
static int writes_announced;

static void on_before_write(void *data)
{
	FILE *f = data;

	fflush(f);
	writes_announced++;
}

Test(report, before_write_comes_before_every_write)
{
	struct output out = {0};
	FILE *f = open_memstream(&out.data, &out.len);
	struct pvsub_report_opts opts = {.format = PVSUB_REPORT_TEXT,
					 .policy = policy,
					 .before_write = on_before_write,
					 .before_write_data = f};
	const struct pvsub_file_record quiet = {
		.path = "c.o", .status = PVSUB_FILE_CLEAN, .result = &clean};
	const struct pvsub_file_record loud = {
		.path = "d.o", .status = PVSUB_FILE_FINDINGS, .result = &rel};
	struct pvsub_report *rep = NULL;

	writes_announced = 0;
	cr_assert_eq(pvsub_report_new(&opts, f, &rep), 0);
	cr_assert_eq(pvsub_report_add(rep, &quiet), 0);
	cr_assert_eq(writes_announced, 0, "a clean file prints nothing in text mode");
	cr_assert_eq(pvsub_report_add(rep, &loud), 0);
	cr_assert_eq(writes_announced, 1);
	cr_assert_eq(pvsub_report_finish(rep), 0);
	cr_assert_eq(writes_announced, 2);
	pvsub_report_free(rep);
	fclose(f);
	free(out.data);
}
