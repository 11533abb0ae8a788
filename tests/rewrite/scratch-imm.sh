#!/bin/sh
# Rule scratch-imm: ALU operations and stores with the pattern in a 32-bit
# immediate, on registers, memory, stack locals and a RIP-relative operand,
# and a store whose displacement holds a pattern too.  See scratch-imm.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-scratch-imm" version="1" on-instruction="reject">
  <pattern id="add" bytes="a1 b1 c1"/>
  <pattern id="sub" bytes="a2 b2 c2"/>
  <pattern id="and" bytes="a3 b3 c3"/>
  <pattern id="or" bytes="a4 b4 c4"/>
  <pattern id="xor" bytes="a5 b5 c5"/>
  <pattern id="cmp" bytes="a6 b6 c6"/>
  <pattern id="test" bytes="a7 b7 c7"/>
  <pattern id="adc" bytes="a8 b8 c8"/>
  <pattern id="sbb" bytes="a9 b9 c9"/>
  <pattern id="or_m" bytes="aa ba ca"/>
  <pattern id="xor_m" bytes="ab bb cb"/>
  <pattern id="mov_m" bytes="ac bc cc"/>
  <pattern id="movq_m" bytes="ad bd cd"/>
  <pattern id="cmp_m" bytes="ae be ce"/>
  <pattern id="add_mi" bytes="af bf cf"/>
  <pattern id="stack_mov" bytes="b0 c0 d0"/>
  <pattern id="stack_add" bytes="b1 c1 d1"/>
  <pattern id="stack_and" bytes="b2 c2 d2"/>
  <pattern id="rip" bytes="b3 c3 d3"/>
  <pattern id="loop" bytes="b4 c4 d4"/>
  <pattern id="both_d" bytes="c5 00 00"/>
  <pattern id="both_i" bytes="f1 d7 e7"/>
</policy>
XML

# The rule names: this rewriter splits and/or/xor in two (alu-split) and
# borrows a register for the rest (scratch).
rule='scratch|alu-split'
sites="add sub and or xor cmp test adc sbb or_m xor_m mov_m movq_m cmp_m add_mi
	stack_mov stack_add stack_and rip loop"
build scratch-imm
expect=
rules=
for s in $sites; do
	expect="$expect $s:embedded:immediate"
	rules="$rules $s=$rule"
done
expect="$expect both_d:embedded:displacement both_i:embedded:immediate"
rules="$rules both_d=scratch both_i=scratch"
# shellcheck disable=SC2086
scan_expect policy.xml scratch-imm.o $expect
run_with scratch-imm.o expected.txt
# shellcheck disable=SC2086
rewrite_ok policy.xml scratch-imm.o rewritten.o $rules
run_with rewritten.o got.txt
same_output expected.txt got.txt
