#!/bin/sh
# What the libFuzzer harnesses found (fuzz/README.md), through the tools, so
# that each fix stays.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/sign-lib.sh"
command -v python3 >/dev/null || fail "python3 is needed"
mkpki

printf '\t.text\n\tret\n' | asm clean
expect_status 0 "$SCAN" --manifest clean.xml clean.o

# fuzz_verify: libxml2 explains invalid UTF-8 on two lines ("Input is not
# proper UTF-8, indicate encoding !" then "Bytes: 0xC1 ..."); the manifest
# reader passed both on, so the one-line error of pvsub-sign verify was two.
# Neither may the document split the line: a schema error quotes a bad
# attribute value, and a character reference puts a newline in it.  The
# manifest is signed so that the schema check is reached.
python3 - clean.xml <<'PY'
import re, sys
d = open(sys.argv[1], "rb").read()
assert b"pvsub-scan" in d
open("utf8.xml", "wb").write(d.replace(b"pvsub-scan", b"pvsub-\xc1\xc1scan", 1))
ctrl, n = re.subn(rb'(<object [^>]*sha256=")[0-9a-f]+', rb"\1&#10;forged line", d, count=1)
assert n == 1
open("newline.xml", "wb").write(ctrl)
PY
for m in utf8 newline; do
	expect_status 0 "$SIGN" sign --key s.key --cert s.pem $m.xml
	expect_status 1 "$SIGN" verify --ca ca.pem --manifest $m.xml --binary clean.o
	[ "$(wc -l < err)" -eq 1 ] || { cat err; fail "$m.xml: the error is not one line"; }
	grep -q "schema error: line [0-9]" err || { cat err; fail "$m.xml: no schema error"; }
done
grep -q "forged line" err || { cat err; fail "the quoted value is not in the message"; }

# fuzz_rewrite: a section asking for an alignment of 6597069766660 bytes;
# writing the rewritten object padded towards it for minutes and gigabytes.
# Alignments must now be powers of two up to 4096 (modules use at most 256).
printf '\t.text\n\tmov $0x11223344, %%eax\n\tret\n' | asm align
python3 - align.o <<'PY'
import struct, sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
shoff = struct.unpack_from("<Q", d, 0x28)[0]
shnum, shstrndx = struct.unpack_from("<HH", d, 0x3c)
names = struct.unpack_from("<Q", d, shoff + shstrndx * 64 + 24)[0]
for i in range(shnum):
    name = struct.unpack_from("<I", d, shoff + i * 64)[0]
    if d[names + name:names + name + 6] == b".text\0":
        struct.pack_into("<Q", d, shoff + i * 64 + 48, 6597069766660)
open(p, "wb").write(d)
PY
cat > rw-policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="t" version="1"><pattern id="p" bytes="44 33 22"/></policy>
XML
expect_status 2 timeout 10 "$SCAN" --rewrite --policy rw-policy.xml -o align.out align.o
grep -q "alignment 6597069766660 is not a power of two" out err ||
	fail "no reason given for the alignment"
[ ! -e align.out ] || fail "an output was written for a refused object"

# fuzz_rewrite: a section name with a newline in it split the one-line
# error.  Every diagnostic, refusal and finding now shows control
# characters of names taken from the file as '?'.
python3 - align.o <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
i = d.find(b".text\0")
assert i > 0
d[i:i + 6] = b".t\nxt\0"
open(p, "wb").write(d)
PY
expect_status 2 "$SCAN" --rewrite --policy rw-policy.xml -o align.out align.o
# One line in the report and one on standard error, neither split.
[ "$(grep -c 'alignment 6597069766660' out)" -eq 1 ] &&
	[ "$(grep -c 'alignment 6597069766660' err)" -eq 1 ] || { cat out err; fail "no reason"; }
grep -q '\.t?xt: alignment' out err || { cat out err; fail "the name is not shown as .t?xt"; }
printf '\t.section .te,"ax",@progbits\n\t.byte 0x0f,0x01,0xef\n\tret\n' | asm nl
python3 - nl.o <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
i = d.find(b".te\0")
d[i:i + 4] = b".t\n\0"
open(p, "wb").write(d)
PY
expect_status 1 "$SCAN" nl.o
[ "$(grep -c 'wrpkru' out)" -eq 1 ] && grep -q '^nl.o: \.t?+0x0: wrpkru' out ||
	{ cat out; fail "a finding in a section named with a newline is not one line"; }
