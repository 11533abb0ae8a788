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
SIGN="$top_builddir/pvsub-sign/pvsub-sign"
XMLLINT=${XMLLINT:-xmllint}
"$SIGN" --version >/dev/null 2>&1 || skip "pvsub-sign is not built"
for tool in rpmbuild rpm rpm2cpio cpio openssl; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done
command -v "$XMLLINT" >/dev/null || skip "xmllint is not installed"

# A CA and a code-signing certificate it issued.
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 1 -subj "/CN=pvsub test CA" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
	-keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=pvsub test module signer" \
	-keyout sign.key -out sign.csr 2>/dev/null
printf '%s\n' basicConstraints=CA:FALSE keyUsage=critical,digitalSignature \
	extendedKeyUsage=codeSigning >sign.ext
openssl x509 -req -in sign.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -sha256 \
	-extfile sign.ext -out sign.pem 2>/dev/null

# example_module NAME [ASM]: an ET_REL object shaped like a module, with a
# .modinfo section and ASM (default: a clean init function) in .text.  With
# -g it has debug sections, so brp-strip changes it.
example_module() {
	{
		printf '\t.section .modinfo,"a"\n'
		printf '\t.asciz "license=GPL"\n\t.asciz "name=%s"\n' "$1"
		printf '\t.text\n\t.globl init_module\ninit_module:\n'
		printf '%s\n' "${2:-	xorl %eax, %eax
	ret}"
	} >"$1.s"
	"$CC" -c -g -o "$1.ko" "$1.s"
}
mkdir mods bad
(cd mods && example_module pvsubex_net && example_module pvsubex_blk)
(cd bad && example_module pvsubex_net && example_module pvsubex_gate "	.byte 0x0f, 0x01, 0xef
	ret")

# rpmbuild_example DIR: build the example package from the modules in DIR
# into ./top, its output in ./rpmbuild.log
rpmbuild_example() {
	rm -rf top
	mkdir top
	set +e
	rpmbuild -bb --nodeps \
		--load "$top_builddir/rpm/macros.pvsub" \
		--define "_topdir $T/top" --define "_tmppath $T/top" \
		--define "__pvsub_scan $top_builddir/pvsub-scan/pvsub-scan" \
		--define "__pvsub_sign $SIGN" \
		--define "__pvsub_brp_sign /bin/sh $top_srcdir/rpm/brp-pvsub-sign" \
		--define "_pvsub_key $T/sign.key" \
		--define "_pvsub_cert $T/sign.pem" \
		--define "pvsub_example_dir $T/$1" \
		"$top_srcdir/rpm/example.spec" >rpmbuild.log 2>&1
	rb=$?
	set -e
}

rpmbuild_example mods
[ "$rb" -eq 0 ] || {
	cat rpmbuild.log
	fail "rpmbuild exited $rb"
}
grep -q 'brp-pvsub-sign: 2 module(s) done' rpmbuild.log || {
	cat rpmbuild.log
	fail "the build-root step did not run"
}
pkg=$(ls top/RPMS/*/pvsub-example-modules-1.0-1.*.rpm)
rpm -qlp "$pkg" >list.txt
dir=/lib/modules/6.1.0-pvsub-example/extra
for m in pvsubex_blk pvsubex_net; do
	for suffix in .ko .ko.manifest.xml .ko.manifest.xml.p7s; do
		grep -qx "$dir/$m$suffix" list.txt || {
			cat list.txt
			fail "$m$suffix is not in the package"
		}
	done
done
[ "$(wc -l <list.txt)" -eq 6 ] || {
	cat list.txt
	fail "unexpected files in the package"
}

mkdir payload
(cd payload && rpm2cpio "../$pkg" | cpio -id --quiet)
for m in pvsubex_blk pvsubex_net; do
	ko=payload$dir/$m.ko
	tail -c 28 "$ko" | grep -q '~Module signature appended~' || fail "$m.ko is not signed"
	# The signature came after the strip: the debug sections are gone.
	if objdump -h "$ko" | grep -q '\.debug_'; then
		fail "$m.ko was not stripped before it was signed"
	fi
	expect_status 0 "$SIGN" verify --module --keyring sign.pem "$ko"
	"$XMLLINT" --noout --nonet --schema "$top_srcdir/schemas/pvsub-manifest.xsd" \
		"$ko.manifest.xml" 2>xmllint.err || {
		cat xmllint.err
		fail "$m.ko.manifest.xml does not validate"
	}
	grep -q '<module-signature ' "$ko.manifest.xml" ||
		fail "the manifest of $m.ko does not describe the shipped, signed bytes"
	grep -q "path=\"lib/modules/6.1.0-pvsub-example/extra/$m.ko\"" "$ko.manifest.xml" ||
		fail "the manifest of $m.ko does not name its installed path"
	if grep -q "$T" "$ko.manifest.xml"; then
		fail "the manifest of $m.ko names the build root"
	fi
	expect_status 0 "$SIGN" verify --ca ca.pem --manifest "$ko.manifest.xml" --binary "$ko"
done
# The checks above can fail: the other module's manifest does not match.
expect_status 1 "$SIGN" verify --ca ca.pem --manifest "payload$dir/pvsubex_net.ko.manifest.xml" \
	--binary "payload$dir/pvsubex_blk.ko"

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
