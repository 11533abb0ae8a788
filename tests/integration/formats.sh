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
# a section of a relocatable object has no address before it is loaded
[ "$(q "$g[\"vaddr\"]")" = None ] || fail "finding.vaddr"
keys="['bytes', 'class', 'field', 'file_offset', 'instruction', 'offset', 'pattern', 'section', 'vaddr']"
[ "$(q "sorted($g)")" = "$keys" ] || fail "finding keys: $(q "sorted($g)")"
[ "$(q 'd["files"][1]["status"]')" = clean ] || fail "files[1].status"
[ "$(q "$f0[\"verdict\"]")" = rejected ] || fail "files[0].verdict"
[ "$(q 'd["files"][1]["verdict"]')" = certified ] || fail "files[1].verdict"
summary="{'files': 2, 'findings': 1, 'errors': 0, 'violations': 0, 'clean': 1, 'status': {'clean': 1, 'findings': 1, 'rewritten': 0, 'error': 0, 'refused': 0, 'not-scanned': 0}, 'load_time': 0, 'verdict': {'certified': 1, 'certified-with-load-time-checks': 0, 'rejected': 1}, 'not_scanned': 0}"
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
[ "$(json_query e.json 'd["files"][0]["verdict"]')" = None ] || fail "an error has a verdict"

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

# GitHub code scanning: every result has a region with startLine, errors and
# violations too; URIs relative to %SRCROOT% (the current directory by
# default); no placeholder informationUri.
printf '\t.section .wx,"awx",@progbits\n\tret\n' | asm wx
expect_status 2 "$SCAN" --format sarif gate.o wx.o notelf.o
cp out g.sarif
python3 - g.sarif "$(pwd -P)" <<'PY' || fail "SARIF for GitHub: $(cat g.sarif)"
import json, sys
d = json.load(open(sys.argv[1]))
run = d["runs"][0]
assert "informationUri" not in run["tool"]["driver"], run["tool"]["driver"]
assert "example.invalid" not in open(sys.argv[1]).read()
assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file://" + sys.argv[2] + "/", run
rules = {r["ruleId"] for r in run["results"]}
assert {"wrpkru", "violation/wx-section", "input-error"} <= rules, rules
for r in run["results"]:
    loc = r["locations"][0]["physicalLocation"]
    assert loc["region"]["startLine"] == 1, r
    assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%", r
    assert loc["artifactLocation"]["uri"] in ("gate.o", "wx.o", "notelf.o"), r
    fp = r["partialFingerprints"]["pvsubFinding/v2"]
    h, n = fp.split(":")
    assert len(h) == 64 and n == "1", fp
    if r["ruleId"] == "wrpkru":
        assert loc["region"]["byteLength"] == 3 and "byteOffset" in loc["region"], loc
PY

# --sarif-root: relative below it, file: URIs outside it.
mkdir -p root/sub
cp gate.o root/sub/g.o
expect_status 1 "$SCAN" --format sarif --sarif-root root root/sub/g.o gate.o
cp out root.sarif
[ "$(json_query root.sarif 'd["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]')" = sub/g.o ] ||
	fail "URI under --sarif-root: $(cat root.sarif)"
[ "$(json_query root.sarif 'd["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]')" = "file://$(pwd -P)/gate.o" ] ||
	fail "URI outside --sarif-root: $(cat root.sarif)"
expect_status 2 "$SCAN" --format sarif --sarif-root no-such-dir gate.o
grep -q "no-such-dir" err || fail "a bad --sarif-root is not named"

# Fingerprints survive the path's spelling, the package's version and code
# moving: one module named three ways, then inside two versions of a
# package whose names and lib/modules/RELEASE directories differ, with
# code added before the occurrence in the second.
fingerprints() { # fingerprints SARIF: one per line, in order
	python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["runs"][0]["results"]:
    print(r["ruleId"], r["partialFingerprints"]["pvsubFinding/v2"])' "$1"
}
mkdir -p drivers
printf '\t.text\n\tpush %%rbp\n\tmov %%rsp,%%rbp\n\t.byte 0x0f,0x01,0xef\n\tpop %%rbp\n\tret\n' | asm kvm
cp kvm.o drivers/kvm.ko
expect_status 1 "$SCAN" --format sarif drivers/kvm.ko
fingerprints out > fp1
expect_status 1 "$SCAN" --format sarif ./drivers/kvm.ko
fingerprints out > fp2
(cd drivers && "$SCAN" --format sarif kvm.ko > ../out) && fail "no finding from inside drivers/"
fingerprints out > fp3
[ -s fp1 ] && cmp -s fp1 fp2 && cmp -s fp1 fp3 ||
	fail "the path's spelling changed the fingerprints: $(cat fp1 fp2 fp3)"
expect_status 1 "$SCAN" --format sarif drivers
fingerprints out > fp4
cmp -s fp1 fp4 || fail "the directory named changed the fingerprint: $(cat fp1 fp4)"

mkdir -p v1/lib/modules/6.1.0-56-cloud-amd64/kernel v2/lib/modules/6.1.0-57-cloud-amd64/kernel
body='\t.fill 10,1,0x90\n\tpush %%rbp\n\tmov %%rsp,%%rbp\n\t.byte 0x0f,0x01,0xef\n\tpop %%rbp\n\tret\n'
# shellcheck disable=SC2059
printf "\t.text\n$body" | asm kvm1
# shellcheck disable=SC2059
printf "\t.text\n\txor %%eax,%%eax\n\tinc %%eax\n$body" | asm kvm2
cp kvm1.o v1/lib/modules/6.1.0-56-cloud-amd64/kernel/kvm.ko
cp kvm2.o v2/lib/modules/6.1.0-57-cloud-amd64/kernel/kvm.ko
tar -C v1 -czf linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.tar.gz lib
tar -C v2 -czf linux-image-6.1.0-57-cloud-amd64_6.1.200-1_amd64.tar.gz lib
expect_status 1 "$SCAN" --format sarif linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.tar.gz
fingerprints out > fpa
cp out a.sarif
expect_status 1 "$SCAN" --format sarif linux-image-6.1.0-57-cloud-amd64_6.1.200-1_amd64.tar.gz
fingerprints out > fpb
[ -s fpa ] && cmp -s fpa fpb || fail "a new package version changed the fingerprints: $(cat fpa fpb)"
# ... and they are really tied to the bytes: the offsets differ
[ "$(json_query a.sarif 'd["runs"][0]["results"][0]["properties"]["location"]')" = .text+0xe ] ||
	fail "location: $(cat a.sarif)"
[ "$(json_query out 'd["runs"][0]["results"][0]["properties"]["location"]')" = .text+0x12 ] ||
	fail "location: $(cat out)"

# --- JUnit -------------------------------------------------------------------
expect_status 1 "$SCAN" --junit junit.xml gate.o clean.o
[ -s junit.xml ] || fail "no JUnit file"
"$XMLLINT" --noout --nonet junit.xml || fail "JUnit is not well-formed"
grep -q '<testsuite name="pvsub-scan" tests="2" failures="1" errors="0" time="' junit.xml ||
	fail "JUnit counts: $(cat junit.xml)"
grep -q '<failure message="[^"]*" type="finding">' junit.xml || fail "no JUnit failure"
grep -q '<testcase classname="pvsub-scan" name="clean.o" time="[0-9.]*"/>' junit.xml || fail "no clean testcase"
# Valid against the Ant JUnit schema (Jenkins, GitLab): time everywhere, at
# most one failure per test case, whatever the number of findings.
printf '\t.text\n\t.byte 0x0f,0x01,0xef\n\tnop\n\t.byte 0x0f,0x01,0xd4\n\tret\n' | asm two
expect_status 2 "$SCAN" --junit junit2.xml two.o gate.o clean.o wx.o notelf.o
"$XMLLINT" --noout --nonet --schema "$top_srcdir/tests/fixtures/junit-ant.xsd" junit2.xml 2>xerr ||
	fail "JUnit does not validate against the Ant schema: $(cat xerr) $(cat junit2.xml)"
[ "$(grep -c '<failure ' junit2.xml)" -eq 3 ] || fail "one failure per failing file: $(cat junit2.xml)"
grep -q '<failure message="wrpkru at .text+0x0: instruction (and 1 more)" type="finding">two.o: .text+0x0: wrpkru (0f 01 ef) instruction: wrpkru&#10;two.o: .text+0x4: vmfunc' junit2.xml ||
	fail "the second finding is not in the failure's text: $(cat junit2.xml)"
grep -q '<testsuite name="pvsub-scan" tests="5" failures="3" errors="1" time="[0-9.]*" timestamp="[0-9T:-]*" hostname=' junit2.xml ||
	fail "testsuite: $(cat junit2.xml)"

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
