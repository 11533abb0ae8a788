/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "libpvsub/manifest_read.h"
#include "libpvsub/xml.h"

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
	free(info->patterns);
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

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The bytes of a pattern's @name attribute into @out; their count, or -1
 * for anything the schema's patternBytes does not admit. */
static int attr_pattern_bytes(xmlNode *n, const char *name, uint8_t out[PVSUB_PATTERN_MAX])
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	const char *s = (const char *)v;
	size_t len = v ? strlen(s) : 0;
	int count = (len % 2 || len == 0 || len > 2 * PVSUB_PATTERN_MAX) ? -1 : (int)(len / 2);

	for (int i = 0; i < count; i++) {
		int hi = hex_nibble(s[2 * i]), lo = hex_nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			count = -1;
			break;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	xmlFree(v);
	return count;
}

/* One <pattern> of the <policy>; -EINVAL for bytes the schema and
 * check_beyond_schema() should have refused (defence in depth: a pattern
 * read wrongly could make a policy look like it covers a profile). */
static int read_pattern(xmlNode *e, struct pvsub_pattern *p)
{
	xmlChar *id = xmlGetProp(e, (const xmlChar *)"id");
	int len = attr_pattern_bytes(e, "value", p->value);
	int mlen = attr_pattern_bytes(e, "mask", p->mask);

	snprintf(p->id, sizeof(p->id), "%s", id ? (const char *)id : "");
	xmlFree(id);
	if (len < 0 || len != mlen)
		return -EINVAL;
	p->len = (uint8_t)len;
	return 0;
}

static int read_patterns(xmlNode *policy, struct pvsub_manifest_info *info)
{
	size_t n = 0;
	int r = 0;

	for (xmlNode *e = policy->children; e; e = e->next)
		n += is_element(e, "pattern");
	if (!n)
		return 0;
	info->patterns = calloc(n, sizeof(*info->patterns));
	if (!info->patterns)
		return -ENOMEM;
	for (xmlNode *e = policy->children; e && r == 0; e = e->next)
		if (is_element(e, "pattern"))
			r = read_pattern(e, &info->patterns[info->n_patterns++]);
	return r;
}

static int read_policy(xmlNode *c, struct pvsub_manifest_info *info)
{
	info->policy_id = attr_dup(c, "id");
	info->policy_version = attr_u64(c, "version");
	attr_sha(c, "sha256", info->policy_sha256);
	if (!info->policy_id)
		return -ENOMEM;
	return read_patterns(c, info);
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
	info->image = is_element(root, "image-manifest");
	for (xmlNode *c = root->children; c && r == 0; c = c->next) {
		if (is_element(c, "policy")) {
			r = read_policy(c, info);
		} else if (is_element(c, "object") || is_element(c, "image")) {
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
	if (r == -EINVAL)
		pvsub_diag_set(diag, r, "policy pattern bytes that cannot be read");
	if (r < 0)
		goto out;
	*out = info;
	info = NULL;
out:
	pvsub_manifest_info_free(info);
	xmlFreeDoc(doc);
	return r;
}
