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
command -v python3 >/dev/null || skip "python3 is needed"
seed=${PVSUB_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
rounds=${PVSUB_COMPILED_ROUNDS:-4}
echo "seed: $seed (replay with PVSUB_SEED=$seed)" >&2

compilers=
for c in gcc clang; do
	command -v "$c" >/dev/null && compilers="$compilers $c"
done
[ -n "$compilers" ] || skip "neither gcc nor clang"
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
		python3 "$top_srcdir/tests/qemu/choose-patterns.py" "w-$cc.o" --seed "$s" --count 6 --min-each 2 --min-total 12 \
			--scan "$SCAN" -o policy.xml 2>choose.err ||
			fail "$cc, seed $s: no stress policy: $(tail -1 choose.err)"
		expect_status 0 "$SCAN" --rewrite --policy policy.xml -o "r-$cc.o" --format json "w-$cc.o"
		n=$(json_query out "len(d['files'][0]['rewrites'])")
		[ "$n" -gt 0 ] || fail "$cc, seed $s: nothing was rewritten"
		expect_status 0 "$SCAN" --policy policy.xml "r-$cc.o"
		"$cc" -o "rw-$cc" "d-$cc.o" "r-$cc.o" || fail "$cc, seed $s: cannot link the rewritten object"
		set +e
		timeout 20 "./rw-$cc" > "got-$cc.txt"
		st=$?
		set -e
		[ "$st" -eq 0 ] || fail "$cc, seed $s: the rewritten program exited $st"
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
