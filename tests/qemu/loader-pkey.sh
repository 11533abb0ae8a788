#!/bin/sh
# pvsub-loader's pkey backend where this machine's CPU may have no
# protection keys: the Debian cloud kernel booted under QEMU, whose
# emulated CPU (-cpu max) has them, runs pvsub-loader (with its shared
# libraries) and pvsub-guestrun in a busybox initramfs, and
# tests/integration/pkey-run.sh there runs the example guests and the
# pkey attack guests (built, certified and signed here) under each
# backend; its output must be pkey-lib.sh's, as on a CPU with PKU
# (tests/integration/loader-pkey-hw.sh).  In the same boot, PKU Pitfalls'
# mremap joining two clean pages (tests/guest/attack.c's attack 27, as
# tests/integration/loader-attacks.sh runs it): killed (SIGSYS, 159) under
# pkey and mprotect, the junction read back as a WRPKRU (42) under none;
# the guest's last line is the one it logs right before the mremap, so
# that a SIGSYS elsewhere fails.
# Skips when the guest has no
# protection keys after all (KVM on a CPU without them), and as the other
# QEMU tests do.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/qemu/lib.sh"
. "$top_srcdir/tests/integration/pkey-lib.sh"

real_kernel_tier
[ -x "$RUNTIME" ] || skip "no pvsub-guestrun (configure found no musl-gcc)"
qemu_tier ldd
pkey_attacks
# attack 27 of tests/guest/attack.c, with the runtime's addresses that
# its other attacks use (as loader-attacks.sh gives them)
sym() { nm "$RUNTIME" | awk -v s="$1" '$3 == s { print "0x" $1 }'; }
certified_guest join "$top_srcdir/tests/guest/attack.c" -DATTACK=27 \
	-DSAVED_SP="$(sym saved_sp)" -DGATE_CLOSE_PROT="$(sym gate_close_prot)"

# the loader and its shared libraries, each at the path it is loaded from
set -- -f "$LOADER=/pvsub-loader" -f "$RUNTIME=/pvsub-guestrun" -f "$CA=/ca.pem" \
	-f "$PKEY_RUN=/pkey-run.sh"
for lib in $(ldd "$LOADER" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
	set -- "$@" -f "$(readlink -f "$lib")=$lib"
done
for g in loopback pktgen sink echo; do
	set -- "$@" -f "$GUESTS/$g.tar=/guests/$g.tar"
done
for n in 1 2 3 4 5 6 7 8 9; do
	set -- "$@" -f "$PWD/attack$n.tar=/attacks/attack$n.tar"
done
set -- "$@" -f "$PWD/join.tar=/attacks/join.tar"
# shellcheck disable=SC2016 # expanded in the guest
qemu_boot -k "$KERNEL_DEB" -l console.log "$@" -c '
echo "cpu: $(grep -o -w -e pku -e ospke /proc/cpuinfo | sort -u | tr "\n" " ")"
PVSUB_GUESTRUN=/pvsub-guestrun sh /pkey-run.sh /pvsub-loader /ca.pem /guests /attacks |
	sed "s/^/PKEY-RUN: /"
for b in pkey mprotect none; do
	PVSUB_GUESTRUN=/pvsub-guestrun /pvsub-loader --backend $b --ca /ca.pem --loopback \
		/attacks/join.tar >/dev/null 2>/tmp/err
	echo "JOIN: $b $? $(grep "^pvsub-loader: guest: " /tmp/err | tail -n 1)"
done'
[ "$boot_status" -eq 0 ] || fail "the boot failed ($boot_status): $(tail -n 20 console.log)"
grep -a '^cpu: ' console.log || :
tr -d '\r' < console.log | sed -n 's/^PKEY-RUN: //p' > got
if [ "$(head -n 1 got)" = "probe loopback pkey 129 1" ]; then
	skip "no protection keys in the QEMU guest's CPU either: pkey tests skipped"
fi
pkey_expected > want
cmp -s want got || fail "under pkey in QEMU:
$(diff want got)"
tr -d '\r' < console.log | sed -n 's/^JOIN: //p' > got
echo "mremap join: $(tr '\n' ' ' < got)"
g='pvsub-loader: guest: join: mremap'
printf '%s\n' "pkey 159 $g" "mprotect 159 $g" "none 42 $g" > want
cmp -s want got || fail "mremap joining two clean pages in QEMU:
$(diff want got)"
exit 0
