#!/bin/sh
# 2-byte jump labels that go through near jump islands, patched and run by
# the real kernel.  Two modules of the Debian cloud kernel, each rewritten
# under a fixed stress policy (one that rewrite-sweep.py chose for it), have
# a dynamic-debug site (a 2-byte jump label, key in __dyndbg) whose target
# the rewrite takes out of rel8 reach; its __jump_table entry now points at
# a jump island within reach (check.py label-islands says which, and that
# the island jumps to what the input's entry pointed at):
#
#   ixgbevf.ko    the island follows an instruction that never falls through;
#   nvme-tcp.ko   every instruction in reach falls through, so the island
#                 sits behind a hop (jmp rel8 over it), right after the site
#                 of "connecting queue %d" in nvme_tcp_alloc_queue().
#
# In the guest Linux 6.1 writes `jmp rel8` to the entry's target at every
# site of ixgbevf (`insmod ixgbevf.ko dyndbg=+p`: the site must hold the NOP
# and the displacement fit a byte, or the kernel BUGs), turns them off (the
# site must hold that jmp) and on again.  nvme-tcp's site runs: a connection
# to 127.0.0.1:4420, where nothing listens, goes through
# nvme_tcp_alloc_queue() with the site off (over the hop, on to the connect,
# which fails: "failed to connect socket"), on ("connecting queue 0"
# through the island, then the same failure) and off again.  No BUG, oops or
# warning may appear.
#
# Negative control, last in the same boot: ixgbevf with that entry's target
# put back on the real target, out of reach (check.py mangle label-target:
# what a rewriter without islands would write), must make the kernel BUG
# when dyndbg=+p patches it.
#
# Should a change of the rewriter no longer need these islands, the test
# fails saying so: give it other modules or policies that do.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/qemu/lib.sh"
qemu_tier python3
CHECK="$top_srcdir/tests/rewrite/check.py"
IXGBEVF=kernel/drivers/net/ethernet/intel/ixgbevf/ixgbevf.ko
NVME_TCP=kernel/drivers/nvme/host/nvme-tcp.ko
NVME_FABRICS=kernel/drivers/nvme/host/nvme-fabrics.ko

# policy NAME PATTERN...: a policy of the 3-byte PATTERNs (hex, no spaces).
policy() {
	_p_name=$1
	shift
	{
		echo '<?xml version="1.0"?>'
		echo "<policy xmlns=\"urn:pvsub:policy:1\" id=\"label-island-$_p_name\" version=\"1\" on-instruction=\"reject\">"
		for _p in "$@"; do
			echo "  <pattern id=\"b$_p\" bytes=\"$(echo "$_p" | sed 's/../& /g; s/ $//')\"/>"
		done
		echo '</policy>'
	} >"$_p_name.xml"
}
policy ixgbevf 000300 040f84 300400 740689 d231f6
policy nvme-tcp 100000 501848 5d415c d00000 eaffff

mkdir k
dpkg-deb --fsys-tarfile "$KERNEL_DEB" |
	tar -x -C k --wildcards './boot/vmlinuz-*' "./lib/modules/*/$IXGBEVF" "./lib/modules/*/$NVME_TCP" \
		"./lib/modules/*/$NVME_FABRICS"

# rewrite NAME PATH FORM: rewrite the module, rescan it, and list its
# islands (islands-NAME.txt); FORM, which one of them must have: int3
# (behind int3 only) or hop (check.py label-islands says which).
rewrite() {
	cp k/lib/modules/*/"$2" "$1.orig.ko"
	expect_status 0 "$SCAN" --no-progress --rewrite --policy "$1.xml" -o "$1.ko" "$1.orig.ko"
	expect_status 0 "$SCAN" --no-progress --policy "$1.xml" "$1.ko"
	python3 "$CHECK" label-islands "$1.orig.ko" "$1.ko" __dyndbg >"islands-$1.txt" ||
		fail "no dynamic-debug jump label of the rewritten $1.ko goes through a jump island"
	cat "islands-$1.txt"
	grep -q " $3\$" "islands-$1.txt" || fail "$1.ko: no island of the form $3"
}
rewrite ixgbevf "$IXGBEVF" int3
rewrite nvme-tcp "$NVME_TCP" hop
entry=$(awk 'NR == 1 { print $1 }' islands-ixgbevf.txt)
python3 "$CHECK" mangle "label-target:$entry" ixgbevf.orig.ko ixgbevf.ko bad.ko ||
	fail "cannot move the entry's target back"
! python3 "$CHECK" label-islands ixgbevf.orig.ko bad.ko __dyndbg 2>/dev/null | grep -q "^$entry " ||
	fail "bad.ko still has the island at entry $entry"

cat >guest.sh <<'EOF'
ctl=/proc/dynamic_debug/control
[ -e $ctl ] || ctl=/sys/kernel/debug/dynamic_debug/control
bad='Oops|WARNING|BUG|jump_label|invalid opcode|general protection|Call Trace|RIP:'
dmesg -c >/dev/null
# ixgbevf: every site on at load, off, on.
if insmod /modules/ixgbevf.ko dyndbg=+p; then echo "LOADED ixgbevf"; fi
grep '\[ixgbevf\]' $ctl | grep -c ' =p ' | sed 's/^/SITES-ON /'
echo "module ixgbevf -p" >$ctl && echo "TURNED-OFF"
grep '\[ixgbevf\]' $ctl | grep -c ' =p ' | sed 's/^/SITES-ON-AFTER-OFF /'
echo "module ixgbevf +p" >$ctl && echo "TURNED-ON"
rmmod ixgbevf && echo "REMOVED ixgbevf"
# nvme-tcp: its site off, on, off, each time run.
ip link set lo up
insmod /modules/nvme-fabrics.ko && insmod /modules/nvme-tcp.ko && echo "LOADED nvme-tcp"
connect() {
	dmesg -c >/dev/null
	echo "transport=tcp,traddr=127.0.0.1,trsvcid=4420,nqn=nqn.2026-11.org.pvsub:test" \
		>/dev/nvme-fabrics 2>/dev/null
	n=$(dmesg | grep -c 'connecting queue 0')
	f=$(dmesg | grep -c 'failed to connect socket')
	echo "CONNECT-$1 debug=$n failed=$f"
	dmesg | grep -E "$bad" | sed 's/^/GOOD-KMSG /'
}
connect off
echo "func nvme_tcp_alloc_queue +p" >$ctl
connect on
echo "func nvme_tcp_alloc_queue -p" >$ctl
connect off-again
echo "---- control"
dmesg -c >/dev/null
insmod /bad/ixgbevf.ko dyndbg=+p
echo "BAD-INSMOD-EXIT $?"
dmesg | grep -E "$bad" | sed 's/^/CONTROL-KMSG /'
exit 0
EOF

qemu_boot -k k -m ixgbevf.ko -m nvme-tcp.ko -K "$NVME_FABRICS" -f bad.ko=/bad/ixgbevf.ko \
	-l console.log -w boot guest.sh
touch console.log
tr -d '\r' <console.log >console.txt
grep -E '^(LOADED|SITES-|TURNED-|REMOVED|CONNECT-|GOOD-KMSG|BAD-INSMOD|CONTROL-KMSG)' console.txt || true
[ "$boot_status" -eq 0 ] || { tail -60 console.txt; fail "the guest exited $boot_status"; }
for w in "LOADED ixgbevf" TURNED-OFF TURNED-ON "REMOVED ixgbevf" "LOADED nvme-tcp" \
	"CONNECT-off debug=0 failed=1" "CONNECT-on debug=1 failed=1" "CONNECT-off-again debug=0 failed=1"; do
	grep -qx "$w" console.txt || fail "no \"$w\" from the guest"
done
on=$(sed -n 's/^SITES-ON \([0-9]*\)$/\1/p' console.txt)
off=$(sed -n 's/^SITES-ON-AFTER-OFF \([0-9]*\)$/\1/p' console.txt)
[ "${on:-0}" -gt 0 ] || fail "dyndbg=+p turned on no site of ixgbevf"
[ "${off:-1}" -eq 0 ] || fail "$off sites of ixgbevf stayed on"
! grep -q '^GOOD-KMSG' console.txt || fail "the kernel complained about a rewritten module"
grep -q '^CONTROL-KMSG.*jump_label\|^CONTROL-KMSG.*kernel BUG' console.txt ||
	fail "negative control: the kernel patched a 2-byte jump label out of its reach without a BUG"
echo "ixgbevf: $on sites on, off, on; nvme-tcp's site behind a hop run off, on, off; the control BUGs"
