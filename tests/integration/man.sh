#!/bin/sh
# Every man page formats without a warning, names the same release date as
# the others (they were 2024 and 2026 once), and its SEE ALSO pages exist.
. "$top_srcdir/tests/lib.sh"
command -v groff >/dev/null || skip "groff is not installed"
dates=
for page in "$top_srcdir"/man/*.[0-9]; do
	name=$(basename "$page")
	d=$(sed -n 's/^\.TH [^ ]* [0-9] "\{0,1\}\([0-9-]*\)"\{0,1\} .*/\1/p' "$page")
	echo "$d" | grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}' || fail "$name: no date in .TH"
	dates="$dates $d"
	groff -man -ww -z "$page" 2>groff.err || fail "$name: groff failed"
	grep -v 'cannot adjust line' groff.err >groff.other || true
	[ ! -s groff.other ] || fail "$name: $(cat groff.other)"
	for ref in $(sed -n '/^\.SH SEE ALSO/,$p' "$page" | sed -n 's/^\.BR \(pvsub[a-z-]*\) (\([0-9]\)).*/\1.\2/p'); do
		[ -f "$top_srcdir/man/$ref" ] || fail "$name refers to $ref, which does not exist"
	done
done
[ "$(echo "$dates" | tr ' ' '\n' | sed '/^$/d' | sort -u | wc -l)" -eq 1 ] ||
	fail "man pages disagree on their date:$dates"
exit 0
