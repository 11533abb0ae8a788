/* SPDX-License-Identifier: MIT */
/*
 * A clean example "driver": a toy NIC transmit path written in plain C.  It
 * contains no gate opcode anywhere, so pvsub-scan reports it clean.
 */
#include <stddef.h>
#include <stdint.h>

struct desc {
	uint64_t addr;
	uint32_t len;
	uint32_t flags;
};

struct ring {
	struct desc d[256];
	uint32_t head, tail;
};

int nic_post(struct ring *r, uint64_t addr, uint32_t len)
{
	uint32_t next = (r->tail + 1) & 255;

	if (next == r->head)
		return -1;
	r->d[r->tail] = (struct desc){addr, len, 1};
	r->tail = next;
	return 0;
}

uint32_t nic_checksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = (sum << 1 | sum >> 31) ^ p[i];
	return sum;
}
