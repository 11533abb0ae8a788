# Helpers for the integration tests (sourced).  Each test runs in its own
# scratch directory, removed on exit (kept, and named on stderr, when
# PVSUB_KEEP is set).  Exit 0 pass, 1 fail, 77 skip.
set -eu
: "${top_srcdir:?run through make check}"
: "${top_builddir:?run through make check}"
SCAN="$top_builddir/pvsub-scan/pvsub-scan"
CC=${CC:-cc}
T=$(mktemp -d "${TMPDIR:-/tmp}/pvsub-it.XXXXXX")
if [ -n "${PVSUB_KEEP:-}" ]; then
	echo "scratch directory kept: $T" >&2
else
	trap 'rm -rf "$T"' EXIT
fi
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

# scan_survives ARG...: run pvsub-scan (20 s at most), output in ./out and
# ./err; fail on a status above 2 (a crash or the timeout) or on any
# sanitizer report.
scan_survives() {
	set +e
	timeout 20 "$SCAN" --no-progress "$@" >out 2>err
	got=$?
	set -e
	if [ "$got" -gt 2 ] || grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' err; then
		tail -n 40 err >&2
		fail "pvsub-scan $* exited $got"
	fi
}

# in_batches N FUNCTION DIR: call FUNCTION with the files of DIR, N at a time
# (the names must be free of spaces).
in_batches() {
	_ib_n=$1 _ib_fn=$2
	set -- "$3"/*
	while [ $# -gt 0 ]; do
		_ib_batch=
		_ib_i=0
		while [ $# -gt 0 ] && [ $_ib_i -lt "$_ib_n" ]; do
			_ib_batch="$_ib_batch $1"
			shift
			_ib_i=$((_ib_i + 1))
		done
		# shellcheck disable=SC2086
		"$_ib_fn" $_ib_batch
	done
}

# real_kernel_tier: called first by the tests of the downloaded-corpus
# tier: the Debian kernel package (and QEMU), Debian's zlib and Lua sources.  PVSUB_SKIP_REAL_KERNEL=1 skips them: CI sets it for
# make distcheck, after the same tests passed twice on the same tree.
real_kernel_tier() {
	[ "${PVSUB_SKIP_REAL_KERNEL:-0}" != 1 ] ||
		skip "real-kernel tier skipped (PVSUB_SKIP_REAL_KERNEL=1)"
}

# corpus_kernel_deb: the Debian cloud kernel package, fetched once into
# $PVSUB_CORPUS_DIR (default tests/corpus-cache in the build tree), in $deb.
# Without network or apt the test skips, unless PVSUB_REQUIRE_CORPUS=1 (CI),
# when it fails.
corpus_kernel_deb() {
	real_kernel_tier
	cache=${PVSUB_CORPUS_DIR:-$top_builddir/tests/corpus-cache}
	if ! deb=$("$top_srcdir/tests/corpus/fetch-kernel.sh" "$cache"); then
		[ "${PVSUB_REQUIRE_CORPUS:-0}" = 1 ] && fail "cannot fetch the Debian cloud kernel"
		skip "cannot fetch the Debian cloud kernel"
	fi
	echo "corpus: $deb"
}
