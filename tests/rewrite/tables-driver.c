/* Driver for tables.S: see driver.h. */
#include "driver.h"

void tb_planted(void), tb_alts(void);

int main(void)
{
	uint64_t in[NREG];

	mem_reset();
	for (uint64_t i = 0; i < 3; i++) {
		regs_init(in, 0);
		in[RDI] = i * 0x1111;
		in[RSI] = i + 0x30;
		probe_flags("tb_planted", tb_planted, in);
		probe_flags("tb_alts", tb_alts, in);
	}
	return 0;
}
