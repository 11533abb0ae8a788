/* SPDX-License-Identifier: MIT */
/*
 * A guest object for the guest-linker test: the entry point.  It calls into
 * lib.c (which calls back), runs a switch dense enough for a jump table,
 * calls through a function-pointer table in .data, counts in .bss, logs
 * string literals, and calls, takes the address of and reads the API.
 */
#include "api.h"

int lib_mix(int x);
const char *lib_name(void);

static int calls;

int main_helper(int x)
{
	return 3 * x + 1;
}

static int square(int x)
{
	return x * x;
}

static int negate(int x)
{
	return -x;
}

int (*ops[])(int) = {square, negate, lib_mix, main_helper};

/* Each case computes something else from @x, so that the compilers make a
 * jump table rather than a table of constants. */
__attribute__((noinline)) static int pick(int x, int y)
{
	switch (x) {
	case 0:
		return y + 17;
	case 1:
		return y * 4;
	case 2:
		return y ^ 99;
	case 3:
		return y - 23;
	case 4:
		return y << 3;
	case 5:
		return (y >> 1) + 61;
	case 6:
		return y % 42;
	case 7:
		return y | 5;
	default:
		return -1;
	}
}

int pvsub_guest_main(const void *g)
{
	/* Taking the API's address goes through the GOT. */
	long (*volatile add)(long, long) = test_add;
	long acc = 0;
	int n = test_input();

	(void)g;
	test_log("main: start");
	for (int i = 0; i < n; i++) {
		calls++;
		acc = add(acc, pick(i, (int)acc + 1000));
		acc = test_add(acc, ops[i & 3](i));
	}
	test_log(lib_name());
	test_log("main: done");
	return (int)(acc * 7 + calls + test_value);
}
