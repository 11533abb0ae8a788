#!/bin/sh
# The summaries of --rewrite (issue 9, section 2): every file is in exactly
# one of clean, rewritten, refused and error, in the text line and in the
# JSON summary's "status" object; a file refused with no finding at all is
# refused, not counted as a plain scan counts it; each status agrees with
# the file's verdict.  See summary.S.
. "$top_srcdir/tests/rewrite/lib.sh"

cat >policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-summary" version="1">
  <pattern id="planted" bytes="3a 2b 1c"/>
</policy>
XML

mkdir in more
for v in CLEAN REWRITE NOBITS DATA; do
	name=$(echo "$v" | tr '[:upper:]' '[:lower:]')
	"$CC" -D"$v" -c -o "$name.o" "$RW/summary.S" || fail "cannot assemble summary.S -D$v"
done
cp clean.o rewrite.o nobits.o in/
# An ELF header and nothing after it: an input error.
head -c 64 clean.o >in/corrupt.o

# The fixtures are what they claim: nobits.o has a violation and no finding.
expect_status 1 "$SCAN" --policy policy.xml --format json nobits.o
[ "$(json_query out 'len(d["files"][0]["findings"]), len(d["files"][0]["violations"])')" = "0 1" ] ||
	fail "nobits.o is not one violation without findings: $(cat out)"

# status_counts REPORT: the JSON summary's "status" object, checked to
# count every file once.
status_counts() {
	python3 - "$1" <<-'PY' || fail "the JSON summary does not count every file once: $(cat "$1")"
	import json, sys
	d = json.load(open(sys.argv[1]))
	s = d["summary"]
	st = s["status"]
	assert sum(st.values()) == s["files"] == len(d["files"]), st
	want = {"clean": ("certified", "certified-with-load-time-checks"),
	        "rewritten": ("certified", "certified-with-load-time-checks"),
	        "refused": ("rejected",), "error": (None,)}
	for f in d["files"]:
	    assert f["status"] in st, f["status"]
	    assert f["verdict"] in want[f["status"]], (f["path"], f["status"], f["verdict"])
	print(" ".join("%s=%d" % (k, st[k]) for k in sorted(st)))
	PY
}

# One of each.
expect_status 2 "$SCAN" --rewrite --policy policy.xml -O dest in
cat out err >&2
[ "$(tail -n 1 out)" = "4 files: 1 clean, 1 rewritten, 1 refused, 1 error" ] ||
	fail "text summary: $(tail -n 1 out)"
grep -qE 'files? scanned:' out && fail "a --rewrite summary speaks as a plain scan does"
[ -e dest/in/clean.o ] && [ -e dest/in/rewrite.o ] || fail "the clean and rewritten files were not written"
[ ! -e dest/in/nobits.o ] && [ ! -e dest/in/corrupt.o ] || fail "a refused or broken file was written"
rm -rf dest
expect_status 2 "$SCAN" --rewrite --policy policy.xml -O dest --format json in
cp out one-each.json
[ "$(status_counts one-each.json)" = "clean=1 error=1 findings=0 not-scanned=0 refused=1 rewritten=1" ] ||
	fail "JSON status counts: $(status_counts one-each.json)"
[ "$(json_query one-each.json 'sorted((f["path"], f["status"]) for f in d["files"])')" = \
	"[('in/clean.o', 'clean'), ('in/corrupt.o', 'error'), ('in/nobits.o', 'refused'), ('in/rewrite.o', 'rewritten')]" ] ||
	fail "file statuses: $(json_query one-each.json '[(f["path"], f["status"]) for f in d["files"]]')"

# Refused with and without findings: both refused, exit 1.
cp nobits.o data.o more/
expect_status 1 "$SCAN" --rewrite --policy policy.xml -O out2 more
cat out >&2
[ "$(tail -n 1 out)" = "2 files: 0 clean, 0 rewritten, 2 refused, 0 errors" ] ||
	fail "text summary: $(tail -n 1 out)"
expect_status 1 "$SCAN" --rewrite --policy policy.xml -O out3 --format json more
cp out refused.json
[ "$(status_counts refused.json)" = "clean=0 error=0 findings=0 not-scanned=0 refused=2 rewritten=0" ] ||
	fail "JSON status counts: $(status_counts refused.json)"
[ ! -e out2 ] && [ ! -e out3 ] || fail "refused files were written"

# A single refused file with no finding: "1 file", refused.
expect_status 1 "$SCAN" --rewrite --policy policy.xml -o nobits-out.o nobits.o
[ "$(tail -n 1 out)" = "1 file: 0 clean, 0 rewritten, 1 refused, 0 errors" ] ||
	fail "text summary: $(tail -n 1 out)"
