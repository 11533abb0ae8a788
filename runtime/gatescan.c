/* SPDX-License-Identifier: MIT */
/*
 * gatescan: the gate profile's patterns, matched exactly (gatescan.h).
 */
#include <string.h>

#include "runtime/gatescan.h"

/* The pattern starting with 0f, @b1 and the ModRM byte @b2, or NULL. */
static const char *gate_at(uint8_t b1, uint8_t b2)
{
	unsigned mod = b2 >> 6, reg = (b2 >> 3) & 7u;

	if (b1 == 0x01 && b2 == 0xd4)
		return "vmfunc";
	if (b1 == 0x01 && b2 == 0xef)
		return "wrpkru";
	if (b1 == 0xae && reg == 5 && mod != 3)
		return "xrstor";
	if (b1 == 0xc7 && reg == 3 && mod != 3)
		return "xrstors";
	return NULL;
}

size_t gatescan_next(const uint8_t *buf, size_t len, size_t from, const char **name)
{
	/* every pattern is three bytes long and starts with 0f, which
	 * memchr() finds a word at a time */
	for (size_t i = from; len >= 3 && i <= len - 3; i++) {
		const uint8_t *p = memchr(buf + i, 0x0f, len - 2 - i);
		const char *n;

		if (!p)
			break;
		i = (size_t)(p - buf);
		n = gate_at(buf[i + 1], buf[i + 2]);
		if (n) {
			*name = n;
			return i;
		}
	}
	return len;
}
