/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include <openssl/evp.h>

#include "libpvsub/crypto.h"

int pvsub_sha256(const void *data, size_t len, uint8_t out[PVSUB_SHA256_LEN])
{
	unsigned int outlen = 0;

	if (!EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL) || outlen != PVSUB_SHA256_LEN)
		return -EIO;
	return 0;
}

int pvsub_sha256_hex(const void *data, size_t len, char out[PVSUB_SHA256_HEX_LEN])
{
	uint8_t md[PVSUB_SHA256_LEN];
	int r = pvsub_sha256(data, len, md);

	if (r < 0)
		return r;
	pvsub_hex(md, sizeof(md), out);
	return 0;
}
