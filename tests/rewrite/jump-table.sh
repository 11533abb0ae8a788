#!/bin/sh
# A PC-relative jump table (.long case - table) whose cases move: the
# rewriter proves the table and moves its entries, and the driver prints
# the same; a table it cannot prove (its base also read as data, an entry
# inside an instruction) is refused, never written wrong.  See jump-table.S.
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
rewrite_ok policy.xml jump-table.o rewritten.o c1=nop-split c2=nop-split
readelf -rW rewritten.o >&2
run_with rewritten.o got.txt
same_output expected.txt got.txt
# The cases moved: the entries' addends are not those of the input.
python3 "$RW/relocs.py" stale jump-table.o rewritten.o .rodata stale.o >stale.txt
cat stale.txt >&2
grep -q '^[1-9][0-9]* of 3 addends put back' stale.txt || fail "no table entry moved: $(cat stale.txt)"

for variant in BASE_READ MID_ENTRY; do
	"$CC" -c -D"$variant" -o "$variant.o" "$RW/jump-table.S" || fail "cannot assemble $variant"
	refuse_ok policy.xml "$variant.o" "$variant-out.o" .rodata
	grep -q 'jump-table difference' refused.json || fail "$variant: refused for another reason"
done
