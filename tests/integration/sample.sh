#!/bin/sh
# The bundled sample guest image: every example driver is found where it is
# inside the nested archives and classified as examples/README.md says.
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed to read JSON"
img="$top_builddir/examples/sample-guest.tar.gz"
[ -f "$img" ] || fail "the sample image was not built"

expect_status 1 "$SCAN" --format json -j 2 "$img"
cp out s.json
python3 - s.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
files = {f["path"].split("!", 1)[1]: f for f in d["files"]}
def classes(name):
    return sorted((x["pattern"], x["class"], x.get("field")) for x in files[name]["findings"])
expect = {
    "./lib/modules/pvsub-sample/clean_nic.o": [],
    "./lib/modules/pvsub-sample/clean_blk.o": [],
    "./lib/modules/pvsub-sample/embedded_imm.o": [("vmfunc", "embedded", "displacement"),
                                                  ("wrpkru", "embedded", "immediate")],
    "./lib/modules/pvsub-sample/spanning.ko.xz": [("wrpkru", "spanning", None)],
    "./usr/lib/libpvsub-sample.so": [],
    "./boot/initrd.cpio.gz!lib/modules/gate_wrpkru.o": [("wrpkru", "instruction", None)],
    "./boot/initrd.cpio.gz!lib/modules/junction.o": [("vmfunc", "spanning", None)],
}
assert sorted(files) == sorted(expect), sorted(files)
for name, want in expect.items():
    got = classes(name)
    assert got == want, (name, got, want)
    assert files[name]["status"] == ("findings" if want else "clean"), name
j = files["./boot/initrd.cpio.gz!lib/modules/junction.o"]["findings"][0]
assert j["section"] == ".text|.text.unlikely", j
assert d["summary"]["files"] == 7 and d["summary"]["findings"] == 5, d["summary"]
PY
# Deterministic: the same bytes with -j 1 and -j 2.
expect_status 1 "$SCAN" --format json -j 1 "$img"
cmp -s out s.json || fail "output differs between -j 1 and -j 2"
exit 0
