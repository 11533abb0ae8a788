#!/bin/sh
# Sites that are easy to get wrong (see edge.S), each rewritten alone: a
# refusal is accepted, a change in behaviour is not.
. "$top_srcdir/tests/rewrite/lib.sh"

# id, the three bytes of its pattern, class:field; one site a line.
cat > sites <<'EOF2'
src a1 b1 c1 embedded:displacement
idx a2 b2 c2 embedded:displacement
add a3 b3 c3 embedded:displacement
xchg a4 b4 c4 embedded:displacement
push_m a5 b5 c5 embedded:displacement
pop_m a6 b6 c6 embedded:displacement
lea a7 b7 c7 embedded:displacement
dimm a8 b8 c8 embedded:displacement+immediate
lock a9 b9 c9 embedded:immediate
cmpxchg aa ba ca embedded:displacement
push_i ab bb cb embedded:immediate
imul ac bc cc embedded:immediate
sse ad bd cd embedded:displacement
bt ae be ce embedded:displacement
setcc af bf cf embedded:displacement
ah b0 c0 d0 embedded:displacement
word b1 c1 d1 embedded:displacement
EOF2

build edge
# Every site where edge.S says, and nothing else.
{
	echo '<?xml version="1.0"?>'
	echo '<policy xmlns="urn:pvsub:policy:1" id="rewrite-edge" version="1">'
	while read -r id b1 b2 b3 _; do
		echo "  <pattern id=\"$id\" bytes=\"$b1 $b2 $b3\"/>"
	done <sites
	echo '</policy>'
} >all.xml
# shellcheck disable=SC2046
scan_expect all.xml edge.o $(while read -r id _ _ _ cf; do echo "$id:$cf"; done <sites)
run_with edge.o expected.txt

refused=
# The sites on descriptor 3: the commands in the loop keep standard input.
while read -r id b1 b2 b3 cf <&3; do
	echo "=== $id" >&2
	{
		echo '<?xml version="1.0"?>'
		echo "<policy xmlns=\"urn:pvsub:policy:1\" id=\"rewrite-edge-$id\" version=\"1\">"
		echo "  <pattern id=\"$id\" bytes=\"$b1 $b2 $b3\"/>"
		echo '</policy>'
	} >"$id.xml"
	scan_expect "$id.xml" edge.o "$id:$cf"
	# Any rule will do: the behaviour is what counts.
	rewrite_or_refuse "$id.xml" edge.o "$id-out.o" \
		"$id=nop-split|rel-adjust|imm-lea|alu-split|disp-rebase|sp-rebase|scratch|scratch-imm|scratch-disp|load-dest|bp-rebase|lea-arith|and-btr|push-imm|push-mem|call-r11"
	[ -e "$id-out.o" ] || refused="$refused $id"
done 3<sites
echo "refused:${refused:- none}" >&2
