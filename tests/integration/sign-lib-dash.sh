#!/bin/sh
# sign-lib.sh is sourced by tests that run under $(SHELL), which configure
# may set to bash; Debian's /bin/sh is dash.  Make the test PKI under dash,
# which refuses bashisms such as $RANDOM (under set -u: "parameter not set").
. "$top_srcdir/tests/lib.sh"
command -v dash >/dev/null || skip "dash is not installed"
expect_status 0 dash -c '. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/sign-lib.sh"
mkpki
for f in ca ca2 s s2 old; do
	openssl x509 -noout -in $f.pem || fail "no certificate $f.pem"
done
[ "$(openssl x509 -noout -serial -in s.pem)" != "$(openssl x509 -noout -serial -in s2.pem)" ] ||
	fail "s.pem and s2.pem have the same serial"
echo made'
grep -qx made out || { cat out err; fail "mkpki under dash did not finish"; }
exit 0
