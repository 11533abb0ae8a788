/* Driver for switch-work.c (switch.sh): every case of every switch. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

uint64_t sw_one(uint64_t x, uint64_t y);
uint64_t sw_two(uint32_t op, uint64_t a, uint64_t b);
int64_t sw_run(const uint8_t *code, unsigned n, int64_t x);

int main(void)
{
	uint8_t code[256];
	for (uint64_t x = 0; x < 12; x++)
		printf("one %" PRIu64 ": %016" PRIx64 "\n", x, sw_one(x, x * 0x10001 + 7));
	for (uint32_t op = 0; op < 128; op++)
		printf("two %u: %016" PRIx64 "\n", op, sw_two(op, op * 0x12345 + 11, op % 9 + 1));
	for (unsigned i = 0; i < sizeof(code); i++)
		code[i] = (uint8_t)(i * 37 + (i >> 3));
	for (int64_t x = 0; x < 8; x++)
		printf("run %" PRId64 ": %" PRId64 "\n", x, sw_run(code, sizeof(code) - x * 9, x));
	return 0;
}
