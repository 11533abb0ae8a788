/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: archive and compressed input read from memory
 * (pvsub_input_walk_memory), with every ELF file found handed to the image
 * model as pvsub-scan would.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/image.h"
#include "libpvsub/input.h"

static int on_item(void *data, struct pvsub_item *item)
{
	struct pvsub_diag diag = {0};
	struct pvsub_image *img = NULL;
	size_t *count = data;

	/* an error is one line: reports are line-oriented */
	if (!item->path || (!item->data && !item->error && !item->format) ||
	    (item->error && (!item->error[0] || strchr(item->error, '\n'))))
		abort();
	if (item->data && pvsub_image_new(item->data, item->size, &img, &diag) == 0)
		pvsub_image_free(img);
	pvsub_item_free(item);
	/* Stop a walk that yields absurdly many items; the walk must honour it. */
	return ++*count > 10000 ? -E2BIG : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvsub_input_limits lim;
	size_t count = 0;

	pvsub_input_limits_default(&lim);
	/* Small enough that a decompression bomb is cut short quickly. */
	lim.max_entry_size = 16u << 20;
	lim.max_total_size = 64u << 20;
	(void)pvsub_input_walk_memory(NULL, "fuzz", data, size, &lim, on_item, &count);
	return 0;
}
