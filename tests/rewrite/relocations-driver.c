/* Driver for relocations.S: see driver.h. */
#include "driver.h"

void rl_main(void), rl_dispatch(void), rl_far(void), rl_t1(void), rl_t2(void);

int main(void)
{
	uint64_t in[NREG];

	mem_reset();
	for (uint64_t i = 0; i < 3; i++) {
		regs_init(in, 0);
		in[RDI] = 0x100 * i + 9;
		in[RSI] = 0;
		probe_flags("rl_main", rl_main, in);
		probe_flags("rl_dispatch 0", rl_dispatch, in);
		in[RSI] = 1;
		probe_flags("rl_dispatch 1", rl_dispatch, in);
		probe_flags("rl_far", rl_far, in);
		probe_flags("rl_t1", rl_t1, in);
		probe_flags("rl_t2", rl_t2, in);
	}
	return 0;
}
