#!/bin/sh
# pvsub-sign with a key in a PKCS#11 token (SoftHSM2 through OpenSSL's
# pkcs11 engine): the signature equals the one made from the PEM key.
# Skips unless softhsm2 and libengine-pkcs11-openssl are installed.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/sign-lib.sh"
command -v softhsm2-util >/dev/null || skip "softhsm2 not installed"
module=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
	[ -f "$m" ] && module=$m && break
done
[ -n "$module" ] || skip "libsofthsm2.so not found"
openssl engine pkcs11 >/dev/null 2>&1 || skip "no OpenSSL pkcs11 engine (libengine-pkcs11-openssl)"
mkpki

mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$PWD" > softhsm2.conf
SOFTHSM2_CONF=$PWD/softhsm2.conf PKCS11_MODULE_PATH=$module
export SOFTHSM2_CONF PKCS11_MODULE_PATH
softhsm2-util --init-token --free --label pvsub --pin 1234 --so-pin 5678 >/dev/null ||
	fail "cannot create a token"
openssl pkcs8 -topk8 -nocrypt -in s.key -out s.p8
softhsm2-util --import s.p8 --token pvsub --label signkey --id 01 --pin 1234 >/dev/null ||
	fail "cannot import the key"
uri="pkcs11:token=pvsub;object=signkey;type=private"

modko m
cp m.ko p.ko
expect_status 0 env PVSUB_KEY_PASS=1234 "$SIGN" sign --module --key "$uri" --cert s.pem p.ko
expect_status 0 "$SIGN" verify --module --keyring s.pem p.ko
expect_status 0 "$SIGN" sign --module --key s.key --cert s.pem m.ko
cmp -s m.ko p.ko || fail "the token signs differently from the PEM key"

echo 1234 > pin.txt
printf '<x/>\n' > doc.xml
expect_status 0 "$SIGN" sign --key "$uri" --pass-file pin.txt --cert s.pem doc.xml
expect_status 0 openssl cms -verify -binary -inform DER -in doc.xml.p7s -content doc.xml \
	-CAfile ca.pem -purpose any -out /dev/null

# libp11 (the engine) prints its own line on stderr for a missing object,
# and leaks on that path: keep LeakSanitizer to ourselves.
expect_status 2 env PVSUB_KEY_PASS=1234 ASAN_OPTIONS=detect_leaks=0 "$SIGN" sign --module \
	--key "pkcs11:token=pvsub;object=nosuchkey;type=private" --cert s.pem m.ko -o n.ko
grep -q '^pvsub-sign: .*cannot load the PKCS#11 key' err ||
	fail "missing token key not explained: $(cat err)"
[ ! -e n.ko ] || fail "output written after a failure"
exit 0
