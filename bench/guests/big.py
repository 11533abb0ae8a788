#!/usr/bin/env python3
"""bench/guests/big.py N: C source of a guest with N leaf functions of real,
varied integer code (about 250 bytes of x86-64 each at -O2: N = 4200 gives
about 1 MiB of .text) and a pvsub_guest_main that logs the time it started
and returns 0.  The functions are global, so that the compiler keeps them,
and call nothing, so that the code holds no relocation: the load-time
bench measures verification, linking and the rescan of 1 MiB, not how a
relocated value happens to fall."""
import random
import sys

n = int(sys.argv[1])
rnd = random.Random(12)
ops = ["x = x * {c} + y;", "y ^= x >> {s};", "x += y << {s};", "y = y * {c} - x;",
       "x ^= y + {c};", "y += (x & {c}) | (y >> {s});", "x = (x >> {s}) ^ (x << {t});",
       "if (x > y) x -= {c}; else y += x;"]
print('#include "guestlib.h"')
for i in range(n):
    body = []
    for _ in range(18):
        # constants from a small range without 0x05 and 0x0f, so that few
        # immediates spell the syscall profile's 0f 05
        c = rnd.choice([3, 7, 9, 11, 13, 17, 19, 21, 23, 29, 31, 37, 41, 43, 47])
        body.append(rnd.choice(ops).format(c=c, s=rnd.randint(1, 7), t=rnd.randint(1, 7)))
    print("unsigned long f%d(unsigned long x, unsigned long y)\n{\n\t%s\n\treturn x ^ y;\n}"
          % (i, "\n\t".join(body)))
print("""int pvsub_guest_main(const struct pvsub_guest *g)
{
	struct line l;

	line_start(&l, "big: t0 ");
	line_u64(&l, pvsub_clock_ns());
	line_log(&l);
	(void)g;
	return 0;
}""")
