/* SPDX-License-Identifier: MIT */
/*
 * gatescan: the gate profile's patterns, matched exactly, at every byte
 * offset, with no library: what pvsub-guestrun uses to rescan every
 * executable mapping of its own process before the first guest
 * instruction.  libpvsub's matcher (search.c) is not linked into the
 * runtime (libpvsub is built against glibc, and its area, trust, brings
 * OpenSSL and libxml2 with it); this one knows only the `default` profile
 * of policy.c (vmfunc and pku):
 *
 *   vmfunc   0f 01 d4
 *   wrpkru   0f 01 ef
 *   xrstor   0f ae /5, memory operand (ModRM reg 5, mod not 3)
 *   xrstors  0f c7 /3, memory operand (ModRM reg 3, mod not 3)
 *
 * tests/unit/test_gatescan.c checks that it finds exactly what libpvsub's
 * matcher finds for the `default` profile, on random data.
 */
#ifndef PVSUB_RUNTIME_GATESCAN_H
#define PVSUB_RUNTIME_GATESCAN_H

#include <stddef.h>
#include <stdint.h>

/*
 * The offset of the first occurrence that starts at or after @from in the
 * @len bytes at @buf (a pattern must fit entirely before @len), or @len
 * when there is none; *@name is set to the pattern's name when one is
 * found.
 */
size_t gatescan_next(const uint8_t *buf, size_t len, size_t from, const char **name);

#endif
