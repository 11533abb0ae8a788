# shellcheck shell=sh disable=SC2034 # the variables are the tests'
# What the pkey backend's tests share (sourced after tests/lib.sh):
# building the attack guests and what pkey-run.sh must print for them.
GUESTS=$top_builddir/examples/guests
CA=$GUESTS/pki/ca.pem
POLICY="$top_srcdir/examples/guests/guest-policy.xml"
SIGN="$top_builddir/pvsub-sign/pvsub-sign"
LOADER="$top_builddir/pvsub-loader/pvsub-loader"
RUNTIME="$top_builddir/runtime/pvsub-guestrun"
PKEY_RUN="$top_srcdir/tests/integration/pkey-run.sh"
GUEST_CFLAGS="-fPIE -mcmodel=small -ffreestanding -fno-stack-protector -fno-common -O2"

# certified_guest NAME SOURCE FLAGS...: NAME.tar here, SOURCE built with
# FLAGS, certified under the guests' policy and signed by the examples'
# signer
certified_guest() {
	name=$1 source=$2
	shift 2
	# shellcheck disable=SC2086
	"$CC" $GUEST_CFLAGS "$@" -I"$top_srcdir/runtime/include" -c -o "$name.o" "$source"
	expect_status 0 "$SCAN" --no-progress -q -p "$POLICY" --manifest "$name.xml" "$name.o"
	expect_status 0 "$SIGN" bundle --key "$GUESTS/pki/s.key" --cert "$GUESTS/pki/s.pem" \
		-o "$name.tar" "$name.o" "$name.xml"
}

# pkey_attacks [N]...: attackN.tar here (all nine by default), tests/guest/pkey-attack.c
# with ATTACK=N (certified_guest)
pkey_attacks() {
	[ -f "$GUESTS/loopback.tar" ] || fail "make did not build $GUESTS/loopback.tar"
	for n in ${*:-1 2 3 4 5 6 7 8 9}; do
		certified_guest "attack$n" "$top_srcdir/tests/guest/pkey-attack.c" -DATTACK="$n"
	done
}

# pkey_expected: pkey-run.sh's output where the CPU has protection keys.
# The guests run (0) under pkey, which is the default.  The attacks
# (tests/guest/pkey-attack.c) each succeed under none (0), the control:
# 1, the window written outside a gate, and 2, written after a jump onto a
# gate's opening WRPKRU with every key open, die of SIGSEGV (139) under
# pkey and mprotect; 4, a jump onto a closing WRPKRU with every key open,
# dies of SIGILL (132, no line) at the check after it under every backend,
# the same gate code; 3, the same jump with the value the site must
# produce, passes the check and returns (its control); 5 to 7, mprotect,
# pkey_mprotect and pkey_alloc through the runtime's syscall, die of
# SIGSYS (159) under pkey and mprotect; 8, a gate called with a canary
# below the caller's frame, finds it intact (1) under every backend, the
# same gates, which run their bodies on a stack of their own; 9, its
# control, a function of the guest's own, smashes it (0).  The last field
# is the guest's last log line: 1 logs "attack" (a gate call before its
# write), 5 to 7 log "syscall" right before the call that is killed, 8
# logs its "canary" through the gate.
pkey_expected() {
	cat <<'EXP'
probe loopback pkey 0 0
guest loopback pkey 0 0
guest pktgen pkey 0 0
guest sink pkey 0 0
guest echo pkey 0 0
guest loopback default 0 0
attack 1 pkey 139 0 attack
attack 1 mprotect 139 0 attack
attack 1 none 0 0 attack
attack 2 pkey 139 0 -
attack 2 mprotect 139 0 -
attack 2 none 0 0 -
attack 3 pkey 0 0 -
attack 3 mprotect 0 0 -
attack 3 none 0 0 -
attack 4 pkey 132 0 -
attack 4 mprotect 132 0 -
attack 4 none 132 0 -
attack 5 pkey 159 0 syscall
attack 5 mprotect 159 0 syscall
attack 5 none 0 0 syscall
attack 6 pkey 159 0 syscall
attack 6 mprotect 159 0 syscall
attack 6 none 0 0 syscall
attack 7 pkey 159 0 syscall
attack 7 mprotect 159 0 syscall
attack 7 none 0 0 syscall
attack 8 pkey 1 0 canary
attack 8 mprotect 1 0 canary
attack 8 none 1 0 canary
attack 9 pkey 0 0 -
attack 9 mprotect 0 0 -
attack 9 none 0 0 -
EXP
}
