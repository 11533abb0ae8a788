#!/bin/sh
# Nothing executable is skipped silently (DESIGN §4, issue 11): a PE/COFF
# EFI binary, a Mach-O file, an ELF file for another machine (and ELF32)
# and an ARM64 kernel Image, in a directory or a tar.gz next to a clean x86-64
# object, are each reported as not scanned with their format, and keep the
# run from being clean (exit 1) unless --allow-unscanned (exit 0).  A Java
# class file (the Mach-O universal magic) and a text file are skipped
# silently; an "MZ" file whose e_lfanew points past its end is not PE/COFF:
# skipped silently in a walk, one input-error line when named.
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 builds the headers"

mkdir tree
asm tree/clean <<'ASM'
	.text
	.globl f
f:	ret
ASM

python3 - <<'PY'
import struct

def pe(machine, name, lfanew=0x80):
    # DOS header, e_lfanew, "PE\0\0", a COFF header for @machine.
    dos = b"MZ" + b"\0" * 0x3a + struct.pack("<I", lfanew)
    dos += b"\0" * (lfanew - len(dos))
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", machine, 0, 0, 0, 0, 0xf0, 0x22)
    open(name, "wb").write(dos + coff + b"\0" * 0x200)

pe(0x8664, "tree/shimx64.efi")
pe(0xaa64, "tree/shimaa64.efi")
# Its PE header past the first KiB that is sniffed.
pe(0x14c, "tree/far.efi", 0x900)
# Mach-O 64-bit little-endian, CPU_TYPE_ARM64; Mach-O 32-bit big-endian x86.
open("tree/tool.macho", "wb").write(struct.pack("<IIIIIII", 0xfeedfacf, 0x0100000c, 0, 2, 0, 0, 0) + b"\0" * 64)
open("tree/old.macho", "wb").write(struct.pack(">IIIIIII", 0xfeedface, 7, 3, 2, 0, 0, 0) + b"\0" * 64)
# A universal (fat) binary with 2 architectures.
open("tree/fat.bin", "wb").write(struct.pack(">II", 0xcafebabe, 2) + b"\0" * 64)
# ELF64 AArch64 and ELF32 i386 headers (ET_REL).
def elf64(machine):
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    return ident + struct.pack("<HHIQQQIHHHHHH", 1, machine, 1, 0, 0, 0, 0, 64, 0, 0, 64, 0, 0)
def elf32(machine):
    ident = b"\x7fELF" + bytes([1, 1, 1]) + b"\0" * 9
    return ident + struct.pack("<HHIIIIIHHHHHH", 1, machine, 1, 0, 0, 0, 0, 52, 0, 0, 40, 0, 0)
open("tree/arm64.o", "wb").write(elf64(183) + b"\0" * 64)
open("tree/i386.o", "wb").write(elf32(3) + b"\0" * 64)
# ARM64 kernel Image: "ARM\x64" at 0x38.
img = bytearray(0x200)
img[0x38:0x3c] = b"ARM\x64"
open("tree/Image", "wb").write(bytes(img))
# Negative controls: a Java class file and a text file.
open("tree/Main.class", "wb").write(bytes.fromhex("cafebabe00000034") + b"\0" * 64)
open("tree/README", "w").write("nothing to see\n")
# A truncated PE: e_lfanew past the end of the file.
open("truncated.efi", "wb").write(b"MZ" + b"\0" * 0x3a + struct.pack("<I", 0x10000) + b"\0" * 16)
PY
cp truncated.efi tree/
tar -czf tree.tar.gz -C tree .

check_text() { # where prefix
	for f in "shimx64.efi: not scanned: PE/COFF (x86-64)" \
		"shimaa64.efi: not scanned: PE/COFF (AArch64)" \
		"far.efi: not scanned: PE/COFF (x86)" \
		"tool.macho: not scanned: Mach-O 64-bit (ARM64)" \
		"old.macho: not scanned: Mach-O 32-bit (x86)" \
		"fat.bin: not scanned: Mach-O universal" \
		"arm64.o: not scanned: ELF64 (AArch64)" \
		"i386.o: not scanned: ELF32 (x86)" \
		"Image: not scanned: ARM64 kernel Image"; do
		grep -qxF -e "$2$f" out || fail "$1: no line '$2$f': $(cat out err)"
	done
	! grep -q 'Main.class\|README\|truncated' out err || fail "$1: a negative control was reported: $(cat out err)"
	grep -q "9 not scanned" out || fail "$1: summary: $(tail -n 1 out)"
}

expect_status 1 "$SCAN" --no-progress tree
check_text dir tree/
grep -qx '10 files scanned: 1 clean, 0 rejected, 0 errors, 9 not scanned; 0 findings, 0 violations' out ||
	fail "summary: $(tail -n 1 out)"
expect_status 1 "$SCAN" --no-progress tree.tar.gz
check_text tar 'tree.tar.gz!./'
expect_status 1 sh -c "\"$SCAN\" --no-progress - < tree.tar.gz"
check_text pipe '-!./'
expect_status 0 "$SCAN" --no-progress --allow-unscanned tree.tar.gz
check_text allowed 'tree.tar.gz!./'
grep -q '9 not scanned (allowed by --allow-unscanned)' out || fail "allowed summary: $(tail -n 1 out)"

# Compressed members and files named on the command line are reported too.
gzip -c tree/shimx64.efi > shim.efi.gz
expect_status 1 "$SCAN" --no-progress shim.efi.gz tree/i386.o
grep -qxF 'shim.efi.gz: not scanned: PE/COFF (x86-64)' out || fail "gz: $(cat out err)"
grep -qxF 'tree/i386.o: not scanned: ELF32 (x86)' out || fail "named: $(cat out err)"

# A PE header past the sniffed bytes, read from a pipe.
expect_status 1 sh -c "\"$SCAN\" --no-progress - < tree/far.efi"
grep -qxF -e '-: not scanned: PE/COFF (x86)' out || fail "far PE on a pipe: $(cat out err)"

# The truncated PE: one input error when named, never a crash.
scan_survives truncated.efi
grep -q '^truncated.efi: error: not an ELF file or a recognised archive' out ||
	fail "truncated PE: $(cat out err)"
# Named Java class and text files are the input error they were.
expect_status 2 "$SCAN" --no-progress tree/Main.class
grep -q 'not an ELF file or a recognised archive' out || fail "class: $(cat out err)"

# JSON, SARIF and JUnit agree.
expect_status 1 "$SCAN" --no-progress -f json --junit=junit.xml tree.tar.gz
mv out report.json
python3 - report.json junit.xml <<'PY' || fail "JSON/JUnit disagree"
import json, sys, xml.etree.ElementTree as ET
d = json.load(open(sys.argv[1]))
ns = [f for f in d["files"] if f["status"] == "not-scanned"]
assert len(ns) == 9, ns
shim = [f for f in ns if f["path"] == "tree.tar.gz!./shimx64.efi"][0]
assert shim["format"] == "PE/COFF (x86-64)", shim
assert shim["verdict"] == "rejected" and shim["error"] is None and shim["size"] is None, shim
assert d["summary"]["not_scanned"] == 9, d["summary"]
assert d["summary"]["status"]["not-scanned"] == 9, d["summary"]
assert d["summary"]["files"] == 10 and d["summary"]["clean"] == 1, d["summary"]
t = ET.parse(sys.argv[2]).getroot()
fails = [c for c in t.iter("testcase") if c.find("failure") is not None]
assert len(fails) == 9, len(fails)
f = [c for c in fails if c.get("name") == "tree.tar.gz!./shimx64.efi"][0].find("failure")
assert f.get("type") == "not-scanned" and "PE/COFF (x86-64)" in f.get("message"), f.attrib
PY
expect_status 0 "$SCAN" --no-progress -f json --allow-unscanned --junit=junit.xml tree.tar.gz
python3 - out junit.xml <<'PY' || fail "allowed JSON/JUnit"
import json, sys, xml.etree.ElementTree as ET
d = json.load(open(sys.argv[1]))
ns = [f for f in d["files"] if f["status"] == "not-scanned"]
assert len(ns) == 9 and all(f["verdict"] == "certified" for f in ns), ns
t = ET.parse(sys.argv[2]).getroot()
assert not [c for c in t.iter("testcase") if c.find("failure") is not None]
PY
for allow in "" --allow-unscanned; do
	set +e
	"$SCAN" --no-progress -f sarif $allow tree.tar.gz > sarif.json
	set -e
	python3 - sarif.json "$allow" <<'PY' || fail "SARIF $allow"
import json, sys
d = json.load(open(sys.argv[1]))
run = d["runs"][0]
rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
res = [r for r in run["results"] if r["ruleId"] == "not-scanned"]
assert "not-scanned" in rules and len(res) == 9, (rules, len(res))
want = "note" if sys.argv[2] else "error"
assert all(r["level"] == want for r in res), [r["level"] for r in res]
assert any("PE/COFF (AArch64)" in r["message"]["text"] and r["properties"]["format"] == "PE/COFF (AArch64)" for r in res)
PY
done

# --rewrite refuses it in one line; nothing is written.
mkdir o
expect_status 1 "$SCAN" --no-progress --rewrite -O o tree/shimx64.efi
grep -qxF 'tree/shimx64.efi: not scanned: PE/COFF (x86-64): cannot be rewritten, nothing written' out ||
	fail "rewrite: $(cat out err)"
[ -z "$(ls -A o)" ] || fail "rewrite wrote $(ls -R o)"
exit 0
