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
    An instruction is changed once: a finding in one whose other occurrence
    was rewritten first has no rewrite of its own, and that one must have
    RULE (the instruction is found in the input, the report's path, with
    objdump).  Patterns not named must have no findings.  Rewrites with
    other rules may be present (code that moved).

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
    begins in IN, in OUT it still does or only NOP padding and jump islands
    (int3, jmp rel32: reached only by jumps) lie between: sizes followed
    the code.

check.py cfi IN.o OUT.o [REPORT]
    OUT's .eh_frame describes its code as IN's does IN's: as many FDEs, in
    the same order, for the same sections, each with the same rows (CFA and
    register rules, from readelf --debug-dump=frames-interp) in the same
    order; and each row of OUT lies between the same instructions as in IN
    (the function's instructions before and after, NOPs left out, aligned
    where they are the same: a rewritten one is replaced by others).  Rows
    OUT adds inside the rewritten sequences of REPORT (from --rewrite of
    IN): at an instruction after a sequence's first, or at its end where
    IN has no row there, each differing from the input row before only in
    the CFA's offset, are left out of the comparison: check.py cfa-steps
    checks them.  Without REPORT no row may be added.  An FDE of IN
    without operations has no rows in readelf's table; where OUT's has
    some, its first (at the FDE's start) must be the CIE's row.  Every row
    of OUT must lie where an instruction begins.

check.py cfa-steps IN.o OUT.o REPORT
    OUT's .eh_frame (readelf --debug-dump=frames-interp) gives the CFA
    exactly at every instruction of every rewritten sequence of REPORT
    (from --rewrite of IN) that an FDE covers: the CFA IN had at the
    original instruction, with the moves made so far applied as read back
    from OUT's bytes (objdump; as orc: pushes, pops and `lea d(%rsp), %rsp`
    move the stack, `lea d(%rbp), %rbp` moves rbp, anything else that
    writes rsp is an error).  A CFA computed from rsp gets the stack's
    move, one computed from rbp has rbp's move taken off; the other
    columns stay IN's.  After the sequence the row in force is IN's for the
    next instruction.  An instruction that writes the CFA's register in
    another way, or a CFA that is an expression while something moved, is
    an error.  Prints the sequences (and how many moved the CFA), the
    instructions checked and how many of them had the CFA moved.

check.py orc IN.o OUT.o REPORT
    OUT's ORC tables describe every rewritten sequence of REPORT (from
    --rewrite of IN).  At each instruction boundary inside a sequence, the
    entry in force (the last one at or before it, objtool's weak section
    terminators ranked first as Linux sorts them; two others at the same
    address are an error) is the entry IN had for the original instruction
    with the stack and rbp moves made so far applied, as read back from
    OUT's bytes (objdump): pushes, pops and `lea d(%rsp), %rsp` move the
    stack, `lea d(%rbp), %rbp` moves rbp; anything else that writes rsp is
    an error.  An entry computed from rsp gets the stack's move in
    sp_offset; one computed from rbp (directly or through memory) gets
    rbp's move taken off sp_offset, and a caller's rbp saved relative to rbp
    gets it taken off bp_offset; a move the entry cannot express (the stack
    under sp_reg undefined or sp_indirect, rbp under bp_reg undefined) is an
    error, and so is an entry in force after an instruction that wrote a
    register the unwinder reads under it (the frame's register; rbp when
    bp_reg is bp or undefined) and before a pop restored it.  After the
    sequence the entry in force is IN's for the next instruction, and, when
    the original falls through (no jump, call or return), the moves of the
    sequence applied to the original's entry give that entry too.  OUT's
    table starts with IN's entries, unchanged, and every entry added after
    them lies on an instruction boundary of a rewritten sequence, on a jump
    island (its target's entry), or right after a near island (the entry
    in force on the int3 in front of that island).

check.py locks IN.o OUT.o
    OUT has as many .smp_locks entries as IN, and each points at a byte
    0xf0 that starts a `lock` instruction (objdump).

check.py mangle WHAT IN.o OUT.o BAD.o
    BAD is OUT with one thing broken, for the negative controls of the
    checks above: orc-offset (sp_offset of the first ORC entry OUT added,
    plus 1), orc-ip (that entry's address, plus 1), lock (the address of
    the first .smp_locks entry, plus 1); orc-offset:K and orc-ip:K break
    the K-th entry OUT added (from 0) instead; label-target[:OFF] (the
    target of the __jump_table entry at OFF, default 0, moved from its jump
    island to where the island jumps, as a rewriter without islands would
    leave it).

check.py label-islands IN.o OUT.o KEY-SECTION
    OUT has 2-byte jump labels whose key lies in KEY-SECTION and whose
    entry's target is a jump island (jmp rel32 behind int3); each is in
    its site's rel8 reach and jumps to what IN's entry pointed at.  Prints
    one line per island, the entry's offset in __jump_table first and its
    form last: hop (behind a jmp rel8 over it, see hop_over) or int3.
"""
import difflib
import json
import os
import re
import struct
import subprocess
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
    code = None
    for x in sf.get("findings", []):
        want = rule_of.get(x["pattern"])
        if want is None:
            die("finding of pattern %s that the test does not expect" % x["pattern"], doc)
        r = done.get((x["section"], x["offset"]))
        if r is None:
            # Another occurrence of the same instruction, rewritten first?
            code = code or disassemble(rf["path"])
            insn = containing(code.get(x["section"], []), x["offset"])
            same = [d for (sec, off), d in done.items()
                    if insn and sec == x["section"] and insn[0] <= off < insn[0] + insn[1]]
            r = same[0] if len(same) == 1 and x["class"] == "embedded" else None
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
    (NOPs, int3), jump islands (jmp rel32, reached only by jumps, behind a
    hop: jmp rel8 over int3 and the island) and an int3 tail."""
    while code:
        if code[:1] == b"\xcc":
            code = code[1:]
        elif code[:1] == b"\xe9" and len(code) >= 5:
            code = code[5:]
        elif (code[:1] == b"\xeb" and len(code) >= 2 and len(code) >= 2 + code[1]
              and code[code[1] - 3:code[1] - 2] == b"\xe9" and hop_over(code, code[1] - 3, 0) == 0):
            code = code[2 + code[1]:]
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
                if end > start or not only_islands(cb[sec][end:start]):
                    die("%s: %s ends at %#x, %s starts at %#x (adjacent in %s)"
                        % (b, y[0], end, nxt[0], start, a))
            elif not later and x[4] + x[5] == za[sec]:
                end = y[4] + y[5]
                if end > zb[sec] or not only_islands(cb[sec][end:]):
                    die("%s: %s ends at %#x, %s is %#x bytes (it ended the section in %s)"
                        % (b, y[0], end, sec, zb[sec], a))


class Elf:
    """The sections, symbols and relocations of an ELF64 little-endian
    relocatable object."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = data = f.read()
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            die("%s: not an ELF64 little-endian file" % path)
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
        self.secs = []
        for i in range(shnum):
            name, typ, _, _, off, size, link, info, _, _ = struct.unpack_from(
                "<IIQQQQIIQQ", data, shoff + i * shentsize)
            self.secs.append({"name": name, "type": typ, "offset": off, "size": size,
                              "link": link, "info": info})
        strtab = self.secs[shstrndx]["offset"]
        for sec in self.secs:
            sec["name"] = self.cstr(strtab + sec["name"])
        self.syms = []
        for sec in self.secs:
            if sec["type"] == 2:  # SHT_SYMTAB
                for off in range(sec["offset"], sec["offset"] + sec["size"], 24):
                    _, _, _, shndx, value, _ = struct.unpack_from("<IBBHQQ", data, off)
                    self.syms.append((shndx, value))

    def cstr(self, off):
        return self.data[off:self.data.index(b"\0", off)].decode()

    def index(self, name):
        found = [i for i, s in enumerate(self.secs) if s["name"] == name]
        return found[0] if found else None

    def bytes_of(self, idx):
        s = self.secs[idx]
        return self.data[s["offset"]:s["offset"] + s["size"]]

    def relas(self, idx):
        """(file offset of the entry, r_offset, symbol's section, symbol's
        value + addend, type) of each relocation that applies to section
        idx."""
        out = []
        for s in self.secs:
            if s["type"] != 4 or s["info"] != idx:  # SHT_RELA
                continue
            for off in range(s["offset"], s["offset"] + s["size"], 24):
                r_offset, r_info, addend = struct.unpack_from("<QQq", self.data, off)
                shndx, value = self.syms[r_info >> 32]
                out.append((off, r_offset, shndx, value + addend, r_info & 0xffffffff))
        return out


# ORC register numbers (Linux 6.1 orc_types.h) and the general register
# each names.
ORC_UNDEFINED, ORC_PREV_SP, ORC_DX, ORC_DI, ORC_BP, ORC_SP = 0, 1, 2, 3, 4, 5
ORC_R10, ORC_R13, ORC_BP_INDIRECT, ORC_SP_INDIRECT = 6, 7, 8, 9
ORC_GPR = {ORC_DX: "rdx", ORC_DI: "rdi", ORC_BP: "rbp", ORC_BP_INDIRECT: "rbp",
           ORC_SP: "rsp", ORC_SP_INDIRECT: "rsp", ORC_R10: "r10", ORC_R13: "r13"}
R_X86_64_PC32 = 2


def orc_entries(elf):
    """[(index, section, address, entry bytes)] in table order."""
    ip, orc = elf.index(".orc_unwind_ip"), elf.index(".orc_unwind")
    if ip is None or orc is None:
        die("%s: no ORC tables" % elf.path)
    table = elf.bytes_of(orc)
    out = []
    for _, r_offset, shndx, target, typ in elf.relas(ip):
        if typ != R_X86_64_PC32 or r_offset % 4:
            die("%s: .orc_unwind_ip relocation at %#x is not an aligned PC32"
                % (elf.path, r_offset))
        k = r_offset // 4
        out.append((k, shndx, target, table[6 * k:6 * k + 6]))
    if len(out) * 6 != len(table):
        die("%s: %d ORC addresses for %d entries" % (elf.path, len(out), len(table) // 6))
    return sorted(out)


def weak(e):
    """objtool's section terminators (sp undefined, not the end): Linux
    sorts them before a real entry at the same address (orc_sort_cmp), so
    that the lookup finds the real one."""
    return e[4] & 15 == ORC_UNDEFINED and not e[5] & 4


def in_force(entries, shndx, addr, where):
    """The entry the unwinder uses at addr: the last at or before it."""
    best = [e for e in entries if e[1] == shndx and e[2] <= addr]
    if not best:
        die("%s: no ORC entry in force" % where)
    top = max(e[2] for e in best)
    at_top = [e for e in best if e[2] == top]
    real = [e for e in at_top if not weak(e[3])] or at_top
    if len(real) > 1:
        die("%s: %d ORC entries at %#x, the unwinder may use any" % (where, len(real), top))
    return real[0][3]


def show_orc(e):
    sp, bp = struct.unpack_from("<hh", e)
    return "sp:%d%+d bp:%d%+d type/end %#x" % (e[4] & 15, sp, e[4] >> 4, bp, e[5])


def orc_moved(e, dsp, dbp, where):
    """Entry e for a stack dsp bytes lower and rbp dbp bytes higher than it
    says."""
    sp_reg, bp_reg = e[4] & 15, e[4] >> 4
    sp, bp = struct.unpack_from("<hh", e)
    if dsp:
        if sp_reg == ORC_SP:
            sp += dsp
        elif sp_reg in (ORC_UNDEFINED, ORC_SP_INDIRECT):
            die("%s: the stack moved by %d where the entry cannot say so (%s)"
                % (where, dsp, show_orc(e)))
    if dbp:
        if sp_reg in (ORC_BP, ORC_BP_INDIRECT):
            sp -= dbp
        if bp_reg == ORC_BP:
            bp -= dbp
        elif bp_reg == ORC_UNDEFINED:
            die("%s: rbp moved by %d where it holds the caller's (%s)" % (where, dbp, show_orc(e)))
    if not (-32768 <= sp < 32768 and -32768 <= bp < 32768):
        die("%s: offsets out of range" % where)
    return struct.pack("<hh", sp, bp) + e[4:6]


def unwinder_reads(e):
    """The general registers the unwinder reads under entry e: the one the
    frame is found from, and rbp when the caller's is in it or saved
    relative to it."""
    regs = {ORC_GPR[e[4] & 15]} if e[4] & 15 in ORC_GPR else set()
    if e[4] >> 4 in (ORC_UNDEFINED, ORC_BP):
        regs.add("rbp")
    return regs


def disassemble(path):
    """{section name: [(address, length, text)]} from objdump -d."""
    out = subprocess.run([os.environ.get("OBJDUMP", "objdump"), "-d", "-w", path],
                         stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    code, sec = {}, None
    for line in out.splitlines():
        m = re.match(r"Disassembly of section (\S+):", line)
        if m:
            sec = code.setdefault(m.group(1), [])
            continue
        m = re.match(r"\s*([0-9a-f]+):\t([0-9a-f ]+)\t(.*)$", line)
        if m and sec is not None:
            sec.append((int(m.group(1), 16), len(m.group(2).split()), m.group(3).strip()))
    return code


GPR64 = {}
for _q, _d, _w, _b in (("rax", "eax", "ax", "al"), ("rbx", "ebx", "bx", "bl"),
                       ("rcx", "ecx", "cx", "cl"), ("rdx", "edx", "dx", "dl"),
                       ("rsi", "esi", "si", "sil"), ("rdi", "edi", "di", "dil"),
                       ("rbp", "ebp", "bp", "bpl"), ("rsp", "esp", "sp", "spl")):
    for _r in (_q, _d, _w, _b):
        GPR64["%" + _r] = _q
for _n in range(8, 16):
    for _r in ("r%d" % _n, "r%dd" % _n, "r%dw" % _n, "r%db" % _n):
        GPR64["%" + _r] = "r%d" % _n
# Mnemonics whose last operand is only read; instructions after which the
# next one does not run (or, for a call, may not: a noreturn callee).
READ_ONLY = re.compile(r"(cmp|test|bt|push|ucomis|comis)[a-z]*$")
NO_FALL_THROUGH = re.compile(r"(l?jmp|call|ret|lret|iret|sysret|ud2|int3|hlt)[a-z]*$")
PREFIXES = {"lock", "rep", "repz", "repnz", "repe", "repne", "notrack", "bnd", "cs", "ds",
            "es", "ss", "fs", "gs", "data16", "addr32"}


def mnemonic(text):
    """The mnemonic of an objdump line and its operands, prefixes left out."""
    words = text.split("#")[0].split()
    while len(words) > 1 and words[0] in PREFIXES:
        words = words[1:]
    return words[0], " ".join(words[1:])


def effect(text, where):
    """What one instruction of a sequence does to the unwinder's registers:
    (stack moved down, rbp moved up, the register it writes some other way
    or None, the register a pop restores or None)."""
    mnem, ops = mnemonic(text)
    dest = GPR64.get(ops.rsplit(",", 1)[-1].strip()) if ops else None
    m = re.match(r"(-?0x[0-9a-f]+|-?[0-9]+)?\((%r[a-z0-9]+)\),(%r[a-z0-9]+)$", ops)
    if mnem == "lea" and m and m.group(2) == m.group(3) and dest in ("rsp", "rbp"):
        d = int(m.group(1) or "0", 0)
        return (-d, 0, None, None) if dest == "rsp" else (0, d, None, None)
    if mnem in ("push", "pushq"):
        return 8, 0, None, None
    if mnem in ("pop", "popq"):
        if dest in ("rsp", "rbp"):
            die("%s: `%s` is not modelled" % (where, text))
        return -8, 0, None, dest
    if mnem in ("call", "callq"):
        return 0, 0, None, None
    if mnem in ("and", "btr") and dest == "rsp":
        # Realigning the stack (and-btr): the frame must already be found
        # from another register, so the caller judges the state by the
        # entry of the instruction after the original.
        return None, 0, None, None
    if mnem.startswith(("leave", "enter", "pushf", "popf")) or \
            (dest == "rsp" and not READ_ONLY.match(mnem)):
        die("%s: `%s` moves rsp in a way this check does not model" % (where, text))
    return 0, 0, (dest if dest and not READ_ONLY.match(mnem) else None), None


def containing(insns, addr):
    for a, n, t in insns:
        if a <= addr < a + n:
            return a, n, t
    return None


def original_insn(insns, code, r):
    """The instruction of the input that rewrite r changed: its bytes are
    r's original, and r's offset lies in it (or, for an occurrence found in
    a later round, in its new encoding)."""
    orig = bytes.fromhex(r["original"])
    here = containing(insns, r["offset"])
    if here and code[here[0]:here[0] + here[1]] == orig:
        return here
    span = max(len(orig), len(r["replacement"]) // 2)
    found = [i for i in insns if r["offset"] - span < i[0] <= r["offset"] and
             code[i[0]:i[0] + i[1]] == orig]
    return found[0] if len(found) == 1 else None


def orc(inp, outp, report):
    ein, eout = Elf(inp), Elf(outp)
    oin, oout = orc_entries(ein), orc_entries(eout)
    din, dout = disassemble(inp), disassemble(outp)
    if [e[3] for e in oout[:len(oin)]] != [e[3] for e in oin]:
        die("%s: the ORC entries of %s are not kept in front, unchanged" % (outp, inp))
    added = {(e[1], e[2]): e for e in oout[len(oin):]}
    _, rf = one_file(report)
    seen, covered = set(), set()
    for r in rf.get("rewrites", []):
        sec, new = r["section"], r["new_offset"]
        if r.get("class") == "spanning" or (sec, new) in seen:
            continue
        seen.add((sec, new))
        si, so = ein.index(sec), eout.index(sec)
        where = "%s: %s+%#x (%s, %s)" % (outp, sec, new, r["rule"], r["pattern"])
        orig = original_insn(din.get(sec, []), ein.bytes_of(si), r)
        if orig is None:
            die("%s: no instruction %s of %s holds offset %#x"
                % (where, r["original"], inp, r["offset"]))
        before = in_force(oin, si, orig[0], where)
        after = in_force(oin, si, orig[0] + orig[1], where)
        falls_through = not NO_FALL_THROUGH.match(mnemonic(orig[2])[0])
        end = new + len(r["replacement"]) // 2
        dsp = dbp = 0
        realigned = False
        clobbered = set()
        for a, n, t in dout.get(sec, []):
            if a < new or a > end:
                continue
            here = "%s at %#x" % (where, a)
            got = in_force(oout, so, a, here)
            covered.add((so, a))
            want = after if realigned else orc_moved(before, dsp, dbp, here)
            if a == end:
                # What follows is the next instruction, with its own state.
                if got != after:
                    die("%s: ORC entry %s in force after the sequence, %s had %s"
                        % (here, show_orc(got), inp, show_orc(after)))
                if falls_through and want != after:
                    die("%s: the sequence leaves the stack as %s, %s says %s after the "
                        "original" % (here, show_orc(want), inp, show_orc(after)))
                break
            if got != want:
                die("%s: ORC entry %s in force, expected %s" % (here, show_orc(got), show_orc(want)))
            if clobbered & unwinder_reads(got):
                die("%s: %s changed while the unwinder reads it (%s)"
                    % (here, ", ".join(sorted(clobbered & unwinder_reads(got))), show_orc(got)))
            down, up, wrote, restored = effect(t, here)
            if down is None:
                if "rsp" in unwinder_reads(after):
                    die("%s: rsp realigned, and the entry after the original reads it (%s)"
                        % (here, show_orc(after)))
                realigned, down = True, 0
            dsp, dbp = dsp + down, dbp + up
            clobbered.discard(restored)
            if wrote:
                clobbered.add(wrote)
    for key, e in sorted(added.items()):
        if key in covered:
            continue
        # A jump island (`jmp target` after the section's code) is in the
        # state of its target.
        code = eout.bytes_of(key[0])
        if code[key[1]:key[1] + 1] == b"\xe9":
            rel, = struct.unpack_from("<i", code, key[1] + 1)
            target = key[1] + 5 + rel
            want = in_force(oout, key[0], target, "%s: island at %#x" % (outp, key[1]))
            if e[3] != want:
                die("%s: jump island at %#x has ORC entry %s, its target %#x %s"
                    % (outp, key[1], show_orc(e[3]), target, show_orc(want)))
            continue
        # After a near island (one between two instructions, behind at
        # least one int3): the state in force in front of it again.
        isl = key[1] - 5
        if (isl >= 1 and code[isl:isl + 1] == b"\xe9" and (key[0], isl) in added
                and code[isl - 1:isl] == b"\xcc"):
            want = in_force(oout, key[0], isl - 1, "%s: after the island at %#x" % (outp, isl))
            if e[3] != want:
                die("%s: ORC entry %s after the jump island at %#x, %s in force before it"
                    % (outp, show_orc(e[3]), isl, show_orc(want)))
            continue
        die("%s: added ORC entry %s at %#x is not on an instruction boundary of a "
            "rewritten sequence" % (outp, show_orc(e[3]), key[1]))


def lock_targets(elf):
    idx = elf.index(".smp_locks")
    if idx is None:
        die("%s: no .smp_locks" % elf.path)
    return elf.relas(idx)


def locks(inp, outp):
    ein, eout = Elf(inp), Elf(outp)
    tin, tout = lock_targets(ein), lock_targets(eout)
    if len(tin) != len(tout) or not tout:
        die("%s: %d .smp_locks entries, %s has %d" % (outp, len(tout), inp, len(tin)))
    code = disassemble(outp)
    for _, r_offset, shndx, target, _ in tout:
        sec = eout.secs[shndx]["name"]
        where = "%s: .smp_locks+%#x -> %s+%#x" % (outp, r_offset, sec, target)
        data = eout.bytes_of(shndx)
        if target >= len(data) or data[target] != 0xf0:
            die("%s: not a lock prefix" % where)
        insn = [t for a, _, t in code.get(sec, []) if a == target]
        if not insn or not insn[0].startswith("lock "):
            die("%s: no `lock` instruction starts there (%s)" % (where, insn))


def mangle(what, inp, outp, bad):
    ein, eout = Elf(inp), Elf(outp)
    data = bytearray(eout.data)
    what, _, k = what.partition(":")  # WHAT:K breaks the K-th added entry
    if what in ("orc-offset", "orc-ip"):
        n = len(orc_entries(ein)) + int(k or 0)
        ip, orc_idx = eout.index(".orc_unwind_ip"), eout.index(".orc_unwind")
        rel = [r for r in eout.relas(ip) if r[1] == 4 * n]
        if not rel:
            die("%s: no ORC entry added to break" % outp)
        if what == "orc-offset":
            at = eout.secs[orc_idx]["offset"] + 6 * n
            sp, = struct.unpack_from("<h", data, at)
            struct.pack_into("<h", data, at, sp + 1)
        else:
            addend, = struct.unpack_from("<q", data, rel[0][0] + 16)
            struct.pack_into("<q", data, rel[0][0] + 16, addend + 1)
    elif what == "label-target":
        entry = int(k or "0", 0)
        isl = [x for x in label_islands(eout) if x[0] == entry]
        if not isl:
            die("%s: the jump label at __jump_table+%#x has no jump island" % (outp, entry))
        rel = [r for r in eout.relas(eout.index("__jump_table")) if r[1] == entry + 4]
        addend, = struct.unpack_from("<q", data, rel[0][0] + 16)
        struct.pack_into("<q", data, rel[0][0] + 16, addend + isl[0][5] - isl[0][4])
    elif what == "lock":
        rel = lock_targets(eout)
        addend, = struct.unpack_from("<q", data, rel[0][0] + 16)
        struct.pack_into("<q", data, rel[0][0] + 16, addend + 1)
    else:
        die("mangle: unknown %s" % what)
    with open(bad, "wb") as f:
        f.write(data)


def hop_over(code, island, lo):
    """Where the hop lies that jumps over the int3 padding in front of the
    jump island at code[island] and over the island (`jmp rel8` landing
    right after its jmp rel32), at or after lo; None when there is none."""
    h = island
    while h > lo and code[h - 1] == 0xcc:
        h -= 1
    h -= 2
    if h >= lo and h + 2 < island and code[h] == 0xeb and h + 2 + code[h + 1] == island + 5:
        return h
    return None


def label_islands(e):
    """[(entry's offset in __jump_table, key's section (None: no
    relocation), site's section, site, island, where the island jumps)] of every 2-byte jump label (the
    site holds `66 90` or `eb`) of Elf e whose entry's target is a jump
    island: `jmp rel32` behind int3."""
    jt = e.index("__jump_table")
    if jt is None:
        return []
    rel = {r[1]: r for r in e.relas(jt)}
    out = []
    for off in sorted(x for x in rel if x % 16 == 0 and x + 4 in rel):
        sec, site = rel[off][2], rel[off][3]
        tsec, dest = rel[off + 4][2], rel[off + 4][3]
        code, tcode = e.bytes_of(sec), e.bytes_of(tsec)
        if code[site:site + 2] != b"\x66\x90" and code[site:site + 1] != b"\xeb":
            continue
        if tcode[dest:dest + 1] != b"\xe9" or dest < 1 or tcode[dest - 1] != 0xcc:
            continue
        to = dest + 5 + int.from_bytes(tcode[dest + 1:dest + 5], "little", signed=True)
        out.append((off, rel[off + 8][2] if off + 8 in rel else None, sec, site, dest, to))
    return out


def label_island_list(inp, outp, key_section):
    """Print the jump islands of OUT's 2-byte jump labels whose key lies in
    KEY_SECTION, one line each (the entry's offset first); die when there is
    none, or when one is out of its site's rel8 reach or does not jump to
    where IN's entry pointed (the same bytes there, the first 4 of an
    instruction the rewrite kept)."""
    ein, eout = Elf(inp), Elf(outp)
    key = eout.index(key_section)
    got = [x for x in label_islands(eout) if key is not None and x[1] == key]
    if not got:
        die("%s: no 2-byte jump label with a key in %s goes through a jump island"
            % (outp, key_section))
    rin = {r[1]: r for r in ein.relas(ein.index("__jump_table"))}
    for off, _, sec, site, dest, to in got:
        hop = hop_over(eout.bytes_of(sec), dest, site + 2) is not None
        d = dest - (site + 2)
        if not -128 <= d <= 127:
            die("%s: jump island %#x is out of the reach of its site %#x" % (outp, dest, site))
        want = ein.bytes_of(rin[off + 4][2])[rin[off + 4][3]:rin[off + 4][3] + 4]
        have = eout.bytes_of(sec)[to:to + 4]
        if want != have:
            die("%s: jump island %#x jumps to %#x, which holds %s; the input's target held %s"
                % (outp, dest, to, have.hex(), want.hex()))
        print("%#x site %#x island %#x -> %#x %s" % (off, site, dest, to, "hop" if hop else "int3"))


def rela_entries(path, section):
    """{offset: (symbol, addend)} of the relocations in SECTION (for
    example .rela.eh_frame) of path, as readelf -rW prints them."""
    rel = {}
    out = subprocess.run(["readelf", "-rW", path], stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    cur = None
    for line in out.splitlines():
        m = re.match(r"Relocation section '([^']+)'", line)
        if m:
            cur = m.group(1)
            continue
        f = line.split()
        if cur == section and len(f) >= 5 and re.match(r"[0-9a-f]{16}$", f[0]):
            rel[int(f[0], 16)] = (f[4], int(f[6], 16) if len(f) >= 7 else 0)
    return rel


def cfi_tables(path):
    """[(section, pc_lo, pc_hi, [(loc, rules)], [its CIE's (loc, rules)])] of
    the FDEs of path."""
    rel = {off: sym for off, (sym, _) in rela_entries(path, ".rela.eh_frame").items()}
    out = subprocess.run(["readelf", "-W", "--debug-dump=frames-interp", path],
                         stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    fdes, cols, rows, cies = [], "", None, {}
    for line in out.splitlines():
        m = re.match(r"([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ FDE cie=(\S+) pc=([0-9a-f]+)\.\.([0-9a-f]+)",
                     line)
        if m:
            rows = []
            # the fifth: the CIE's rows, in force where the FDE has none
            fdes.append((rel.get(int(m.group(1), 16) + 8), int(m.group(3), 16),
                         int(m.group(4), 16), rows, cies.get(int(m.group(2), 16), [])))
            continue
        m = re.match(r"([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ CIE", line)
        if m:
            rows = cies.setdefault(int(m.group(1), 16), [])
            continue
        if line.strip().startswith("LOC"):
            cols = " ".join(line.split()[1:])
            continue
        m = re.match(r"([0-9a-f]{8,16}) (.*)$", line)
        if m and rows is not None:
            rows.append((int(m.group(1), 16), cols + " | " + " ".join(m.group(2).split())))
    return fdes


def cfi_code(insns, lo, hi):
    """(address, key) of the instructions in [lo, hi), NOPs left out; the
    key is the mnemonic and the registers the operands name, so that a
    prologue's pushes (`push %r15`, `push %r14`...) are not aligned with
    one another when code is inserted between them."""
    out = []
    for a, _, text in insns:
        m, ops = mnemonic(text)
        if lo <= a < hi and not (m.startswith("nop") or m == "xchg"):  # 66 90 too
            out.append((a, (m,) + tuple(re.findall(r"%\w+", ops))))
    return out


def seq_ranges(report):
    """{section: {(start, end)}} of the rewritten sequences of REPORT in
    the output; {} without one."""
    if report is None:
        return {}
    _, rf = one_file(report)
    out = {}
    for r in rf.get("rewrites", []):
        new = r["new_offset"]
        out.setdefault(r["section"], set()).add((new, new + len(r["replacement"]) // 2))
    return out


def row_values(x):
    """{column: value} of row x (columns | values)."""
    c, v = x.split(" | ")
    return dict(zip(c.split(), v.split()))


def same_rule_row(x, y):
    """Rows x and y give every column the same rule (a column one of them
    does not print is undefined, u)."""
    vx, vy = row_values(x), row_values(y)
    return all(vx.get(c, "u") == vy.get(c, "u") for c in set(vx) | set(vy))


def cfi_input_rows(rows_a, rows_b, lo, init, ranges):
    """The rows of rows_b that are rows_a's, in order, leaving out those
    the rewriter adds inside its sequences (ranges: {(start, end)}; check.py
    cfa-steps checks them): a row after a sequence's first instruction, or
    at its end where it is not the next input row, that differs from the
    input row before it only in the CFA's offset, or not at all (the row
    given back at a sequence's end).  An FDE without operations has no rows
    in readelf's table; given some, its first row (at lo) must be init's
    last (its CIE's).  None when rows_b holds anything else.  ranges are
    the sequences inside the FDE's range."""
    kept, i, prev = [], 0, None
    for lb, rb in rows_b:
        nxt = i < len(rows_a) and rb == rows_a[i][1]
        added = any(s < lb < e or (lb == e and not nxt) for s, e in ranges)
        if prev is None and not rows_a and lb == lo:
            if not init or not same_rule_row(rb, init[-1][1]):
                return None
            prev = rb
        elif nxt and not added:
            kept.append((lb, rb))
            i += 1
            prev = rb
        elif not added or prev is None or not cfa_offset_only(prev, rb):
            return None
    return kept if i == len(rows_a) else None


def cfa_offset_only(x, y):
    """Rows x and y (columns | values) differ at most in the CFA's offset."""
    cx, vx = x.split(" | ")
    cy, vy = y.split(" | ")
    vx, vy = vx.split(), vy.split()
    reg = re.compile(r"(r[a-z0-9]+)[+-]\d+$")
    mx, my = reg.match(vx[0]), reg.match(vy[0])
    return cx == cy and vx[1:] == vy[1:] and mx and my and mx.group(1) == my.group(1)


def cfi(inp, outp, report=None):
    a, b = cfi_tables(inp), cfi_tables(outp)
    seqs = seq_ranges(report)
    if not a:
        die("%s has no FDE" % inp)
    if len(a) != len(b):
        die("%d FDEs in %s, %d in %s" % (len(a), inp, len(b), outp))
    ca, cb = disassemble(inp), disassemble(outp)
    for k, (fa, fb) in enumerate(zip(a, b)):
        what = "FDE %d (%s+%#x)" % (k, fa[0], fa[1])
        if fa[0] != fb[0]:
            die("%s describes %s in %s" % (what, fb[0], outp))
        inside = {(x, y) for x, y in seqs.get(fb[0], set()) if fb[1] <= x and y <= fb[2]}
        rows_b = cfi_input_rows(fa[3], fb[3], fb[1], fb[4], inside)
        if rows_b is None:
            die("%s: the rows differ:\n%s\n---\n%s" % (what, fa[3], fb[3]))
        # The instructions of the function before and after, aligned where
        # they are the same (a rewritten one is replaced by others): each
        # row must fall between the same unchanged instructions.
        # A row takes effect where an instruction begins: one that falls
        # inside an instruction (an FDE left where the code was) is wrong
        # even when the next instruction is the right one.
        starts = {x for x, _, _ in cb.get(fb[0], [])}
        for lb, rb in fb[3]:
            if lb not in starts:
                die("%s: the row at %#x (%s) in %s is not where an instruction begins"
                    % (what, lb, rb, outp))
        xa = cfi_code(ca.get(fa[0], []), fa[1], fa[2])
        xb = cfi_code(cb.get(fb[0], []), fb[1], fb[2])
        sm = difflib.SequenceMatcher(None, [m for _, m in xa], [m for _, m in xb],
                                     autojunk=False)
        amap = {}
        for blk in sm.get_matching_blocks():
            for d in range(blk.size):
                amap[blk.a + d] = blk.b + d
        for (la, ra), (lb, _) in zip(fa[3], rows_b):
            i = next((n for n, (x, _) in enumerate(xa) if x >= la), len(xa))
            j = next((n for n, (x, _) in enumerate(xb) if x >= lb), len(xb))
            before = [n for n in amap if n < i]
            after = [n for n in amap if n >= i]
            if (before and amap[max(before)] >= j) or (after and amap[min(after)] < j):
                die("%s: the row at %#x (%s) is at %#x in %s, not between the "
                    "instructions it was between" % (what, la, ra, lb, outp))
        print("%s: %d rows, %d added inside sequences, at %#x..%#x now"
              % (what, len(rows_b), len(fb[3]) - len(rows_b), fb[1], fb[2]))


def cfa_in_force(tables, sec, addr, where):
    """(columns, values) of the row in force at sec+addr, or None when no
    FDE covers it."""
    for fsec, lo, hi, rows, init in tables:
        if fsec != sec or not lo <= addr < hi:
            continue
        got = [r for _, r in init[-1:]] + [r for loc, r in rows if loc <= addr]
        if not got:
            die("%s: no row of the FDE for %#x..%#x is in force" % (where, lo, hi))
        cols, vals = got[-1].split(" | ")
        return cols.split(), vals.split()
    return None


def fde_covering(tables, sec, addr):
    """The FDE (an entry of tables) whose range holds sec+addr, or None."""
    return next((t for t in tables if t[0] == sec and t[1] <= addr < t[2]), None)


def cfa_moved(row, dsp, dbp, where):
    """row with the stack dsp bytes lower and rbp dbp higher."""
    cols, vals = row
    m = re.match(r"(r[a-z0-9]+)([+-]\d+)$", vals[0])
    if not (dsp or dbp):
        return row
    if not m:
        die("%s: the CFA is %s while the sequence moved the stack or rbp" % (where, vals[0]))
    reg, off = m.group(1), int(m.group(2))
    if reg == "rsp":
        off += dsp
    elif reg == "rbp":
        off -= dbp
    return cols, ["%s%+d" % (reg, off)] + vals[1:]


def cfa_steps(inp, outp, report):
    tin, tout = cfi_tables(inp), cfi_tables(outp)
    din, dout = disassemble(inp), disassemble(outp)
    ein = Elf(inp)
    _, rf = one_file(report)
    seen = set()
    nseq = nseqmoved = ninsn = nmoved = 0
    for r in rf.get("rewrites", []):
        sec, new = r["section"], r["new_offset"]
        if r.get("class") == "spanning" or (sec, new) in seen:
            continue
        seen.add((sec, new))
        where = "%s: %s+%#x (%s, %s)" % (outp, sec, new, r["rule"], r["pattern"])
        orig = original_insn(din.get(sec, []), ein.bytes_of(ein.index(sec)), r)
        if orig is None:
            die("%s: no instruction %s of %s holds offset %#x"
                % (where, r["original"], inp, r["offset"]))
        before = cfa_in_force(tin, sec, orig[0], where)
        if before is None:
            continue
        # The row after the sequence is compared only where the input's
        # FDE goes on after the instruction: one that ends a function may
        # be followed by another function's FDE in the input and by
        # padding no FDE covers in the output.
        fde = fde_covering(tin, sec, orig[0])
        after = None
        if fde is not None and orig[0] + orig[1] < fde[2]:
            after = cfa_in_force(tin, sec, orig[0] + orig[1], where)
        end = new + len(r["replacement"]) // 2
        dsp = dbp = 0
        nseq += 1
        moved_here = False
        for a, n, t in dout.get(sec, []):
            if a < new or a > end:
                continue
            here = "%s at %#x" % (where, a)
            got = cfa_in_force(tout, sec, a, here)
            if a == end:
                if after is not None and got != after:
                    die("%s: row %s in force after the sequence, %s had %s"
                        % (here, got[1] if got else "(no FDE)", inp, after[1]))
                break
            want = cfa_moved(before, dsp, dbp, here)
            if got != want:
                die("%s (`%s` next): CFA %s in force, expected %s"
                    % (here, t, " ".join(got[1]), " ".join(want[1])))
            ninsn += 1
            nmoved += got != before
            moved_here |= got != before
            down, up, wrote, _ = effect(t, here)
            if down is None:
                die("%s: `%s` realigns the stack" % (here, t))
            cfa_reg = re.match(r"(r[a-z0-9]+)", before[1][0])
            if wrote and cfa_reg and wrote == cfa_reg.group(1) and wrote != "rsp":
                die("%s: `%s` writes %s, the CFA's register" % (here, t, wrote))
            dsp, dbp = dsp + down, dbp + up
        nseqmoved += moved_here
    print("cfa-steps: %d sequences under FDEs (%d moving the CFA), %d instructions checked, "
          "%d with the CFA moved" % (nseq, nseqmoved, ninsn, nmoved))


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
    elif cmd == "cfi":
        cfi(args[0], args[1], args[2] if len(args) > 2 else None)
    elif cmd == "cfa-steps":
        cfa_steps(args[0], args[1], args[2])
    elif cmd == "orc":
        orc(args[0], args[1], args[2])
    elif cmd == "locks":
        locks(args[0], args[1])
    elif cmd == "label-islands":
        label_island_list(args[0], args[1], args[2])
    elif cmd == "mangle":
        mangle(args[0], args[1], args[2], args[3])
    else:
        die("unknown check %s" % cmd)


if __name__ == "__main__":
    main(sys.argv)
