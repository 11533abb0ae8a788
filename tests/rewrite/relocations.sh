#!/bin/sh
# Relocations: code moving under relocations in .text, and relocations in
# other sections that point into .text (a jump from another section, code
# pointers in a table) following it.  See relocations.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-relocations" version="1" on-instruction="reject">
  <pattern id="span1" bytes="9d 81 c1"/>
  <pattern id="imm1" bytes="a1 b1 c1"/>
  <pattern id="span2" bytes="5a 01 f8"/>
  <pattern id="imm2" bytes="a2 b2 c2"/>
</policy>
XML

build relocations
scan_expect policy.xml relocations.o span1:spanning:- imm1:embedded:immediate \
	span2:spanning:- imm2:embedded:immediate
run_with relocations.o expected.txt
readelf -rW relocations.o >&2
rewrite_ok policy.xml relocations.o rewritten.o span1=nop-split imm1=imm-lea \
	span2=nop-split imm2=imm-lea
readelf -rW rewritten.o >&2
run_with rewritten.o got.txt
same_output expected.txt got.txt
