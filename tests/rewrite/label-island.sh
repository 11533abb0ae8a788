#!/bin/sh
# A 2-byte jump label whose target a longer replacement takes out of rel8
# reach (see label-island.S): its __jump_table entry is pointed at a jump
# island in the site's reach that jumps on to the real target, as Linux
# 6.1's __jump_label_patch writes `jmp rel8` to the entry's target; a site
# that holds the jmp is re-emitted to the island.  Checked from the ELF
# (the entry's relocations, the island's bytes), with the input and the
# output with the entry's target put back out of reach as negative
# controls; the ORC tables with check.py orc and broken copies;
# a variant whose island needs a hop (every instruction in reach falls
# through); and, with no place in reach, the refusal.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-label-island" version="1" on-instruction="reject">
  <pattern id="imm" bytes="e6 d6 c6"/>
</policy>
XML

# label_island OBJ [hop]: the entry's target is a `jmp rel32` to jl_yes
# within rel8 reach of the site's end, the site holds the NOP or `jmp` to
# that island, and the island lies after jl_func's ret, behind int3 (with
# hop: behind a `jmp rel8` over the int3 and the island).
label_island() {
	python3 - "$RW" "$1" "${2:-ret}" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import check
e = check.Elf(sys.argv[2])
text, jt = e.index(".text"), e.index("__jump_table")
code = e.bytes_of(text)
rel = {r[1]: r for r in e.relas(jt)}
site, dest = rel[0][3], rel[4][3]
if rel[0][2] != text or rel[4][2] != text:
    sys.exit("the entry does not point into .text")
syms = {}
strtab = e.secs[[s["link"] for s in e.secs if s["type"] == 2][0]]["offset"]
for s in e.secs:
    if s["type"] == 2:
        for off in range(s["offset"], s["offset"] + s["size"], 24):
            name, _, _, shndx, value, size = check.struct.unpack_from("<IBBHQQ", e.data, off)
            syms[e.cstr(strtab + name)] = (value, size)
yes = syms["jl_yes"][0]
if code[dest:dest + 1] != b"\xe9":
    sys.exit("the entry's target %#x is not a jmp rel32 (jl_yes is at %#x)" % (dest, yes))
to = dest + 5 + int.from_bytes(code[dest + 1:dest + 5], "little", signed=True)
if to != yes:
    sys.exit("the island at %#x jumps to %#x, not jl_yes %#x" % (dest, to, yes))
d = dest - (site + 2)
if not -128 <= d <= 127:
    sys.exit("the island at %#x is out of the site's reach (%d)" % (dest, d))
sb = code[site:site + 2]
if sb != b"\x66\x90" and sb != bytes([0xeb, d & 0xff]):
    sys.exit("the site holds %s, neither the NOP nor a jmp to the island" % sb.hex())
end = sum(syms["jl_func"])
if sys.argv[3] == "hop":
    if code[dest - 1] != 0xcc or check.hop_over(code, dest, site + 2) is None:
        sys.exit("the island at %#x is not behind int3 and a jmp rel8 over it" % dest)
elif not (end <= dest - 1 and code[dest - 1] == 0xcc and code[end - 1] == 0xc3):
    sys.exit("the island at %#x is not after jl_func's ret (ends %#x), behind int3" % (dest, end))
print("site %#x (%s) -> island %#x -> jl_yes %#x" % (site, sb.hex(), dest, yes))
PY
}

for v in nop jmp hop; do
	def= form=ret
	[ "$v" = jmp ] && def=-DJL_JMP
	[ "$v" = hop ] && def=-DJL_HOP form=hop
	"$CC" -c $def -o $v.o "$RW/label-island.S" || fail "cannot assemble label-island.S ($v)"
	scan_expect policy.xml $v.o imm:embedded:immediate
	! label_island $v.o $form 2>&1 || fail "$v.o passes for rewritten (negative control)"
	rewrite_ok policy.xml $v.o $v-rw.o imm=imm-lea
	label_island $v-rw.o $form >&2 || fail "$v-rw.o: the jump label does not go through an island"
	# The rewritten object with the entry pointing at the real target
	# again, out of the site's reach: must fail the same check.
	check mangle label-target $v.o $v-rw.o bad-target.o || fail "cannot move the entry's target"
	! label_island bad-target.o $form 2>>mangled.log ||
		fail "bad-target.o passes with the entry's target out of the site's reach"
	check orc $v.o $v-rw.o rewrite.json || fail "ORC tables of $v-rw.o"
	# The island's entry and the one after it, each broken.
	n=$(python3 -c "import sys; sys.path.insert(0, '$RW'); import check
print(len(check.orc_entries(check.Elf('$v-rw.o'))) - len(check.orc_entries(check.Elf('$v.o'))))")
	k=0
	while [ "$k" -lt "$n" ]; do
		for what in orc-offset orc-ip; do
			check mangle "$what:$k" $v.o $v-rw.o bad.o || fail "cannot break entry $k"
			! check orc $v.o bad.o rewrite.json 2>>mangled.log ||
				fail "check.py orc accepts $v-rw.o with $what of added entry $k broken"
		done
		k=$((k + 1))
	done
done

# The hop variant runs: jl_func(41) falls through the site (the NOP), over
# the island, on to jl_yes and returns 42.  A copy whose hop lands on the
# int3 in front of the island instead is the negative control.
cat >call.c <<'EOF'
int jl_func(int);
int main(void)
{
	return jl_func(41) == 42 ? 0 : 1;
}
EOF
python3 - "$RW" hop-rw.o hop-bad.o <<'PY' || fail "cannot break the hop"
import sys
sys.path.insert(0, sys.argv[1])
import check
e = check.Elf(sys.argv[2])
text = e.secs[e.index(".text")]
code = e.bytes_of(e.index(".text"))
h = code.index(b"\xeb", 2)  # the hop, after the site
data = bytearray(e.data)
data[text["offset"] + h + 1] = 0  # onto the int3 behind it
open(sys.argv[3], "wb").write(data)
PY
for o in hop hop-rw; do
	"$CC" -no-pie -o "$o" call.c "$o.o" || fail "cannot link $o.o"
	"./$o" || fail "$o.o: jl_func(41) is not 42"
done
"$CC" -no-pie -o hop-bad call.c hop-bad.o || fail "cannot link hop-bad.o"
! ./hop-bad 2>/dev/null || fail "hop-bad.o runs although its hop lands on int3 (negative control)"
check symbols hop.o hop-rw.o || fail "symbols of hop-rw.o"

# Every place in the site's reach inside one FDE: refused.
"$CC" -c -DJL_NO_SPOT -o nospot.o "$RW/label-island.S" || fail "cannot assemble the no-spot variant"
refuse_ok policy.xml nospot.o nospot-rw.o .text
grep -q "no jump island can be placed in its reach" refused.json ||
	fail "the refusal does not say that no island is in reach"
