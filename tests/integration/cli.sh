#!/bin/sh
# pvsub-scan's command line: GNU --help/--version, usage errors (status 2),
# policy listing, and the exit statuses 0/1/2.
. "$top_srcdir/tests/lib.sh"

expect_status 0 "$SCAN" --help
grep -q '^Usage: pvsub-scan ' out || fail "--help has no Usage line"
grep -q -- '--policy' out || fail "--help does not mention --policy"
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
exit 0
