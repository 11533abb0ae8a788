/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xinclude.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "libpvsub/schemas.h"
#include "libpvsub/xml.h"

/* Parser options for every document.  Never XML_PARSE_NOENT,
 * XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR, XML_PARSE_DTDVALID,
 * XML_PARSE_XINCLUDE or XML_PARSE_HUGE. */
#define PARSE_OPTIONS                                                                              \
	(XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |           \
	 XML_PARSE_BIG_LINES)

struct format {
	const char *root, *ns; /* the root element and its namespace */
	const char *plural;    /* "policy files": what DTDs are not allowed in */
	const char *schema;    /* "policy": whose schema a document breaks */
	const char *xsd;
	const size_t *xsd_len;
	size_t max_size;
	/* Another root the schema declares (the image manifest), or NULL. */
	const char *alt_root;
};

static const struct format formats[] = {
	[PVSUB_XML_POLICY] = {"policy", "urn:pvsub:policy:1", "policy files", "policy",
			      pvsub_schema_policy_xsd, &pvsub_schema_policy_xsd_len, 1u << 20},
	[PVSUB_XML_MANIFEST] = {"manifest", "urn:pvsub:manifest:1", "manifests", "manifest",
				pvsub_schema_manifest_xsd, &pvsub_schema_manifest_xsd_len,
				64u << 20, "image-manifest"},
};

size_t pvsub_xml_max_size(enum pvsub_xml_format format)
{
	return formats[format].max_size;
}

/* --- errors ---------------------------------------------------------------------- */

#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_arg;
#else
typedef xmlErrorPtr xml_error_arg;
#endif

/* What one stage (parse, schema compilation, validation) ran into: the
 * first error only, later ones are usually consequences of it. */
struct errors {
	const struct format *f;
	bool seen;
	struct pvsub_xml_error first;
	char msg[PVSUB_DIAG_MAX];
	/* the parser stopped at a document type declaration, on this line */
	bool doctype;
	long doctype_line;
};

/* Drop the format's own namespace from messages: every element of a valid
 * document has it, so it only makes them longer. */
static void strip_namespace(char *s, const char *ns)
{
	char braced[64];
	size_t n;
	char *hit;

	n = (size_t)snprintf(braced, sizeof(braced), "{%s}", ns);
	if (n >= sizeof(braced))
		return;
	while ((hit = strstr(s, braced)))
		memmove(hit, hit + n, strlen(hit + n) + 1);
}

static void record(struct errors *e, xml_error_arg err)
{
	size_t len;

	if (!e || !err || err->level < XML_ERR_ERROR)
		return;
	/* An encoding error comes without a line, ahead of the parser; the
	 * parser then stops where the bad bytes are: take its line. */
	if (e->seen && e->first.line <= 0 && err->line > 0)
		e->first.line = err->line;
	if (e->seen)
		return;
	e->seen = true;
	e->first.code = err->code;
	e->first.line = err->line;
	e->first.node = err->node;
	snprintf(e->msg, sizeof(e->msg), "%s", err->message ? err->message : "unknown error");
	/* One line: libxml2 messages end in a newline, some have two lines
	 * ("Input is not proper UTF-8...\nBytes: ..."), and they may quote
	 * the document, whose control characters must not reach a terminal. */
	for (char *c = e->msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	len = strlen(e->msg);
	while (len && e->msg[len - 1] == ' ')
		e->msg[--len] = '\0';
	if (e->f)
		strip_namespace(e->msg, e->f->ns);
}

/* Schema contexts hand their own data pointer back. */
static void on_error(void *data, xml_error_arg err)
{
	record(data, err);
}

/* The parser context hands back its userData, which is the context. */
static void on_parser_error(void *data, xml_error_arg err)
{
	xmlParserCtxtPtr ctxt = data;

	record(ctxt ? ctxt->_private : NULL, err);
}

static void ignore_generic(void *data, const char *fmt, ...)
{
	/* Never printed: anything useful also arrives structured. */
	(void)data;
	(void)fmt;
}

static int fail(struct pvsub_diag *diag, const struct errors *e, const char *fallback)
{
	if (!e->seen)
		return pvsub_diag_set(diag, EINVAL, "%s", fallback);
	if (e->first.line > 0)
		return pvsub_diag_set(diag, EINVAL, "line %ld: %s", e->first.line, e->msg);
	return pvsub_diag_set(diag, EINVAL, "%s", e->msg);
}

/* --- one-time set-up: libxml2, and the schemas ------------------------------------ */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static struct compiled {
	bool done;	     /* compiled, or tried */
	xmlSchemaPtr schema; /* NULL when it did not compile */
	char error[PVSUB_DIAG_MAX];
} compiled[PVSUB_ARRAY_SIZE(formats)];
/* Held while a schema is compiled: libxml2 2.9.14's xmlSchemaParse() sets
 * up its table of built-in types on first use without a lock, so no two
 * compilations may ever run at the same time.  A schema is compiled only
 * when a document of its format is first validated (pvsub-loader reads
 * manifests, never policies, and pays for one compilation); afterwards
 * the schemas and that table are only read. */
static pthread_mutex_t compile_lock = PTHREAD_MUTEX_INITIALIZER;

static void compile(enum pvsub_xml_format format)
{
	const struct format *f = &formats[format];
	struct compiled *c = &compiled[format];
	struct errors e = {.f = f};
	xmlSchemaParserCtxtPtr pctxt;

	pctxt = xmlSchemaNewMemParserCtxt(f->xsd, (int)*f->xsd_len);
	if (!pctxt) {
		snprintf(c->error, sizeof(c->error), "out of memory");
		return;
	}
	xmlSchemaSetParserStructuredErrors(pctxt, on_error, &e);
	c->schema = xmlSchemaParse(pctxt);
	if (!c->schema)
		snprintf(c->error, sizeof(c->error), "%s", e.seen ? e.msg : "does not compile");
	xmlSchemaFreeParserCtxt(pctxt);
}

/* The schema of @format, compiled by the first caller; others wait for it. */
static xmlSchemaPtr schema_of(enum pvsub_xml_format format, struct pvsub_diag *diag)
{
	struct compiled *c = &compiled[format];
	xmlSchemaPtr schema;

	pthread_once(&init_once, xmlInitParser);
	pthread_mutex_lock(&compile_lock);
	if (!c->done) {
		compile(format);
		c->done = true;
	}
	schema = c->schema;
	pthread_mutex_unlock(&compile_lock);
	if (!schema)
		pvsub_diag_set(diag, EIO, "internal error: the built-in %s schema: %s",
			       formats[format].schema, c->error);
	return schema;
}

/* --- parsing ----------------------------------------------------------------------- */

/* The DOCTYPE callback runs before any markup declaration of the internal
 * subset is parsed, so stopping here means no entity is ever declared and
 * no external subset is ever opened. */
static void refuse_doctype(void *data, const xmlChar *name, const xmlChar *external_id,
			   const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = data;
	struct errors *e = ctxt->_private;

	(void)name;
	(void)external_id;
	(void)system_id;
	e->doctype = true;
	e->doctype_line = ctxt->input ? ctxt->input->line : 0;
	xmlStopParser(ctxt);
}

static bool is_xinclude(const xmlNode *n)
{
	return n->ns && n->ns->href &&
	       (xmlStrEqual(n->ns->href, XINCLUDE_NS) || xmlStrEqual(n->ns->href, XINCLUDE_OLD_NS));
}

/* The first element in an XInclude namespace, in document order. */
static xmlNodePtr find_xinclude(xmlNodePtr root)
{
	for (xmlNodePtr n = root; n;) {
		if (n->type == XML_ELEMENT_NODE && is_xinclude(n))
			return n;
		if (n->type == XML_ELEMENT_NODE && n->children) {
			n = n->children;
			continue;
		}
		while (n != root && !n->next)
			n = n->parent;
		if (n == root)
			return NULL;
		n = n->next;
	}
	return NULL;
}

static int check_root(const struct format *f, xmlNodePtr root, struct pvsub_diag *diag)
{
	const char *href;
	char qname[160], qns[160] = "";

	if (!root)
		return pvsub_diag_set(diag, EINVAL, "document has no root element");
	href = root->ns && root->ns->href ? (const char *)root->ns->href : NULL;
	if (href && strcmp(href, f->ns) == 0 &&
	    (strcmp((const char *)root->name, f->root) == 0 ||
	     (f->alt_root && strcmp((const char *)root->name, f->alt_root) == 0)))
		return 0;
	pvsub_quote((const char *)root->name, strlen((const char *)root->name), qname,
		    sizeof(qname));
	if (href)
		pvsub_quote(href, strlen(href), qns, sizeof(qns));
	return pvsub_diag_set(
		diag, EINVAL, "line %ld: root element must be <%s xmlns=\"%s\">, not <%s> %s%s%s",
		xmlGetLineNo(root), f->root, f->ns, qname,
		href ? "in namespace '" : "without a namespace", qns, href ? "'" : "");
}

int pvsub_xml_parse(enum pvsub_xml_format format, const char *xml, size_t len, const char *name,
		    xmlDocPtr *out, struct pvsub_diag *diag)
{
	const struct format *f = &formats[format];
	struct errors e = {.f = f};
	xmlStructuredErrorFunc saved_structured;
	xmlGenericErrorFunc saved_generic;
	void *saved_structured_ctx, *saved_generic_ctx;
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr xi;
	int r;

	*out = NULL;
	pthread_once(&init_once, xmlInitParser);
	if (len > f->max_size || len > INT_MAX)
		return pvsub_diag_set(diag, EINVAL, "document too large (%zu bytes, at most %zu)",
				      len, f->max_size);

	ctxt = xmlNewParserCtxt();
	if (!ctxt || !ctxt->sax) {
		xmlFreeParserCtxt(ctxt);
		return pvsub_diag_set(diag, ENOMEM, "out of memory");
	}
	ctxt->sax->internalSubset = refuse_doctype;
	ctxt->sax->externalSubset = NULL;
	ctxt->sax->serror = on_parser_error;
	ctxt->_private = &e;

	/* Only for libxml2's context-free encoding errors; this thread's
	 * own handlers, put back right after (see xml.h). */
	saved_structured = xmlStructuredError;
	saved_structured_ctx = xmlStructuredErrorContext;
	saved_generic = xmlGenericError;
	saved_generic_ctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(&e, on_error);
	xmlSetGenericErrorFunc(NULL, ignore_generic);
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, name, NULL, PARSE_OPTIONS);
	xmlSetGenericErrorFunc(saved_generic_ctx, saved_generic);
	xmlSetStructuredErrorFunc(saved_structured_ctx, saved_structured);

	if (e.doctype || (doc && (doc->intSubset || doc->extSubset))) {
		if (e.doctype_line > 0)
			r = pvsub_diag_set(diag, EINVAL, "line %ld: DTDs are not allowed in %s",
					   e.doctype_line, f->plural);
		else
			r = pvsub_diag_set(diag, EINVAL, "DTDs are not allowed in %s", f->plural);
		goto out;
	}
	if (!doc || !ctxt->wellFormed || !ctxt->nsWellFormed) {
		r = fail(diag, &e, "not well-formed XML");
		goto out;
	}
	r = check_root(f, xmlDocGetRootElement(doc), diag);
	if (r < 0)
		goto out;
	xi = find_xinclude(xmlDocGetRootElement(doc));
	if (xi) {
		r = pvsub_diag_set(diag, EINVAL, "line %ld: XInclude is not allowed in %s",
				   xmlGetLineNo(xi), f->plural);
		goto out;
	}
	*out = doc;
	doc = NULL;
out:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return r;
}

/* --- validation -------------------------------------------------------------------- */

int pvsub_xml_validate(enum pvsub_xml_format format, xmlDocPtr doc, struct pvsub_xml_error *err,
		       struct pvsub_diag *diag)
{
	const struct format *f = &formats[format];
	struct errors e = {.f = f};
	char fallback[64];
	xmlSchemaValidCtxtPtr vctxt;
	xmlSchemaPtr schema;
	int r;

	if (err)
		*err = (struct pvsub_xml_error){0};
	schema = schema_of(format, diag);
	if (!schema)
		return -EIO;
	vctxt = xmlSchemaNewValidCtxt(schema);
	if (!vctxt)
		return pvsub_diag_set(diag, ENOMEM, "out of memory");
	xmlSchemaSetValidStructuredErrors(vctxt, on_error, &e);
	r = xmlSchemaValidateDoc(vctxt, doc);
	xmlSchemaFreeValidCtxt(vctxt);
	if (r < 0)
		return pvsub_diag_set(diag, EIO,
				      "internal error while validating against the %s "
				      "schema",
				      f->schema);
	if (r == 0)
		return 0;
	if (err)
		*err = e.first;
	snprintf(fallback, sizeof(fallback), "not valid against the %s schema", f->schema);
	return fail(diag, &e, fallback);
}
