/* SPDX-License-Identifier: MIT */
/* The reference: the same guest objects linked by the system linker into
 * an ordinary program, whose output the linked guest must reproduce. */
#include <stdio.h>

int pvsub_guest_main(const void *g);

int main(void)
{
	printf("result %d\n", pvsub_guest_main(NULL));
	return 0;
}
