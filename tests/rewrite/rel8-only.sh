#!/bin/sh
# loop and jrcxz at the limit of their rel8 range with padding in between:
# the rewriter either keeps them right (another encoding) or refuses the
# object; a wrong branch is the one outcome that fails.  See rel8-only.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-rel8-only" version="1" on-instruction="reject">
  <pattern id="loop" bytes="5b 01 d0"/>
  <pattern id="jrcxz" bytes="6c 01 d0"/>
</policy>
XML

build rel8-only
scan_expect policy.xml rel8-only.o loop:spanning:- jrcxz:spanning:-
run_with rel8-only.o expected.txt
rewrite_or_refuse policy.xml rel8-only.o rewritten.o loop=nop-split jrcxz=nop-split
