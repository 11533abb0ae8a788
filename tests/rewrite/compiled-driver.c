/* Driver for compiled-work.c: prints work_all() for a few seeds. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

uint64_t work_all(uint32_t seed);

int main(void)
{
	for (uint32_t s = 0; s < 24; s++)
		printf("%" PRIu32 " %016" PRIx64 "\n", s, work_all(s * 0x9e3779b9u + 1));
	return 0;
}
