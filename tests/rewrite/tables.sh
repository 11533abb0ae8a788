#!/bin/sh
# Kernel tables that the rewriter must model (issue 9, section 2): empty
# alternative replacements, one at the very end of .altinstr_replacement and
# one where another entry's replacement starts.  With nothing to change the
# module is copied byte for byte, its signature kept and reported kept;
# with an occurrence elsewhere it is rewritten, every alternative entry still
# points at its instruction, and the signature is reported removed.  See
# tables.S.
. "$top_srcdir/tests/rewrite/lib.sh"
SIGN="$top_builddir/pvsub-sign/pvsub-sign"

for p in "absent:a0 b0 c0" "planted:9a 8b 7c"; do
	id=${p%:*} hex=${p#*:}
	cat >"$id.xml" <<XML
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-tables-$id" version="1">
  <pattern id="$id" bytes="$hex"/>
</policy>
XML
done

build tables
run_with tables.o expected.txt

# A signed module, if openssl can make a throwaway key; else the unsigned
# object, and the signature checks are left out.
if command -v openssl >/dev/null &&
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 1 -subj "/CN=pvsub tables test" \
		-keyout key.pem -out cert.pem 2>openssl.err; then
	expect_status 0 "$SIGN" sign --module --key key.pem --cert cert.pem tables.o -o module.o
	signed=true
else
	echo "openssl cannot make a key: the signature checks are left out" >&2
	cp tables.o module.o
	signed=false
fi

# (a) Nothing to change: exit 0, status clean, the output is the input.
expect_status 0 "$SCAN" --policy absent.xml --format json module.o
expect_status 0 "$SCAN" --rewrite --policy absent.xml -o copy.o --format json module.o
cp out copy.json
cat copy.json >&2
cmp module.o copy.o >&2 || fail "an object with nothing to change was not copied byte for byte"
[ "$(json_query copy.json 'd["files"][0]["status"]')" = clean ] ||
	fail "status of an unchanged copy: $(json_query copy.json 'd["files"][0]["status"]')"
[ "$(json_query copy.json 'd["files"][0]["refused"]')" = "[]" ] || fail "refusals for a copy"
[ "$(json_query copy.json 'd["files"][0]["module_signature_removed"]')" = False ] ||
	fail "the unchanged copy is reported to have lost its module signature"
if $signed; then
	expect_status 0 "$SIGN" verify --module --keyring cert.pem copy.o
	# The same for a signed module without tables: the report says what
	# happened (before, every unchanged copy "lost" its signature).
	printf '\t.section .modinfo,"a"\n\t.asciz "license=GPL"\n\t.text\nf:\tret\n' | asm plain
	expect_status 0 "$SIGN" sign --module --key key.pem --cert cert.pem plain.o -o plain.ko
	expect_status 0 "$SCAN" --rewrite --policy absent.xml -o plain-copy.ko --format json plain.ko
	cmp plain.ko plain-copy.ko >&2 || fail "plain.ko was not copied byte for byte"
	[ "$(json_query out 'd["files"][0]["module_signature_removed"]')" = False ] ||
		fail "the unchanged copy of plain.ko is reported to have lost its module signature"
fi
# Text mode says the same.
expect_status 0 "$SCAN" --rewrite --policy absent.xml -o copy2.o module.o
grep -q 'nothing to rewrite; copied to copy2.o' out || fail "text report of the copy: $(cat out)"
grep -q 'signature was removed' out && fail "text report: the copy's signature reported removed"

# (b) An occurrence in front of the alternative sites: they move.
scan_expect planted.xml module.o planted:embedded:immediate
rewrite_ok planted.xml module.o rewritten.o planted=imm-lea
python3 "$RW/relocs.py" altinstructions tables.o rewritten.o >&2 ||
	fail "the alternatives of rewritten.o do not point at their instructions"
python3 "$RW/relocs.py" follow tables.o rewritten.o .altinstructions >&2 ||
	fail "the relocations of .altinstructions did not follow the code"
check same-section tables.o rewritten.o .altinstr_replacement ||
	fail ".altinstr_replacement changed"
if $signed; then
	[ "$(json_query rewrite.json 'd["files"][0]["module_signature_removed"]')" = True ] ||
		fail "the rewritten module's signature is not reported removed"
	expect_status 1 "$SIGN" verify --module --keyring cert.pem rewritten.o
fi
run_with rewritten.o got.txt
same_output expected.txt got.txt
