#!/bin/sh
# pvsub-loader's lockdown (issue 12): certified guests that attack the
# runtime they run in, each killed under --backend mprotect and each
# succeeding under --backend none (the negative control that shows the
# attack is real and the test can fail).  The guests hold no system-call
# instruction (pvsub-scan certifies them under the guests' policy): they
# jump onto a `syscall; ret` in pvsub-guestrun's text, found by reading
# forward from an imported API function (tests/guest/attack.c).  Guests
# that hand the gates forged descriptors, or call them with machine state
# of their choosing (the thread pointer, the direction flag), must find
# every call refused or done exactly as the descriptors say, and the
# device's rings unchanged (tests/guest/forge.c); under none the same
# checks hold, as they are the API's, not the lockdown's.  Also: the
# runtime's text is clean under pvsub-scan, and the runtime's own rescan
# refuses a copy of itself with a planted WRPKRU.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/sign-lib.sh"
. "$top_srcdir/tests/integration/runtime-lib.sh"
LOADER="$top_builddir/pvsub-loader/pvsub-loader"
RUNTIME="$top_builddir/runtime/pvsub-guestrun"
[ -x "$RUNTIME" ] || skip "no pvsub-guestrun (configure found no musl-gcc)"
command -v python3 >/dev/null || skip "python3 is needed to plant bytes"
PVSUB_GUESTRUN=$RUNTIME
export PVSUB_GUESTRUN
GUEST_CFLAGS="-fPIE -mcmodel=small -ffreestanding -fno-stack-protector -fno-common -O2"
POLICY="$top_srcdir/examples/guests/guest-policy.xml"
SIGSYS=159 # 128 + 31, as the shell reports a death by SIGSYS
SIGSEGV=139
mkpki

# The runtime's data that attacks 24 and 25 overwrite, at the addresses
# an attacker reads from its static, non-PIE binary as nm does here.
sym() { nm "$RUNTIME" | awk -v s="$1" '$3 == s { print "0x" $1 }'; }
RUNTIME_DATA="-DSAVED_SP=$(sym saved_sp) -DGATE_CLOSE_PROT=$(sym gate_close_prot)"
[ "$RUNTIME_DATA" != "${RUNTIME_DATA#*SP=0x*PROT=0x}" ] || fail "runtime symbols: $RUNTIME_DATA"

# certify NAME SOURCE FLAGS...: NAME.tar, SOURCE built with FLAGS, certified.
certify() {
	name=$1 src=$2
	shift 2
	# shellcheck disable=SC2086
	"$CC" $GUEST_CFLAGS "$@" -I"$top_srcdir/runtime/include" -c -o "$name.o" "$src"
	expect_status 0 "$SCAN" --no-progress -q -p "$POLICY" --manifest "$name.xml" "$name.o"
	expect_status 0 "$SIGN" bundle --key s.key --cert s.pem -o "$name.tar" "$name.o" "$name.xml"
}

# attack N: attackN.tar, tests/guest/attack.c with ATTACK=N, certified.
attack() {
	# shellcheck disable=SC2086
	certify "attack$1" "$top_srcdir/tests/guest/attack.c" -DATTACK="$1" $RUNTIME_DATA
}

# run BACKEND STATUS N: attack N under BACKEND exits with STATUS.
run() {
	expect_status "$2" "$LOADER" --backend "$1" --ca ca.pem --loopback "attack$3.tar"
}

# killed N SYSCALL [STATUS]: attack N dies of SIGSYS under mprotect, at
# SYSCALL when strace can tell (the tracer sees the call before the filter
# kills it), and succeeds under none: status STATUS, 0 unless given (42:
# it ran code of its own making).
killed() {
	run mprotect $SIGSYS "$1"
	if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
		expect_status $SIGSYS strace -f -o trace "$LOADER" --backend mprotect --ca ca.pem \
			--loopback "attack$1.tar"
		grep -v -e '+++ killed by SIGSYS' -e '^[0-9]* *--- SIGSYS' trace | tail -n 1 > last
		grep -q "^[0-9]* *$2(" last || fail "attack $1: not killed at $2: $(cat last)"
	fi
	run none "${3:-0}" "$1"
}

# --- (a) system calls through the runtime's own syscall instruction ------------------
attack 1
killed 1 openat
rm -f pwned
run mprotect $SIGSYS 1
[ ! -e pwned ] || fail "openat: the file was created under lockdown"
run none 0 1
[ -e pwned ] || fail "openat under none: no file, so the attack test proves nothing"
attack 2
run mprotect $SIGSYS 2
[ ! -e pwned-exec ] || fail "execve: the shell ran under lockdown"
killed 2 execve
[ -e pwned-exec ] || fail "execve under none: the shell did not run"

# a second process (and so a second thread: clone is killed alike)
attack 17
run mprotect $SIGSYS 17
[ ! -e pwned-fork ] || fail "fork: the child ran under lockdown"
killed 17 fork
[ -e pwned-fork ] || fail "fork under none: the child did not run"

# other ABIs: an x32 system call is killed (under none it returns, ENOSYS
# where the kernel has no x32); an i386 creat() by jumping onto a cd 80
# byte pair in the runtime's text is killed before it creates its file,
# while under none the file appears (what the runtime's bytes after the
# cd 80 then do is no concern of the test: at most 10 s)
attack 15
killed 15 getpid # strace names the x32 call after its 64-bit twin
attack 16
run mprotect $SIGSYS 16
[ ! -e pwned-int80 ] || fail "int 0x80: the file was created under lockdown"
set +e
timeout 10 "$LOADER" --backend none --ca ca.pem --loopback attack16.tar >out 2>err
st=$?
set -e
[ "$st" -ne $SIGSYS ] || fail "int 0x80 under none: SIGSYS"
[ -e pwned-int80 ] || fail "int 0x80 under none: no file (status $st), so the test proves nothing"

# --- (b) writing its own code: SIGSEGV under every backend; writing its data is fine ----
attack 10
run mprotect $SIGSEGV 10
run none $SIGSEGV 10
attack 11
run mprotect 0 11
run none 0 11

# --- (c) the PKU Pitfalls family, each through the runtime's syscall ----------------------
# /proc/self/mem write into guest code; process_vm_writev into its own
# memory (killed at its getpid already: the guest cannot learn its pid
# otherwise); mprotect of its code to RWX; mmap with PROT_EXEC; its own
# seccomp filter (after PR_SET_NO_NEW_PRIVS); pkey_mprotect of its code
for a in 3:openat 4:getpid 5:mprotect 6:mmap 7:prctl 8:pkey_mprotect; do
	attack "${a%%:*}"
	killed "${a%%:*}" "${a#*:}"
done

# --- (d) the device window and its gates ---------------------------------------------------
# writing the window outside a gate: SIGSEGV under mprotect, done under
# none (where it is always open); jumping onto a gate's opening site runs
# the gate to its end, which closes the window again: the write after it
# is SIGSEGV; jumping onto a closing site asking for read-write: SIGSYS
# segv_at_window N: attack N dies of SIGSEGV under mprotect, at the
# window's first byte when strace can tell; it succeeds under none.
segv_at_window() {
	run mprotect $SIGSEGV "$1"
	if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
		expect_status $SIGSEGV strace -f -o trace "$LOADER" --backend mprotect --ca ca.pem \
			--loopback "attack$1.tar"
		grep -q "SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_ACCERR, si_addr=0x20000000}" trace ||
			fail "attack $1: not stopped at the window: $(grep SIGSEGV trace)"
	fi
	run none 0 "$1"
}
attack 12
segv_at_window 12
attack 13
segv_at_window 13
attack 14
killed 14 mprotect

# --- (e) the rest of PKU Pitfalls: sigreturn, mremap, file and shared mappings ------------
# rt_sigreturn with a frame forged on the guest's stack: under none it
# lands on the guest's code with the %rip, %rsp, %rax and %rbx it chose
# (42); the filter kills it before the kernel reads the frame
attack 18
killed 18 rt_sigreturn 42
# mremap of the device window into the guest's memory (under none the
# API's world is then the guest's to read and write), and of a page of
# guest code into the guest's memory
attack 19
killed 19 mremap
attack 20
killed 20 mremap
# mremap joining two clean pages (PKU Pitfalls): a page of guest code that
# ends in 0f 01 (an xgetbv's first bytes) and one that starts with ef,
# each certified clean; the second moved onto the page after the first
# makes the junction read 0f 01 ef, a WRPKRU.  Under none the move is
# done (the image is not sealed there) and the guest reads the WRPKRU back
# (42; it does not run it); the filter kills the mremap first
attack 27
killed 27 mremap 42
# mapping races (PKU Pitfalls), single-threaded as threads are refused
# here (tests/guest/threads.c's MAP_RACE; tests/qemu/loader-threads.sh
# runs the race itself under pkey, a thread spinning in the page): a page
# of certified code replaced through the runtime's syscall by a page that
# returns 42, 1: a fresh read-write-execute mapping mremap'd over it, 2:
# another page of its code mremap'd over it; under none the page is
# replaced and called (42), under mprotect the mmap or mremap is killed
for n in 1 2; do
	certify "attackrace$n" "$top_srcdir/tests/guest/threads.c" -DMAP_RACE=$n
done
killed race1 mmap 42
killed race2 mremap 42
# an executable file mapping: standard input, a file of code that no
# certificate covers ("mov $42, %eax; ret"), mapped read-execute and run
printf '\270\052\000\000\000\303' > payload.bin
attack 21
killed 21 mmap 42 < payload.bin
# a shared mapping aliased writable and executable: memfd_create, two
# MAP_SHARED views, the code written through one and run through the other
attack 22
killed 22 memfd_create 42
# open (the old call; openat is attack 1)
attack 23
rm -f pwned-open
killed 23 open
[ -e pwned-open ] || fail "open under none: no file"
rm -f pwned-open
run mprotect $SIGSYS 23
[ ! -e pwned-open ] || fail "open: the file was created under lockdown"

# --- (f) the runtime's own data, which the guest can write ----------------------------------
# pvsub_exit()'s saved stack pointer (guestapi.c's saved_sp) pointed at a
# stack forged in the guest's memory: pvsub_exit() then "returns" onto the
# runtime's `syscall; ret` with registers of the guest's choice, here
# mprotect(its page, PROT_READ | PROT_WRITE | PROT_EXEC), and on to code it
# writes there (42 under none).  That is a jump into the runtime's text
# with chosen registers, which a guest can make anyway: the filter kills it
attack 24
killed 24 mprotect 42
# gate_close_prot set to read-write: the next gate runs (its log line is
# written) and its closing site asks for read-write, which the filter kills
attack 25
killed 25 mprotect
grep -q "^pvsub-loader: guest: attack$" err || fail "attack 25 under none: no log line: $(cat err)"
run mprotect $SIGSYS 25
grep -q "^pvsub-loader: guest: attack$" err || fail "attack 25: the gate did not run: $(cat err)"

# --- (g) threads: refused with mprotect -----------------------------------------------------
# clone with CLONE_VM | CLONE_THREAD (and the flags a thread needs) onto a
# stack in the guest's memory: under none the thread runs and sets a flag
attack 26
killed 26 clone

# --- (h) forged descriptors through the real gates ------------------------------------------
# tests/guest/forge.c: each forged descriptor is refused with -EINVAL and
# nothing sent, and the rings are as they were (a ring that takes exactly
# 256 frames, which come back intact).  The same checks as
# tests/unit/test_guestapi.c, here through pvsub_tx() and pvsub_rx() as
# the guest imports them (the gates, with the window opened and closed),
# plus rx's side of each, a pointer sum that would reach the window, a
# "negative" count and a batch larger than the ring.  Under none the
# descriptors are checked the same way (the checks are the API's, not the
# lockdown's): the control that shows what none gives away is the window
# write of attack 12
certify forge1 "$top_srcdir/tests/guest/forge.c" -DFORGE=1
expect_status 0 "$LOADER" --backend mprotect --ca ca.pem --loopback forge1.tar
expect_status 0 "$LOADER" --backend none --ca ca.pem --loopback forge1.tar
# the descriptor array itself pointed into the device window
# (forge.c's window_rx()): pvsub_rx()'s at queue 0's ring head is refused
# and queue 0 keeps its 200 frames; pvsub_tx()'s at a ring slot holding a
# valid descriptor is refused.  Before runtime/guestapi.c checked the
# array, the gate wrote the received frame's length over the head (status
# 3, 195 frames lost) and sent the slot's descriptor (8).  Under none the
# gate refuses both too, and the guest, after checking that it aims at the
# head, writes the head itself (the control)
certify forge2 "$top_srcdir/tests/guest/forge.c" -DFORGE=2
certify forge2n "$top_srcdir/tests/guest/forge.c" -DFORGE=2 -DUNDER_NONE
expect_status 0 "$LOADER" --backend mprotect --ca ca.pem --loopback forge2.tar
expect_status 0 "$LOADER" --backend none --ca ca.pem --loopback forge2n.tar
# the direction flag set (std) when calling pvsub_tx() and pvsub_rx()
# (forge.c's set_df()): libc's memcpy() would copy downwards, other bytes
# than the descriptor names, below a ring slot in the window; each gate
# clears it (cld) first, and the frames come back intact (0; 3 before,
# when the transmitted frame came back as bytes from below its buffer).
# The same under none: the gates are the same code
certify forge4 "$top_srcdir/tests/guest/forge.c" -DFORGE=4
expect_status 0 "$LOADER" --backend mprotect --ca ca.pem --loopback forge4.tar
expect_status 0 "$LOADER" --backend none --ca ca.pem --loopback forge4.tar
# pvsub_rx()'s array aimed below the guest's stack pointer (forge.c's
# gate_stack()), where the body's frames were while the gates ran on the
# guest's stack: the guest points the array at each byte from 16 to 2048
# bytes below its stack pointer, on a stack whose every quadword reads as a
# valid descriptor.  Every call returns (0): the body now runs on the
# gates' own stack, and pvsub_rx() writes the received lengths back after
# its last copy.  Before both, a length written over the body's spilled
# pointer to the guest's memory sent the next frame's copy outside that
# memory (SIGSEGV: 139).  The same code under none
certify forge5 "$top_srcdir/tests/guest/forge.c" -DFORGE=5
expect_status 0 "$LOADER" --backend mprotect --ca ca.pem --loopback forge5.tar
expect_status 0 "$LOADER" --backend none --ca ca.pem --loopback forge5.tar
# a frame received onto the gate stub's return address (forge.c's
# hijack()): the guest runs on a stack in its memory and asks pvsub_rx()
# for an 8-byte frame at the slot where its call leaves the stub's return
# address; the frame holds the address of guest code that writes the
# window.  The body runs on the gates' own stack in the window, so all the
# guest gains is that jump once the stub has closed the window: SIGSEGV
# under mprotect.  Under none the same jump writes the window (42), which
# shows the slot was the return address.  (Before the gates had their own
# stack, a frame received onto the body's return address ran that code
# with the window open.)
certify forge6 "$top_srcdir/tests/guest/forge.c" -DFORGE=6
expect_status $SIGSEGV "$LOADER" --backend mprotect --ca ca.pem --loopback forge6.tar
expect_status 42 "$LOADER" --backend none --ca ca.pem --loopback forge6.tar
# the thread pointer (forge.c's errno_window()): with FSGSBASE, wrfsbase
# moves %fs without a system call, and libc's write(2) stores a failure's
# errno through it.  Standard error is /dev/full, so that writes fail; %fs
# aims the store (ENOSPC, 28) at queue 0's ring head, which holds 200
# frames, and the guest logs a line.  Under mprotect queue 0 keeps its 200
# frames (0): the runtime's pvsub_log() writes with a bare system call
# (before, its gate stored the errno in the device's state, with the
# window open: 3).  Under none the guest also checks its aim, sees no store
# from the gate, then calls libc's write() itself, which stores 28 on the
# head (0): the control that shows standard error failed and the aim was
# right.  Skipped where wrfsbase faults (no FSGSBASE: the attack does not
# exist there) or there is no /dev/full
certify forge3 "$top_srcdir/tests/guest/forge.c" -DFORGE=3 \
	-DERRNO_LOCATION="$(sym __errno_location)"
certify forge3n "$top_srcdir/tests/guest/forge.c" -DFORGE=3 -DUNDER_NONE \
	-DERRNO_LOCATION="$(sym __errno_location)" -DWRITE_FN="$(sym write)"
# full BACKEND BUNDLE: the loader's status, standard error to /dev/full
full() {
	set +e
	"$LOADER" --backend "$1" --ca ca.pem --loopback "$2" 2>/dev/full
	st=$?
	set -e
}
if [ -c /dev/full ]; then
	full none forge3n.tar
	if [ $st -eq 132 ]; then
		echo "wrfsbase faults here (no FSGSBASE): the thread-pointer attack is not run"
	else
		[ $st -eq 0 ] || fail "errno store under none: status $st"
		full mprotect forge3.tar
		[ $st -eq 0 ] || fail "errno store under mprotect: status $st"
	fi
else
	echo "no /dev/full: the thread-pointer attack is not run"
fi

# --- the locked-down process, seen from outside ---------------------------------------------
# a guest that spins for 2 s: its process under mprotect has a seccomp
# filter, no new privileges, no core dumps, and maps no shared library;
# under none it has no filter (the control)
cat > spin.c <<'CEOF'
#include <pvsub/guest.h>
int pvsub_guest_main(const struct pvsub_guest *g)
{
	uint64_t t0 = pvsub_clock_ns();

	(void)g;
	while (pvsub_clock_ns() - t0 < 2000000000u)
		;
	return 0;
}
CEOF
# shellcheck disable=SC2086
"$CC" $GUEST_CFLAGS -I"$top_srcdir/runtime/include" -c -o spin.o spin.c
expect_status 0 "$SCAN" --no-progress -q -p "$POLICY" --manifest spin.xml spin.o
expect_status 0 "$SIGN" bundle --key s.key --cert s.pem -o spin.tar spin.o spin.xml
# inspect BACKEND: the spinning guest's /proc status and maps in ./status, ./maps
inspect() {
	"$LOADER" --backend "$1" --ca ca.pem --loopback spin.tar 2>/dev/null &
	pid=$!
	sleep 1
	cat "/proc/$pid/status" > status
	cat "/proc/$pid/limits" > limits
	cat "/proc/$pid/maps" > maps 2>/dev/null || : > maps
	wait $pid || fail "spin under $1: status $?"
}
inspect mprotect
grep -q "^Seccomp:[[:space:]]*2$" status || fail "no seccomp filter: $(grep Seccomp status)"
grep -q "^NoNewPrivs:[[:space:]]*1$" status || fail "new privileges allowed"
grep -q "^Max core file size[[:space:]]*0[[:space:]]*0 " limits || fail "core dumps: $(grep core limits)"
grep -q "^Name:[[:space:]]*pvsub-guestrun" status || fail "not the runtime: $(grep Name status)"
if [ -s maps ]; then
	grep -q 'pvsub-guestrun$' maps || fail "maps: no runtime: $(cat maps)"
	! grep -q '\.so' maps || fail "a shared library is mapped: $(grep '\.so' maps)"
	# executable: the runtime's text, the guest's code, the vDSO (and vsyscall)
	[ "$(awk '$2 ~ /x/' maps | grep -cv -e 'pvsub-guestrun$' -e '\[vdso\]' -e '\[vsyscall\]')" -eq 1 ] ||
		fail "executable mappings: $(awk '$2 ~ /x/' maps)"
else
	echo "the runtime's maps cannot be read here (not dumpable, and no CAP_SYS_PTRACE)"
fi
inspect none
grep -q "^Seccomp:[[:space:]]*0$" status || fail "none: $(grep Seccomp status)"

# --- the runtime's rescan and its text ------------------------------------------------------
# pvsub-scan finds no gate opcode in the runtime but the pkey gates'
# WRPKRU (loader-pkey.sh checks that they are exactly the recorded sites);
# a copy with a WRPKRU planted after the end of one of its functions (never
# executed) is refused by the runtime's own rescan, status 132, while the
# unpatched runtime runs the same guest
expect_status 1 "$SCAN" --no-progress -p default "$RUNTIME"
grep -q ': wrpkru (0f 01 ef) ' out || fail "no WRPKRU found in the runtime: $(cat out)"
grep -E ': (vmfunc|xrstor|xrstors) \(' out && fail "a gate opcode other than WRPKRU in the runtime"
plant planted 0f01ef
expect_status 1 "$SCAN" --no-progress -q -p default planted
PVSUB_GUESTRUN=./planted expect_status 132 "$LOADER" --backend mprotect --ca ca.pem --loopback attack11.tar
grep -q "^pvsub-loader: attack11.tar: wrpkru at 0x[0-9a-f]* in .*planted .*not a recorded gate site: refused$" err ||
	fail "planted WRPKRU: $(cat err)"
# not even --backend none runs next to it: the rescan is not lockdown
PVSUB_GUESTRUN=./planted expect_status 132 "$LOADER" --backend none --ca ca.pem --loopback attack11.tar
expect_status 0 "$LOADER" --backend mprotect --ca ca.pem --loopback attack11.tar

# --- the runtime refuses what did not come from the loader ----------------------------------
expect_status 128 "$RUNTIME"
grep -q "started by pvsub-loader only" err || fail "runtime alone: $(cat err)"
# handoff CASE: run the runtime with a hand-made image (a guard page, one
# page of code that returns 0, a guard page) in a memfd, sealed unless
# CASE is unsealed, its header spoilt as CASE says; "good" is the control
cat > handoff.py <<'PY'
import fcntl, os, struct, subprocess, sys
runtime, case = sys.argv[1], sys.argv[2]
api = {}
for line in subprocess.check_output(["nm", runtime], text=True).splitlines():
    f = line.split()
    if len(f) == 3:
        api[f[2]] = int(f[0], 16)
addrs = [api[n] for n in ("pvsub_tx", "pvsub_rx", "pvsub_clock_ns", "pvsub_log", "pvsub_exit",
                          "pvsub_thread_start")]
page = 4096
regions = [(0, page), (page, page), (2 * page, page), (0, 0), (0, 0), (0, 0), (0, 0)]
magic, size, entry = 0x6e75726275737670, 3 * page, page
if case == "magic":
    magic ^= 1
if case == "api":
    addrs[0] += 16
if case == "region":
    regions[1] = (page, 4 * page)
if case == "entry":
    entry = 2 * page
hdr = struct.pack("<QIIQQQ", magic, 1, 0, 0x40000000, size, entry)
hdr += b"".join(struct.pack("<QQ", *r) for r in regions)
hdr += b"".join(struct.pack("<Q", a) for a in addrs) + b"handoff.py".ljust(256, b"\0")
image = bytearray(b"\xcc" * size)
image[page:page + 3] = b"\x31\xc0\xc3"  # xor %eax, %eax; ret
fd = os.memfd_create("handoff", os.MFD_ALLOW_SEALING)
os.write(fd, hdr.ljust(page, b"\0") + bytes(image))
if case != "unsealed":
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK |
                fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
os.dup2(fd, 3)
sys.exit(subprocess.run([runtime], pass_fds=(3,), env={}).returncode)
PY
expect_status 0 python3 handoff.py "$RUNTIME" good
for c in unsealed magic region entry api; do
	expect_status 128 python3 handoff.py "$RUNTIME" $c
	[ "$(wc -l < err)" -eq 1 ] || fail "handoff $c: not one line: $(cat err)"
done
grep -q "handoff.py: linked for another build of pvsub-guestrun" err || fail "api: $(cat err)"
exit 0
