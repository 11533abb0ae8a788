#!/bin/sh
# Policies through the tool: built-in profiles select what is found, XML
# policy files are validated, and a bad policy is one clear line, status 2.
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed to read JSON"
fx="$top_srcdir/tests/fixtures/policy"

cat > gates.s <<'ASM'
	.text
	.globl f
	.type f,@function
f:
	.byte 0x0f, 0x01, 0xd4      # vmfunc
	.byte 0x0f, 0x01, 0xef      # wrpkru
	xrstor (%rax)               # 0f ae 28
	lfence                      # 0f ae e8: register form, not XRSTOR
	syscall                     # 0f 05
	int $0x80                   # cd 80
	ret
	.size f, .-f
ASM
"$CC" -c gates.s -o gates.o

patterns() { # patterns POLICY: sorted pattern ids found in gates.o
	set +e
	"$SCAN" --format json --policy "$1" gates.o > p.json
	set -e
	json_query p.json 'sorted(f["pattern"] for f in d["files"][0]["findings"])'
}
[ "$(patterns vmfunc)" = "['vmfunc']" ] || fail "vmfunc: $(patterns vmfunc)"
[ "$(patterns pku)" = "['wrpkru', 'xrstor']" ] || fail "pku: $(patterns pku)"
[ "$(patterns default)" = "['vmfunc', 'wrpkru', 'xrstor']" ] || fail "default: $(patterns default)"
[ "$(patterns syscall)" = "['int80', 'syscall']" ] || fail "syscall: $(patterns syscall)"
[ "$(json_query p.json 'd["policy"]["id"]')" = "builtin:syscall" ] || fail "policy id in JSON"

# The example from DESIGN §3, as a file.
[ "$(patterns "$fx/design-example.xml")" = "['any-int', 'vmfunc', 'wrpkru', 'xrstor', 'xrstor']" ] ||
	fail "design example: $(patterns "$fx/design-example.xml")"
[ "$(json_query p.json 'd["policy"]["id"]')" = "site-gates" ] || fail "file policy id"
json_query p.json 'd["policy"]["sha256"]' | grep -Eq '^[0-9a-f]{64}$' || fail "policy sha256"

# Bad policy files: one line naming the file, status 2, no report.
for bad in malformed missing-bytes bad-token billion-laughs external-entity wrong-namespace \
	xinclude; do
	expect_status 2 "$SCAN" --policy "$fx/$bad.xml" gates.o
	[ "$(wc -l < err)" -eq 1 ] || fail "$bad: not one line: $(cat err)"
	grep -q "$bad.xml" err || fail "$bad: file not named: $(cat err)"
	[ ! -s out ] || fail "$bad: a report was written"
done
grep -q "xinclude.xml: line 4: XInclude is not allowed in policy files" err ||
	fail "xinclude: $(cat err)"
exit 0
