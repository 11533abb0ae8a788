#!/bin/sh
# The Debian cloud kernel's vmlinuz against an independent extraction of the
# same kernel (issue 11): the unstripped vmlinux of the matching -dbg package
# (same package name + "-dbg", same version), scanned as a plain ELF file.
# The two are the same code, stripped or not, so the occurrences (pattern,
# virtual address) must be the same sets, except those that either side
# classifies "relocation", "kaslr" (a KASLR relocation window) or
# "patch-site": how windows are modelled may differ between a bzImage
# (KASLR table, boot-time patch tables) and a vmlinux with symbols and .rela
# sections.  How many are in windows on each side is printed.  Every address is also checked against the program
# headers of the -dbg vmlinux, read here, and a negative control shows that
# the comparison fails when one finding is dropped or moved.
#
# The -dbg package is about 280 MB; it is fetched once into
# $PVSUB_CORPUS_DIR like the kernel package.  Its vmlinux is about 590 MB,
# more than pvsub-scan's default --max-entry-size (512M): the scan passes
# --max-entry-size=1G.
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || fail "python3 is needed"
command -v dpkg-deb >/dev/null || fail "dpkg-deb is needed"
corpus_kernel_deb
if ! dbg=$("$top_srcdir/tests/corpus/fetch-kernel-dbg.sh" "$cache" "$deb"); then
	[ "${PVSUB_REQUIRE_CORPUS:-0}" = 1 ] && fail "cannot fetch the kernel's -dbg package"
	skip "cannot fetch the kernel's -dbg package"
fi
echo "corpus: $dbg"

now() { date +%s.%N; }
took() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(now)"; }

t=$(now)
dpkg-deb --fsys-tarfile "$deb" | tar -x --wildcards './boot/vmlinuz-*'
set -- boot/vmlinuz-*
[ $# -eq 1 ] && [ -f "$1" ] || fail "no single vmlinuz in $deb"
release=${1#boot/vmlinuz-}
# Only the vmlinux; it lands in this test's scratch directory, removed on exit.
dpkg-deb --fsys-tarfile "$dbg" | tar -x --wildcards './usr/lib/debug/boot/vmlinux-*'
set -- usr/lib/debug/boot/vmlinux-*
[ $# -eq 1 ] && [ -f "$1" ] || fail "no single vmlinux in $dbg"
[ "$1" = "usr/lib/debug/boot/vmlinux-$release" ] ||
	fail "$dbg holds $1, not the vmlinux of vmlinuz-$release"
mv "boot/vmlinuz-$release" vmlinuz
mv "$1" vmlinux
echo "time: extraction $(took "$t") s; vmlinuz $(wc -c < vmlinuz) bytes, vmlinux $(wc -c < vmlinux) bytes"

t=$(now)
expect_status 1 "$SCAN" --format json vmlinuz
mv out bz.json
echo "time: scan of vmlinuz $(took "$t") s"
t=$(now)
expect_status 1 "$SCAN" --max-entry-size=1G --format json vmlinux
mv out dbg.json
echo "time: scan of the -dbg vmlinux $(took "$t") s"

# The comparison: exit 1 and name each occurrence found on one side only.
cat > compare.py <<'PY'
import json, sys

WINDOWS = ("relocation", "patch-site", "kaslr")


def findings(path, want):
    files = json.load(open(path))["files"]
    assert [f["path"] for f in files] == [want], [f["path"] for f in files]
    assert files[0]["elf_type"] == "EXEC", files[0]["elf_type"]
    return files[0]["findings"]


def index(fs, side):
    keys, window = {}, set()
    for f in fs:
        assert isinstance(f["vaddr"], int), f
        k = (f["pattern"], f["vaddr"])
        assert k not in keys, "%s: %s at 0x%x twice" % (side, k[0], k[1])
        keys[k] = f
        if f["class"] in WINDOWS:
            window.add(k)
    return keys, window


bz, bzw = index(findings(sys.argv[1], "vmlinuz!vmlinux"), "vmlinuz")
db, dbw = index(findings(sys.argv[2], "vmlinux"), "vmlinux")
print("vmlinuz: %d findings, %d in relocation, KASLR or patch windows" % (len(bz), len(bzw)))
print("-dbg vmlinux: %d findings, %d in relocation, KASLR or patch windows" % (len(db), len(dbw)))
out = bzw | dbw
a, b = set(bz) - out, set(db) - out
bad = 0
for side, only, fs in (("vmlinuz", a - b, bz), ("-dbg vmlinux", b - a, db)):
    for k in sorted(only):
        print("only in %s: %s at 0x%x (%s)" % (side, k[0], k[1], fs[k]["class"]))
        bad += 1
for k in sorted(a & b):
    if bz[k]["bytes"] != db[k]["bytes"]:
        print("%s at 0x%x: bytes %s in vmlinuz, %s in the -dbg vmlinux"
              % (k[0], k[1], bz[k]["bytes"], db[k]["bytes"]))
        bad += 1
print("%d outside windows on both sides, %d differences" % (len(a & b), bad))
sys.exit(1 if bad else 0)
PY

t=$(now)
python3 compare.py bz.json dbg.json > cmp.out || { cat cmp.out; fail "the vmlinuz and the -dbg vmlinux disagree"; }
cat cmp.out
echo "time: comparison $(took "$t") s"

# The addresses themselves, from the -dbg vmlinux's program headers: the
# occurrence's bytes are at p_offset + (vaddr - p_vaddr) of its segment.
python3 - dbg.json vmlinux <<'PY'
import json, struct, sys
fs = json.load(open(sys.argv[1]))["files"][0]["findings"]
with open(sys.argv[2], "rb") as e:
    eh = e.read(64)
    assert eh[:4] == b"\x7fELF" and struct.unpack_from("<H", eh, 16)[0] == 2
    phoff, = struct.unpack_from("<Q", eh, 0x20)
    phnum, = struct.unpack_from("<H", eh, 0x38)
    e.seek(phoff)
    ph = [struct.unpack_from("<IIQQQQQQ", e.read(56)) for _ in range(phnum)]
    for f in fs:
        if "segment" not in f:
            continue  # a junction of two segments: named by its sections
        _t, _fl, off, va, _pa, _fs, _ms, _al = ph[f["segment"]]
        pos = off + f["vaddr"] - va
        assert pos == f["file_offset"] == off + f["offset"], (f, hex(off), hex(va))
        e.seek(pos)
        got = e.read(len(f["bytes"]) // 2).hex()
        # bytes the kernel may write there, which the file does not hold
        if (f.get("field") or "").endswith(", only when patched"):
            assert got != f["bytes"], (f, got)
            continue
        assert got == f["bytes"], (f, got)
print("addresses: %d findings' bytes read back at their vaddr" % len(fs))
PY

# Negative control: the comparison fails when one finding outside the
# windows is missing on one side, or moved by one byte; a finding that one
# side puts in a window may be missing on the other.
python3 - bz.json <<'PY'
import copy, json
d = json.load(open("bz.json"))
fs = d["files"][0]["findings"]
outside = [n for n, f in enumerate(fs) if f["class"] not in ("relocation", "patch-site", "kaslr")]
assert outside, "no finding outside the windows to drop"
i = outside[0]
open("victim", "w").write("%s at 0x%x" % (fs[i]["pattern"], fs[i]["vaddr"]))
drop = copy.deepcopy(d)
del drop["files"][0]["findings"][i]
json.dump(drop, open("bz-drop.json", "w"))
move = copy.deepcopy(d)
move["files"][0]["findings"][i]["vaddr"] += 1
json.dump(move, open("bz-move.json", "w"))
win = copy.deepcopy(d)
win["files"][0]["findings"][i]["class"] = "patch-site"
json.dump(win, open("bz-window.json", "w"))
PY
victim=$(cat victim)
python3 - dbg.json "$victim" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
pat, _, addr = sys.argv[2].split()
fs = d["files"][0]["findings"]
d["files"][0]["findings"] = [f for f in fs if (f["pattern"], f["vaddr"]) != (pat, int(addr, 16))]
assert len(d["files"][0]["findings"]) == len(fs) - 1
json.dump(d, open("dbg-drop.json", "w"))
PY
expect_status 1 python3 compare.py bz-drop.json dbg.json
grep -qx "only in -dbg vmlinux: $victim (.*)" out || fail "a dropped finding is not named: $(cat out)"
expect_status 1 python3 compare.py bz-move.json dbg.json
grep -qx "only in -dbg vmlinux: $victim (.*)" out || fail "a moved finding is not named: $(cat out)"
grep -q "^only in vmlinuz: " out || fail "a moved finding is not named at its new address: $(cat out)"
expect_status 0 python3 compare.py bz-window.json dbg-drop.json
grep -q "^vmlinuz: [0-9]* findings, [1-9][0-9]* in relocation, KASLR or patch windows" out ||
	fail "the window is not counted: $(cat out)"
echo "negative control: dropping or moving $victim is reported; in a window it may differ"
exit 0
