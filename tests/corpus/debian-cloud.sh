#!/bin/sh
# The real corpus: the current Debian cloud kernel package, scanned as the
# .deb itself (ar -> data.tar.xz -> 1,100+ signed modules and the bzImage).
# pvsub-scan must see every module and the kernel, report kvm.ko's two real
# WRPKRU instructions as class "instruction", and agree module by module with
# an independent count.
#
# The package is cached in $PVSUB_CORPUS_DIR (default: tests/corpus-cache in
# the build tree).  Without network or apt it skips, unless
# PVSUB_REQUIRE_CORPUS=1 (CI), when it fails.
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || fail "python3 is needed"
corpus_kernel_deb

expect_status 1 "$SCAN" --format json -j 2 "$deb"
mv out scan.json
dpkg-deb -x "$deb" root
python3 "$top_srcdir/tests/corpus/count-occurrences.py" root > expected.txt

python3 - scan.json expected.txt "$deb" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
deb = sys.argv[3]
expected = dict(line.rsplit(" ", 1) for line in open(sys.argv[2]).read().splitlines())
prefix = deb + "!data.tar.xz!./"
files = {}
for f in d["files"]:
    assert f["path"].startswith(prefix), f["path"]
    files[f["path"][len(prefix):]] = f
kos = {p: f for p, f in files.items() if p.endswith(".ko")}
print("modules scanned:", len(kos), "elf files:", len(files))
assert len(kos) >= 1100, len(kos)
assert sorted(kos) == sorted(expected), set(kos) ^ set(expected)
errors = [p for p, f in files.items() if f["status"] == "error"]
assert not errors, errors
mismatch = []
for p, f in kos.items():
    inside = [x for x in f["findings"] if "|" not in x.get("section", "")]
    if len(inside) != int(expected[p]):
        mismatch.append((p, len(inside), expected[p]))
assert not mismatch, mismatch[:20]
kvm = [f for p, f in kos.items() if p.endswith("/kvm.ko")]
assert len(kvm) == 1
wrpkru = [x for x in kvm[0]["findings"] if x["pattern"] == "wrpkru"]
assert len(wrpkru) == 2, wrpkru
assert all(x["class"] == "instruction" for x in wrpkru), wrpkru
# The kernel itself, inside the package: its bzImage is read, not skipped
# (issue 11; tests/corpus/bzimage-kernel.sh checks its findings).
vm = [p for p in files if p.startswith("boot/vmlinuz-") and p.endswith("!vmlinux")]
assert len(vm) == 1, sorted(files)[:5]
kern = files[vm[0]]
assert kern["verdict"] == "rejected" and kern["findings"], kern["verdict"]
# Its boot-time patch tables are all read: the three between symbols
# through the kernel's own kallsyms.
assert "boot-patching-unchecked" not in {v["kind"] for v in kern["violations"]}, kern["violations"]
assert kern["kaslr"]["windows"] > 100000 and \
    any(x["class"] == "kaslr" for x in kern["findings"]), kern["kaslr"]
print("kernel:", vm[0], len(kern["findings"]), "findings,",
      sum(x["class"] == "kaslr" for x in kern["findings"]), "of them formed by KASLR offsets")
signed = sum(1 for f in kos.values() if f.get("module_signature"))
print("signed modules:", signed)
assert signed == len(kos), "every Debian module carries an appended signature"
total = sum(int(v) for v in expected.values())
print("occurrences inside sections (independent count):", total)
print("findings:", d["summary"]["findings"], "violations:", d["summary"]["violations"])
PY
exit 0
