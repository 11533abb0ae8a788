#!/bin/sh
# pvsub-scan's command line: GNU --help/--version, usage errors (status 2),
# policy listing, and the exit statuses 0/1/2.
. "$top_srcdir/tests/lib.sh"

expect_status 0 "$SCAN" --help
grep -q '^Usage: pvsub-scan ' out || fail "--help has no Usage line"
grep -q -- '--policy' out || fail "--help does not mention --policy"
# Every long option is in --help and in the man page.
sed -n '/^static const struct option long_options/,/^};/p' "$top_srcdir/pvsub-scan/main.c" |
	sed -n 's/^[[:space:]]*{"\([a-z-]*\)".*/\1/p' > options
[ "$(wc -l < options)" -gt 20 ] || fail "cannot read long_options from main.c: $(cat options)"
while read -r o; do
	grep -q -- "--$o\b" out || fail "--help does not list --$o"
	man_o=$(printf '%s' "--$o" | sed 's/-/\\-/g')
	grep -qF -- "$man_o" "$top_srcdir/man/pvsub-scan.1" || fail "pvsub-scan(1) does not list --$o"
done < options
expect_status 0 "$SCAN" --version
head -1 out | grep -Eq '^pvsub-scan \(pvsub\) [0-9]+\.[0-9]+' || fail "--version first line: $(head -1 out)"

expect_status 2 "$SCAN"
grep -q "no input" err || fail "missing input not explained"
expect_status 2 "$SCAN" --no-such-option x
expect_status 2 "$SCAN" --format yaml x
grep -q "invalid format" err || fail "bad format not explained"
expect_status 2 "$SCAN" -j 0 x
expect_status 2 "$SCAN" --max-entry-size 12Q x
expect_status 2 "$SCAN" --policy no-such-policy x
grep -q "no-such-policy" err || fail "bad policy not named"

expect_status 0 "$SCAN" --list-policies
for p in vmfunc pku syscall default; do
	grep -q "^$p " out || fail "--list-policies lacks $p"
done

# 0: clean; 1: findings; 2: input error (and the others still scanned).
printf '\t.text\n\tret\n' | asm clean
printf '\t.text\n\t.byte 0x0f,0x01,0xd4\n\tret\n' | asm gate
printf 'not an elf file\n' > notelf.txt
expect_status 0 "$SCAN" clean.o
expect_status 1 "$SCAN" gate.o
expect_status 1 "$SCAN" clean.o gate.o
expect_status 2 "$SCAN" clean.o missing.o gate.o
grep -q "missing.o" out err || fail "the missing input is not named"
grep -q "gate.o" out || fail "the inputs after a bad one were not scanned"
expect_status 2 "$SCAN" notelf.txt
# An input error is one line on standard error in every format, so a CI log
# shows it when the report goes to a file; the text report has it too.
for f in text json sarif; do
	expect_status 2 "$SCAN" --format "$f" clean.o missing.o
	[ "$(grep -c 'missing.o' err)" -eq 1 ] || fail "--format $f: the error is not on stderr once: $(cat err)"
	grep -q '^pvsub-scan: missing.o: No such file or directory$' err ||
		fail "--format $f: error line: $(cat err)"
	[ "$f" != text ] || grep -q '^missing.o: error: No such file or directory$' out ||
		fail "the text report lost the error"
done
# Both to one file (a terminal, 2>&1): the report's line is enough.
set +e
"$SCAN" clean.o missing.o >both 2>&1
set -e
[ "$(grep -c 'missing.o' both)" -eq 1 ] || fail "2>&1: the error is not there once: $(cat both)"

# - is standard input: an ELF file or an archive, through a pipe or not;
# /dev/stdin as a pipe too.  Limits hold there as anywhere.
cat gate.o | expect_status 1 "$SCAN" -
grep -q '^-: .text+0x0: vmfunc' out || fail "ELF on a pipe: $(cat out err)"
expect_status 1 "$SCAN" - < gate.o
grep -q '^-: .text+0x0: vmfunc' out || fail "ELF from a redirected file: $(cat out err)"
cat gate.o | expect_status 1 "$SCAN" /dev/stdin
grep -q '^/dev/stdin: .text+0x0: vmfunc' out || fail "/dev/stdin as a pipe: $(cat out err)"
mkdir -p pipe/lib/modules/x
cp gate.o pipe/lib/modules/x/g.ko
tar -C pipe -cf - lib | xz | expect_status 1 "$SCAN" --format json -
[ "$(json_query out 'd["files"][0]["path"]')" = '-!lib/modules/x/g.ko' ] ||
	fail "archive on a pipe: $(cat out err)"
cat gate.o | expect_status 2 "$SCAN" --max-entry-size 100 -
grep -q '^pvsub-scan: -: entry exceeds the size limit (100 bytes)$' err || fail "limit on stdin: $(cat err)"
tar -C pipe -cf - lib | gzip | expect_status 2 "$SCAN" --max-total-size 100 -
grep -q '^pvsub-scan: -: input exceeds the total size limit' err || fail "total limit on stdin: $(cat err)"
expect_status 2 "$SCAN" - < /dev/null
grep -q '^pvsub-scan: -: empty input$' err || fail "empty stdin: $(cat err)"
printf 'text\n' | expect_status 2 "$SCAN" -
grep -q '^pvsub-scan: -: not an ELF file or a recognised archive$' err || fail "text on stdin: $(cat err)"

# The progress line is cleared before anything else is printed while it is
# shown, when standard output goes where it goes.  The first input (a pipe
# that waits) makes the run long enough for the line to appear; what
# follows must never be glued to it.
# progress_cleared FILE TEXT...: FILE shows a progress line, every one is
# cleared right after it, and each TEXT is in FILE.
progress_cleared() {
	python3 - "$@" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
assert b"MiB scanned" in data, "no progress line shown"
pos = 0
while True:
    pos = data.find(b"MiB scanned", pos)
    if pos < 0:
        break
    pos += len(b"MiB scanned")
    assert data[pos:pos + 4] == b"\r\x1b[K", data[pos:pos + 40]
for text in sys.argv[2:]:
    assert text.encode() in data, (text, data)
PY
}
(sleep 1; cat clean.o) | { "$SCAN" --progress - gate.o missing.o >progress.out 2>&1 || :; }
progress_cleared progress.out "gate.o: .text+0x0: vmfunc" missing.o ||
	fail "progress line not cleared: $(od -c progress.out | head -20)"
# The same on a terminal, where the line appears without --progress.
if command -v script >/dev/null 2>&1; then
	script -qc "(sleep 1; cat clean.o) | '$SCAN' --color=never - gate.o missing.o" /dev/null \
		</dev/null >tty.out 2>&1 || :
	progress_cleared tty.out "gate.o: .text+0x0: vmfunc" ||
		fail "progress line not cleared on a terminal: $(od -c tty.out | head -20)"
fi
# The vmfunc finding is invisible to a policy without VMFUNC.
expect_status 0 "$SCAN" --policy syscall gate.o

# --manifest needs exactly one ELF file; nothing is written otherwise.
expect_status 2 "$SCAN" --manifest two.xml clean.o gate.o
grep -q "exactly one ELF file" err || fail "--manifest with two files not explained"
[ ! -e two.xml ] || fail "a manifest was written for two files"

# --manifest-dir mirrors display paths, archive members included, and never
# writes outside DIR, whatever the member names say.
mkdir -p src/sub
cp clean.o src/sub/a.o
cp gate.o 'src/..weird.o'
tar -C src -cf image.tar sub/a.o '..weird.o'
python3 - image.tar <<'PY'
import sys, tarfile, io
# A member that tries to climb out of the manifest directory.
with tarfile.open(sys.argv[1], "a") as t:
    data = open("gate.o", "rb").read()
    info = tarfile.TarInfo("../../escape.o")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
PY
expect_status 1 "$SCAN" --manifest-dir mdir image.tar clean.o
for m in mdir/image.tar/sub/a.o.manifest.xml mdir/image.tar/..weird.o.manifest.xml \
	mdir/image.tar/__/__/escape.o.manifest.xml mdir/clean.o.manifest.xml; do
	[ -s "$m" ] || fail "missing manifest $m: $(find mdir -type f)"
done
[ "$(find mdir -type f | wc -l)" -eq 4 ] || fail "unexpected manifests: $(find mdir -type f)"
[ ! -e escape.o.manifest.xml ] && [ ! -e ../escape.o.manifest.xml ] || fail "wrote outside DIR"

# --rewrite -o into a directory that is not there names that directory.
expect_status 2 "$SCAN" --rewrite -o nodir/x.o clean.o
grep -q "cannot write nodir/x.o: directory nodir does not exist" err ||
	fail "-o into a missing directory: $(cat err)"
[ ! -e nodir ] || fail "-o created the missing directory"
: >afile
expect_status 2 "$SCAN" --rewrite -o afile/x.o clean.o
grep -q "afile is not a directory" err || fail "-o under a file: $(cat err)"
exit 0
