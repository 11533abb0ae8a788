#!/bin/sh
# pvsub-sign bundle / unbundle / verify BUNDLE: reproducible archives, the
# bundle's own verification, and unbundling that refuses hostile archives.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/sign-lib.sh"
command -v python3 >/dev/null || fail "python3 is needed"
mkpki

printf '\t.text\n\tret\n' | asm drv
mv drv.o drv.ko
expect_status 0 "$SCAN" --manifest drv.xml drv.ko
expect_status 0 "$SIGN" bundle --key s.key --cert s.pem -o one.tar drv.ko drv.xml
sleep 1
touch drv.ko drv.xml
expect_status 0 "$SIGN" bundle --key s.key --cert s.pem -o two.tar drv.ko drv.xml
cmp -s one.tar two.tar || fail "bundles made at different times differ"
tar -tvf one.tar > list.txt
[ "$(awk '{print $6}' list.txt | tr '\n' ' ')" = "drv.ko manifest.xml manifest.xml.p7s signer.pem " ] ||
	{ cat list.txt; fail "members or order"; }
python3 - one.tar <<'PY' || fail "bundle headers are not fixed"
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        assert m.isreg() and m.mtime == 0 and m.uid == 0 and m.gid == 0, m.name
        assert m.mode == 0o644 and m.uname == "" and m.gname == "", m.name
PY

expect_status 0 "$SIGN" verify --ca ca.pem one.tar
grep -q "bundle OK (drv.ko)" out || fail "no OK line"
expect_status 1 "$SIGN" verify --ca ca2.pem one.tar
grep -q "untrusted signer" err || fail "untrusted CA: $(cat err)"
# what a consumer requires of the manifest holds for bundles too
expect_status 0 "$SIGN" verify --ca ca.pem --require-certified --require-policy default \
	--require-profile pku one.tar
grep -q "bundle OK (drv.ko)" out || fail "no OK line with requirements"
expect_status 1 "$SIGN" verify --ca ca.pem --require-policy vmfunc one.tar
grep -q "^pvsub-sign: one.tar: manifest.xml: policy mismatch" err || fail "policy: $(cat err)"
expect_status 1 "$SIGN" verify --ca ca.pem --require-profile syscall one.tar two.tar
[ "$(grep -c "manifest.xml: policy does not cover profile syscall" err)" = 2 ] ||
	fail "profile: $(cat err)"

# a manifest that does not describe the driver is not bundled
printf '\t.text\n\tnop\n\tret\n' | asm other
expect_status 2 "$SIGN" bundle --key s.key --cert s.pem -o x.tar other.o drv.xml
grep -q "hash mismatch" err || fail "mismatch not explained"
[ ! -e x.tar ] || fail "bundle written anyway"

# any member tampered with fails verification
python3 - one.tar <<'PY'
import io, sys, tarfile
src = tarfile.open(sys.argv[1])
members = [(m, src.extractfile(m).read()) for m in src.getmembers()]
for i, (victim, _) in enumerate(members):
    out = tarfile.open("tamper-%d.tar" % i, "w", format=tarfile.USTAR_FORMAT)
    for m, data in members:
        if m.name == victim.name:
            data = bytearray(data)
            data[len(data) // 2] ^= 0x01
            data = bytes(data)
        out.addfile(m, io.BytesIO(data))
    out.close()
PY
for i in 0 1 2 3; do
	expect_status 1 "$SIGN" verify --ca ca.pem tamper-$i.tar
done

# unbundle: the four files, byte for byte
mkdir out1
expect_status 0 "$SIGN" unbundle -C out1 one.tar
cmp -s out1/drv.ko drv.ko || fail "driver differs"
cmp -s out1/manifest.xml drv.xml || fail "manifest differs"
expect_status 0 "$SIGN" verify --ca ca.pem --manifest out1/manifest.xml \
	--signature out1/manifest.xml.p7s --binary out1/drv.ko
cmp -s out1/signer.pem s.pem || fail "certificate differs"
expect_status 2 "$SIGN" unbundle -C no-such-dir one.tar

# hostile bundles: nothing is written, anywhere
python3 - one.tar <<'PY'
import io, sys, tarfile
src = tarfile.open(sys.argv[1])
good = [(m, src.extractfile(m).read()) for m in src.getmembers()]

def make(name, mutate):
    out = tarfile.open(name, "w", format=tarfile.PAX_FORMAT)
    for m, data in mutate(list(good)):
        out.addfile(m, io.BytesIO(data) if m.isreg() else None)
    out.close()

def renamed(new):
    def f(ms):
        m, d = ms[0]
        m = tarfile.TarInfo(new); m.size = len(d)
        return [(m, d)] + ms[1:]
    return f

def special(kind, **kw):
    def f(ms):
        m = tarfile.TarInfo("drv.ko"); m.type = kind
        for k, v in kw.items():
            setattr(m, k, v)
        return [(m, b"")] + ms[1:]
    return f

def extra(ms):
    m = tarfile.TarInfo("extra.txt"); m.size = 3
    return ms + [(m, b"abc")]

make("abs.tar", renamed("/tmp/pvsub-evil.ko"))
make("dotdot.tar", renamed("../evil.ko"))
make("subdir.tar", renamed("sub/evil.ko"))
make("symlink.tar", special(tarfile.SYMTYPE, linkname="/etc/passwd"))
make("hardlink.tar", special(tarfile.LNKTYPE, linkname="signer.pem"))
make("device.tar", special(tarfile.CHRTYPE, devmajor=1, devminor=3))
make("extra.tar", extra)
PY
for t in abs dotdot subdir symlink hardlink device extra; do
	mkdir "u-$t"
	expect_status 2 "$SIGN" unbundle -C "u-$t" "$t.tar"
	[ -z "$(ls -A "u-$t")" ] || fail "$t: unbundle wrote $(ls -A "u-$t")"
	expect_status 1 "$SIGN" verify --ca ca.pem "$t.tar"
done
[ ! -e ../evil.ko ] && [ ! -e /tmp/pvsub-evil.ko ] || fail "written outside the directory"
exit 0
