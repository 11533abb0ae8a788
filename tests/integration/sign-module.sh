#!/bin/sh
# pvsub-sign sign --module / verify --module: the kernel's appended format,
# cross-checked with kmod's modinfo and openssl cms; untrusted keyrings,
# tampering, unsigned modules, re-signing, passphrases.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/sign-lib.sh"
command -v python3 >/dev/null || fail "python3 is needed"
mkpki

modko m
cp m.ko orig.ko
chmod 0600 m.ko
expect_status 0 "$SIGN" sign --module --key s.key --cert s.pem m.ko
[ "$(stat -c %a m.ko)" = 600 ] || fail "in-place signing changed the mode"
tail -c 28 m.ko | grep -q '^~Module signature appended~$' || fail "no marker"
split_modsig m.ko content sig.der
cmp -s content orig.ko || fail "the signed content is not the module"

# openssl agrees with the signature, against the signer and against the CA
expect_status 0 openssl cms -verify -binary -inform DER -in sig.der -content content \
	-certfile s.pem -noverify -out /dev/null
expect_status 0 openssl cms -verify -binary -inform DER -in sig.der -content content \
	-certfile s.pem -CAfile ca.pem -purpose any -out /dev/null
# ...and the kernel's form: no certificates, no signed attributes
openssl cms -cmsout -print -inform DER -in sig.der > dump.txt
grep -A1 'certificates:' dump.txt | grep -q '<ABSENT>' || fail "the signature carries certificates"
grep -A1 'signedAttrs:' dump.txt | grep -q '<ABSENT>' || fail "the signature has signed attributes"

# kmod's modinfo reads it: signer (issuer CN), key (serial), hash
if command -v modinfo >/dev/null || [ -x /usr/sbin/modinfo ] || [ -x /sbin/modinfo ]; then
	MODINFO=$(command -v modinfo || ls /usr/sbin/modinfo /sbin/modinfo 2>/dev/null | head -1)
	"$MODINFO" m.ko > mi.txt || fail "modinfo failed"
	serial=$(openssl x509 -in s.pem -noout -serial | sed 's/^serial=//')
	grep -q '^signer: *pvsub ca$' mi.txt || { cat mi.txt; fail "modinfo signer"; }
	key=$(sed -n 's/^sig_key: *//p' mi.txt | tr -d ':')
	[ "$(echo "$key" | tr a-f A-F)" = "$(echo "$serial" | tr a-f A-F)" ] ||
		fail "modinfo sig_key $key is not the serial $serial"
	grep -q '^sig_hashalgo: *sha256$' mi.txt || { cat mi.txt; fail "modinfo sig_hashalgo"; }
	grep -q '^name: *m$' mi.txt || fail "modinfo lost the module's own fields"
	"$SIGN" sign --module --hash sha512 --key s.key --cert s.pem m.ko -o m512.ko
	"$MODINFO" m512.ko | grep -q '^sig_hashalgo: *sha512$' || fail "modinfo sha512"
else
	echo "modinfo (kmod) not installed: modinfo checks skipped" >&2
fi

expect_status 0 "$SIGN" verify --module --keyring s.pem m.ko
grep -q 'm.ko: module signature OK' out || fail "no OK line"
expect_status 0 "$SIGN" verify --module --keyring s.pem -q m.ko
[ ! -s out ] || fail "--quiet printed"
cat ca.pem s2.pem s.pem > ring.pem
expect_status 0 "$SIGN" verify --module --keyring ring.pem m.ko
expect_status 1 "$SIGN" verify --module --keyring s2.pem m.ko
grep -q 'untrusted signer' err || fail "untrusted keyring not named: $(cat err)"
expect_status 1 "$SIGN" verify --module --keyring s.pem orig.ko
grep -q 'no module signature' err || fail "unsigned module not named"
cp m.ko bad.ko
printf 'X' | dd of=bad.ko bs=1 seek=70 conv=notrunc 2>/dev/null
expect_status 1 "$SIGN" verify --module --keyring s.pem bad.ko
grep -q 'bad signature' err || fail "tampered module not named: $(cat err)"
# several modules: every one is reported, the worst status wins
expect_status 1 "$SIGN" verify --module --keyring s.pem m.ko bad.ko
grep -q 'm.ko: module signature OK' out || fail "good module not reported"

# re-signing replaces, never stacks; -o leaves the input alone
size=$(stat -c %s m.ko)
expect_status 0 "$SIGN" sign --module --key s.key --cert s.pem m.ko
[ "$(stat -c %s m.ko)" = "$size" ] || fail "re-signing changed the size"
[ "$(grep -c 'Module signature appended' m.ko)" = 1 ] || fail "signatures stacked"
expect_status 0 "$SIGN" sign --module --key s2.key --cert s2.pem m.ko -o m2.ko
cmp -s m.ko m2.ko && fail "-o changed nothing"
[ "$(stat -c %s m.ko)" = "$size" ] || fail "-o touched the input"
expect_status 0 "$SIGN" verify --module --keyring s2.pem m2.ko
expect_status 1 "$SIGN" verify --module --keyring s.pem m2.ko

# encrypted keys: passphrase from the environment or a file
expect_status 2 "$SIGN" sign --module --key senc.key --cert s.pem m.ko -o e.ko
grep -q 'passphrase' err || fail "missing passphrase not explained"
expect_status 2 env PVSUB_KEY_PASS=wrong "$SIGN" sign --module --key senc.key --cert s.pem m.ko \
	-o e.ko
[ ! -e e.ko ] || fail "output written after a failure"
expect_status 0 env PVSUB_KEY_PASS=s3cret "$SIGN" sign --module --key senc.key --cert s.pem m.ko \
	-o e.ko
echo s3cret > pass.txt
expect_status 0 "$SIGN" sign --module --key senc.key --cert s.pem --pass-file pass.txt m.ko \
	-o e2.ko
cmp -s e.ko e2.ko || fail "the same key signs differently"
expect_status 2 "$SIGN" sign --module --key s2.key --cert s.pem m.ko -o e3.ko
grep -q 'does not match' err || fail "key/certificate mismatch not explained"

# a real module of the Debian cloud kernel, if the corpus is at hand: its
# Debian signature is replaced by ours
cache=${PVSUB_CORPUS_DIR:-$top_builddir/tests/corpus-cache}
if deb=$("$top_srcdir/tests/corpus/fetch-kernel.sh" "$cache" 2>/dev/null); then
	dpkg-deb --fsys-tarfile "$deb" | tar -x --wildcards -O '*/kernel/lib/crc7.ko' > crc7.ko
	[ -s crc7.ko ] || fail "crc7.ko not found in $deb"
	split_modsig crc7.ko crc7.content crc7.debian.sig
	expect_status 1 "$SIGN" verify --module --keyring s.pem crc7.ko
	expect_status 0 "$SIGN" sign --module --key s.key --cert s.pem crc7.ko
	split_modsig crc7.ko crc7.ours crc7.sig
	cmp -s crc7.content crc7.ours || fail "re-signing a Debian module changed its content"
	expect_status 0 "$SIGN" verify --module --keyring s.pem crc7.ko
	if [ -n "${MODINFO:-}" ]; then
		"$MODINFO" crc7.ko > mi.txt
		grep -q '^signer: *pvsub ca$' mi.txt || { cat mi.txt; fail "modinfo crc7 signer"; }
		grep -q '^name: *crc7$' mi.txt || fail "modinfo crc7 name"
	fi
else
	echo "Debian cloud kernel not available: real-module check skipped" >&2
fi
exit 0
