#!/bin/sh
# boot.sh's choice of accelerator where KVM cannot run the guest (issue 9).
# /dev/kvm may exist and be writable while QEMU aborts at once under KVM
# ("failed to set MSR 0x10a", exit 134), or stops the vCPU ("KVM internal
# error", "emulation failure") and then waits for ever.  A fake
# qemu-system-x86_64 plays each of those, and a KVM that never reaches init
# and says nothing, whenever it is asked for accel=kvm, and hands every
# other run to the real QEMU; so the test does not depend on the host's
# /dev/kvm.  Each time the boot must fall back to TCG with one line on
# stderr saying why, run the guest, and finish in bounded time, leaving no
# QEMU behind.  A control where the fake's "KVM" works (it runs TCG) shows
# that the probe can succeed.  PVSUB_QEMU_ACCEL=tcg never tries KVM,
# PVSUB_QEMU_ACCEL=kvm fails clearly and at once when KVM fails, and any
# other value is refused.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/qemu/lib.sh"
qemu_tier
# The cases below set these themselves.
unset PVSUB_QEMU_ACCEL PVSUB_QEMU_PROBE_TIMEOUT
FAKE_REAL=$(command -v qemu-system-x86_64)
FAKE_CALLS=$T/qemu-calls
FAKE_PIDS=$T/qemu-pids
export FAKE_REAL FAKE_CALLS FAKE_PIDS

mkdir k
dpkg-deb --fsys-tarfile "$KERNEL_DEB" | tar -x -C k --wildcards './boot/vmlinuz-*'

cat >fake-qemu <<'FAKE'
#!/bin/sh
# qemu-system-x86_64 on a host whose KVM is broken as $FAKE_KVM says.
printf '%s\n' "$*" >>"$FAKE_CALLS"
case " $* " in
*accel=kvm*)
	case $FAKE_KVM in
	abort)
		echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
		echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion \`ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
		exit 134
		;;
	internal)
		printf '%s\n' "KVM internal error. Suberror: 1" "extra data[0]: 0x0000000000000001" \
			"emulation failure" "RAX=0000000000000000 RBX=ffffffff82a03e58" \
			"Code=00 00 f0 48 0f c7 0e <0f> 94 c0" >&2
		echo $$ >>"$FAKE_PIDS"
		exec sleep 600
		;;
	silent)
		echo $$ >>"$FAKE_PIDS"
		exec sleep 600
		;;
	works)
		# KVM that works: the guest boots (under TCG, as the host's
		# /dev/kvm may not work).
		for a; do
			shift
			case $a in
			*accel=kvm*) a=$(printf '%s' "$a" | sed 's/accel=kvm/accel=tcg/') ;;
			esac
			set -- "$@" "$a"
		done
		;;
	esac
	;;
esac
exec "$FAKE_REAL" "$@"
FAKE
chmod +x fake-qemu

# boot MODE [VAR=VALUE]...: boot.sh with the fake QEMU, its KVM broken as
# MODE, the VARs in the environment; a guest that exits 7.  Status in st,
# stderr in ./err, one line per QEMU run in ./qemu-calls.  The boot is
# bounded at 120 s by boot.sh and at 150 s from outside: either timeout means
# that boot.sh waited for a QEMU that would never finish (status 124 or 137).
boot() {
	mode=$1
	shift
	: >qemu-calls
	: >qemu-pids
	st=0
	env FAKE_KVM="$mode" QEMU="$T/fake-qemu" "$@" timeout -k 5 150 \
		sh "$BOOT" -k k -t 120 -c 'echo guest-ran; exit 7' >out 2>err || st=$?
	echo "--- $mode $*: status $st"
	cat err
	cat qemu-calls
	[ "$st" -ne 124 ] && [ "$st" -ne 137 ] ||
		fail "boot.sh ($mode $*) timed out (status $st): it waited for a QEMU that could not finish"
	# Every fake KVM run that would have waited for ever was stopped.
	while read -r pid; do
		! kill -0 "$pid" 2>/dev/null || {
			kill "$pid"
			fail "the QEMU run $pid ($mode $*) was left running"
		}
	done <qemu-pids
}

# runs ACCEL...: the QEMU runs had these accelerators, in this order.
runs() {
	got=$(sed -n 's/.*accel=\([a-z]*\).*/\1/p' qemu-calls | tr '\n' ' ')
	[ "$got" = "$* " ] || fail "QEMU ran with accel: '$got', expected '$* '"
}

# fell_back REASON: status 7 (the guest ran), and stderr is exactly the
# fallback line, whose reason matches REASON, and the boot line.
fell_back() {
	[ "$st" -eq 7 ] || fail "the guest did not run after the fallback (status $st)"
	grep -q '^boot.sh: KVM unusable (.*), using TCG$' err || fail "no fallback line"
	grep -q "^boot.sh: KVM unusable (.*$1.*), using TCG\$" err || fail "the fallback line does not say '$1'"
	grep -q '^boot.sh: booting .* (tcg), console in ' err || fail "the boot did not use TCG"
	[ "$(wc -l <err)" -eq 2 ] || fail "stderr has more than the fallback and boot lines"
	runs kvm tcg
	head -1 qemu-calls | grep -q 'pvsub\.probe=1' || fail "the KVM run was not the probe"
}

boot abort
fell_back 'qemu: failed to set MSR 0x10a to 0x69'

# Stopped on QEMU's message, not by the probe's timeout (which would say
# "did not reach init").
boot internal PVSUB_QEMU_PROBE_TIMEOUT=100
fell_back 'qemu: KVM internal error. Suberror: 1; emulation failure'

boot silent PVSUB_QEMU_PROBE_TIMEOUT=5
fell_back 'the guest did not reach init within 5 s'

# Control: a KVM that works is kept, and probed once.
boot works PVSUB_QEMU_PROBE_TIMEOUT=100
[ "$st" -eq 7 ] || fail "the guest did not run with a working KVM (status $st)"
! grep -q 'KVM unusable' err || fail "a working KVM was called unusable"
grep -q '^boot.sh: booting .* (kvm), console in ' err || fail "a working KVM was not used"
runs kvm kvm

# Forced TCG: KVM is never tried.
boot abort PVSUB_QEMU_ACCEL=tcg
[ "$st" -eq 7 ] || fail "PVSUB_QEMU_ACCEL=tcg: the guest did not run (status $st)"
! grep -q 'KVM unusable' err || fail "PVSUB_QEMU_ACCEL=tcg probed KVM"
runs tcg

# Forced KVM that fails: a failure naming QEMU's complaint, at once.
boot abort PVSUB_QEMU_ACCEL=kvm
[ "$st" -eq 125 ] || fail "PVSUB_QEMU_ACCEL=kvm with a broken KVM exited $st, expected 125"
grep -q 'failed to set MSR 0x10a' err || fail "QEMU's complaint is not shown"
grep -q 'PVSUB_QEMU_ACCEL=kvm' err || fail "the failure does not say that KVM was forced"
runs kvm
boot internal PVSUB_QEMU_ACCEL=kvm
[ "$st" -eq 125 ] || fail "PVSUB_QEMU_ACCEL=kvm with a stopped vCPU exited $st, expected 125"
grep -q '^boot.sh: QEMU stopped: KVM cannot run the guest (KVM internal error.*emulation failure)$' err ||
	fail "the stopped vCPU is not reported"
runs kvm

# Anything else is refused before QEMU runs.
boot abort PVSUB_QEMU_ACCEL=yes
[ "$st" -eq 125 ] || fail "PVSUB_QEMU_ACCEL=yes exited $st, expected 125"
grep -qx 'boot.sh: PVSUB_QEMU_ACCEL=yes: expected kvm, tcg or auto' err ||
	fail "PVSUB_QEMU_ACCEL=yes is not refused clearly"
[ ! -s qemu-calls ] || fail "QEMU ran with PVSUB_QEMU_ACCEL=yes"
exit 0
