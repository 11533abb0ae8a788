#!/bin/sh
# Run one Criterion test program with TAP output on stdout, for automake's
# tap-driver.  Each test runs in its own scratch directory.
set -e
prog=$1
shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/pvsub-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
case $prog in /*) ;; *) prog=$OLDPWD/$prog ;; esac
"$prog" --tap=- --jobs=2 "$@"
