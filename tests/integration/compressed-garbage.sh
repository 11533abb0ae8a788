#!/bin/sh
# Compressed files whose content is not ELF (issue 5).  libarchive's tar
# reader takes any stream that starts with a zero block for an empty archive,
# so a .ko.gz that inflates to zeros used to vanish from the scan with exit
# 0.  Named on the command line it must be one error line and exit 2, like
# the same content uncompressed; inside an archive it is skipped and the rest
# is scanned.
. "$top_srcdir/tests/lib.sh"
for tool in gzip xz tar; do
	command -v "$tool" >/dev/null || skip "$tool is missing"
done

printf '\t.text\n\t.globl f\nf:\tret\n' | asm mod

# bad NAME: NAME alone is an input error: one error line in the text report,
# one line on stderr beside the JSON report, which has it with status "error".
bad() {
	expect_status 2 "$SCAN" --no-progress "$1"
	[ "$(grep -c "^$1: error: .*not an ELF file" out)" -eq 1 ] ||
		{ cat out; fail "$1: no one-line error in the report"; }
	expect_status 2 "$SCAN" --no-progress --format json "$1"
	if [ "$(grep -c "^pvsub-scan: $1: .*not an ELF file" err)" -ne 1 ] || [ "$(wc -l < err)" -ne 1 ]; then
		cat err
		fail "$1: not one line on stderr"
	fi
	[ "$(json_query out "len(d['files'])")" = 1 ] || fail "$1: not in the JSON report"
	[ "$(json_query out "d['files'][0]['status']")" = error ] || fail "$1: status"
	[ "$(json_query out "d['summary']['errors']")" = 1 ] || fail "$1: summary errors"
}

head -c 1000000 /dev/zero | gzip -n > zeros.ko.gz
bad zeros.ko.gz
head -c 4096 /dev/zero | xz > zeros.ko.xz
bad zeros.ko.xz
if command -v zstd >/dev/null 2>&1; then
	head -c 4096 /dev/zero | zstd -q > zeros.ko.zst
	bad zeros.ko.zst
fi
if command -v bzip2 >/dev/null 2>&1; then
	head -c 4096 /dev/zero | bzip2 > zeros.ko.bz2
	bad zeros.ko.bz2
fi
# one zero block in front is enough to look like the end of a tar archive
{ head -c 512 /dev/zero; cat mod.o; } | gzip -n > padded.ko.gz
bad padded.ko.gz
# an empty tar is nothing but zeros, compressed or not: both are refused alike
tar -cf empty.tar -T /dev/null
bad empty.tar
gzip -n -c empty.tar > empty.tar.gz
bad empty.tar.gz
# ...while text that is not ELF already was an error
printf 'hello\n' | gzip -n > text.ko.gz
bad text.ko.gz

# Still fine: a real compressed module, and the zeros inside an archive are
# skipped without an error while the module next to them is scanned.
gzip -n -c mod.o > mod.ko.gz
expect_status 0 "$SCAN" --no-progress --format json mod.ko.gz
[ "$(json_query out "d['files'][0]['status']")" = clean ] || fail "mod.ko.gz not scanned"
mkdir -p root
cp zeros.ko.gz empty.tar.gz root/
cp mod.o root/a.ko
tar -C root -cf image.tar .
expect_status 0 "$SCAN" --no-progress --format json image.tar
[ "$(json_query out "[f['path'] for f in d['files']]")" = "['image.tar!./a.ko']" ] ||
	fail "image.tar: $(json_query out "[(f['path'], f['status']) for f in d['files']]")"
# and a directory skips them too
expect_status 0 "$SCAN" --no-progress --format json root
[ "$(json_query out "[f['status'] for f in d['files']]")" = "['clean']" ] ||
	fail "root/: $(json_query out "[(f['path'], f['status']) for f in d['files']]")"
