/* SPDX-License-Identifier: MIT */
/*
 * xml: the one hardened reader of every XML document libpvsub takes in:
 * policy files (policy.c) and subtraction manifests (manifest.c, and
 * through it pvsub-sign verify and bundle).  Nothing else in libpvsub
 * parses XML.
 *
 * For every format it holds to the same rules:
 *
 *  - No DTD is ever loaded or honoured.  The parser stops at the document
 *    type declaration itself, before any declaration of an internal subset
 *    is read, so no entity is ever declared, internal or external, and the
 *    document is refused with one line ("DTDs are not allowed in ...").
 *  - Nothing outside the given bytes is read: no external entity (none can
 *    be declared), no external DTD, no network (XML_PARSE_NONET), no
 *    XInclude (never processed, and an element in either XInclude
 *    namespace is refused), no xsi:schemaLocation (validation uses only
 *    the schema compiled into the library).
 *  - Size-bounded: each format has a maximum document size, and libxml2's
 *    own limits on names, text and nesting stay on (no XML_PARSE_HUGE).
 *  - Errors are one line, "line N: message" (control characters become
 *    spaces, the format's own namespace is left out of element names).
 *    The file is not named: callers print `program: path: message`.
 *  - Each schema is compiled once per process, on the first validation
 *    of a document of its format (one at a time, under a lock, as libxml2
 *    2.9.14 cannot compile two schemas at the same time), and then shared
 *    read-only by all threads, each with its own validation context.
 *  - libxml2's error handlers and entity loader are left as they are:
 *    errors arrive through the structured-error hooks of the parser
 *    context and of the schema contexts.  libxml2 2.9.14 reports a few
 *    encoding conversion errors without any context, through the calling
 *    thread's own handlers (its "global" ones, which print to stderr); for
 *    the duration of the parse only, the calling thread's structured and
 *    generic handlers are pointed at this reader and then put back, so
 *    that nothing is printed and no other thread is affected.
 *
 * Every function here may be called from any thread at any time.
 */
#ifndef PVSUB_XML_H
#define PVSUB_XML_H

#include <stddef.h>

#include <libxml/tree.h>

#include "libpvsub/util.h"

/* The XML formats libpvsub reads, each with its compiled-in schema. */
enum pvsub_xml_format {
	PVSUB_XML_POLICY, /* <policy xmlns="urn:pvsub:policy:1">, at most 1 MiB */
	/* <manifest xmlns="urn:pvsub:manifest:1"> or <image-manifest> in the
	 * same namespace, at most 64 MiB */
	PVSUB_XML_MANIFEST,
};

/* The largest document of @format that is read, in bytes. */
size_t pvsub_xml_max_size(enum pvsub_xml_format format);

/* The first error a validation stopped at. */
struct pvsub_xml_error {
	int code;	 /* libxml2's xmlParserErrors value; 0 if none */
	long line;	 /* 0 if unknown */
	xmlNodePtr node; /* the node it is about (inside the document), or NULL */
};

/*
 * Parse @len bytes at @xml as a document of @format under the rules above:
 * well-formed, namespace-well-formed, no document type declaration, no
 * XInclude element, and the root element and namespace of @format.  @name
 * becomes the document's URL; nothing is resolved against it.  0 with a
 * new document in *@out (free with xmlFreeDoc()); -EINVAL with one line in
 * @diag; -ENOMEM.
 */
int pvsub_xml_parse(enum pvsub_xml_format format, const char *xml, size_t len, const char *name,
		    xmlDocPtr *out, struct pvsub_diag *diag) _must_check_ _nonnull_(2, 5);

/*
 * Validate @doc (from pvsub_xml_parse() with the same @format) against the
 * schema of @format.  0; -EINVAL with the first problem in @diag and, when
 * @err is not NULL, in @err (its node points into @doc); -EIO when the
 * built-in schema does not compile (a build bug) or validation fails
 * internally; -ENOMEM.
 */
int pvsub_xml_validate(enum pvsub_xml_format format, xmlDocPtr doc, struct pvsub_xml_error *err,
		       struct pvsub_diag *diag) _must_check_ _nonnull_(2);

#endif
