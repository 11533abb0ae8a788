/* SPDX-License-Identifier: MIT */
/* A clean user-space driver library, linked as a shared object (ET_DYN). */
#include <stdint.h>

uint64_t pvsub_sample_mix(uint64_t a, uint64_t b)
{
	return (a * 0x9e3779b97f4a7c15ull) ^ (b >> 7);
}
