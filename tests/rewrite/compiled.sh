#!/bin/sh
# Compiler output, not hand-written fixtures: compiled-work.c built by gcc
# and by clang (-O2, no unwind tables, no jump tables), then for a few
# random stress policies of 3-byte patterns taken from the object itself
# (tests/qemu/choose-patterns.py: six patterns that occur only in immediates,
# displacements and across instructions) the object is rewritten, must
# rescan clean, and the program linked with it must print what it printed
# before.  PVSUB_SEED=N replays a run; PVSUB_COMPILED_ROUNDS sets how many
# policies per compiler (default 4).
. "$top_srcdir/tests/lib.sh"
RW="$top_srcdir/tests/rewrite"
. "$RW/stress-lib.sh"
command -v python3 >/dev/null || skip "python3 is needed"
stress_seed PVSUB_COMPILED_ROUNDS 4
stress_compilers
tested=0
for cc in $compilers; do
	"$cc" -O2 -fno-asynchronous-unwind-tables -fno-jump-tables -c -o "w-$cc.o" \
		"$RW/compiled-work.c" || fail "$cc cannot compile compiled-work.c"
	"$cc" -O2 -c -o "d-$cc.o" "$RW/compiled-driver.c" || fail "$cc cannot compile the driver"
	"$cc" -o "orig-$cc" "d-$cc.o" "w-$cc.o" || fail "$cc cannot link"
	"./orig-$cc" > "expected-$cc.txt" || fail "the $cc program failed before rewriting"
	k=0
	while [ "$k" -lt "$rounds" ]; do
		s=$((seed + k))
		k=$((k + 1))
		stress_round "$cc" "$cc" "$s"
		cmp -s "expected-$cc.txt" "got-$cc.txt" || {
			cat policy.xml >&2
			objdump -dr "r-$cc.o" >&2 || true
			fail "$cc, seed $s: the rewritten program printed something else"
		}
		echo "$cc, seed $s: $n rewrites, same output" >&2
		tested=$((tested + 1))
	done
done
echo "$tested rewritten objects behaved as the originals" >&2
