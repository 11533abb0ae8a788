/* Driver for rel-adjust.S: see driver.h. */
#include "driver.h"

void ra_back(void), ra_fwd(void), ra_call(void), ra_jmp(void), ra_jmp2(void), ra_jcc(void),
	ra_lea(void), ra_round(void);

int main(void)
{
	static const uint64_t args[][2] = {{1, 2}, {3, 0x10}, {5, 5}, {0, 7}, {0x40, 0x41}};
	uint64_t in[NREG];

	mem_reset();
	for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
		regs_init(in, 0);
		in[RDI] = args[i][0];
		in[RSI] = args[i][1];
		if (in[RDI] != 0)
			probe_flags("ra_back", ra_back, in);
		probe_flags("ra_fwd", ra_fwd, in);
		probe_flags("ra_call", ra_call, in);
		probe_flags("ra_jmp", ra_jmp, in);
		probe_flags("ra_jmp2", ra_jmp2, in);
		probe_flags("ra_jcc", ra_jcc, in);
		probe_flags("ra_lea", ra_lea, in);
		probe_flags("ra_round", ra_round, in);
	}
	return 0;
}
