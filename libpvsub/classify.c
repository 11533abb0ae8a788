/* SPDX-License-Identifier: MIT */
/*
 * Classification decodes from the nearest code start at or before the
 * occurrence.  A decode failure on the way is reported as UNDECODED rather
 * than retried from an earlier start or resynchronised: any other answer
 * would be a guess about where instructions begin, and the rewriter relies
 * on the boundaries being real.
 *
 * "Where, not what": INSTRUCTION says that the occurrence starts at an
 * instruction's opcode, whatever that instruction is.  An occurrence that
 * starts in the prefix bytes is EMBEDDED with a field such as
 * "prefix+opcode", because jumping to its first byte does not execute the
 * pattern as the opcode it spells.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libpvsub/classify.h"
#include "libpvsub/kmeta.h"

const char *pvsub_class_name(enum pvsub_class c)
{
	switch (c) {
	case PVSUB_CLASS_INSTRUCTION:
		return "instruction";
	case PVSUB_CLASS_EMBEDDED:
		return "embedded";
	case PVSUB_CLASS_SPANNING:
		return "spanning";
	case PVSUB_CLASS_RELOCATION:
		return "relocation";
	case PVSUB_CLASS_PATCH_SITE:
		return "patch-site";
	case PVSUB_CLASS_UNDECODED:
		return "undecoded";
	case PVSUB_CLASS_KASLR:
		return "kaslr";
	}
	return "unknown";
}

/* Index of the last code start at or before @pos (starts include pos 0). */
static size_t last_start_before(const struct pvsub_code_start *s, size_t n, size_t pos)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid].pos <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : 0;
}

/* Append @s to the NUL-terminated @out of @size bytes, truncating: long
 * AVX-512 operand strings do not fit, and the text is only for humans. */
static void append(char *out, size_t size, const char *s)
{
	size_t have = strnlen(out, size - 1), n = strlen(s);

	if (n > size - 1 - have)
		n = size - 1 - have;
	memcpy(out + have, s, n);
	out[have + n] = '\0';
}

static void insn_text(const struct pvsub_insn *in, char *out, size_t size)
{
	out[0] = '\0';
	append(out, size, in->mnemonic);
	if (in->op_str[0]) {
		append(out, size, " ");
		append(out, size, in->op_str);
	}
}

static void embedded_field(const struct pvsub_insn *in, unsigned first, unsigned last, char *out,
			   size_t size)
{
	enum pvsub_x86_field a = pvsub_insn_field_at(in, first);
	enum pvsub_x86_field b = pvsub_insn_field_at(in, last);

	if (a == b)
		snprintf(out, size, "%s", pvsub_x86_field_name(a));
	else
		snprintf(out, size, "%s+%s", pvsub_x86_field_name(a), pvsub_x86_field_name(b));
}

/*
 * The first of the @n windows @w (sorted by offset, each whole in the
 * region) that bytes [@pos, @pos + @len) of the region overlap, or @n.
 * Windows count from the section or segment start, where the region's
 * bytes[0] is at @origin (negative for a segment's page head).  A window is
 * at most PVSUB_MWINDOW_MAX_LEN bytes, so those starting further back
 * cannot reach @pos: a kernel has a hundred thousand windows.
 */
static size_t window_at(const struct pvsub_mwindow *w, size_t n, int64_t origin, size_t pos,
			size_t len)
{
	size_t lo = 0, hi = n;
	uint64_t from = pos > PVSUB_MWINDOW_MAX_LEN ? pos - PVSUB_MWINDOW_MAX_LEN : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w[mid].offset - (uint64_t)origin < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < n && w[i].offset - (uint64_t)origin < pos + len; i++)
		if (w[i].offset - (uint64_t)origin + w[i].len > pos)
			return i;
	return n;
}

int pvsub_classify_at(struct pvsub_decoder *d, struct pvsub_image *img, size_t region, size_t pos,
		   size_t len, struct pvsub_classification *out)
{
	return pvsub_classify_next(d, img, region, pos, len, NULL, out);
}

int pvsub_classify_next(struct pvsub_decoder *d, struct pvsub_image *img, size_t region, size_t pos,
			size_t len, struct pvsub_decode_cursor *cur,
			struct pvsub_classification *out)
{
	size_t start;
	const struct pvsub_region *reg;
	const struct pvsub_code_start *starts;
	struct pvsub_insn in;
	size_t ns, at, off;
	int r;

	memset(out, 0, sizeof(*out));
	if (region >= pvsub_image_region_count(img))
		return -EINVAL;
	reg = pvsub_image_region(img, region);
	if (!reg || len == 0 || pos >= reg->size || len > SIZE_MAX - pos)
		return -EINVAL;

	r = pvsub_image_overlaps_reloc(img, region, pos, len);
	if (r < 0)
		return r;
	if (r) {
		out->cls = PVSUB_CLASS_RELOCATION;
		return 0;
	}

	const struct pvsub_mwindow *mw;
	size_t nmw;
	r = pvsub_image_mutable_windows(img, region, &mw, &nmw);
	if (r < 0)
		return r;
	size_t i = window_at(mw, nmw, reg->origin, pos, len);
	if (i < nmw) {
		out->cls = PVSUB_CLASS_PATCH_SITE;
		snprintf(out->field, sizeof(out->field), "%s", pvsub_window_kind_name(mw[i].kind));
		return 0;
	}

	r = pvsub_image_code_starts(img, region, &starts, &ns);
	if (r < 0)
		return r;
	at = ns ? starts[last_start_before(starts, ns, pos)].pos : 0;
	if (at > pos)
		at = 0;
	start = at;
	/* Occurrences come in ascending order: resume the sweep from the last
	 * boundary found from the same start instead of decoding it again. */
	if (cur && cur->bytes == reg->bytes && cur->start == start && cur->at >= at &&
	    cur->at <= pos) {
		/* The decode from this start already failed before @pos: it
		 * fails again at the same place. */
		if (cur->failed) {
			out->cls = PVSUB_CLASS_UNDECODED;
			return 0;
		}
		at = cur->at;
	}
	for (;;) {
		if (pvsub_decoder_decode(d, reg->bytes + at, reg->size - at, reg->vaddr + at, &in) < 0) {
			if (cur)
				*cur = (struct pvsub_decode_cursor){reg->bytes, start, at, true};
			out->cls = PVSUB_CLASS_UNDECODED;
			return 0;
		}
		if (at + in.len > pos)
			break;
		at += in.len;
	}

	if (cur)
		*cur = (struct pvsub_decode_cursor){reg->bytes, start, at, false};
	out->insn_pos = at;
	out->insn_len = in.len;
	insn_text(&in, out->insn_text, sizeof(out->insn_text));
	off = pos - at;
	if (len > (size_t)in.len - off)
		out->cls = PVSUB_CLASS_SPANNING;
	else if (off == in.opcode_offset)
		out->cls = PVSUB_CLASS_INSTRUCTION;
	else {
		out->cls = PVSUB_CLASS_EMBEDDED;
		embedded_field(&in, (unsigned)off, (unsigned)(off + len - 1), out->field,
			       sizeof(out->field));
	}
	return 0;
}

int pvsub_classify_sweep(struct pvsub_decoder *d, struct pvsub_image *img, size_t region,
		     struct pvsub_deep_stats *st)
{
	const struct pvsub_region *reg;
	const struct pvsub_code_start *starts;
	struct pvsub_insn in;
	size_t ns;
	int r;

	if (region >= pvsub_image_region_count(img))
		return -EINVAL;
	reg = pvsub_image_region(img, region);
	if (!reg)
		return -EINVAL;
	r = pvsub_image_code_starts(img, region, &starts, &ns);
	if (r < 0)
		return r;

	st->bytes += reg->size;
	for (size_t i = 0; i < ns; i++) {
		size_t at = starts[i].pos;
		size_t stop = i + 1 < ns ? starts[i + 1].pos : reg->size;
		bool in_run = false;

		if (stop > reg->size)
			stop = reg->size;
		while (at < stop) {
			/* the last instruction may run past the next start */
			if (pvsub_decoder_decode(d, reg->bytes + at, reg->size - at, reg->vaddr + at, &in) <
			    0) {
				st->undecoded_bytes++;
				if (!in_run)
					st->undecoded_runs++;
				in_run = true;
				at++;
				continue;
			}
			in_run = false;
			if (in.from_table)
				st->table_hits++;
			else
				st->instructions++;
			at += in.len;
		}
	}
	return 0;
}
