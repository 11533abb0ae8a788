#!/bin/sh
# pvsub-loader's pkey backend (issue 12) where the CPU and kernel have
# protection keys; elsewhere it skips with one line.  The example guests
# run under --backend pkey (and it is the default); certified guests that
# attack the pkey gates (tests/guest/pkey-attack.c) are stopped, each
# attack succeeding under --backend none (the control): the window written
# outside a gate (SIGSEGV, a protection-key fault); a jump onto a gate's
# opening WRPKRU with every key open (the gate closes the window before it
# returns: SIGSEGV at the write after it); a jump onto its closing WRPKRU
# with every key open (the check after it: ud2, SIGILL), whose control is
# the same jump with the value the site must produce; mprotect,
# pkey_mprotect and pkey_alloc through the runtime's `syscall` (SIGSYS).
. "$top_srcdir/tests/lib.sh"
LOADER="$top_builddir/pvsub-loader/pvsub-loader"
RUNTIME="$top_builddir/runtime/pvsub-guestrun"
[ -x "$RUNTIME" ] || skip "no pvsub-guestrun (configure found no musl-gcc)"
command -v python3 >/dev/null || skip "python3 is needed to tell signals from statuses"
PVSUB_GUESTRUN=$RUNTIME
export PVSUB_GUESTRUN
GUESTS=$top_builddir/examples/guests
CA=$GUESTS/pki/ca.pem
POLICY="$top_srcdir/examples/guests/guest-policy.xml"
SIGN="$top_builddir/pvsub-sign/pvsub-sign"
GUEST_CFLAGS="-fPIE -mcmodel=small -ffreestanding -fno-stack-protector -fno-common -O2"
[ -f "$GUESTS/loopback.tar" ] || fail "make did not build $GUESTS/loopback.tar"

# the loader's own probe decides
set +e
"$LOADER" --backend pkey --ca "$CA" --loopback "$GUESTS/loopback.tar" >out 2>err
st=$?
set -e
if [ $st -eq 129 ] && grep -q "no protection keys" err; then
	skip "no protection keys on this CPU: pkey tests skipped"
fi
[ $st -eq 0 ] || fail "loopback under pkey: status $st: $(cat err)"

# --- the example guests --------------------------------------------------------------------
for g in loopback pktgen sink echo; do
	expect_status 0 "$LOADER" --backend pkey --ca "$CA" --loopback "$GUESTS/$g.tar"
done
# the default backend is pkey: its window is behind a key, no mprotect gate
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
	expect_status 0 strace -f -o trace "$LOADER" --ca "$CA" --loopback "$GUESTS/loopback.tar"
	grep -q "pkey_mprotect(0x20000000, 1048576, PROT_READ|PROT_WRITE, 1) = 0" trace ||
		fail "the default backend is not pkey: $(grep pkey trace)"
	! grep -q "^[0-9]* *mprotect(0x20000000" trace || fail "an mprotect gate ran under pkey"
fi

# --- the attacks -----------------------------------------------------------------------------
# outcome BACKEND N: run attack N under BACKEND, print "exit STATUS" or
# "signal NAME" (the shell's 128 + N overlaps the loader's own statuses)
cat > outcome.py <<'PY'
import signal, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=open("err", "w"))
print("signal " + signal.Signals(-r.returncode).name if r.returncode < 0 else "exit %d" % r.returncode)
PY
outcome() {
	python3 outcome.py "$LOADER" --backend "$1" --ca "$CA" --loopback "attack$2.tar"
}
# expect BACKEND N RESULT: attack N under BACKEND ends with RESULT
expect() {
	got=$(outcome "$1" "$2")
	[ "$got" = "$3" ] || fail "attack $2 under $1: $got, expected $3: $(cat err)"
}
for n in 1 2 3 4 5 6 7; do
	# shellcheck disable=SC2086
	"$CC" $GUEST_CFLAGS -DATTACK=$n -I"$top_srcdir/runtime/include" -c -o attack$n.o \
		"$top_srcdir/tests/guest/pkey-attack.c"
	expect_status 0 "$SCAN" --no-progress -q -p "$POLICY" --manifest attack$n.xml attack$n.o
	expect_status 0 "$SIGN" bundle --key "$GUESTS/pki/s.key" --cert "$GUESTS/pki/s.pem" \
		-o attack$n.tar attack$n.o attack$n.xml
done
# the window outside a gate, and after a jump onto an opening WRPKRU
for n in 1 2; do
	expect pkey $n "signal SIGSEGV"
	expect none $n "exit 0"
	if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
		set +e
		strace -f -o trace "$LOADER" --backend pkey --ca "$CA" --loopback attack$n.tar \
			>/dev/null 2>&1
		set -e
		grep -q "SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_PKUERR, si_addr=0x20000000" trace ||
			fail "attack $n: not a protection-key fault at the window: $(grep SIGSEGV trace)"
	fi
done
# the closing WRPKRU: the check aborts with every key open, passes with
# the site's own value (the control: the jump itself is sound)
expect pkey 4 "signal SIGILL"
expect pkey 3 "exit 0"
# and the SIGILL is the check's ud2, after the WRPKRU ran (a CPU without
# PKU would fault on the WRPKRU itself)
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
	set +e
	strace -f -o trace "$LOADER" --backend pkey --ca "$CA" --loopback attack4.tar >/dev/null 2>&1
	set -e
	at=$(sed -n 's/.*SIGILL {.*si_addr=\(0x[0-9a-f]*\)}.*/\1/p' trace)
	[ -n "$at" ] || fail "attack 4: no SIGILL: $(tail -n 3 trace)"
	python3 - "$RUNTIME" "$at" <<'PY' || fail "attack 4: the SIGILL at $at is not a gate's ud2"
import struct, subprocess, sys
data = open(sys.argv[1], "rb").read()
at = int(sys.argv[2], 16)
phoff, = struct.unpack_from("<Q", data, 0x20)
phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
for i in range(phnum):
    t, _, off, va, _, sz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
    if t == 1 and va <= at < va + sz:
        sys.exit(data[off + at - va:off + at - va + 2] != b"\x0f\x0b")
sys.exit(1)
PY
fi
# the runtime's system calls: none of these is allowed under pkey
for n in 5 6 7; do
	expect pkey $n "signal SIGSYS"
	expect none $n "exit 0"
done
exit 0
