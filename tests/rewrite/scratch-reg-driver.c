/* Driver for scratch-reg.S: see driver.h. */
#include "driver.h"

void sr_cmp(void), sr_add(void), sr_lua(void);

static const struct site {
	const char *name;
	void (*fn)(void);
	int base; /* the register that points into mem[] */
} sites[] = {
	{"sr_cmp", sr_cmp, RDI},
	{"sr_add", sr_add, RDX},
	{"sr_lua", sr_lua, RDI},
};

int main(void)
{
	/* The compared word below, equal to and above 0xffff, and zero. */
	static const uint32_t words[] = {0xfffe, 0xffff, 0x10000, 0};
	uint64_t in[NREG];

	mem_reset();
	for (size_t set = 0; set < sizeof words / sizeof words[0]; set++) {
		for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++) {
			regs_init(in, 0);
			in[sites[i].base] = mem_at(64 * (int64_t)set);
			memcpy(&mem[64 * set + 0xb0], &words[set], sizeof words[set]);
			probe_flags(sites[i].name, sites[i].fn, in);
		}
	}
	return 0;
}
