#!/bin/sh
# Archives end to end (DESIGN §5): images made with the system's own tar,
# cpio, ar, zip, xz, zstd, gzip, bzip2, dpkg-deb and rpmbuild hold a real ELF
# object; pvsub-scan must name every one by its path inside the archives and
# keep going past a corrupt input.  Tools that are missing skip their part.
set -eu
: "${top_builddir:?run through make check}"
SCAN="$top_builddir/pvsub-scan/pvsub-scan"
CC=${CC:-cc}

"$SCAN" --version >/dev/null 2>&1 || { echo "SKIP: pvsub-scan does not run" >&2; exit 77; }
for tool in tar cpio xz gzip; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing" >&2; exit 77; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/pvsub-archives.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

have() {
	command -v "$1" >/dev/null 2>&1
}

# scan STATUS INPUT...: pvsub-scan --format json, report in ./out.json
scan() {
	want=$1
	shift
	set +e
	"$SCAN" --format json "$@" >out.json 2>err
	got=$?
	set -e
	[ "$got" -eq "$want" ] || {
		echo "--- stdout"; cat out.json; echo "--- stderr"; cat err
		fail "pvsub-scan $* exited $got, expected $want"
	}
}

# The report on one line, so that a file's keys can be matched together
# whatever the JSON layout.
flat() {
	tr -d '\n' < out.json
}

# A basic regular expression matching $1 literally.
quote_re() {
	printf '%s' "$1" | sed 's/[][\.*^$/]/\\&/g'
}

# has_file PATH [STATUS]: the report lists PATH (with that status).
has_file() {
	re="\"path\": *\"$(quote_re "$1")\""
	if [ $# -gt 1 ]; then
		# Between a file's path and its status there are only scalars.
		re="$re[^{}]*\"status\": *\"$2\""
	fi
	flat | grep -q "$re" || {
		cat out.json
		fail "no file '$1' ${2:+with status $2} in the report"
	}
}

# A real relocatable object, clean under the default policy.
cat > mod.c <<'EOF'
int pvsub_test_mod_value(int x)
{
	return x * 3 + 1;
}
EOF
"$CC" -c mod.c -o mod.o

# --- tar.gz holding a cpio.xz holding a .ko.zst, and other compressors --------
mkdir -p root/lib/modules/6.1/kernel/drivers
cp mod.o root/lib/modules/6.1/kernel/drivers/plain.ko
cp mod.o root/lib/modules/6.1/kernel/drivers/gz.ko
gzip -n root/lib/modules/6.1/kernel/drivers/gz.ko
expect="inner.cpio.xz!lib/modules/6.1/kernel/drivers/plain.ko
inner.cpio.xz!lib/modules/6.1/kernel/drivers/gz.ko.gz
top.o"
if have zstd; then
	cp mod.o root/lib/modules/6.1/kernel/drivers/zst.ko
	zstd -q --rm root/lib/modules/6.1/kernel/drivers/zst.ko
	expect="$expect
inner.cpio.xz!lib/modules/6.1/kernel/drivers/zst.ko.zst"
fi
(cd root && find lib | LC_ALL=C sort | cpio -o -H newc --quiet) > inner.cpio
xz inner.cpio
cp mod.o top.o
set -- inner.cpio.xz top.o
if have bzip2; then
	cp mod.o b.ko
	bzip2 b.ko
	set -- "$@" b.ko.bz2
	expect="$expect
b.ko.bz2"
fi
if have ar; then
	ar rc libmod.a mod.o
	set -- "$@" libmod.a
	expect="$expect
libmod.a!mod.o"
fi
if have zip; then
	cp mod.o z.ko
	zip -q inner.zip z.ko
	set -- "$@" inner.zip
	expect="$expect
inner.zip!z.ko"
fi
tar -czf image.tar.gz "$@"

scan 0 image.tar.gz
n=0
while IFS= read -r p; do
	has_file "image.tar.gz!$p" clean
	n=$((n + 1))
done <<EOF
$expect
EOF
# Nothing but the expected ELF files: the directories and the symbol table
# inside the archives are not files to scan.
got=$(flat | grep -o '"path": *"' | wc -l)
[ "$got" -eq "$n" ] || { cat out.json; fail "expected $n files in the report, got $got"; }

# --- a Debian package ---------------------------------------------------------
if have dpkg-deb; then
	mkdir -p pkg/DEBIAN pkg/lib/modules/6.1/extra
	cp mod.o pkg/lib/modules/6.1/extra/pvsubtest.ko
	cat > pkg/DEBIAN/control <<'EOF'
Package: pvsub-archive-test
Version: 1.0
Architecture: amd64
Maintainer: pvsub tests <tests@example.invalid>
Description: module for the pvsub archive test
EOF
	dpkg-deb --root-owner-group -Zxz --build pkg test.deb >/dev/null
	scan 0 test.deb
	has_file "test.deb!data.tar.xz!./lib/modules/6.1/extra/pvsubtest.ko" clean
else
	echo "dpkg-deb missing: .deb part skipped" >&2
fi

# --- an RPM -------------------------------------------------------------------
if have rpmbuild; then
	mkdir -p rpm/SPECS
	cat > rpm/SPECS/pvsubtest.spec <<EOF
Name: pvsubtest
Version: 1.0
Release: 1
Summary: module for the pvsub archive test
License: MIT
%description
module for the pvsub archive test
%install
mkdir -p %{buildroot}/lib/modules/6.1/extra
cp $T/mod.o %{buildroot}/lib/modules/6.1/extra/pvsubtest.ko
%files
/lib/modules/6.1/extra/pvsubtest.ko
EOF
	if rpmbuild -bb --nodeps --quiet --define "_topdir $T/rpm" \
		--define 'debug_package %{nil}' --define '__os_install_post %{nil}' \
		--define '_build_id_links none' rpm/SPECS/pvsubtest.spec >rpmbuild.log 2>&1; then
		rpm=$(find rpm/RPMS -name '*.rpm' | head -n 1)
		cp "$rpm" test.rpm
		scan 0 test.rpm
		has_file "test.rpm!./lib/modules/6.1/extra/pvsubtest.ko" clean
	else
		# rpmbuild needs a working rpm database and macros; not every host has them.
		echo "rpmbuild failed, RPM part skipped:" >&2
		cat rpmbuild.log >&2
	fi
else
	echo "rpmbuild missing: RPM part skipped" >&2
fi

# --- a corrupt archive among good inputs --------------------------------------
head -c 200 image.tar.gz > broken.tar.gz
printf 'not an ELF file\n' > notes.txt
scan 2 mod.o broken.tar.gz image.tar.gz notes.txt
has_file mod.o clean
has_file broken.tar.gz error
has_file "image.tar.gz!top.o" clean
has_file notes.txt error
# The inputs after the broken one were scanned too, in order.
flat | grep -q "\"path\": *\"broken\\.tar\\.gz\".*\"path\": *\"image\\.tar\\.gz!top\\.o\"" ||
	fail "inputs after the corrupt archive are missing or out of order"

# A corrupt member inside an archive: the outer members are still scanned.
tar -cf outer.tar mod.o broken.tar.gz top.o
scan 2 outer.tar
has_file "outer.tar!mod.o" clean
has_file "outer.tar!broken.tar.gz" error
has_file "outer.tar!top.o" clean

exit 0
