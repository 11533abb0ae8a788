#!/bin/sh
# A signing certificate outside its validity period: sign, sign --module
# and bundle still sign (exit 0) but say so at once, in one line on stderr
# naming the certificate file and its notAfter or notBefore, rather than
# leaving it to the first verify --ca.  A valid certificate says nothing.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/sign-lib.sh"
mkpki

modko m
expect_status 0 "$SCAN" --manifest m.xml m.ko

# warns CERT PATTERN COMMAND...: COMMAND signs with exit 0 and one stderr
# line, the warning about CERT matching PATTERN
warns() {
	cert=$1 pattern=$2
	shift 2
	expect_status 0 "$@"
	[ "$(wc -l < err)" -eq 1 ] || fail "'$*': not one line: $(cat err)"
	grep -q "^pvsub-sign: warning: $cert: certificate .*$pattern.*; signing anyway$" err ||
		fail "'$*': no warning for $cert: $(cat err)"
}
expired='/CN=pvsub expired expired (notAfter 2020-02-01 00:00:00 UTC)'
future='/CN=pvsub future is not valid yet (notBefore 2099-12-31 00:00:00 UTC)'
for c in old.pem:"$expired" future.pem:"$future"; do
	cert=${c%%:*} pattern=${c#*:}
	warns "$cert" "$pattern" "$SIGN" sign --key s.key --cert "$cert" m.xml -o m.p7s
	[ -s m.p7s ] || fail "$cert: no signature written"
	warns "$cert" "$pattern" "$SIGN" sign --module --key s.key --cert "$cert" m.ko -o signed.ko
	# the kernel ignores the validity of module signing keys; so does verify --module
	expect_status 0 "$SIGN" verify --module --keyring "$cert" signed.ko
	warns "$cert" "$pattern" "$SIGN" bundle --key s.key --cert "$cert" -o b.tar m.ko m.xml
	[ -s b.tar ] || fail "$cert: no bundle written"
	# ...which verify --ca then refuses, as the warning foretold
	expect_status 1 "$SIGN" verify --ca ca.pem b.tar
	grep -q 'expired certificate' err || fail "$cert: verify --ca: $(cat err)"
	rm -f m.p7s signed.ko b.tar
done

# a valid certificate: not a word
expect_status 0 "$SIGN" sign --module --key s.key --cert s.pem m.ko -o signed.ko
[ ! -s err ] || fail "a valid certificate gave: $(cat err)"
expect_status 0 "$SIGN" bundle --key s.key --cert s.pem -o b.tar m.ko m.xml
[ ! -s err ] || fail "a valid certificate gave: $(cat err)"

# brp-pvsub-sign passes the warning into the build log and goes on
mkdir -p root/lib/modules/x/extra
cp m.ko root/lib/modules/x/extra/
expect_status 0 env RPM_BUILD_ROOT="$T/root" sh "$top_srcdir/rpm/brp-pvsub-sign" \
	--scan "$SCAN" --sign "$SIGN" --key "$T/s.key" --cert "$T/old.pem"
grep -q "^pvsub-sign: warning: $T/old.pem: certificate .*expired" err ||
	fail "brp-pvsub-sign hid the warning: $(cat err)"
grep -q 'brp-pvsub-sign: 1 module(s) done' out || fail "brp-pvsub-sign: $(cat out err)"
exit 0
