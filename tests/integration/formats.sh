#!/bin/sh
# The machine-readable outputs of pvsub-scan, end to end: JSON (the stable
# shape of DESIGN §5), SARIF 2.1.0, JUnit XML, and the subtraction manifest
# (valid against schemas/pvsub-manifest.xsd, byte-identical across runs).
. "$top_srcdir/tests/lib.sh"

"$SCAN" --version >/dev/null 2>&1 || skip "pvsub-scan does not run"
command -v python3 >/dev/null 2>&1 || skip "python3 is needed to read JSON"
XMLLINT=${XMLLINT:-xmllint}
command -v "$XMLLINT" >/dev/null 2>&1 || skip "xmllint is needed to check XML"

# One WRPKRU as a real instruction in .text, and a clean object.
printf '\t.text\n\t.globl f\nf:\n\t.byte 0x0f,0x01,0xef\n\tret\n' | asm gate
printf '\t.text\n\tret\n' | asm clean
# A path that needs escaping in a URI.
mkdir "sub dir"
cp gate.o "sub dir/gate copy.o"

# --- JSON ------------------------------------------------------------------
expect_status 1 "$SCAN" --format json gate.o clean.o
python3 -m json.tool out >/dev/null || fail "JSON is not valid: $(cat out)"
cp out r.json
q() { json_query r.json "$1"; }
[ "$(q 'd["tool"]["name"]')" = pvsub-scan ] || fail "tool.name"
[ -n "$(q 'd["tool"]["version"]')" ] || fail "tool.version"
[ "$(q 'd["policy"]["id"]')" = builtin:default ] || fail "policy.id: $(q 'd["policy"]')"
[ "$(q 'type(d["policy"]["version"]).__name__')" = int ] || fail "policy.version is not a number"
[ "$(q 'len(d["policy"]["sha256"])')" = 64 ] || fail "policy.sha256"
[ "$(q 'len(d["files"])')" = 2 ] || fail "files: $(cat r.json)"
f0='d["files"][0]'
[ "$(q "$f0[\"path\"]")" = gate.o ] || fail "files[0].path"
[ "$(q "$f0[\"elf_type\"]")" = REL ] || fail "files[0].elf_type"
[ "$(q "$f0[\"status\"]")" = findings ] || fail "files[0].status"
[ "$(q "$f0[\"error\"]")" = None ] || fail "files[0].error"
[ "$(q "$f0[\"violations\"]")" = "[]" ] || fail "files[0].violations"
[ "$(q "len($f0[\"findings\"])")" = 1 ] || fail "files[0].findings"
g="$f0[\"findings\"][0]"
[ "$(q "$g[\"pattern\"]")" = wrpkru ] || fail "finding.pattern"
[ "$(q "$g[\"section\"]")" = .text ] || fail "finding.section"
[ "$(q "$g[\"offset\"]")" = 0 ] || fail "finding.offset"
[ "$(q "$g[\"bytes\"]")" = 0f01ef ] || fail "finding.bytes"
[ "$(q "$g[\"class\"]")" = instruction ] || fail "finding.class"
[ "$(q "$g[\"field\"]")" = None ] || fail "finding.field"
keys="['bytes', 'class', 'field', 'file_offset', 'instruction', 'offset', 'pattern', 'section']"
[ "$(q "sorted($g)")" = "$keys" ] || fail "finding keys: $(q "sorted($g)")"
[ "$(q 'd["files"][1]["status"]')" = clean ] || fail "files[1].status"
summary="{'files': 2, 'findings': 1, 'errors': 0, 'violations': 0, 'clean': 1}"
[ "$(q 'd["summary"]')" = "$summary" ] || fail "summary: $(q 'd["summary"]')"

# An input error is a file entry with status "error" and a message.
printf 'not an elf file\n' > notelf.o
expect_status 2 "$SCAN" --format json notelf.o
cp out e.json
python3 -m json.tool e.json >/dev/null || fail "JSON with an error is not valid"
[ "$(json_query e.json 'd["files"][0]["status"]')" = error ] || fail "error status: $(cat e.json)"
[ "$(json_query e.json 'd["files"][0]["elf_type"]')" = None ] || fail "error elf_type"
[ -n "$(json_query e.json 'd["files"][0]["error"]')" ] || fail "error message"
[ "$(json_query e.json 'd["summary"]["errors"]')" = 1 ] || fail "summary.errors"

# --- SARIF -------------------------------------------------------------------
expect_status 1 "$SCAN" --format sarif gate.o "sub dir/gate copy.o"
cp out r.sarif
python3 -m json.tool r.sarif >/dev/null || fail "SARIF is not valid JSON"
s() { json_query r.sarif "$1"; }
[ "$(s 'd["version"]')" = 2.1.0 ] || fail "SARIF version"
[ "$(s 'd["$schema"]')" = https://json.schemastore.org/sarif-2.1.0.json ] || fail "SARIF \$schema"
[ "$(s 'd["runs"][0]["tool"]["driver"]["name"]')" = pvsub-scan ] || fail "driver.name"
[ "$(s 'len(d["runs"][0]["results"])')" = 2 ] || fail "results: $(cat r.sarif)"
r0='d["runs"][0]["results"][0]'
[ "$(s "$r0[\"ruleId\"]")" = wrpkru ] || fail "ruleId"
[ "$(s "d[\"runs\"][0][\"tool\"][\"driver\"][\"rules\"][$r0[\"ruleIndex\"]][\"id\"]")" = wrpkru ] ||
	fail "ruleIndex does not point at the rule"
[ "$(s "$r0[\"level\"]")" = error ] || fail "level"
[ -n "$(s "$r0[\"message\"][\"text\"]")" ] || fail "message.text"
[ "$(s "$r0[\"locations\"][0][\"physicalLocation\"][\"artifactLocation\"][\"uri\"]")" = gate.o ] ||
	fail "uri"
[ "$(s "$r0[\"locations\"][0][\"physicalLocation\"][\"region\"][\"byteLength\"]")" = 3 ] ||
	fail "byteLength"
[ "$(s "len($r0[\"partialFingerprints\"][\"pvsubFinding/v2\"].split(\":\")[0])")" = 64 ] || fail "fingerprint"
r1='d["runs"][0]["results"][1]'
[ "$(s "$r1[\"locations\"][0][\"physicalLocation\"][\"artifactLocation\"][\"uri\"]")" = \
	"sub%20dir/gate%20copy.o" ] || fail "uri not escaped: $(s "$r1[\"locations\"]")"
[ "$(s 'd["runs"][0]["invocations"][0]["executionSuccessful"]')" = True ] ||
	fail "executionSuccessful"

# --- JUnit -------------------------------------------------------------------
expect_status 1 "$SCAN" --junit junit.xml gate.o clean.o
[ -s junit.xml ] || fail "no JUnit file"
"$XMLLINT" --noout --nonet junit.xml || fail "JUnit is not well-formed"
grep -q '<testsuite name="pvsub-scan" tests="2" failures="1" errors="0" time="' junit.xml ||
	fail "JUnit counts: $(cat junit.xml)"
grep -q '<failure message="[^"]*" type="finding">' junit.xml || fail "no JUnit failure"
grep -q '<testcase classname="pvsub-scan" name="clean.o" time="[0-9.]*"/>' junit.xml || fail "no clean testcase"

# --- manifest --------------------------------------------------------------
expect_status 1 "$SCAN" --manifest m1.xml gate.o
expect_status 1 "$SCAN" --manifest m2.xml gate.o
"$XMLLINT" --noout --nonet --schema "$top_srcdir/schemas/pvsub-manifest.xsd" m1.xml 2>xerr ||
	fail "manifest does not validate: $(cat xerr)"
cmp m1.xml m2.xml || fail "two runs gave different manifests"
grep -q '<verdict result="rejected">' m1.xml || fail "verdict: $(cat m1.xml)"
grep -q '<reason>1 finding of class instruction</reason>' m1.xml || fail "reason"
grep -q "sha256=\"$(sha256sum gate.o | cut -d' ' -f1)\"" m1.xml || fail "object hash"

expect_status 0 "$SCAN" --manifest c.xml clean.o
"$XMLLINT" --noout --nonet --schema "$top_srcdir/schemas/pvsub-manifest.xsd" c.xml 2>xerr ||
	fail "clean manifest does not validate: $(cat xerr)"
grep -q '<verdict result="certified"/>' c.xml || fail "clean verdict: $(cat c.xml)"
exit 0
