#!/bin/sh
# A verdict for every kernel mutable window (issue 11): a module built here
# with a jump label whose jmp, once the key flips, spells VMFUNC (eb 0f |
# 01 d4), a lock prefix, an ftrace call site and a return-thunk site.  Its
# manifest must validate against the schema and list the four windows with
# the verdicts static, cannot-form, runtime and runtime; the scan must
# reject it with a patch-site finding "jump-label, only when patched", in
# text, JSON (with the counts per kind) and SARIF.  Negative controls: the
# same module with the target one byte further is certified and its jump
# label cannot form; a manifest doctored to another verdict is caught by
# the checker, and one with a verdict outside the schema by xmllint.
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed to read JSON and XML"
command -v xmllint >/dev/null || skip "xmllint is needed to validate the manifest"

module() {
	cat <<EOF
	.section .modinfo,"a"
	.asciz "license=GPL"
	.text
	.globl f
	.type f,@function
f:
1:	.byte 0x66, 0x90
	add %edx, %esp
	.skip $1, 0x90
2:	ret
	.globl g
	.type g,@function
g:
	push %rbp
3:	call __fentry__
4:	lock incl (%rdi)
	pop %rbp
5:	jmp __x86_return_thunk
	int3
	.section __jump_table,"aw"
	.balign 8
	.long 1b - ., 2b - .
	.quad key - .
	.section __mcount_loc,"a"
	.quad 3b
	.section .smp_locks,"a"
	.balign 4
	.long 4b - .
	.section .return_sites,"a"
	.long 5b - .
	.data
key:	.quad 0
EOF
}

# windows FILE: "kind offset size verdict" per window of a manifest
windows() {
	python3 - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = {"m": "urn:pvsub:manifest:1"}
root = ET.parse(sys.argv[1]).getroot()
for w in root.findall("m:mutable-windows/m:mutable-window", ns):
    print(w.get("section"), w.get("kind"), w.get("offset"), w.get("size"), w.get("verdict"))
EOF
}

# The jmp lands 15 bytes past the site's end: eb 0f.
module 13 | asm forms
module 14 | asm never

expect_status 1 "$SCAN" --no-progress -p vmfunc --manifest=forms.xml forms.o
grep -q "forms.o: .text+0x1: vmfunc (0f 01 d4) patch-site jump-label, only when patched" out ||
	fail "text: $(cat out)"
xmllint --noout --schema "$top_srcdir/schemas/pvsub-manifest.xsd" forms.xml 2>err ||
	fail "manifest does not validate: $(cat err)"
windows forms.xml >got
cat >want <<'EOF'
.text jump-label 0 2 static
.text ftrace 19 5 runtime
.text smp-lock 24 1 cannot-form
.text return-thunk 28 5 runtime
EOF
diff want got || fail "windows of forms.o"
grep -q '<finding pattern="vmfunc" section=".text" offset="1" file-offset="[0-9]*" bytes="0f01d4" class="patch-site" field="jump-label, only when patched"/>' forms.xml ||
	fail "manifest finding: $(cat forms.xml)"
grep -q '<reason>1 finding of class patch-site</reason>' forms.xml || fail "reason: $(cat forms.xml)"

expect_status 1 "$SCAN" --no-progress -p vmfunc --format json forms.o
[ "$(json_query out '(d["files"][0]["verdict"], d["files"][0]["mutable_windows"])')" = \
	"('rejected', {'total': 4, 'over_budget': 0, 'kinds': {'jump-label': {'static': 1, 'runtime': 0, 'cannot_form': 0}, 'ftrace': {'static': 0, 'runtime': 1, 'cannot_form': 0}, 'return-thunk': {'static': 0, 'runtime': 1, 'cannot_form': 0}, 'smp-lock': {'static': 0, 'runtime': 0, 'cannot_form': 1}}})" ] ||
	fail "JSON: $(cat out)"
expect_status 1 "$SCAN" --no-progress -p vmfunc --format sarif forms.o
json_query out '[r["message"]["text"] for r in d["runs"][0]["results"]]' |
	grep -q "patch site (jump-label, only when patched)" || fail "SARIF: $(cat out)"

# Negative control: eb 10 01 d4 forms nothing; the module is certified.
expect_status 0 "$SCAN" --no-progress -p vmfunc --manifest=never.xml never.o
xmllint --noout --schema "$top_srcdir/schemas/pvsub-manifest.xsd" never.xml 2>err ||
	fail "manifest does not validate: $(cat err)"
windows never.xml >got
cat >want.never <<'EOF'
.text jump-label 0 2 cannot-form
.text ftrace 20 5 runtime
.text smp-lock 25 1 cannot-form
.text return-thunk 29 5 runtime
EOF
diff want.never got || fail "windows of never.o"
grep -q '<verdict result="certified"/>' never.xml || fail "never: $(cat never.xml)"

# The checker notices a doctored verdict; the schema one it does not know.
sed 's/verdict="static"/verdict="cannot-form"/' forms.xml >doctored.xml
windows doctored.xml >got
if diff want got >/dev/null; then fail "the checker missed a doctored verdict"; fi
sed 's/verdict="static"/verdict="maybe"/' forms.xml >bad.xml
if xmllint --noout --schema "$top_srcdir/schemas/pvsub-manifest.xsd" bad.xml 2>/dev/null; then
	fail "the schema accepted verdict=\"maybe\""
fi
exit 0
