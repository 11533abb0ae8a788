#!/bin/sh
# bzImage inputs (DESIGN §4, issue 11): a tiny vmlinux with a gate opcode,
# compressed with each codec the kernel offers and wrapped in a hand-built
# x86 boot header, is scanned as "<file>!vmlinux"; what the kernel changes
# in its own code at boot (the boot-time patch tables a stripped vmlinux
# does not locate) keeps it from being certified, while the patch tables it
# does locate are mutable windows and its KASLR relocation table is read;
# hostile headers and payloads are one line each, exit status 2, and
# nothing written.
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 builds the boot header"

# The vmlinux: an ET_EXEC whose code holds one WRPKRU at `gate`, just after
# an alternative (the two NOPs before it), stripped as a bzImage's vmlinux
# is: its .altinstructions is read, but where __jump_table,
# .static_call_sites and __mcount_loc lie only its symbols would say.
cat > gate.s <<'ASM'
	.text
	.globl _start
_start:
1:	nop
	nop
2:
	.globl gate
gate:
	.byte 0x0f, 0x01, 0xef
	ret
	.section .altinstr_replacement,"ax",@progbits
3:	.byte 0x66, 0x90
4:
	.section .altinstructions,"a",@progbits
	.long 1b - ., 3b - .
	.word 0
	.byte 2b - 1b, 4b - 3b
ASM
# The negative control: the same code with the gate opcode replaced.
sed 's/0x0f, 0x01, 0xef/0x90, 0x90, 0x90/' gate.s > clean.s
# A kernel without patch tables, so that only the relocation table stands
# between it and a clean verdict.
sed '/\.section \.altinstr_replacement/,$d' clean.s > plain.s
for k in gate clean plain; do
	"$CC" -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-s -o "$k.elf" "$k.s" ||
		skip "cannot link a static ET_EXEC with $CC"
done

# The relocation table arch/x86/tools/relocs appends: 0, 64-bit fields, 0,
# inverse 32-bit fields, 0, 32-bit fields (read from the end at boot).
python3 - <<'PY'
import struct
words = [0, 0x401002, 0x402000, 0, 0, 0x401000]
open("relocs", "wb").write(b"".join(struct.pack("<I", w) for w in words))
PY
for k in gate clean plain; do
	cat "$k.elf" relocs > "$k.payload"
done
cp plain.elf plain-norelocs.payload

# mkbz OUT PAYLOAD-FILE [FIELD=VALUE...]: wrap compressed bytes in a boot
# header (protocol 2.15, setup_sects 1, payload 0x40 bytes into the
# protected-mode code); fields override the header afterwards.
cat > mkbz.py <<'PY'
import struct, sys
out, payload = sys.argv[1], open(sys.argv[2], "rb").read()
setup_sects = 1
hdr = bytearray(512 * (setup_sects + 1))
hdr[0x1f1] = setup_sects
struct.pack_into("<H", hdr, 0x1fe, 0xaa55)
hdr[0x202:0x206] = b"HdrS"
struct.pack_into("<H", hdr, 0x206, 0x020f)
hdr[0x234] = 1
pm = bytearray(b"\xf4" * 0x40)  # stands in for the boot decompressor
struct.pack_into("<II", hdr, 0x248, len(pm), len(payload))
data = bytearray(hdr + pm + payload + b"\xf4" * 16)
offsets = {"setup_sects": (0x1f1, "<B"), "payload_offset": (0x248, "<I"),
           "payload_length": (0x24c, "<I"), "version": (0x206, "<H")}
for a in sys.argv[3:]:
    k, v = a.split("=")
    if k == "truncate":
        del data[int(v, 0):]
        continue
    o, f = offsets[k]
    struct.pack_into(f, data, o, int(v, 0))
open(out, "wb").write(data)
PY

# compress CODEC IN OUT: the payload as the kernel build makes it (the
# decompressed size appended, except for gzip whose trailer holds it).
size_le32() {
	python3 -c 'import os,struct,sys; sys.stdout.buffer.write(struct.pack("<I", os.path.getsize(sys.argv[1]) & 0xffffffff))' "$1"
}
compress() {
	case $1 in
	gzip) gzip -9n -c "$2" > "$3" ;;
	bzip2) { bzip2 -9 -c "$2" && size_le32 "$2"; } > "$3" ;;
	xz) { xz --check=crc32 -c "$2" && size_le32 "$2"; } > "$3" ;;
	lzma) { lzma -9 -c "$2" && size_le32 "$2"; } > "$3" ;;
	lz4) { lz4 -l -9 -c "$2" && size_le32 "$2"; } > "$3" ;;
	zstd) { zstd -q -19 -c "$2" && size_le32 "$2"; } > "$3" ;;
	# lzo: as the kernel's Makefile does it (lzop -9, from a pipe)
	lzop) { lzop -9 -c < "$2" && size_le32 "$2"; } > "$3" ;;
	esac
}

# Where the gate is: its segment (the PF_X PT_LOAD) and offset within it.
read -r gate_seg gate_off <<EOF
$(python3 - <<'PY'
import struct
d = open("gate.elf", "rb").read()
phoff, = struct.unpack_from("<Q", d, 0x20)
phnum, = struct.unpack_from("<H", d, 0x38)
for i in range(phnum):
    t, fl, off, va, pa, fs, ms, al = struct.unpack_from("<IIQQQQQQ", d, phoff + 56 * i)
    if t == 1 and fl & 1:
        i_x, off_x = i, off
text = d.find(b"\x90\x90\x0f\x01\xef\xc3")
print(i_x, text + 2 - off_x)
PY
)
EOF
[ -n "$gate_off" ] || fail "cannot locate the gate in gate.elf"

codecs=0
for c in gzip bzip2 xz lzma lz4 zstd lzop; do
	if ! command -v "$c" >/dev/null; then
		echo "# SKIP codec $c: no $c tool"
		continue
	fi
	codecs=$((codecs + 1))
	for k in gate clean plain; do
		compress "$c" "$k.payload" "$k.$c"
		python3 mkbz.py "vmlinuz-$k-$c" "$k.$c"
	done
	head -c 4 "gate.$c" | od -An -tx1 | tr -d ' \n' > magic
	[ "$c" != lz4 ] || [ "$(cat magic)" = 02214c18 ] || fail "lz4 -l did not write a legacy frame"
	[ "$c" != lzop ] || [ "$(cat magic)" = 894c5a4f ] || fail "lzop did not write an lzop file"

	# The occurrence, at the right segment offset, under "<file>!vmlinux".
	expect_status 1 "$SCAN" "vmlinuz-gate-$c"
	grep -qx "vmlinuz-gate-$c!vmlinux: segment $gate_seg+$(printf 0x%x "$gate_off"): wrpkru (0f 01 ef) instruction: wrpkru" out ||
		fail "$c: no finding at segment $gate_seg+$gate_off: $(cat out)"
	grep -q "^vmlinuz-gate-$c!vmlinux: violation boot-patching-unchecked: a stripped vmlinux does not say where __jump_table, .static_call_sites and __mcount_loc lie and its kallsyms cannot be read: kallsyms not found: no kallsyms_token_index; the code they patch at boot is not modelled$" out ||
		fail "$c: no boot-patching violation: $(cat out)"
	grep -q '^1 file scanned: 0 clean, 1 rejected, 0 errors; 1 finding, 1 violation$' out ||
		fail "$c: summary: $(cat out)"

	# The same in JSON and SARIF.
	expect_status 1 "$SCAN" --format json "vmlinuz-gate-$c"
	# The relocation table is read (its fields lie outside the code: no
	# window), the patch table is not modelled.
	[ "$(json_query out '[(f["path"], f["elf_type"], f["verdict"], [(x["pattern"], x["segment"], x["offset"]) for x in f["findings"]], sorted(v["kind"] for v in f["violations"]), f["kaslr"]["windows"]) for f in d["files"]]')" = \
		"[('vmlinuz-gate-$c!vmlinux', 'EXEC', 'rejected', [('wrpkru', $gate_seg, $gate_off)], ['boot-patching-unchecked'], 0)]" ] ||
		fail "$c: JSON: $(cat out)"
	expect_status 1 "$SCAN" --format sarif "vmlinuz-gate-$c"
	json_query out '[l["physicalLocation"]["artifactLocation"]["uri"] for r in d["runs"][0]["results"] for l in r["locations"]]' |
		grep -q "vmlinuz-gate-$c!vmlinux" || fail "$c: SARIF does not name the vmlinux: $(cat out)"

	# Negative control: no gate, no finding; still rejected for the windows.
	expect_status 1 "$SCAN" --format json "vmlinuz-clean-$c"
	[ "$(json_query out '(d["summary"]["findings"], d["summary"]["violations"], d["files"][0]["verdict"])')" = \
		"(0, 1, 'rejected')" ] || fail "$c: clean control: $(cat out)"
	# Without patch tables the relocation table alone does not reject
	# (tests/integration/kaslr.sh has tables whose windows matter).
	expect_status 0 "$SCAN" --format json "vmlinuz-plain-$c"
	[ "$(json_query out '(d["files"][0]["verdict"], d["files"][0]["violations"], d["files"][0]["kaslr"]["offsets"] > 400)')" = \
		"('certified', [], True)" ] || fail "$c: plain: $(cat out)"
done
[ "$codecs" -gt 0 ] || skip "no compression tool at all"

# The bzImage's own code is scanned with the kernel: WRPKRU planted in the
# setup sectors, in the decompressor before the payload and after it is
# found in each part, with the bzImage's file offsets and no address.  The
# same bzImage without them is certified (the plain control above).
if [ -f vmlinuz-plain-gzip ]; then
	python3 - <<'PY'
d = bytearray(open("vmlinuz-plain-gzip", "rb").read())
for off in (0x10, 1024 + 8, len(d) - 8):
    d[off:off + 3] = b"\x0f\x01\xef"
open("vmlinuz-bootgate", "wb").write(d)
PY
	expect_status 1 "$SCAN" vmlinuz-bootgate
	tail=$(( $(wc -c < vmlinuz-bootgate) - 8 ))
	for want in "bzImage setup+0x10" "bzImage decompressor+0x8" "bzImage decompressor tail+0x8"; do
		grep -qx "vmlinuz-bootgate!vmlinux: $want: wrpkru (0f 01 ef) undecoded boot code" out ||
			fail "boot code: no finding at $want: $(cat out)"
	done
	expect_status 1 "$SCAN" --format json vmlinuz-bootgate
	[ "$(json_query out '[(x["section"], x["file_offset"], x["vaddr"]) for x in d["files"][0]["findings"]]')" = \
		"[('bzImage setup', 16, None), ('bzImage decompressor', 1032, None), ('bzImage decompressor tail', $tail, None)]" ] ||
		fail "boot code JSON: $(cat out)"
	rm -f boot.xml
	expect_status 1 "$SCAN" --manifest=boot.xml vmlinuz-bootgate
	[ "$(grep -c 'kind="boot-code"' boot.xml)" -eq 3 ] || fail "boot code manifest: $(cat boot.xml)"
	# The manifest binds the whole bzImage: its path, size and SHA-256.
	want="<boot-image path=\"vmlinuz-bootgate\" size=\"$(wc -c < vmlinuz-bootgate)\" sha256=\"$(sha256sum vmlinuz-bootgate | cut -d' ' -f1)\"/>"
	grep -qxF "  $want" boot.xml || fail "boot image in the manifest: want $want: $(head -12 boot.xml)"
	# Control: the vmlinux read as a plain ELF file names no boot image.
	rm -f plain.xml
	"$SCAN" --no-progress --manifest=plain.xml plain-norelocs.payload >/dev/null 2>&1 || :
	[ -s plain.xml ] || fail "no manifest for the plain vmlinux"
	! grep -q '<boot-image' plain.xml || fail "a plain vmlinux's manifest names a boot image"
fi

# A kernel without relocations or patch tables is certified like any ET_EXEC:
# the violations above come from what they name, nothing else.
gzip -9n -c plain-norelocs.payload > plain-norelocs.gz
python3 mkbz.py vmlinuz-certified plain-norelocs.gz
expect_status 0 "$SCAN" vmlinuz-certified
grep -q '^1 file scanned: 1 clean, 0 rejected, 0 errors; 0 findings, 0 violations$' out ||
	fail "plain kernel: $(cat out)"

# Boot-time patch tables as mutable windows (gzip payloads, no relocation
# table): with its symbols, a vmlinux whose tables are all read has no
# boot-patching violation; a WRPKRU inside the alternative's window is a
# patch site, the one just after it (gate) stays an instruction.
sed 's/^1:\tnop$/1:\t.byte 0x0f, 0x01, 0xef/; s/^\tnop$//' gate.s > site.s
# A table that cannot be read is named with the reason, the others still
# read: an .altinstructions of 16 bytes, and one whose entry points at
# itself (not into the executable segment's bytes).
sed 's/^\t\.word 0$/\t.word 0, 0, 0/' gate.s > badsize.s
sed 's/^\t\.long 1b - \., 3b - \.$/\t.long 0, 3b - ./' gate.s > badptr.s
for k in gate site badsize badptr; do
	"$CC" -nostdlib -static -no-pie -Wl,--build-id=none -o "$k-syms.elf" "$k.s" ||
		fail "cannot link $k.s"
	gzip -9n -c "$k-syms.elf" > "$k-syms.gz"
	python3 mkbz.py "vmlinuz-$k-syms" "$k-syms.gz"
done
tables() { # NAME: the findings (pattern, segment, offset, class, field) and violations
	json_query out '[([(x["pattern"], x["segment"], x["offset"], x["class"], x["field"]) for x in f["findings"]], [(v["kind"], v["detail"]) for v in f["violations"]]) for f in d["files"]]'
}
expect_status 1 "$SCAN" --format json vmlinuz-gate-syms
[ "$(tables)" = "[([('wrpkru', $gate_seg, $gate_off, 'instruction', None)], [])]" ] ||
	fail "gate with symbols: $(cat out)"
expect_status 1 "$SCAN" --format json vmlinuz-site-syms
[ "$(tables)" = "[([('wrpkru', $gate_seg, $((gate_off - 2)), 'patch-site', 'alternative'), ('wrpkru', $gate_seg, $((gate_off + 1)), 'instruction', None)], [])]" ] ||
	fail "site with symbols: $(cat out)"
expect_status 1 "$SCAN" --format json vmlinuz-badsize-syms
[ "$(tables)" = "[([('wrpkru', $gate_seg, $gate_off, 'instruction', None)], [('boot-patching-unchecked', '.altinstructions: size 16 is not a multiple of 12; its patch sites are not modelled')])]" ] ||
	fail "badsize: $(cat out)"
expect_status 1 "$SCAN" vmlinuz-badptr-syms
grep -Eq '^vmlinuz-badptr-syms!vmlinux: violation boot-patching-unchecked: \.altinstructions\+0: 0x[0-9a-f]+ is not in an executable segment.s file bytes; its patch sites are not modelled$' out ||
	fail "badptr: $(cat out)"

# The same bzImage inside an archive, and from a pipe.
mkdir -p boot && cp vmlinuz-gate-gzip boot/vmlinuz-1
tar -cf img.tar boot && xz -c img.tar > img.tar.xz
expect_status 1 "$SCAN" img.tar.xz
grep -q '^img.tar.xz!boot/vmlinuz-1!vmlinux: segment ' out || fail "archive member: $(cat out)"
expect_status 1 "$SCAN" - < vmlinuz-gate-gzip
grep -q '^-!vmlinux: segment ' out || fail "stdin: $(cat out)"
cat vmlinuz-gate-gzip | expect_status 1 "$SCAN" -
grep -q '^-!vmlinux: segment ' out || fail "pipe: $(cat out)"

# Hostile inputs: one line naming the input, exit 2, no hang, nothing written.
hostile() { # NAME EXPECTED-STDERR-REGEX [SCAN-OPTION...]
	name=$1 want=$2
	shift 2
	rm -rf md
	set +e
	timeout 20 "$SCAN" --no-progress --manifest-dir md "$@" "$name" >out 2>err
	got=$?
	set -e
	[ "$got" -eq 2 ] || fail "$name: exit $got, expected 2: $(cat err)"
	[ "$(wc -l < err)" -eq 1 ] || fail "$name: not one line: $(cat err)"
	grep -Eq "^pvsub-scan: $name(!vmlinux)?: $want" err || fail "$name: $(cat err)"
	[ ! -e md ] || [ -z "$(ls -A md)" ] || fail "$name: wrote $(ls -R md)"
}
ok=gate.gzip
python3 mkbz.py h-trunc "$ok" truncate=0x230
hostile h-trunc 'bzImage: boot header truncated at 560 bytes'
python3 mkbz.py h-old "$ok" version=0x0206
hostile h-old 'bzImage: boot protocol 2.06 is older than 2.08'
python3 mkbz.py h-setup "$ok" setup_sects=200
hostile h-setup 'bzImage: setup_sects \(200\) puts the protected-mode code at 0x19200, past the end'
python3 mkbz.py h-poff "$ok" payload_offset=0x7fffffff
hostile h-poff 'bzImage: payload_offset 0x7fffffff points past the end of the file'
python3 mkbz.py h-plen "$ok" payload_length=0xffffff00
hostile h-plen 'bzImage: payload_length 0xffffff00 at 0x440 runs past the end of the file'
head -c 4096 /dev/urandom > noise && printf 'garbage' | cat - noise > nomagic
python3 mkbz.py h-nomagic nomagic
hostile h-nomagic 'bzImage: payload at 0x440 has no known compression magic \(starts "67 61 72 62"\)'
if command -v xz >/dev/null; then
	printf '\3757zXZ\0' | cat - noise > badxz
	python3 mkbz.py h-badxz badxz
	hostile h-badxz 'bzImage: xz payload: '
	# A vmlinux that is not one: an ELF followed by bytes that are no table.
	{ cat plain.elf && printf 'junk'; } > junk.payload
	{ xz -c junk.payload && size_le32 junk.payload; } > junk.xz
	python3 mkbz.py h-junk junk.xz
	hostile h-junk 'vmlinux: the 4 bytes after the ELF file \(at 0x[0-9a-f]*\) are not a KASLR relocation table'
	# Decompression bombs: 200 MiB of zeros, stating their size, and lying
	# about it; both end before the bomb is out.
	head -c 209715200 /dev/zero | xz -c > bomb.xz
	{ cat bomb.xz && printf '\0\0\200\014'; } > bomb.payload
	python3 mkbz.py h-bomb bomb.payload
	hostile h-bomb 'entry exceeds the size limit \(1048576 bytes\)' --max-entry-size 1M
	{ cat bomb.xz && printf '\0\020\0\0'; } > bomb-lie.payload
	python3 mkbz.py h-bomb-lie bomb-lie.payload
	hostile h-bomb-lie 'bzImage: xz payload decompresses to more than the 4096 bytes its size field states' --max-entry-size 1M
	# A size field that matches no output.
	{ xz -c plain.payload && printf '\1\0\0\0'; } > short.payload
	python3 mkbz.py h-size short.payload
	hostile h-size 'bzImage: xz payload decompresses to more than the 1 bytes its size field states'
fi
if command -v lzop >/dev/null; then
	# lzop's container, read by pvsub itself: every field is checked.
	# lzpatch IN OUT EXPR: OUT is the lzop file IN (its size trailer
	# kept) with EXPR applied to `d` (a bytearray) and `blk`, the offset
	# of the first block (its size, compressed size, Adler-32, data).
	cat > lzpatch.py <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
v, = struct.unpack_from(">H", d, 9)
o = 9 + 2 + 2 + (2 if v >= 0x940 else 0) + 1 + (1 if v >= 0x940 else 0)
flags, = struct.unpack_from(">I", d, o)
assert not flags & 0x800, "no filter expected"
o += 4 + 4 + 4 + (4 if v >= 0x940 else 0)
o += 1 + d[o] + 4
blk = o
exec(sys.argv[3])
open(sys.argv[2], "wb").write(d)
PY
	ok=plain.lzop
	# The payload cut in half (its size trailer kept).
	python3 lzpatch.py "$ok" lz-trunc.payload 'del d[len(d) // 2:len(d) - 4]'
	python3 mkbz.py h-lzo-trunc lz-trunc.payload
	hostile h-lzo-trunc 'bzImage: lzo payload truncated: '
	# A byte of the first block's compressed data flipped: liblzo2 or the
	# block's Adler-32 catches it.
	python3 lzpatch.py "$ok" lz-corrupt.payload 'd[blk + 12 + 40] ^= 0xff'
	python3 mkbz.py h-lzo-corrupt lz-corrupt.payload
	hostile h-lzo-corrupt 'bzImage: lzo payload: block 0( is corrupt \(liblzo2 error -?[0-9]+\)|: the Adler-32 of its bytes is 0x[0-9a-f]{8}, the block states 0x[0-9a-f]{8})$'
	# The first block states one byte less than it holds.
	python3 lzpatch.py "$ok" lz-lie.payload 'struct.pack_into(">I", d, blk, struct.unpack_from(">I", d, blk)[0] - 1)'
	python3 mkbz.py h-lzo-lie lz-lie.payload
	hostile h-lzo-lie 'bzImage: lzo payload: block 0 decompresses to more than the [0-9]+ bytes it states$'
	# Decompression bombs: 200 MiB of zeros in 800 blocks of 256 KiB,
	# stating their size, and lying about it.
	head -c 209715200 /dev/zero | lzop -c > bomb.lzo
	{ cat bomb.lzo && printf '\0\0\200\014'; } > bomb-lzo.payload
	python3 mkbz.py h-lzo-bomb bomb-lzo.payload
	hostile h-lzo-bomb 'entry exceeds the size limit \(1048576 bytes\)' --max-entry-size 1M
	{ cat bomb.lzo && printf '\0\020\0\0'; } > bomb-lzo-lie.payload
	python3 mkbz.py h-lzo-bomb-lie bomb-lzo-lie.payload
	hostile h-lzo-bomb-lie 'bzImage: lzo payload decompresses to more than the 4096 bytes its size field states' --max-entry-size 1M
fi
# The header checks hold inside archives too.
mkdir -p bad && cp h-poff bad/vmlinuz-bad && tar -cf bad.tar bad
expect_status 2 "$SCAN" bad.tar
grep -q '^pvsub-scan: bad.tar!bad/vmlinuz-bad: bzImage: payload_offset' err || fail "archive: $(cat err)"
# A kernel (linked in the kernel's half of the address space) whose section
# headers are gone cannot say where its patch tables are: not certified.
# Negative control: the same file with its headers is certified.
printf '\t.text\n\t.globl _start\n_start:\n\tnop\n\tret\n' > hk.s
if "$CC" -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-Ttext-segment=0xffffffff81000000 \
	-o hk.elf hk.s 2>/dev/null; then
	python3 - <<'PY'
import struct
d = bytearray(open("hk.elf", "rb").read())
struct.pack_into("<Q", d, 0x28, 0)            # e_shoff
struct.pack_into("<HHH", d, 0x3a, 0, 0, 0)   # e_shentsize, e_shnum, e_shstrndx
open("hk-noshdr.elf", "wb").write(d)
PY
	expect_status 0 "$SCAN" hk.elf
	expect_status 1 "$SCAN" hk-noshdr.elf
	grep -q "^hk-noshdr.elf: violation boot-patching-unchecked: a kernel without section headers does not say where its boot-time patch tables lie" out ||
		fail "headerless kernel: $(cat out)"
else
	echo "# SKIP headerless kernel: $CC cannot link at 0xffffffff81000000"
fi
echo "# $codecs codecs"
