# Shared steps of the per-rule rewriter tests (sourced).  A test assembles
# its fixture RULE.S, checks that pvsub-scan classifies every occurrence as
# the rule expects, runs RULE-driver.c linked with the fixture, rewrites the
# fixture, and runs the driver again linked with the result: the outputs
# must be identical.  objdump listings of both objects go to the log.
. "$top_srcdir/tests/lib.sh"
RW="$top_srcdir/tests/rewrite"
OBJDUMP=${OBJDUMP:-objdump}
command -v python3 >/dev/null || skip "python3 is needed to read JSON"

check() {
	python3 "$RW/check.py" "$@"
}

# build RULE: RULE.o from the fixture, driver.o and probe.o for linking.
build() {
	"$CC" -c -o "$1.o" "$RW/$1.S" || fail "cannot assemble $1.S"
	"$CC" -c -o probe.o "$RW/probe.S" || fail "cannot assemble probe.S"
	"$CC" -c -O1 -I"$RW" -o driver.o "$RW/$1-driver.c" || fail "cannot compile $1-driver.c"
}

# run_with OBJ OUT [OBJ...]: link the driver with OBJ (and the other
# objects) and run it, its output in OUT.  The time limit catches a loop
# whose branch went astray.
run_with() {
	_rw_obj=$1 _rw_out=$2
	shift 2
	"$CC" -o "$_rw_obj.prog" driver.o probe.o "$_rw_obj" "$@" ||
		fail "cannot link the driver with $_rw_obj $*"
	set -- "$_rw_obj" "$_rw_out"
	set +e
	timeout 20 "./$1.prog" >"$2"
	_rw_st=$?
	set -e
	[ "$_rw_st" -eq 0 ] || fail "the driver linked with $1 exited $_rw_st"
	[ -s "$2" ] || fail "the driver linked with $1 printed nothing"
}

# listing OBJ: its disassembly and relocations, in the log.
listing() {
	echo "--- $OBJDUMP -dr $1" >&2
	"$OBJDUMP" -dr "$1" >&2 || true
}

# scan_expect POLICY OBJ PATTERN:CLASS:FIELD...: scanning OBJ finds exactly
# these occurrences; the report is kept in scan.json.
scan_expect() {
	_se_policy=$1 _se_obj=$2
	shift 2
	expect_status 1 "$SCAN" --policy "$_se_policy" --format json "$_se_obj"
	cp out scan.json
	check findings scan.json "$@" || fail "$_se_obj does not hold the situations of this test"
}

# rewrite_ok POLICY IN OUT PATTERN=RULE...: rewrite IN into OUT (exit 0),
# every occurrence of scan.json rewritten by its RULE, the report in
# rewrite.json, the input untouched, OUT scanning clean with POLICY, its
# function symbols laid out as in IN, and its manifest valid and naming the
# rules.
rewrite_ok() {
	_ro_policy=$1 _ro_in=$2 _ro_out=$3
	shift 3
	cp "$_ro_in" "$_ro_in.orig"
	listing "$_ro_in"
	expect_status 0 "$SCAN" --rewrite --policy "$_ro_policy" -o "$_ro_out" --format json \
		--manifest="$_ro_out.manifest.xml" "$_ro_in"
	cp out rewrite.json
	echo "--- rewrite report" >&2
	cat rewrite.json >&2
	listing "$_ro_out"
	cmp -s "$_ro_in" "$_ro_in.orig" || fail "--rewrite changed its input $_ro_in"
	check rewrites scan.json rewrite.json "$@" || fail "rewrite report of $_ro_in"
	expect_status 0 "$SCAN" --policy "$_ro_policy" --format json "$_ro_out"
	check symbols "$_ro_in" "$_ro_out" || fail "symbols of $_ro_out"
	[ -f "$_ro_out.manifest.xml" ] || fail "no manifest written for $_ro_out"
	if [ -n "${XMLLINT:-}" ] && command -v "$XMLLINT" >/dev/null; then
		"$XMLLINT" --noout --schema "$top_srcdir/schemas/pvsub-manifest.xsd" \
			"$_ro_out.manifest.xml" 2>xmllint.err ||
			fail "manifest of $_ro_out: $(cat xmllint.err)"
	fi
	_ro_rules=
	for _ro_m in "$@"; do
		_ro_rules="$_ro_rules ${_ro_m#*=}"
	done
	# shellcheck disable=SC2086
	check manifest "$_ro_out.manifest.xml" $_ro_rules || fail "manifest of $_ro_out"
}

# refuse_ok POLICY IN OUT SECTION: rewriting IN is refused (exit 1) with a
# reason for SECTION, and nothing is written: neither OUT nor a temporary.
refuse_ok() {
	_rf_policy=$1 _rf_in=$2 _rf_out=$3 _rf_sec=$4
	: >out
	: >err
	_rf_before=$(ls -A)
	expect_status 1 "$SCAN" --rewrite --policy "$_rf_policy" -o "$_rf_out" --format json "$_rf_in"
	_rf_after=$(ls -A)
	cp out refused.json
	echo "--- refusal report" >&2
	cat refused.json err >&2
	[ ! -e "$_rf_out" ] || fail "$_rf_out was written although $_rf_in was refused"
	[ "$_rf_before" = "$_rf_after" ] ||
		fail "files left behind by a refused rewrite: $(echo "$_rf_after" | grep -vxF "$_rf_before")"
	check refused refused.json "$_rf_sec" || fail "refusal of $_rf_in"
}

# rewrite_or_refuse POLICY IN OUT PATTERN=RULE...: for sites with no safe
# rewrite in every case.  Either the rewrite succeeds and everything
# rewrite_ok checks holds and the driver prints the same with OUT, or it is
# refused with a reason and nothing is written.
rewrite_or_refuse() {
	set +e
	"$SCAN" --rewrite --policy "$1" -o "$3.try" --format json "$2" >try.json 2>err
	_rr_st=$?
	set -e
	cat try.json err >&2
	case $_rr_st in
	0)
		rm -f "$3.try"
		rewrite_ok "$@"
		run_with "$3" got.txt
		same_output expected.txt got.txt
		;;
	1)
		[ ! -e "$3.try" ] || fail "$3.try was written although $2 was refused"
		check refused try.json || fail "refusal of $2 without a reason"
		;;
	*)
		fail "pvsub-scan --rewrite exited $_rr_st"
		;;
	esac
}

# same_output EXPECTED GOT: the driver printed the same with both objects.
same_output() {
	diff -u "$1" "$2" >&2 || fail "results differ after rewriting (- before, + after)"
}
