/* SPDX-License-Identifier: MIT */
/*
 * crypto: hashing on OpenSSL 3.  Signing and verification (pvsub-sign) will
 * live here too, so that the loader can reuse them.
 */
#ifndef PVSUB_CRYPTO_H
#define PVSUB_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "libpvsub/util.h"

#define PVSUB_SHA256_LEN 32
#define PVSUB_SHA256_HEX_LEN (2 * PVSUB_SHA256_LEN + 1)

/* SHA-256 of @len bytes at @data into @out.  0 or -EIO (OpenSSL failure). */
int pvsub_sha256(const void *data, size_t len, uint8_t out[PVSUB_SHA256_LEN]) _must_check_;

/* Same, as 64 lower-case hex digits plus NUL. */
int pvsub_sha256_hex(const void *data, size_t len, char out[PVSUB_SHA256_HEX_LEN]) _must_check_;

#endif
