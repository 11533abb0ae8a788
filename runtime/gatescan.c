/* SPDX-License-Identifier: MIT */
/*
 * gatescan: the gate profile's patterns, matched exactly (gatescan.h).
 */
#include <emmintrin.h>

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

/*
 * A bit for each of the 16 offsets from @p where a pattern may start: the
 * byte is 0f and the next one 01, ae or c7 (the second bytes of every
 * pattern), which is rare in code, unlike 0f alone (every two-byte
 * opcode).  Reads @p[0] to @p[16].
 */
static unsigned candidates(const uint8_t *p)
{
	__m128i b0 = _mm_loadu_si128((const __m128i *)p);
	__m128i b1 = _mm_loadu_si128((const __m128i *)(p + 1));
	__m128i second = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b1, _mm_set1_epi8(0x01)),
						   _mm_cmpeq_epi8(b1, _mm_set1_epi8((char)0xae))),
				      _mm_cmpeq_epi8(b1, _mm_set1_epi8((char)0xc7)));

	return (unsigned)_mm_movemask_epi8(
		_mm_and_si128(_mm_cmpeq_epi8(b0, _mm_set1_epi8(0x0f)), second));
}

size_t gatescan_next(const uint8_t *buf, size_t len, size_t from, const char **name)
{
	size_t i = from;
	const char *n;

	if (len < 3)
		return len;
	/* 16 offsets at a time while the 18 bytes they and their patterns'
	 * second and third bytes span lie in the buffer (candidates() reads 17,
	 * gate_at() the third byte of the last) */
	for (; len >= 18 && i <= len - 18; i += 16) {
		for (unsigned m = candidates(buf + i); m; m &= m - 1) {
			size_t at = i + (size_t)__builtin_ctz(m);

			n = gate_at(buf[at + 1], buf[at + 2]);
			if (n) {
				*name = n;
				return at;
			}
		}
	}
	for (; i <= len - 3; i++) {
		if (buf[i] != 0x0f)
			continue;
		n = gate_at(buf[i + 1], buf[i + 2]);
		if (n) {
			*name = n;
			return i;
		}
	}
	return len;
}
