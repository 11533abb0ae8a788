#!/usr/bin/env python3
"""Assertions on pvsub-scan JSON reports for the rewriter tests.

check.py findings REPORT PATTERN:CLASS:FIELD...
    The report's one file has exactly these findings (a multiset; FIELD - for
    none).  Keeps every fixture honest: if it stops holding the situation its
    rule is for, the test fails here instead of passing vacuously.

check.py rewrites SCAN REPORT PATTERN=RULE...
    REPORT (from --rewrite) says the file was rewritten, and every finding of
    SCAN (the scan of the input) with pattern PATTERN has a rewrite at its
    section and offset with rule RULE (RULE may list alternatives: a|b).
    Patterns not named must have no findings.  Rewrites with other rules may
    be present (code that moved).

check.py refused REPORT [SECTION]
    REPORT says the file was not rewritten and has a refusal with a reason
    (for SECTION, if given).

check.py manifest MANIFEST RULE...
    The manifest lists a rewrite with each RULE (or one of its a|b
    alternatives).

check.py same-section A.o B.o SECTION
    SECTION has the same bytes in A and B.

check.py symbols IN.o OUT.o
    OUT has the same symbols as IN, in the same sections and order, and
    where a function ended exactly where the next symbol (or its section)
    begins in IN, in OUT it still does or only NOP padding lies between:
    sizes followed the code.
"""
import json
import struct
import sys
import xml.etree.ElementTree as ET


def die(msg, doc=None):
    sys.stderr.write("check.py: %s\n" % msg)
    if doc is not None:
        sys.stderr.write(json.dumps(doc, indent=1) + "\n")
    sys.exit(1)


def one_file(path):
    with open(path) as f:
        doc = json.load(f)
    files = doc.get("files", [])
    if len(files) != 1:
        die("%s: %d files in the report, expected 1" % (path, len(files)), doc)
    return doc, files[0]


def findings(report, expected):
    doc, f = one_file(report)
    got = sorted("%s:%s:%s" % (x["pattern"], x["class"], x["field"] or "-")
                 for x in f.get("findings", []))
    if got != sorted(expected):
        die("findings %s, expected %s" % (got, sorted(expected)), doc)


def rewrites(scan, report, mapping):
    rule_of = dict(m.split("=", 1) for m in mapping)
    _, sf = one_file(scan)
    doc, rf = one_file(report)
    if rf.get("status") != "rewritten":
        die("status %r, expected 'rewritten'" % rf.get("status"), doc)
    done = {(r.get("section"), r.get("offset")): r for r in rf.get("rewrites", [])}
    for x in sf.get("findings", []):
        want = rule_of.get(x["pattern"])
        if want is None:
            die("finding of pattern %s that the test does not expect" % x["pattern"], doc)
        r = done.get((x["section"], x["offset"]))
        if r is None:
            die("no rewrite at %s+%#x (pattern %s)" % (x["section"], x["offset"], x["pattern"]),
                doc)
        if r.get("rule") not in want.split("|"):
            die("rewrite at %s+%#x (pattern %s) has rule %r, expected %r"
                % (x["section"], x["offset"], x["pattern"], r.get("rule"), want), doc)
        if r.get("class") != x["class"]:
            die("rewrite at %s+%#x has class %r, the scan said %r"
                % (x["section"], x["offset"], r.get("class"), x["class"]), doc)
    if rf.get("refused"):
        die("sites refused", doc)


def refused(report, section):
    doc, rf = one_file(report)
    if rf.get("status") == "rewritten":
        die("status 'rewritten' for a file that must be refused", doc)
    reasons = rf.get("refused") or []
    if not any((section is None or r.get("section") == section) and r.get("reason")
               for r in reasons):
        die("no refusal with a reason%s" % (" for section " + section if section else ""), doc)


def manifest(path, wanted):
    root = ET.parse(path).getroot()
    have = {e.get("rule") for e in root.iter() if e.tag.endswith("}rewrite") or e.tag == "rewrite"}
    missing = [w for w in wanted if not have.intersection(w.split("|"))]
    if missing:
        die("%s: no rewrite with rule %s" % (path, ", ".join(missing)))


def elf_sections(path):
    """{name: bytes} of the sections of an ELF64 little-endian file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        die("%s: not an ELF64 little-endian file" % path)
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    shstr = secs[shstrndx][4]
    out = {}
    for s in secs:
        name = data[shstr + s[0]:data.index(b"\0", shstr + s[0])].decode()
        out[name] = b"" if s[1] == 8 else data[s[4]:s[4] + s[5]]  # SHT_NOBITS
    return out


def same_section(a, b, name):
    sa, sb = elf_sections(a), elf_sections(b)
    if name not in sa or name not in sb:
        die("no section %s in %s or %s" % (name, a, b))
    if sa[name] != sb[name]:
        die("%s differs: %s in %s, %s in %s" % (name, sa[name].hex(), a, sb[name].hex(), b))


def elf_symbols(path):
    """(name, type, bind, section name, value, size) of every named symbol,
    and {section name: size}, of an ELF64 little-endian file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        die("%s: not an ELF64 little-endian file" % path)
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]

    def cstr(off):
        return data[off:data.index(b"\0", off)].decode()

    shstr = secs[shstrndx][4]
    names = [cstr(shstr + s[0]) for s in secs]
    sizes = {names[i]: s[5] for i, s in enumerate(secs)}
    syms = []
    for s in secs:
        if s[1] != 2:  # SHT_SYMTAB
            continue
        strtab = secs[s[6]][4]
        for off in range(s[4] + 24, s[4] + s[5], 24):
            st_name, info, _, shndx, value, size = struct.unpack_from("<IBBHQQ", data, off)
            if st_name == 0 or shndx == 0 or shndx >= 0xff00:
                continue
            syms.append((cstr(strtab + st_name), info & 15, info >> 4, names[shndx], value, size))
    return syms, sizes


# The NOPs a rewriter pads with (Intel's recommended forms); any number of
# extra 66 prefixes before the longer ones.
NOPS = [bytes.fromhex(h) for h in (
    "90", "6690", "0f1f00", "0f1f4000", "0f1f440000", "660f1f440000", "0f1f8000000000",
    "0f1f840000000000", "660f1f840000000000", "2e0f1f840000000000", "cc")]


def only_islands(code):
    """What the rewriter may put after a section's last function: padding
    (NOPs, int3), jump islands (jmp rel32, reached only by jumps) and an
    int3 tail."""
    while code:
        if code[:1] == b"\xcc":
            code = code[1:]
        elif code[:1] == b"\xe9" and len(code) >= 5:
            code = code[5:]
        else:
            return only_padding(code)
    return True


def only_padding(code):
    """code is a run of NOPs (or int3, which nothing can fall into)."""
    while code:
        while code[:1] == b"\x66" and len(code) > 1:
            if any(code[1:].startswith(n) for n in NOPS if n[:1] in (b"\x66", b"\x2e", b"\x0f")):
                code = code[1:]
            else:
                break
        for n in sorted(NOPS, key=len, reverse=True):
            if code.startswith(n):
                code = code[len(n):]
                break
        else:
            return False
    return True


def symbols(a, b):
    sa, za = elf_symbols(a)
    sb, zb = elf_symbols(b)
    cb = elf_sections(b)
    if [s[:4] for s in sa] != [s[:4] for s in sb]:
        die("symbols differ: %s has %s, %s has %s" % (a, [s[:4] for s in sa], b, [s[:4] for s in sb]))
    for sec in sorted({s[3] for s in sa}):
        ia = sorted((s for s in sa if s[3] == sec), key=lambda s: (s[4], s[0]))
        ib = sorted((s for s in sb if s[3] == sec), key=lambda s: (s[4], s[0]))
        if [s[0] for s in ia] != [s[0] for s in ib]:
            die("symbols of %s in another order: %s, then %s"
                % (sec, [s[0] for s in ia], [s[0] for s in ib]))
        for k, (x, y) in enumerate(zip(ia, ib)):
            if x[1] != 2 or x[5] == 0:  # only sized STT_FUNC
                continue
            later = [n for n in range(k + 1, len(ia)) if ia[n][4] >= x[4] + x[5]]
            if later and ia[later[0]][4] == x[4] + x[5]:
                nxt = ib[later[0]]
                end, start = y[4] + y[5], nxt[4]
                if end > start or not only_padding(cb[sec][end:start]):
                    die("%s: %s ends at %#x, %s starts at %#x (adjacent in %s)"
                        % (b, y[0], end, nxt[0], start, a))
            elif not later and x[4] + x[5] == za[sec]:
                end = y[4] + y[5]
                if end > zb[sec] or not only_islands(cb[sec][end:]):
                    die("%s: %s ends at %#x, %s is %#x bytes (it ended the section in %s)"
                        % (b, y[0], end, sec, zb[sec], a))


def main(argv):
    if len(argv) < 3:
        die("usage: see the comment at the top")
    cmd, args = argv[1], argv[2:]
    if cmd == "findings":
        findings(args[0], args[1:])
    elif cmd == "rewrites":
        rewrites(args[0], args[1], args[2:])
    elif cmd == "refused":
        refused(args[0], args[1] if len(args) > 1 else None)
    elif cmd == "manifest":
        manifest(args[0], args[1:])
    elif cmd == "same-section":
        same_section(args[0], args[1], args[2])
    elif cmd == "symbols":
        symbols(args[0], args[1])
    else:
        die("unknown check %s" % cmd)


if __name__ == "__main__":
    main(sys.argv)
