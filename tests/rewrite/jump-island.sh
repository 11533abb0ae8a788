#!/bin/sh
# Rule jump-island: a branch whose displacement would need long padding to
# lose its pattern (it sits in the displacement's high bytes) goes through
# a jmp placed after the section's last instruction, for a few bytes of
# code instead of hundreds.  See jump-island.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-jump-island" version="1" on-instruction="reject">
  <pattern id="fwd" bytes="01 00 00"/>
  <pattern id="jcc" bytes="02 00 00"/>
  <pattern id="back" bytes="ff ff ff"/>
</policy>
XML

build jump-island
scan_expect policy.xml jump-island.o fwd:embedded:immediate jcc:embedded:immediate \
	back:embedded:immediate
run_with jump-island.o expected.txt
rewrite_ok policy.xml jump-island.o rewritten.o fwd=jump-island jcc=jump-island \
	back=jump-island
run_with rewritten.o got.txt
same_output expected.txt got.txt

# Padding the code would have added at least 0xf5 + 0x1d6 + 0x100 = 971
# bytes.  The islands cost 5 bytes each plus their own padding, which here
# must carry the jcc's displacement to the island past 0x2ff (the island
# lands 0x2xx bytes after it): well under half of that.
growth=$(json_query rewrite.json 'd["files"][0]["code_after"] - d["files"][0]["code_before"]')
echo "code growth: $growth bytes" >&2
[ "$growth" -lt 485 ] || fail "the code grew by $growth bytes"
# The islands are jmps after the last function's ret, which never falls
# into them.
"$OBJDUMP" -d rewritten.o >dis.txt
[ "$(sed -n '/<ji_back>:/,$p' dis.txt | grep -c '[[:space:]]e9 ')" -eq 3 ] ||
	fail "three jump islands expected after ji_back: $(sed -n '/<ji_back>:/,$p' dis.txt)"
