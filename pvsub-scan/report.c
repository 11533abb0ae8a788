/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "libpvsub/crypto.h"
#include "libpvsub/kmeta.h"
#include "pvsub-scan/report.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"
#define FINGERPRINT_KEY "pvsubFinding/v2"
#define SARIF_SRCROOT "%SRCROOT%"
/* "HASH:N" */
#define PVSUB_FINGERPRINT_LEN (PVSUB_SHA256_HEX_LEN + 24)

#define ANSI_BOLD "\033[1m"
#define ANSI_RED "\033[31m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_BOLD_RED "\033[1;31m"
#define ANSI_RESET "\033[0m"

/* ---- a small JSON writer: 2-space indentation, one member per line -------- */

#define JSON_MAX_DEPTH 16

/*
 * Writes into @b and keeps the first error, so that callers emit a whole
 * object and check once.  It may start at any depth: JSON and SARIF
 * documents are assembled from per-file chunks rendered at the depth where
 * they will be spliced in.
 */
struct json {
	struct pvsub_buf *b;
	int err;
	unsigned depth;
	bool empty[JSON_MAX_DEPTH]; /* nothing written yet at this depth */
};

static void json_init(struct json *j, struct pvsub_buf *b, unsigned depth)
{
	*j = (struct json){.b = b, .depth = depth};
	j->empty[depth] = true;
}

static void j_puts(struct json *j, const char *s)
{
	if (!j->err)
		j->err = pvsub_buf_puts(j->b, s);
}

static void j_string(struct json *j, const char *s)
{
	j_puts(j, "\"");
	if (!j->err)
		j->err = pvsub_buf_json_string(j->b, s);
	j_puts(j, "\"");
}

static void j_indent(struct json *j, unsigned depth)
{
	for (unsigned i = 0; i < depth; i++)
		j_puts(j, "  ");
}

/* Start a member (in an object, @key set) or an element (in an array). */
static void j_member(struct json *j, const char *key)
{
	j_puts(j, j->empty[j->depth] ? "\n" : ",\n");
	j->empty[j->depth] = false;
	j_indent(j, j->depth);
	if (key) {
		j_string(j, key);
		j_puts(j, ": ");
	}
}

static void j_open(struct json *j, const char *key, char brace)
{
	char s[2] = {brace, '\0'};

	j_member(j, key);
	j_puts(j, s);
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		j->err = j->err ? j->err : -EINVAL;
		return;
	}
	j->depth++;
	j->empty[j->depth] = true;
}

/* Top-level value: no separator before it. */
static void j_open_root(struct json *j, char brace)
{
	char s[2] = {brace, '\0'};

	j_puts(j, s);
	j->depth++;
	j->empty[j->depth] = true;
}

static void j_close(struct json *j, char brace)
{
	char s[2] = {brace, '\0'};

	if (j->depth == 0) {
		j->err = j->err ? j->err : -EINVAL;
		return;
	}
	if (!j->empty[j->depth]) {
		j_puts(j, "\n");
		j_indent(j, j->depth - 1);
	}
	j_puts(j, s);
	j->depth--;
}

/* A string member; NULL gives null. */
static void j_str(struct json *j, const char *key, const char *v)
{
	j_member(j, key);
	if (v)
		j_string(j, v);
	else
		j_puts(j, "null");
}

static void j_raw(struct json *j, const char *key, const char *literal)
{
	j_member(j, key);
	j_puts(j, literal);
}

static void j_u64(struct json *j, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	j_raw(j, key, s);
}

static void j_i64(struct json *j, const char *key, int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, v);
	j_raw(j, key, s);
}

/* Splice @n elements rendered by a json_init(…, depth) writer at this depth. */
static void j_splice(struct json *j, const struct pvsub_buf *chunk, size_t n)
{
	if (!n)
		return;
	j_puts(j, j->empty[j->depth] ? "" : ",");
	if (!j->err && chunk->len)
		j->err = pvsub_buf_append(j->b, chunk->data, chunk->len);
	j->empty[j->depth] = false;
}

/* ---- rules (SARIF) ---------------------------------------------------------- */

enum rule_kind {
	RULE_PATTERN,
	RULE_VIOLATION,
	RULE_INPUT_ERROR,
	RULE_NOT_SCANNED,
};

struct rule {
	char *id;
	enum rule_kind kind;
	char *patterns; /* RULE_PATTERN: "0f 01 ef" or "0f ae 28/f8, 0f ae 68/f8, …" */
};

/* The kinds that image.h documents; others still get a rule when they occur. */
static const struct {
	const char *kind;
	const char *text;
} violation_kinds[] = {
	{"wx-segment", "A loadable segment is both writable and executable"},
	{"exec-stack", "The stack is executable (PT_GNU_STACK has PF_X)"},
	{"textrel", "The object has text relocations (DT_TEXTREL): code changes at load time"},
	{"exec-nobits", "An executable section has no bytes in the file (SHT_NOBITS)"},
	{"overlapping-sections", "Executable sections overlap in the file"},
	{"section-out-of-file", "An executable section lies outside the file"},
	{"segment-out-of-file", "An executable segment lies outside the file"},
	{"wx-section", "A section is both writable and executable"},
};

#define RULE_INPUT_ERROR_ID "input-error"
#define RULE_NOT_SCANNED_ID "not-scanned"
#define RULE_VIOLATION_PREFIX "violation/"

struct pvsub_report {
	enum pvsub_report_format format;
	bool color, verbose, want_junit;
	FILE *out;
	char *tool_name, *tool_version;
	bool have_policy;
	char *policy_id;
	unsigned long policy_version;
	char policy_sha256[PVSUB_SHA256_HEX_LEN];

	struct pvsub_report_summary sum;
	size_t rewritten;
	bool unscanned_allowed;
	size_t by_status[PVSUB_FILE_STATUS_COUNT];
	size_t by_verdict[PVSUB_VERDICT_COUNT];
	bool rewrite;

	/* JSON: rendered "files" elements; SARIF: rendered "results" elements */
	struct pvsub_buf body;
	size_t n_body;
	/* SARIF: toolExecutionNotifications elements */
	struct pvsub_buf notes;
	size_t n_notes;
	struct rule *rules;
	size_t n_rules;

	/* SARIF: where URIs start, and the fingerprints handed out so far
	 * (open addressing on the hash's first 64 bits). */
	char *sarif_root, *cwd;
	struct fp_seen {
		char hash[64];
		uint64_t key;
		size_t count;
	} * fp_table;
	size_t fp_used, fp_cap;

	struct pvsub_buf junit;
	size_t junit_failures;
	double junit_seconds;
	int64_t junit_timestamp;
	char *junit_hostname;

	void (*before_write)(void *data);
	void *before_write_data;

	bool finished;
};

static int normalise_abs(const char *dir, const char *path, size_t len, struct pvsub_buf *out);

int pvsub_report_format_parse(const char *s, enum pvsub_report_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = PVSUB_REPORT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = PVSUB_REPORT_JSON;
	else if (strcmp(s, "sarif") == 0)
		*out = PVSUB_REPORT_SARIF;
	else
		return -EINVAL;
	return 0;
}

const char *pvsub_file_status_name(enum pvsub_file_status s)
{
	switch (s) {
	case PVSUB_FILE_CLEAN:
		return "clean";
	case PVSUB_FILE_FINDINGS:
		return "findings";
	case PVSUB_FILE_REWRITTEN:
		return "rewritten";
	case PVSUB_FILE_REFUSED:
		return "refused";
	case PVSUB_FILE_NOT_SCANNED:
		return "not-scanned";
	case PVSUB_FILE_ERROR:
	case PVSUB_FILE_STATUS_COUNT:
		break;
	}
	return "error";
}

enum pvsub_file_status pvsub_file_status_of(const struct pvsub_scan_result *r,
					    const struct pvsub_rewrite_result *rw)
{
	bool certifies = pvsub_verdict_certifies(pvsub_verdict_of_file(r, rw));

	if (!rw)
		return certifies ? PVSUB_FILE_CLEAN : PVSUB_FILE_FINDINGS;
	if (!certifies)
		return PVSUB_FILE_REFUSED;
	return rw->n_sites ? PVSUB_FILE_REWRITTEN : PVSUB_FILE_CLEAN;
}

/* The verdict of a record that has one (every status but ERROR). */
static enum pvsub_verdict record_verdict(const struct pvsub_file_record *rec)
{
	if (rec->status == PVSUB_FILE_NOT_SCANNED)
		return pvsub_verdict_of_unscanned(rec->allow_unscanned);
	return pvsub_verdict_of_file(rec->result, rec->rewrite);
}

static bool record_has_verdict(const struct pvsub_file_record *rec)
{
	if (rec->status == PVSUB_FILE_NOT_SCANNED)
		return true;
	return rec->status != PVSUB_FILE_ERROR && rec->result;
}

static const char *class_name(enum pvsub_class c)
{
	const char *s = pvsub_class_name(c);

	return s ? s : "unknown";
}

static const char *finding_level(const struct pvsub_finding *f)
{
	/* One whose final bytes the loader checks after relocation: worth a
	 * look, not proof of a gate, and the file still certifies.  Every
	 * other finding rejects its file. */
	return pvsub_verdict_certifies(pvsub_verdict_of_finding(f)) ? "warning" : "error";
}

static const char *pattern_id(const struct pvsub_finding *f)
{
	return f->pattern && f->pattern->id[0] ? f->pattern->id : "unknown";
}

static const char *violation_kind(const struct pvsub_violation *v)
{
	return v->kind && v->kind[0] ? v->kind : "unknown";
}

static void rule_free_all(struct pvsub_report *rep)
{
	for (size_t i = 0; i < rep->n_rules; i++) {
		free(rep->rules[i].id);
		free(rep->rules[i].patterns);
	}
	free(rep->rules);
	rep->rules = NULL;
	rep->n_rules = 0;
}

static ssize_t rule_find(const struct pvsub_report *rep, enum rule_kind kind, const char *id)
{
	for (size_t i = 0; i < rep->n_rules; i++)
		if (rep->rules[i].kind == kind && strcmp(rep->rules[i].id, id) == 0)
			return (ssize_t)i;
	return -1;
}

/* Index of the rule @kind/@id, added at the end when new so that indices
 * already rendered into results stay valid. */
static int rule_get(struct pvsub_report *rep, enum rule_kind kind, const char *id, size_t *index)
{
	ssize_t i = rule_find(rep, kind, id);
	struct rule *rules;
	char *copy;

	if (i >= 0) {
		*index = (size_t)i;
		return 0;
	}
	copy = strdup(id);
	if (!copy)
		return -ENOMEM;
	rules = realloc(rep->rules, (rep->n_rules + 1) * sizeof(*rules));
	if (!rules) {
		free(copy);
		return -ENOMEM;
	}
	rep->rules = rules;
	rules[rep->n_rules] = (struct rule){.id = copy, .kind = kind};
	*index = rep->n_rules++;
	return 0;
}

static int rule_violation(struct pvsub_report *rep, const char *kind, size_t *index)
{
	char id[PVSUB_DIAG_MAX];

	snprintf(id, sizeof(id), RULE_VIOLATION_PREFIX "%s", kind);
	return rule_get(rep, RULE_VIOLATION, id, index);
}

/* Pattern rules first (policy order, one per id; `/Nm` gives three patterns
 * with one id), then the violation kinds, then input errors. */
static int rules_init(struct pvsub_report *rep, const struct pvsub_policy *policy)
{
	const struct pvsub_pattern *pats = NULL;
	size_t n = 0, idx;
	int r;

	if (policy)
		pats = pvsub_policy_patterns(policy, &n);
	for (size_t i = 0; i < n; i++) {
		char tokens[3 * PVSUB_PATTERN_MAX * 2 + 1];
		struct pvsub_buf b = {0};
		struct rule *rule;

		r = rule_get(rep, RULE_PATTERN, pats[i].id, &idx);
		if (r < 0)
			return r;
		rule = &rep->rules[idx];
		pvsub_pattern_format(&pats[i], tokens, sizeof(tokens));
		if (rule->patterns) {
			r = pvsub_buf_printf(&b, "%s, %s", rule->patterns, tokens);
		} else {
			r = pvsub_buf_puts(&b, tokens);
		}
		if (r < 0) {
			pvsub_buf_release(&b);
			return r;
		}
		free(rule->patterns);
		rule->patterns = pvsub_buf_steal(&b, NULL);
		if (!rule->patterns)
			return -ENOMEM;
	}
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(violation_kinds); i++) {
		r = rule_violation(rep, violation_kinds[i].kind, &idx);
		if (r < 0)
			return r;
	}
	return rule_get(rep, RULE_INPUT_ERROR, RULE_INPUT_ERROR_ID, &idx);
}

int pvsub_report_new(const struct pvsub_report_opts *opts, FILE *out, struct pvsub_report **rep)
{
	struct pvsub_report *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->format = opts->format;
	p->color = opts->color;
	p->verbose = opts->verbose;
	p->want_junit = opts->want_junit;
	p->rewrite = opts->rewrite;
	p->out = out;
	p->before_write = opts->before_write;
	p->before_write_data = opts->before_write_data;
	p->junit_timestamp = opts->junit_timestamp;
	p->junit_hostname =
		strdup(opts->junit_hostname && opts->junit_hostname[0] ? opts->junit_hostname
								       : "localhost");
	if (!p->junit_hostname) {
		r = -ENOMEM;
		goto err;
	}
	if (opts->sarif_root) {
		struct pvsub_buf b = {0};

		/* Kept normalised, so that prefixes compare as strings. */
		r = normalise_abs(opts->cwd, opts->sarif_root, strlen(opts->sarif_root), &b);
		p->sarif_root = r == 0 ? pvsub_buf_steal(&b, NULL) : NULL;
		pvsub_buf_release(&b);
		if (!p->sarif_root) {
			r = -ENOMEM;
			goto err;
		}
	}
	p->cwd = opts->cwd ? strdup(opts->cwd) : NULL;
	if (opts->cwd && !p->cwd) {
		r = -ENOMEM;
		goto err;
	}
	p->tool_name = strdup(opts->tool_name ? opts->tool_name : "pvsub-scan");
	p->tool_version = strdup(opts->tool_version ? opts->tool_version : PACKAGE_VERSION);
	if (!p->tool_name || !p->tool_version) {
		r = -ENOMEM;
		goto err;
	}
	/* Copied, so the policy need not outlive the report. */
	if (opts->policy) {
		p->have_policy = true;
		p->policy_id = strdup(pvsub_policy_id(opts->policy));
		if (!p->policy_id) {
			r = -ENOMEM;
			goto err;
		}
		p->policy_version = pvsub_policy_version(opts->policy);
		snprintf(p->policy_sha256, sizeof(p->policy_sha256), "%s",
			 pvsub_policy_sha256_hex(opts->policy));
	}
	if (p->format == PVSUB_REPORT_SARIF) {
		r = rules_init(p, opts->policy);
		if (r < 0)
			goto err;
	}
	*rep = p;
	return 0;
err:
	pvsub_report_free(p);
	return r;
}

void pvsub_report_free(struct pvsub_report *rep)
{
	if (!rep)
		return;
	pvsub_buf_release(&rep->junit);
	free(rep->junit_hostname);
	free(rep->fp_table);
	free(rep->sarif_root);
	free(rep->cwd);
	rule_free_all(rep);
	pvsub_buf_release(&rep->notes);
	pvsub_buf_release(&rep->body);
	free(rep->policy_id);
	free(rep->tool_version);
	free(rep->tool_name);
	free(rep);
}

void pvsub_report_get_summary(const struct pvsub_report *rep, struct pvsub_report_summary *s)
{
	*s = rep->sum;
}

/* ---- identities, paths and URIs ------------------------------------------ */

/* One path segment of a display path, and the '!'-part it belongs to. */
struct seg {
	const char *s;
	size_t n;
	unsigned part;
};

struct segs {
	struct seg *v;
	size_t n, cap;
};

static bool seg_is(const struct seg *g, const char *lit)
{
	return g->n == strlen(lit) && memcmp(g->s, lit, g->n) == 0;
}

/*
 * Append the segments of @s (@len bytes) to @out, lexically normalised:
 * empty and "." segments dropped, ".." removes the segment before it in the
 * same part (kept when there is none).  '!' starts a new part unless
 * @one_part.
 */
static int segs_add(struct segs *out, const char *s, size_t len, unsigned part, bool one_part)
{
	const char *end = s + len;

	while (s < end) {
		size_t n = 0;

		while (s + n < end && s[n] != '/' && (one_part || s[n] != '!'))
			n++;
		struct seg g = {s, n, part};

		if (n == 0 || seg_is(&g, ".")) {
			/* nothing */
		} else if (seg_is(&g, "..") && out->n && out->v[out->n - 1].part == part &&
			   !seg_is(&out->v[out->n - 1], "..")) {
			out->n--;
		} else {
			if (out->n == out->cap) {
				size_t cap = out->cap ? 2 * out->cap : 16;
				struct seg *v = realloc(out->v, cap * sizeof(*v));

				if (!v)
					return -ENOMEM;
				out->v = v;
				out->cap = cap;
			}
			out->v[out->n++] = g;
		}
		s += n;
		if (s < end && *s == '!')
			part++;
		if (s < end)
			s++;
	}
	return 0;
}

/* Join segments [from, n) with '/' inside a part and '!' between parts. */
static int segs_join(const struct segs *g, size_t from, struct pvsub_buf *out)
{
	int r = 0;

	for (size_t i = from; r == 0 && i < g->n; i++) {
		if (i > from)
			r = pvsub_buf_putc(out, g->v[i].part == g->v[i - 1].part ? '/' : '!');
		if (r == 0)
			r = pvsub_buf_append(out, g->v[i].s, g->v[i].n);
	}
	return r;
}

int pvsub_report_identity(const char *path, const char *input, const char *cwd,
			  struct pvsub_buf *out)
{
	static const char release[] = "*";
	const char *bang = strchr(path, '!');
	size_t c0 = bang ? (size_t)(bang - path) : strlen(path), from, keep = 1;
	struct segs g = {0}, rel = {0};
	int r = 0;

	if (bang) {
		/* Members only: the archive on disk is left out. */
		r = segs_add(&g, bang + 1, strlen(bang + 1), 1, false);
		from = 0;
	} else {
		size_t il = input ? strlen(input) : 0;

		if (il && il < c0 && strncmp(path, input, il) == 0 &&
		    (input[il - 1] == '/' || path[il] == '/')) {
			r = segs_add(&rel, path + il, c0 - il, 0, true);
			keep = PVSUB_MAX(rel.n, (size_t)1);
		}
		if (r == 0 && cwd && path[0] != '/')
			r = segs_add(&g, cwd, strlen(cwd), 0, true);
		if (r == 0)
			r = segs_add(&g, path, c0, 0, true);
		from = g.n > keep ? g.n - keep : 0;
	}
	/* lib/modules/RELEASE/...: the release changes with every kernel. */
	for (size_t i = 2; r == 0 && i + 1 < g.n; i++) {
		if (g.v[i - 2].part == g.v[i + 1].part && seg_is(&g.v[i - 2], "lib") &&
		    seg_is(&g.v[i - 1], "modules")) {
			g.v[i].s = release;
			g.v[i].n = 1;
		}
	}
	if (r == 0)
		r = segs_join(&g, from, out);
	/* Always a string, even for an empty path. */
	if (r == 0)
		r = pvsub_buf_reserve(out, 1);
	if (r == 0)
		out->data[out->len] = '\0';
	free(rel.v);
	free(g.v);
	return r;
}

/* RFC 3986: keep unreserved characters plus the path separators we use
 * ('/' and the archive separator '!'), percent-encode every other byte. */
static int put_uri_n(struct pvsub_buf *b, const char *path, size_t len)
{
	int r = 0;

	for (const unsigned char *p = (const unsigned char *)path;
	     r == 0 && p < (const unsigned char *)path + len; p++) {
		bool alnum = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			     (*p >= '0' && *p <= '9');

		if (alnum || (*p && strchr("-._~/!", *p)))
			r = pvsub_buf_putc(b, (char)*p);
		else
			r = pvsub_buf_printf(b, "%%%02X", *p);
	}
	return r;
}

static int put_uri(struct pvsub_buf *b, const char *path)
{
	return put_uri_n(b, path, strlen(path));
}

/* "/a/./b//c/../d" -> "/a/b/d" in @out: @path (@len bytes), after @dir
 * (absolute) when @path is relative. */
static int normalise_abs(const char *dir, const char *path, size_t len, struct pvsub_buf *out)
{
	struct segs g = {0};
	int r = 0;

	if (dir && (len == 0 || path[0] != '/'))
		r = segs_add(&g, dir, strlen(dir), 0, true);
	if (r == 0)
		r = segs_add(&g, path, len, 0, true);
	for (size_t i = 0; r == 0 && i < g.n; i++) {
		r = pvsub_buf_putc(out, '/');
		if (r == 0)
			r = pvsub_buf_append(out, g.v[i].s, g.v[i].n);
	}
	if (r == 0 && g.n == 0)
		r = pvsub_buf_putc(out, '/');
	free(g.v);
	return r;
}

/* @abs below @root ("/" included)?  Then where the rest starts. */
static const char *below(const char *abs, const char *root)
{
	size_t n = strlen(root);

	if (n == 1 && root[0] == '/')
		return abs + 1;
	if (strncmp(abs, root, n) == 0 && abs[n] == '/')
		return abs + n + 1;
	return NULL;
}

/*
 * The artifact URI of display path @path (see report.h).  *@base tells
 * whether it is relative to %SRCROOT%.
 */
static int put_artifact_uri(const struct pvsub_report *rep, struct pvsub_buf *b, const char *path,
			    bool *base)
{
	const char *bang = strchr(path, '!');
	size_t c0 = bang ? (size_t)(bang - path) : strlen(path);
	struct pvsub_buf abs = {0};
	const char *rel;
	char *real = NULL;
	int r;

	*base = false;
	if (!rep->sarif_root || (c0 == 1 && path[0] == '-'))
		return put_uri(b, path);
	r = normalise_abs(path[0] == '/' ? NULL
			  : rep->cwd	 ? rep->cwd
					 : rep->sarif_root,
			  path, c0, &abs);
	if (r < 0)
		goto out;
	rel = below(abs.data, rep->sarif_root);
	if (!rel && path[0] == '/') {
		/* Named through a symbolic link to a directory under the root?
		 * (The file's own name is kept: it is what was named.) */
		char *slash = strrchr(abs.data, '/');

		*slash = '\0';
		real = realpath(abs.data[0] ? abs.data : "/", NULL);
		*slash = '/';
		if (real) {
			struct pvsub_buf alt = {0};

			r = normalise_abs(real, slash + 1, strlen(slash + 1), &alt);
			rel = r == 0 ? below(alt.data, rep->sarif_root) : NULL;
			if (rel) {
				pvsub_buf_release(&abs);
				abs = alt;
				rel = below(abs.data, rep->sarif_root);
			} else {
				pvsub_buf_release(&alt);
			}
			if (r < 0)
				goto out;
		}
	}
	if (rel) {
		*base = true;
		r = put_uri(b, rel);
	} else {
		r = pvsub_buf_puts(b, "file://");
		if (r == 0)
			r = put_uri(b, abs.data);
	}
	if (r == 0 && bang)
		r = put_uri(b, bang);
out:
	free(real);
	pvsub_buf_release(&abs);
	return r;
}

/* ---- shared wording ------------------------------------------------------- */

/* Where a finding is, as the text report writes it: ".text+0x1f",
 * "segment 2-0x40", ".text|.text.unlikely+0xffe (pad 0)". */
static int put_location(struct pvsub_buf *b, const struct pvsub_finding *f)
{
	uint64_t mag = f->offset < 0 ? (uint64_t)0 - (uint64_t)f->offset : (uint64_t)f->offset;
	int r;

	if (f->section)
		r = pvsub_buf_puts(b, f->section);
	else if (f->junction)
		r = pvsub_buf_printf(b, "segment %d|segment %d", f->segment, f->segment2);
	else
		r = pvsub_buf_printf(b, "segment %d", f->segment);
	if (r == 0)
		r = pvsub_buf_printf(b, "%c0x%" PRIx64, f->offset < 0 ? '-' : '+', mag);
	if (r == 0 && f->junction)
		r = pvsub_buf_printf(b, " (pad %u)", f->pad);
	return r;
}

/* "0f 01 ef" */
static void hex_spaced(const struct pvsub_finding *f, char *out)
{
	size_t len = PVSUB_MIN((size_t)f->len, (size_t)PVSUB_PATTERN_MAX);
	char *p = out;

	for (size_t i = 0; i < len; i++) {
		pvsub_hex(&f->bytes[i], 1, p);
		p += 2;
		if (i + 1 < len)
			*p++ = ' ';
	}
	*p = '\0';
}

static void hex_plain(const struct pvsub_finding *f, char *out)
{
	pvsub_hex(f->bytes, PVSUB_MIN((size_t)f->len, (size_t)PVSUB_PATTERN_MAX), out);
}

/*
 * "PATH: LOC: ID (BYTES) CLASS[ FIELD][: INSN]" without a newline; with
 * @color, the path bold and the class red (a real gate instruction) or
 * yellow.
 */
static int put_finding_line(struct pvsub_buf *b, const char *path, const struct pvsub_finding *f,
			    bool color)
{
	char hex[3 * PVSUB_PATTERN_MAX + 1];
	const char *hue = f->cls.cls == PVSUB_CLASS_INSTRUCTION ? ANSI_RED : ANSI_YELLOW;
	int r;

	hex_spaced(f, hex);
	r = pvsub_buf_printf(b, "%s%s%s: ", color ? ANSI_BOLD : "", path, color ? ANSI_RESET : "");
	if (r == 0)
		r = put_location(b, f);
	if (r == 0)
		r = pvsub_buf_printf(b, ": %s (%s) %s%s%s%s%s", pattern_id(f), hex,
				     color ? hue : "", class_name(f->cls.cls),
				     f->cls.field[0] ? " " : "", f->cls.field,
				     color ? ANSI_RESET : "");
	if (r == 0 && f->cls.insn_text[0])
		r = pvsub_buf_printf(b, ": %s", f->cls.insn_text);
	return r;
}

static int put_violation_line(struct pvsub_buf *b, const char *path,
			      const struct pvsub_violation *v, bool color)
{
	const char *on = color ? ANSI_YELLOW : "", *off = color ? ANSI_RESET : "";

	return pvsub_buf_printf(b, "%s%s%s: %sviolation %s%s: %s", color ? ANSI_BOLD : "", path,
				off, on, violation_kind(v), off, v->detail);
}

static const char *record_error(const struct pvsub_file_record *rec)
{
	return rec->error && rec->error[0] ? rec->error : "cannot be scanned";
}

/* ---- text ----------------------------------------------------------------- */

/* "s" after a count other than 1. */
static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* What --rewrite did: refusals one per line, then one summary line. */
static int text_rewrite(struct pvsub_buf *b, const struct pvsub_file_record *rec, bool color)
{
	const struct pvsub_rewrite_result *rw = rec->rewrite;
	int r = 0;

	for (size_t i = 0; r == 0 && i < rw->n_refusals; i++)
		r = pvsub_buf_printf(b, "%s%s%s: %s+%#" PRIx64 ": %srefused:%s %s\n",
				     color ? ANSI_BOLD : "", rec->path, color ? ANSI_RESET : "",
				     rw->refusals[i].section, rw->refusals[i].offset,
				     color ? ANSI_BOLD_RED : "", color ? ANSI_RESET : "",
				     rw->refusals[i].reason);
	if (r == 0 && rw->n_refusals)
		r = pvsub_buf_printf(b, "%s: not rewritten: %zu site%s refused, nothing written\n",
				     rec->path, rw->n_refusals, plural(rw->n_refusals));
	if (r == 0 && rec->output && rw->n_sites)
		r = pvsub_buf_printf(b,
				     "%s: rewritten to %s: %zu change%s, %" PRIu64 " -> %zu bytes "
				     "(code %" PRIu64 " -> %" PRIu64 ")\n",
				     rec->path, rec->output, rw->n_sites,
				     plural(rw->n_sites), rw->size_before, rw->size,
				     rw->code_before, rw->code_after);
	else if (r == 0 && rec->output)
		r = pvsub_buf_printf(b, "%s: nothing to rewrite; copied to %s\n", rec->path,
				     rec->output);
	if (r == 0 && rec->output && rw->n_sites && rw->modsig_stripped)
		r = pvsub_buf_printf(b,
				     "%s: note: the module signature was removed; sign %s again "
				     "(pvsub-sign)\n",
				     rec->path, rec->output);
	return r;
}

static int text_add(struct pvsub_report *rep, const struct pvsub_file_record *rec)
{
	const struct pvsub_scan_result *res = rec->result;
	struct pvsub_buf b = {0};
	bool color = rep->color;
	int r = 0;

	if (rec->status == PVSUB_FILE_ERROR) {
		r = pvsub_buf_printf(&b, "%s%s%s: %serror:%s %s\n", color ? ANSI_BOLD : "",
				     rec->path, color ? ANSI_RESET : "", color ? ANSI_BOLD_RED : "",
				     color ? ANSI_RESET : "", record_error(rec));
		goto write;
	}
	if (rec->status == PVSUB_FILE_NOT_SCANNED) {
		r = pvsub_buf_printf(&b, "%s%s%s: %snot scanned:%s %s%s\n", color ? ANSI_BOLD : "",
				     rec->path, color ? ANSI_RESET : "",
				     color && !rec->allow_unscanned ? ANSI_BOLD_RED : "",
				     color && !rec->allow_unscanned ? ANSI_RESET : "", rec->format,
				     rep->rewrite ? ": cannot be rewritten, nothing written" : "");
		goto write;
	}
	if (res && res->modsig.present && rep->verbose)
		r = pvsub_buf_printf(&b,
				     "%s: note: appended module signature (%" PRIu64
				     " bytes) not scanned as code\n",
				     rec->path, res->modsig.size);
	for (size_t i = 0; res && r == 0 && i < res->n_findings; i++) {
		r = put_finding_line(&b, rec->path, &res->findings[i], color);
		if (r == 0)
			r = pvsub_buf_putc(&b, '\n');
	}
	for (size_t i = 0; res && r == 0 && i < res->n_violations; i++) {
		r = put_violation_line(&b, rec->path, &res->violations[i], color);
		if (r == 0)
			r = pvsub_buf_putc(&b, '\n');
	}
	if (r == 0 && rec->rewrite)
		r = text_rewrite(&b, rec, color);
	/* Its findings are listed above, yet it certifies: say why. */
	if (r == 0 && record_verdict(rec) == PVSUB_VERDICT_LOAD_TIME)
		r = pvsub_buf_printf(
			&b,
			"%s: certified with load-time checks: every occurrence is in a "
			"relocation window, which the loader must rescan after "
			"relocation\n",
			rec->path);
	if (r == 0 && rep->verbose && rec->status == PVSUB_FILE_CLEAN)
		r = pvsub_buf_printf(&b, "%s: clean\n", rec->path);
	else if (r == 0 && rep->verbose && rec->status == PVSUB_FILE_REWRITTEN)
		r = pvsub_buf_printf(&b, "%s: rewritten\n", rec->path);
write:
	if (r == 0 && b.len && rep->before_write)
		rep->before_write(rep->before_write_data);
	if (r == 0 && b.len && fwrite(b.data, 1, b.len, rep->out) != b.len)
		r = -EIO;
	pvsub_buf_release(&b);
	return r;
}

static int text_finish(struct pvsub_report *rep)
{
	const struct pvsub_report_summary *s = &rep->sum;
	const size_t *st = rep->by_status;
	char load_time[64] = "", unscanned[96] = "";

	/* Said only when there are some: ", 2 not scanned (allowed ...)". */
	if (s->not_scanned)
		snprintf(unscanned, sizeof(unscanned), ", %zu not scanned%s", s->not_scanned,
			 rep->unscanned_allowed ? " (allowed by --allow-unscanned)" : "");
	/* --rewrite: every file is in exactly one of these. */
	if (rep->rewrite) {
		if (s->load_time)
			snprintf(load_time, sizeof(load_time), "; %zu with load-time checks",
				 s->load_time);
		if (fprintf(rep->out,
			    "%zu file%s: %zu clean, %zu rewritten, %zu refused, %zu error%s%s%s\n",
			    s->files, plural(s->files), st[PVSUB_FILE_CLEAN],
			    st[PVSUB_FILE_REWRITTEN], st[PVSUB_FILE_REFUSED], st[PVSUB_FILE_ERROR],
			    plural(st[PVSUB_FILE_ERROR]), unscanned, load_time) < 0)
			return -EIO;
		return 0;
	}
	size_t rejected = s->files - s->clean - s->errors - s->not_scanned;
	char detail[128] = "";

	/* " (1 rewritten, 2 with load-time checks)": what the clean files are. */
	if (rep->rewritten && s->load_time)
		snprintf(detail, sizeof(detail), " (%zu rewritten, %zu with load-time checks)",
			 rep->rewritten, s->load_time);
	else if (rep->rewritten)
		snprintf(detail, sizeof(detail), " (%zu rewritten)", rep->rewritten);
	else if (s->load_time)
		snprintf(detail, sizeof(detail), " (%zu with load-time checks)", s->load_time);
	/* Files by verdict (errors have none), then what the report lists. */
	if (fprintf(rep->out,
		    "%zu file%s scanned: %zu clean%s, %zu rejected, %zu error%s%s; "
		    "%zu finding%s, %zu violation%s\n",
		    s->files, plural(s->files), s->clean, detail, rejected, s->errors,
		    plural(s->errors), unscanned, s->findings, plural(s->findings), s->violations,
		    plural(s->violations)) < 0)
		return -EIO;
	return 0;
}

/* ---- JSON ----------------------------------------------------------------- */

/* A finding's address: ET_REL sections have none until they are loaded, nor
 * has a bzImage's own code (its boot loader chooses). */
static void j_vaddr(struct json *j, const struct pvsub_scan_result *res,
		    const struct pvsub_finding *f)
{
	if (res->kind == PVSUB_ELF_REL || f->boot)
		j_raw(j, "vaddr", "null");
	else
		j_u64(j, "vaddr", f->vaddr);
}

static void json_finding(struct json *j, const struct pvsub_scan_result *res,
			 const struct pvsub_finding *f)
{
	char hex[2 * PVSUB_PATTERN_MAX + 1];

	hex_plain(f, hex);
	j_open(j, NULL, '{');
	j_str(j, "pattern", pattern_id(f));
	if (f->section)
		j_str(j, "section", f->section);
	else
		j_i64(j, "segment", f->segment);
	j_i64(j, "offset", f->offset);
	j_str(j, "bytes", hex);
	j_str(j, "class", class_name(f->cls.cls));
	j_str(j, "field", f->cls.field[0] ? f->cls.field : NULL);
	/* additions to the DESIGN §5 shape, documented in pvsub-scan(1) */
	j_u64(j, "file_offset", f->file_offset);
	j_vaddr(j, res, f);
	j_str(j, "instruction", f->cls.insn_text[0] ? f->cls.insn_text : NULL);
	if (f->junction) {
		j_u64(j, "pad", f->pad);
		if (f->section) {
			const char *bar = strchr(f->section, '|');
			int n = bar ? (int)(bar - f->section) : (int)strlen(f->section);
			char first[PVSUB_DIAG_MAX];

			snprintf(first, sizeof(first), "%.*s", n, f->section);
			j_open(j, "sections", '[');
			j_str(j, NULL, first);
			j_str(j, NULL, bar ? bar + 1 : "");
			j_close(j, ']');
		} else {
			j_i64(j, "segment2", f->segment2);
		}
	}
	j_close(j, '}');
}

static void json_rewrite(struct json *j, const struct pvsub_file_record *rec)
{
	const struct pvsub_rewrite_result *rw = rec->rewrite;
	char hex[2 * PVSUB_REWRITE_MAX_SEQ + 1];

	j_str(j, "output", rec->output);
	j_u64(j, "size_before", rw->size_before);
	if (rec->output && rw->data)
		j_u64(j, "size_after", rw->size);
	else if (rec->output)
		j_u64(j, "size_after", rw->size_before);
	else
		j_raw(j, "size_after", "null");
	j_u64(j, "code_before", rw->code_before);
	j_u64(j, "code_after", rw->code_after);
	j_raw(j, "module_signature_removed",
	      rec->output && rw->data && rw->modsig_stripped ? "true" : "false");
	j_open(j, "rewrites", '[');
	for (size_t i = 0; i < rw->n_sites; i++) {
		const struct pvsub_rewrite_site *s = &rw->sites[i];
		j_open(j, NULL, '{');
		j_str(j, "section", s->section);
		j_u64(j, "offset", s->offset);
		j_str(j, "pattern", s->pattern);
		j_str(j, "class", class_name(s->cls));
		j_str(j, "field", s->field[0] ? s->field : NULL);
		j_str(j, "rule", s->rule);
		pvsub_hex(s->bytes, s->len, hex);
		j_str(j, "bytes", hex);
		pvsub_hex(s->insn, s->insn_len, hex);
		j_str(j, "original", hex);
		pvsub_hex(s->new_insn, s->new_len, hex);
		j_str(j, "replacement", hex);
		j_u64(j, "padding", s->padding);
		j_u64(j, "new_offset", s->new_offset);
		j_u64(j, "round", s->round);
		j_close(j, '}');
	}
	j_close(j, ']');
	j_open(j, "refused", '[');
	for (size_t i = 0; i < rw->n_refusals; i++) {
		j_open(j, NULL, '{');
		j_str(j, "section", rw->refusals[i].section);
		j_u64(j, "offset", rw->refusals[i].offset);
		j_str(j, "reason", rw->refusals[i].reason);
		j_str(j, "pattern", rw->refusals[i].pattern);
		j_close(j, '}');
	}
	j_close(j, ']');
	/* Growth of the changed sections' code, as a fraction of their size. */
	char growth[32] = "null";
	if (rw->code_before)
		snprintf(growth, sizeof(growth), "%.4f",
			 ((double)rw->code_after - (double)rw->code_before) /
				 (double)rw->code_before);
	j_raw(j, "code_growth", growth);
}


/* The kernel mutable windows' verdicts, counted per kind (wverdict.h):
 * the windows themselves are in the manifest. */
static void json_mutable_windows(struct json *j, const struct pvsub_scan_result *res)
{
	j_open(j, "mutable_windows", '{');
	j_u64(j, "total", res->n_wverdicts);
	j_u64(j, "over_budget", res->wverdict_over_budget);
	j_open(j, "kinds", '{');
	for (size_t k = 0; k < PVSUB_WINDOW_KINDS; k++) {
		const size_t *c = res->wverdict_counts[k];

		if (!c[PVSUB_WVERDICT_STATIC] && !c[PVSUB_WVERDICT_RUNTIME] &&
		    !c[PVSUB_WVERDICT_CANNOT_FORM])
			continue;
		j_open(j, pvsub_window_kind_name((enum pvsub_window_kind)k), '{');
		j_u64(j, "static", c[PVSUB_WVERDICT_STATIC]);
		j_u64(j, "runtime", c[PVSUB_WVERDICT_RUNTIME]);
		j_u64(j, "cannot_form", c[PVSUB_WVERDICT_CANNOT_FORM]);
		j_close(j, '}');
	}
	j_close(j, '}');
	j_close(j, '}');
}

static void json_file(struct json *j, const struct pvsub_file_record *rec)
{
	const struct pvsub_scan_result *res = rec->status == PVSUB_FILE_ERROR ? NULL : rec->result;

	j_open(j, NULL, '{');
	j_str(j, "path", rec->path);
	j_str(j, "elf_type", res ? pvsub_elf_kind_name(res->kind) : NULL);
	j_str(j, "status", pvsub_file_status_name(rec->status));
	j_open(j, "findings", '[');
	for (size_t i = 0; res && i < res->n_findings; i++)
		json_finding(j, res, &res->findings[i]);
	j_close(j, ']');
	j_open(j, "violations", '[');
	for (size_t i = 0; res && i < res->n_violations; i++) {
		j_open(j, NULL, '{');
		j_str(j, "kind", violation_kind(&res->violations[i]));
		j_str(j, "detail", res->violations[i].detail);
		j_close(j, '}');
	}
	j_close(j, ']');
	j_str(j, "error", rec->status == PVSUB_FILE_ERROR ? record_error(rec) : NULL);
	/* additions */
	if (res) {
		j_u64(j, "size", res->size);
		j_str(j, "sha256", res->sha256);
	} else {
		j_raw(j, "size", "null");
		j_raw(j, "sha256", "null");
	}
	if (res && res->modsig.present) {
		j_open(j, "module_signature", '{');
		j_u64(j, "size", res->modsig.size);
		j_close(j, '}');
	} else {
		j_raw(j, "module_signature", "null");
	}
	j_str(j, "verdict",
	      record_has_verdict(rec) ? pvsub_verdict_name(record_verdict(rec)) : NULL);
	if (rec->status == PVSUB_FILE_NOT_SCANNED)
		j_str(j, "format", rec->format);
	if (rec->rewrite)
		json_rewrite(j, rec);
	if (res && res->kaslr) {
		j_open(j, "kaslr", '{');
		j_u64(j, "table_size", res->kaslr_info.table_size);
		j_u64(j, "step", res->kaslr_info.offsets.step);
		j_u64(j, "offsets", res->kaslr_info.offsets.count);
		j_u64(j, "windows", res->kaslr_stats.windows);
		j_u64(j, "proven", res->kaslr_stats.proven);
		j_close(j, '}');
	}
	if (res && res->n_wverdicts)
		json_mutable_windows(j, res);
	if (res && res->deep) {
		j_open(j, "deep", '{');
		j_u64(j, "bytes", res->deep_stats.bytes);
		j_u64(j, "instructions", res->deep_stats.instructions);
		j_u64(j, "table_hits", res->deep_stats.table_hits);
		j_u64(j, "undecoded_bytes", res->deep_stats.undecoded_bytes);
		j_u64(j, "undecoded_runs", res->deep_stats.undecoded_runs);
		j_close(j, '}');
	}
	j_close(j, '}');
}

/* Depth of the "files" elements: root object > "files" array. */
#define JSON_FILES_DEPTH 2

static int json_add(struct pvsub_report *rep, const struct pvsub_file_record *rec)
{
	size_t start = rep->body.len;
	struct json j;

	json_init(&j, &rep->body, JSON_FILES_DEPTH);
	j.empty[JSON_FILES_DEPTH] = rep->n_body == 0;
	json_file(&j, rec);
	if (j.err) {
		rep->body.len = start;
		if (rep->body.data)
			rep->body.data[start] = '\0';
		return j.err;
	}
	rep->n_body++;
	return 0;
}

static int write_buf(FILE *out, const struct pvsub_buf *b)
{
	if (b->len && fwrite(b->data, 1, b->len, out) != b->len)
		return -EIO;
	return 0;
}

static int json_finish(struct pvsub_report *rep)
{
	const struct pvsub_report_summary *s = &rep->sum;
	struct pvsub_buf b = {0};
	struct json j;
	int r;

	json_init(&j, &b, 0);
	j_open_root(&j, '{');
	j_open(&j, "tool", '{');
	j_str(&j, "name", rep->tool_name);
	j_str(&j, "version", rep->tool_version);
	j_close(&j, '}');
	if (rep->have_policy) {
		j_open(&j, "policy", '{');
		j_str(&j, "id", rep->policy_id);
		j_u64(&j, "version", rep->policy_version);
		j_str(&j, "sha256", rep->policy_sha256);
		j_close(&j, '}');
	} else {
		j_raw(&j, "policy", "null");
	}
	j_open(&j, "files", '[');
	j_splice(&j, &rep->body, rep->n_body);
	j_close(&j, ']');
	j_open(&j, "summary", '{');
	j_u64(&j, "files", s->files);
	j_u64(&j, "findings", s->findings);
	j_u64(&j, "errors", s->errors);
	j_u64(&j, "violations", s->violations);
	j_u64(&j, "clean", s->clean);
	/* Each file in exactly one bucket, named as its "status". */
	j_open(&j, "status", '{');
	for (unsigned k = 0; k < PVSUB_FILE_STATUS_COUNT; k++)
		j_u64(&j, pvsub_file_status_name((enum pvsub_file_status)k), rep->by_status[k]);
	j_close(&j, '}');
	j_u64(&j, "load_time", s->load_time);
	/* Each file that has a verdict (all but errors), named as its
	 * "verdict". */
	j_open(&j, "verdict", '{');
	for (unsigned k = 0; k < PVSUB_VERDICT_COUNT; k++)
		j_u64(&j, pvsub_verdict_name((enum pvsub_verdict)k), rep->by_verdict[k]);
	j_close(&j, '}');
	j_u64(&j, "not_scanned", s->not_scanned);
	j_close(&j, '}');
	j_close(&j, '}');
	j_puts(&j, "\n");
	r = j.err;
	if (r == 0)
		r = write_buf(rep->out, &b);
	pvsub_buf_release(&b);
	return r;
}

/* ---- SARIF ---------------------------------------------------------------- */

/* The material of a fingerprint starts with this line: see report.h. */
#define FINGERPRINT_TAG FINGERPRINT_KEY

/*
 * "HASH:N" for @material: N counts the results of this run with the same
 * HASH, so identical occurrences (the same bytes around the same pattern in
 * the same section of the same file) still get distinct fingerprints.
 */
static int fingerprint(struct pvsub_report *rep, const char *material,
		       char out[PVSUB_FINGERPRINT_LEN])
{
	char hash[PVSUB_SHA256_HEX_LEN];
	struct fp_seen *t = rep->fp_table;
	size_t mask, i;
	int r = pvsub_sha256_hex(material, strlen(material), hash);

	if (r < 0)
		return r;
	if (2 * (rep->fp_used + 1) > rep->fp_cap) {
		size_t cap = rep->fp_cap ? 2 * rep->fp_cap : 256;
		struct fp_seen *n = calloc(cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (size_t k = 0; k < rep->fp_cap; k++) {
			if (!t[k].count)
				continue;
			for (i = t[k].key & (cap - 1); n[i].count; i = (i + 1) & (cap - 1))
				;
			n[i] = t[k];
		}
		free(t);
		rep->fp_table = t = n;
		rep->fp_cap = cap;
	}
	mask = rep->fp_cap - 1;
	uint64_t key = 0;

	for (i = 0; i < 16; i++)
		key = key << 4 | (uint64_t)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);

	for (i = key & mask; t[i].count && memcmp(t[i].hash, hash, 64) != 0; i = (i + 1) & mask)
		;
	if (!t[i].count) {
		memcpy(t[i].hash, hash, 64);
		t[i].key = key;
		rep->fp_used++;
	}
	t[i].count++;
	snprintf(out, PVSUB_FINGERPRINT_LEN, "%.64s:%zu", hash, t[i].count);
	return 0;
}

/* One location whose region GitHub code scanning accepts: "startLine" 1
 * always, the byte range too when there is one. */
static void sarif_location(struct json *j, const struct pvsub_buf *uri, bool base, bool bytes,
			   uint64_t offset, uint64_t length)
{
	j_open(j, "locations", '[');
	j_open(j, NULL, '{');
	j_open(j, "physicalLocation", '{');
	j_open(j, "artifactLocation", '{');
	j_str(j, "uri", uri->data);
	if (base)
		j_str(j, "uriBaseId", SARIF_SRCROOT);
	j_close(j, '}');
	j_open(j, "region", '{');
	j_u64(j, "startLine", 1);
	if (bytes) {
		j_u64(j, "byteOffset", offset);
		j_u64(j, "byteLength", length);
	}
	j_close(j, '}');
	j_close(j, '}');
	j_close(j, '}');
	j_close(j, ']');
}

static void sarif_result_head(struct json *j, const struct rule *rule, size_t index,
			      const char *level, const char *message)
{
	j_open(j, NULL, '{');
	j_str(j, "ruleId", rule->id);
	j_u64(j, "ruleIndex", index);
	j_str(j, "level", level);
	j_open(j, "message", '{');
	j_str(j, "text", message);
	j_close(j, '}');
}

static void sarif_fingerprint(struct json *j, const char *value)
{
	j_open(j, "partialFingerprints", '{');
	j_str(j, FINGERPRINT_KEY, value);
	j_close(j, '}');
}

/* Depth of "results" elements: root > "runs" > run > "results". */
#define SARIF_RESULTS_DEPTH 4
/* Depth of notification elements: root > runs > run > invocations >
 * invocation > toolExecutionNotifications. */
#define SARIF_NOTES_DEPTH 6

/* What the class means for this occurrence, in words, for SARIF viewers. */
static int put_class_phrase(struct pvsub_buf *b, const struct pvsub_classification *c)
{
	const char *insn = c->insn_text;

	switch (c->cls) {
	case PVSUB_CLASS_INSTRUCTION:
		return insn[0] ? pvsub_buf_printf(b, "is a real instruction: `%s`", insn)
			       : pvsub_buf_puts(b, "is a real instruction");
	case PVSUB_CLASS_EMBEDDED:
		return pvsub_buf_printf(b, "is embedded in the %s of `%s`",
					c->field[0] ? c->field : "encoding", insn[0] ? insn : "?");
	case PVSUB_CLASS_SPANNING:
		return insn[0] ? pvsub_buf_printf(b, "spans the instruction boundary after `%s`",
						  insn)
			       : pvsub_buf_puts(b, "spans an instruction boundary");
	case PVSUB_CLASS_RELOCATION:
		return pvsub_buf_puts(b, "overlaps a relocation window (final bytes known at load "
					 "time)");
	case PVSUB_CLASS_PATCH_SITE:
		return c->field[0] ? pvsub_buf_printf(b, "overlaps a kernel load-time patch site (%s)",
						      c->field)
				   : pvsub_buf_puts(b, "overlaps a kernel load-time patch site");
	case PVSUB_CLASS_UNDECODED:
		return pvsub_buf_puts(b, "lies in bytes that do not decode as code");
	case PVSUB_CLASS_KASLR:
		return pvsub_buf_printf(b, "forms in a field that KASLR moves at boot (%s)",
					c->field);
	}
	return pvsub_buf_printf(b, "has class %s", class_name(c->cls));
}

/* BEFORE.BYTES.AFTER in hex: what the occurrence and its surroundings are. */
static int put_context(struct pvsub_buf *b, const struct pvsub_finding *f)
{
	char hex[2 * PVSUB_PATTERN_MAX + 1];
	uint8_t nb = PVSUB_MIN(f->n_before, (uint8_t)PVSUB_FINDING_CONTEXT);
	uint8_t na = PVSUB_MIN(f->n_after, (uint8_t)PVSUB_FINDING_CONTEXT);
	int r;

	pvsub_hex(f->before, nb, hex);
	r = pvsub_buf_puts(b, hex);
	hex_plain(f, hex);
	if (r == 0)
		r = pvsub_buf_printf(b, ".%s.", hex);
	pvsub_hex(f->after, na, hex);
	if (r == 0)
		r = pvsub_buf_puts(b, hex);
	return r;
}

/* The parts of a result that each file shares. */
struct sarif_file {
	const char *path;
	const char *verdict; /* the file's token; NULL for an input error */
	struct pvsub_buf uri;
	bool base;
	struct pvsub_buf identity;
};

static int sarif_finding(struct pvsub_report *rep, struct json *j, const struct sarif_file *sf,
			 const struct pvsub_scan_result *res, const struct pvsub_finding *f)
{
	char hex[3 * PVSUB_PATTERN_MAX + 1], value[PVSUB_FINGERPRINT_LEN];
	struct pvsub_buf loc = {0}, msg = {0}, fp = {0};
	size_t index;
	int r;

	r = rule_get(rep, RULE_PATTERN, pattern_id(f), &index);
	if (r == 0)
		r = put_location(&loc, f);
	hex_spaced(f, hex);
	if (r == 0)
		r = pvsub_buf_printf(&msg, "Pattern %s (%s) at %s ", pattern_id(f), hex, loc.data);
	if (r == 0)
		r = put_class_phrase(&msg, &f->cls);
	if (r == 0)
		r = pvsub_buf_printf(&fp, FINGERPRINT_TAG "\n%s\n", sf->identity.data);
	if (r == 0 && f->section)
		r = pvsub_buf_puts(&fp, f->section);
	else if (r == 0 && f->junction)
		r = pvsub_buf_printf(&fp, "segment %d|segment %d", f->segment, f->segment2);
	else if (r == 0)
		r = pvsub_buf_printf(&fp, "segment %d", f->segment);
	if (r == 0)
		r = pvsub_buf_printf(&fp, "\n%s\n", pattern_id(f));
	if (r == 0)
		r = put_context(&fp, f);
	/* a junction may match at one place with several paddings */
	if (r == 0 && f->junction)
		r = pvsub_buf_printf(&fp, "\npad %u", f->pad);
	if (r == 0)
		r = fingerprint(rep, fp.data, value);
	if (r < 0)
		goto out;

	sarif_result_head(j, &rep->rules[index], index, finding_level(f), msg.data);
	sarif_location(j, &sf->uri, sf->base, true, f->file_offset, f->len);
	sarif_fingerprint(j, value);
	j_open(j, "properties", '{');
	j_str(j, "class", class_name(f->cls.cls));
	j_str(j, "field", f->cls.field[0] ? f->cls.field : NULL);
	j_str(j, "location", loc.data);
	j_vaddr(j, res, f);
	j_str(j, "verdict", sf->verdict);
	j_close(j, '}');
	j_close(j, '}');
out:
	pvsub_buf_release(&fp);
	pvsub_buf_release(&msg);
	pvsub_buf_release(&loc);
	return r;
}

static int sarif_violation(struct pvsub_report *rep, struct json *j, const struct sarif_file *sf,
			   const struct pvsub_violation *v)
{
	struct pvsub_buf msg = {0}, fp = {0};
	char value[PVSUB_FINGERPRINT_LEN];
	size_t index;
	int r;

	r = rule_violation(rep, violation_kind(v), &index);
	if (r == 0)
		r = pvsub_buf_printf(&msg, "Violation %s: %s", violation_kind(v), v->detail);
	if (r == 0)
		r = pvsub_buf_printf(&fp, FINGERPRINT_TAG "\n%s\n" RULE_VIOLATION_PREFIX "%s\n%s",
				     sf->identity.data, violation_kind(v), v->detail);
	if (r == 0)
		r = fingerprint(rep, fp.data, value);
	if (r == 0) {
		sarif_result_head(j, &rep->rules[index], index, "error", msg.data);
		sarif_location(j, &sf->uri, sf->base, false, 0, 0);
		sarif_fingerprint(j, value);
		j_open(j, "properties", '{');
		j_str(j, "verdict", sf->verdict);
		j_close(j, '}');
		j_close(j, '}');
	}
	pvsub_buf_release(&fp);
	pvsub_buf_release(&msg);
	return r;
}

/* A file in a format pvsub does not scan: error, or note when allowed. */
static int sarif_not_scanned(struct pvsub_report *rep, struct json *j, const struct sarif_file *sf,
			     const struct pvsub_file_record *rec)
{
	struct pvsub_buf msg = {0}, fp = {0};
	char value[PVSUB_FINGERPRINT_LEN];
	size_t index;
	int r;

	r = rule_get(rep, RULE_NOT_SCANNED, RULE_NOT_SCANNED_ID, &index);
	if (r == 0)
		r = pvsub_buf_printf(&msg, "%s: not scanned: %s%s", sf->path, rec->format,
				     rec->allow_unscanned ? " (allowed by --allow-unscanned)" : "");
	if (r == 0)
		r = pvsub_buf_printf(&fp, FINGERPRINT_TAG "\n%s\n" RULE_NOT_SCANNED_ID,
				     sf->identity.data);
	if (r == 0)
		r = fingerprint(rep, fp.data, value);
	if (r == 0) {
		sarif_result_head(j, &rep->rules[index], index,
				  rec->allow_unscanned ? "note" : "error", msg.data);
		sarif_location(j, &sf->uri, sf->base, false, 0, 0);
		sarif_fingerprint(j, value);
		j_open(j, "properties", '{');
		j_str(j, "verdict", sf->verdict);
		j_str(j, "format", rec->format);
		j_close(j, '}');
		j_close(j, '}');
	}
	pvsub_buf_release(&fp);
	pvsub_buf_release(&msg);
	return r;
}

static int sarif_error(struct pvsub_report *rep, struct json *j, const struct sarif_file *sf,
		       const char *error)
{
	struct pvsub_buf msg = {0}, fp = {0};
	char value[PVSUB_FINGERPRINT_LEN];
	size_t index;
	int r;

	r = rule_get(rep, RULE_INPUT_ERROR, RULE_INPUT_ERROR_ID, &index);
	if (r == 0)
		r = pvsub_buf_printf(&msg, "%s: %s", sf->path, error);
	if (r == 0)
		r = pvsub_buf_printf(&fp, FINGERPRINT_TAG "\n%s\n" RULE_INPUT_ERROR_ID,
				     sf->identity.data);
	if (r == 0)
		r = fingerprint(rep, fp.data, value);
	if (r < 0)
		goto out;
	sarif_result_head(j, &rep->rules[index], index, "error", msg.data);
	sarif_location(j, &sf->uri, sf->base, false, 0, 0);
	sarif_fingerprint(j, value);
	j_close(j, '}');

	/* The run did not cover this input: say so where SARIF consumers look
	 * for tool failures, too. */
	{
		struct json n;
		size_t start = rep->notes.len;

		json_init(&n, &rep->notes, SARIF_NOTES_DEPTH);
		n.empty[SARIF_NOTES_DEPTH] = rep->n_notes == 0;
		j_open(&n, NULL, '{');
		j_str(&n, "level", "error");
		j_open(&n, "message", '{');
		j_str(&n, "text", msg.data);
		j_close(&n, '}');
		sarif_location(&n, &sf->uri, sf->base, false, 0, 0);
		j_close(&n, '}');
		if (n.err) {
			rep->notes.len = start;
			r = n.err;
			goto out;
		}
		rep->n_notes++;
	}
out:
	pvsub_buf_release(&fp);
	pvsub_buf_release(&msg);
	return r;
}

static int sarif_add(struct pvsub_report *rep, const struct pvsub_file_record *rec)
{
	const struct pvsub_scan_result *res = rec->status == PVSUB_FILE_ERROR ? NULL : rec->result;
	struct sarif_file sf = {
		.path = rec->path,
		.verdict = record_has_verdict(rec) ? pvsub_verdict_name(record_verdict(rec)) : NULL,
	};
	size_t start = rep->body.len, added = 0;
	struct json j;
	int r;

	json_init(&j, &rep->body, SARIF_RESULTS_DEPTH);
	j.empty[SARIF_RESULTS_DEPTH] = rep->n_body == 0;
	r = put_artifact_uri(rep, &sf.uri, rec->path, &sf.base);
	if (r == 0)
		r = pvsub_report_identity(rec->path, rec->input, rep->cwd, &sf.identity);
	if (r < 0)
		goto out;
	if (rec->status == PVSUB_FILE_ERROR) {
		r = sarif_error(rep, &j, &sf, record_error(rec));
		added++;
	}
	if (rec->status == PVSUB_FILE_NOT_SCANNED) {
		r = sarif_not_scanned(rep, &j, &sf, rec);
		added++;
	}
	for (size_t i = 0; res && r == 0 && i < res->n_findings; i++, added++)
		r = sarif_finding(rep, &j, &sf, res, &res->findings[i]);
	for (size_t i = 0; res && r == 0 && i < res->n_violations; i++, added++)
		r = sarif_violation(rep, &j, &sf, &res->violations[i]);
	if (r == 0)
		r = j.err;
out:
	if (r < 0) {
		rep->body.len = start;
		if (rep->body.data)
			rep->body.data[start] = '\0';
	} else {
		rep->n_body += added;
	}
	pvsub_buf_release(&sf.identity);
	pvsub_buf_release(&sf.uri);
	return r;
}

static void sarif_text(struct json *j, const char *key, const char *text)
{
	j_open(j, key, '{');
	j_str(j, "text", text);
	j_close(j, '}');
}

static const char *violation_text(const char *kind)
{
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(violation_kinds); i++)
		if (strcmp(violation_kinds[i].kind, kind) == 0)
			return violation_kinds[i].text;
	return "The object breaks a layout rule for executable memory";
}

/* "any-int" -> "AnyInt": SARIF wants rule names that read as identifiers. */
static void rule_name(const char *prefix, const char *id, char *out, size_t outlen)
{
	size_t n = 0;
	bool up = true;

	for (const char *s = prefix; *s && n + 1 < outlen; s++)
		out[n++] = *s;
	for (const char *s = id; *s && n + 1 < outlen; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
			up = true;
			continue;
		}
		if (up && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		up = false;
		out[n++] = c;
	}
	out[n] = '\0';
}

static const char pattern_full_fmt[] =
	"Policy %s forbids the byte pattern %s (%s) at every byte offset of memory that can "
	"execute: as an instruction, inside another instruction, across two instructions, "
	"across two adjacent sections, or produced at load time by a relocation or a kernel "
	"patch site. Guest code that contains it could switch into the privileged view without "
	"passing through a gate.";
static const char pattern_help[] =
	"Remove the occurrence. A real gate instruction must come out of the source (or be "
	"trapped when the policy says on-instruction \"trap\"); occurrences embedded in or "
	"spanning other instructions are subtracted by `pvsub-scan --rewrite`. Relocation and "
	"patch-site findings are re-checked at load time by pvsub-loader. See pvsub-scan(1).";
static const char violation_full_fmt[] =
	"%s. pvsub cannot certify an object whose executable memory can change or grow beyond "
	"what was scanned (violation kind %s).";
static const char violation_help[] =
	"Rebuild the object so that no memory is both writable and executable, the stack is not "
	"executable, there are no text relocations, and every executable section lies inside the "
	"file. See pvsub-scan(1).";
static const char input_short[] = "The input could not be scanned";
static const char input_full[] =
	"The file is not an ELF object pvsub can scan (truncated, corrupt, wrong machine) or "
	"could not be read; nothing in it was checked.";
static const char input_help[] =
	"Check that the input is an x86-64 ELF64 object, shared object or executable, or an "
	"archive that holds such files.";

static const char unscanned_short[] = "An executable in a format pvsub does not scan";
static const char unscanned_full[] =
	"The file is executable (PE/COFF, Mach-O, an ARM64 kernel Image, ELF for another "
	"machine or ELF32) but pvsub scans only x86-64 ELF64 files and x86 bzImages; gate "
	"opcodes in it were not looked for.";
static const char unscanned_help[] =
	"Remove the file from what is certified, or accept it knowingly with "
	"pvsub-scan --allow-unscanned. See pvsub-scan(1).";

static int sarif_rule(struct json *j, const struct rule *rule, const char *policy_id)
{
	const char *pats = rule->patterns ? rule->patterns : "not in the policy";
	struct pvsub_buf s = {0}, f = {0}, h = {0};
	const char *kind;
	char name[128];
	int r = 0;

	switch (rule->kind) {
	case RULE_PATTERN:
		rule_name("GateOpcode", rule->id, name, sizeof(name));
		r = pvsub_buf_printf(&s, "Forbidden byte pattern %s (%s) in executable memory",
				     rule->id, pats);
		if (r == 0)
			r = pvsub_buf_printf(&f, pattern_full_fmt, policy_id ? policy_id : "(none)",
					     rule->id, pats);
		if (r == 0)
			r = pvsub_buf_puts(&h, pattern_help);
		break;
	case RULE_VIOLATION:
		kind = rule->id + strlen(RULE_VIOLATION_PREFIX);
		rule_name("Violation", kind, name, sizeof(name));
		r = pvsub_buf_puts(&s, violation_text(kind));
		if (r == 0)
			r = pvsub_buf_printf(&f, violation_full_fmt, violation_text(kind), kind);
		if (r == 0)
			r = pvsub_buf_puts(&h, violation_help);
		break;
	case RULE_NOT_SCANNED:
		snprintf(name, sizeof(name), "NotScanned");
		r = pvsub_buf_puts(&s, unscanned_short);
		if (r == 0)
			r = pvsub_buf_puts(&f, unscanned_full);
		if (r == 0)
			r = pvsub_buf_puts(&h, unscanned_help);
		break;
	case RULE_INPUT_ERROR:
		snprintf(name, sizeof(name), "InputError");
		r = pvsub_buf_puts(&s, input_short);
		if (r == 0)
			r = pvsub_buf_puts(&f, input_full);
		if (r == 0)
			r = pvsub_buf_puts(&h, input_help);
		break;
	}
	if (r < 0)
		goto out;
	j_open(j, NULL, '{');
	j_str(j, "id", rule->id);
	j_str(j, "name", name);
	sarif_text(j, "shortDescription", s.data);
	sarif_text(j, "fullDescription", f.data);
	sarif_text(j, "help", h.data);
	j_open(j, "defaultConfiguration", '{');
	j_str(j, "level", "error");
	j_close(j, '}');
	j_open(j, "properties", '{');
	j_open(j, "tags", '[');
	j_str(j, NULL, rule->kind == RULE_INPUT_ERROR ? "reliability" : "security");
	j_close(j, ']');
	if (rule->kind != RULE_INPUT_ERROR)
		j_str(j, "security-severity", rule->kind == RULE_PATTERN ? "9.0" : "7.0");
	j_close(j, '}');
	j_close(j, '}');
out:
	pvsub_buf_release(&h);
	pvsub_buf_release(&f);
	pvsub_buf_release(&s);
	return r;
}

static int sarif_finish(struct pvsub_report *rep)
{
	struct pvsub_buf b = {0};
	struct json j;
	int r = 0;

	json_init(&j, &b, 0);
	j_open_root(&j, '{');
	j_str(&j, "$schema", SARIF_SCHEMA);
	j_str(&j, "version", "2.1.0");
	j_open(&j, "runs", '[');
	j_open(&j, NULL, '{');

	j_open(&j, "tool", '{');
	j_open(&j, "driver", '{');
	j_str(&j, "name", rep->tool_name);
	j_str(&j, "version", rep->tool_version);
	j_str(&j, "semanticVersion", rep->tool_version);
	j_open(&j, "rules", '[');
	for (size_t i = 0; r == 0 && i < rep->n_rules; i++)
		r = sarif_rule(&j, &rep->rules[i], rep->policy_id);
	j_close(&j, ']');
	j_close(&j, '}');
	j_close(&j, '}');

	if (rep->sarif_root) {
		struct pvsub_buf root = {0};

		/* A file: URI of a directory ends with '/'. */
		r = pvsub_buf_puts(&root, "file://");
		if (r == 0)
			r = put_uri(&root, rep->sarif_root);
		if (r == 0 && root.data[root.len - 1] != '/')
			r = pvsub_buf_putc(&root, '/');
		if (r == 0) {
			j_open(&j, "originalUriBaseIds", '{');
			j_open(&j, SARIF_SRCROOT, '{');
			j_str(&j, "uri", root.data);
			j_close(&j, '}');
			j_close(&j, '}');
		}
		pvsub_buf_release(&root);
	}

	j_open(&j, "invocations", '[');
	j_open(&j, NULL, '{');
	j_raw(&j, "executionSuccessful", rep->sum.errors ? "false" : "true");
	j_open(&j, "toolExecutionNotifications", '[');
	j_splice(&j, &rep->notes, rep->n_notes);
	j_close(&j, ']');
	j_close(&j, '}');
	j_close(&j, ']');

	j_open(&j, "results", '[');
	j_splice(&j, &rep->body, rep->n_body);
	j_close(&j, ']');

	if (rep->have_policy) {
		j_open(&j, "properties", '{');
		j_open(&j, "policy", '{');
		j_str(&j, "id", rep->policy_id);
		j_u64(&j, "version", rep->policy_version);
		j_str(&j, "sha256", rep->policy_sha256);
		j_close(&j, '}');
		j_close(&j, '}');
	}

	j_close(&j, '}');
	j_close(&j, ']');
	j_close(&j, '}');
	j_puts(&j, "\n");
	if (r == 0)
		r = j.err;
	if (r == 0)
		r = write_buf(rep->out, &b);
	pvsub_buf_release(&b);
	return r;
}

/* ---- JUnit ---------------------------------------------------------------- */

static int x_attr(struct pvsub_buf *b, const char *name, const char *value)
{
	int r = pvsub_buf_printf(b, " %s=\"", name);

	if (r == 0)
		r = pvsub_buf_xml_string(b, value);
	if (r == 0)
		r = pvsub_buf_putc(b, '"');
	return r;
}

/* <failure message="SHORT" type="TYPE">TEXT</failure> */
static int x_failure(struct pvsub_buf *b, const char *elem, const char *type, const char *message,
		     const char *body)
{
	int r = pvsub_buf_printf(b, "      <%s", elem);

	if (r == 0)
		r = x_attr(b, "message", message);
	if (r == 0)
		r = x_attr(b, "type", type);
	if (r == 0)
		r = pvsub_buf_putc(b, '>');
	if (r == 0)
		r = pvsub_buf_xml_string(b, body);
	if (r == 0)
		r = pvsub_buf_printf(b, "</%s>\n", elem);
	return r;
}

/* Seconds as JUnit writes them: "0.012". */
static int x_time(struct pvsub_buf *b, double seconds)
{
	return pvsub_buf_printf(b, " time=\"%.3f\"", seconds > 0 ? seconds : 0.0);
}

/*
 * The one <failure> of a file that is not certified: every finding,
 * violation and refused site is a line of its text, and the first one, with
 * how many more there are, is its message.
 */
static int junit_failure(struct pvsub_buf *b, const struct pvsub_file_record *rec)
{
	const struct pvsub_scan_result *res = rec->result;
	const struct pvsub_rewrite_result *rw = rec->rewrite;
	size_t nf = res ? res->n_findings : 0, nv = res ? res->n_violations : 0;
	size_t nr = rw ? rw->n_refusals : 0, total = nf + nv + nr;
	struct pvsub_buf text = {0}, msg = {0};
	const char *type = nf ? "finding" : nv ? "violation" : nr ? "refused" : "not-certified";
	int r = 0;

	for (size_t i = 0; r == 0 && i < nf; i++) {
		const struct pvsub_finding *f = &res->findings[i];

		if (i == 0) {
			r = pvsub_buf_printf(&msg, "%s at ", pattern_id(f));
			if (r == 0)
				r = put_location(&msg, f);
			if (r == 0)
				r = pvsub_buf_printf(&msg, ": %s", class_name(f->cls.cls));
		}
		if (r == 0 && text.len)
			r = pvsub_buf_putc(&text, '\n');
		if (r == 0)
			r = put_finding_line(&text, rec->path, f, false);
	}
	for (size_t i = 0; r == 0 && i < nv; i++) {
		const struct pvsub_violation *v = &res->violations[i];

		if (!msg.len)
			r = pvsub_buf_printf(&msg, "violation %s", violation_kind(v));
		if (r == 0 && text.len)
			r = pvsub_buf_putc(&text, '\n');
		if (r == 0)
			r = put_violation_line(&text, rec->path, v, false);
	}
	for (size_t i = 0; r == 0 && i < nr; i++) {
		if (!msg.len)
			r = pvsub_buf_printf(&msg, "refused at %s+%#" PRIx64,
					     rw->refusals[i].section, rw->refusals[i].offset);
		if (r == 0 && text.len)
			r = pvsub_buf_putc(&text, '\n');
		if (r == 0)
			r = pvsub_buf_printf(&text, "%s: %s+%#" PRIx64 ": refused: %s", rec->path,
					     rw->refusals[i].section, rw->refusals[i].offset,
					     rw->refusals[i].reason);
	}
	if (r == 0 && !msg.len)
		r = pvsub_buf_puts(&msg, "not certified");
	if (r == 0 && total > 1)
		r = pvsub_buf_printf(&msg, " (and %zu more)", total - 1);
	if (r == 0 && !text.len)
		r = pvsub_buf_printf(&text, "%s: not certified", rec->path);
	if (r == 0)
		r = x_failure(b, "failure", type, msg.data, text.data);
	pvsub_buf_release(&msg);
	pvsub_buf_release(&text);
	return r;
}

static int junit_add(struct pvsub_report *rep, const struct pvsub_file_record *rec)
{
	bool error = !record_has_verdict(rec);
	bool failure = !error && !pvsub_verdict_certifies(record_verdict(rec));
	struct pvsub_buf *b = &rep->junit;
	size_t start = b->len;
	int r;

	r = pvsub_buf_puts(b, "    <testcase");
	if (r == 0)
		r = x_attr(b, "classname", rep->tool_name);
	if (r == 0)
		r = x_attr(b, "name", rec->path);
	if (r == 0)
		r = x_time(b, rec->seconds);
	if (r == 0)
		r = pvsub_buf_puts(b, failure || error ? ">\n" : "/>\n");
	if (r == 0 && error)
		r = x_failure(b, "error", RULE_INPUT_ERROR_ID, record_error(rec),
			      record_error(rec));
	if (r == 0 && failure && rec->status == PVSUB_FILE_NOT_SCANNED) {
		struct pvsub_buf msg = {0};

		r = pvsub_buf_printf(&msg, "not scanned: %s", rec->format);
		if (r == 0)
			r = x_failure(b, "failure", RULE_NOT_SCANNED_ID, msg.data, msg.data);
		pvsub_buf_release(&msg);
	} else if (r == 0 && failure) {
		r = junit_failure(b, rec);
	}
	if (r == 0 && (failure || error))
		r = pvsub_buf_puts(b, "    </testcase>\n");
	if (r < 0) {
		b->len = start;
		if (b->data)
			b->data[start] = '\0';
		return r;
	}
	if (failure)
		rep->junit_failures++;
	rep->junit_seconds += rec->seconds > 0 ? rec->seconds : 0.0;
	return 0;
}

/* The name, counts and time that <testsuites> and <testsuite> both carry. */
static int junit_suite_attrs(struct pvsub_buf *b, const struct pvsub_report *rep, const char *suite,
			     size_t tests, size_t fail, size_t err)
{
	int r = x_attr(b, "name", suite);

	if (r == 0)
		r = pvsub_buf_printf(b, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\"", tests,
				     fail, err);
	if (r == 0)
		r = x_time(b, rep->junit_seconds);
	return r;
}

static int junit_property(struct pvsub_buf *b, const char *name, const char *value)
{
	int r = pvsub_buf_puts(b, "      <property");

	if (r == 0)
		r = x_attr(b, "name", name);
	if (r == 0)
		r = x_attr(b, "value", value);
	if (r == 0)
		r = pvsub_buf_puts(b, "/>\n");
	return r;
}

int pvsub_report_write_junit(struct pvsub_report *rep, FILE *out)
{
	struct pvsub_buf b = {0};
	const char *suite = rep->tool_name;
	size_t tests = rep->sum.files, fail = rep->junit_failures, err = rep->sum.errors;
	time_t when = (time_t)rep->junit_timestamp;
	char stamp[32] = "1970-01-01T00:00:00", version[24];
	struct tm tm;
	int r;

	if (!rep->want_junit)
		return -EINVAL;
	if (gmtime_r(&when, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	r = pvsub_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
	if (r == 0)
		r = junit_suite_attrs(&b, rep, suite, tests, fail, err);
	if (r == 0)
		r = pvsub_buf_puts(&b, ">\n  <testsuite");
	if (r == 0)
		r = junit_suite_attrs(&b, rep, suite, tests, fail, err);
	if (r == 0)
		r = x_attr(&b, "timestamp", stamp);
	if (r == 0)
		r = x_attr(&b, "hostname", rep->junit_hostname);
	if (r == 0)
		r = pvsub_buf_puts(&b, " id=\"0\"");
	if (r == 0)
		r = x_attr(&b, "package", suite);
	if (r == 0)
		r = pvsub_buf_puts(&b, ">\n    <properties>\n");
	if (r == 0)
		r = junit_property(&b, "tool.version", rep->tool_version);
	if (r == 0 && rep->have_policy) {
		snprintf(version, sizeof(version), "%lu", rep->policy_version);
		r = junit_property(&b, "policy.id", rep->policy_id);
		if (r == 0)
			r = junit_property(&b, "policy.version", version);
		if (r == 0)
			r = junit_property(&b, "policy.sha256", rep->policy_sha256);
	}
	if (r == 0)
		r = pvsub_buf_puts(&b, "    </properties>\n");
	if (r == 0 && rep->junit.len)
		r = pvsub_buf_append(&b, rep->junit.data, rep->junit.len);
	if (r == 0)
		r = pvsub_buf_puts(&b, "    <system-out/>\n    <system-err/>\n"
				       "  </testsuite>\n</testsuites>\n");
	if (r == 0)
		r = write_buf(out, &b);
	if (r == 0 && fflush(out) != 0)
		r = -EIO;
	pvsub_buf_release(&b);
	return r;
}

/* ---- entry points ----------------------------------------------------------- */

static void count(struct pvsub_report *rep, const struct pvsub_file_record *rec)
{
	const struct pvsub_scan_result *res = rec->status == PVSUB_FILE_ERROR ? NULL : rec->result;

	rep->sum.files++;
	if (rec->status == PVSUB_FILE_ERROR)
		rep->sum.errors++;
	if (rec->status == PVSUB_FILE_CLEAN || rec->status == PVSUB_FILE_REWRITTEN)
		rep->sum.clean++;
	if (rec->status == PVSUB_FILE_REWRITTEN)
		rep->rewritten++;
	if (rec->status == PVSUB_FILE_NOT_SCANNED) {
		rep->sum.not_scanned++;
		rep->unscanned_allowed = rep->unscanned_allowed || rec->allow_unscanned;
	}
	rep->by_status[rec->status]++;
	if (record_has_verdict(rec)) {
		enum pvsub_verdict v = record_verdict(rec);

		rep->by_verdict[v]++;
		if (v == PVSUB_VERDICT_LOAD_TIME)
			rep->sum.load_time++;
	}
	if (res) {
		rep->sum.findings += res->n_findings;
		rep->sum.violations += res->n_violations;
	}
}

int pvsub_report_add(struct pvsub_report *rep, const struct pvsub_file_record *rec)
{
	int r = 0;

	if (rep->finished || !rec->path || (unsigned)rec->status >= PVSUB_FILE_STATUS_COUNT)
		return -EINVAL;
	/* A report never says a file is clean that its verdict rejects, nor
	 * the other way round. */
	if (rec->status == PVSUB_FILE_NOT_SCANNED
		    ? !rec->format
		    : rec->status != PVSUB_FILE_ERROR &&
			      (!rec->result ||
			       rec->status != pvsub_file_status_of(rec->result, rec->rewrite)))
		return -EINVAL;
	/* JUnit first: it only appends to memory, so a failure there leaves
	 * nothing half-written on the output stream. */
	if (rep->want_junit)
		r = junit_add(rep, rec);
	if (r == 0) {
		switch (rep->format) {
		case PVSUB_REPORT_TEXT:
			r = text_add(rep, rec);
			break;
		case PVSUB_REPORT_JSON:
			r = json_add(rep, rec);
			break;
		case PVSUB_REPORT_SARIF:
			r = sarif_add(rep, rec);
			break;
		}
	}
	/* Counted even on failure: the summary covers every record offered,
	 * like the exit status the caller derives from them. */
	count(rep, rec);
	return r;
}

int pvsub_report_finish(struct pvsub_report *rep)
{
	int r = 0;

	if (rep->finished)
		return 0;
	rep->finished = true;
	if (rep->before_write)
		rep->before_write(rep->before_write_data);
	switch (rep->format) {
	case PVSUB_REPORT_TEXT:
		r = text_finish(rep);
		break;
	case PVSUB_REPORT_JSON:
		r = json_finish(rep);
		break;
	case PVSUB_REPORT_SARIF:
		r = sarif_finish(rep);
		break;
	}
	if (r == 0 && fflush(rep->out) != 0)
		r = -EIO;
	return r;
}
