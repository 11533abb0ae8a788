/* SPDX-License-Identifier: MIT */
/*
 * The guest API of the guest-linker test (tests/integration/guestlink.sh):
 * what the guest objects in this directory may import.  guestrun.c and
 * ref.c provide it (api.c); the real guest API comes with pvsub-loader.
 */
#ifndef PVSUB_TESTS_GUEST_API_H
#define PVSUB_TESTS_GUEST_API_H

/* Print "log: S" on stdout. */
void test_log(const char *s);
/* a + b, through the host (a call out of the guest and back). */
long test_add(long a, long b);
/* How many rounds the guest runs (8): an input the compiler cannot fold. */
int test_input(void);
/* A data symbol of the host, read by the guest. */
extern int test_value;

#endif
