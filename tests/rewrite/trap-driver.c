/* Driver for trap.S: see driver.h.  tr_gate is never called. */
#include "driver.h"

void tr_add(void), tr_cross(void), tr_after(void);

int main(void)
{
	static const uint64_t args[][2] = {{1, 2}, {0x10, 0x20}, {~UINT64_C(0), 5}};
	static const struct probe_fn fns[] = {
		{"tr_add", tr_add}, {"tr_cross", tr_cross}, {"tr_after", tr_after}};

	probe_each(fns, sizeof fns / sizeof fns[0], args, sizeof args / sizeof args[0]);
	return 0;
}
