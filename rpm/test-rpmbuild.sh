#!/bin/sh
# The rpm integration: rpmbuild, with rpm/macros.pvsub loaded, builds
# rpm/example.spec from two tiny example modules; the payload holds each
# module with an appended signature pvsub-sign accepts, its manifest (valid
# against the schema, signed, and matching the shipped bytes) and the
# manifest's signature.  A module with a gate opcode fails the build with
# pvsub-scan's finding, and no package is written.
#
# Skips until pvsub-sign is built, and without rpmbuild.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/rpm/test-lib.sh"

mkdir mods bad
(cd mods && example_module pvsubex_net && example_module pvsubex_blk)
(cd bad && example_module pvsubex_net && example_module pvsubex_gate "	.byte 0x0f, 0x01, 0xef
	ret")

rpmbuild_example mods
[ "$rb" -eq 0 ] || {
	cat rpmbuild.log
	fail "rpmbuild exited $rb"
}
grep -q 'brp-pvsub-sign: 2 module(s) done' rpmbuild.log || {
	cat rpmbuild.log
	fail "the build-root step did not run"
}
unpack_example
for m in pvsubex_blk pvsubex_net; do
	check_shipped $m
done
[ "$(wc -l <list.txt)" -eq 6 ] || {
	cat list.txt
	fail "unexpected files in the package"
}
# The checks above can fail: the other module's manifest does not match.
expect_status 1 "$SIGN" verify --ca ca.pem \
	--manifest "payload$MODDIR/pvsubex_net.ko.manifest.xml" --binary "payload$MODDIR/pvsubex_blk.ko"

# A gate opcode in one module fails the whole build, with the scanner's words.
rpmbuild_example bad
[ "$rb" -ne 0 ] || fail "rpmbuild packaged a module with a gate opcode"
grep -q 'brp-pvsub-sign: /lib/modules/.*/pvsubex_gate.ko: gate opcodes' rpmbuild.log || {
	cat rpmbuild.log
	fail "no brp-pvsub-sign message for the gate module"
}
grep -qi 'wrpkru' rpmbuild.log || {
	cat rpmbuild.log
	fail "pvsub-scan's finding is not in the build log"
}
if ls top/RPMS/*/*.rpm >/dev/null 2>&1; then
	fail "a package was written despite the gate opcode"
fi
exit 0
