/* Driver for near-island.S: see driver.h. */
#include "driver.h"

void ni_jmp(void), ni_call(void), ni_far(void);

int main(void)
{
	static const uint64_t args[][2] = {{1, 2}, {7, 0x10}, {0x55, 5}, {0, 7}};
	static const struct probe_fn fns[] = {
		{"ni_jmp", ni_jmp}, {"ni_call", ni_call}, {"ni_far", ni_far}};

	probe_each(fns, sizeof fns / sizeof fns[0], args, sizeof args / sizeof args[0]);
	return 0;
}
