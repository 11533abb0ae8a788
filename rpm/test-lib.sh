# Helpers for the rpmbuild tests (sourced after tests/lib.sh): the tools,
# a throwaway PKI, example modules, and a build of rpm/example.spec with
# rpm/macros.pvsub loaded.  Skips without pvsub-sign, rpmbuild and the
# other tools the checks use.
SIGN="$top_builddir/pvsub-sign/pvsub-sign"
XMLLINT=${XMLLINT:-xmllint}
"$SIGN" --version >/dev/null 2>&1 || skip "pvsub-sign is not built"
for tool in rpmbuild rpm rpm2cpio cpio openssl objdump; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done
command -v "$XMLLINT" >/dev/null || skip "xmllint is not installed"
MODDIR=/lib/modules/6.1.0-pvsub-example/extra

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

# rpmbuild_example DIR [RPMBUILD-OPTION...]: build the example package from
# the modules in DIR into ./top; its output in ./rpmbuild.log, its exit
# status in $rb
rpmbuild_example() {
	rb_dir=$1
	shift
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
		--define "pvsub_example_dir $T/$rb_dir" \
		"$@" "$top_srcdir/rpm/example.spec" >rpmbuild.log 2>&1
	rb=$?
	set -e
}

# unpack_example: the package just built, its file list in ./list.txt and
# its payload under ./payload; the package in $pkg
unpack_example() {
	pkg=$(ls top/RPMS/*/pvsub-example-modules-1.0-1.*.rpm)
	rpm -qlp "$pkg" >list.txt
	rm -rf payload
	mkdir payload
	(cd payload && rpm2cpio "../$pkg" | cpio -id --quiet)
}

# check_shipped M: the packaged $MODDIR/M.ko is listed with its manifest and
# the manifest's signature; it was stripped before it was signed; its module
# signature and its manifest (schema, installed path, signature, hashes of
# the shipped bytes) verify
check_shipped() {
	for suffix in .ko .ko.manifest.xml .ko.manifest.xml.p7s; do
		grep -qx "$MODDIR/$1$suffix" list.txt || {
			cat list.txt
			fail "$1$suffix is not in the package"
		}
	done
	ko=payload$MODDIR/$1.ko
	tail -c 28 "$ko" | grep -q '~Module signature appended~' || fail "$1.ko is not signed"
	# The signature came after the strip: the debug sections are gone.
	if objdump -h "$ko" | grep -q '\.debug_'; then
		fail "$1.ko was not stripped before it was signed"
	fi
	expect_status 0 "$SIGN" verify --module --keyring sign.pem "$ko"
	"$XMLLINT" --noout --nonet --schema "$top_srcdir/schemas/pvsub-manifest.xsd" \
		"$ko.manifest.xml" 2>xmllint.err || {
		cat xmllint.err
		fail "$1.ko.manifest.xml does not validate"
	}
	grep -q '<module-signature ' "$ko.manifest.xml" ||
		fail "the manifest of $1.ko does not describe the shipped, signed bytes"
	grep -q "path=\"${MODDIR#/}/$1.ko\"" "$ko.manifest.xml" ||
		fail "the manifest of $1.ko does not name its installed path"
	if grep -q "$T" "$ko.manifest.xml"; then
		fail "the manifest of $1.ko names the build root"
	fi
	expect_status 0 "$SIGN" verify --ca ca.pem --manifest "$ko.manifest.xml" --binary "$ko"
}
