#!/bin/sh
# The rewriter on the whole Debian cloud kernel module tree.
#
# 1. The default policy: every module is copied byte for byte except kvm.ko,
#    refused for its two real WRPKRU instructions, each named.  Modules with
#    no occurrence are copied whatever their kernel tables hold (empty
#    alternative replacements in dm-mod, kvm-amd, hv_balloon ...), with
#    their signatures, and are reported so; their verdict is certified
#    (none has an occurrence in a relocation or mutable window), kvm.ko's
#    rejected.
# 2. Random stress policies (tests/corpus/rewrite-sweep.py): each module
#    under its own policy of 3-byte patterns that occur only in
#    displacements, immediates and across instructions; every such
#    occurrence must be removed, also those the kernel's own patching would
#    form in the rewritten code (the rewriter steers them), except one that
#    only a change taking a 2-byte jump label's target out of its rel8
#    reach could remove (a known gap, listed: see rewrite-sweep.py).
#    PVSUB_SWEEP_SEEDS (default "1 3") chooses the runs; a failure prints
#    the seed to replay it.
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || fail "python3 is needed"
corpus_kernel_deb
dpkg-deb --fsys-tarfile "$deb" | tar -x --wildcards './lib/modules/*'
tree=$(pwd)/lib/modules

expect_status 1 "$SCAN" --no-progress --rewrite -O rw --format json -j 2 "$tree"
mv out rewrite.json
python3 - rewrite.json "$tree" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
tree = sys.argv[2]
files = {f["path"]: f for f in d["files"]}
assert len(files) >= 1100, len(files)
status = {}
for p, f in files.items():
    status.setdefault(f["status"], []).append(p)
print({k: len(v) for k, v in status.items()})
assert sorted(status) == ["clean", "refused"], sorted(status)
refused = status["refused"]
assert len(refused) == 1 and refused[0].endswith("/kvm.ko"), refused
kvm = files[refused[0]]
gates = [r for r in kvm["refused"] if r["pattern"] == "wrpkru"]
assert len(gates) == 2 and len(kvm["refused"]) == 2, kvm["refused"]
assert all("gate instruction" in r["reason"] for r in gates), gates
assert sorted(r["offset"] for r in gates) == sorted(
    x["offset"] for x in kvm["findings"] if x["pattern"] == "wrpkru"), gates
assert kvm["output"] is None
assert kvm["verdict"] == "rejected", kvm["verdict"]
# Every other module: copied as it was, signature and all.
once_refused = ["dm-mod", "kvm-amd", "kvm-intel", "acpi_pad", "hv_balloon", "dm-bufio",
                "dm-writecache", "vfio_iommu_type1", "ramoops"]
seen = set()
for p in status["clean"]:
    f = files[p]
    assert f["output"] and f["module_signature_removed"] is False, (p, f["output"])
    assert f["verdict"] == "certified" and not f["findings"], (p, f["verdict"])
    assert open(p, "rb").read() == open(f["output"], "rb").read(), p
    name = os.path.basename(p)[:-3]
    if name in once_refused:
        seen.add(name)
assert seen == set(once_refused), set(once_refused) - seen
s = d["summary"]
assert sum(s["status"].values()) == s["files"] == len(files), s
assert s["status"]["refused"] == 1 and s["status"]["clean"] == len(files) - 1, s
assert s["verdict"] == {"certified": len(files) - 1, "certified-with-load-time-checks": 0,
                        "rejected": 1}, s
print("default policy: %d copied as they were, kvm.ko refused at its 2 WRPKRU" % (len(files) - 1))
PY
"$SCAN" --no-progress --rewrite -O rw2 "$tree" >text.out 2>/dev/null || true
tail -1 text.out | grep -qx "$(ls -R "$tree" | grep -c '\.ko$') files: $(($(ls -R "$tree" | grep -c '\.ko$') - 1)) clean, 0 rewritten, 1 refused, 0 errors" ||
	fail "text summary: $(tail -1 text.out)"

for seed in ${PVSUB_SWEEP_SEEDS:-1 3}; do
	echo "== stress policies, seed $seed (PVSUB_SWEEP_SEEDS=$seed replays)"
	python3 "$top_srcdir/tests/corpus/rewrite-sweep.py" "$SCAN" "$tree" "$seed" 2 ||
		fail "seed $seed: modules refused under stress policies (PVSUB_SWEEP_SEEDS=$seed replays)"
done
exit 0
