/* Driver for edge.S: see driver.h. */
#include "driver.h"

void ed_src(void), ed_idx(void), ed_add(void), ed_xchg(void), ed_push_m(void), ed_pop_m(void),
	ed_lea(void), ed_dimm(void), ed_lock(void), ed_cmpxchg(void), ed_push_i(void),
	ed_imul(void), ed_sse(void), ed_bt(void), ed_setcc(void), ed_ah(void), ed_word(void);

enum setup {
	NONE,	   /* registers only */
	BASE,	   /* %rdi + disp = the target */
	SMALL_BASE, /* %rdi = 5, %rdi + %rsi + disp = the target */
	TWICE,	   /* %rdi * 2 + disp = the target */
};

static const struct site {
	const char *name;
	void (*fn)(void);
	int32_t disp; /* must match edge.S */
	enum setup setup;
} sites[] = {
	{"ed_src", ed_src, 0x11c1b1a1, SMALL_BASE},
	{"ed_idx", ed_idx, 0x22c2b2a2, TWICE},
	{"ed_add", ed_add, 0x33c3b3a3, SMALL_BASE},
	{"ed_xchg", ed_xchg, 0x44c4b4a4, SMALL_BASE},
	{"ed_push_m", ed_push_m, 0x55c5b5a5, BASE},
	{"ed_pop_m", ed_pop_m, 0x66c6b6a6, BASE},
	{"ed_lea", ed_lea, 0x77c7b7a7, BASE},
	{"ed_dimm", ed_dimm, -0x57fffff0, BASE},
	{"ed_lock", ed_lock, 0, BASE},
	{"ed_cmpxchg", ed_cmpxchg, 0x22cabaaa, BASE},
	{"ed_push_i", ed_push_i, 0, NONE},
	{"ed_imul", ed_imul, 0, NONE},
	{"ed_sse", ed_sse, 0x55cdbdad, BASE},
	{"ed_bt", ed_bt, 0x66cebeae, BASE},
	{"ed_setcc", ed_setcc, 0x77cfbfaf, BASE},
	{"ed_ah", ed_ah, 0x11d0c0b0, BASE},
	{"ed_word", ed_word, 0x22d1c1b1, BASE},
};

int main(void)
{
	uint64_t in[NREG];

	mem_reset();
	for (int set = 0; set < 3; set++) {
		for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++) {
			const struct site *s = &sites[i];
			uint64_t target = mem_at(1024 + 64 * set);
			uint64_t disp = (uint64_t)(int64_t)s->disp;

			regs_init(in, 0);
			for (int r = 0; set > 0 && r < RFLAGS; r++)
				in[r] = set == 1 ? ~UINT64_C(0) : 0;
			switch (s->setup) {
			case NONE:
				break;
			case BASE:
				in[RDI] = target - disp;
				break;
			case SMALL_BASE:
				in[RDI] = 5;
				in[RSI] = target - disp - 5;
				break;
			case TWICE:
				in[RDI] = (target - disp) / 2;
				break;
			}
			probe_flags(s->name, s->fn, in);
		}
	}
	return 0;
}
