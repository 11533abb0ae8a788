# Helpers for the integration tests (sourced).  Each test runs in its own
# scratch directory, removed on exit.  Exit 0 pass, 1 fail, 77 skip.
set -eu
: "${top_srcdir:?run through make check}"
: "${top_builddir:?run through make check}"
SCAN="$top_builddir/pvsub-scan/pvsub-scan"
CC=${CC:-cc}
T=$(mktemp -d "${TMPDIR:-/tmp}/pvsub-it.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# expect_status N COMMAND...: run COMMAND, its stdout to ./out, stderr to ./err
expect_status() {
	want=$1
	shift
	set +e
	"$@" >out 2>err
	got=$?
	set -e
	[ "$got" -eq "$want" ] || {
		echo "--- stdout"; cat out; echo "--- stderr"; cat err
		fail "'$*' exited $got, expected $want"
	}
}

# asm NAME: assemble stdin into NAME.o
asm() {
	"$CC" -c -x assembler -o "$1.o" -
}

# json_query FILE PYTHON-EXPR: evaluate EXPR with `d` bound to the JSON
json_query() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}
