/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the kallsyms reader over arbitrary bytes, as the image
 * feeds it a stripped vmlinux's loadable segments.  The first byte sets the
 * runs' address modulo 8 and where the input is split into two runs; the
 * rest is the runs' bytes.  Besides the sanitizers, it checks what the
 * reader promises: a refusal is one line that says "not found" or
 * "ambiguous"; a kallsyms that is found has its tables inside one run, in
 * order, and every symbol it lists has a type letter and a printable name
 * that lookup finds again.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/kallsyms.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

struct walk {
	size_t n;
	char first[PVSUB_KALLSYMS_NAME_MAX + 1];
	uint64_t first_addr;
};

static int check_symbol(const char *name, char type, uint64_t addr, void *arg)
{
	struct walk *w = arg;
	size_t len = strlen(name);

	CHECK((type >= 'a' && type <= 'z') || (type >= 'A' && type <= 'Z'));
	CHECK(len >= 1 && len < PVSUB_KALLSYMS_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		CHECK(name[i] > 0x20 && name[i] < 0x7f);
	if (w->n++ == 0) {
		memcpy(w->first, name, len + 1);
		w->first_addr = addr;
	}
	return 0;
}

static bool inside(const struct pvsub_kallsyms_run *r, uint64_t a, size_t len)
{
	return a >= r->vaddr && a - r->vaddr <= r->size && len <= r->size - (a - r->vaddr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvsub_kallsyms_run runs[2];
	struct pvsub_kallsyms_layout lay;
	struct pvsub_kallsyms *ks = NULL;
	struct pvsub_diag d = {""};
	struct walk w = {0, "", 0};
	size_t split;
	uint64_t addr;
	int r;

	if (size < 1)
		return 0;
	split = (size_t)(data[0] >> 3) * 64;
	data++;
	size--;
	if (split > size)
		split = size;
	runs[0] = (struct pvsub_kallsyms_run){0xffffffff82000000ull + (data[-1] & 7), data, split};
	runs[1] = (struct pvsub_kallsyms_run){0xffffffff83000000ull + (data[-1] & 7), data + split,
					      size - split};
	r = pvsub_kallsyms_find(runs, 2, &ks, &d);
	if (r < 0) {
		CHECK(r == -ENOENT || r == -EINVAL || r == -ENOMEM);
		CHECK(memchr(d.msg, '\0', sizeof(d.msg)) != NULL && strchr(d.msg, '\n') == NULL);
		CHECK(r == -ENOMEM || strncmp(d.msg, "kallsyms not found: ", 20) == 0 ||
		      strncmp(d.msg, "kallsyms ambiguous: ", 20) == 0);
		CHECK(ks == NULL);
		return 0;
	}
	pvsub_kallsyms_layout(ks, &lay);
	CHECK(lay.count >= 1);
	CHECK(lay.offsets < lay.relative_base && lay.relative_base < lay.num_syms &&
	      lay.num_syms < lay.names && lay.names < lay.markers &&
	      lay.markers < lay.token_table && lay.token_table < lay.token_index);
	CHECK(inside(&runs[0], lay.offsets, lay.token_index + 512 - lay.offsets) ||
	      inside(&runs[1], lay.offsets, lay.token_index + 512 - lay.offsets));
	CHECK(pvsub_kallsyms_foreach(ks, check_symbol, &w) == 0);
	CHECK(w.n == lay.count);
	r = pvsub_kallsyms_lookup(ks, w.first, &addr, &d);
	CHECK(r == 0 || r == -EINVAL);
	CHECK(r != 0 || addr == w.first_addr);
	pvsub_kallsyms_free(ks);
	return 0;
}
