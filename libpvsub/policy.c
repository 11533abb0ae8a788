/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "libpvsub/policy.h"
#include "libpvsub/xml.h"

#define POLICY_NS "urn:pvsub:policy:1"
#define POLICY_ID_MAX 255
#define CANONICAL_MAGIC "pvsub-policy-canonical 1"

struct pvsub_policy {
	char *id;
	unsigned long version;
	enum pvsub_on_instruction on_instruction;
	struct pvsub_pattern *pats;
	size_t n;
	char sha256[PVSUB_SHA256_HEX_LEN];
};

/* --- byte tokens ----------------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Two hex digits at @s (which has at least 2 chars) into *@out. */
static bool parse_hex_byte(const char *s, uint8_t *out)
{
	int hi = hex_digit(s[0]), lo = hex_digit(s[1]);

	if (hi < 0 || lo < 0)
		return false;
	*out = (uint8_t)(hi << 4 | lo);
	return true;
}

static bool valid_id(const char *id, size_t max)
{
	size_t len = strlen(id);

	if (len == 0 || len > max)
		return false;
	for (const char *p = id; *p; p++) {
		char c = *p;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

/* A `/N` or `/Nm` token: *@reg = N, *@mem = whether only memory forms. */
static bool parse_modrm_token(const char *t, size_t len, unsigned *reg, bool *mem)
{
	if (len < 2 || len > 3 || t[0] != '/' || t[1] < '0' || t[1] > '7')
		return false;
	if (len == 3 && t[2] != 'm' && t[2] != 'M')
		return false;
	*reg = (unsigned)(t[1] - '0');
	*mem = len == 3;
	return true;
}

int pvsub_pattern_compile(const char *id, const char *expr, struct pvsub_pattern **pats, size_t *n,
			  struct pvsub_diag *diag)
{
	uint8_t value[PVSUB_PATTERN_MAX], mask[PVSUB_PATTERN_MAX];
	char qid[PVSUB_PATTERN_ID_MAX * 4 + 8], qtok[160];
	struct pvsub_pattern *grown;
	bool have_modrm = false, modrm_mem = false, any_mask = false;
	unsigned modrm_reg = 0;
	size_t len = 0, count;
	const char *p = expr;

	pvsub_quote(id, strlen(id), qid, sizeof(qid));
	if (!valid_id(id, PVSUB_PATTERN_ID_MAX - 1))
		return pvsub_diag_set(diag, EINVAL,
				      "pattern id '%s' is not valid (1 to %d characters of "
				      "A-Z a-z 0-9 . _ : -)",
				      qid, PVSUB_PATTERN_ID_MAX - 1);

	for (;;) {
		const char *tok;
		size_t tlen;

		while (is_space(*p))
			p++;
		if (!*p)
			break;
		tok = p;
		while (*p && !is_space(*p))
			p++;
		tlen = (size_t)(p - tok);
		pvsub_quote(tok, tlen, qtok, sizeof(qtok));

		if (have_modrm)
			return pvsub_diag_set(diag, EINVAL,
					      "pattern '%s': token '%s' after the ModRM token; "
					      "/N and /Nm must come last",
					      qid, qtok);
		if (len == PVSUB_PATTERN_MAX)
			return pvsub_diag_set(diag, EINVAL,
					      "pattern '%s': more than %d bytes (at token '%s')",
					      qid, PVSUB_PATTERN_MAX, qtok);

		if (tlen == 2 && tok[0] == '?' && tok[1] == '?') {
			value[len] = 0;
			mask[len] = 0;
		} else if (tlen == 2 && parse_hex_byte(tok, &value[len])) {
			mask[len] = 0xff;
		} else if (tlen == 5 && tok[2] == '/' && parse_hex_byte(tok, &value[len]) &&
			   parse_hex_byte(tok + 3, &mask[len])) {
			/*
			 * Silently masking the stray bits off would turn a typo
			 * into a different pattern than the author meant.
			 */
			if (value[len] & ~mask[len])
				return pvsub_diag_set(diag, EINVAL,
						      "pattern '%s': token '%s' has value bits "
						      "outside its mask",
						      qid, qtok);
		} else if (parse_modrm_token(tok, tlen, &modrm_reg, &modrm_mem)) {
			have_modrm = true;
			value[len] = (uint8_t)(modrm_reg << 3);
			mask[len] = modrm_mem ? 0xf8 : 0x38;
		} else {
			return pvsub_diag_set(diag, EINVAL,
					      "pattern '%s': bad token '%s' (expected HH, ??, "
					      "HH/MM, /N or /Nm)",
					      qid, qtok);
		}
		if (mask[len])
			any_mask = true;
		len++;
	}

	if (len == 0)
		return pvsub_diag_set(diag, EINVAL, "pattern '%s' has no bytes", qid);
	if (!any_mask)
		return pvsub_diag_set(diag, EINVAL,
				      "pattern '%s' is only wildcards and would match everywhere",
				      qid);

	/* ModRM mod 11 is a register operand; /Nm keeps mod 00, 01 and 10. */
	count = have_modrm && modrm_mem ? 3 : 1;
	if (*n > SIZE_MAX / sizeof(**pats) - count)
		return -ENOMEM;
	grown = realloc(*pats, (*n + count) * sizeof(**pats));
	if (!grown)
		return -ENOMEM;
	*pats = grown;
	for (size_t k = 0; k < count; k++) {
		struct pvsub_pattern *pat = &grown[*n + k];

		memset(pat, 0, sizeof(*pat));
		strcpy(pat->id, id);
		pat->len = (uint8_t)len;
		memcpy(pat->value, value, len);
		memcpy(pat->mask, mask, len);
		if (count == 3)
			pat->value[len - 1] = (uint8_t)(k << 6 | modrm_reg << 3);
	}
	*n += count;
	return 0;
}

void pvsub_pattern_format(const struct pvsub_pattern *p, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (unsigned i = 0; i < p->len && i < PVSUB_PATTERN_MAX; i++) {
		char tok[8];
		size_t tlen;

		if (p->mask[i] == 0xff)
			snprintf(tok, sizeof(tok), "%s%02x", i ? " " : "", p->value[i]);
		else if (p->mask[i] == 0)
			snprintf(tok, sizeof(tok), "%s??", i ? " " : "");
		else
			snprintf(tok, sizeof(tok), "%s%02x/%02x", i ? " " : "", p->value[i],
				 p->mask[i]);
		tlen = strlen(tok);
		/* Whole tokens only: a cut token would read as a different byte. */
		if (o + tlen >= outlen)
			break;
		memcpy(out + o, tok, tlen + 1);
		o += tlen;
	}
}

static bool covers_at(const struct pvsub_pattern *have, const struct pvsub_pattern *want, size_t k)
{
	for (size_t i = 0; i < have->len; i++) {
		uint8_t m = have->mask[i];

		if ((want->mask[k + i] & m) != m || (want->value[k + i] & m) != have->value[i])
			return false;
	}
	return true;
}

static bool all_wildcards(const struct pvsub_pattern *p)
{
	for (size_t i = 0; i < p->len; i++)
		if (p->mask[i])
			return false;
	return true;
}

bool pvsub_pattern_covers(const struct pvsub_pattern *have, const struct pvsub_pattern *want)
{
	/* A pattern of wildcards only is never compiled; one read from a
	 * manifest covers nothing rather than everything. */
	if (have->len == 0 || have->len > want->len || have->len > PVSUB_PATTERN_MAX ||
	    want->len > PVSUB_PATTERN_MAX || all_wildcards(have))
		return false;
	for (size_t k = 0; k + have->len <= want->len; k++)
		if (covers_at(have, want, k))
			return true;
	return false;
}

/* --- built-in profiles -------------------------------------------------------- */

struct builtin_pattern {
	const char *id;
	const char *expr;
};

static const struct builtin_pattern vmfunc_patterns[] = {
	{"vmfunc", "0f 01 d4"},
	{NULL, NULL},
};

static const struct builtin_pattern pku_patterns[] = {
	{"wrpkru", "0f 01 ef"},
	{"xrstor", "0f ae /5m"},
	{"xrstors", "0f c7 /3m"},
	{NULL, NULL},
};

static const struct builtin_pattern syscall_patterns[] = {
	{"syscall", "0f 05"},
	{"sysenter", "0f 34"},
	{"int80", "cd 80"},
	{NULL, NULL},
};

struct builtin_profile {
	const char *name;
	const char *description;
	const struct builtin_pattern *parts[3];
};

static const struct builtin_profile builtin_profiles[] = {
	{"vmfunc", "VMFUNC (0f 01 d4): guests in VMs with EPT-view gates", {vmfunc_patterns, NULL}},
	{"pku",
	 "WRPKRU (0f 01 ef), XRSTOR (0f ae /5m), XRSTORS (0f c7 /3m): "
	 "user-space gates with protection keys",
	 {pku_patterns, NULL}},
	{"syscall",
	 "SYSCALL (0f 05), SYSENTER (0f 34), INT 80h (cd 80): "
	 "drivers that reach the kernel only through the runtime",
	 {syscall_patterns, NULL}},
	{"default", "vmfunc + pku: every gate opcode", {vmfunc_patterns, pku_patterns, NULL}},
};

static const char *const builtin_names[] = {"vmfunc", "pku", "syscall", "default", NULL};

const char *const *pvsub_policy_builtin_names(void)
{
	return builtin_names;
}

static const struct builtin_profile *find_builtin(const char *name)
{
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(builtin_profiles); i++)
		if (strcmp(builtin_profiles[i].name, name) == 0)
			return &builtin_profiles[i];
	return NULL;
}

const char *pvsub_policy_builtin_description(const char *name)
{
	const struct builtin_profile *b = name ? find_builtin(name) : NULL;

	return b ? b->description : NULL;
}

static int append_builtin(const struct builtin_profile *b, struct pvsub_pattern **pats, size_t *n,
			  struct pvsub_diag *diag)
{
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(b->parts) && b->parts[i]; i++) {
		for (const struct builtin_pattern *bp = b->parts[i]; bp->id; bp++) {
			int r = pvsub_pattern_compile(bp->id, bp->expr, pats, n, diag);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* --- the policy object ---------------------------------------------------------- */

static int write_canonical(const char *id, unsigned long version, enum pvsub_on_instruction on,
			   const struct pvsub_pattern *pats, size_t n, struct pvsub_buf *out)
{
	int r;

	r = pvsub_buf_printf(out, CANONICAL_MAGIC "\nid %s\nversion %lu\non-instruction %s\n", id,
			     version, pvsub_on_instruction_name(on));
	for (size_t i = 0; i < n && r == 0; i++) {
		char value[2 * PVSUB_PATTERN_MAX + 1], mask[2 * PVSUB_PATTERN_MAX + 1];

		pvsub_hex(pats[i].value, pats[i].len, value);
		pvsub_hex(pats[i].mask, pats[i].len, mask);
		r = pvsub_buf_printf(out, "pattern %s %s %s\n", pats[i].id, value, mask);
	}
	return r;
}

/* Takes ownership of @pats whatever happens. */
static int policy_new(const char *id, unsigned long version, enum pvsub_on_instruction on,
		      struct pvsub_pattern *pats, size_t n, struct pvsub_policy **out,
		      struct pvsub_diag *diag)
{
	struct pvsub_buf canon = {0};
	struct pvsub_policy *p = NULL;
	int r;

	if (n == 0) {
		r = pvsub_diag_set(diag, EINVAL, "policy has no patterns");
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	p->id = strdup(id);
	if (!p->id) {
		r = -ENOMEM;
		goto out;
	}
	p->version = version;
	p->on_instruction = on;
	p->pats = pats;
	p->n = n;
	pats = NULL;

	r = write_canonical(p->id, p->version, p->on_instruction, p->pats, p->n, &canon);
	if (r < 0)
		goto out;
	r = pvsub_sha256_hex(canon.data, canon.len, p->sha256);
	if (r < 0) {
		pvsub_diag_set(diag, r, "cannot hash the policy's canonical form");
		goto out;
	}
	*out = p;
	p = NULL;
out:
	pvsub_buf_release(&canon);
	pvsub_policy_free(p);
	free(pats);
	return r;
}

void pvsub_policy_free(struct pvsub_policy *p)
{
	if (!p)
		return;
	free(p->pats);
	free(p->id);
	free(p);
}

int pvsub_policy_new_builtin(const char *name, struct pvsub_policy **out, struct pvsub_diag *diag)
{
	const struct builtin_profile *b = find_builtin(name);
	struct pvsub_pattern *pats = NULL;
	char id[64];
	size_t n = 0;
	int r;

	if (!b) {
		char qname[160];

		pvsub_quote(name, strlen(name), qname, sizeof(qname));
		return pvsub_diag_set(diag, ENOENT, "no such built-in policy '%s'", qname);
	}
	r = append_builtin(b, &pats, &n, diag);
	if (r < 0) {
		free(pats);
		return r;
	}
	snprintf(id, sizeof(id), "builtin:%s", b->name);
	return policy_new(id, 1, PVSUB_ON_INSTRUCTION_REJECT, pats, n, out, diag);
}

const char *pvsub_policy_id(const struct pvsub_policy *p)
{
	return p->id;
}

unsigned long pvsub_policy_version(const struct pvsub_policy *p)
{
	return p->version;
}

enum pvsub_on_instruction pvsub_policy_on_instruction(const struct pvsub_policy *p)
{
	return p->on_instruction;
}

const char *pvsub_on_instruction_name(enum pvsub_on_instruction a)
{
	switch (a) {
	case PVSUB_ON_INSTRUCTION_REJECT:
		return "reject";
	case PVSUB_ON_INSTRUCTION_TRAP:
		return "trap";
	}
	return "unknown";
}

const struct pvsub_pattern *pvsub_policy_patterns(const struct pvsub_policy *p, size_t *n)
{
	*n = p->n;
	return p->pats;
}

int pvsub_policy_canonical(const struct pvsub_policy *p, struct pvsub_buf *out)
{
	return write_canonical(p->id, p->version, p->on_instruction, p->pats, p->n, out);
}

const char *pvsub_policy_sha256_hex(const struct pvsub_policy *p)
{
	return p->sha256;
}

/* --- XML (read through libpvsub/xml: see xml.h for the hardening) ------------------ */

static bool is_policy_element(xmlNodePtr node, const char *name)
{
	return node && node->type == XML_ELEMENT_NODE && node->ns && node->ns->href &&
	       strcmp((const char *)node->ns->href, POLICY_NS) == 0 &&
	       strcmp((const char *)node->name, name) == 0;
}

/*
 * The schema rejects a bad `bytes` value with its whole regular expression
 * in the message.  The compiler can say which token is wrong, so ask it.
 * @elem is the element the schema error is about, also for attribute
 * errors.  Returns true if it explained the error.
 */
static bool explain_bytes_error(xmlNodePtr elem, struct pvsub_diag *diag)
{
	struct pvsub_pattern *tmp = NULL;
	xmlChar *id = NULL, *bytes = NULL;
	struct pvsub_diag d = {{0}};
	size_t n = 0;
	bool explained = false;

	if (!is_policy_element(elem, "pattern"))
		return false;
	id = xmlGetNoNsProp(elem, BAD_CAST "id");
	bytes = xmlGetNoNsProp(elem, BAD_CAST "bytes");
	/* With a bad id the compiler would only complain about the id. */
	if (id && bytes && valid_id((char *)id, PVSUB_PATTERN_ID_MAX - 1) &&
	    pvsub_pattern_compile((char *)id, (char *)bytes, &tmp, &n, &d) == -EINVAL) {
		pvsub_diag_set(diag, EINVAL, "line %ld: %s", xmlGetLineNo(elem), d.msg);
		explained = true;
	}
	free(tmp);
	xmlFree(bytes);
	xmlFree(id);
	return explained;
}

/* An xs:nonNegativeInteger (already valid against the schema) as unsigned long. */
static int parse_version(const char *s, unsigned long *out, long line, struct pvsub_diag *diag)
{
	unsigned long v = 0;
	const char *p = s, *digits;
	char q[160];

	while (is_space(*p))
		p++;
	if (*p == '+')
		p++;
	digits = p;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (ULONG_MAX - d) / 10) {
			pvsub_quote(s, strlen(s), q, sizeof(q));
			return pvsub_diag_set(diag, EINVAL,
					      "line %ld: version '%s' is too large (at most %lu)",
					      line, q, ULONG_MAX);
		}
		v = v * 10 + d;
	}
	while (is_space(*p))
		p++;
	if (p == digits || *p) {
		pvsub_quote(s, strlen(s), q, sizeof(q));
		return pvsub_diag_set(diag, EINVAL, "line %ld: version '%s' is not a number", line,
				      q);
	}
	*out = v;
	return 0;
}

/* Walk a document that is valid against the schema into a policy. */
static int policy_from_doc(xmlDocPtr doc, struct pvsub_policy **out, struct pvsub_diag *diag)
{
	enum pvsub_on_instruction on = PVSUB_ON_INSTRUCTION_REJECT;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlChar *id = NULL, *version = NULL, *action = NULL;
	struct pvsub_pattern *pats = NULL;
	unsigned long ver = 0;
	size_t n = 0;
	int r;

	id = xmlGetNoNsProp(root, BAD_CAST "id");
	version = xmlGetNoNsProp(root, BAD_CAST "version");
	action = xmlGetNoNsProp(root, BAD_CAST "on-instruction");
	if (!id || !version) {
		r = pvsub_diag_set(diag, EINVAL, "line %ld: policy needs id and version",
				   xmlGetLineNo(root));
		goto out;
	}
	if (!valid_id((char *)id, POLICY_ID_MAX)) {
		r = pvsub_diag_set(diag, EINVAL, "line %ld: policy id is not valid",
				   xmlGetLineNo(root));
		goto out;
	}
	r = parse_version((char *)version, &ver, xmlGetLineNo(root), diag);
	if (r < 0)
		goto out;
	if (action && strcmp((char *)action, "trap") == 0) {
		on = PVSUB_ON_INSTRUCTION_TRAP;
	} else if (action && strcmp((char *)action, "reject") != 0) {
		r = pvsub_diag_set(diag, EINVAL, "line %ld: on-instruction must be reject or trap",
				   xmlGetLineNo(root));
		goto out;
	}

	for (xmlNodePtr c = root->children; c; c = c->next) {
		struct pvsub_diag d = {{0}};
		xmlChar *a = NULL, *b = NULL;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_policy_element(c, "include")) {
			const struct builtin_profile *bp;

			a = xmlGetNoNsProp(c, BAD_CAST "profile");
			bp = a ? find_builtin((char *)a) : NULL;
			if (bp)
				r = append_builtin(bp, &pats, &n, &d);
			else
				r = pvsub_diag_set(&d, EINVAL, "unknown profile");
		} else if (is_policy_element(c, "pattern")) {
			a = xmlGetNoNsProp(c, BAD_CAST "id");
			b = xmlGetNoNsProp(c, BAD_CAST "bytes");
			if (a && b)
				r = pvsub_pattern_compile((char *)a, (char *)b, &pats, &n, &d);
			else
				r = pvsub_diag_set(&d, EINVAL, "pattern needs id and bytes");
		} else {
			/* The schema keeps these out; never trust that silently. */
			char qname[160];

			pvsub_quote((const char *)c->name, strlen((const char *)c->name), qname,
				    sizeof(qname));
			r = pvsub_diag_set(&d, EINVAL, "unexpected element '%s'", qname);
		}
		xmlFree(b);
		xmlFree(a);
		if (r < 0) {
			if (r == -EINVAL)
				pvsub_diag_set(diag, r, "line %ld: %s", xmlGetLineNo(c), d.msg);
			goto out;
		}
	}

	r = policy_new((char *)id, ver, on, pats, n, out, diag);
	pats = NULL;
out:
	free(pats);
	xmlFree(action);
	xmlFree(version);
	xmlFree(id);
	return r;
}

int pvsub_policy_new_from_memory(const char *xml, size_t len, const char *name,
				 struct pvsub_policy **out, struct pvsub_diag *diag)
{
	struct pvsub_xml_error err;
	xmlDocPtr doc = NULL;
	int r;

	r = pvsub_xml_parse(PVSUB_XML_POLICY, xml, len, name, &doc, diag);
	if (r < 0)
		return r;
	r = pvsub_xml_validate(PVSUB_XML_POLICY, doc, &err, diag);
	if (r == -EINVAL && err.code == XML_SCHEMAV_CVC_PATTERN_VALID)
		explain_bytes_error(err.node, diag);
	if (r == 0)
		r = policy_from_doc(doc, out, diag);
	xmlFreeDoc(doc);
	return r;
}

int pvsub_policy_new_from_file(const char *path, struct pvsub_policy **out, struct pvsub_diag *diag)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	r = pvsub_read_file(path, pvsub_xml_max_size(PVSUB_XML_POLICY), &data, &len, diag);
	if (r < 0)
		return r;
	r = pvsub_policy_new_from_memory((const char *)data, len, path, out, diag);
	free(data);
	return r;
}

int pvsub_policy_load(const char *name_or_path, struct pvsub_policy **out, struct pvsub_diag *diag)
{
	int r;

	/* A built-in wins over a file of the same name; "./pku" names the file. */
	if (find_builtin(name_or_path))
		return pvsub_policy_new_builtin(name_or_path, out, diag);
	r = pvsub_policy_new_from_file(name_or_path, out, diag);
	if (r == -ENOENT)
		pvsub_diag_set(diag, r, "no such built-in policy or file");
	return r;
}
