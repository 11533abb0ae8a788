#!/bin/sh
# Rules for kernel objects and their tables: bp-rebase, push-imm, push-mem,
# lea-arith on rsp in short steps, and-btr, scratch with a moved base, and
# lock-prefixed instructions listed in .smp_locks (see kernel-rules.S).
# Besides the behaviour, the rewritten objects' ORC and .smp_locks tables
# are checked against the code (check.py orc, locks), and broken copies of
# them must fail those checks.
. "$top_srcdir/tests/rewrite/lib.sh"

cat > frame.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-kernel-frame" version="1" on-instruction="reject">
  <pattern id="bp" bytes="a8 fe ff"/>
  <pattern id="bp_load" bytes="ac fe ff"/>
  <pattern id="drap" bytes="90 fe ff"/>
  <pattern id="bp_push" bytes="88 01 00"/>
  <pattern id="push_rbx" bytes="cf df ef"/>
  <pattern id="pop_rbx" bytes="d7 df ef"/>
  <pattern id="push_fp" bytes="ca da ea"/>
  <pattern id="push_imm" bytes="cd dd ed"/>
  <pattern id="push_neg" bytes="ce de ee"/>
  <pattern id="push_sp" bytes="50 01 00"/>
  <pattern id="push_bp" bytes="cb db eb"/>
  <pattern id="push_idx" bytes="cc dc ec"/>
  <pattern id="lock_add" bytes="c6 d6 e6"/>
  <pattern id="lock_inc" bytes="c7 d7 e7"/>
  <pattern id="lock_imm" bytes="c9 d9 e9"/>
  <pattern id="lock_di" bytes="c8 d8 e8"/>
</policy>
XML

# fd ff ff, fe ff ff and ff ff ff are every disp32 from -0x238 to -0x80, 01
# 00 00 and 02 00 00 every one from 0x100 to 0x2ff: no lea with a 32-bit
# displacement can take a step of 0x238 or any split of it.
cat > stack.xml <<'XML'
<?xml version="1.0"?>
<policy xmlns="urn:pvsub:policy:1" id="rewrite-kernel-stack" version="1" on-instruction="reject">
  <pattern id="frame" bytes="38 02 00"/>
  <pattern id="frame_hi" bytes="02 00 00"/>
  <pattern id="neg2" bytes="fd ff ff"/>
  <pattern id="neg1" bytes="fe ff ff"/>
  <pattern id="ones" bytes="ff ff ff"/>
  <pattern id="small" bytes="01 00 00"/>
</policy>
XML

# kernel-rules.o (both parts) for the driver's first run; each part its own
# object to rewrite.
build kernel-rules
for part in 1 2; do
	"$CC" -c -DKR_PART=$part -o part$part.o "$RW/kernel-rules.S" ||
		fail "cannot assemble part $part of kernel-rules.S"
done
run_with kernel-rules.o expected.txt
run_with part1.o parts.txt part2.o
same_output expected.txt parts.txt

# tables_ok IN OUT REPORT: the ORC tables of OUT (rewritten from IN, as
# REPORT says) describe its code, and broken copies of them do not.
tables_ok() {
	check orc "$1" "$2" "$3" || fail "ORC tables of $2"
	for _to_what in orc-offset orc-ip; do
		check mangle "$_to_what" "$1" "$2" "bad-$2" || fail "cannot break $2"
		! check orc "$1" "bad-$2" "$3" 2>>mangled.log ||
			fail "check.py orc accepts $2 with $_to_what broken"
	done
}

scan_expect frame.xml part1.o bp:embedded:displacement bp:embedded:displacement \
	bp:embedded:displacement bp_load:embedded:displacement drap:embedded:displacement \
	drap:embedded:displacement bp_push:embedded:displacement push_rbx:embedded:displacement \
	pop_rbx:embedded:displacement push_fp:embedded:immediate push_imm:embedded:immediate \
	push_neg:embedded:immediate push_sp:embedded:displacement push_bp:embedded:displacement \
	push_idx:embedded:displacement lock_add:embedded:displacement \
	lock_inc:embedded:displacement lock_imm:embedded:immediate lock_di:embedded:displacement
rewrite_ok frame.xml part1.o frame.o bp=bp-rebase bp_load=load-dest drap=bp-rebase \
	bp_push=bp-rebase push_rbx=disp-rebase pop_rbx=disp-rebase \
	push_fp=push-imm push_imm=push-imm push_neg=push-imm push_sp=push-mem push_bp=push-mem \
	push_idx=push-mem lock_add=disp-rebase lock_inc=disp-rebase lock_imm=scratch \
	lock_di=scratch-disp
cp rewrite.json frame.json
tables_ok part1.o frame.o frame.json
check locks part1.o frame.o || fail ".smp_locks of frame.o"
check mangle lock part1.o frame.o bad-lock.o || fail "cannot break frame.o"
! check locks part1.o bad-lock.o 2>>mangled.log ||
	fail "check.py locks accepts an entry one byte off"

scan_expect stack.xml part2.o frame:embedded:immediate frame:embedded:immediate \
	frame_hi:embedded:immediate frame_hi:embedded:immediate neg1:embedded:immediate \
	neg1:embedded:immediate neg1:embedded:immediate neg1:embedded:immediate \
	small:embedded:displacement \
	ones:embedded:immediate ones:embedded:immediate
rewrite_ok stack.xml part2.o stack.o frame=lea-arith frame_hi=lea-arith neg1=and-btr \
	small=scratch ones=scratch
cp rewrite.json stack.json
tables_ok part2.o stack.o stack.json

run_with frame.o got.txt stack.o
same_output expected.txt got.txt
