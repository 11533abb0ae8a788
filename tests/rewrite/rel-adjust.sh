#!/bin/sh
# Rule rel-adjust: intra-section rel8/rel32 branches and a RIP-relative lea
# whose displacement holds a pattern or whose target moves out of rel8 range
# when padding goes in between, and a displacement that gets a pattern from
# the padding (a second round).  See rel-adjust.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-rel-adjust" version="1" on-instruction="reject">
  <pattern id="back" bytes="5b 01 c8"/>
  <pattern id="fwd" bytes="6c 01 c8"/>
  <pattern id="call" bytes="10 01 00"/>
  <pattern id="jmp" bytes="f0 fe ff"/>
  <pattern id="jcc" bytes="30 01 00"/>
  <pattern id="lea" bytes="20 01 00"/>
  <pattern id="span" bytes="4d 01 c8"/>
  <pattern id="round" bytes="11 02 00"/>
</policy>
XML

build rel-adjust
# A rel32 branch's offset is an immediate to capstone; lea's is a displacement.
scan_expect policy.xml rel-adjust.o back:spanning:- fwd:spanning:- \
	call:embedded:immediate jmp:embedded:immediate jcc:embedded:immediate \
	lea:embedded:displacement span:spanning:-
run_with rel-adjust.o expected.txt
rewrite_ok policy.xml rel-adjust.o rewritten.o back=nop-split fwd=nop-split \
	call=rel-adjust jmp=rel-adjust jcc=rel-adjust lea=rel-adjust span=nop-split
run_with rewritten.o got.txt
same_output expected.txt got.txt

# The padding in the two loops leaves no choice but the rel32 forms.
"$OBJDUMP" -d rewritten.o >dis.txt
for f in ra_back ra_fwd; do
	sed -n "/<$f>:/,/^\$/p" dis.txt | grep -Eq ':[[:space:]]+0f 8[45] ' ||
		fail "$f: the rel8 branch was not promoted to rel32"
done
