/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "libpvsub/manifest.h"
#include "libpvsub/xml.h"

/*
 * The writer appends into @out and keeps the first error: every emitter below
 * is a no-op once @err is set, so the serialiser reads top to bottom like the
 * document it produces.
 */
struct writer {
	struct pvsub_buf *out;
	int err;
};

static void w_puts(struct writer *w, const char *s)
{
	if (!w->err)
		w->err = pvsub_buf_puts(w->out, s);
}

static _printf_format_(2, 3) void w_printf(struct writer *w, const char *fmt, ...)
{
	va_list ap;

	if (w->err)
		return;
	va_start(ap, fmt);
	w->err = pvsub_buf_vprintf(w->out, fmt, ap);
	va_end(ap);
}

/* ` name="value"` with @value escaped. */
static void w_attr(struct writer *w, const char *name, const char *value)
{
	w_printf(w, " %s=\"", name);
	if (!w->err)
		w->err = pvsub_buf_xml_string(w->out, value);
	w_puts(w, "\"");
}

static void w_attr_u64(struct writer *w, const char *name, uint64_t v)
{
	w_printf(w, " %s=\"%" PRIu64 "\"", name, v);
}

static void w_attr_hex(struct writer *w, const char *name, const uint8_t *bytes, size_t len)
{
	char hex[2 * PVSUB_PATTERN_MAX + 1];

	len = PVSUB_MIN(len, (size_t)PVSUB_PATTERN_MAX);
	pvsub_hex(bytes, len, hex);
	w_attr(w, name, hex);
}

/* An element holding only child elements: `<name/>` when it has none. */
static void w_list_open(struct writer *w, const char *name, size_t n)
{
	w_printf(w, "  <%s%s>\n", name, n ? "" : "/");
}

static void w_list_close(struct writer *w, const char *name, size_t n)
{
	if (n)
		w_printf(w, "  </%s>\n", name);
}

/* Names from other modules, never NULL even for a value out of range (the
 * schema then rejects the document instead of the writer crashing). */
static const char *class_name(enum pvsub_class c)
{
	const char *s = pvsub_class_name(c);

	return s ? s : "unknown";
}

static void write_policy(struct writer *w, const struct pvsub_policy *p)
{
	const struct pvsub_pattern *pats;
	size_t n = 0;

	pats = pvsub_policy_patterns(p, &n);
	w_puts(w, "  <policy");
	w_attr(w, "id", pvsub_policy_id(p));
	w_printf(w, " version=\"%lu\"", pvsub_policy_version(p));
	w_attr(w, "on-instruction", pvsub_on_instruction_name(pvsub_policy_on_instruction(p)));
	w_attr(w, "sha256", pvsub_policy_sha256_hex(p));
	w_puts(w, n ? ">\n" : "/>\n");
	for (size_t i = 0; i < n; i++) {
		w_puts(w, "    <pattern");
		w_attr(w, "id", pats[i].id);
		w_attr_hex(w, "value", pats[i].value, pats[i].len);
		w_attr_hex(w, "mask", pats[i].mask, pats[i].len);
		w_puts(w, "/>\n");
	}
	if (n)
		w_puts(w, "  </policy>\n");
}

static void write_regions(struct writer *w, const struct pvsub_scan_result *r)
{
	w_list_open(w, "regions", r->n_regions);
	for (size_t i = 0; i < r->n_regions; i++) {
		const struct pvsub_region_summary *g = &r->regions[i];

		w_puts(w, "    <region");
		w_attr(w, "name", g->name ? g->name : "");
		w_attr(w, "kind", g->is_segment ? "segment" : "section");
		w_attr_u64(w, "index", g->index);
		w_attr_u64(w, "file-offset", g->file_offset);
		w_attr_u64(w, "size", g->size);
		w_attr(w, "sha256", g->sha256);
		w_attr_u64(w, "relocation-windows", g->reloc_windows);
		w_puts(w, "/>\n");
	}
	w_list_close(w, "regions", r->n_regions);
}

static void write_findings(struct writer *w, const struct pvsub_scan_result *r)
{
	w_list_open(w, "findings", r->n_findings);
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct pvsub_finding *f = &r->findings[i];

		w_puts(w, "    <finding");
		w_attr(w, "pattern", f->pattern ? f->pattern->id : "");
		if (f->section) {
			w_attr(w, "section", f->section);
		} else {
			w_attr_u64(w, "segment", (unsigned)f->segment);
			if (f->junction)
				w_attr_u64(w, "segment2", (unsigned)f->segment2);
		}
		w_printf(w, " offset=\"%" PRId64 "\"", f->offset);
		w_attr_u64(w, "file-offset", f->file_offset);
		w_attr_hex(w, "bytes", f->bytes, f->len);
		w_attr(w, "class", class_name(f->cls.cls));
		if (f->cls.field[0])
			w_attr(w, "field", f->cls.field);
		if (f->junction)
			w_attr_u64(w, "pad", f->pad);
		w_puts(w, "/>\n");
	}
	w_list_close(w, "findings", r->n_findings);
}

static void write_violations(struct writer *w, const struct pvsub_scan_result *r)
{
	w_list_open(w, "violations", r->n_violations);
	for (size_t i = 0; i < r->n_violations; i++) {
		const struct pvsub_violation *v = &r->violations[i];

		w_puts(w, "    <violation");
		w_attr(w, "kind", v->kind ? v->kind : "");
		w_attr(w, "detail", v->detail);
		w_puts(w, "/>\n");
	}
	w_list_close(w, "violations", r->n_violations);
}

/* A reason is a count of one finding class or one violation kind. */
struct reason {
	const char *what; /* class name or violation kind */
	bool violation;
	size_t count;
};

static int reason_cmp(const void *a, const void *b)
{
	const struct reason *x = a, *y = b;

	/* findings before violations, then by name: the order a reader scans */
	if (x->violation != y->violation)
		return x->violation ? 1 : -1;
	return strcmp(x->what, y->what);
}

static void count_reason(struct reason *rs, size_t *n, const char *what, bool violation)
{
	for (size_t i = 0; i < *n; i++) {
		if (rs[i].violation == violation && strcmp(rs[i].what, what) == 0) {
			rs[i].count++;
			return;
		}
	}
	rs[*n] = (struct reason){.what = what, .violation = violation, .count = 1};
	(*n)++;
}

/*
 * <verdict>: pvsub_verdict_of_file(), the verdict pvsub-scan reports for
 * the same file.  Unless it is plain `certified`, one <reason> per finding
 * class and violation kind, and the rewriter's refused sites.
 */
static int write_verdict(struct writer *w, const struct pvsub_scan_result *r,
			 const struct pvsub_rewrite_result *rw)
{
	struct reason *rs = NULL;
	size_t n = 0, max, refused = rw ? rw->n_refusals : 0;
	enum pvsub_verdict v = pvsub_verdict_of_file(r, rw);

	if (v == PVSUB_VERDICT_CERTIFIED) {
		w_puts(w, "  <verdict result=\"certified\"/>\n");
		return 0;
	}
	max = r->n_findings + r->n_violations;
	rs = calloc(max ? max : 1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_findings; i++)
		count_reason(rs, &n, class_name(r->findings[i].cls.cls), false);
	for (size_t i = 0; i < r->n_violations; i++)
		count_reason(rs, &n, r->violations[i].kind ? r->violations[i].kind : "", true);
	qsort(rs, n, sizeof(*rs), reason_cmp);

	w_puts(w, "  <verdict result=\"");
	w_puts(w, pvsub_verdict_name(v));
	w_puts(w, "\">\n");
	for (size_t i = 0; i < n; i++) {
		char text[160];

		if (rs[i].violation)
			snprintf(text, sizeof(text), "%zu violation%s of kind %s", rs[i].count,
				 rs[i].count == 1 ? "" : "s", rs[i].what);
		else
			snprintf(text, sizeof(text), "%zu finding%s of class %s", rs[i].count,
				 rs[i].count == 1 ? "" : "s", rs[i].what);
		w_puts(w, "    <reason>");
		if (!w->err)
			w->err = pvsub_buf_xml_string(w->out, text);
		w_puts(w, "</reason>\n");
	}
	if (refused)
		w_printf(w, "    <reason>%zu site%s refused by the rewriter</reason>\n", refused,
			 refused == 1 ? "" : "s");
	w_puts(w, "  </verdict>\n");
	free(rs);
	return 0;
}

/* <rewrites>: every change, then every refused site; the sizes when the
 * rewriter ran. */
static void write_rewrites(struct writer *w, const struct pvsub_rewrite_result *rw)
{
	char hex[2 * (PVSUB_REWRITE_MAX_SEQ + PVSUB_PATTERN_MAX) + 1];

	if (!rw || (rw->n_sites == 0 && rw->n_refusals == 0)) {
		w_list_open(w, "rewrites", 0);
		return;
	}
	w_puts(w, "  <rewrites");
	w_attr_u64(w, "size-before", rw->size_before);
	if (rw->data)
		w_attr_u64(w, "size-after", rw->size);
	w_attr_u64(w, "code-before", rw->code_before);
	if (rw->data)
		w_attr_u64(w, "code-after", rw->code_after);
	w_puts(w, ">\n");
	for (size_t i = 0; i < rw->n_sites; i++) {
		const struct pvsub_rewrite_site *s = &rw->sites[i];
		w_puts(w, "    <rewrite");
		w_attr(w, "section", s->section);
		w_attr_u64(w, "offset", s->offset);
		w_attr(w, "class", pvsub_class_name(s->cls));
		w_attr(w, "rule", s->rule);
		pvsub_hex(s->insn, s->insn_len, hex);
		w_attr(w, "original-bytes", hex);
		pvsub_hex(s->new_insn, s->new_len, hex);
		w_attr(w, "new-bytes", hex);
		w_attr(w, "pattern", s->pattern);
		pvsub_hex(s->bytes, s->len, hex);
		w_attr(w, "occurrence", hex);
		w_attr_u64(w, "new-offset", s->new_offset);
		w_attr_u64(w, "padding", s->padding);
		w_puts(w, "/>\n");
	}
	for (size_t i = 0; i < rw->n_refusals; i++) {
		w_puts(w, "    <refused");
		w_attr(w, "section", rw->refusals[i].section);
		w_attr_u64(w, "offset", rw->refusals[i].offset);
		w_attr(w, "reason", rw->refusals[i].reason);
		w_puts(w, "/>\n");
	}
	w_puts(w, "  </rewrites>\n");
}

int pvsub_manifest_write(const struct pvsub_manifest_input *in, struct pvsub_buf *out)
{
	const struct pvsub_scan_result *r = in->result;
	struct writer w = {.out = out};
	const char *elf_type;
	size_t start = out->len;
	int err;

	if (!r || !in->policy || !in->object_path || !in->tool_name || !in->tool_version)
		return -EINVAL;
	elf_type = pvsub_elf_kind_name(r->kind);

	w_puts(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	w_puts(&w, "<manifest xmlns=\"urn:pvsub:manifest:1\" version=\"1\">\n");

	w_puts(&w, "  <tool");
	w_attr(&w, "name", in->tool_name);
	w_attr(&w, "version", in->tool_version);
	w_puts(&w, "/>\n");

	write_policy(&w, in->policy);

	w_puts(&w, "  <object");
	w_attr(&w, "path", in->object_path);
	w_attr_u64(&w, "size", r->size);
	w_attr(&w, "sha256", r->sha256);
	w_attr(&w, "elf-type", elf_type ? elf_type : "unknown");
	w_attr_u64(&w, "machine", r->machine);
	w_puts(&w, "/>\n");

	if (in->original_sha256) {
		w_puts(&w, "  <original");
		w_attr(&w, "sha256", in->original_sha256);
		w_puts(&w, "/>\n");
	}
	if (r->modsig.present) {
		w_puts(&w, "  <module-signature");
		w_attr_u64(&w, "size", r->modsig.size);
		w_puts(&w, "/>\n");
	}

	write_regions(&w, r);
	write_findings(&w, r);
	write_rewrites(&w, in->rewrite);
	/* The patch-site analysis fills this; until the scan result carries
	 * the windows it is present and empty, so the document shape never
	 * depends on which features ran. */
	w_list_open(&w, "mutable-windows", 0);
	write_violations(&w, r);
	err = write_verdict(&w, r, in->rewrite);
	if (err == 0)
		w_puts(&w, "</manifest>\n");
	if (err == 0)
		err = w.err;

	if (err < 0) {
		/* never leave half a document appended */
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return err;
}

/* -------------------------------------------------------------------------- */

static bool is_element(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

static size_t attr_len(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	size_t len = v ? (size_t)xmlStrlen(v) : 0;

	xmlFree(v);
	return len;
}

static bool has(xmlNode *n, const char *name)
{
	return xmlHasProp(n, (const xmlChar *)name) != NULL;
}

static const char *finding_problem(xmlNode *e)
{
	if (has(e, "section") && has(e, "segment"))
		return "finding has both section and segment";
	if (!has(e, "section") && !has(e, "segment"))
		return "finding has neither section nor segment";
	if (has(e, "segment2") && !has(e, "segment"))
		return "finding has segment2 without segment";
	return NULL;
}

/*
 * The rules of pvsub-manifest(5) that XML Schema 1.0 cannot say: a finding
 * names exactly one of section and segment (segment2 only with segment), and
 * a pattern's value and mask have the same length.  Runs on a valid
 * document, so the element structure is known.
 */
static int check_beyond_schema(xmlDoc *doc, struct pvsub_diag *diag)
{
	xmlNode *root = xmlDocGetRootElement(doc);

	for (xmlNode *c = root ? root->children : NULL; c; c = c->next) {
		bool findings = is_element(c, "findings"), policy = is_element(c, "policy");

		for (xmlNode *e = c->children; e && (findings || policy); e = e->next) {
			const char *problem = NULL;

			if (e->type != XML_ELEMENT_NODE)
				continue;
			if (policy && attr_len(e, "value") != attr_len(e, "mask"))
				problem = "pattern value and mask differ in length";
			if (findings)
				problem = finding_problem(e);
			if (problem)
				return pvsub_diag_set(diag, EINVAL, "line %ld: %s", xmlGetLineNo(e),
						      problem);
		}
	}
	return 0;
}

/*
 * The one read of a manifest, shared by validate and read: the hardened
 * parse (libpvsub/xml), the schema, then the rules beyond it.  0 with the
 * document in *@out.
 */
static int manifest_load(const char *xml, size_t len, xmlDocPtr *out, struct pvsub_diag *diag)
{
	xmlDocPtr doc = NULL;
	int r;

	pvsub_diag_clear(diag);
	r = pvsub_xml_parse(PVSUB_XML_MANIFEST, xml, len, "manifest.xml", &doc, diag);
	if (r == 0)
		r = pvsub_xml_validate(PVSUB_XML_MANIFEST, doc, NULL, diag);
	if (r == 0)
		r = check_beyond_schema(doc, diag);
	if (r < 0) {
		xmlFreeDoc(doc);
		return r;
	}
	*out = doc;
	return 0;
}

int pvsub_manifest_validate(const char *xml, size_t len, struct pvsub_diag *diag)
{
	xmlDocPtr doc = NULL;
	int r = manifest_load(xml, len, &doc, diag);

	xmlFreeDoc(doc);
	return r;
}

/* -------------------------------------------------------------------------- */

void pvsub_manifest_info_free(struct pvsub_manifest_info *info)
{
	if (!info)
		return;
	for (size_t i = 0; i < info->n_regions; i++)
		free(info->regions[i].name);
	free(info->regions);
	free(info->object_path);
	free(info->policy_id);
	free(info);
}

/* Attribute values of a document the schema has accepted: present where
 * required, numbers in range, hashes 64 hex digits. */
static char *attr_dup(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *s = v ? strdup((const char *)v) : strdup("");

	xmlFree(v);
	return s;
}

static uint64_t attr_u64(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	uint64_t x = v ? strtoull((const char *)v, NULL, 10) : 0;

	xmlFree(v);
	return x;
}

static void attr_sha(xmlNode *n, const char *name, char out[PVSUB_SHA256_HEX_LEN])
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);

	snprintf(out, PVSUB_SHA256_HEX_LEN, "%s", v ? (const char *)v : "");
	xmlFree(v);
}

static bool attr_is(xmlNode *n, const char *name, const char *want)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	bool eq = v && strcmp((const char *)v, want) == 0;

	xmlFree(v);
	return eq;
}

/* The schema admits only the verdict tokens; anything else reads as
 * rejected, never as certified. */
static int read_verdict(xmlNode *n, struct pvsub_manifest_info *info)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)"result");

	if (!v || pvsub_verdict_parse((const char *)v, &info->verdict) < 0)
		info->verdict = PVSUB_VERDICT_REJECTED;
	xmlFree(v);
	return 0;
}

static int read_regions(xmlNode *list, struct pvsub_manifest_info *info)
{
	size_t n = 0;

	for (xmlNode *e = list->children; e; e = e->next)
		n += is_element(e, "region");
	if (!n)
		return 0;
	info->regions = calloc(n, sizeof(*info->regions));
	if (!info->regions)
		return -ENOMEM;
	for (xmlNode *e = list->children; e; e = e->next) {
		struct pvsub_manifest_region *g;

		if (!is_element(e, "region"))
			continue;
		g = &info->regions[info->n_regions++];
		g->name = attr_dup(e, "name");
		if (!g->name)
			return -ENOMEM;
		g->is_segment = attr_is(e, "kind", "segment");
		g->file_offset = attr_u64(e, "file-offset");
		g->size = attr_u64(e, "size");
		attr_sha(e, "sha256", g->sha256);
	}
	return 0;
}

int pvsub_manifest_read(const char *xml, size_t len, struct pvsub_manifest_info **out,
			struct pvsub_diag *diag)
{
	struct pvsub_manifest_info *info = NULL;
	xmlDocPtr doc = NULL;
	xmlNode *root;
	int r;

	r = manifest_load(xml, len, &doc, diag);
	if (r < 0)
		return r;
	root = xmlDocGetRootElement(doc);
	info = calloc(1, sizeof(*info));
	if (!info) {
		r = -ENOMEM;
		goto out;
	}
	/* Never certified by default. */
	info->verdict = PVSUB_VERDICT_REJECTED;
	for (xmlNode *c = root->children; c && r == 0; c = c->next) {
		if (is_element(c, "policy")) {
			info->policy_id = attr_dup(c, "id");
			info->policy_version = attr_u64(c, "version");
			attr_sha(c, "sha256", info->policy_sha256);
			if (!info->policy_id)
				r = -ENOMEM;
		} else if (is_element(c, "object")) {
			info->object_path = attr_dup(c, "path");
			info->object_size = attr_u64(c, "size");
			attr_sha(c, "sha256", info->object_sha256);
			if (!info->object_path)
				r = -ENOMEM;
		} else if (is_element(c, "regions")) {
			r = read_regions(c, info);
		} else if (is_element(c, "verdict")) {
			r = read_verdict(c, info);
		}
	}
	if (r < 0)
		goto out;
	*out = info;
	info = NULL;
out:
	pvsub_manifest_info_free(info);
	xmlFreeDoc(doc);
	return r;
}
