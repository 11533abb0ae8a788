#!/bin/sh
# Rule lea-arith: add/sub of an immediate to a register, flags dead after
# it (a return, or written before read), becomes lea; with live flags
# another rule must keep them.  See lea-arith.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-lea-arith" version="1" on-instruction="reject">
  <pattern id="add" bytes="c1 d1 e1"/>
  <pattern id="sub64" bytes="c2 d2 e2"/>
  <pattern id="frame_sub" bytes="e8 02 00"/>
  <pattern id="frame_add" bytes="e0 02 00"/>
  <pattern id="live" bytes="c4 d4 e4"/>
  <pattern id="f3" bytes="06 00 00"/>
  <pattern id="f3a" bytes="03 00 00"/>
  <pattern id="f3b" bytes="04 00 00"/>
  <pattern id="f3c" bytes="05 00 00"/>
</policy>
XML

build lea-arith
# shellcheck disable=SC2086
scan_expect policy.xml lea-arith.o add:embedded:immediate sub64:embedded:immediate \
	frame_sub:embedded:immediate frame_add:embedded:immediate live:embedded:immediate \
	f3:embedded:immediate f3:embedded:immediate
run_with lea-arith.o expected.txt
rewrite_ok policy.xml lea-arith.o rewritten.o add=lea-arith sub64=lea-arith \
	frame_sub=lea-arith frame_add=lea-arith live=scratch f3=lea-arith f3=lea-arith
run_with rewritten.o got.txt
same_output expected.txt got.txt
