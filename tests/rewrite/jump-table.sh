#!/bin/sh
# A PC-relative jump table (.long case - table) whose cases move: the
# rewriter either gets every target right or refuses the object; a wrong
# table is the one outcome that fails.  See jump-table.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-jump-table" version="1" on-instruction="reject">
  <pattern id="c1" bytes="6b 01 f8"/>
  <pattern id="c2" bytes="6c 01 f0"/>
</policy>
XML

build jump-table
scan_expect policy.xml jump-table.o c1:spanning:- c2:spanning:-
run_with jump-table.o expected.txt
readelf -rW jump-table.o >&2
rewrite_or_refuse policy.xml jump-table.o rewritten.o c1=nop-split c2=nop-split
