/* Driver for junction.S: see driver.h. */
#include "driver.h"

void jn_entry(void), jn_startup(void);

int main(void)
{
	uint64_t in[NREG];

	mem_reset();
	for (uint64_t i = 0; i < 3; i++) {
		regs_init(in, 0);
		in[RDI] = i * 0x1111;
		in[RSI] = i + 0x30;
		probe_flags("jn_entry", jn_entry, in);
		probe_flags("jn_startup", jn_startup, in);
	}
	return 0;
}
