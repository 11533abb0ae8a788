#!/bin/sh
# KASLR windows (issue 11): a vmlinux followed by the relocation table the
# boot decompressor applies.  One field's bytes form WRPKRU for exactly one
# offset (5 * 2 MiB), another's can never form it: the first is a finding of
# class kaslr and rejects, the second is a proven window and certifies.
# Negative control: the same code without the table holds no occurrence, so
# only the offsets can have found it.  Fields the model cannot place exactly
# (overlapping, or across a segment's edge) are violations.
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 writes the relocation tables"

# Two 32-bit fields in the code, 0x401004 and 0x40100c once linked.  The
# first holds 00 0f 61 ee: its bytes 1..3 read 0f 01 ef when (0x61, 0xee)
# moves by 32 * k for k = 5 only (0xee61 + 160 = 0xef01).  The second holds
# 00 0f 62 ee: byte 2's low five bits, which no offset changes, are 0x02,
# not 0x01.
cat > k.s <<'ASM'
	.text
	.globl _start
_start:
	nop
	nop
	nop
	nop
some:
	.byte 0x00, 0x0f, 0x61, 0xee
	.byte 0x90, 0x90, 0x90, 0x90
never:
	.byte 0x00, 0x0f, 0x62, 0xee
	.byte 0x90, 0x90, 0x90, 0x90
	ret
ASM
"$CC" -nostdlib -static -no-pie -Wl,--build-id=none -o k.elf k.s ||
	skip "cannot link a static ET_EXEC with $CC"
addr() { nm k.elf | sed -n "s/^0*\([0-9a-f]*\) t $1\$/\1/p"; }
[ "$(addr some)" = 401004 ] && [ "$(addr never)" = 40100c ] ||
	skip "the linker put the code elsewhere ($(addr some), $(addr never))"

# table OUT WORD...: the 32-bit list only (0, 0, 0, then the words); a word
# is the field's link-time address minus 0xffffffff80000000 plus 2^31, as
# the kernel's relocs tool writes 0xffffffff8... addresses.
table() {
	python3 - "$@" <<'PY'
import struct, sys
out = sys.argv[1]
lists = {"32": [], "inv": [], "64": []}
for w in sys.argv[2:]:
    kind, _, a = w.partition(":") if ":" in w else ("32", "", w)
    lists[kind].append(int(a, 0) | 0x80000000)
words = [0] + lists["64"] + [0] + lists["inv"] + [0] + lists["32"]
open(out, "wb").write(b"".join(struct.pack("<I", x) for x in words))
PY
}
table both.t 0x401004 0x40100c
table never.t 0x40100c
cat k.elf both.t > both
cat k.elf never.t > never

# Offsets: the kernel at 0x400000, one page or so long, below 1 GiB.
offsets=$(( ((1 << 30) - 0x400000 - 0x2000) / 0x200000 + 1 ))

expect_status 1 "$SCAN" both
grep -qx "both: segment 1+0x5: wrpkru (0f 01 ef) kaslr at 1 of $offsets offsets, first +0xa00000" out ||
	fail "no kaslr finding: $(cat out)"
grep -q '^1 file scanned: 0 clean, 1 rejected, 0 errors; 1 finding, 0 violations$' out ||
	fail "summary: $(cat out)"
expect_status 1 "$SCAN" --format json both
[ "$(json_query out '(d["files"][0]["kaslr"], [(x["class"], x["bytes"], x["file_offset"]) for x in d["files"][0]["findings"]])')" = \
	"({'table_size': 20, 'step': 2097152, 'offsets': $offsets, 'windows': 2, 'proven': 1}, [('kaslr', '0f01ef', 4101)])" ] ||
	fail "JSON: $(cat out)"
# its address: the field `some` plus one, as linked
[ "$(json_query out 'hex(d["files"][0]["findings"][0]["vaddr"])')" = 0x401005 ] ||
	fail "kaslr finding's vaddr: $(cat out)"
expect_status 1 "$SCAN" --format sarif both
json_query out '[r["message"]["text"] for r in d["runs"][0]["results"]]' |
	grep -q "KASLR moves at boot" || fail "SARIF: $(cat out)"
rm -f both.xml
expect_status 1 "$SCAN" --manifest=both.xml both
grep -q '<kaslr table-offset="[0-9]*" table-size="20" table-sha256="[0-9a-f]\{64\}" fields-32="2" fields-32-inverse="0" fields-64="0" step="2097152" offsets="'"$offsets"'" windows="2" proven="1"/>' both.xml ||
	fail "manifest: $(cat both.xml)"
grep -q 'class="kaslr" field="at 1 of '"$offsets"' offsets, first +0xa00000"' both.xml ||
	fail "manifest finding: $(cat both.xml)"
if command -v xmllint >/dev/null; then
	xmllint --noout --schema "$top_srcdir/schemas/pvsub-manifest.xsd" both.xml 2>err ||
		fail "manifest does not validate: $(cat err)"
fi

# The window that can never form a pattern is proven: certified.
expect_status 0 "$SCAN" --format json never
[ "$(json_query out '(d["files"][0]["verdict"], d["files"][0]["kaslr"]["windows"], d["files"][0]["kaslr"]["proven"], d["summary"]["findings"])')" = \
	"('certified', 1, 1, 0)" ] || fail "never: $(cat out)"

# Negative control: without the table the bytes hold nothing.
expect_status 0 "$SCAN" --format json k.elf
[ "$(json_query out '(d["files"][0]["verdict"], d["summary"]["findings"], "kaslr" in d["files"][0])')" = \
	"('certified', 0, False)" ] || fail "no table: $(cat out)"

# The inverse list moves the same field the other way: 0xee61 - 32 * k
# never reaches 0xef01 below 1 GiB (k would be 2043), but reaches 0xd401,
# VMFUNC's 0f 01 d4, at k = 211.
table inv.t inv:0x401004
cat k.elf inv.t > inv
expect_status 1 "$SCAN" inv
grep -qx "inv: segment 1+0x5: vmfunc (0f 01 d4) kaslr at 1 of $offsets offsets, first +0x1a600000" out ||
	fail "inverse: $(cat out)"

# What the model cannot place exactly is a violation, never a guess.
table overlap.t 0x401004 0x401006
cat k.elf overlap.t > overlap
expect_status 1 "$SCAN" overlap
grep -q "^overlap: violation kaslr-relocations-unchecked: two KASLR-relocated fields overlap in executable bytes$" out ||
	fail "overlap: $(cat out)"
start=$(python3 -c 'import struct,sys
d=open("k.elf","rb").read(); phoff,=struct.unpack_from("<Q",d,0x20); n,=struct.unpack_from("<H",d,0x38)
for i in range(n):
    t,f,o,v,p,fs=struct.unpack_from("<IIQQQQ",d,phoff+56*i)
    if t==1 and f&1: print(hex(v&~4095))')
# Two bytes before the executable segment's first page, two in it.
table edge.t "$(printf 0x%x $((start - 2)))"
cat k.elf edge.t > edge
expect_status 1 "$SCAN" edge
grep -q "^edge: violation kaslr-relocations-unchecked: a KASLR-relocated field crosses the edge of an executable segment$" out ||
	fail "edge: $(cat out)"
exit 0
