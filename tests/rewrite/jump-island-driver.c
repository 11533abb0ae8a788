/* Driver for jump-island.S: see driver.h. */
#include "driver.h"

void ji_fwd(void), ji_jcc(void), ji_back(void);

int main(void)
{
	static const uint64_t args[][2] = {{1, 2}, {7, 0x10}, {0x55, 5}, {0, 7}};
	uint64_t in[NREG];

	mem_reset();
	for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
		regs_init(in, 0);
		in[RDI] = args[i][0];
		in[RSI] = args[i][1];
		probe_flags("ji_fwd", ji_fwd, in);
		probe_flags("ji_jcc", ji_jcc, in);
		probe_flags("ji_back", ji_back, in);
	}
	return 0;
}
