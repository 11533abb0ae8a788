/* Driver for none-reloc.S: see driver.h. */
#include "driver.h"

void nr_fn(void), nr_other(void);

int main(void)
{
	uint64_t in[NREG];

	mem_reset();
	for (uint64_t i = 0; i < 3; i++) {
		regs_init(in, 0);
		in[RDI] = i * 0x1111;
		in[RSI] = i == 1 ? 0 : i + 0x30;
		probe_flags("nr_fn", nr_fn, in);
		probe_flags("nr_other", nr_other, in);
	}
	return 0;
}
