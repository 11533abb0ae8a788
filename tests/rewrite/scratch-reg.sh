#!/bin/sh
# Rule scratch, its register: when the register it borrows first forms a
# pattern with the frame's push, pop and red-zone leas, it borrows another
# caller-saved one.  See scratch-reg.S.  Negative control: the rewritten
# object with the borrowed register's pop turned into `pop %rax` must make
# the driver print something else (it sees the borrowed register and rax).
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-scratch-reg" version="1" on-instruction="reject">
  <pattern id="imm" bytes="ff 00 00"/>
  <pattern id="imm1" bytes="ff ff 01"/>
  <pattern id="pop_rax" bytes="58 48 8d"/>
  <pattern id="pop_rcx" bytes="59 48 8d"/>
</policy>
XML

build scratch-reg
scan_expect policy.xml scratch-reg.o imm:embedded:immediate imm1:embedded:immediate \
	imm:embedded:immediate
run_with scratch-reg.o expected.txt
rewrite_ok policy.xml scratch-reg.o rewritten.o imm=scratch imm1=scratch
run_with rewritten.o got.txt
same_output expected.txt got.txt

# The registers borrowed: rdx where rax and rcx would form a pattern, rsi
# where rdx is the base, rdx in lua_isyieldable.
"$OBJDUMP" -d rewritten.o |
	awk '/^[0-9a-f]+ <.*>:$/ { f = substr($2, 2, length($2) - 3) } { print f ": " $0 }' >dis.txt
for want in 'sr_cmp:.*push *%rdx' 'sr_add:.*push *%rsi' 'sr_lua:.*push *%rdx'; do
	grep -q "$want" dis.txt || fail "no ${want#*.\*} in ${want%%:*}"
done

# Negative control: sr_cmp's `pop %rdx` (5a) turned into `pop %rax` (58)
# leaves rdx clobbered and rax changed: the driver must see it.
python3 - rewritten.o broken.o <<'PY' || fail "negative control: cannot patch the pop"
import subprocess, sys
data = bytearray(open(sys.argv[1], "rb").read())
out = subprocess.run(["readelf", "-SW", sys.argv[1]], capture_output=True, text=True).stdout
for line in out.splitlines():
    f = line.replace("[ ", "[").split()
    if len(f) > 5 and f[1] == ".text":
        text = int(f[4], 16)
        break
dis = subprocess.run(["objdump", "-d", sys.argv[1]], capture_output=True, text=True).stdout
inside = False
for line in dis.splitlines():
    if line.endswith("<sr_cmp>:"):
        inside = True
    elif inside and line.strip().endswith("pop    %rdx"):
        at = text + int(line.split(":")[0], 16)
        assert data[at] == 0x5a
        data[at] = 0x58
        open(sys.argv[2], "wb").write(data)
        sys.exit(0)
sys.exit(1)
PY
run_with broken.o broken.txt
if diff -q expected.txt broken.txt >/dev/null; then
	fail "negative control: a clobbered borrowed register goes unseen"
fi
