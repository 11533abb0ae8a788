/* Driver for scratch-disp.S: see driver.h. */
#include "driver.h"

void sd_load(void), sd_store(void), sd_add_m(void), sd_sub_r(void), sd_cmp(void),
	sd_movl(void), sd_addl(void), sd_nobase(void), sd_self(void), sd_rex(void),
	sd_inc(void), sd_cmov(void), sd_loop(void);

/* The displacement and the registers of each site's memory operand
 * (base -1: none; index -1: none), and a register holding a loop count
 * (-1: none). */
static const struct site {
	const char *name;
	void (*fn)(void);
	uint32_t disp;
	int base, index, scale, count;
} sites[] = {
	{"sd_load", sd_load, 0x11c1b1a1, RDI, RSI, 1, -1},
	{"sd_store", sd_store, 0x22c2b2a2, RDI, -1, 0, -1},
	{"sd_add_m", sd_add_m, 0x33c3b3a3, RDI, RSI, 2, -1},
	{"sd_sub_r", sd_sub_r, 0x44c4b4a4, RDI, -1, 0, -1},
	{"sd_cmp", sd_cmp, 0x55c5b5a5, RDI, -1, 0, -1},
	{"sd_movl", sd_movl, 0x66c6b6a6, RDI, -1, 0, -1},
	{"sd_addl", sd_addl, 0x77c7b7a7, RDI, -1, 0, -1},
	{"sd_nobase", sd_nobase, 0x11c8b8a8, -1, RSI, 4, -1},
	{"sd_self", sd_self, 0x22c9b9a9, RAX, -1, 0, -1},
	{"sd_rex", sd_rex, 0x33cabaaa, R12, R13, 8, -1},
	{"sd_inc", sd_inc, 0x44cbbbab, RDI, -1, 0, -1},
	{"sd_cmov", sd_cmov, 0x55ccbcac, RDI, -1, 0, -1},
	{"sd_loop", sd_loop, 0x66cdbdad, RDI, -1, 0, RSI},
};

int main(void)
{
	uint64_t in[NREG];

	mem_reset();
	for (int set = 0; set < 3; set++) {
		for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++) {
			const struct site *s = &sites[i];
			uint64_t target = mem_at(512 + 64 * set);
			uint64_t idx = (uint64_t)set;

			regs_init(in, 0);
			for (int r = 0; set > 0 && r < RFLAGS; r++)
				in[r] = set == 1 ? ~UINT64_C(0) : 0;
			if (s->index >= 0)
				in[s->index] = idx;
			if (s->base >= 0)
				in[s->base] = target - idx * (uint64_t)s->scale * (s->index >= 0) - s->disp;
			else
				in[s->index] = (target - s->disp) / (uint64_t)s->scale;
			if (s->count >= 0)
				in[s->count] = idx + 1;
			probe_flags(s->name, s->fn, in);
		}
	}
	return 0;
}
