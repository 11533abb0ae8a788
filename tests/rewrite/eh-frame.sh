#!/bin/sh
# .eh_frame of code that moves (issue 12): the FDE and its CFA rows follow
# the code (check.py cfi: the same rows, each after the same instruction),
# the driver prints the same, and a zPR CIE (a personality, no LSDA) is
# taken; DW_CFA_set_loc, an unknown CFA operation and an LSDA are refused
# with one line each, and nothing is written.  See eh-frame.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-eh-frame" version="1" on-instruction="reject">
  <pattern id="p" bytes="5a 01 f8"/>
</policy>
XML

build eh-frame
scan_expect policy.xml eh-frame.o p:spanning:-
run_with eh-frame.o expected.txt
rewrite_ok policy.xml eh-frame.o rewritten.o p=nop-split
readelf -wf eh-frame.o rewritten.o >&2
python3 "$RW/check.py" cfi eh-frame.o rewritten.o >&2 || fail "the CFA rows did not follow the code"
run_with rewritten.o got.txt
same_output expected.txt got.txt
# The control: the input's .eh_frame bytes over the rewritten code's
# (same length here: one row moved by one byte) must fail the check.
python3 - eh-frame.o rewritten.o stale.o <<'PY' || fail "cannot make the control"
import struct, sys
def sect(d, name):
    shoff, = struct.unpack_from("<Q", d, 0x28)
    n, stri = struct.unpack_from("<HH", d, 0x3c)
    sh = [struct.unpack_from("<IIQQQQ", d, shoff + 64 * i) for i in range(n)]
    base = sh[stri][4]
    for s in sh:
        if d[base + s[0]:d.index(b"\0", base + s[0])] == name:
            return s[4], s[5]
a, b = open(sys.argv[1], "rb").read(), bytearray(open(sys.argv[2], "rb").read())
(oa, na), (ob, nb) = sect(a, b".eh_frame"), sect(b, b".eh_frame")
if na != nb or a[oa:oa + na] == b[ob:ob + nb]:
    sys.exit("the .eh_frame bytes did not change, or their length did")
b[ob:ob + nb] = a[oa:oa + na]
open(sys.argv[3], "wb").write(b)
PY
if python3 "$RW/check.py" cfi eh-frame.o stale.o >/dev/null 2>&1; then
	fail "the input's CFA rows over the rewritten code pass check.py cfi: it cannot fail"
fi

"$CC" -c -DPERSONALITY -o personality.o "$RW/eh-frame.S" || fail "cannot assemble -DPERSONALITY"
expect_status 0 "$SCAN" --rewrite --policy policy.xml -o personality-out.o personality.o
python3 "$RW/check.py" cfi personality.o personality-out.o >&2 || fail "zPR: the rows did not follow"

# A personality pointer into the moving code follows it: its relocation
# (against .text) has the function's new offset as its addend.
"$CC" -c -DPERSONALITY_DIRECT -o direct.o "$RW/eh-frame.S" || fail "cannot assemble -DPERSONALITY_DIRECT"
expect_status 0 "$SCAN" --rewrite --policy policy.xml -o direct-out.o direct.o
python3 "$RW/check.py" cfi direct.o direct-out.o >&2 || fail "direct personality: the rows did not follow"
for o in direct.o direct-out.o; do
	fn=$(readelf -sW "$o" | awk '$8 == "eh_local_personality" { print $2 }')
	pers=$(readelf -rW "$o" | awk '/^Relocation section .*\.rela\.eh_frame/ { f = 1; next } /^Relocation section/ { f = 0 }
		f && $5 == ".text" && $1 ~ /^0+(1[0-9a-f]|0[0-9a-f])$/ { print $7; exit }')
	echo "$o: eh_local_personality at $fn, CIE personality .text+$pers" >&2
	[ -n "$fn" ] && [ -n "$pers" ] && [ $((0x$fn)) -eq $((0x$pers)) ] ||
		fail "$o: the personality pointer does not point at eh_local_personality"
done
[ "$(readelf -sW direct.o | awk '$8 == "eh_local_personality" { print $2 }')" != \
	"$(readelf -sW direct-out.o | awk '$8 == "eh_local_personality" { print $2 }')" ] ||
	fail "eh_local_personality did not move: the check proves nothing"

for variant in SET_LOC UNKNOWN LSDA; do
	"$CC" -c -D"$variant" -o "$variant.o" "$RW/eh-frame.S" || fail "cannot assemble -D$variant"
	refuse_ok policy.xml "$variant.o" "$variant-out.o" .eh_frame
	grep -q 'DWARF unwind table' refused.json || fail "$variant: refused for another reason"
	n=$(json_query refused.json "len(d['files'][0]['refused'])")
	[ "$n" -eq 1 ] || fail "$variant: $n refusals, expected one line"
done

# Hostile tables: an FDE length past the section's end, a CIE augmentation
# it does not know, a CIE version it does not know.  One line each, no crash.
for m in fde-length:24:4:fffffff0 augmentation:10:1:58 version:8:1:07; do
	name=${m%%:*}
	python3 - eh-frame.o "$name.o" "${m#*:}" <<'PY' || fail "cannot mangle $name"
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
at, size, value = sys.argv[3].split(":")
shoff, = struct.unpack_from("<Q", d, 0x28)
n, stri = struct.unpack_from("<HH", d, 0x3c)
sh = [struct.unpack_from("<IIQQQQ", d, shoff + 64 * i) for i in range(n)]
base = sh[stri][4]
off = [s[4] for s in sh if d[base + s[0]:d.index(b"\0", base + s[0])] == b".eh_frame"][0]
d[off + int(at):off + int(at) + int(size)] = int(value, 16).to_bytes(int(size), "little")
open(sys.argv[2], "wb").write(d)
PY
	refuse_ok policy.xml "$name.o" "$name-out.o" .eh_frame
	grep -q 'DWARF unwind table' refused.json || fail "$name: refused for another reason"
done

# Two FDEs over the same rewritten code (compilers give a function one;
# hostile input could make thousands cover all of .text, for work
# quadratic in the table's size): refused with one line.  The control: the
# same table with one FDE is taken.
for nfde in 1 2; do
	{
		printf '\t.text\nh:\n\tpop %%rdx\n\tadd %%edi, %%eax\n\tret\nhend:\n'
		printf '\t.section .eh_frame,"a",@progbits\n'
		printf 'cie:\t.long cie_end - cie_start\ncie_start:\t.long 0\n\t.byte 1\n'
		printf '\t.string "zR"\n\t.uleb128 1\n\t.sleb128 -8\n\t.uleb128 16\n\t.uleb128 1\n'
		printf '\t.byte 0x1b\n\t.byte 0x0c, 7, 8\n\t.byte 0x90, 1\n\t.balign 8, 0\ncie_end:\n'
		j=0
		while [ "$j" -lt "$nfde" ]; do
			printf 'f%d:\t.long f%de - f%ds\nf%ds:\t.long f%ds - cie\n' $j $j $j $j $j
			printf '\t.long h - .\n\t.long hend - h\n\t.uleb128 0\n\t.balign 8, 0\nf%de:\n' $j
			j=$((j + 1))
		done
	} >"fde$nfde.S"
	"$CC" -c -o "fde$nfde.o" "fde$nfde.S" || fail "cannot assemble fde$nfde.S"
done
expect_status 0 "$SCAN" --rewrite --policy policy.xml -o fde1-out.o fde1.o
python3 "$RW/check.py" cfi fde1.o fde1-out.o >&2 || fail "one FDE: the rows did not follow"
refuse_ok policy.xml fde2.o fde2-out.o .eh_frame
grep -q 'which an FDE before it covers' refused.json || fail "two FDEs: refused for another reason"
n=$(json_query refused.json "len(d['files'][0]['refused'])")
[ "$n" -eq 1 ] || fail "two FDEs: $n refusals, expected one line"
