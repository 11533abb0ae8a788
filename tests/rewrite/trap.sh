#!/bin/sh
# Rule trap: a real wrpkru becomes ud2 under on-instruction="trap"; under
# "reject" the object is refused and nothing is written.  See trap.S.
. "$top_srcdir/tests/rewrite/lib.sh"

for how in trap reject; do
	cat > "$how.xml" <<XML
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-$how" version="1" on-instruction="$how">
  <pattern id="wrpkru" bytes="0f 01 ef"/>
</policy>
XML
done

build trap
scan_expect trap.xml trap.o wrpkru:instruction:-
run_with trap.o expected.txt
rewrite_ok trap.xml trap.o rewritten.o wrpkru=trap
run_with rewritten.o got.txt
same_output expected.txt got.txt
# The gate's place holds ud2, right after the instructions before it.
"$OBJDUMP" -d rewritten.o | sed -n '/<tr_gate>:/,/^$/p' >gate.txt
grep -A1 'xor  *%edx,%edx' gate.txt | grep -q '0f 0b .*ud2' ||
	fail "no ud2 where wrpkru was: $(cat gate.txt)"

# The default: refuse.  Exit 1, the site listed as refused, no output.
scan_expect reject.xml trap.o wrpkru:instruction:-
refuse_ok reject.xml trap.o refused.o .text
