/* SPDX-License-Identifier: MIT */
/*
 * kwindows FILE: the kernel mutable windows that libpvsub reads from an ELF
 * file (a module or a vmlinux), for the corpus tests to compare two
 * extractions of one kernel.  One line per window, "KIND SECTION OFFSET
 * LEN" (SECTION is the program header index of a vmlinux, OFFSET from the
 * segment's p_offset, both in hex), then one line per boot-patching
 * violation, "violation DETAIL".  Exit status 0, or 2 with one line on
 * standard error when FILE cannot be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/image.h"
#include "libpvsub/kmeta.h"

int main(int argc, char **argv)
{
	struct pvsub_diag d = {""};
	struct pvsub_image *img = NULL;
	const struct pvsub_mwindow *w;
	uint8_t *data = NULL;
	const char *why;
	size_t len, n;

	if (argc != 2) {
		fprintf(stderr, "usage: kwindows FILE\n");
		return 2;
	}
	if (pvsub_read_file(argv[1], (size_t)1 << 31, &data, &len, &d) < 0 ||
	    pvsub_image_new(data, len, &img, &d) < 0 || pvsub_image_kmeta(img, &w, &n, &why) < 0) {
		fprintf(stderr, "kwindows: %s: %s\n", argv[1], d.msg[0] ? d.msg : "out of memory");
		pvsub_image_free(img);
		free(data);
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		printf("%s %zx %llx %u\n", pvsub_window_kind_name(w[i].kind), w[i].section,
		       (unsigned long long)w[i].offset, w[i].len);
	if (why[0])
		printf("violation %s\n", why);
	for (size_t i = 0; i < pvsub_image_violation_count(img); i++) {
		const struct pvsub_violation *v = pvsub_image_violation(img, i);

		if (strcmp(v->kind, "boot-patching-unchecked") == 0)
			printf("violation %s\n", v->detail);
	}
	pvsub_image_free(img);
	free(data);
	return 0;
}
