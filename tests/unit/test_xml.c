/* SPDX-License-Identifier: MIT */
/*
 * The one XML reader (libpvsub/xml.h) under attack, through both of its
 * users: policy files (pvsub_policy_new_from_memory) and manifests
 * (pvsub_manifest_validate, pvsub_manifest_read).
 *
 * Each attack is a valid document with one thing inserted: a prolog (the
 * DOCTYPE) before the root element, or a first child of the root.  Two
 * controls make each refusal mean something: the valid document with
 * nothing inserted is accepted, so it is the insertion that is refused;
 * and plain libxml2, with entity substitution, DTD loading and XInclude
 * turned on, does read the secret file through the same attack document,
 * so the attack is live and the check that the secret never shows up is
 * one that can fail.  The attacks are also run against FIFOs with no
 * writer in place of the files: opening one would block, and the test
 * would time out.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/entities.h>
#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xinclude.h>

#include "libpvsub/manifest.h"
#include "libpvsub/manifest_read.h"
#include "libpvsub/policy.h"
#include "libpvsub/xml.h"

#define SECRET "SECRET-5e3f9a"

/* ---- the two formats, each as a valid document cut where attacks go ------ */

struct format {
	const char *name;
	char *decl; /* the XML declaration line */
	char *root; /* the root's start tag, without its closing '>' */
	char *rest; /* everything after that '>' */
};

static struct format formats[2];
static char dir[] = "/tmp/pvsub-xml-XXXXXX";
static char files[64], fifos[64]; /* FILE.txt, FILE.dtd; FIFO.txt, FIFO.dtd */

static char *dup_range(const char *from, const char *to)
{
	char *s = strndup(from, (size_t)(to - from));

	cr_assert_not_null(s);
	return s;
}

/* Cut @xml after the declaration line and at the end of the root's start tag. */
static void cut(struct format *f, const char *name, const char *xml, const char *root)
{
	const char *r = strstr(xml, root), *gt;

	cr_assert_not_null(r);
	gt = strchr(r, '>');
	cr_assert_not_null(gt);
	f->name = name;
	f->decl = dup_range(xml, r);
	f->root = dup_range(r, gt);
	f->rest = strdup(gt + 1);
}

static char *manifest_xml(void)
{
	struct pvsub_scan_result result = {0};
	struct pvsub_policy *policy = NULL;
	struct pvsub_buf b = {0};
	struct pvsub_manifest_input in = {
		.tool_name = "pvsub-scan",
		.tool_version = "0.1.0",
		.object_path = "clean.o",
		.result = &result,
	};

	cr_assert_eq(pvsub_policy_new_builtin("vmfunc", &policy, NULL), 0);
	in.policy = policy;
	result.kind = PVSUB_ELF_REL;
	result.machine = 62;
	result.size = 1234;
	memset(result.sha256, 'a', PVSUB_SHA256_HEX_LEN - 1);
	cr_assert_eq(pvsub_manifest_write(&in, &b), 0);
	pvsub_policy_free(policy);
	return pvsub_buf_steal(&b, NULL);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	cr_assert_geq(fputs(text, f), 0);
	cr_assert_eq(fclose(f), 0);
}

static void setup(void)
{
	char path[96], *m = manifest_xml();

	cut(&formats[0], "policy",
	    "<?xml version=\"1.0\"?>\n"
	    "<policy xmlns=\"urn:pvsub:policy:1\" id=\"t\" version=\"1\">"
	    "<include profile=\"vmfunc\"/></policy>\n",
	    "<policy");
	cut(&formats[1], "manifest", m, "<manifest");
	free(m);

	cr_assert_not_null(mkdtemp(dir));
	snprintf(files, sizeof(files), "%s/secret", dir);
	snprintf(fifos, sizeof(fifos), "%s/fifo", dir);
	snprintf(path, sizeof(path), "%s.txt", files);
	write_file(path, SECRET);
	snprintf(path, sizeof(path), "%s.dtd", files);
	write_file(path, "<!ENTITY leak \"" SECRET "\">\n");
	snprintf(path, sizeof(path), "%s.txt", fifos);
	cr_assert_eq(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s.dtd", fifos);
	cr_assert_eq(mkfifo(path, 0600), 0);
}

static void teardown(void)
{
	static const char *const names[] = {"secret.txt", "secret.dtd", "fifo.txt", "fifo.dtd"};
	char path[96];

	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(formats); i++) {
		free(formats[i].decl);
		free(formats[i].root);
		free(formats[i].rest);
	}
}

TestSuite(xml, .init = setup, .fini = teardown, .timeout = 30);

/* @tmpl with every "@F@" replaced by @path. */
static char *subst(const char *tmpl, const char *path)
{
	struct pvsub_buf b = {0};
	const char *at;

	cr_assert_eq(pvsub_buf_puts(&b, ""), 0);
	while ((at = strstr(tmpl, "@F@"))) {
		cr_assert_eq(pvsub_buf_append(&b, tmpl, (size_t)(at - tmpl)), 0);
		cr_assert_eq(pvsub_buf_puts(&b, path), 0);
		tmpl = at + 3;
	}
	cr_assert_eq(pvsub_buf_puts(&b, tmpl), 0);
	return pvsub_buf_steal(&b, NULL);
}

/* The document of @f with @prolog before the root and @child as its first
 * child; "@F@" in either is the path (without suffix) of the file to
 * read. */
static char *compose(const struct format *f, const char *prolog, const char *child,
		     const char *path)
{
	char *p = subst(prolog, path), *c = subst(child, path), *doc = NULL;

	cr_assert_geq(asprintf(&doc, "%s%s%s>%s%s", f->decl, p, f->root, c, f->rest), 0);
	free(p);
	free(c);
	return doc;
}

/* Read @xml as a document of @f through libpvsub: 0 or a negative errno,
 * the reason in @d.  Both manifest readers must agree. */
static int hardened(const struct format *f, const char *xml, struct pvsub_diag *d)
{
	struct pvsub_manifest_info *info = NULL;
	struct pvsub_policy *p = NULL;
	struct pvsub_diag d2 = {{0}};
	int r, r2;

	if (f == &formats[0]) {
		r = pvsub_policy_new_from_memory(xml, strlen(xml), "t.xml", &p, d);
		pvsub_policy_free(p);
		return r;
	}
	r = pvsub_manifest_validate(xml, strlen(xml), d);
	r2 = pvsub_manifest_read(xml, strlen(xml), &info, &d2);
	pvsub_manifest_info_free(info);
	cr_assert_eq(r, r2, "validate %d, read %d", r, r2);
	cr_assert_str_eq(d->msg, d2.msg);
	return r;
}

/* Whether plain libxml2, trusting the document, gets at the secret. */
static bool naive_reads_secret(const char *xml)
{
	const int opts =
		XML_PARSE_NOENT | XML_PARSE_DTDLOAD | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "naive.xml", NULL, opts);
	xmlEntityPtr leak;
	xmlChar *dump = NULL;
	int n = 0;
	bool found;

	if (!doc)
		return false;
	xmlXIncludeProcessFlags(doc, opts);
	xmlDocDumpMemory(doc, &dump, &n);
	leak = xmlGetDocEntity(doc, BAD_CAST "leak");
	found = (dump && strstr((const char *)dump, SECRET)) ||
		(leak && leak->content && strstr((const char *)leak->content, SECRET));
	xmlFree(dump);
	xmlFreeDoc(doc);
	return found;
}

struct attack {
	const char *name;
	const char *prolog, *child;
	const char *refusal;
	bool live; /* plain libxml2 reads the secret through it */
};

static const struct attack attacks[] = {
	{"internal entities (billion laughs)",
	 "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaaaaaaaa\">"
	 "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
	 "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>\n",
	 "", "DTDs are not allowed", false},
	{"external entity", "<!DOCTYPE r [<!ENTITY e SYSTEM \"file://@F@.txt\">]>\n", "&e;",
	 "DTDs are not allowed", true},
	{"external parameter entity",
	 "<!DOCTYPE r [<!ENTITY % pe SYSTEM \"file://@F@.dtd\"> %pe;]>\n", "",
	 "DTDs are not allowed", true},
	{"external DTD", "<!DOCTYPE r SYSTEM \"file://@F@.dtd\">\n", "", "DTDs are not allowed",
	 true},
	{"XInclude", "",
	 "<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"file://@F@.txt\" "
	 "parse=\"text\"/>",
	 "XInclude is not allowed", true},
	{"XInclude (2003 namespace)", "",
	 "<xi:include xmlns:xi=\"http://www.w3.org/2003/XInclude\" href=\"file://@F@.txt\" "
	 "parse=\"text\"/>",
	 "XInclude is not allowed", true},
	{"XInclude, nested", "",
	 "<x:a xmlns:x=\"urn:x\"><x:b/><xi:include xmlns:xi=\"http://www.w3.org/2003/XInclude\" "
	 "href=\"file://@F@.txt\" parse=\"text\"/></x:a>",
	 "XInclude is not allowed", true},
};

/* The control: every format's document as it is, through the same paths. */
Test(xml, valid_documents_are_accepted)
{
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(formats); i++) {
		struct pvsub_diag d = {{0}};
		char *doc = compose(&formats[i], "", "", files);

		cr_assert_eq(hardened(&formats[i], doc, &d), 0, "%s: %s", formats[i].name, d.msg);
		cr_assert_not(naive_reads_secret(doc));
		free(doc);
	}
}

Test(xml, attacks_are_refused_in_every_format)
{
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(formats); i++) {
		const struct format *f = &formats[i];

		for (size_t a = 0; a < PVSUB_ARRAY_SIZE(attacks); a++) {
			const struct attack *at = &attacks[a];
			char *doc = compose(f, at->prolog, at->child, files);
			char *fifo_doc = compose(f, at->prolog, at->child, fifos);
			struct pvsub_diag d = {{0}};
			char want[96];

			/* the attack is real: plain libxml2 falls for it */
			cr_assert_eq(naive_reads_secret(doc), at->live, "%s, %s: naive reader",
				     f->name, at->name);

			cr_assert_eq(hardened(f, doc, &d), -EINVAL, "%s, %s: accepted", f->name,
				     at->name);
			snprintf(want, sizeof(want), "%s in %s", at->refusal,
				 i == 0 ? "policy files" : "manifests");
			cr_assert_not_null(strstr(d.msg, want), "%s, %s: '%s'", f->name, at->name,
					   d.msg);
			cr_assert_eq(strncmp(d.msg, "line ", 5), 0, "%s, %s: '%s'", f->name,
				     at->name, d.msg);
			cr_assert_null(strchr(d.msg, '\n'));
			cr_assert_null(strstr(d.msg, SECRET), "%s, %s: '%s'", f->name, at->name,
				       d.msg);

			/* nothing is even opened: a FIFO would block */
			cr_assert_eq(hardened(f, fifo_doc, &d), -EINVAL, "%s, %s (FIFO)", f->name,
				     at->name);
			cr_assert_not_null(strstr(d.msg, want), "%s, %s: '%s'", f->name, at->name,
					   d.msg);
			free(fifo_doc);
			free(doc);
		}
	}
}

/* Validation uses the compiled-in schema only: a schemaLocation is not
 * followed (a FIFO would block), and the document is still valid. */
Test(xml, schema_location_is_ignored)
{
	static const char *const ns[] = {"urn:pvsub:policy:1", "urn:pvsub:manifest:1"};

	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(formats); i++) {
		struct format f = formats[i];
		struct pvsub_diag d = {{0}};
		char *root = NULL, *doc;

		cr_assert_geq(asprintf(&root,
				       "%s xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
				       "xsi:schemaLocation=\"%s file://%s.dtd\"",
				       formats[i].root, ns[i], fifos),
			      0);
		f.root = root;
		doc = compose(&f, "", "", fifos);
		cr_assert_eq(hardened(&formats[i], doc, &d), 0, "%s: %s", f.name, d.msg);
		free(doc);
		free(root);
	}
}

/* ---- libxml2's own state ------------------------------------------------------ */

static int foreign_calls;

static void foreign_structured(void *data, xmlErrorPtr e)
{
	(void)data;
	(void)e;
	foreign_calls++;
}

static void foreign_generic(void *data, const char *fmt, ...)
{
	(void)data;
	(void)fmt;
	foreign_calls++;
}

static xmlParserInputPtr foreign_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	foreign_calls++;
	return NULL;
}

/* A document of @f whose bytes do not convert from the encoding it
 * declares: libxml2 2.9.14 reports that without a parser context. */
static char *bad_encoding(const struct format *f)
{
	char *doc = NULL;

	cr_assert_geq(asprintf(&doc,
			       "<?xml version=\"1.0\" encoding=\"EUC-JP\"?>\n%s>\xff\xff\xff\xff%s",
			       f->root, f->rest),
		      0);
	return doc;
}

/*
 * The handlers a program has installed for this thread stay installed and
 * hear nothing from libpvsub's reads; the control shows that they do hear
 * a plain libxml2 parse, so the count could have been nonzero.
 */
Test(xml, libxml2_handlers_are_left_alone)
{
	static int ctx;
	xmlExternalEntityLoader loader = xmlGetExternalEntityLoader();

	xmlSetStructuredErrorFunc(&ctx, foreign_structured);
	xmlSetGenericErrorFunc(&ctx, foreign_generic);
	xmlSetExternalEntityLoader(foreign_loader);
	foreign_calls = 0;
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(formats); i++) {
		char *docs[] = {
			compose(&formats[i], attacks[1].prolog, attacks[1].child, files),
			compose(&formats[i], "", attacks[4].child, files),
			compose(&formats[i], "", "<surprise/>", files),
			compose(&formats[i], "", "<oops", files),
			bad_encoding(&formats[i]),
		};

		for (size_t k = 0; k < PVSUB_ARRAY_SIZE(docs); k++) {
			struct pvsub_diag d = {{0}};

			cr_assert_eq(hardened(&formats[i], docs[k], &d), -EINVAL, "%s, %zu",
				     formats[i].name, k);
			free(docs[k]);
		}
	}
	cr_assert(xmlStructuredError == (xmlStructuredErrorFunc)foreign_structured);
	cr_assert_eq(xmlStructuredErrorContext, &ctx);
	cr_assert(xmlGenericError == (xmlGenericErrorFunc)foreign_generic);
	cr_assert_eq(xmlGenericErrorContext, &ctx);
	cr_assert(xmlGetExternalEntityLoader() == foreign_loader);
	cr_assert_eq(foreign_calls, 0);

	cr_assert_null(xmlReadMemory("<a", 2, "plain.xml", NULL, 0));
	cr_assert_gt(foreign_calls, 0);

	xmlSetExternalEntityLoader(loader);
	xmlSetGenericErrorFunc(NULL, NULL);
	xmlSetStructuredErrorFunc(NULL, NULL);
}

Test(xml, encoding_errors_are_one_line_and_never_printed, .init = cr_redirect_stderr)
{
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(formats); i++) {
		struct pvsub_diag d = {{0}};
		char *doc = bad_encoding(&formats[i]);

		cr_assert_eq(hardened(&formats[i], doc, &d), -EINVAL);
		cr_assert_eq(strncmp(d.msg, "line 2: ", 8), 0, "%s: %s", formats[i].name, d.msg);
		cr_assert_null(strchr(d.msg, '\n'));
		free(doc);
	}
	fflush(stderr);
	cr_assert_stderr_eq_str("");
}

static void collect(void *data, xmlErrorPtr e)
{
	(void)data;
	(void)e;
}

/* The control: a parser context's own error hook is not enough, libxml2
 * prints these errors itself. */
Test(xml, plain_libxml2_prints_encoding_errors, .init = cr_redirect_stderr)
{
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	char *doc = bad_encoding(&formats[0]);

	cr_assert_not_null(ctxt);
	ctxt->sax->serror = collect;
	cr_assert_null(
		xmlCtxtReadMemory(ctxt, doc, (int)strlen(doc), "plain.xml", NULL,
				  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
	xmlFreeParserCtxt(ctxt);
	free(doc);
	fflush(stderr);
	cr_assert_stderr_neq_str("");
}

/* ---- limits and threads -------------------------------------------------------- */

/* A valid document of exactly @size bytes: comments in the root pad it. */
static char *padded(const struct format *f, size_t size)
{
	char *doc = compose(f, "", "", files), *pad, *big;
	size_t len = strlen(doc), n;

	cr_assert_leq(len, size);
	n = size - len;
	pad = malloc(n + 1);
	cr_assert_not_null(pad);
	memset(pad, ' ', n);
	for (size_t at = 0; n - at >= 4096; at += 4096) {
		memset(pad + at, 'x', 4096);
		memcpy(pad + at, "<!--", 4);
		memcpy(pad + at + 4093, "-->", 3);
	}
	pad[n] = '\0';
	big = compose(f, "", pad, files);
	cr_assert_eq(strlen(big), size);
	free(pad);
	free(doc);
	return big;
}

/*
 * Each format has a bound, checked before parsing: one byte more is
 * refused.  The control: a document of the bound (policy files), or one
 * far above what libxml2 handles without XML_PARSE_HUGE in one piece
 * (manifests: 12 MiB), is read.
 */
Test(xml, documents_are_size_bounded)
{
	static const enum pvsub_xml_format which[] = {PVSUB_XML_POLICY, PVSUB_XML_MANIFEST};
	static const size_t readable[] = {1u << 20, 12u << 20};

	cr_assert_eq(pvsub_xml_max_size(PVSUB_XML_POLICY), 1u << 20);
	cr_assert_eq(pvsub_xml_max_size(PVSUB_XML_MANIFEST), 64u << 20);
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(formats); i++) {
		size_t max = pvsub_xml_max_size(which[i]);
		struct pvsub_diag d = {{0}};
		char *doc = padded(&formats[i], readable[i]);

		cr_assert_eq(hardened(&formats[i], doc, &d), 0, "%s: %s", formats[i].name, d.msg);
		free(doc);
		doc = padded(&formats[i], max + 1);
		cr_assert_eq(hardened(&formats[i], doc, &d), -EINVAL);
		cr_assert_not_null(strstr(d.msg, "too large"), "%s", d.msg);
		free(doc);
	}
}

struct job {
	const char *docs[2][3]; /* per format: valid, DTD, not valid */
	int wrong;
};

static void *reader(void *arg)
{
	struct job *j = arg;

	for (int n = 0; n < 40; n++) {
		for (size_t i = 0; i < PVSUB_ARRAY_SIZE(formats); i++) {
			struct pvsub_diag d = {{0}};

			j->wrong += hardened(&formats[i], j->docs[i][0], &d) != 0;
			j->wrong += hardened(&formats[i], j->docs[i][1], &d) != -EINVAL ||
				    !strstr(d.msg, "DTDs are not allowed");
			j->wrong += hardened(&formats[i], j->docs[i][2], &d) != -EINVAL ||
				    !strstr(d.msg, "surprise");
		}
	}
	return NULL;
}

/* pvsub-scan reads with worker threads: every thread gets the same answers
 * with the schemas compiled once and shared. */
Test(xml, threads_read_at_once)
{
	pthread_t t[8];
	struct job jobs[8] = {0};
	char *docs[2][3];

	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(formats); i++) {
		docs[i][0] = compose(&formats[i], "", "", files);
		docs[i][1] = compose(&formats[i], attacks[0].prolog, "", files);
		docs[i][2] = compose(&formats[i], "", "<surprise/>", files);
	}
	for (size_t k = 0; k < PVSUB_ARRAY_SIZE(t); k++) {
		for (size_t i = 0; i < 2; i++)
			for (size_t m = 0; m < 3; m++)
				jobs[k].docs[i][m] = docs[i][m];
		cr_assert_eq(pthread_create(&t[k], NULL, reader, &jobs[k]), 0);
	}
	for (size_t k = 0; k < PVSUB_ARRAY_SIZE(t); k++) {
		cr_assert_eq(pthread_join(t[k], NULL), 0);
		cr_assert_eq(jobs[k].wrong, 0, "thread %zu: %d wrong answers", k, jobs[k].wrong);
	}
	for (size_t i = 0; i < 2; i++)
		for (size_t m = 0; m < 3; m++)
			free(docs[i][m]);
}
