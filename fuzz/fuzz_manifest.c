/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: manifest validation against the compiled-in schema. */
#include <stdint.h>

#include "libpvsub/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvsub_diag diag = {0};

	(void)pvsub_manifest_validate((const char *)data, size, &diag);
	return 0;
}
