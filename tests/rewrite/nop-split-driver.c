/* Driver for nop-split.S: see driver.h. */
#include "driver.h"

void ns_prev(void), ns_entry(void), ns_loop(void), ns_branch(void);

int main(void)
{
	static const uint64_t args[][2] = {{1, 2}, {3, 0x10}, {5, 5}, {0x7fffffff, 1}};
	uint64_t in[NREG];

	mem_reset();
	for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
		regs_init(in, 0);
		in[RDI] = args[i][0];
		in[RSI] = args[i][1];
		probe_flags("ns_prev", ns_prev, in);
		probe_flags("ns_entry", ns_entry, in);
		probe_flags("ns_branch", ns_branch, in);
		if (in[RDI] < 100)
			probe_flags("ns_loop", ns_loop, in);
	}
	return 0;
}
