/* Driver for rel8-only.S: see driver.h. */
#include "driver.h"

void lo_loop(void), lo_jrcxz(void);

int main(void)
{
	static const uint64_t args[][2] = {{1, 2}, {3, 0x10}, {5, 5}, {0, 7}};
	uint64_t in[NREG];

	mem_reset();
	for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
		regs_init(in, 0);
		in[RDI] = args[i][0];
		in[RSI] = args[i][1];
		if (in[RDI] != 0)
			probe_flags("lo_loop", lo_loop, in);
		probe_flags("lo_jrcxz", lo_jrcxz, in);
	}
	return 0;
}
