#!/bin/sh
# pvsub-sign sign / verify --manifest: detached CMS over a pvsub-scan
# manifest, chain to the CA, schema, hashes against the binary; untrusted
# and expired signers; the command line's statuses.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/sign-lib.sh"
mkpki

expect_status 0 "$SIGN" --help
grep -q "^Usage: pvsub-sign " out || fail "--help has no Usage line"
expect_status 0 "$SIGN" --version
head -1 out | grep -Eq '^pvsub-sign \(pvsub\) [0-9]+\.[0-9]+' || fail "--version: $(head -1 out)"
for c in sign verify bundle unbundle; do
	expect_status 0 "$SIGN" $c --help
	grep -q "^Usage: pvsub-sign $c" out || fail "$c --help"
done
expect_status 2 "$SIGN"
expect_status 2 "$SIGN" frobnicate
grep -q "unknown command" err || fail "unknown command not named"
expect_status 2 "$SIGN" sign --key s.key x
expect_status 2 "$SIGN" sign --key s.key --cert s.pem --hash md5 x
grep -q "invalid hash" err || fail "bad hash not named"
expect_status 2 "$SIGN" verify --manifest a
expect_status 2 "$SIGN" verify --module m.ko
expect_status 2 "$SIGN" verify --ca ca.pem --manifest a
expect_status 2 "$SIGN" sign --key s.key --cert s.pem no-such-file
grep -q "no-such-file" err || fail "missing input not named"

printf '\t.text\n\tret\n' | asm clean
printf '\t.text\n\t.byte 0x0f,0x01,0xef\n\tret\n' | asm gate
expect_status 0 "$SCAN" --manifest clean.xml clean.o
expect_status 1 "$SCAN" --manifest gate.xml gate.o

expect_status 0 "$SIGN" sign --key s.key --cert s.pem clean.xml
[ -s clean.xml.p7s ] || fail "no clean.xml.p7s"
expect_status 0 "$SIGN" verify --ca ca.pem --manifest clean.xml --binary clean.o
grep -q "manifest OK" out || fail "no OK line"
grep -q "verdict" out && fail "a certified manifest was said to need load-time checks"
# Certified with load-time checks: said so, as it passes.
printf '\t.text\n\t.reloc .+2, R_X86_64_8, g\n\t.byte 0x0f,0x01,0xd4\n\tret\n' | asm loadtime
expect_status 0 "$SCAN" --manifest loadtime.xml loadtime.o
expect_status 0 "$SIGN" sign --key s.key --cert s.pem loadtime.xml
expect_status 0 "$SIGN" verify --ca ca.pem --require-certified --manifest loadtime.xml \
	--binary loadtime.o
grep -q "loadtime.xml: verdict certified-with-load-time-checks: only a loader" out ||
	fail "the load-time verdict was not said: $(cat out)"
# openssl agrees: a DER detached signature with the signer certificate in it
expect_status 0 openssl cms -verify -binary -inform DER -in clean.xml.p7s -content clean.xml \
	-CAfile ca.pem -purpose any -out /dev/null
# reproducible: the same key and manifest sign to the same bytes
expect_status 0 "$SIGN" sign --key s.key --cert s.pem clean.xml -o again.p7s
cmp -s clean.xml.p7s again.p7s || fail "signing is not reproducible"
expect_status 0 "$SIGN" sign --key s.key --cert s.pem --hash sha384 clean.xml -o sha384.p7s
expect_status 0 "$SIGN" verify --ca ca.pem --manifest clean.xml --signature sha384.p7s \
	--binary clean.o
openssl cms -cmsout -print -inform DER -in sha384.p7s | grep -q sha384 || fail "not sha384"

# trust: another CA, a signer of another CA, an expired certificate
expect_status 1 "$SIGN" verify --ca ca2.pem --manifest clean.xml --binary clean.o
grep -q "untrusted signer" err || fail "untrusted CA: $(cat err)"
expect_status 0 "$SIGN" sign --key s2.key --cert s2.pem clean.xml -o s2.p7s
expect_status 1 "$SIGN" verify --ca ca.pem --manifest clean.xml --signature s2.p7s \
	--binary clean.o
grep -q "untrusted signer" err || fail "untrusted signer: $(cat err)"
# the CA itself may only sign certificates (keyUsage keyCertSign)
expect_status 0 "$SIGN" sign --key ca.key --cert ca.pem clean.xml -o byca.p7s
expect_status 1 "$SIGN" verify --ca ca.pem --manifest clean.xml --signature byca.p7s \
	--binary clean.o
grep -q "untrusted signer.*key usage" err || fail "CA as signer: $(cat err)"
cat ca.pem ca2.pem > both.pem
expect_status 0 "$SIGN" verify --ca both.pem --manifest clean.xml --signature s2.p7s \
	--binary clean.o
expect_status 0 "$SIGN" sign --key s.key --cert old.pem clean.xml -o old.p7s
expect_status 1 "$SIGN" verify --ca ca.pem --manifest clean.xml --signature old.p7s \
	--binary clean.o
grep -q "expired certificate" err || fail "expired not explained: $(cat err)"
[ "$(wc -l < err)" = 1 ] || fail "more than one line: $(cat err)"

# tampering: binary, manifest (unsigned and re-signed), signature
cp clean.o clean2.o
printf '\220' | dd of=clean2.o bs=1 seek=64 conv=notrunc 2>/dev/null
expect_status 1 "$SIGN" verify --ca ca.pem --manifest clean.xml --binary clean2.o
grep -q "hash mismatch" err || fail "tampered binary: $(cat err)"
expect_status 1 "$SIGN" verify --ca ca.pem --manifest clean.xml --binary gate.o
grep -q "hash mismatch" err || fail "other binary: $(cat err)"
sed 's/certified/certifiedX/' clean.xml > evil.xml
cp clean.xml.p7s evil.xml.p7s
expect_status 1 "$SIGN" verify --ca ca.pem --manifest evil.xml --binary clean.o
grep -q "bad signature" err || fail "tampered manifest: $(cat err)"
expect_status 0 "$SIGN" sign --key s.key --cert s.pem evil.xml
expect_status 1 "$SIGN" verify --ca ca.pem --manifest evil.xml --binary clean.o
grep -q "schema error" err || fail "invalid manifest: $(cat err)"
# signed or not, a manifest goes through the hardened reader: a DTD or an
# XInclude is refused with one line (clean.xml, the same without, verifies)
sed '1a<!DOCTYPE manifest [<!ENTITY e SYSTEM "file:///etc/passwd">]>' clean.xml > dtd.xml
sed '2a<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>' \
	clean.xml > xi.xml
for m in "dtd:line 2: DTDs are" "xi:line 3: XInclude is"; do
	f=${m%%:*}
	expect_status 0 "$SIGN" sign --key s.key --cert s.pem $f.xml
	expect_status 1 "$SIGN" verify --ca ca.pem --manifest $f.xml --binary clean.o
	grep -q "$f.xml: schema error: ${m#*:} not allowed in manifests" err ||
		fail "$f: $(cat err)"
	[ "$(wc -l < err)" = 1 ] || fail "$f: more than one line: $(cat err)"
done
cp clean.xml.p7s bad.p7s
printf 'Z' | dd of=bad.p7s bs=1 seek=200 conv=notrunc 2>/dev/null
expect_status 1 "$SIGN" verify --ca ca.pem --manifest clean.xml --signature bad.p7s \
	--binary clean.o
expect_status 2 "$SIGN" verify --ca ca.pem --manifest clean.xml --signature none.p7s \
	--binary clean.o

# the verdict is only enforced on request
expect_status 0 "$SIGN" sign --key s.key --cert s.pem gate.xml
expect_status 0 "$SIGN" verify --ca ca.pem --manifest gate.xml --binary gate.o
expect_status 1 "$SIGN" verify --require-certified --ca ca.pem --manifest gate.xml --binary gate.o
grep -q "not certified" err || fail "rejected verdict not explained"
expect_status 0 "$SIGN" verify --require-certified --ca ca.pem --manifest clean.xml \
	--binary clean.o

# the policy a consumer requires: by hash (a built-in name or a file, read as
# pvsub-scan reads --policy), or by the built-in profiles it must cover
vfy() {
	st=$1
	shift
	expect_status "$st" "$SIGN" verify --ca ca.pem "$@" --manifest clean.xml --binary clean.o
}
vfy 0 --require-policy default
grep -q "manifest OK" out || fail "no OK line with --require-policy"
vfy 1 --require-policy pku
grep -q "^pvsub-sign: clean.xml: policy mismatch: the manifest's policy builtin:default" err ||
	fail "policy mismatch: $(cat err)"
[ "$(wc -l < err)" = 1 ] || fail "more than one line: $(cat err)"
# the same patterns as default under another id are another policy
printf '%s\n' '<policy xmlns="urn:pvsub:policy:1" id="site" version="1">' \
	'<include profile="default"/>' '</policy>' > site.xml
vfy 1 --require-policy site.xml
grep -q "policy mismatch" err || fail "site policy: $(cat err)"
expect_status 0 "$SCAN" --policy site.xml --manifest site-clean.xml clean.o
expect_status 0 "$SIGN" sign --key s.key --cert s.pem site-clean.xml
expect_status 0 "$SIGN" verify --ca ca.pem --require-policy site.xml --manifest site-clean.xml \
	--binary clean.o
vfy 2 --require-policy no-such-policy.xml
grep -q "no-such-policy.xml" err || fail "missing policy not named: $(cat err)"
vfy 0 --require-profile vmfunc --require-profile pku
vfy 1 --require-profile pku --require-profile syscall
grep -q "clean.xml: policy does not cover profile syscall: no pattern for syscall (0f 05)" err ||
	fail "uncovered profile: $(cat err)"
one_usage() {
	expect_status 2 "$SIGN" "$@"
	grep -q "Try 'pvsub-sign verify --help'" err || fail "$*: $(cat err)"
}
one_usage verify --ca ca.pem --require-profile sycsall --manifest clean.xml --binary clean.o
grep -q "no such built-in profile 'sycsall'" err || fail "unknown profile: $(cat err)"
one_usage verify --module --keyring s.pem --require-profile pku m.ko
vfy 1 --require-certified --require-policy default --require-profile vmfunc \
	--require-profile syscall
grep -q "does not cover profile syscall" err || fail "with the others: $(cat err)"
# the verdict is checked before the policy
expect_status 1 "$SIGN" verify --ca ca.pem --require-certified --require-policy pku \
	--manifest gate.xml --binary gate.o
grep -q "verdict is not certified" err || fail "order: $(cat err)"
exit 0
