#!/usr/bin/env python3
"""cfa-strip.py OUT.o REPORT BAD.o: BAD is OUT with the CFA rows the
rewriter added inside its sequences taken out, for the negative controls
of cfa-steps.sh: every DW_CFA_def_cfa_offset(_sf) whose location lies
strictly inside a rewritten sequence of REPORT (from --rewrite) becomes
DW_CFA_nop, its operand too.  The rows at the sequences' ends, which give
the input's row back, stay: what is left is .eh_frame as a rewriter that
adds no rows inside sequences writes it.  Prints how many it took out;
exits 1 when there were none (the control would prove nothing)."""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check  # noqa: E402  (tests/rewrite/check.py)


def sections(d):
    shoff, = struct.unpack_from("<Q", d, 0x28)
    n, stri = struct.unpack_from("<HH", d, 0x3c)
    sh = [struct.unpack_from("<IIQQQQ", d, shoff + 64 * i) for i in range(n)]
    base = sh[stri][4]
    return {bytes(d[base + s[0]:d.index(b"\0", base + s[0])]): s for s in sh}


def uleb(d, at):
    v = shift = 0
    while True:
        b = d[at]
        at += 1
        v |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return v, at


def operands(d, at, op):
    """Where the operands of CFA operation op at d[at:] end."""
    if op >= 0x80 and op < 0xc0:
        return uleb(d, at)[1]
    if op >= 0xc0 or op in (0x00, 0x0a, 0x0b):
        return at
    if op in (0x06, 0x07, 0x08, 0x0d, 0x0e, 0x13, 0x2e):
        return uleb(d, at)[1]
    if op in (0x05, 0x09, 0x0c, 0x11, 0x12, 0x14, 0x15, 0x2f):
        return uleb(d, uleb(d, at)[1])[1]
    if op in (0x0f, 0x10, 0x16):
        if op != 0x0f:
            at = uleb(d, at)[1]
        n, at = uleb(d, at)
        return at + n
    sys.exit("cfa-strip: CFA operation %#x" % op)


def main(outp, report, bad):
    d = bytearray(open(outp, "rb").read())
    eh = sections(d)[b".eh_frame"]
    base, size = eh[4], eh[5]
    # pc_begin of each FDE: the addend of its relocation (section symbols).
    addend = check.rela_entries(outp, ".rela.eh_frame")
    f = json.load(open(report))["files"][0]
    seqs = [(r["section"], r["new_offset"], r["new_offset"] + len(r["replacement"]) // 2)
            for r in f.get("rewrites", []) if r.get("class") != "spanning"]
    taken = 0
    off = 0
    while off < size:
        length, = struct.unpack_from("<I", d, base + off)
        if length == 0:
            break
        cid, = struct.unpack_from("<I", d, base + off + 4)
        end = off + 4 + length
        if cid != 0 and off + 8 in addend:
            sec, loc = addend[off + 8]
            # pc_begin, pc_range, augmentation data (zR: its length, none)
            alen, at = uleb(d, base + off + 16)
            at += alen
            while at < base + end:
                op = d[at]
                nxt = at + 1
                if (op & 0xc0) == 0x40:
                    loc += op & 0x3f
                elif 0x02 <= op <= 0x04:
                    w = {2: 1, 3: 2, 4: 4}[op]
                    loc += int.from_bytes(d[nxt:nxt + w], "little")
                    nxt += w
                else:
                    nxt = operands(d, nxt, op)
                    inside = any(s == sec and lo < loc < hi for s, lo, hi in seqs)
                    if op in (0x0e, 0x13) and inside:
                        d[at:nxt] = bytes(nxt - at)
                        taken += 1
                at = nxt
        off = end
    open(bad, "wb").write(d)
    print(taken)
    sys.exit(0 if taken else 1)


if __name__ == "__main__":
    main(*sys.argv[1:4])
