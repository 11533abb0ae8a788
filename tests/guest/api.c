/* SPDX-License-Identifier: MIT */
/* The test's guest API, as the host provides it (api.h). */
#include <stdio.h>

#include "tests/guest/api.h"

int test_value = 1000;

void test_log(const char *s)
{
	printf("log: %s\n", s);
}

long test_add(long a, long b)
{
	return a + b;
}

int test_input(void)
{
	return 8;
}
