#!/bin/sh
# What counts as executable memory (DESIGN §4), end to end through the tool:
# section junctions, page-extended segments, violations, module signature
# trailers, and bad ELF files.
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed to read JSON"

# A gate split across two executable sections: 0f 01 | d4.
cat > junction.s <<'ASM'
	.text
	ret
	.byte 0x0f, 0x01
	.section .text.unlikely,"ax",@progbits
	.byte 0xd4
	ret
ASM
"$CC" -c junction.s -o junction.o
expect_status 1 "$SCAN" --format json junction.o
cp out j.json
[ "$(json_query j.json 'd["summary"]["findings"]')" = 1 ] || fail "junction: $(cat j.json)"
[ "$(json_query j.json 'd["files"][0]["findings"][0]["section"]')" = ".text|.text.unlikely" ] ||
	fail "junction section name: $(cat j.json)"
[ "$(json_query j.json 'd["files"][0]["findings"][0]["class"]')" = spanning ] || fail "junction class"

# The same split with the second section aligned to 4: the loader may put
# up to 3 zero bytes between them, so no VMFUNC can form...
cat > padded.s <<'ASM'
	.text
	ret
	.byte 0x0f, 0x01
	.section .text.unlikely,"ax",@progbits
	.p2align 2
	.byte 0xd4
	ret
ASM
"$CC" -c padded.s -o padded.o
expect_status 1 "$SCAN" --format json padded.o
cp out p.json
# ...except with no padding at all; with 1 to 3 zero bytes (0f 01 00 d4...)
# there is no VMFUNC, so exactly one finding, at pad 0.
[ "$(json_query p.json '[(f["section"], f["pad"]) for f in d["files"][0]["findings"]]')" = \
	"[('.text|.text.unlikely', 0)]" ] || fail "padded junction: $(cat p.json)"

# A pattern that needs the zero padding: "01 00 00" after a section ending in 01.
cat > zeros.xml <<'XML'
<policy xmlns="urn:pvsub:policy:1" id="zeros" version="1">
  <pattern id="z" bytes="c3 01 00 00"/>
</policy>
XML
printf '\t.text\n\t.byte 0xc3, 0x01\n' | asm tail
expect_status 1 "$SCAN" --policy zeros.xml --format json tail.o
cp out z.json
json_query z.json 'd["files"][0]["findings"][0]["section"]' | grep -q '(padding)' ||
	fail "section tail followed by padding: $(cat z.json)"

# Shared objects: page-extended executable segments.
cat > so.c <<'C'
unsigned long pvsub_test_magic(void) { return 0xd4010f; }
C
"$CC" -O2 -shared -fPIC so.c -o clean.so
expect_status 1 "$SCAN" --format json clean.so
cp out so.json
[ "$(json_query so.json 'd["files"][0]["elf_type"]')" = DYN ] || fail "elf_type of a .so"
json_query so.json '[f.get("segment") for f in d["files"][0]["findings"]]' | grep -q '[0-9]' ||
	fail "finding in a segment not reported by segment: $(cat so.json)"

# Violations: an executable stack and a writable+executable segment.
"$CC" -O2 -shared -fPIC -Wl,-z,execstack so.c -o execstack.so
expect_status 1 "$SCAN" --format json --policy syscall execstack.so
cp out es.json
json_query es.json '[v["kind"] for v in d["files"][0]["violations"]]' | grep -q exec-stack ||
	fail "exec-stack violation missing: $(cat es.json)"

# An appended module signature is recognised and not scanned as code.
printf '\t.text\n\tret\n' | asm mod
python3 - mod.o signed.ko <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
sig = b'\x0f\x01\xef' * 20          # a gate in the signature blob must not count
info = struct.pack('>BBBBB3xI', 0, 0, 2, 0, 0, len(sig))
open(sys.argv[2], 'wb').write(data + sig + info + b'~Module signature appended~\n')
PY
expect_status 0 "$SCAN" --format json signed.ko
cp out sig.json
[ "$(json_query sig.json 'd["files"][0]["module_signature"]["size"]')" = "$((60 + 12 + 28))" ] ||
	fail "module signature not reported: $(cat sig.json)"

# Bad ELF files: one clear line naming the path, status 2, others still scanned.
# An ELF file for another machine is not an error but not scanned
# (tests/integration/unscanned.sh): named with its machine.
head -c 100 mod.o > truncated.o
python3 - mod.o wrongmachine.o <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[18] = 40  # EM_ARM
open(sys.argv[2], 'wb').write(d)
PY
expect_status 2 "$SCAN" --format json truncated.o wrongmachine.o mod.o
cp out bad.json
[ "$(json_query bad.json '[f.get("format") for f in d["files"]]')" = "[None, 'ELF64 (ARM)', None]" ] ||
	fail "wrong machine not named: $(cat bad.json)"
grep -q "truncated.o: " err || fail "truncated ELF not named: $(cat err)"
[ "$(json_query bad.json '[f["status"] for f in d["files"]]')" = "['error', 'not-scanned', 'clean']" ] ||
	fail "statuses: $(cat bad.json)"
[ "$(json_query bad.json 'd["summary"]["errors"]')" = 1 ] || fail "error count"

# Hand-made executables (ET_EXEC) for what the loader does with pages.
cat > mkelf.py <<'PY'
import struct, sys

def ehdr(phnum):
    return (b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8 +
            struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x400000, 64, 0, 0, 64, 56, phnum, 64, 0, 0))

def phdr(flags, off, vaddr, filesz):
    return struct.pack("<IIQQQQQQ", 1, flags, off, vaddr, vaddr, filesz, filesz, 0x1000)

which = sys.argv[1]
if which in ("tail", "tail-marker"):
    # One R+X PT_LOAD of 0x100 bytes: the rest of its page is mapped too,
    # and a gate there executes.  A module-signature marker at the end must
    # not hide it: only relocatable modules carry one.
    body = ehdr(1) + phdr(5, 0, 0x400000, 0x100)
    body += b"\x90" * (0x100 - len(body))
    tail = b"\x0f\x01\xd4" + b"\xcc" * 13
    if which == "tail-marker":
        tail += bytes([0, 0, 2, 0, 0, 0, 0, 0]) + struct.pack(">I", 16) + b"~Module signature appended~\n"
    sys.stdout.buffer.write(body + tail)
elif which == "overlap":
    # Segment B shares its first page with segment A's last one: the loader
    # maps B's file page there, right after A's first page, so 0f at the end
    # of A's first page meets 05 from B's file page (SYSCALL).
    f = bytearray(b"\xcc" * 0x3900)
    f[0:64] = ehdr(2)
    f[64:120] = phdr(5, 0, 0x400000, 0x1800)
    f[120:176] = phdr(5, 0x3800, 0x401800, 0x100)
    f[0xfff] = 0x0f
    f[0x3000] = 0x05
    sys.stdout.buffer.write(bytes(f))
PY
python3 mkelf.py tail > tail.elf
python3 mkelf.py tail-marker > tail-marker.elf
python3 mkelf.py overlap > overlap.elf
for f in tail.elf tail-marker.elf; do
	expect_status 1 "$SCAN" --format json "$f"
	cp out t.json
	[ "$(json_query t.json '[(x["segment"], x["offset"]) for x in d["files"][0]["findings"]]')" = \
		"[(0, 256)]" ] || fail "$f: page tail gate: $(cat t.json)"
done
expect_status 1 "$SCAN" --format json --policy syscall overlap.elf
cp out o.json
[ "$(json_query o.json '[(x["section"], x["offset"]) for x in d["files"][0]["findings"]]')" = \
	"[('segment 0|segment 1', 4095)]" ] || fail "overlapping segments: $(cat o.json)"
exit 0
