#!/bin/sh
# Rule load-dest: loads into a whole general register with the pattern in a
# 32-bit displacement build the address in their own destination (see
# load-dest.S).  Every site must be rewritten by load-dest itself, not by a
# rule that borrows a register or the stack.
. "$top_srcdir/tests/rewrite/lib.sh"

# id and the three bytes of its pattern, one site a line (load-dest.S).
cat > sites <<'EOF2'
mov64 a1 b1 c1
mov32 a2 b2 c2
movzb a3 b3 c3
movzw a4 b4 c4
movsb a5 b5 c5
movsw a6 b6 c6
movsxd a7 b7 c7
lea64 a8 b8 c8
lea32 a9 b9 c9
base aa ba ca
index ab bb cb
rex ac bc cc
r12 ad bd cd
r13 ae be ce
b12 af bf cf
b13 b0 c0 d0
fs b1 c1 d1
gs b2 c2 d2
rsp d8 01 00
EOF2
{
	echo '<?xml version="1.0"?>'
	echo '<policy xmlns="urn:pvsub:policy:1" id="rewrite-load-dest" version="1" on-instruction="reject">'
	while read -r id b1 b2 b3; do
		echo "  <pattern id=\"$id\" bytes=\"$b1 $b2 $b3\"/>"
	done <sites
	echo '</policy>'
} >policy.xml

build load-dest
# shellcheck disable=SC2046
scan_expect policy.xml load-dest.o $(while read -r id _; do echo "$id:embedded:displacement"; done <sites)
run_with load-dest.o expected.txt
# shellcheck disable=SC2046
rewrite_ok policy.xml load-dest.o rewritten.o $(while read -r id _; do echo "$id=load-dest"; done <sites)
run_with rewritten.o got.txt
same_output expected.txt got.txt
