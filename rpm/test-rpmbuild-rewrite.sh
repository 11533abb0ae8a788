#!/bin/sh
# %_pvsub_rewrite 1: rpmbuild rewrites a module in which the policy's
# patterns occur (pvsub-scan --rewrite), then signs and packages it with its
# manifest like any clean module.  The module here has VMFUNC's bytes
# (0f 01 d4) inside an immediate, which only rewriting removes.  Negative
# controls: without the macro (or with 0) the same package fails to build,
# with a line naming the module and the macro; with it, a real gate
# instruction under the default (reject) policy still fails the build.
#
# Skips until pvsub-sign is built, and without rpmbuild.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/rpm/test-lib.sh"

mkdir imm bad
(cd imm && example_module pvsubex_net && example_module pvsubex_imm "	movl \$0x00d4010f, %eax
	ret")
(cd bad && example_module pvsubex_imm "	movl \$0x00d4010f, %eax
	ret" && example_module pvsubex_gate "	.byte 0x0f, 0x01, 0xef
	ret")
# The fixture is what it claims: an embedded occurrence, nothing else.
expect_status 1 "$SCAN" --format json imm/pvsubex_imm.ko
json_query out '[f["class"] for f in d["files"][0]["findings"]]' > classes.txt
[ "$(cat classes.txt)" = "['embedded']" ] || fail "fixture findings: $(cat classes.txt)"

# Without the macro, or with it set to 0: the build fails, naming the module
# and the macro, and no package is written.
for define in '' '_pvsub_rewrite 0'; do
	if [ -n "$define" ]; then
		rpmbuild_example imm --define "$define"
	else
		rpmbuild_example imm
	fi
	[ "$rb" -ne 0 ] || fail "rpmbuild packaged a module with an occurrence (${define:-no macro})"
	grep -q "^brp-pvsub-sign: $MODDIR/pvsubex_imm.ko: gate opcodes.*%_pvsub_rewrite 1" \
		rpmbuild.log || {
		cat rpmbuild.log
		fail "no line naming the module and %_pvsub_rewrite (${define:-no macro})"
	}
	if ls top/RPMS/*/*.rpm >/dev/null 2>&1; then
		fail "a package was written (${define:-no macro})"
	fi
done

# With it: the module is rewritten, then signed and packaged with its
# manifest; the clean one is left as it was.
rpmbuild_example imm --define '_pvsub_rewrite 1'
[ "$rb" -eq 0 ] || {
	cat rpmbuild.log
	fail "rpmbuild exited $rb with %_pvsub_rewrite 1"
}
grep -q "^brp-pvsub-sign: $MODDIR/pvsubex_imm.ko: rewritten.*, signed$" rpmbuild.log || {
	cat rpmbuild.log
	fail "the module was not rewritten"
}
grep -q "^brp-pvsub-sign: $MODDIR/pvsubex_net.ko: scanned, signed$" rpmbuild.log || {
	cat rpmbuild.log
	fail "the clean module was not just scanned and signed"
}
grep -q 'brp-pvsub-sign: 2 module(s) done' rpmbuild.log || fail "not 2 modules done"
unpack_example
for m in pvsubex_imm pvsubex_net; do
	check_shipped $m
done
[ "$(wc -l <list.txt)" -eq 6 ] || {
	cat list.txt
	fail "unexpected files in the package"
}
ko=payload$MODDIR/pvsubex_imm.ko
# It rescans clean, signature and all, under the policy it was rewritten for.
expect_status 0 "$SCAN" --policy default "$ko"
expect_status 0 "$SIGN" verify --require-certified --ca ca.pem --manifest "$ko.manifest.xml" \
	--binary "$ko"
# The code did change: the shipped .text is not the original's.
objcopy -O binary --only-section=.text imm/pvsubex_imm.ko orig.text
objcopy -O binary --only-section=.text "$ko" new.text
cmp -s orig.text new.text && fail "the shipped module's code is the original's"
# kmod reads it as a signed module of that name.
MODINFO=$(command -v modinfo || ls /usr/sbin/modinfo /sbin/modinfo 2>/dev/null | head -n 1) || :
if [ -n "$MODINFO" ]; then
	"$MODINFO" "$ko" >mi.txt || fail "modinfo failed on the rewritten module"
	grep -q '^name: *pvsubex_imm$' mi.txt || { cat mi.txt; fail "modinfo name"; }
	grep -q '^signer: *pvsub test CA$' mi.txt || { cat mi.txt; fail "modinfo signer"; }
	grep -q '^sig_hashalgo: *sha256$' mi.txt || { cat mi.txt; fail "modinfo sig_hashalgo"; }
else
	echo "modinfo (kmod) not installed: modinfo checks skipped" >&2
fi

# A real gate instruction cannot be rewritten under a reject policy: the
# build fails with the rewriter's reason, and nothing is packaged.
rpmbuild_example bad --define '_pvsub_rewrite 1'
[ "$rb" -ne 0 ] || fail "rpmbuild packaged a module with a gate instruction"
grep -q "^brp-pvsub-sign: $MODDIR/pvsubex_gate.ko: pvsub-scan --rewrite cannot remove" \
	rpmbuild.log || {
	cat rpmbuild.log
	fail "no brp-pvsub-sign line for the gate module"
}
grep -q 'refused' rpmbuild.log || {
	cat rpmbuild.log
	fail "the rewriter's refusal is not in the build log"
}
if ls top/RPMS/*/*.rpm >/dev/null 2>&1; then
	fail "a package was written despite the gate instruction"
fi
exit 0
