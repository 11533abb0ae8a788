/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/kmeta.h"
#include "libpvsub/manifest.h"

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
		w_attr(w, "kind", g->boot ? "boot-code" : g->is_segment ? "segment" : "section");
		w_attr_u64(w, "index", g->index);
		w_attr_u64(w, "file-offset", g->file_offset);
		w_attr_u64(w, "size", g->size);
		w_attr(w, "sha256", g->sha256);
		w_attr_u64(w, "relocation-windows", g->reloc_windows);
		if (r->kaslr)
			w_attr_u64(w, "kaslr-windows", g->kaslr_windows);
		w_puts(w, "/>\n");
	}
	w_list_close(w, "regions", r->n_regions);
}

/* The KASLR relocation table of a vmlinux; absent for every other file. */
static void write_kaslr(struct writer *w, const struct pvsub_scan_result *r)
{
	const struct pvsub_kaslr_info *k = &r->kaslr_info;

	if (!r->kaslr)
		return;
	w_puts(w, "  <kaslr");
	w_attr_u64(w, "table-offset", k->table_offset);
	w_attr_u64(w, "table-size", k->table_size);
	w_attr(w, "table-sha256", r->kaslr_sha256);
	w_attr_u64(w, "fields-32", k->counts.n32);
	w_attr_u64(w, "fields-32-inverse", k->counts.n32_inverse);
	w_attr_u64(w, "fields-64", k->counts.n64);
	w_attr_u64(w, "step", k->offsets.step);
	w_attr_u64(w, "offsets", k->offsets.count);
	w_attr_u64(w, "windows", r->kaslr_stats.windows);
	w_attr_u64(w, "proven", r->kaslr_stats.proven);
	w_puts(w, "/>\n");
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

/* Every kernel mutable window with its verdict, in the scan's order (by
 * section or segment, then offset). */
static void write_mutable_windows(struct writer *w, const struct pvsub_scan_result *r)
{
	w_list_open(w, "mutable-windows", r->n_wverdicts);
	for (size_t i = 0; i < r->n_wverdicts && !w->err; i++) {
		const struct pvsub_window_verdict *m = &r->wverdicts[i];
		const char *name = m->region < r->n_regions && r->regions[m->region].name &&
						   r->regions[m->region].name[0]
					   ? r->regions[m->region].name
					   : "(none)";

		w_puts(w, "    <mutable-window");
		w_attr(w, "section", name);
		w_attr_u64(w, "offset", m->offset);
		w_attr_u64(w, "size", m->len);
		w_attr(w, "kind", pvsub_window_kind_name((enum pvsub_window_kind)m->kind));
		w_attr(w, "verdict", pvsub_wverdict_name((enum pvsub_wverdict)m->verdict));
		w_puts(w, "/>\n");
	}
	w_list_close(w, "mutable-windows", r->n_wverdicts);
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
	if (in->boot && in->boot->image_path) {
		w_puts(&w, "  <boot-image");
		w_attr(&w, "path", in->boot->image_path);
		w_attr_u64(&w, "size", in->boot->image_size);
		w_attr(&w, "sha256", in->boot->image_sha256);
		w_puts(&w, "/>\n");
	}
	if (r->modsig.present) {
		w_puts(&w, "  <module-signature");
		w_attr_u64(&w, "size", r->modsig.size);
		w_puts(&w, "/>\n");
	}

	write_regions(&w, r);
	write_kaslr(&w, r);
	write_findings(&w, r);
	write_rewrites(&w, in->rewrite);
	write_mutable_windows(&w, r);
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

/* --- the image manifest ----------------------------------------------------------- */

/* The verdict an image file counts as. */
static enum pvsub_verdict image_file_verdict(const struct pvsub_image_file *f)
{
	if (f->kind == PVSUB_IMAGE_FILE_ERROR || f->verdict >= PVSUB_VERDICT_COUNT)
		return PVSUB_VERDICT_REJECTED;
	return f->verdict;
}

static void write_image_file(struct writer *w, const struct pvsub_image_file *f)
{
	switch (f->kind) {
	case PVSUB_IMAGE_FILE_SCANNED:
		w_puts(w, "    <file");
		w_attr(w, "path", f->path);
		w_attr_u64(w, "size", f->size);
		w_attr(w, "sha256", f->sha256 ? f->sha256 : "");
		w_attr(w, "verdict", pvsub_verdict_name(image_file_verdict(f)));
		break;
	case PVSUB_IMAGE_FILE_NOT_SCANNED:
		w_puts(w, "    <not-scanned");
		w_attr(w, "path", f->path);
		w_attr(w, "format", f->detail ? f->detail : "");
		w_attr(w, "verdict", pvsub_verdict_name(image_file_verdict(f)));
		break;
	default:
		w_puts(w, "    <error");
		w_attr(w, "path", f->path);
		w_attr(w, "reason", f->detail ? f->detail : "");
		break;
	}
	w_puts(w, "/>\n");
}

/* <verdict> of the image: the worst of its files', with the counts that
 * keep it from `certified`. */
static void write_image_verdict(struct writer *w, const struct pvsub_image_manifest_input *in)
{
	size_t rejected = 0, load_time = 0, unscanned = 0, errors = 0;
	enum pvsub_verdict v = PVSUB_VERDICT_CERTIFIED;

	for (size_t i = 0; i < in->n_files; i++) {
		const struct pvsub_image_file *f = &in->files[i];
		enum pvsub_verdict fv = image_file_verdict(f);

		if (fv > v)
			v = fv;
		if (f->kind == PVSUB_IMAGE_FILE_ERROR)
			errors++;
		else if (f->kind == PVSUB_IMAGE_FILE_NOT_SCANNED && fv != PVSUB_VERDICT_CERTIFIED)
			unscanned++;
		else if (fv == PVSUB_VERDICT_REJECTED)
			rejected++;
		else if (fv == PVSUB_VERDICT_LOAD_TIME)
			load_time++;
	}
	if (v == PVSUB_VERDICT_CERTIFIED) {
		w_puts(w, "  <verdict result=\"certified\"/>\n");
		return;
	}
	w_printf(w, "  <verdict result=\"%s\">\n", pvsub_verdict_name(v));
	if (rejected)
		w_printf(w, "    <reason>%zu file%s rejected</reason>\n", rejected,
			 rejected == 1 ? "" : "s");
	if (load_time)
		w_printf(w, "    <reason>%zu file%s certified with load-time checks</reason>\n",
			 load_time, load_time == 1 ? "" : "s");
	if (unscanned)
		w_printf(w, "    <reason>%zu executable%s not scanned</reason>\n", unscanned,
			 unscanned == 1 ? "" : "s");
	if (errors)
		w_printf(w, "    <reason>%zu error%s</reason>\n", errors, errors == 1 ? "" : "s");
	w_puts(w, "  </verdict>\n");
}

int pvsub_manifest_write_image(const struct pvsub_image_manifest_input *in, struct pvsub_buf *out)
{
	struct writer w = {.out = out};
	size_t start = out->len;

	if (!in->policy || !in->image_path || !in->format || !in->sha256 || !in->tool_name ||
	    !in->tool_version || (in->n_files && !in->files))
		return -EINVAL;
	for (size_t i = 0; i < in->n_files; i++) {
		if (!in->files[i].path ||
		    (in->files[i].kind == PVSUB_IMAGE_FILE_SCANNED && !in->files[i].sha256))
			return -EINVAL;
	}
	w_puts(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	w_puts(&w, "<image-manifest xmlns=\"urn:pvsub:manifest:1\" version=\"1\">\n");
	w_puts(&w, "  <tool");
	w_attr(&w, "name", in->tool_name);
	w_attr(&w, "version", in->tool_version);
	w_puts(&w, "/>\n");
	write_policy(&w, in->policy);
	w_puts(&w, "  <image");
	w_attr(&w, "path", in->image_path);
	w_attr(&w, "format", in->format);
	w_attr_u64(&w, "size", in->size);
	w_attr(&w, "sha256", in->sha256);
	w_puts(&w, "/>\n");
	w_list_open(&w, "files", in->n_files);
	for (size_t i = 0; i < in->n_files; i++)
		write_image_file(&w, &in->files[i]);
	w_list_close(&w, "files", in->n_files);
	write_image_verdict(&w, in);
	w_puts(&w, "</image-manifest>\n");
	if (w.err < 0) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return w.err;
}
