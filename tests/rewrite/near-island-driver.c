/* Driver for near-island.S: see driver.h. */
#include "driver.h"

void ni_jmp(void), ni_call(void), ni_far(void);

int main(void)
{
	static const uint64_t args[][2] = {{1, 2}, {7, 0x10}, {0x55, 5}, {0, 7}};
	uint64_t in[NREG];

	mem_reset();
	for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
		regs_init(in, 0);
		in[RDI] = args[i][0];
		in[RSI] = args[i][1];
		probe_flags("ni_jmp", ni_jmp, in);
		probe_flags("ni_call", ni_call, in);
		probe_flags("ni_far", ni_far, in);
	}
	return 0;
}
