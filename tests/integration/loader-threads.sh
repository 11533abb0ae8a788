#!/bin/sh
# Guest threads (issue 12): pvsub_thread_start() as a certified guest
# calls it.  Malformed requests are refused with -EINVAL and well-formed
# ones with -EPERM under mprotect and under none (pvsub-guest(3)); the
# thread function never runs and the device still works (tests/guest/
# threads.c: status 0).  The control: the same guest expecting its thread
# to start exits with that check's number (8), which shows the checks can
# fail.  A thread made past the API, by clone through the runtime's own
# `syscall`, is killed under mprotect and runs under none: attack 26 in
# loader-attacks.sh.  Threads under pkey: tests/qemu/loader-threads.sh.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/sign-lib.sh"
LOADER="$top_builddir/pvsub-loader/pvsub-loader"
RUNTIME="$top_builddir/runtime/pvsub-guestrun"
[ -x "$RUNTIME" ] || skip "no pvsub-guestrun (configure found no musl-gcc)"
PVSUB_GUESTRUN=$RUNTIME
export PVSUB_GUESTRUN
GUEST_CFLAGS="-fPIE -mcmodel=small -ffreestanding -fno-stack-protector -fno-common -O2"
POLICY="$top_srcdir/examples/guests/guest-policy.xml"
mkpki

# certify NAME FLAGS...: NAME.tar, tests/guest/threads.c built with FLAGS, certified.
certify() {
	name=$1
	shift
	# shellcheck disable=SC2086
	"$CC" $GUEST_CFLAGS "$@" -I"$top_srcdir/runtime/include" -c -o "$name.o" \
		"$top_srcdir/tests/guest/threads.c"
	expect_status 0 "$SCAN" --no-progress -q -p "$POLICY" --manifest "$name.xml" "$name.o"
	expect_status 0 "$SIGN" bundle --key s.key --cert s.pem -o "$name.tar" "$name.o" "$name.xml"
}

certify threads
certify started -DEXPECT_STARTED
for be in mprotect none; do
	expect_status 0 "$LOADER" --backend "$be" --ca ca.pem --loopback threads.tar
	expect_status 8 "$LOADER" --backend "$be" --ca ca.pem --loopback started.tar
done
