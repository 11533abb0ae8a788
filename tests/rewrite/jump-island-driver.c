/* Driver for jump-island.S: see driver.h. */
#include "driver.h"

void ji_fwd(void), ji_jcc(void), ji_back(void);

int main(void)
{
	static const uint64_t args[][2] = {{1, 2}, {7, 0x10}, {0x55, 5}, {0, 7}};
	static const struct probe_fn fns[] = {
		{"ji_fwd", ji_fwd}, {"ji_jcc", ji_jcc}, {"ji_back", ji_back}};

	probe_each(fns, sizeof fns / sizeof fns[0], args, sizeof args / sizeof args[0]);
	return 0;
}
