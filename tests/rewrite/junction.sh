#!/bin/sh
# An occurrence the input already forms across the end of a section (issue
# 9, section 2; gcc -O2 lua.o had one): after a final jmp, an int3 breaks it
# (int3-tail), alone or with another rewrite that moves the jmp; after a
# final call it cannot be broken, and the object is refused properly: exit
# 1, status "refused", the occurrence listed in both "findings" and
# "refused", nothing written.  Before, the first case was "copied" with the
# occurrence still there (exit 1), and with another rewrite it was an error
# (exit 2) that lost every finding.  See junction.S.
. "$top_srcdir/tests/rewrite/lib.sh"

policy() {
	_p_name=$1
	shift
	{
		echo '<?xml version="1.0"?>'
		echo "<policy xmlns=\"urn:pvsub:policy:1\" id=\"rewrite-junction-$_p_name\" version=\"1\">"
		for _p_id in "$@"; do
			case $_p_id in
			junction) echo '  <pattern id="junction" bytes="ff ff 41"/>' ;;
			planted) echo '  <pattern id="planted" bytes="6b 5a 49"/>' ;;
			esac
		done
		echo '</policy>'
	} >"$_p_name.xml"
}
policy junction junction
policy both junction planted

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

build junction
run_with junction.o expected.txt

# (a) .text ends with a jmp: int3-tail, and nothing else changes.
scan_expect junction.xml junction.o junction:spanning:-
[ "$(json_query scan.json 'd["files"][0]["findings"][0]["section"]')" = ".text|.text.startup" ] ||
	fail "the occurrence is not across .text|.text.startup"
for p in junction both; do
	echo "=== (a) $p" >&2
	expect_status 0 "$SCAN" --rewrite --policy "$p.xml" -o "$p-out.o" --format json junction.o
	cp out "$p-rewrite.json"
	cat "$p-rewrite.json" >&2
	listing "$p-out.o"
	report_has "$p-rewrite.json" \
		'f["status"] == "rewritten" and not f["refused"] and not f["findings"] and
		 any(r["rule"] == "int3-tail" and r["pattern"] == "junction" and
		     r["section"] == ".text" for r in f["rewrites"])' \
		"policy $p: no int3-tail rewrite of the junction"
	expect_status 0 "$SCAN" --policy "$p.xml" --format json "$p-out.o"
	check symbols junction.o "$p-out.o" || fail "symbols of $p-out.o"
	run_with "$p-out.o" got.txt
	same_output expected.txt got.txt
done
report_has junction-rewrite.json 'len(f["rewrites"]) == 1' "more than the int3 tail changed"
report_has both-rewrite.json 'any(r["rule"] == "imm-lea" for r in f["rewrites"])' \
	"the planted occurrence was not rewritten"

# (b) .text ends with a call, which may fall through: refused.
"$CC" -DFALLS_THROUGH -c -o falls.o "$RW/junction.S" || fail "cannot assemble junction.S"
scan_expect both.xml falls.o junction:spanning:- planted:embedded:immediate
at=$(json_query scan.json '[x["offset"] for x in d["files"][0]["findings"] if x["pattern"] == "junction"][0]')
for p in junction both; do
	echo "=== (b) $p" >&2
	refuse_ok "$p.xml" falls.o "$p-falls.o" .text
	report_has refused.json \
		"f['status'] == 'refused' and f['output'] is None and not f['rewrites'] and
		 any(x['pattern'] == 'junction' and x['section'] == '.text|.text.startup' and
		     x['offset'] == $at for x in f['findings']) and
		 any(r['pattern'] == 'junction' and r['section'] == '.text' and
		     r['offset'] == $at and 'fall through' in r['reason'] for r in f['refused'])" \
		"policy $p: the junction is not listed as found and refused"
done
report_has refused.json 'len(f["findings"]) == 2' "the findings of the refused object were lost"
