/* Driver for scratch-imm.S: see driver.h. */
#include "driver.h"

void si_add(void), si_sub(void), si_and(void), si_or(void), si_xor(void), si_cmp(void),
	si_test(void), si_adc(void), si_sbb(void), si_or_m(void), si_xor_m(void), si_mov_m(void),
	si_movq_m(void), si_cmp_m(void), si_add_mi(void), si_stack(void), si_rip(void),
	si_loop(void), si_movq_both(void);

static const struct site {
	const char *name;
	void (*fn)(void);
	int mem; /* 1: %rdi points into mem[]; 2: %rdi is a loop count */
} sites[] = {
	{"si_add", si_add, 0},
	{"si_sub", si_sub, 0},
	{"si_and", si_and, 0},
	{"si_or", si_or, 0},
	{"si_xor", si_xor, 0},
	{"si_cmp", si_cmp, 0},
	{"si_test", si_test, 0},
	{"si_adc", si_adc, 0},
	{"si_sbb", si_sbb, 0},
	{"si_or_m", si_or_m, 1},
	{"si_xor_m", si_xor_m, 1},
	{"si_mov_m", si_mov_m, 1},
	{"si_movq_m", si_movq_m, 1},
	{"si_cmp_m", si_cmp_m, 1},
	{"si_add_mi", si_add_mi, 1},
	{"si_stack", si_stack, 0},
	{"si_rip", si_rip, 0},
	{"si_loop", si_loop, 2},
	{"si_movq_both", si_movq_both, 1},
};

int main(void)
{
	uint64_t in[NREG];

	mem_reset();
	for (int set = 0; set < 4; set++) {
		for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++) {
			regs_init(in, 0);
			if (set == 1) {
				for (int r = 0; r < RFLAGS; r++)
					in[r] = ~UINT64_C(0);
			} else if (set == 2) {
				/* Results of zero, equality and carries. */
				in[RBX] = 0x3e4e5e12;
				in[RDI] = 0xc6b6a6ee;
				in[RDX] = 0;
				in[RCX] = 0xbb374758;
				in[R8] = 0;
			} else if (set == 3) {
				for (int r = 0; r < RFLAGS; r++)
					in[r] = 0;
			}
			if (sites[i].mem == 1) {
				in[RDI] = mem_at(256 + 64 * set);
				in[RSI] = (uint64_t)set;
			} else if (sites[i].mem == 2) {
				in[RDI] = (uint64_t)set + 1;
			}
			probe_flags(sites[i].name, sites[i].fn, in);
		}
	}
	return 0;
}
