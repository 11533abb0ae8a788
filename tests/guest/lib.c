/* SPDX-License-Identifier: MIT */
/* The second guest object of the guest-linker test: it calls back into
 * main.c and hands out a string literal. */
#include "api.h"

int main_helper(int x);

static const char *const names[] = {"lib: alpha", "lib: beta"};

int lib_mix(int x)
{
	return main_helper(x) * 5 + names[x & 1][5];
}

const char *lib_name(void)
{
	return names[test_input() & 1];
}
