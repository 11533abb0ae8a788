/* Driver for imm-lea.S: see driver.h. */
#include "driver.h"

void il_r32(void), il_r64(void), il_abs(void), il_loop(void);

int main(void)
{
	uint64_t in[NREG];

	mem_reset();
	regs_init(in, 0);
	probe_flags("il_r32", il_r32, in);
	probe_flags("il_r64", il_r64, in);
	probe_flags("il_abs", il_abs, in);
	/* All ones and all zeros before: the upper halves must not leak. */
	for (int i = 0; i < RFLAGS; i++)
		in[i] = ~UINT64_C(0);
	probe_flags("il_r32", il_r32, in);
	probe_flags("il_r64", il_r64, in);
	probe_flags("il_abs", il_abs, in);
	for (int i = 0; i < RFLAGS; i++)
		in[i] = 0;
	probe_flags("il_r32", il_r32, in);
	probe_flags("il_r64", il_r64, in);
	probe_flags("il_abs", il_abs, in);
	for (uint64_t n = 1; n < 4; n++) {
		regs_init(in, 0);
		in[RDI] = n;
		probe_flags("il_loop", il_loop, in);
	}
	return 0;
}
