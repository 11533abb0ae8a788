/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/ksymgen.h"

/* Codes 1..N_MULTI stand for these substrings; printable codes for
 * themselves; every other code is an empty token. */
static const char *const multi[] = {
	"__start_", "__stop_", "_table", "_sites", "static_call", "mcount_loc", "jump", "sym_",
};
#define N_MULTI (sizeof(multi) / sizeof(multi[0]))

static const char *token(unsigned code, char *one)
{
	if (code >= 1 && code <= N_MULTI)
		return multi[code - 1];
	if (code > 0x20 && code < 0x7f) {
		one[0] = (char)code;
		one[1] = '\0';
		return one;
	}
	return "";
}

/* @s compressed into @out (at most strlen(@s) codes): the code count, or
 * -1 for a character no token holds. */
static int encode(const char *s, uint8_t *out)
{
	int n = 0;

	while (*s) {
		size_t best = 0;
		unsigned code = 0;

		for (unsigned m = 0; m < N_MULTI; m++) {
			size_t l = strlen(multi[m]);
			if (l > best && strncmp(s, multi[m], l) == 0) {
				best = l;
				code = m + 1;
			}
		}
		if (!best) {
			if (*s <= 0x20 || *s >= 0x7f)
				return -1;
			best = 1;
			code = (unsigned char)*s;
		}
		out[n++] = (uint8_t)code;
		s += best;
	}
	return n;
}

static size_t al8(size_t x)
{
	return (x + 7) & ~(size_t)7;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static const struct ksymgen_sym *sort_base;

static int by_name(const void *a, const void *b)
{
	return strcmp(sort_base[*(const size_t *)a].name, sort_base[*(const size_t *)b].name);
}

int ksymgen_build(const struct ksymgen_sym *syms, size_t n, bool seqs, uint8_t **blob,
		  struct ksymgen_layout *lay)
{
	size_t names_len = 0, table_len = 0, nm = (n + 255) / 256, pos = 0, *order;
	uint64_t base = 0;
	bool have_base = false;
	char one[2];
	uint8_t *b, codes[1024];

	for (size_t i = 0; i < n; i++) {
		char full[600];
		int c;

		if (strlen(syms[i].name) > 510)
			return -1;
		full[0] = syms[i].type;
		strcpy(full + 1, syms[i].name);
		c = encode(full, codes);
		if (c < 0)
			return -1;
		names_len += (size_t)c + (c > 127 ? 2 : 1);
		if (!syms[i].absolute && !have_base) {
			base = syms[i].addr;
			have_base = true;
		}
	}
	for (unsigned t = 0; t < 256; t++)
		table_len += strlen(token(t, one)) + 1;
	if (!have_base)
		return -1;

	lay->offsets = pos;
	pos = al8(pos + 4 * n);
	lay->relative_base = pos;
	pos += 8;
	lay->num_syms = pos;
	pos = al8(pos + 4);
	lay->names = pos;
	pos = al8(pos + names_len);
	lay->markers = pos;
	pos = al8(pos + 4 * nm);
	lay->seqs = SIZE_MAX;
	if (seqs) {
		lay->seqs = pos;
		pos = al8(pos + 3 * n);
	}
	lay->token_table = pos;
	pos = al8(pos + table_len);
	lay->token_index = pos;
	pos += 512;
	lay->size = pos;

	b = calloc(1, pos);
	order = calloc(n ? n : 1, sizeof(*order));
	if (!b || !order) {
		free(b);
		free(order);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t off;

		if (syms[i].absolute)
			off = (int64_t)syms[i].addr;
		else
			off = (int64_t)(base - syms[i].addr) - 1;
		if (off > INT32_MAX || off < INT32_MIN || (syms[i].absolute && off < 0))
			goto fail;
		put32(b + lay->offsets + 4 * i, (uint32_t)(int32_t)off);
	}
	for (int i = 0; i < 8; i++)
		b[lay->relative_base + (size_t)i] = (uint8_t)(base >> (8 * i));
	put32(b + lay->num_syms, (uint32_t)n);
	pos = lay->names;
	for (size_t i = 0; i < n; i++) {
		char full[600];
		int c;

		full[0] = syms[i].type;
		strcpy(full + 1, syms[i].name);
		c = encode(full, codes);
		if (i % 256 == 0)
			put32(b + lay->markers + 4 * (i / 256), (uint32_t)(pos - lay->names));
		lay->last_name = pos;
		if (c > 127) {
			b[pos++] = (uint8_t)((c & 0x7f) | 0x80);
			b[pos++] = (uint8_t)(c >> 7);
		} else {
			b[pos++] = (uint8_t)c;
		}
		memcpy(b + pos, codes, (size_t)c);
		pos += (size_t)c;
	}
	if (seqs) {
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		sort_base = syms;
		qsort(order, n, sizeof(*order), by_name);
		for (size_t i = 0; i < n; i++) {
			b[lay->seqs + 3 * i] = (uint8_t)(order[i] >> 16);
			b[lay->seqs + 3 * i + 1] = (uint8_t)(order[i] >> 8);
			b[lay->seqs + 3 * i + 2] = (uint8_t)order[i];
		}
	}
	pos = lay->token_table;
	for (unsigned t = 0; t < 256; t++) {
		const char *s = token(t, one);

		b[lay->token_index + 2 * t] = (uint8_t)(pos - lay->token_table);
		b[lay->token_index + 2 * t + 1] = (uint8_t)((pos - lay->token_table) >> 8);
		memcpy(b + pos, s, strlen(s) + 1);
		pos += strlen(s) + 1;
	}
	free(order);
	*blob = b;
	return 0;
fail:
	free(b);
	free(order);
	return -1;
}

const char *const ksymgen_kernel_syms[KSYMGEN_KERNEL_SYMS] = {
	"_start",
	"__start___jump_table",
	"__stop___jump_table",
	"__start_static_call_sites",
	"__stop_static_call_sites",
	"__start_mcount_loc",
	"__stop_mcount_loc",
};

char *ksymgen_kernel_asm(const char *const names[KSYMGEN_KERNEL_SYMS])
{
	struct ksymgen_sym syms[KSYMGEN_KERNEL_SYMS + 1];
	struct ksymgen_layout lay;
	size_t cap, used;
	uint8_t *blob;
	char *src;

	for (size_t i = 0; i < KSYMGEN_KERNEL_SYMS; i++)
		syms[i] = (struct ksymgen_sym){names[i], i ? 'D' : 'T', i, true};
	syms[KSYMGEN_KERNEL_SYMS] = (struct ksymgen_sym){"ks_end", 'r', 0x1000, false};
	if (ksymgen_build(syms, KSYMGEN_KERNEL_SYMS + 1, true, &blob, &lay) < 0)
		return NULL;
	/* the offsets and the base are written as the linker resolves them */
	if (lay.num_syms != lay.relative_base + 8) {
		free(blob);
		return NULL;
	}
	cap = 256 + 48 * KSYMGEN_KERNEL_SYMS + 12 * lay.size;
	src = malloc(cap);
	if (!src) {
		free(blob);
		return NULL;
	}
	used = (size_t)sprintf(src, "\t.section .rodata, \"a\"\n\t.balign 8\n");
	for (size_t i = 0; i < KSYMGEN_KERNEL_SYMS; i++)
		used += (size_t)sprintf(src + used, "\t.long %s\n", ksymgen_kernel_syms[i]);
	used += (size_t)sprintf(src + used, "\t.long -1\n\t.balign 8\n\t.quad ks_end\n");
	for (size_t i = lay.num_syms; i < lay.size; i++)
		used += (size_t)sprintf(src + used, "\t.byte %u\n", blob[i]);
	sprintf(src + used, "ks_end:\n");
	free(blob);
	return src;
}
