#!/bin/sh
# Rule imm-lea: mov $imm to a register (b8+r, c7 /0, with REX, 32- and
# 64-bit, movabs) with the pattern in the immediate, one of them a branch
# target.  See imm-lea.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-imm-lea" version="1" on-instruction="reject">
  <pattern id="ecx" bytes="a1 b1 c1"/>
  <pattern id="r9d" bytes="a2 b2 c2"/>
  <pattern id="edx" bytes="a3 b3 c3"/>
  <pattern id="r15d" bytes="a4 b4 c4"/>
  <pattern id="rax" bytes="a5 b5 c5"/>
  <pattern id="r13" bytes="a6 b6 c6"/>
  <pattern id="rdx" bytes="a7 b7 c7"/>
  <pattern id="r14" bytes="a8 b8 c8"/>
  <pattern id="r10" bytes="a9 b9 c9"/>
  <pattern id="eax" bytes="aa ba ca"/>
  <pattern id="ebp" bytes="ab bb cb"/>
  <pattern id="r12d" bytes="ac bc cc"/>
  <pattern id="loop" bytes="ad bd cd"/>
</policy>
XML

sites="ecx r9d edx r15d rax r13 rdx r14 r10 eax ebp r12d loop"
build imm-lea
expect=
rules=
for s in $sites; do
	expect="$expect $s:embedded:immediate"
	rules="$rules $s=imm-lea"
done
# shellcheck disable=SC2086
scan_expect policy.xml imm-lea.o $expect
run_with imm-lea.o expected.txt
# shellcheck disable=SC2086
rewrite_ok policy.xml imm-lea.o rewritten.o $rules
run_with rewritten.o got.txt
same_output expected.txt got.txt
