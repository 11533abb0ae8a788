#!/bin/sh
# build-guests.sh SRCDIR OUTDIR GUEST...: build, certify, sign and bundle the
# example guests GUEST (GUEST.c in SRCDIR/examples/guests) into
# OUTDIR/examples/guests/GUEST.tar.
#
#   1. each guest is compiled with the flags libpvsub/guestlink.h documents;
#   2. pvsub-scan certifies it under guest-policy.xml (the default and
#      syscall profiles, as pvsub-loader requires), rewriting it with
#      --rewrite when the scan rejects it, and writes its manifest;
#   3. pvsub-sign bundles it with the manifest, signed by a throwaway test
#      PKI made once in OUTDIR/examples/guests/pki by the pvsub-sign tests'
#      own mkpki (tests/integration/sign-lib.sh): ca.pem is the CA to give
#      pvsub-loader --ca, s.key/s.pem the signer.  It is a test CA: never
#      trust it anywhere else.
#
# Environment: CC, and SCAN and SIGN (the built pvsub-scan and pvsub-sign).
set -eu
src=$1/examples/guests
out=$2/examples/guests
top_srcdir=$1
top_builddir=$2
shift 2
cc=${CC:-cc}
: "${SCAN:?}" "${SIGN:?}"
CFLAGS_GUEST="-fPIE -mcmodel=small -ffreestanding -fno-stack-protector -fno-common -O2"

fail() {
	echo "build-guests.sh: $*" >&2
	exit 1
}
skip() {
	fail "$*"
}
mkdir -p "$out/pki"
if [ ! -s "$out/pki/s.pem" ]; then
	# shellcheck source=../../tests/integration/sign-lib.sh
	(cd "$out/pki" && . "$top_srcdir/tests/integration/sign-lib.sh" && mkpki) ||
		fail "cannot make the test PKI"
fi

for guest in "$@"; do
	o=$out/$guest.o
	# shellcheck disable=SC2086
	"$cc" $CFLAGS_GUEST -I"$top_srcdir/runtime/include" -c -o "$o" "$src/$guest.c"
	set +e
	"$SCAN" --no-progress -q -p "$src/guest-policy.xml" --manifest "$out/$guest.xml" "$o" >/dev/null
	st=$?
	set -e
	if [ "$st" -eq 1 ]; then
		"$SCAN" --no-progress -q -p "$src/guest-policy.xml" --rewrite -o "$out/$guest.rw.o" "$o" >/dev/null
		mv "$out/$guest.rw.o" "$o"
		"$SCAN" --no-progress -q -p "$src/guest-policy.xml" --manifest "$out/$guest.xml" "$o" >/dev/null
	elif [ "$st" -ne 0 ]; then
		fail "pvsub-scan could not scan $guest.o"
	fi
	"$SIGN" bundle --key "$out/pki/s.key" --cert "$out/pki/s.pem" -o "$out/$guest.tar.tmp" \
		"$o" "$out/$guest.xml"
	mv "$out/$guest.tar.tmp" "$out/$guest.tar"
done
