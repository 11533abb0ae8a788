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
