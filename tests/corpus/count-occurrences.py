#!/usr/bin/env python3
"""An independent, deliberately simple count of the default policy's
occurrences in the executable sections of kernel modules.

It shares no code with pvsub: its own ELF section parser (struct), and a
regular expression per pattern, run at every offset of each SHF_ALLOC |
SHF_EXECINSTR section.  Junctions between sections are not counted here.

Usage: count-occurrences.py ROOT  ->  prints "relative/path.ko COUNT" lines
for every .ko under ROOT, sorted by path.
"""
import os
import re
import struct
import sys

# The default policy (vmfunc + pku): VMFUNC, WRPKRU, XRSTOR and XRSTORS with
# a memory operand (ModRM mod != 11, reg = 5 resp. 3).
MODRM_MEM_5 = b"[" + b"".join(re.escape(bytes([(mod << 6) | (5 << 3) | rm]))
                              for mod in range(3) for rm in range(8)) + b"]"
MODRM_MEM_3 = b"[" + b"".join(re.escape(bytes([(mod << 6) | (3 << 3) | rm]))
                              for mod in range(3) for rm in range(8)) + b"]"
PATTERNS = [
    re.compile(b"(?=\x0f\x01\xd4)"),
    re.compile(b"(?=\x0f\x01\xef)"),
    re.compile(b"(?=\x0f\xae" + MODRM_MEM_5 + b")"),
    re.compile(b"(?=\x0f\xc7" + MODRM_MEM_3 + b")"),
]
SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS = 0x2, 0x4, 8


def exec_sections(data):
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError("not ELF64")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    for i in range(shnum):
        off = shoff + i * shentsize
        _name, stype, flags, _addr, offset, size = struct.unpack_from("<IIQQQQ", data, off)
        if flags & SHF_ALLOC and flags & SHF_EXECINSTR and stype != SHT_NOBITS:
            yield data[offset:offset + size]


def count(path):
    data = open(path, "rb").read()
    return sum(len(p.findall(sec)) for sec in exec_sections(data) for p in PATTERNS)


def main():
    root = sys.argv[1]
    rows = []
    for d, _dirs, files in os.walk(root):
        for f in files:
            if f.endswith(".ko"):
                p = os.path.join(d, f)
                rows.append((os.path.relpath(p, root), count(p)))
    for rel, n in sorted(rows):
        print(rel, n)


if __name__ == "__main__":
    main()
