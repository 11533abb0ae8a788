/* Driver for trap.S: see driver.h.  tr_gate is never called. */
#include "driver.h"

void tr_add(void), tr_cross(void), tr_after(void);

int main(void)
{
	static const uint64_t args[][2] = {{1, 2}, {0x10, 0x20}, {~UINT64_C(0), 5}};
	uint64_t in[NREG];

	mem_reset();
	for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
		regs_init(in, 0);
		in[RDI] = args[i][0];
		in[RSI] = args[i][1];
		probe_flags("tr_add", tr_add, in);
		probe_flags("tr_cross", tr_cross, in);
		probe_flags("tr_after", tr_after, in);
	}
	return 0;
}
