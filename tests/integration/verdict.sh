#!/bin/sh
# One verdict per file, and every output of pvsub-scan says the same
# (issue 10): for one object per finding class, a layout violation and a
# clean object, a plain scan (text, JSON, JUnit, manifest) and --rewrite -o
# with --manifest (text, JSON, JUnit, manifest, the output's own rescan) must
# all agree with the expected verdict: exit status, text summary, JSON
# "verdict" and "status", JUnit failures, <verdict result=...>.  A checker
# fed doctored outputs must notice (the negative control).
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed to read JSON and XML"

FUNC='	.text
	.globl f
	.type f,@function
f:
'
MODINFO='	.section .modinfo,"a"
	.asciz "license=GPL"
'
# NAME, what --rewrite does with it, the verdict of the scan, the verdict
# after --rewrite (the output's, or rejected when refused).
printf '%s\tret\n' "$FUNC" | asm clean
printf '%s\t.byte 0x0f,0x01,0xd4\n\tret\n' "$FUNC" | asm instruction
printf '%s\tmov $0xd4010f, %%eax\n\tret\n' "$FUNC" | asm embedded
printf '%s\tmov $0x0f000000, %%eax\n\tadd %%edx, %%esp\n\tret\n' "$FUNC" | asm spanning
# The issue's reproduction: the only occurrence is formed by a relocation.
printf '%s\t.reloc .+2, R_X86_64_8, g\n\t.byte 0x0f,0x01,0xd4\n\tret\n' "$FUNC" | asm relocation
# Both: the embedded one is rewritten, the relocation window (over an
# immediate, so the code around it can move) stays.
printf '%s\tmov $0xd4010f, %%ecx\n\t.reloc .+1, R_X86_64_32, g\n\tmov $0xd4010f, %%eax\n\tret\n' \
	"$FUNC" | asm embedded-relocation
# A module whose alternative's original instruction holds the occurrence:
# the kernel may leave those bytes as they are, and pvsub cannot judge the
# window yet.
printf '%s%s\tnop\n661:\tmov $0xd4010f, %%eax\n662:\tret\n%s\n%s\n%s\n%s\n' "$MODINFO" "$FUNC" \
	'	.section .altinstr_replacement,"ax"' '663:	xor %eax, %eax
664:' '	.section .altinstructions,"a"' '	.long 661b - ., 663b - .
	.word 42
	.byte 662b-661b, 664b-663b' | asm patch-site
printf '%s\t.byte 0xff,0xff\n\t.byte 0x0f,0x01,0xd4\n\tret\n' "$FUNC" | asm undecoded
printf '%s\tret\n\t.section .wx,"awx",@progbits\n\tret\n' "$FUNC" | asm violation

CASES='clean copied certified certified
instruction refused rejected rejected
embedded rewritten rejected certified
spanning rewritten rejected certified
relocation copied certified-with-load-time-checks certified-with-load-time-checks
embedded-relocation rewritten rejected certified-with-load-time-checks
patch-site refused rejected rejected
undecoded refused rejected rejected
violation refused rejected rejected'

# agree.py MODE VERDICT REWRITE EXIT TEXT JSON JUNIT MANIFEST: do the exit
# status and every output of one run over one file say VERDICT?  Prints
# each disagreement; exit 1 if there is any.
cat >agree.py <<'PY'
import json, sys
import xml.etree.ElementTree as ET

mode, verdict, rewrite, code, text, js, junit, manifest = sys.argv[1:]
certifies = verdict in ("certified", "certified-with-load-time-checks")
load_time = verdict == "certified-with-load-time-checks"
bad = []

def expect(what, got, want):
    if got != want:
        bad.append("%s: %r, expected %r" % (what, got, want))

expect("exit status", int(code), 0 if certifies else 1)

summary = open(text).read().splitlines()[-1]
if mode == "scan":
    want = "1 file scanned: %d clean%s, %d rejected, 0 errors; " % (
        certifies, " (1 with load-time checks)" if load_time else "", not certifies)
    expect("text summary", summary[:len(want)], want)
    status = "clean" if certifies else "findings"
else:
    status = "refused" if not certifies else "rewritten" if rewrite == "rewritten" else "clean"
    want = "1 file: %d clean, %d rewritten, %d refused, 0 errors%s" % (
        status == "clean", status == "rewritten", status == "refused",
        "; 1 with load-time checks" if load_time else "")
    expect("text summary", summary, want)
if load_time:
    expect("text: load-time line", any("certified with load-time checks" in l
                                       for l in open(text)), True)

d = json.load(open(js))
f = d["files"][0]
expect("JSON verdict", f["verdict"], verdict)
expect("JSON status", f["status"], status)
expect("JSON summary.verdict", d["summary"]["verdict"][verdict], 1)
expect("JSON summary.clean", d["summary"]["clean"], int(certifies))
expect("JSON summary.load_time", d["summary"]["load_time"], int(load_time))

suite = ET.parse(junit).getroot().find("testsuite")
expect("JUnit failures", suite.get("failures"), "0" if certifies else "1")
expect("JUnit errors", suite.get("errors"), "0")
expect("JUnit <failure>", suite.find("testcase").find("failure") is not None, not certifies)

ns = {"m": "urn:pvsub:manifest:1"}
v = ET.parse(manifest).getroot().find("m:verdict", ns)
expect("manifest verdict", v.get("result") if v is not None else None, verdict)

for b in bad:
    print("disagreement: " + b)
sys.exit(1 if bad else 0)
PY

# run_all NAME MODE VERDICT REWRITE: one run of MODE over NAME.o in every
# format, the outputs in NAME.MODE.*; then agree.py on them.
run_all() {
	name=$1 mode=$2 verdict=$3 rewrite=$4
	want=1
	case $verdict in certified*) want=0 ;; esac
	if [ "$mode" = scan ]; then
		set -- "$SCAN" --no-progress
	else
		set -- "$SCAN" --no-progress --rewrite -o "$name.out.o"
	fi
	expect_status $want "$@" "$name.o"
	cp out "$name.$mode.txt"
	expect_status $want "$@" --format json --junit "$name.$mode.junit" \
		--manifest "$name.$mode.xml" "$name.o"
	cp out "$name.$mode.json"
	python3 agree.py "$mode" "$verdict" "$rewrite" $want "$name.$mode.txt" "$name.$mode.json" \
		"$name.$mode.junit" "$name.$mode.xml" ||
		fail "$name ($mode): the outputs disagree with '$verdict'"
}

echo "$CASES" | while read -r name rewrite scan_verdict rewrite_verdict; do
	echo "== $name: scan $scan_verdict, --rewrite ($rewrite) $rewrite_verdict"
	run_all "$name" scan "$scan_verdict" "$rewrite"
	rm -f "$name.out.o"
	run_all "$name" rewrite "$rewrite_verdict" "$rewrite"
	# An output exactly when the verdict certifies; it rescans to the
	# same verdict.
	case $rewrite_verdict in
	rejected)
		[ ! -e "$name.out.o" ] || fail "$name: refused, yet $name.out.o was written"
		;;
	*)
		[ -f "$name.out.o" ] || fail "$name: certified, yet no output"
		"$SCAN" --no-progress --format json "$name.out.o" >rescan.json || true
		[ "$(json_query rescan.json 'd["files"][0]["verdict"]')" = "$rewrite_verdict" ] ||
			fail "$name: the output rescans as $(json_query rescan.json 'd["files"][0]["verdict"]')"
		;;
	esac
	if [ "$rewrite" = copied ] && [ "$rewrite_verdict" != rejected ]; then
		cmp "$name.o" "$name.out.o" || fail "$name: nothing to change, yet not copied as it was"
	fi
done

# The patch-site refusal names its site and why.
json_query patch-site.rewrite.json 'd["files"][0]["refused"]' >refused.txt
[ "$(json_query patch-site.rewrite.json 'len(d["files"][0]["refused"])')" = 1 ] ||
	fail "patch-site refusals: $(cat refused.txt)"
[ "$(json_query patch-site.rewrite.json \
	'"%(section)s %(offset)d %(pattern)s %(reason)s" % d["files"][0]["refused"][0]')" = \
	".text 2 vmfunc inside a kernel mutable window (alternative): the kernel writes those bytes" ] ||
	fail "patch-site refusal: $(cat refused.txt)"
grep -q '^patch-site.o: .text+0x2: refused: inside a kernel mutable window (alternative): the kernel writes those bytes$' \
	patch-site.rewrite.txt || fail "text report of the patch-site refusal: $(cat patch-site.rewrite.txt)"

# All of them in one run: the counts add up, each file keeps its verdict.
names=$(echo "$CASES" | cut -d' ' -f1)
# shellcheck disable=SC2086
set -- $(for n in $names; do echo "$n.o"; done)
expect_status 1 "$SCAN" --no-progress --format json --junit all.junit "$@"
cp out all.json
expect_status 1 "$SCAN" --no-progress "$@"
[ "$(tail -n 1 out)" = "9 files scanned: 2 clean (1 with load-time checks), 7 rejected, 0 errors; 8 findings, 1 violation" ] ||
	fail "summary of all: $(tail -n 1 out)"
python3 - all.json all.junit "$CASES" <<'PY' || fail "the run over all files disagrees"
import json, sys
import xml.etree.ElementTree as ET
d = json.load(open(sys.argv[1]))
want = {l.split()[0] + ".o": l.split()[2] for l in sys.argv[3].splitlines()}
got = {f["path"]: f["verdict"] for f in d["files"]}
assert got == want, (got, want)
counts = {v: list(want.values()).count(v) for v in
          ("certified", "certified-with-load-time-checks", "rejected")}
assert d["summary"]["verdict"] == counts, d["summary"]
suite = ET.parse(sys.argv[2]).getroot().find("testsuite")
failed = {t.get("name") for t in suite.findall("testcase") if t.find("failure") is not None}
assert failed == {p for p, v in want.items() if v == "rejected"}, failed
PY

# The documentation names the same verdicts: --help's exit statuses, the
# VERDICT section of pvsub-scan(1), the <verdict> of pvsub-manifest(5).
expect_status 0 "$SCAN" --help
grep -q 'with load-time checks when its only occurrences are in relocation windows' out ||
	fail "--help: exit status 0 does not cover load-time checks"
grep -q 'a kernel patch site included' out || fail "--help: patch sites do not reject"
sed -n '/^\.SH VERDICT/,/^\.SH /p' "$top_srcdir/man/pvsub-scan.1" >verdict.1
for v in certified certified-with-load-time-checks rejected; do
	grep -qx "\.B $v" verdict.1 || fail "pvsub-scan(1) VERDICT does not define $v"
	grep -q "^\.B.* $(echo "$v" | sed 's/-/\\\\-/g')" "$top_srcdir/man/pvsub-manifest.5" ||
		fail "pvsub-manifest(5) does not name $v"
done

# The negative control: the checker notices a doctored output.  The
# reproduction's manifest as it was before the verdict was shared
# (rejected), its JSON with another verdict, a wrong exit status.
sed 's/result="certified-with-load-time-checks"/result="rejected"/' relocation.rewrite.xml >doctored.xml
cmp -s doctored.xml relocation.rewrite.xml && fail "the manifest could not be doctored"
sed 's/"verdict": "certified-with-load-time-checks"/"verdict": "certified"/' relocation.scan.json >doctored.json
cmp -s doctored.json relocation.scan.json && fail "the JSON could not be doctored"
for doctored in \
	"rewrite certified-with-load-time-checks copied 0 relocation.rewrite.txt relocation.rewrite.json relocation.rewrite.junit doctored.xml" \
	"scan certified-with-load-time-checks copied 0 relocation.scan.txt doctored.json relocation.scan.junit relocation.scan.xml" \
	"scan certified-with-load-time-checks copied 1 relocation.scan.txt relocation.scan.json relocation.scan.junit relocation.scan.xml" \
	"scan rejected copied 1 relocation.scan.txt relocation.scan.json relocation.scan.junit relocation.scan.xml"; do
	# shellcheck disable=SC2086
	if python3 agree.py $doctored >agree.out; then
		fail "the checker did not notice: $doctored"
	fi
	grep -q '^disagreement: ' agree.out || fail "the checker failed without naming why: $(cat agree.out)"
done
exit 0
