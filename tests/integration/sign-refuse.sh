#!/bin/sh
# pvsub-sign sign --module and bundle refuse what they would corrupt or
# mislabel: only an x86-64 ELF relocatable object takes a module signature
# (a bundle's driver may also be a shared object or an executable), judged
# by content, not by name.  A refusal is exit 2, one line saying why, the
# file untouched and no output written; compressed modules are told to be
# signed before compressing.  brp-pvsub-sign fails the build with that line.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/sign-lib.sh"
command -v python3 >/dev/null || fail "python3 is needed"
mkpki

modko m
# Compressed modules, whatever their names; a text file; a shared object; a
# 32-bit object; a big-endian and an AArch64 header on an x86-64 object; a
# truncated header; a section header table cut off.
xz -c m.ko > m.ko.xz
gzip -n -c m.ko > m.ko.gz
cp m.ko.xz xz-named-plain.ko
have_zstd=false
if command -v zstd >/dev/null; then
	zstd -q -c m.ko > m.ko.zst
	have_zstd=true
fi
printf 'not a module\n' > notes.txt
printf 'int f(void) { return 1; }\n' > lib.c
"$CC" -shared -fPIC -o lib.so lib.c
printf '\t.text\n\tret\n' | "$CC" -c -x assembler -Wa,--32 -o i386.o - 2>/dev/null ||
	printf '\t.text\n\tret\n' | as --32 -o i386.o
python3 - <<'PY'
d = bytearray(open("m.ko", "rb").read())
be = bytearray(d); be[5] = 2  # EI_DATA = ELFDATA2MSB
open("bigendian.ko", "wb").write(be)
arm = bytearray(d); arm[18:20] = (183).to_bytes(2, "little")  # EM_AARCH64
open("aarch64.ko", "wb").write(arm)
open("short.ko", "wb").write(d[:40])
shoff = int.from_bytes(d[0x28:0x30], "little")
open("cut.ko", "wb").write(d[:shoff + 64])
PY

# refused FILE REASON: sign --module refuses FILE, in place and with -o,
# with one line naming FILE and REASON, and changes nothing
refused() {
	cp "$1" before
	expect_status 2 "$SIGN" sign --module --key s.key --cert s.pem "$1"
	[ "$(wc -l < err)" -eq 1 ] || fail "$1: more than one line: $(cat err)"
	grep -q "^pvsub-sign: $1: .*$2" err || fail "$1: reason not given: $(cat err)"
	cmp -s before "$1" || fail "$1 was changed"
	expect_status 2 "$SIGN" sign --module --key s.key --cert s.pem -o out.ko "$1"
	[ ! -e out.ko ] || fail "$1: output written"
	cmp -s before "$1" || fail "$1 was changed"
}
refused m.ko.xz 'xz-compressed.*sign before compressing'
refused m.ko.gz 'gzip-compressed.*sign before compressing'
refused xz-named-plain.ko 'xz-compressed.*sign before compressing'
if $have_zstd; then
	refused m.ko.zst 'zstd-compressed.*sign before compressing'
fi
refused notes.txt 'no ELF header, not an x86-64 ELF relocatable object'
refused lib.so 'shared object.*ET_DYN.*not an x86-64 ELF relocatable object'
refused i386.o '32-bit ELF object'
refused bigendian.ko 'big-endian ELF object'
refused aarch64.ko 'machine 183 (AArch64)'
refused short.ko 'truncated ELF header'
refused cut.ko 'section header table lies outside the file'
xz -t m.ko.xz || fail "m.ko.xz is no longer a valid xz stream"

# The refusal comes before the key: a refused file with a bad key is still
# one line about the file.
expect_status 2 "$SIGN" sign --module --key nosuch.key --cert s.pem notes.txt
grep -q 'notes.txt: no ELF header' err || fail "key checked before the file: $(cat err)"

# What is accepted: a module, a signed one (re-signed), one with its own
# trailer; a detached signature of any file is not a module signature.
expect_status 0 "$SIGN" sign --module --key s.key --cert s.pem m.ko
expect_status 0 "$SIGN" sign --module --key s.key --cert s.pem m.ko
expect_status 0 "$SIGN" verify --module --keyring s.pem m.ko
expect_status 0 "$SIGN" sign --key s.key --cert s.pem notes.txt
[ -s notes.txt.p7s ] || fail "detached signing of a text file refused"

# bundle: the driver is an x86-64 ELF object (relocatable, shared or
# executable).  A manifest edited to describe another file shows that the
# check is the driver's own, not the manifest comparison.
modko drv
expect_status 0 "$SCAN" --manifest drv.xml drv.ko
expect_status 0 "$SCAN" --manifest lib.xml lib.so
expect_status 0 "$SIGN" bundle --key s.key --cert s.pem -o lib.tar lib.so lib.xml
expect_status 0 "$SIGN" verify --ca ca.pem lib.tar
# describe FILE: drv.xml rewritten to describe FILE's size and hash
describe() {
	python3 - "$1" <<-'PY'
	import hashlib, re, sys
	d = open(sys.argv[1], "rb").read()
	m = open("drv.xml").read()
	m = re.sub(r'(<object [^>]*size=")\d+(" sha256=")[0-9a-f]+',
	           lambda x: x.group(1) + str(len(d)) + x.group(2) + hashlib.sha256(d).hexdigest(), m)
	open(sys.argv[1] + ".xml", "w").write(m)
	PY
}
for f in m.ko.xz xz-named-plain.ko notes.txt i386.o aarch64.ko; do
	describe "$f"
	expect_status 2 "$SIGN" bundle --key s.key --cert s.pem -o b.tar "$f" "$f.xml"
	[ "$(wc -l < err)" -eq 1 ] || fail "bundle $f: more than one line: $(cat err)"
	grep -q "^pvsub-sign: $f: .*not an x86-64 ELF object" err ||
		fail "bundle $f: reason not given: $(cat err)"
	[ ! -e b.tar ] || fail "bundle $f: written"
done
describe m.ko.xz
expect_status 2 "$SIGN" bundle --key s.key --cert s.pem -o b.tar m.ko.xz m.ko.xz.xml
grep -q 'xz-compressed.*sign before compressing' err || fail "bundle: compression not named"

# brp-pvsub-sign: a module whose content is compressed (pvsub-scan reads it
# as the module inside, so only the signer sees it) fails the build with
# pvsub-sign's reason, and the file is left as it was.
mkdir -p root/lib/modules/x/extra
cp m.ko.xz root/lib/modules/x/extra/packed.ko
expect_status 1 env RPM_BUILD_ROOT="$T/root" sh "$top_srcdir/rpm/brp-pvsub-sign" \
	--scan "$SCAN" --sign "$SIGN" --key "$T/s.key" --cert "$T/s.pem"
grep -q '^brp-pvsub-sign: /lib/modules/x/extra/packed.ko: pvsub-sign could not sign it' err ||
	fail "brp-pvsub-sign: no line for the module: $(cat err)"
grep -q 'packed.ko: xz-compressed.*sign before compressing' err ||
	fail "brp-pvsub-sign: pvsub-sign's reason lost: $(cat err)"
cmp -s m.ko.xz root/lib/modules/x/extra/packed.ko || fail "brp-pvsub-sign changed the module"
exit 0
