#!/usr/bin/env python3
"""Relocations followed through a rewrite, for the rewriter tests.

The fixtures name every place a test follows with a local label; a label
moves with its instruction, so "the same place" in the output is where the
label with the same name is.

relocs.py follow IN.o OUT.o SECTION [TYPE]
    The relocations that apply to SECTION (only those of TYPE, a number,
    if given) are the same in OUT as in IN: as many, in the same order, of
    the same type and against the same symbol; where a place or a target
    is at a label in IN it is at that label in OUT, and elsewhere it did not
    change.  Prints one line per relocation.

relocs.py stale IN.o OUT.o SECTION RESULT.o
    A negative control: RESULT is OUT with the addends of the relocations
    that apply to SECTION put back as they are in IN (as many, in the same
    order), as a rewriter that moved the code but not those references
    would have left them.  Prints how many addends it changed.

relocs.py altinstructions IN.o OUT.o
    Every .altinstructions entry (Linux 6.1: s32 instr, repl; u16 cpuid;
    u8 instrlen, replacementlen) points at the same instruction bytes in OUT
    as in IN (instrlen of them), and at the same replacement; the entries'
    other fields are unchanged.
"""
import struct
import sys


def die(msg):
    sys.stderr.write("relocs.py: %s\n" % msg)
    sys.exit(1)


class Elf:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            d = f.read()
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            die("%s: not an ELF64 little-endian file" % path)
        self.data = d
        shoff, = struct.unpack_from("<Q", d, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3a)
        self.sh = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize)
                   for i in range(shnum)]
        strtab = self.sh[shstrndx][4]
        self.names = [self.cstr(strtab + s[0]) for s in self.sh]
        self.syms = []  # (name, type, shndx, value)
        for s in self.sh:
            if s[1] != 2:  # SHT_SYMTAB
                continue
            st = self.sh[s[6]][4]
            for off in range(s[4], s[4] + s[5], 24):
                n, info, _, shndx, value, _ = struct.unpack_from("<IBBHQQ", d, off)
                name = self.cstr(st + n) if n else ""
                if info & 15 == 3 and shndx < len(self.names):  # STT_SECTION
                    name = self.names[shndx]
                self.syms.append((name, info & 15, shndx, value))

    def cstr(self, off):
        return self.data[off:self.data.index(b"\0", off)].decode()

    def index(self, name):
        if self.names.count(name) != 1:
            die("%s: %d sections called %s" % (self.path, self.names.count(name), name))
        return self.names.index(name)

    def bytes(self, idx):
        s = self.sh[idx]
        return b"" if s[1] == 8 else self.data[s[4]:s[4] + s[5]]

    def relocs(self, idx):
        """(offset, type, symbol index, addend) of the relocations for idx."""
        out = []
        for s in self.sh:
            if s[1] == 4 and s[7] == idx:  # SHT_RELA
                for off in range(s[4], s[4] + s[5], 24):
                    o, info, a = struct.unpack_from("<QQq", self.data, off)
                    out.append((o, info & 0xffffffff, info >> 32, a))
        return out

    def labels(self, shndx, value):
        """Names of the non-section symbols of section shndx at value."""
        return sorted(n for n, t, x, v in self.syms
                      if x == shndx and v == value and t != 3 and n)

    def label(self, shndx, name):
        for n, t, x, v in self.syms:
            if x == shndx and n == name and t != 3:
                return v
        return None


def follow_place(a, b, shndx_a, shndx_b, off_a, what):
    """Where off_a of section shndx_a (of a) is in b: at the same label."""
    names = a.labels(shndx_a, off_a)
    if not names:
        return off_a, None
    want = b.label(shndx_b, names[0])
    if want is None:
        die("%s: no label %s (%s)" % (b.path, names[0], what))
    return want, names[0]


def follow(a_path, b_path, section, only_type=None):
    a, b = Elf(a_path), Elf(b_path)
    ia, ib = a.index(section), b.index(section)
    ra = [r for r in a.relocs(ia) if only_type is None or r[1] == only_type]
    rb = [r for r in b.relocs(ib) if only_type is None or r[1] == only_type]
    if not ra:
        die("%s: no relocation to follow in %s" % (a_path, section))
    if len(ra) != len(rb):
        die("%d relocations for %s in %s, %d in %s" % (len(ra), section, a_path, len(rb), b_path))
    for x, y in zip(ra, rb):
        sa, sb = a.syms[x[2]], b.syms[y[2]]
        what = "%s+%#x type %d against %s" % (section, x[0], x[1], sa[0] or "(none)")
        if x[1] != y[1] or sa[0] != sb[0]:
            die("%s became type %d against %s" % (what, y[1], sb[0] or "(none)"))
        place, plabel = follow_place(a, b, ia, ib, x[0], what)
        if y[0] != place:
            die("%s is at %s+%#x in %s, expected %#x%s" % (
                what, section, y[0], b_path, place, " (label %s)" % plabel if plabel else ""))
        tlabel = None
        if x[2] and sa[2] < len(a.names) and sa[2] != 0:
            # The target: S + A, in the symbol's section.
            ta = sa[3] + x[3]
            tb = sb[3] + y[3]
            want, tlabel = follow_place(a, b, sa[2], sb[2], ta, what)
            if tb != want:
                die("%s targets %s+%#x in %s, expected %#x%s" % (
                    what, a.names[sa[2]], tb, b_path, want,
                    " (label %s)" % tlabel if tlabel else ""))
        print("%s: place %s, target %s" % (what, plabel or "unchanged", tlabel or "unchanged"))


def altinstructions(a_path, b_path):
    a, b = Elf(a_path), Elf(b_path)
    ia, ib = a.index(".altinstructions"), b.index(".altinstructions")
    ta, tb = a.bytes(ia), b.bytes(ib)
    if len(ta) % 12 or len(ta) != len(tb):
        die(".altinstructions is %d bytes in %s, %d in %s" % (len(ta), a_path, len(tb), b_path))
    rel_a = {r[0]: r for r in a.relocs(ia)}
    rel_b = {r[0]: r for r in b.relocs(ib)}
    for e in range(0, len(ta), 12):
        if ta[e + 8:e + 12] != tb[e + 8:e + 12]:
            die("entry %d: cpuid or lengths changed: %s, then %s"
                % (e // 12, ta[e + 8:e + 12].hex(), tb[e + 8:e + 12].hex()))
        instrlen = ta[e + 10]
        for field in (0, 4):
            x, y = rel_a.get(e + field), rel_b.get(e + field)
            if x is None or y is None:
                die("entry %d: no relocation of field %d" % (e // 12, field))
            sa, sb = a.syms[x[2]], b.syms[y[2]]
            if sa[0] != sb[0] or x[1] != y[1]:
                die("entry %d field %d: against %s, then %s" % (e // 12, field, sa[0], sb[0]))
            # .long x - .: S + A is the place pointed at.
            pa, pb = sa[3] + x[3], sb[3] + y[3]
            sec_a, sec_b = a.bytes(sa[2]), b.bytes(sb[2])
            n = instrlen if field == 0 else ta[e + 11]
            if sec_a[pa:pa + n] != sec_b[pb:pb + n]:
                die("entry %d field %d: %s+%#x holds %s in %s, %s+%#x holds %s in %s"
                    % (e // 12, field, sa[0], pa, sec_a[pa:pa + n].hex(), a_path,
                       sb[0], pb, sec_b[pb:pb + n].hex(), b_path))
            if field == 0:
                want, label = follow_place(a, b, sa[2], sb[2], pa, "entry %d" % (e // 12))
                if pb != want:
                    die("entry %d: points at %s+%#x in %s, label %s is at %#x"
                        % (e // 12, sb[0], pb, b_path, label, want))
                print("entry %d: %s %s+%#x -> %#x, %d bytes the same"
                      % (e // 12, label or "", sa[0], pa, pb, n))
            elif (pa, x[3]) != (pb, y[3]):
                die("entry %d: replacement at %s+%#x, then %#x" % (e // 12, sa[0], pa, pb))


def stale(a_path, b_path, section, result):
    a, b = Elf(a_path), Elf(b_path)
    ia, ib = a.index(section), b.index(section)
    ra = a.relocs(ia)
    out = bytearray(b.data)
    places = []
    for s in b.sh:
        if s[1] == 4 and s[7] == ib:  # SHT_RELA
            places += range(s[4], s[4] + s[5], 24)
    if len(places) != len(ra):
        die("%d relocations for %s in %s, %d in %s" % (len(ra), section, a_path, len(places), b_path))
    changed = 0
    for off, r in zip(places, ra):
        old, = struct.unpack_from("<q", out, off + 16)
        changed += old != r[3]
        struct.pack_into("<q", out, off + 16, r[3])
    with open(result, "wb") as f:
        f.write(out)
    print("%d of %d addends put back" % (changed, len(ra)))


def main(argv):
    if len(argv) < 4:
        die("usage: see the comment at the top")
    if argv[1] == "follow" and len(argv) in (5, 6):
        follow(argv[2], argv[3], argv[4], int(argv[5]) if len(argv) == 6 else None)
    elif argv[1] == "stale" and len(argv) == 6:
        stale(argv[2], argv[3], argv[4], argv[5])
    elif argv[1] == "altinstructions" and len(argv) == 4:
        altinstructions(argv[2], argv[3])
    else:
        die("unknown check %s" % " ".join(argv[1:]))


if __name__ == "__main__":
    main(sys.argv)
