#!/bin/sh
# Rule nop-split: padding between the two instructions a pattern crosses,
# at a function's entry, after its first instruction, before a backward loop
# target and inside the range of a rel8 branch.  See nop-split.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-nop-split" version="1" on-instruction="reject">
  <pattern id="entry" bytes="c3 b8 e1"/>
  <pattern id="first" bytes="9d 05 04"/>
  <pattern id="loop" bytes="7e 01 f0"/>
  <pattern id="branch" bytes="06 b8 22"/>
</policy>
XML

build nop-split
scan_expect policy.xml nop-split.o \
	entry:spanning:- first:spanning:- loop:spanning:- branch:spanning:-
run_with nop-split.o expected.txt
rewrite_ok policy.xml nop-split.o rewritten.o \
	entry=nop-split first=nop-split loop=nop-split branch=nop-split
run_with rewritten.o got.txt
same_output expected.txt got.txt
