#!/bin/sh
# Rule jump-island, near islands: a jmp and a call whose displacement no
# padding can clean, in a section that ends in code that falls through (so
# no island may follow its end), go through islands placed right after an
# instruction that never falls through (see near-island.S).  The driver
# gives the same results; in a module-like object the ORC tables describe
# the islands and the code after them (check.py orc, with broken copies as
# negative controls); without any such place the rewrite is refused.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-near-island" version="1" on-instruction="reject">
  <pattern id="zz" bytes="00 00"/>
</policy>
XML

build near-island
scan_expect policy.xml near-island.o zz:embedded:immediate zz:embedded:immediate
run_with near-island.o expected.txt
rewrite_ok policy.xml near-island.o rewritten.o zz=jump-island zz=jump-island
run_with rewritten.o got.txt
same_output expected.txt got.txt

# islands OBJ: the jmp and the call lead to `jmp` islands between ni_far's
# ret and the NOPs after it (not at the section's end), and those jump to
# the original targets.
islands() {
	python3 - "$1" <<'PY'
import re, subprocess, sys
dis = subprocess.run(["objdump", "-d", sys.argv[1]], capture_output=True, text=True,
                     check=True).stdout
ins = {}
for m in re.finditer(r"^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t?(.*)$", dis, re.M):
    ins[int(m.group(1), 16)] = (bytes.fromhex(m.group(2).replace(" ", "")), m.group(3))
sym = {m.group(2): int(m.group(1), 16) for m in re.finditer(r"^([0-9a-f]+) <(\w+)>:", dis, re.M)}
end = max(a + len(b) for a, (b, _) in ins.items())
def dest(a):
    b = ins[a][0]
    return a + len(b) + int.from_bytes(b[-4:], "little", signed=True)
for f, op in (("ni_jmp", 0xe9), ("ni_call", 0xe8)):
    br = [a for a in ins if sym[f] <= a < sym[f] + 0x120 and ins[a][0][:1] == bytes([op])][0]
    isl = dest(br)
    if ins.get(isl, (b"",))[0][:1] != b"\xe9":
        sys.exit("%s: %#x does not lead to a jmp" % (f, isl))
    if not sym["ni_far"] < isl < end - 16 or ins.get(isl - 1, (b"",))[0] != b"\xcc":
        sys.exit("%s: island at %#x is not after ni_far behind int3" % (f, isl))
    t = dest(isl)
    # The original target: ni_leaf's start, or ni_jmp's `add $2`.
    ok = t == sym["ni_leaf"] if f == "ni_call" else ins[t][1].startswith("add")
    if not ok:
        sys.exit("%s: island at %#x jumps to %#x" % (f, isl, t))
    print("%s -> island %#x -> %#x" % (f, isl, t))
PY
}
islands rewritten.o >&2 || fail "rewritten.o: the branches do not go through near islands"
! islands near-island.o 2>&1 || fail "near-island.o passes for rewritten (negative control)"

# A module-like object: the same with ORC tables.
"$CC" -c -DNI_KERNEL -o kernel.o "$RW/near-island.S" || fail "cannot assemble the module variant"
scan_expect policy.xml kernel.o zz:embedded:immediate zz:embedded:immediate
rewrite_ok policy.xml kernel.o kernel-rw.o zz=jump-island zz=jump-island
islands kernel-rw.o >&2 || fail "kernel-rw.o: the branches do not go through near islands"
check orc kernel.o kernel-rw.o rewrite.json || fail "ORC tables of kernel-rw.o"
# Four entries were added: each island's, and the one after each.  Broken,
# each must fail the check.
for k in 0 1 2 3; do
	for what in orc-offset orc-ip; do
		check mangle "$what:$k" kernel.o kernel-rw.o bad.o || fail "cannot break entry $k"
		! check orc kernel.o bad.o rewrite.json 2>>mangled.log ||
			fail "check.py orc accepts kernel-rw.o with $what of added entry $k broken"
	done
done

# A trap that may be resumed after is no place for an island, so the call
# has none left and the rewrite is refused: a ud2 that __bug_table names (a
# WARN), one after which objtool's .discard.reachable names the next
# instruction, an int3 that data points at (as the alternatives' self-test),
# and any int3 of a process (its SIGTRAP handler returns).  The negative
# controls: kernel.o above (a ud2 that nothing names), and a kernel's int3
# that nothing names, rewritten.
for v in WARN REACHABLE "INT3 -DNI_NAMED" "INT3 -UNI_KERNEL"; do
	o=$(echo "$v" | tr -cd 'A-Z0-9' | tr 'A-Z' 'a-z')
	# shellcheck disable=SC2086 # -D$v may hold two options
	"$CC" -c -DNI_KERNEL -DNI_$v -o "$o.o" "$RW/near-island.S" || fail "cannot assemble the $v variant"
	refuse_ok policy.xml "$o.o" "$o-rw.o" .text
done
"$CC" -c -DNI_KERNEL -DNI_INT3 -o kint3.o "$RW/near-island.S" || fail "cannot assemble the int3 variant"
rewrite_ok policy.xml kint3.o kint3-rw.o zz=jump-island zz=jump-island
islands kint3-rw.o >&2 || fail "kint3-rw.o: the branches do not go through near islands"

# Unwind tables: islands after the end of ni_far's FDE, whose rows
# check.py cfi compares with the input's; none inside an FDE's range.
"$CC" -c -DNI_CFI -o cfi.o "$RW/near-island.S" || fail "cannot assemble the CFI variant"
scan_expect policy.xml cfi.o zz:embedded:immediate zz:embedded:immediate
rewrite_ok policy.xml cfi.o cfi-rw.o zz=jump-island zz=jump-island
islands cfi-rw.o >&2 || fail "cfi-rw.o: the branches do not go through near islands"
check cfi cfi.o cfi-rw.o rewrite.json || fail ".eh_frame of cfi-rw.o"
"$CC" -c -DNI_CFI_LONG -o cfi-long.o "$RW/near-island.S" || fail "cannot assemble the CFI_LONG variant"
refuse_ok policy.xml cfi-long.o cfi-long-rw.o .text

# No instruction that never falls through far enough away: refused.
"$CC" -c -DNI_NO_SPOT -o nospot.o "$RW/near-island.S" || fail "cannot assemble the no-spot variant"
refuse_ok policy.xml nospot.o nospot-rw.o .text
