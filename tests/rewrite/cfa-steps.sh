#!/bin/sh
# CFA rows inside the rewriter's sequences (issue 12): cfa-steps.S's two
# functions, one whose CFA is rsp-based and one whose CFA is rbp, are
# rewritten by rules whose sequences move the stack (lea-arith on rsp,
# sp-rebase, scratch skipping the red zone) or rbp (disp-rebase).  The
# driver single-steps them (the trap flag) and at every instruction walks
# the stack from the SIGTRAP handler with _Unwind_Backtrace: the walk must
# reach main with the same frames as at the function's entry (it prints
# how many instructions it checked).  check.py cfa-steps compares the CFA
# that readelf reads from the output's .eh_frame at every instruction of
# every sequence with the stack and rbp moves simulated from its
# disassembly.  The negative control: the output with the rows inside the
# sequences taken out (cfa-strip.py, which is how .eh_frame was written
# before them) must fail both.  Variants of cfa-steps.S whose sequences no
# row can describe (the CFA an expression, computed from the borrowed
# register, a callee-saved register overwritten, rsp moved where a rule
# reads it, the copied instruction writing the CFA's register before the
# sequence ends) are refused.  Then the
# same for compiler output (unwind-work.c under stress policies, as
# unwind.sh): PVSUB_SEED=N replays it, PVSUB_CFA_STEPS_ROUNDS sets the
# policies per compiler (default 3); where none of them gave a sequence
# that moves the CFA, the next seeds are tried, up to 20, and the test
# fails if none does.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > policy.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-cfa-steps" version="1" on-instruction="reject">
  <pattern id="sp" bytes="a5 5a 00"/>
  <pattern id="sc" bytes="c3 3c 77"/>
  <pattern id="la" bytes="60 6b 01"/>
  <pattern id="lb" bytes="a0 94 fe"/>
  <pattern id="cm" bytes="5d 5e 3f"/>
  <pattern id="bp" bytes="5b a5 ff"/>
</policy>
XML

"$CC" -c -o cfa-steps.o "$RW/cfa-steps.S" || fail "cannot assemble cfa-steps.S"
"$CC" -c -O1 -o driver.o "$RW/cfa-steps-driver.c" || fail "cannot compile the driver"
scan_expect policy.xml cfa-steps.o la:embedded:immediate la:embedded:immediate \
	sp:embedded:displacement sp:embedded:displacement sc:embedded:immediate \
	cm:embedded:immediate bp:embedded:displacement bp:embedded:displacement

# step OBJ OUT: link the driver with OBJ, run it; its status.
step() {
	"$CC" -o "$1.prog" driver.o "$1" || fail "cannot link the driver with $1"
	set +e
	timeout 60 "./$1.prog" >"$2"
	_st=$?
	set -e
	cat "$2" >&2
	return "$_st"
}

step cfa-steps.o expected.txt || fail "the original does not unwind at every instruction"
rewrite_ok policy.xml cfa-steps.o rewritten.o la=lea-arith sp=sp-rebase\|load-dest \
	sc=scratch cm=scratch bp=disp-rebase\|load-dest
readelf -wF rewritten.o >&2
check cfi cfa-steps.o rewritten.o rewrite.json >&2 || fail "the input's rows did not follow the code"
check cfa-steps cfa-steps.o rewritten.o rewrite.json >steps.txt || fail "the CFA inside a sequence"
cat steps.txt >&2
step rewritten.o got.txt || fail "the rewritten code does not unwind at every instruction"
grep -v '^checked' expected.txt >e.txt
grep -v '^checked' got.txt >g.txt
same_output e.txt g.txt
n=$(awk '/^checked/ { print $2 }' got.txt)
n0=$(awk '/^checked/ { print $2 }' expected.txt)
[ "$n" -gt "$n0" ] || fail "only $n instructions stepped, the original had $n0: no sequence was stepped"
moved=$(awk '{ print $(NF - 4) }' steps.txt)
[ "$moved" -gt 0 ] || fail "no instruction with the CFA moved: the test proves nothing"
echo "$n instructions single-stepped and unwound ($n0 in the original), $moved with the CFA moved" >&2

# The control: the rows inside the sequences taken out.
python3 "$RW/cfa-strip.py" rewritten.o rewrite.json stripped.o >strip.txt ||
	fail "cannot make the control"
echo "control: $(cat strip.txt) rows taken out" >&2
if check cfa-steps cfa-steps.o stripped.o rewrite.json >/dev/null 2>&1; then
	fail "check.py cfa-steps passes without the rows inside sequences: it cannot fail"
fi
if step stripped.o control.txt && grep -q 'unwound at every instruction' control.txt; then
	fail "the driver unwinds without the rows inside sequences: it cannot fail"
fi
echo "control: both checks fail without the rows" >&2
# check.py cfi leaves out only rows inside the report's sequences: without
# the report (no sequence) the rows added there are extra rows.
if check cfi cfa-steps.o rewritten.o >/dev/null 2>&1; then
	fail "check.py cfi takes rows added outside any sequence"
fi

# What no row can describe is refused, one line each, nothing written.
for m in CFA_EXPR:'where the CFA is a DWARF expression' \
	CFA_RCX:"writes the CFA's register" \
	CALLEE_SAVED:'overwrites %rbx, whose caller' \
	SP_READ:'moves %rsp, which a register' \
	SP_IN_REG:'moves %rsp, which a register' \
	COPY_CFA:"writes the CFA's register" \
	OWN_READ:'overwrites %rbx, whose caller' \
	COPY_READ:'copied instruction writes %rbx' \
	CFA_REG_READ:'overwrites %rbp, whose caller' \
	HIGH_READ:'moves %rsp, which a register'; do
	v=${m%%:*}
	"$CC" -c -D"$v" -o "$v.o" "$RW/cfa-steps.S" || fail "cannot assemble -D$v"
	refuse_ok policy.xml "$v.o" "$v-out.o" .eh_frame
	grep -q "${m#*:}" refused.json || fail "$v: refused for another reason"
	n=$(json_query refused.json "len(d['files'][0]['refused'])")
	[ "$n" -eq 1 ] || fail "$v: $n refusals, expected one line"
done
# What must be taken.  A borrowed register is a caller-saved one where one
# is free: the imul of -DBORROW names rax, rcx and rdx, and rbx (never
# saved there, so the unwinder reads its caller's value from it) was once
# taken and refused.  -DOWN_DEST: imm-lea may write rbx, which the
# original `mov $imm, %ebx` overwrites itself.
for v in BORROW:scratch OWN_DEST:imm-lea; do
	r=${v#*:} v=${v%%:*}
	"$CC" -c -D"$v" -o "$v.o" "$RW/cfa-steps.S" || fail "cannot assemble -D$v"
	expect_status 0 "$SCAN" --rewrite --policy policy.xml -o "$v-out.o" --format json "$v.o"
	cp out "$v.json"
	check cfi "$v.o" "$v-out.o" "$v.json" >&2 || fail "$v: the input's rows did not follow the code"
	check cfa-steps "$v.o" "$v-out.o" "$v.json" >&2 || fail "$v: the CFA inside a sequence"
	json_query "$v.json" "[x['rule'] for x in d['files'][0]['rewrites'] if x['section'] == '.text.bad']" |
		grep -q "'$r'" || fail "$v: not rewritten by $r in cs_bad"
done

# Compiler output: unwind-work.c (as unwind.sh builds it) rewritten under
# random stress policies (stress-lib.sh); the driver, built with
# -DUNWIND_WORK, steps uw_level1 and its callees and walks the stack at
# every instruction.  Where the policy gave sequences that move the CFA,
# their rows taken out must break the walk.
. "$RW/stress-lib.sh"
stress_seed PVSUB_CFA_STEPS_ROUNDS 3
stress_compilers
total=0 moving=0
for cc in $compilers; do
	"$cc" -O2 -c -o "w-$cc.o" "$RW/unwind-work.c" || fail "$cc cannot compile unwind-work.c"
	"$cc" -O1 -DUNWIND_WORK -c -o "d-$cc.o" "$RW/cfa-steps-driver.c" ||
		fail "$cc cannot compile the driver"
	"$cc" -o "orig-$cc" "d-$cc.o" "w-$cc.o" || fail "$cc cannot link"
	"./orig-$cc" >"expected-$cc.txt" ||
		fail "$cc: the original does not unwind at every instruction: $(tail -1 "expected-$cc.txt")"
	k=0 moving_cc=0
	# The rounds, then further seeds (at most 20) until one moves the CFA.
	while [ "$k" -lt "$rounds" ] || { [ "$moving_cc" -eq 0 ] && [ "$k" -lt $((rounds + 20)) ]; }; do
		s=$((seed + k))
		k=$((k + 1))
		stress_round "$cc" "$cc" "$s"
		grep -v '^checked' "expected-$cc.txt" >e.txt
		grep -v '^checked' "got-$cc.txt" >g.txt
		diff -u e.txt g.txt >&2 ||
			fail "$cc, seed $s: the rewritten code computes or unwinds otherwise"
		check cfa-steps "w-$cc.o" "r-$cc.o" rewrite.json >steps.txt ||
			fail "$cc, seed $s: the CFA inside a sequence"
		m=$(sed 's/.*(\([0-9]*\) moving.*/\1/' steps.txt)
		echo "$cc, seed $s: $(cat steps.txt); $(grep '^checked' "got-$cc.txt")" >&2
		total=$((total + 1))
		[ "$m" -gt 0 ] || continue
		moving=$((moving + 1))
		moving_cc=$((moving_cc + 1))
		python3 "$RW/cfa-strip.py" "r-$cc.o" rewrite.json "s-$cc.o" >/dev/null ||
			fail "$cc, seed $s: cannot make the control"
		"$cc" -o "sw-$cc" "d-$cc.o" "s-$cc.o" || fail "$cc: cannot link the control"
		set +e
		timeout 20 "./sw-$cc" >"control-$cc.txt" 2>&1
		st=$?
		set -e
		if [ "$st" -eq 0 ]; then
			fail "$cc, seed $s: the walk holds without the rows inside sequences"
		fi
	done
	[ "$moving_cc" -gt 0 ] ||
		fail "$cc: no seed from $seed to $s gave a sequence that moves the CFA: nothing was proven"
done
echo "$total rewritten objects stepped and unwound at every instruction, $moving with sequences that move the CFA (their controls failed)" >&2
