#!/bin/sh
# R_X86_64_NONE relocations in a code section that must be rewritten (issue
# 9, section 2): accepted (exit 0), every one still in the output at the
# instruction it was at, the output clean, the behaviour the same.  See
# none-reloc.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat >policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-none-reloc" version="1">
  <pattern id="planted" bytes="5e 4d 3c"/>
</policy>
XML

build none-reloc
# The fixture holds what the test is about: four NONE relocations in .text.
[ "$(readelf -rW none-reloc.o | grep -c 'R_X86_64_NONE')" -eq 4 ] ||
	fail "none-reloc.o does not hold four R_X86_64_NONE relocations"
scan_expect policy.xml none-reloc.o planted:embedded:immediate
run_with none-reloc.o expected.txt
rewrite_ok policy.xml none-reloc.o rewritten.o planted=imm-lea
echo "--- readelf -rW rewritten.o" >&2
readelf -rW rewritten.o >&2
# R_X86_64_NONE is type 0.
python3 "$RW/relocs.py" follow none-reloc.o rewritten.o .text 0 >&2 ||
	fail "the NONE relocations did not follow their instructions"
run_with rewritten.o got.txt
same_output expected.txt got.txt
