#!/bin/sh
# The Debian cloud kernel's own vmlinuz (issue 11): pvsub-scan reads the
# bzImage, finds the kernel's real WRPKRU and XRSTOR/XRSTORS occurrences
# under the default policy and none under the vmfunc profile, and never
# certifies it while its boot-time patching is not modelled.  KASLR is modelled: every field the relocation table moves is
# re-derived here, the offsets recomputed, and the positions only some
# offsets form re-found by moving the whole kernel by a sample of offsets
# (each reported position's count by trying them all).
# The findings are checked against an independent extraction:
# the payload cut out and decompressed here by the codec's own tool, the ELF
# file cut at its end by a parser of our own, then scanned as a plain ELF
# file and counted with a regular expression per pattern.  Its boot-time
# patch tables are mutable windows and give, window by window, what the
# unstripped vmlinux of the matching -dbg package gives: the three tables
# between symbols are located through the stripped kernel's own kallsyms,
# whose every symbol, and the six delimiters, are checked against the -dbg
# package's System.map.
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || fail "python3 is needed"
corpus_kernel_deb
dpkg-deb --fsys-tarfile "$deb" | tar -x --wildcards './boot/vmlinuz-*'
set -- boot/vmlinuz-*
[ $# -eq 1 ] && [ -f "$1" ] || fail "no single vmlinuz in $deb"
cp "$1" vmlinuz
echo "kernel: $1"

# The independent extraction.
python3 - <<'PY'
import struct
d = open("vmlinuz", "rb").read()
assert d[0x202:0x206] == b"HdrS"
setup = d[0x1f1] or 4
po, pl = struct.unpack_from("<II", d, 0x248)
start = (setup + 1) * 512 + po
payload = d[start:start + pl]
assert len(payload) == pl
tools = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\x5d\x00\x00": "lzma",
         b"\xfd7zXZ\x00": "xz", b"\x02\x21\x4c\x18": "lz4", b"\x28\xb5\x2f\xfd": "zstd"}
tool = [t for m, t in tools.items() if payload.startswith(m)]
assert len(tool) == 1, payload[:8]
# The build appends the decompressed size; gzip's is its own ISIZE.
open("payload", "wb").write(payload if tool[0] == "gzip" else payload[:-4])
open("tool", "w").write(tool[0])
open("size", "w").write(str(struct.unpack_from("<I", payload, pl - 4)[0]))
PY
tool=$(cat tool)
command -v "$tool" >/dev/null || fail "the kernel's payload is $tool-compressed and there is no $tool tool"
"$tool" -dc payload > vmlinux.bin 2>/dev/null || [ -s vmlinux.bin ] || fail "$tool -dc failed"
[ "$(wc -c < vmlinux.bin)" -eq "$(cat size)" ] || fail "$tool gave $(wc -c < vmlinux.bin) bytes, the payload states $(cat size)"
python3 - <<'PY'
import struct
d = open("vmlinux.bin", "rb").read()
assert d[:4] == b"\x7fELF" and struct.unpack_from("<H", d, 16)[0] == 2, "not ET_EXEC"
phoff, shoff = struct.unpack_from("<QQ", d, 0x20)
phnum, = struct.unpack_from("<H", d, 0x38)
shnum, = struct.unpack_from("<H", d, 0x3c)
end = max(64, phoff + 56 * phnum, shoff + 64 * shnum)
for i in range(phnum):
    _t, _f, off, _va, _pa, fs = struct.unpack_from("<IIQQQQ", d, phoff + 56 * i)
    end = max(end, off + fs)
for i in range(shnum):
    _n, t, _fl, _a, off, sz = struct.unpack_from("<IIQQQQ", d, shoff + 64 * i)
    if t not in (0, 8):
        end = max(end, off + sz)
open("vmlinux.elf", "wb").write(d[:end])
# The relocation table, read from the end as the boot decompressor does.
words = struct.unpack_from("<%dI" % ((len(d) - end) // 4), d, end)
assert (len(d) - end) % 4 == 0
counts, i = [], len(words)
for _ in range(3):
    n = 0
    while True:
        i -= 1
        if words[i] == 0:
            break
        n += 1
    counts.append(n)
assert i == 0, "the table is not exactly three lists"
open("relocs", "w").write("%d %d %d %d\n" % (len(d) - end, *counts))
open("relocs.bin", "wb").write(d[end:])
PY
read -r rsize r32 rinv r64 < relocs
echo "vmlinux: $(wc -c < vmlinux.elf) bytes of ELF, $rsize bytes of relocations ($r32 32-bit, $rinv inverse, $r64 64-bit)"

expect_status 1 "$SCAN" vmlinuz
cat out
expect_status 1 "$SCAN" --format json vmlinuz
mv out bz.json
expect_status 1 "$SCAN" --format json vmlinux.elf
mv out elf.json
expect_status 1 "$SCAN" --format json --policy vmfunc vmlinuz
mv out vmfunc.json

python3 - "$rsize" "$r32" "$rinv" "$r64" <<'PY'
import json, re, struct, sys
rsize, r32, rinv, r64 = map(int, sys.argv[1:])
bz = json.load(open("bz.json"))
elf = json.load(open("elf.json"))
vmf = json.load(open("vmfunc.json"))
assert [f["path"] for f in bz["files"]] == ["vmlinuz!vmlinux"], bz["files"]
k, e = bz["files"][0], elf["files"][0]
assert k["elf_type"] == "EXEC" and k["verdict"] == "rejected", k["verdict"]
key = lambda x: (x["pattern"], x.get("segment"), x["offset"], x["bytes"], x["class"])
# What only KASLR offsets form is checked further down; everything else is
# what the plain ELF file holds.
# (An occurrence that offset 0 forms over a moved byte is in both, with the
# class kaslr on the bzImage's side.)
# An occurrence that forms only once the kernel patches a window is not in
# the file's bytes: it is in both reports alike, and apart here.
patched = lambda x: (x.get("field") or "").endswith(", only when patched")
assert sorted(map(key, filter(patched, k["findings"]))) == sorted(map(key, filter(patched, e["findings"])))
print("forms only when patched:", sum(map(patched, k["findings"])))
e["findings"] = [x for x in e["findings"] if not patched(x)]
k["findings"] = [x for x in k["findings"] if not patched(x)]
at_zero = {(x["pattern"], x["file_offset"]) for x in e["findings"]}
static = [x for x in k["findings"] if (x["pattern"], x["file_offset"]) in at_zero]
moved = [x for x in k["findings"] if x not in static]
assert all(x["class"] == "kaslr" for x in moved), [x for x in moved if x["class"] != "kaslr"][:3]
unkaslr = lambda x, y: (x["pattern"], x.get("segment"), x["offset"], x["bytes"],
                        y["class"] if x["class"] == "kaslr" else x["class"])
by_off = {(x["pattern"], x["file_offset"]): x for x in e["findings"]}
kf = sorted(unkaslr(x, by_off[(x["pattern"], x["file_offset"])]) for x in static)
ef = sorted(map(key, e["findings"]))
assert kf == ef, (len(kf), len(ef))
pats = {}
for x in static:
    pats[x["pattern"]] = pats.get(x["pattern"], 0) + 1
print("findings by pattern:", pats)
assert pats.get("wrpkru", 0) >= 1 and pats.get("xrstor", 0) + pats.get("xrstors", 0) >= 1, pats
assert "vmfunc" not in pats, pats

# A regular expression per pattern over every PF_X segment, page-extended.
d = open("vmlinux.elf", "rb").read()
mem5 = b"[" + b"".join(re.escape(bytes([m << 6 | 5 << 3 | r])) for m in range(3) for r in range(8)) + b"]"
mem3 = b"[" + b"".join(re.escape(bytes([m << 6 | 3 << 3 | r])) for m in range(3) for r in range(8)) + b"]"
regex = [b"(?=\x0f\x01\xd4)", b"(?=\x0f\x01\xef)", b"(?=\x0f\xae" + mem5 + b")", b"(?=\x0f\xc7" + mem3 + b")"]
anyre = re.compile(b"\x0f(?=\x01\xd4|\x01\xef|\xae" + mem5 + b"|\xc7" + mem3 + b")")
phoff, = struct.unpack_from("<Q", d, 0x20)
phnum, = struct.unpack_from("<H", d, 0x38)
count, xsegs, loads = 0, [], []
for i in range(phnum):
    t, fl, off, _va, pa, fs, ms = struct.unpack_from("<IIQQQQQ", d, phoff + 56 * i)
    if t == 1:
        loads.append((pa, ms))
    if t == 1 and fl & 1:
        lo, hi = off & ~4095, min(len(d), (off + fs + 4095) & ~4095)
        xsegs.append((lo, hi, pa - (off - lo)))
        count += sum(len(re.findall(r, d[lo:hi])) for r in regex)
print("independent count:", count, "findings at offset 0:", len(static))
assert len(static) == count, (len(static), count)

# KASLR, independently: every field of the table, at its physical address,
# moved by each offset; the offsets recomputed from the segments.
kz = k["kaslr"]
lo_pa = min(pa for pa, _ in loads)
span = max(pa + ms for pa, ms in loads) - lo_pa
n_off = ((1 << 30) - lo_pa - span) // (2 << 20) + 1
assert (kz["step"], kz["offsets"]) == (2 << 20, n_off), (kz, n_off)
rt = open("relocs.bin", "rb").read()
words = struct.unpack("<%dI" % (len(rt) // 4), rt)
fields, i = [], len(words)
for size, sign in ((4, 1), (4, -1), (8, 1)):
    while True:
        i -= 1
        if words[i] == 0:
            break
        addr = words[i] - (1 << 32) if words[i] & 0x80000000 else words[i]
        phys = (addr - 0xffffffff80000000) % (1 << 64)
        for lo, hi, pa in xsegs:
            if pa <= phys and phys + size <= pa + (hi - lo):
                fields.append((lo + phys - pa, size, sign))
assert len(fields) == kz["windows"], (len(fields), kz["windows"])
fields.sort()
mask = {4: (1 << 32) - 1, 8: (1 << 64) - 1}

def moved_image(delta):
    m = bytearray(d)
    for off, size, sign in fields:
        fmt = "<I" if size == 4 else "<Q"
        v, = struct.unpack_from(fmt, m, off)
        struct.pack_into(fmt, m, off, (v + sign * delta) & mask[size])
    return m

def hits(img):
    return {mt.start() for lo, hi, _ in xsegs for mt in anyre.finditer(img, lo, hi + 2)
            if mt.start() < hi}

base = hits(d)
seg_lo = {}
for lo, hi, pa in xsegs:
    seg_lo[lo] = True
fo = lambda x: x["file_offset"]
reported = {fo(x): x for x in moved}
firsts = sorted({int(x["field"].rsplit("+", 1)[1], 16) for x in moved})
step = 2 << 20
tried = sorted(set(firsts) | {step * k for k in range(1, n_off, max(1, n_off // 8))})
for delta in tried:
    img = moved_image(delta)
    new = hits(img) - base
    # Every position an offset forms and offset 0 does not is reported ...
    assert new <= set(reported), (hex(delta), sorted(new - set(reported))[:5])
    for off in new:
        assert bytes(img[off:off + 3]).hex() == reported[off]["bytes"] or \
            int(reported[off]["field"].rsplit("+", 1)[1], 16) != delta, hex(off)
# ... and each reported one forms at its first offset, for exactly the
# number of offsets it states.
for x in moved:
    off = fo(x)
    near = [f for f in fields if f[0] < off + 3 and off < f[0] + f[1]]
    n = 0
    for kk in range(n_off):
        b = bytearray(d[off - 8:off + 11])
        for foff, size, sign in near:
            fmt = "<I" if size == 4 else "<Q"
            v, = struct.unpack_from(fmt, d, foff)
            nb = ((v + sign * kk * step) & mask[size]).to_bytes(size, "little")
            for j in range(size):
                if 0 <= foff + j - (off - 8) < len(b):
                    b[foff + j - (off - 8)] = nb[j]
        n += anyre.match(bytes(b), 8) is not None
    want = int(x["field"].split()[1])
    assert n == want, (hex(off), n, want)
print("KASLR: %d windows in executable bytes, %d proven, %d positions form a pattern for some "
      "offset; %d offsets tried in full, every count re-derived" %
      (kz["windows"], kz["proven"], len(moved), len(tried)))
assert kz["windows"] - kz["proven"] >= 1

kinds = sorted(v["kind"] for v in k["violations"])
for v in k["violations"]:
    print("violation", v["kind"] + ":", v["detail"])
# Every boot-time patch table is read: through kallsyms for the three
# between symbols.
assert "kaslr-relocations-unchecked" not in kinds and "boot-patching-unchecked" not in kinds, kinds

v = vmf["files"][0]
assert v["path"] == "vmlinuz!vmlinux" and v["findings"] == [], v["findings"]
assert "boot-patching-unchecked" not in {x["kind"] for x in v["violations"]}
print("vmfunc profile: 0 findings,", v["verdict"], "for", sorted(x["kind"] for x in v["violations"]))
PY

# The windows of the stripped vmlinux, and of the -dbg package's vmlinux.
"$top_builddir/tests/corpus/kwindows" vmlinux.elf > stripped.win ||
	fail "kwindows: $(cat stripped.win)"
if ! dbg=$("$top_srcdir/tests/corpus/fetch-kernel-dbg.sh" "$(dirname "$deb")" "$deb"); then
	[ "${PVSUB_REQUIRE_CORPUS:-0}" != 1 ] || fail "cannot fetch the kernel's -dbg package"
	echo "# SKIP the -dbg comparison: cannot fetch the kernel's -dbg package"
	exit 0
fi
echo "debug package: $dbg"
dpkg-deb --fsys-tarfile "$dbg" | tar -x --wildcards './usr/lib/debug/boot/vmlinux-*' \
	'./usr/lib/debug/boot/System.map-*'
set -- usr/lib/debug/boot/System.map-*
[ $# -eq 1 ] && [ -f "$1" ] || fail "no single System.map in $dbg"
mv "$1" System.map
set -- usr/lib/debug/boot/vmlinux-*
[ $# -eq 1 ] && [ -f "$1" ] || fail "no single vmlinux in $dbg"
"$top_builddir/tests/corpus/kwindows" "$1" > dbg.win || fail "kwindows: $(cat dbg.win)"
expect_status 1 "$SCAN" --format json --max-entry-size 1G "$1"
mv out dbg.json
rm -rf usr

python3 - <<'PY'
import json
from collections import Counter
def windows(path):
    w, v = [], []
    for line in open(path):
        f = line.split(" ", 1)
        (v if f[0] == "violation" else w).append(line.rstrip("\n"))
    return w, v
sw, sv = windows("stripped.win")
dw, dv = windows("dbg.win")
between = ("jump-label", "static-call", "ftrace")  # __jump_table, .static_call_sites, __mcount_loc
sc = Counter(x.split()[0] for x in sw)
dc = Counter(x.split()[0] for x in dw)
print("windows per kind (stripped vmlinux):", dict(sorted(sc.items())))
print("windows per kind (-dbg vmlinux):    ", dict(sorted(dc.items())))
assert all(sc[k] > 0 and sc[k] == dc[k] for k in between), (sc, dc)
assert sc["alternative"] > 0 and sc["return-thunk"] > 0 and sc["smp-lock"] > 0, sc
# Window by window, the tables between symbols (found through kallsyms on
# one side, the ELF symbol table on the other) as the sections.
assert sorted(sw) == sorted(dw), set(sw) ^ set(dw)
# The negative control: one window fewer, or one moved, is noticed.
assert sorted(sw) != sorted(dw[1:])
mc = [x for x in dw if x.split()[0] == "ftrace"]
moved = mc[0].split()
moved[2] = "%x" % (int(moved[2], 16) + 1)
assert sorted(sw) != sorted([" ".join(moved)] + [x for x in dw if x != mc[0]])
assert sv == [], sv
assert dv == [], dv
# The scan agrees: no boot-patching violation with the symbols, and the
# occurrences in windows are the stripped kernel's, with the same kinds.
dbg = json.load(open("dbg.json"))["files"][0]
bz = json.load(open("bz.json"))["files"][0]
assert "boot-patching-unchecked" not in [v["kind"] for v in dbg["violations"]], dbg["violations"]
site = lambda f: sorted((x["pattern"], x["segment"], x["offset"], x["field"])
                        for x in f["findings"] if x["class"] == "patch-site")
assert site(dbg) == site(bz), (site(dbg), site(bz))
print("patch-site findings on both sides:", len(site(bz)),
      dict(Counter(x[3] for x in site(bz))))
PY

# What the stripped vmlinux's kallsyms says, against the -dbg package's
# System.map: the delimiters, where each kallsyms table is, and every
# symbol it holds (name and address).
delims="__start___jump_table __stop___jump_table __start_static_call_sites __stop_static_call_sites __start_mcount_loc __stop_mcount_loc"
# shellcheck disable=SC2086
"$top_builddir/tests/corpus/ksyms" vmlinux.elf $delims > ks.delims || fail "ksyms: $(cat ks.delims)"
"$top_builddir/tests/corpus/ksyms" vmlinux.elf > ks.all || fail "ksyms: $(cat ks.all)"
cat > mapcheck.py <<'PY'
import sys
smap, delims, every = sys.argv[1:4]
by_name = {}
pairs = set()
for line in open(smap):
    a, _t, n = line.split()
    by_name.setdefault(n, set()).add(int(a, 16))
    pairs.add((n, int(a, 16)))
bad = 0
tables = 0
for line in open(delims):
    f = line.split()
    if f[0] == "count":
        continue
    name, addr = (f[1], f[2]) if f[0] == "table" else (f[0], f[1])
    if by_name.get(name) != {int(addr, 16)}:
        print("%s at 0x%s in kallsyms, %s in System.map" % (name, addr, sorted(map(hex, by_name.get(name, ())))))
        bad += 1
    tables += f[0] == "table"
n = 0
for line in open(every):
    f = line.split()
    if f[0] in ("table", "count"):
        continue
    n += 1
    if (f[2], int(f[0], 16)) not in pairs:
        print("%s at 0x%s is not in System.map" % (f[2], f[0]))
        bad += 1
print("kallsyms: %d tables and the delimiters at System.map's addresses; %d symbols, %d not in System.map"
      % (tables, n, bad))
sys.exit(1 if bad or tables < 7 or n < 1000 else 0)
PY
python3 mapcheck.py System.map ks.delims ks.all > map.out || { cat map.out; fail "kallsyms and System.map disagree"; }
cat map.out
grep -q "^__stop_mcount_loc [0-9a-f]*$" ks.delims || fail "no __stop_mcount_loc: $(cat ks.delims)"
# The negative control: one address moved in System.map is noticed.
python3 - <<'PY'
with open("System.map") as i, open("System.map.moved", "w") as o:
    for line in i:
        a, t, n = line.split()
        if n == "__stop_mcount_loc":
            a = "%016x" % (int(a, 16) + 8)
        o.write("%s %s %s\n" % (a, t, n))
PY
expect_status 1 python3 mapcheck.py System.map.moved ks.delims ks.all
grep -q "^__stop_mcount_loc at 0x" out || fail "a moved delimiter is not noticed: $(cat out)"
echo "negative control: a delimiter moved in System.map is noticed"
exit 0
