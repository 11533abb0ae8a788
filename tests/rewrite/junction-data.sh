#!/bin/sh
# An occurrence across the end of a section that cannot be changed at all
# (data in code): the object is refused, and "refused" names the occurrence
# with its pattern, as it names every other occurrence of such a section
# (issue 9, section 2: a refusal names every blocking site).  See
# junction.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat >junction.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-junction-data" version="1">
  <pattern id="junction" bytes="ff ff 41"/>
</policy>
XML

"$CC" -DDATA_IN_CODE -c -o data.o "$RW/junction.S" || fail "cannot assemble junction.S"
scan_expect junction.xml data.o junction:spanning:-
at=$(json_query scan.json 'd["files"][0]["findings"][0]["offset"]')
refuse_ok junction.xml data.o out.o .text
python3 - refused.json "$at" <<'PY' || fail "the occurrence at .text|.text.startup+$at is not named in refused"
import json, sys
f = json.load(open(sys.argv[1]))["files"][0]
at = int(sys.argv[2])
assert f["status"] == "refused", f["status"]
assert any(x["pattern"] == "junction" and x["offset"] == at for x in f["findings"]), f["findings"]
ok = [r for r in f["refused"] if r["pattern"] == "junction" and r["offset"] == at and
      r["section"].split("|")[0] == ".text"]
if not ok:
    sys.stderr.write(json.dumps(f["refused"], indent=1) + "\n")
    sys.exit(1)
PY
