/* SPDX-License-Identifier: MIT */
/* A guest object that imports a symbol the API does not have: refused. */
#include "api.h"

int test_secret(void);

int lib_mix(int x)
{
	return test_secret() + x;
}

const char *lib_name(void)
{
	return "unknown";
}
