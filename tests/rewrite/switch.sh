#!/bin/sh
# Switch tables as compilers emit them for position-independent code
# (issue 12): switch-work.c built by gcc and by clang with -fPIE and with
# -fPIC (jump tables of `.long case - table` in .rodata, .eh_frame too),
# rewritten under random stress policies (as compiled.sh): every object
# must be rewritten, rescan clean, and the driver must print what it
# printed before.  The negative control: the rewritten object with the
# table entries' addends put back as they were (relocs.py stale), as if
# the cases had not been moved, must not.  PVSUB_SEED=N replays a run;
# PVSUB_SWITCH_ROUNDS sets the policies per build (default 2).
. "$top_srcdir/tests/lib.sh"
RW="$top_srcdir/tests/rewrite"
. "$RW/stress-lib.sh"
command -v python3 >/dev/null || skip "python3 is needed"
stress_seed PVSUB_SWITCH_ROUNDS 2
stress_compilers
tested=0 controls=0
for cc in $compilers; do
	"$cc" -O2 -c -o "d-$cc.o" "$RW/switch-driver.c" || fail "$cc cannot compile the driver"
	for pic in -fPIE -fPIC; do
		b="$cc$pic"
		"$cc" -O2 "$pic" -c -o "w-$b.o" "$RW/switch-work.c" || fail "$cc $pic cannot compile switch-work.c"
		tables=$(readelf -rW "w-$b.o" | awk '/^Relocation section/ { f = /\.rela\.rodata/ } f && /R_X86_64_PC32/' | wc -l)
		[ "$tables" -gt 20 ] || fail "$cc $pic: no switch tables in .rodata ($tables entries)"
		"$cc" -o "orig-$b" "d-$cc.o" "w-$b.o" || fail "$cc cannot link"
		"./orig-$b" >"expected-$b.txt" || fail "the $b program failed before rewriting"
		k=0
		while [ "$k" -lt "$rounds" ]; do
			s=$((seed + k))
			k=$((k + 1))
			stress_round "$b" "$cc" "$s"
			diff -u "expected-$b.txt" "got-$b.txt" >&2 ||
				fail "$b, seed $s: the rewritten program printed something else"
			# the control: the same code with the table entries not moved
			moved=$(python3 "$RW/relocs.py" stale "w-$b.o" "r-$b.o" .rodata "s-$b.o")
			echo "$b, seed $s: control: $moved" >&2
			case $moved in
			0\ *) ;; # no case moved: nothing to tell apart
			*)
				"$cc" -o "sw-$b" "d-$cc.o" "s-$b.o" || fail "$b: cannot link the control"
				set +e
				timeout 20 "./sw-$b" >"control-$b.txt" 2>/dev/null
				set -e
				if cmp -s "expected-$b.txt" "control-$b.txt"; then
					fail "$b, seed $s: stale table entries give the same output: the test cannot fail"
				fi
				controls=$((controls + 1))
				;;
			esac
			echo "$b, seed $s: $n rewrites ($tables table entries), same output" >&2
			tested=$((tested + 1))
		done
	done
done
[ "$controls" -gt 0 ] || fail "no rewrite moved a case: the controls never ran"
echo "$tested rewritten objects behaved as the originals; $controls controls differed" >&2
