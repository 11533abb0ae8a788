#!/usr/bin/env python3
"""Break one byte that the rewriter wrote, for srclibs.sh's negative control.

usage: flip.py OBJ REPORT OUT K

OBJ is an object rewritten by pvsub-scan --rewrite, REPORT its JSON report.
The candidates are the rewrites whose replacement still stands, byte for
byte, at its new offset in OBJ, and holds a 32-bit displacement that the
code always uses when it runs the replacement: the rel32 of a replacement
that is one branch (rel-adjust, jump-island) or the disp32 of a leading
`lea disp32(base), reg` (load-dest and the rebasing rules).  OUT is OBJ with
the top byte of the K-th candidate's displacement XORed with 0x40 (the
address moves by 1 GiB: a fault, or a wrong value, wherever the code runs).
Prints what it changed; exit 3 when there is no K-th candidate, 2 on bad
input.
"""
import json
import struct
import sys


def die(msg, status=2):
    print("flip.py: %s" % msg, file=sys.stderr)
    sys.exit(status)


def sections(data):
    """{name: (file offset, size)} of an ELF64 little-endian object."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        die("not a little-endian ELF64 file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    stroff = hdrs[shstrndx][4]
    out = {}
    for name, _type, _flags, _addr, off, size in hdrs:
        end = data.index(b"\0", stroff + name)
        out[data[stroff + name:end].decode()] = (off, size)
    return out


def disp_at(rep):
    """Index of the 32-bit displacement in the replacement bytes, or None."""
    if len(rep) == 6 and rep[0] == 0x0F and 0x80 <= rep[1] <= 0x8F:
        return 2  # jcc rel32
    if len(rep) == 5 and rep[0] in (0xE8, 0xE9):
        return 1  # call / jmp rel32
    i = 1 if 0x40 <= rep[0] <= 0x4F else 0  # REX
    if len(rep) >= i + 6 and rep[i] == 0x8D:
        modrm = rep[i + 1]
        if modrm >> 6 == 2 and modrm & 7 != 4:
            return i + 2  # lea disp32(base), reg
    return None


def main(argv):
    if len(argv) != 5:
        die("usage: flip.py OBJ REPORT OUT K")
    obj, report, out, k = argv[1], argv[2], argv[3], int(argv[4])
    with open(obj, "rb") as f:
        data = bytearray(f.read())
    secs = sections(data)
    cands = []
    for r in json.load(open(report))["files"][0]["rewrites"]:
        rep = bytes.fromhex(r["replacement"])
        at = disp_at(rep)
        if at is None or r["section"] not in secs:
            continue
        off, size = secs[r["section"]]
        new = r["new_offset"]
        if new + len(rep) > size or data[off + new:off + new + len(rep)] != rep:
            continue  # moved again by a later round: not where the report says
        cands.append((r, off + new + at + 3, new + at + 3))
    if k >= len(cands):
        sys.exit(3)
    r, pos, rel = cands[k]
    old = data[pos]
    data[pos] ^= 0x40
    with open(out, "wb") as f:
        f.write(data)
    print("%s+%#x (rule %s, top byte of the displacement of %s): %#04x -> %#04x"
          % (r["section"], rel, r["rule"], r["replacement"], old, data[pos]))


if __name__ == "__main__":
    main(sys.argv)
