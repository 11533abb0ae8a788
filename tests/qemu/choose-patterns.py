#!/usr/bin/env python3
"""Choose a stress policy for the rewriter from a kernel module itself.

usage: choose-patterns.py MODULE.ko [--seed N] [--count K] [--scan PVSUB-SCAN]
                          [--min-each M] [--min-total T] [--sample S] [-o FILE]

Writes a pvsub policy (pvsub-policy(5)) with K (default 5) 3-byte patterns
taken at random from the module's executable sections, such that pvsub-scan
classifies every occurrence of each as `embedded` in a displacement or an
immediate, or as `spanning` two instructions: exactly the occurrences the
rewriter must remove by changing code, never by giving up.  A pattern with
even one occurrence in a relocation, a patch site, undecoded bytes, a real
instruction start, another field (opcode, ModRM, ...) or a junction between
sections is not taken: the point is a policy the rewriter must be able to
satisfy completely, chosen afresh each run so that it is not tuned.

Patch sites in particular can never be satisfied: the rewriter keeps every
kernel mutable window (alternatives, jump labels, ftrace and static-call
sites...) at its size and bytes (DESIGN section 5), and since pvsub has no
per-window verdict yet, a module whose output still holds an occurrence
there is refused ("inside a kernel mutable window (KIND): no per-window
verdict yet"; pvsub-scan(1), VERDICT).  The scanner classifies an
occurrence that overlaps a window even by one byte as patch-site, so
dropping every pattern with one keeps the chosen patterns out of all of
them.

Each chosen pattern has at least M (default 4) occurrences and the K of them
at least T (default 24) together.  The choice is deterministic given the
seed; without --seed a random one is drawn.  The seed goes to stderr either
way, so that a failure can be replayed.  Exit 1 when too few patterns
qualify, 2 on a usage error.
"""
import argparse
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS = 0x2, 0x4, 8
GOOD_FIELD_PARTS = {"displacement", "immediate"}
ME = "choose-patterns.py"


def die(msg, status=1):
    print("%s: %s" % (ME, msg), file=sys.stderr)
    sys.exit(status)


def exec_sections(data):
    """The bytes of every SHF_ALLOC | SHF_EXECINSTR section with contents."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a little-endian ELF64 file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    for i in range(shnum):
        off = shoff + i * shentsize
        _name, stype, flags, _addr, offset, size = struct.unpack_from("<IIQQQQ", data, off)
        if flags & SHF_ALLOC and flags & SHF_EXECINSTR and stype != SHT_NOBITS:
            if offset + size > len(data):
                raise ValueError("section %d is outside the file" % i)
            yield data[offset:offset + size]


def is_padding(w):
    # Zero fill between sections and int3/nop fill between functions: these
    # would mostly test the padding, not the code.
    return set(w) <= {0x00} or set(w) <= {0xCC, 0x90}


def window_counts(sections):
    counts = {}
    for sec in sections:
        for i in range(len(sec) - 2):
            w = sec[i:i + 3]
            counts[w] = counts.get(w, 0) + 1
    return counts


def pattern_id(w):
    return "b" + w.hex()


def policy_xml(pid, windows, comment):
    lines = ['<?xml version="1.0"?>', "<!-- %s -->" % comment,
             '<policy xmlns="urn:pvsub:policy:1" id="%s" version="1" on-instruction="reject">' % pid]
    for w in windows:
        lines.append('  <pattern id="%s" bytes="%s"/>' % (pattern_id(w), " ".join("%02x" % b for b in w)))
    lines.append("</policy>")
    return "\n".join(lines) + "\n"


def qualifies(f):
    """True for a finding the rewriter must fix by changing code.  Every other
    class is left out: relocation windows and patch sites (see above) are not
    the rewriter's to change, real instructions and undecoded bytes it
    refuses."""
    sec = f.get("section") or ""
    if "|" in sec or "(padding)" in sec or f.get("pad") is not None:
        return False  # a junction between sections, not code of one section
    if f.get("class") == "spanning":
        return True
    if f.get("class") == "embedded":
        parts = set((f.get("field") or "").split("+"))
        return bool(parts) and parts <= GOOD_FIELD_PARTS
    return False


def scan(scanner, policy_text, module):
    with tempfile.NamedTemporaryFile("w", suffix=".xml", prefix="pvsub-choose.", delete=False) as t:
        t.write(policy_text)
        tmp = t.name
    try:
        p = subprocess.run([scanner, "--no-progress", "--format", "json", "--policy", tmp, module],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    finally:
        os.unlink(tmp)
    if p.returncode not in (0, 1):
        die("%s exited %d: %s" % (scanner, p.returncode, p.stderr.decode(errors="replace").strip()))
    doc = json.loads(p.stdout)
    files = doc.get("files") or []
    if len(files) != 1 or files[0].get("error"):
        die("%s: unexpected scan result: %s" % (module, files[0].get("error") if files else "no file"))
    return files[0].get("findings") or []


def main():
    ap = argparse.ArgumentParser(prog=ME, description="Choose a stress policy from a module.")
    ap.add_argument("module")
    ap.add_argument("--seed", type=int, help="random seed (default: a random one)")
    ap.add_argument("--count", type=int, default=5, help="number of patterns (default 5)")
    ap.add_argument("--scan", default="pvsub-scan", help="the pvsub-scan to classify with")
    ap.add_argument("--min-each", type=int, default=4, help="least occurrences per pattern (default 4)")
    ap.add_argument("--min-total", type=int, default=24, help="least occurrences in all (default 24)")
    ap.add_argument("--sample", type=int, default=400, help="candidates classified (default 400)")
    ap.add_argument("-o", "--output", help="write the policy here instead of stdout")
    a = ap.parse_args()
    if a.count < 1 or a.min_each < 1 or a.sample < a.count:
        die("bad --count, --min-each or --sample", 2)

    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1 << 32)
    name = os.path.basename(a.module)
    print("%s: %s: seed %d" % (ME, name, seed), file=sys.stderr)
    rng = random.Random(seed)

    try:
        with open(a.module, "rb") as fh:
            data = fh.read()
        counts = window_counts(exec_sections(data))
    except (OSError, ValueError, struct.error) as e:
        die("%s: %s" % (a.module, e), 2)

    # Only windows frequent enough in the raw bytes can reach --min-each; the
    # scan can only add to the count (junctions), and those disqualify.
    # Sorted, so that the sample depends on the seed alone.
    pool = sorted(w for w, n in counts.items() if n >= a.min_each and not is_padding(w))
    if len(pool) < a.count:
        die("%s: only %d distinct 3-byte windows occur %d times or more" % (name, len(pool), a.min_each))
    cands = rng.sample(pool, min(a.sample, len(pool)))

    findings = scan(a.scan, policy_xml("choose-candidates", cands, "candidates"), a.module)
    by_id = {pattern_id(w): [] for w in cands}
    for f in findings:
        if f.get("pattern") in by_id:
            by_id[f["pattern"]].append(f)
    good = [w for w in cands
            if len(by_id[pattern_id(w)]) >= a.min_each and all(qualifies(f) for f in by_id[pattern_id(w)])]
    good.sort()
    if len(good) < a.count:
        die("%s: %d of %d sampled patterns qualify, %d needed (seed %d)"
            % (name, len(good), len(cands), a.count, seed))

    # Most qualifying patterns are spanning ones; make sure the embedded
    # rules are stressed too by drawing up to half of the patterns among
    # those with occurrences in a displacement or an immediate.
    embedded = [w for w in good if any(f["class"] == "embedded" for f in by_id[pattern_id(w)])]
    n_embedded = min(len(embedded), max(1, a.count // 2))

    # Draw K; if together they are too few, draw again (deterministically).
    for _attempt in range(200):
        chosen = rng.sample(embedded, n_embedded)
        chosen += rng.sample([w for w in good if w not in chosen], a.count - n_embedded)
        chosen.sort()
        total = sum(len(by_id[pattern_id(w)]) for w in chosen)
        if total >= a.min_total:
            break
    else:
        die("%s: no %d of the %d qualifying patterns reach %d occurrences (seed %d)"
            % (name, a.count, len(good), a.min_total, seed))

    for w in chosen:
        fs = by_id[pattern_id(w)]
        kinds = {}
        for f in fs:
            k = f["class"] if f["class"] == "spanning" else f["field"]
            kinds[k] = kinds.get(k, 0) + 1
        print("%s: %s: %s  %3d  %s" % (ME, name, w.hex(" "), len(fs),
                                       ", ".join("%s %d" % kv for kv in sorted(kinds.items()))),
              file=sys.stderr)
    print("%s: %s: %d patterns, %d occurrences (%d of %d candidates qualified)"
          % (ME, name, len(chosen), total, len(good), len(cands)), file=sys.stderr)

    stem = name.split(".")[0].replace("_", "-")
    text = policy_xml("stress-%s-%d" % (stem, seed), chosen,
                      "chosen by %s from %s, seed %d: %d occurrences" % (ME, name, seed, total))
    if a.output:
        with open(a.output, "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
