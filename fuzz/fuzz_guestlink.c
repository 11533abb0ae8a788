/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the guest linker (guestlink) over arbitrary bytes,
 * as pvsub-loader will use it.  The input is one or more relocatable
 * objects back to back (a new one starts at each "\x7fELF" after the
 * first 64 bytes); each is read as a view, and those the reader accepts
 * are planned and, when the plan holds, applied at a base in reach of the
 * API table and at one far from it.
 *
 * Besides the sanitizers, it checks what the linker promises: a refusal is
 * one line; an accepted plan's regions are page aligned, in order and
 * inside the image, with the entry point in the code and the GOT as large
 * as its entries; an applied image has its guard pages and the code's
 * padding as 0xCC and its bss zero, and applying the same plan at the same
 * base again gives the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/guestlink.h"
#include "libpvsub/relobj.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

#define MAX_OBJECTS 4
/* Images larger than this are planned, not written (the fuzzer's memory). */
#define MAX_APPLIED (16u << 20)

static const struct pvsub_guestlink_api api[] = {
	{"test_log", 0x10100000}, {"test_add", 0x10100040},   {"test_input", 0x10100080},
	{"test_value", 0x10200000}, {"ext", 0x10300000},	{"far", 0x7fff00000000},
};

static void check_one_line(const struct pvsub_diag *d)
{
	CHECK(memchr(d->msg, '\0', sizeof(d->msg)) != NULL);
	CHECK(d->msg[0] != '\0');
	CHECK(strchr(d->msg, '\n') == NULL);
}

static void check_region(const struct pvsub_guestlink_region *r, uint64_t *at)
{
	CHECK(r->offset % PVSUB_GUESTLINK_PAGE == 0);
	CHECK(r->size % PVSUB_GUESTLINK_PAGE == 0);
	CHECK(r->offset == *at);
	*at = r->offset + r->size;
}

static void check_layout(const struct pvsub_guestlink *gl, const struct pvsub_guestlink_layout *l)
{
	uint64_t at = 0;

	check_region(&l->guard_lo, &at);
	check_region(&l->code, &at);
	check_region(&l->guard_hi, &at);
	check_region(&l->rodata, &at);
	check_region(&l->got, &at);
	check_region(&l->data, &at);
	check_region(&l->bss, &at);
	CHECK(l->size == at && l->size <= PVSUB_GUESTLINK_MAX_SIZE);
	CHECK(l->guard_lo.size == PVSUB_GUESTLINK_PAGE && l->guard_hi.size == PVSUB_GUESTLINK_PAGE);
	CHECK(l->entry >= l->code.offset && l->entry < l->code.offset + l->code.size);
	CHECK(pvsub_guestlink_got_count(gl) * 8 <= l->got.size);
	CHECK(l->got.size < pvsub_guestlink_got_count(gl) * 8 + PVSUB_GUESTLINK_PAGE);
}

static void check_apply(const struct pvsub_guestlink *gl, const struct pvsub_guestlink_layout *l,
			uint64_t base)
{
	struct pvsub_diag diag = {{0}};
	uint8_t *img = malloc(l->size), *again;

	CHECK(img != NULL);
	if (pvsub_guestlink_apply(gl, base, img, l->size, &diag) < 0) {
		check_one_line(&diag);
		free(img);
		return;
	}
	for (uint64_t i = 0; i < l->guard_lo.size; i++)
		CHECK(img[l->guard_lo.offset + i] == 0xcc);
	for (uint64_t i = 0; i < l->guard_hi.size; i++)
		CHECK(img[l->guard_hi.offset + i] == 0xcc);
	for (uint64_t i = 0; i < l->bss.size; i++)
		CHECK(img[l->bss.offset + i] == 0);
	again = malloc(l->size);
	CHECK(again != NULL);
	CHECK(pvsub_guestlink_apply(gl, base, again, l->size, &diag) == 0);
	CHECK(memcmp(img, again, l->size) == 0);
	free(again);
	free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvsub_relobj *views[MAX_OBJECTS] = {NULL};
	const struct pvsub_relobj *objs[MAX_OBJECTS];
	struct pvsub_diag diag = {{0}};
	struct pvsub_guestlink *gl = NULL;
	struct pvsub_guestlink_layout l;
	size_t n = 0, start = 0;

	while (start < size && n < MAX_OBJECTS) {
		size_t end = size;
		const uint8_t *next = size - start > 64 ? memmem(data + start + 64, size - start - 64,
								 "\x7f" "ELF", 4)
							: NULL;

		if (next && n + 1 < MAX_OBJECTS)
			end = (size_t)(next - data);
		if (pvsub_relobj_view(data + start, end - start, &views[n], &diag) < 0) {
			check_one_line(&diag);
			goto out;
		}
		objs[n] = views[n];
		n++;
		start = end;
	}
	if (n == 0)
		goto out;
	if (pvsub_guestlink_plan(objs, NULL, n, api, sizeof(api) / sizeof(api[0]), &gl, &diag) < 0) {
		check_one_line(&diag);
		CHECK(gl == NULL);
		goto out;
	}
	pvsub_guestlink_layout(gl, &l);
	check_layout(gl, &l);
	if (l.size <= MAX_APPLIED) {
		check_apply(gl, &l, 0x10000000);
		check_apply(gl, &l, 0x7f0000000000);
	}
out:
	pvsub_guestlink_free(gl);
	for (size_t i = 0; i < n; i++)
		pvsub_relobj_free(views[i]);
	return 0;
}
