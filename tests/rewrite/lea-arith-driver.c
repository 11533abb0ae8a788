/* Driver for lea-arith.S: see driver.h. */
#include "driver.h"

void la_add(void), la_sub64(void), la_frame(void), la_frame3(void), la_live(void);

int main(void)
{
	uint64_t in[NREG];

	mem_reset();
	for (unsigned ones = 0; ones < 2; ones++) {
		regs_init(in, 0);
		if (ones)
			for (int i = 0; i < RFLAGS; i++)
				in[i] = ~UINT64_C(0) - (uint64_t)i;
		probe_dead_flags("la_add", la_add, in);
		probe_dead_flags("la_sub64", la_sub64, in);
		probe_flags("la_live", la_live, in);
	}
	regs_init(in, 0);
	in[RDI] = 0x1234;
	in[RSI] = 0x1111;
	probe_dead_flags("la_frame", la_frame, in);
	probe_dead_flags("la_frame3", la_frame3, in);
	return 0;
}
