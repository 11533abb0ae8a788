#!/bin/sh
# The real Debian cloud kernel, booted under QEMU with a busybox initramfs,
# loads a module signed by pvsub-sign with a key it does not know, and takes
# the "unknown key" path (loaded, tainted, "signature and/or required key
# missing"), never the "malformed signature" one.  Two controls in the same
# boot show that the assertions can fail: the same module with its PKCS#7
# blob corrupted is refused, and the module as Debian signed it (a key the
# kernel trusts) loads without the message or the taint.
#
# Skips until pvsub-sign is built, and when qemu, busybox-static or the
# kernel package are missing (fails instead when PVSUB_REQUIRE_CORPUS=1).
# The boot uses KVM when a probe shows that it works, TCG otherwise;
# PVSUB_QEMU_ACCEL=kvm|tcg forces one (see boot.sh).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/qemu/lib.sh"
SIGN="$top_builddir/pvsub-sign/pvsub-sign"
MOD=kernel/lib/crc-itu-t.ko
NAME=crc_itu_t

real_kernel_tier
"$SIGN" --version >/dev/null 2>&1 || skip "pvsub-sign is not built"
qemu_tier openssl python3 objcopy

mkdir k
dpkg-deb --fsys-tarfile "$KERNEL_DEB" | tar -x -C k --wildcards './boot/vmlinuz-*' "./lib/modules/*/$MOD"
cp k/lib/modules/*/"$MOD" debian.ko

# The module must load on its own: no dependencies.
objcopy -O binary --only-section=.modinfo debian.ko modinfo.bin
tr '\0' '\n' <modinfo.bin >modinfo.txt
grep -qx 'depends=' modinfo.txt || fail "$MOD has dependencies: $(grep '^depends=' modinfo.txt)"

# Strip Debian's signature (pvsub-sign would replace it anyway; doing it here
# keeps the test independent of that) and sign with a throwaway key.
python3 - debian.ko unsigned.ko <<'PY'
import struct, sys
MARK = b"~Module signature appended~\n"
d = open(sys.argv[1], "rb").read()
assert d.endswith(MARK), "the Debian module is not signed"
sig_len = struct.unpack(">I", d[-len(MARK) - 4:-len(MARK)])[0]
open(sys.argv[2], "wb").write(d[:-len(MARK) - 12 - sig_len])
PY
if tail -c 28 unsigned.ko | grep -q 'Module signature appended'; then
	fail "the signature was not stripped"
fi
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 1 -subj "/CN=pvsub throwaway test key" \
	-keyout key.pem -out cert.pem 2>/dev/null
expect_status 0 "$SIGN" sign --module --key key.pem --cert cert.pem unsigned.ko -o pvsub.ko
expect_status 0 "$SIGN" verify --module --keyring cert.pem pvsub.ko

# The control that must be refused: the same signature with its outer DER
# tag destroyed, which no PKCS#7 parser can accept.
python3 - pvsub.ko corrupt.ko <<'PY'
import struct, sys
MARK = b"~Module signature appended~\n"
d = bytearray(open(sys.argv[1], "rb").read())
assert d.endswith(MARK), "pvsub-sign did not append a module signature"
trailer = d[-len(MARK) - 12:-len(MARK)]
assert trailer[:8] == bytes([0, 0, 2, 0, 0, 0, 0, 0]), trailer.hex()
sig_len = struct.unpack(">I", trailer[8:])[0]
start = len(d) - len(MARK) - 12 - sig_len
assert d[start] == 0x30, "the signature is not a DER SEQUENCE"
d[start] = 0xff
open(sys.argv[2], "wb").write(d)
PY

# In the guest, each step's kernel messages are framed by markers so that the
# host can tell which step printed what.
cat >guest.sh <<EOF
step() {
	name=\$1
	shift
	dmesg -c >/dev/null
	echo "STEP-BEGIN \$name"
	"\$@" 2>&1
	echo "STEP-STATUS \$name \$?"
	grep -q '^$NAME ' /proc/modules && echo "STEP-LOADED \$name"
	echo "STEP-TAINT \$name \$(cat /proc/sys/kernel/tainted)"
	dmesg | sed 's/^/KMSG /'
	echo "STEP-END \$name"
}
step corrupt insmod /modules/corrupt.ko
step debian insmod /modules/debian.ko
rmmod $NAME
step pvsub insmod /modules/pvsub.ko
EOF

qemu_boot -k k -f corrupt.ko=/modules/corrupt.ko -f debian.ko=/modules/debian.ko \
	-f pvsub.ko=/modules/pvsub.ko -l console.log -w boot guest.sh
[ "$boot_status" -eq 0 ] || {
	[ ! -f console.log ] || tail -60 console.log
	fail "the guest exited $boot_status"
}
tr -d '\r' <console.log >console.txt

# section NAME: the lines the guest printed for step NAME
section() {
	sed -n "/^STEP-BEGIN $1\$/,/^STEP-END $1\$/p" console.txt
}
for s in corrupt debian pvsub; do
	section $s >$s.txt
	grep -q "^STEP-END $s\$" $s.txt || fail "no output for step $s"
	echo "--- step $s"
	grep -v '^STEP-BEGIN\|^STEP-END' $s.txt
done

unknown_key="$NAME: module verification failed: signature and/or required key missing"
# What the 6.1 kernel prints (or insmod reports) for a signature it cannot
# parse or check: mod_check_sig(), the PKCS#7 parser and verifier, the
# rejection in module_sig_check(), and the errno strings.
malformed='PKCS#7\|PKCS7\|not signed with expected\|non-zero params\|is rejected'
malformed="$malformed\\|Bad message\\|Key was rejected\\|Package not installed\\|EBADMSG"
unsigned_taint=8192 # TAINT_UNSIGNED_MODULE, "E"

taint() {
	sed -n "s/^STEP-TAINT $1 //p" "$1.txt"
}

# The corrupted signature is refused, as a malformed message.
grep -q '^STEP-STATUS corrupt 0$' corrupt.txt && fail "insmod accepted a corrupted signature"
grep -q '^STEP-LOADED corrupt$' corrupt.txt && fail "the corrupted module is in /proc/modules"
grep -q 'Bad message' corrupt.txt || fail "the corrupted signature was not refused as EBADMSG"

# Debian's own signature: a trusted key, no message, no taint.
grep -q '^STEP-STATUS debian 0$' debian.txt || fail "insmod of the Debian-signed module failed"
grep -q '^STEP-LOADED debian$' debian.txt || fail "the Debian-signed module is not loaded"
grep -q 'module verification failed' debian.txt &&
	fail "the kernel did not trust Debian's own signature"
[ $(($(taint debian) & unsigned_taint)) -eq 0 ] || fail "the Debian-signed module tainted the kernel"

# pvsub-sign's signature: well formed, from a key the kernel does not know.
grep -q '^STEP-STATUS pvsub 0$' pvsub.txt || fail "insmod of the pvsub-signed module failed"
grep -q '^STEP-LOADED pvsub$' pvsub.txt || fail "the pvsub-signed module is not in /proc/modules"
grep -q "^KMSG.*$unknown_key" pvsub.txt || fail "no 'required key missing' message"
if grep "$malformed" pvsub.txt; then
	fail "the kernel saw the pvsub signature as malformed"
fi
[ $(($(taint pvsub) & unsigned_taint)) -ne 0 ] || fail "the kernel is not tainted E"
exit 0
