#!/usr/bin/env python3
"""Code growth of the rewriter on ordinary compiled C, rule by rule.

usage: rewrite-growth.py PVSUB-SCAN SRCDIR BUILDDIR [SEEDS]

Compiles the project's own libpvsub/*.c with gcc -O2 (no unwind tables, as
kernel code is built), gives each object SEEDS (default 3) stress policies
from tests/qemu/choose-patterns.py, rewrites it, and prints the growth of
the changed code in all, and how many bytes each rule added (its padding
and the longer sequences it wrote).
"""
import collections
import glob
import json
import os
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    scan, src, build = sys.argv[1:4]
    seeds = int(sys.argv[4]) if len(sys.argv) == 5 else 3
    choose = os.path.join(src, "tests", "qemu", "choose-patterns.py")
    cflags = ["-O2", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables",
              "-include", os.path.join(build, "config.h"), "-I", src, "-I", build]
    cflags += subprocess.run(["pkg-config", "--cflags", "libxml-2.0"], capture_output=True,
                             text=True).stdout.split()
    added, count = collections.Counter(), collections.Counter()
    before = after = written = refused = 0
    with tempfile.TemporaryDirectory(prefix="pvsub-growth.") as tmp:
        for c in sorted(glob.glob(os.path.join(src, "libpvsub", "*.c"))):
            obj = os.path.join(tmp, os.path.basename(c)[:-2] + ".o")
            if subprocess.run(["gcc", *cflags, "-c", c, "-o", obj]).returncode:
                continue
            for seed in range(1, seeds + 1):
                pol = obj + ".%d.xml" % seed
                if subprocess.run([sys.executable, choose, obj, "--seed", str(seed), "--scan", scan,
                                   "-o", pol], capture_output=True).returncode:
                    continue
                p = subprocess.run([scan, "--no-progress", "--rewrite", "--policy", pol, "-o",
                                    obj + ".out", "--format", "json", obj],
                                   capture_output=True, text=True)
                f = json.loads(p.stdout)["files"][0]
                if f["status"] != "rewritten":
                    refused += 1
                    continue
                written += 1
                before += f["code_before"]
                after += f["code_after"]
                for r in f["rewrites"]:
                    count[r["rule"]] += 1
                    added[r["rule"]] += r["padding"] + (len(r["replacement"]) - len(r["original"])) // 2
    print("compiled C (libpvsub/*.c, gcc -O2), %d stress policies each: %d rewritten, %d refused"
          % (seeds, written, refused))
    print("code %d -> %d bytes: growth %.1f%%" % (before, after, 100.0 * (after - before) / max(before, 1)))
    print("%-12s %6s %8s   (a jump island's own 5 bytes and padding, at the\n%28s section's end, count in the total only)" % ("rule", "sites", "bytes", ""))
    for rule, n in count.most_common():
        print("%-12s %6d %8d" % (rule, n, added[rule]))


if __name__ == "__main__":
    main()
