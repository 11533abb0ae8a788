#!/bin/sh
# A 2-byte jump label that goes through a near jump island, patched by the
# real kernel.  ixgbevf.ko of the Debian cloud kernel, rewritten under a
# fixed stress policy (one that rewrite-sweep.py's seed 3 chose for it),
# has a dynamic-debug site (a 2-byte jump label, key in __dyndbg) whose
# target the rewrite takes out of rel8 reach; its __jump_table entry now
# points at a jump island within reach (check.py label-islands says which,
# and that the island jumps to what the input's entry pointed at).
#
# In the guest, `insmod ixgbevf.ko dyndbg=+p` makes Linux 6.1 write `jmp
# rel8` to the entry's target at every site of the module
# (__jump_label_patch: the site must hold the NOP, the displacement must fit
# a byte, or the kernel BUGs), then the control file turns the sites off
# (the site must hold that jmp) and on again, and the module is removed:
# no BUG, oops or warning may appear.
#
# Negative control, in the same boot: the rewritten module with that entry's
# target put back on the real target, out of reach (check.py mangle
# label-target, what a rewriter without islands would write), must make the
# kernel BUG when dyndbg=+p patches it.
#
# Should a change of the rewriter no longer need an island here, the test
# fails saying so: give it another module or policy that does.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/qemu/lib.sh"
qemu_tier python3
CHECK="$top_srcdir/tests/rewrite/check.py"
MOD=kernel/drivers/net/ethernet/intel/ixgbevf/ixgbevf.ko

cat >policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="label-island-ixgbevf" version="1" on-instruction="reject">
  <pattern id="b000300" bytes="00 03 00"/>
  <pattern id="b040f84" bytes="04 0f 84"/>
  <pattern id="b300400" bytes="30 04 00"/>
  <pattern id="b740689" bytes="74 06 89"/>
  <pattern id="bd231f6" bytes="d2 31 f6"/>
</policy>
XML

mkdir k
dpkg-deb --fsys-tarfile "$KERNEL_DEB" | tar -x -C k --wildcards './boot/vmlinuz-*' "./lib/modules/*/$MOD"
cp k/lib/modules/*/"$MOD" orig.ko
expect_status 0 "$SCAN" --no-progress --rewrite --policy policy.xml -o ixgbevf.ko orig.ko
expect_status 0 "$SCAN" --no-progress --policy policy.xml ixgbevf.ko
python3 "$CHECK" label-islands orig.ko ixgbevf.ko __dyndbg >islands.txt ||
	fail "no dynamic-debug jump label of the rewritten ixgbevf.ko goes through a jump island"
cat islands.txt
entry=$(awk 'NR == 1 { print $1 }' islands.txt)
python3 "$CHECK" mangle "label-target:$entry" orig.ko ixgbevf.ko bad.ko ||
	fail "cannot move the entry's target back"
! python3 "$CHECK" label-islands orig.ko bad.ko __dyndbg 2>/dev/null | grep -q "^$entry " ||
	fail "bad.ko still has the island at entry $entry"

cat >guest.sh <<'EOF'
ctl=/proc/dynamic_debug/control
[ -e $ctl ] || ctl=/sys/kernel/debug/dynamic_debug/control
dmesg -c >/dev/null
bad='Oops|WARNING|BUG|jump_label|invalid opcode|general protection|Call Trace|RIP:'
if insmod /modules/ixgbevf.ko dyndbg=+p; then echo "LOADED"; fi
grep -q '^ixgbevf ' /proc/modules && echo "IN-PROC-MODULES"
grep '\[ixgbevf\]' $ctl | grep -c ' =p ' | sed 's/^/SITES-ON /'
echo "module ixgbevf -p" >$ctl && echo "TURNED-OFF"
grep '\[ixgbevf\]' $ctl | grep -c ' =p ' | sed 's/^/SITES-ON-AFTER-OFF /'
echo "module ixgbevf +p" >$ctl && echo "TURNED-ON"
rmmod ixgbevf && echo "REMOVED"
dmesg | grep -E "$bad" | sed 's/^/GOOD-KMSG /'
echo "---- control"
dmesg -c >/dev/null
insmod /bad/ixgbevf.ko dyndbg=+p
echo "BAD-INSMOD-EXIT $?"
dmesg | grep -E "$bad" | sed 's/^/CONTROL-KMSG /'
exit 0
EOF

qemu_boot -k k -m ixgbevf.ko -f bad.ko=/bad/ixgbevf.ko -l console.log -w boot guest.sh
touch console.log
tr -d '\r' <console.log >console.txt
grep -E '^(LOADED|IN-PROC|SITES-|TURNED-|REMOVED|GOOD-KMSG|BAD-INSMOD|CONTROL-KMSG)' console.txt || true
[ "$boot_status" -eq 0 ] || { tail -60 console.txt; fail "the guest exited $boot_status"; }
for w in LOADED IN-PROC-MODULES TURNED-OFF TURNED-ON REMOVED; do
	grep -q "^$w\$" console.txt || fail "the rewritten module: no $w"
done
on=$(sed -n 's/^SITES-ON \([0-9]*\)$/\1/p' console.txt)
off=$(sed -n 's/^SITES-ON-AFTER-OFF \([0-9]*\)$/\1/p' console.txt)
[ "${on:-0}" -gt 0 ] || fail "dyndbg=+p turned on no site of ixgbevf"
[ "${off:-1}" -eq 0 ] || fail "$off sites of ixgbevf stayed on"
! grep -q '^GOOD-KMSG' console.txt || fail "the kernel complained patching the rewritten module"
grep -q '^CONTROL-KMSG.*jump_label\|^CONTROL-KMSG.*kernel BUG' console.txt ||
	fail "negative control: the kernel patched a 2-byte jump label out of its reach without a BUG"
echo "ixgbevf: $on dynamic-debug sites turned on, off and on, one through a jump island; the control BUGs"
