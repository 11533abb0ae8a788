#!/bin/sh
# Rule scratch-disp: memory operands with the pattern in a 32-bit
# displacement: loads, stores, ALU operations in both directions, with an
# immediate, without a base, with REX registers, reading the flags.  See
# scratch-disp.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-scratch-disp" version="1" on-instruction="reject">
  <pattern id="load" bytes="a1 b1 c1"/>
  <pattern id="store" bytes="a2 b2 c2"/>
  <pattern id="add_m" bytes="a3 b3 c3"/>
  <pattern id="sub_r" bytes="a4 b4 c4"/>
  <pattern id="cmp" bytes="a5 b5 c5"/>
  <pattern id="movl" bytes="a6 b6 c6"/>
  <pattern id="addl" bytes="a7 b7 c7"/>
  <pattern id="nobase" bytes="a8 b8 c8"/>
  <pattern id="self" bytes="a9 b9 c9"/>
  <pattern id="rex" bytes="aa ba ca"/>
  <pattern id="inc" bytes="ab bb cb"/>
  <pattern id="cmov" bytes="ac bc cc"/>
  <pattern id="loop" bytes="ad bd cd"/>
</policy>
XML

# The rule names: scratch-disp in DESIGN; this version of the rewriter also has
# disp-rebase (move the base register there and back with lea), load-dest (a
# load builds its address in its own destination) and calls the
# general one scratch.
rule='scratch-disp|scratch|disp-rebase|load-dest'
sites="load store add_m sub_r cmp movl addl nobase self rex inc cmov loop"
build scratch-disp
expect=
rules=
for s in $sites; do
	expect="$expect $s:embedded:displacement"
	rules="$rules $s=$rule"
done
# shellcheck disable=SC2086
scan_expect policy.xml scratch-disp.o $expect
run_with scratch-disp.o expected.txt
# shellcheck disable=SC2086
rewrite_ok policy.xml scratch-disp.o rewritten.o $rules
run_with rewritten.o got.txt
same_output expected.txt got.txt
