/* Driver for eh-frame.S: see driver.h. */
#include "driver.h"

void eh_work(void);

int main(void)
{
	uint64_t in[NREG];

	mem_reset();
	for (uint64_t i = 0; i < 4; i++) {
		regs_init(in, 0);
		in[RDI] = 0x100 * i + 9;
		in[RSI] = i * 77;
		probe_flags("eh_work", eh_work, in);
	}
	return 0;
}
