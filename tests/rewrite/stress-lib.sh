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
