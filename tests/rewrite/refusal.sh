#!/bin/sh
# Refusals: an occurrence in bytes that do not decode, or one in a section
# that also holds such bytes, gets the object refused (exit 1, the section
# named, nothing written); sections without occurrences are copied as they
# are while another is rewritten.  See refusal.S.
. "$top_srcdir/tests/rewrite/lib.sh"

# policy NAME PATTERN-ID...: NAME.xml with those of refusal.S's patterns.
policy() {
	_p_name=$1
	shift
	{
		echo '<?xml version="1.0"?>'
		echo "<policy xmlns=\"urn:pvsub:policy:1\" id=\"rewrite-$_p_name\" version=\"1\">"
		for _p_id in "$@"; do
			case $_p_id in
			fix) echo '  <pattern id="fix" bytes="9d 05 04"/>' ;;
			junk) echo '  <pattern id="junk" bytes="27 d6 2f"/>' ;;
			mixed) echo '  <pattern id="mixed" bytes="7e 01 f0"/>' ;;
			esac
		done
		echo '</policy>'
	} >"$_p_name.xml"
}
policy all fix junk mixed
policy fix fix
policy junk junk
policy mixed mixed

build refusal
scan_expect all.xml refusal.o fix:spanning:- junk:undecoded:- mixed:spanning:-
run_with refusal.o expected.txt

refuse_ok junk.xml refusal.o junk-out.o .text.junk
refuse_ok mixed.xml refusal.o mixed-out.o .text.mixed
refuse_ok all.xml refusal.o all-out.o .text.junk

# Only .text has an occurrence: it is rewritten, the others stay as they are.
scan_expect fix.xml refusal.o fix:spanning:-
rewrite_ok fix.xml refusal.o rewritten.o fix=nop-split
run_with rewritten.o got.txt
same_output expected.txt got.txt
for sec in .text.junk .text.mixed; do
	check same-section refusal.o rewritten.o "$sec" || fail "$sec changed"
done
