#!/bin/sh
# pvsub-loader's pkey backend (issue 12) where the CPU and kernel have
# protection keys; elsewhere it skips with one line.  The example guests
# run under --backend pkey (and it is the default), and certified guests
# that attack the pkey gates are stopped, each attack succeeding under
# --backend none (the control): tests/integration/pkey-run.sh runs them and
# pkey-lib.sh says what each must do.  With strace, moreover: the default
# backend tags the window with key 1 and makes no mprotect; the window
# faults are protection-key faults; the SIGILL of a jump onto a closing
# WRPKRU is the check's ud2.  tests/qemu/loader-pkey.sh runs the same in a
# QEMU guest whose emulated CPU has protection keys.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/pkey-lib.sh"
[ -x "$RUNTIME" ] || skip "no pvsub-guestrun (configure found no musl-gcc)"
PVSUB_GUESTRUN=$RUNTIME
export PVSUB_GUESTRUN

# the loader's own probe decides
set +e
"$LOADER" --backend pkey --ca "$CA" --loopback "$GUESTS/loopback.tar" >out 2>err
st=$?
set -e
if [ $st -eq 129 ] && grep -q "no protection keys" err; then
	skip "no protection keys on this CPU: pkey tests skipped"
fi
[ $st -eq 0 ] || fail "loopback under pkey: status $st: $(cat err)"

# --- the guests and the attacks, as tests/qemu/loader-pkey.sh runs them too ------------------
pkey_attacks
sh "$PKEY_RUN" "$LOADER" "$CA" "$GUESTS" . > got
pkey_expected > want
cmp -s want got || fail "under pkey:
$(diff want got)"

# --- what strace sees ----------------------------------------------------------------------
command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null || exit 0
# the default backend is pkey: its window is behind a key, no mprotect gate
expect_status 0 strace -f -o trace "$LOADER" --ca "$CA" --loopback "$GUESTS/loopback.tar"
grep -q "pkey_mprotect(0x20000000, 1048576, PROT_READ|PROT_WRITE, 1) = 0" trace ||
	fail "the default backend is not pkey: $(grep pkey trace)"
# (the runtime makes the window PROT_NONE before it tags it: no gate opens it)
! grep -q "^[0-9]* *mprotect(0x20000000, 1048576, PROT_READ|PROT_WRITE)" trace ||
	fail "an mprotect gate ran under pkey"
# the faults of attacks 1 and 2 are protection-key faults at the window
for n in 1 2; do
	set +e
	strace -f -o trace "$LOADER" --backend pkey --ca "$CA" --loopback attack$n.tar >/dev/null 2>&1
	set -e
	grep -q "SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_PKUERR, si_addr=0x20000000" trace ||
		fail "attack $n: not a protection-key fault at the window: $(grep SIGSEGV trace)"
done

# the SIGILL of attack 4 is the check's ud2, after the WRPKRU ran (a CPU
# without PKU would fault on the WRPKRU itself)
set +e
strace -f -o trace "$LOADER" --backend pkey --ca "$CA" --loopback attack4.tar >/dev/null 2>&1
set -e
at=$(sed -n 's/.*SIGILL {.*si_addr=\(0x[0-9a-f]*\)}.*/\1/p' trace)
[ -n "$at" ] || fail "attack 4: no SIGILL: $(tail -n 3 trace)"
python3 - "$RUNTIME" "$at" <<'PY' || fail "attack 4: the SIGILL at $at is not a gate's ud2"
import struct, sys
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
exit 0
