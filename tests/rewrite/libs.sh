#!/bin/sh
# Library code as Debian builds it (issue 12): the objects of libz.a
# (zlib1g-dev) and liblua5.4.a (liblua5.4-dev), built by gcc with Debian's
# default flags (position-independent code, so PC-relative switch tables,
# and .eh_frame in every object), each rewritten under a random stress
# policy (tests/qemu/choose-patterns.py, as compiled.sh), then linked with
# the programs that exercise them (libs-zlib.c: compress and uncompress
# round trips of varied data, streams, inflateBack, gz files, crc32 and
# adler32; libs-lua.c running libs.lua: the VM, strings, tables,
# coroutines, errors), which must print what they print with the original
# objects, and each rewritten object's .eh_frame must describe its code
# as the input's did (check.py cfi) and give the CFA at every instruction
# of its sequences (check.py cfa-steps).  One line per object and policy
# (rewritten, refused with the reason, or no policy: too few qualifying
# patterns), then the totals.  A
# refusal for what this test is about (a switch table, .eh_frame) fails
# it; other refusals (a rule missing for some instruction, such as the
# stack protector's `sub %fs:0x28, %rax` when the policy holds 28 00 00)
# are listed and counted, and their objects linked as they were.
# PVSUB_SEED=N replays a run, PVSUB_LIBS_ROUNDS sets the policies per
# object (default 2).
. "$top_srcdir/tests/lib.sh"
RW="$top_srcdir/tests/rewrite"
command -v python3 >/dev/null || skip "python3 is needed"
seed=${PVSUB_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
rounds=${PVSUB_LIBS_ROUNDS:-2}
echo "seed: $seed (replay with PVSUB_SEED=$seed)" >&2
libdir=$("$CC" -print-multiarch 2>/dev/null || true)
find_lib() {
	for d in "/usr/lib/$libdir" /usr/lib /usr/local/lib; do
		[ -f "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}
zlib=$(find_lib libz.a) || zlib=
lua=$(find_lib liblua5.4.a) || lua=
[ -n "$zlib$lua" ] || skip "neither libz.a (zlib1g-dev) nor liblua5.4.a (liblua5.4-dev)"
luainc=/usr/include/lua5.4

# program NAME OBJDIR OUT: link the program of library NAME with the
# objects in OBJDIR into OUT.
program() {
	case $1 in
	zlib) "$CC" -O2 -o "$3" "$RW/libs-zlib.c" "$2"/*.o ;;
	lua) "$CC" -O2 -I"$luainc" -o "$3" "$RW/libs-lua.c" "$2"/*.o -lm -ldl ;;
	esac
}

# run NAME PROGRAM OUT: run it (in a directory of its own: zlib writes a
# file), 60 s at most.
run() {
	mkdir -p "run-$1"
	set +e
	case $1 in
	zlib) (cd "run-$1" && timeout 60 "../$2") >"$3" ;;
	lua) (cd "run-$1" && timeout 60 "../$2" "$RW/libs.lua") >"$3" ;;
	esac
	_st=$?
	set -e
	return $_st
}

rewritten=0 refused=0 unwind_or_table=0 nopolicy=0 programs=0
for lib in zlib lua; do
	eval "a=\$$lib"
	if [ -z "$a" ]; then
		echo "$lib: no static library, not tested" >&2
		continue
	fi
	[ "$lib" != lua ] || [ -f "$luainc/lua.h" ] || fail "liblua5.4.a without $luainc/lua.h"
	mkdir -p "orig-$lib"
	(cd "orig-$lib" && ar x "$a") || fail "cannot unpack $a"
	program "$lib" "orig-$lib" "prog-$lib" || fail "cannot link the $lib program"
	run "$lib" "prog-$lib" "expected-$lib.txt" ||
		fail "the $lib program fails with the original objects: $(tail -3 "expected-$lib.txt")"
	k=0
	while [ "$k" -lt "$rounds" ]; do
		s=$((seed + k))
		k=$((k + 1))
		rm -rf "rw-$lib"
		mkdir "rw-$lib"
		for o in "orig-$lib"/*.o; do
			b=$(basename "$o")
			if ! python3 "$top_srcdir/tests/qemu/choose-patterns.py" "$o" --seed "$s" --count 6 \
				--min-each 2 --min-total 12 --scan "$SCAN" -o policy.xml 2>choose.err; then
				echo "$lib $b seed $s: no policy ($(tail -1 choose.err))" >&2
				nopolicy=$((nopolicy + 1))
				cp "$o" "rw-$lib/$b"
				continue
			fi
			set +e
			"$SCAN" --rewrite --policy policy.xml -o "rw-$lib/$b" --format json "$o" >out 2>err
			st=$?
			set -e
			case $st in
			0)
				n=$(json_query out "len(d['files'][0]['rewrites'])")
				cp out report.json
				expect_status 0 "$SCAN" --policy policy.xml "rw-$lib/$b"
				python3 "$RW/check.py" cfi "$o" "rw-$lib/$b" report.json >cfi.txt 2>&1 ||
					fail "$lib $b seed $s: .eh_frame: $(tail -1 cfi.txt)"
				python3 "$RW/check.py" cfa-steps "$o" "rw-$lib/$b" report.json >cfa.txt 2>&1 ||
					fail "$lib $b seed $s: .eh_frame: $(tail -1 cfa.txt)"
				echo "$lib $b seed $s: rewritten ($n rewrites)" >&2
				rewritten=$((rewritten + 1))
				;;
			1)
				why=$(json_query out "d['files'][0]['refused'][0]['reason']")
				echo "$lib $b seed $s: REFUSED: $why" >&2
				refused=$((refused + 1))
				if grep -q 'jump-table difference\|DWARF unwind table' out; then
					unwind_or_table=$((unwind_or_table + 1))
				fi
				cp "$o" "rw-$lib/$b"
				;;
			*)
				cat err >&2
				fail "$lib $b seed $s: pvsub-scan --rewrite exited $st"
				;;
			esac
		done
		program "$lib" "rw-$lib" "prog-rw-$lib" || fail "$lib, seed $s: cannot link the rewritten objects"
		run "$lib" "prog-rw-$lib" "got-$lib.txt" ||
			fail "$lib, seed $s: the program fails with the rewritten objects: $(tail -3 "got-$lib.txt")"
		diff -u "expected-$lib.txt" "got-$lib.txt" >&2 ||
			fail "$lib, seed $s: the program printed something else with the rewritten objects"
		echo "$lib, seed $s: the program printed the same" >&2
		programs=$((programs + 1))
	done
done
echo "totals: $rewritten rewritten, $refused refused ($unwind_or_table for a switch table or .eh_frame), $nopolicy without a policy; $programs programs behaved as the originals" >&2
[ "$unwind_or_table" -eq 0 ] || fail "$unwind_or_table objects refused for a switch table or .eh_frame"
[ "$rewritten" -gt 0 ] || fail "nothing was rewritten"
