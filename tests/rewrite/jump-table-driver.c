/* Driver for jump-table.S: see driver.h. */
#include "driver.h"

void jt_switch(void);

int main(void)
{
	uint64_t in[NREG];

	mem_reset();
	for (uint64_t i = 0; i < 3; i++) {
		for (uint64_t c = 0; c < 3; c++) {
			regs_init(in, 0);
			in[RDI] = 0x100 * i + 9;
			in[RSI] = c;
			probe_flags("jt_switch", jt_switch, in);
		}
	}
	return 0;
}
