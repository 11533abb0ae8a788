# shellcheck shell=sh
# Shared steps of the rewriter tests on compiler output under random
# stress policies (compiled.sh, switch.sh, unwind.sh; sourced after
# tests/lib.sh).

# stress_seed VAR DEFAULT: $seed (PVSUB_SEED, else random) and $rounds (the
# environment variable VAR, else DEFAULT), and the seed on the log so that
# a failure replays.
stress_seed() {
	seed=${PVSUB_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
	eval "rounds=\${$1:-$2}"
	echo "seed: $seed (replay with PVSUB_SEED=$seed)" >&2
}

# stress_compilers: $compilers, those of gcc and clang this machine has;
# skip when it has neither.
stress_compilers() {
	compilers=
	for c in gcc clang; do
		command -v "$c" >/dev/null && compilers="$compilers $c"
	done
	[ -n "$compilers" ] || skip "neither gcc nor clang"
}

# stress_round NAME CC SEED: w-NAME.o rewritten under a stress policy of
# SEED (policy.xml: six 3-byte patterns that occur only in immediates,
# displacements and across instructions) into r-NAME.o, which must hold
# rewrites and rescan clean, linked with d-CC.o into rw-NAME and run: it
# must exit 0, its output in got-NAME.txt.  $n is the number of rewrites,
# and rewrite.json pvsub-scan's JSON report on the rewrite.
stress_round() {
	python3 "$top_srcdir/tests/qemu/choose-patterns.py" "w-$1.o" --seed "$3" --count 6 \
		--min-each 2 --min-total 12 --scan "$SCAN" -o policy.xml 2>choose.err ||
		fail "$1, seed $3: no stress policy: $(tail -1 choose.err)"
	expect_status 0 "$SCAN" --rewrite --policy policy.xml -o "r-$1.o" --format json "w-$1.o"
	n=$(json_query out "len(d['files'][0]['rewrites'])")
	[ "$n" -gt 0 ] || fail "$1, seed $3: nothing was rewritten"
	cp out rewrite.json
	expect_status 0 "$SCAN" --policy policy.xml "r-$1.o"
	"$2" -o "rw-$1" "d-$2.o" "r-$1.o" || fail "$1, seed $3: cannot link the rewritten object"
	set +e
	timeout 20 "./rw-$1" >"got-$1.txt"
	st=$?
	set -e
	[ "$st" -eq 0 ] || fail "$1, seed $3: the rewritten program exited $st: $(tail -1 "got-$1.txt")"
}

# stress_object IN OUT SEED: the object IN, as a compiler or a library
# gave it, rewritten under a stress policy of SEED (as stress_round's) into
# OUT, with pvsub-scan's JSON report on the rewrite in OUT.json.  The
# outcome is in $stress_result:
#   rewritten  $n rewrites; OUT rescans clean under the policy and, when IN
#              has an .eh_frame, OUT's describes OUT's code as IN's did IN's
#              (check.py cfi) and gives the CFA at every instruction of the
#              sequences (check.py cfa-steps);
#   refused    pvsub-scan refused it (exit 1), $stress_why is the first
#              reason it gave; OUT is a copy of IN;
#   clean      IN's code has too few qualifying patterns for a policy
#              (choose-patterns.py says so in $stress_why): nothing to
#              rewrite, OUT is a copy of IN.
# Anything else (a policy chooser or scanner that fails otherwise, a rescan
# that finds an occurrence, .eh_frame that no longer fits) fails the test.
stress_object() {
	n=0
	stress_why=
	if ! python3 "$top_srcdir/tests/qemu/choose-patterns.py" "$1" --seed "$3" --count 6 \
		--min-each 2 --min-total 12 --scan "$SCAN" -o policy.xml 2>choose.err; then
		stress_why=$(tail -1 choose.err)
		case $stress_why in
		*"distinct 3-byte windows occur"* | *"sampled patterns qualify"* | *"qualifying patterns reach"*) ;;
		*) fail "$1, seed $3: choose-patterns.py failed: $stress_why" ;;
		esac
		stress_result=clean
		cp "$1" "$2"
		return 0
	fi
	set +e
	"$SCAN" --rewrite --policy policy.xml -o "$2" --format json "$1" >"$2.json" 2>err
	_so_st=$?
	set -e
	case $_so_st in
	0)
		n=$(json_query "$2.json" "len(d['files'][0]['rewrites'])")
		[ "$n" -gt 0 ] || fail "$1, seed $3: a policy from its own code, and nothing was rewritten"
		expect_status 0 "$SCAN" --policy policy.xml "$2"
		if readelf -SW "$1" | grep -q ' \.eh_frame '; then
			python3 "$top_srcdir/tests/rewrite/check.py" cfi "$1" "$2" "$2.json" >cfi.txt 2>&1 ||
				fail "$1, seed $3: .eh_frame: $(tail -1 cfi.txt)"
			python3 "$top_srcdir/tests/rewrite/check.py" cfa-steps "$1" "$2" "$2.json" \
				>cfa-steps.txt 2>&1 || fail "$1, seed $3: .eh_frame: $(tail -1 cfa-steps.txt)"
		fi
		stress_result=rewritten
		;;
	1)
		stress_why=$(json_query "$2.json" "(d['files'][0].get('refused') or [{}])[0].get('reason', '')")
		[ -n "$stress_why" ] || fail "$1, seed $3: refused without a reason"
		stress_result=refused
		cp "$1" "$2"
		;;
	*)
		cat err >&2
		fail "$1, seed $3: pvsub-scan --rewrite exited $_so_st"
		;;
	esac
}

# stress_moved IN OUT: true when some function of OUT starts at another
# offset than in IN (its symbol's value changed): the rewriter moved code,
# not only changed bytes in place.
stress_moved() {
	nm --defined-only "$1" | awk '$2 ~ /^[tT]$/ { print $3, $1 }' | sort >moved-a.txt
	nm --defined-only "$2" | awk '$2 ~ /^[tT]$/ { print $3, $1 }' | sort >moved-b.txt
	! cmp -s moved-a.txt moved-b.txt
}
