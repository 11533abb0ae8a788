#!/bin/sh
# Unwinding through rewritten code (issue 12): unwind-work.c built by gcc
# and by clang with their default flags (.eh_frame for every function),
# rewritten under random stress policies (as compiled.sh); the driver walks
# the stack from a callback three rewritten frames deep
# (_Unwind_Backtrace, _Unwind_FindEnclosingFunction) and must print the
# same frames and results as with the original object, and its .eh_frame
# must have the same rows as the input's, each after the same instruction
# (check.py cfi).  The negative controls: the rewritten object without its
# .eh_frame must not walk the same, and one whose FDEs keep their input
# addresses (relocs.py stale) must fail check.py cfi.
# PVSUB_SEED=N replays a run; PVSUB_UNWIND_ROUNDS sets the policies per
# compiler (default 3).
. "$top_srcdir/tests/lib.sh"
RW="$top_srcdir/tests/rewrite"
. "$RW/stress-lib.sh"
command -v python3 >/dev/null || skip "python3 is needed"
stress_seed PVSUB_UNWIND_ROUNDS 3
stress_compilers
tested=0
for cc in $compilers; do
	"$cc" -O2 -c -o "w-$cc.o" "$RW/unwind-work.c" || fail "$cc cannot compile unwind-work.c"
	readelf -SW "w-$cc.o" | grep -q '\.eh_frame' || fail "$cc made no .eh_frame"
	"$cc" -O2 -c -o "d-$cc.o" "$RW/unwind-driver.c" || fail "$cc cannot compile the driver"
	"$cc" -o "orig-$cc" "d-$cc.o" "w-$cc.o" || fail "$cc cannot link"
	"./orig-$cc" >"expected-$cc.txt" || fail "the $cc program failed before rewriting: $(tail -1 "expected-$cc.txt")"
	grep -q 'callback uw_level3 uw_level2 uw_level1 main' "expected-$cc.txt" ||
		fail "$cc: the original walk does not name the frames"
	k=0
	while [ "$k" -lt "$rounds" ]; do
		s=$((seed + k))
		k=$((k + 1))
		stress_round "$cc" "$cc" "$s"
		grow=$(json_query rewrite.json "d['files'][0]['code_after'] - d['files'][0]['code_before']")
		[ "$grow" -gt 0 ] || fail "$cc, seed $s: the code did not move ($n rewrites)"
		readelf -wF "r-$cc.o" >&2 || true
		python3 "$RW/check.py" cfi "w-$cc.o" "r-$cc.o" rewrite.json >&2 || fail "$cc, seed $s: .eh_frame"
		moved=$(python3 "$RW/relocs.py" stale "w-$cc.o" "r-$cc.o" .eh_frame "s-$cc.o")
		case $moved in
		0\ *) ;;
		*)
			if python3 "$RW/check.py" cfi "w-$cc.o" "s-$cc.o" rewrite.json >/dev/null 2>&1; then
				fail "$cc, seed $s: FDEs left at their input addresses pass check.py cfi"
			fi
			;;
		esac
		diff -u "expected-$cc.txt" "got-$cc.txt" >&2 ||
			fail "$cc, seed $s: the walk differs after rewriting"
		# negative control: without the moved unwind tables the walk stops
		objcopy -R .eh_frame -R .rela.eh_frame "r-$cc.o" "n-$cc.o"
		"$cc" -o "nw-$cc" "d-$cc.o" "n-$cc.o" || fail "$cc: cannot link the control"
		set +e
		timeout 20 "./nw-$cc" >"control-$cc.txt"
		set -e
		if cmp -s "expected-$cc.txt" "control-$cc.txt"; then
			fail "$cc, seed $s: the walk does not depend on .eh_frame: the test cannot fail"
		fi
		echo "$cc, seed $s: $n rewrites, code $grow bytes longer, same walk" >&2
		tested=$((tested + 1))
	done
done
echo "$tested rewritten objects unwound as the originals" >&2
