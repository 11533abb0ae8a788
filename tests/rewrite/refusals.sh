#!/bin/sh
# A refusal names every blocking site (issue 9, section 2): each occurrence
# in a section that cannot be changed is listed with the section's reason,
# besides the section's own entry; a real gate instruction is named even
# when a kernel table cannot be read.  Before, only the first blocking
# reason was listed.  See refusals.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat >policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-refusals" version="1">
  <pattern id="many" bytes="7d 6c 5b"/>
  <pattern id="wrpkru" bytes="0f 01 ef"/>
</policy>
XML

# report_has REPORT PYTHON-CONDITION MESSAGE: the condition holds with f
# bound to the report's one file.
report_has() {
	python3 - "$1" "$2" <<-'PY' || fail "$3"
	import json, sys
	f = json.load(open(sys.argv[1]))["files"][0]
	if not eval("(" + sys.argv[2] + ")"):
	    sys.stderr.write(json.dumps(f, indent=1) + "\n")
	    sys.exit(1)
	PY
}

"$CC" -c -o refusals.o "$RW/refusals.S" || fail "cannot assemble refusals.S"
"$CC" -DMODULE -c -o module.o "$RW/refusals.S" || fail "cannot assemble refusals.S -DMODULE"

# Data in .text, three occurrences: four entries.
scan_expect policy.xml refusals.o many:embedded:immediate many:embedded:immediate \
	many:embedded:immediate
offsets=$(json_query scan.json 'sorted(x["offset"] for x in d["files"][0]["findings"])')
refuse_ok policy.xml refusals.o out.o .text
report_has refused.json \
	"f['status'] == 'refused' and len(f['findings']) == 3 and len(f['refused']) == 4" \
	"not one refusal for the section and one for each occurrence"
report_has refused.json \
	"[r for r in f['refused'] if r['pattern'] is None and r['section'] == '.text' and
	  'do not decode' in r['reason']]" \
	"no refusal of .text for its data"
report_has refused.json \
	"sorted(r['offset'] for r in f['refused'] if r['pattern'] == 'many' and
	        r['section'] == '.text' and 'do not decode' in r['reason']) == $offsets" \
	"the occurrences at $offsets are not each refused with the section's reason"
# The text report has a line for each.
expect_status 1 "$SCAN" --rewrite --policy policy.xml -o out.o refusals.o
[ "$(grep -c 'refusals.o: .text+0x[0-9a-f]*: refused:' out)" -eq 4 ] ||
	fail "not four refusal lines: $(cat out)"

# A module with a table that cannot be read and a real gate instruction.
scan_expect policy.xml module.o wrpkru:instruction:-
at=$(json_query scan.json 'd["files"][0]["findings"][0]["offset"]')
refuse_ok policy.xml module.o out.o "(metadata)"
report_has refused.json \
	"f['status'] == 'refused' and
	 [r for r in f['refused'] if r['section'] == '(metadata)' and '.altinstructions' in r['reason']]
	 and [r for r in f['refused'] if r['pattern'] == 'wrpkru' and r['section'] == '.text' and
	      r['offset'] == $at]" \
	"the wrpkru at .text+$at is not named besides the table"
