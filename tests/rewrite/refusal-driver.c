/* Driver for refusal.S: see driver.h. */
#include "driver.h"

void rf_fix(void), rf_junk(void), rf_mixed(void);

int main(void)
{
	uint64_t in[NREG];

	mem_reset();
	for (uint64_t i = 0; i < 3; i++) {
		regs_init(in, 0);
		in[RDI] = i * 0x1111;
		in[RSI] = i + 0x30;
		probe_flags("rf_fix", rf_fix, in);
		probe_flags("rf_junk", rf_junk, in);
		probe_flags("rf_mixed", rf_mixed, in);
	}
	return 0;
}
