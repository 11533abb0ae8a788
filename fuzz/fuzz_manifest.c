/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: manifest validation against the compiled-in schema.  A
 * refusal must say why on one line (libxml2 messages can span two).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/manifest_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvsub_diag diag = {0};

	if (pvsub_manifest_validate((const char *)data, size, &diag) == -EINVAL &&
	    (!diag.msg[0] || strchr(diag.msg, '\n')))
		abort();
	return 0;
}
