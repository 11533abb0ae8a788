#!/bin/sh
# Guest threads under the pkey backend (issue 12), where this machine's CPU
# may have no protection keys: the Debian cloud kernel booted under QEMU
# (-cpu max emulates PKU), as tests/qemu/loader-pkey.sh does, runs
# tests/guest/threads.c's guests under pvsub-loader:
#   threads -DPKEY_THREADS: two threads each move 300 frames through their
#     own queue and check every byte, six more count once, a ninth start is
#     refused (-EAGAIN), while the main thread logs through the gates: 0
#     under pkey; under mprotect and none the first start is refused
#     (-EPERM): 2, its check's number.
#   cloneN -DCLONE_ATTACK: a jump onto the runtime's clone `syscall` with
#     flags of the guest's choosing: killed (SIGSYS, 159) under pkey for a
#     fork (SIGCHLD), CLONE_SETTLS added, CLONE_THREAD missing, vfork
#     flags; the control, the same jump with the runtime's own flags,
#     starts the thread (42).
#   window -DWINDOW_WRITE: a thread started through the API, while its
#     creator is inside the gate with the window open, writes the window:
#     SIGSEGV (139) under pkey, as the new thread closes the window before
#     its first guest instruction; refused (2) under mprotect.
#   exit -DTHREAD_EXIT: a thread's pvsub_exit(7) ends the guest (7).
#   raceN -DMAP_RACE=N (PKU Pitfalls' mapping races): while a thread spins
#     in a page of certified code, the main thread replaces that page
#     through the runtime's `syscall` (1: mmap of fresh executable memory,
#     then mremap over the page; 2: mremap of another page of its code):
#     killed (SIGSYS, 159) under pkey, so the spinner never ran a replaced
#     byte; loader-attacks.sh runs the single-threaded control (42 under
#     none).  The guest's last line must be the one it logs right before
#     the call that is killed (race 1: the mmap of executable memory; race
#     2: the mremap), after it saw the spinner running in the page, so
#     that a SIGSYS elsewhere fails; likewise the clone attacks' line
#     before their jump.
#   df -DDOUBLE_FETCH: a thread flips the descriptor the main thread hands
#     pvsub_tx() (then pvsub_rx()) in a loop, between a valid buffer and
#     places outside the guest's memory (the window, the runtime's text,
#     the guest's data, past the end, wrapping) or an oversized length:
#     every call is refused or done as the valid descriptor says, every
#     frame that comes back is the valid buffer's, the guest's canary and
#     queue 1's pending frames are intact (0); its counts of calls done and
#     refused, and of calls during which the descriptor changed (read
#     right before and after each call), are printed, and the last two
#     must not be 0 (21), or the flips never met a call in progress.  The gates read each descriptor once, into a
#     snapshot, and use that copy (runtime/guestapi.c); with a double fetch
#     planted by hand (the copy made from the guest's descriptor, not the
#     snapshot) this guest failed within its run: 10 (a frame from
#     elsewhere came back) for pvsub_tx, 13 for pvsub_rx.
# The guest has two vCPUs (boot.sh -s 2: under TCG, one host thread each),
# so that its threads do run at the same time, not by turns.
# Skips where the QEMU guest has no protection keys, and as the other QEMU
# tests do.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/qemu/lib.sh"
. "$top_srcdir/tests/integration/pkey-lib.sh"

real_kernel_tier
[ -x "$RUNTIME" ] || skip "no pvsub-guestrun (configure found no musl-gcc)"
qemu_tier ldd
[ -f "$GUESTS/loopback.tar" ] || fail "make did not build $GUESTS/loopback.tar"

# guest NAME FLAGS...: NAME.tar, tests/guest/threads.c built with FLAGS
guest() {
	name=$1
	shift
	certified_guest "$name" "$top_srcdir/tests/guest/threads.c" "$@"
}
# the clone `syscall` itself: two bytes before the site seccomp reports
site=$(nm "$RUNTIME" | awk '$3 == "gate_clone_site" { print $1 }')
[ -n "$site" ] || fail "no gate_clone_site in $RUNTIME"
syscall=$(printf '0x%x' $((0x$site - 2)))
guest threads -DPKEY_THREADS
guest window -DWINDOW_WRITE
guest exit -DTHREAD_EXIT
# 0x50f00: the runtime's flags; 0x11: SIGCHLD alone (fork); 0x350f00: with
# CLONE_SETTLS and CLONE_PARENT_SETTID; 0x40f00: without CLONE_THREAD;
# 0x4111: vfork's CLONE_VM | CLONE_VFORK | SIGCHLD
guest race1 -DMAP_RACE=1
guest race2 -DMAP_RACE=2
guest df -DDOUBLE_FETCH
for f in 0x50f00 0x11 0x350f00 0x40f00 0x4111; do
	guest "clone$f" -DCLONE_ATTACK=$f -DCLONE_SYSCALL="$syscall"
done

set -- -f "$LOADER=/pvsub-loader" -f "$RUNTIME=/pvsub-guestrun" -f "$CA=/ca.pem"
for lib in $(ldd "$LOADER" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
	set -- "$@" -f "$(readlink -f "$lib")=$lib"
done
for g in threads window exit race1 race2 df clone0x50f00 clone0x11 clone0x350f00 clone0x40f00 clone0x4111; do
	set -- "$@" -f "$PWD/$g.tar=/g/$g.tar"
done
# shellcheck disable=SC2016 # expanded in the guest
qemu_boot -s 2 -k "$KERNEL_DEB" -l console.log "$@" -c '
export PVSUB_GUESTRUN=/pvsub-guestrun
for run in "threads pkey" "threads mprotect" "threads none" "clone0x50f00 pkey" \
	"clone0x11 pkey" "clone0x350f00 pkey" "clone0x40f00 pkey" "clone0x4111 pkey" \
	"window pkey" "window mprotect" "exit pkey" "race1 pkey" "race2 pkey" "df pkey"; do
	set -- $run
	/pvsub-loader --backend $2 --ca /ca.pem --loopback /g/$1.tar >/dev/null 2>/tmp/err
	echo "THREADS: $1 $2 $?"
	echo "LAST: $1 $2 $(grep "^pvsub-loader: guest: " /tmp/err | tail -n 1)"
	grep "double fetch" /tmp/err | sed "s/^/COUNTS: /"
done'
[ "$boot_status" -eq 0 ] || fail "the boot failed ($boot_status): $(tail -n 20 console.log)"
tr -d '\r' < console.log | sed -n 's/^THREADS: //p' > got
cat got
tr -d '\r' < console.log | sed -n 's/^COUNTS: //p'
if [ "$(head -n 1 got)" = "threads pkey 129" ]; then
	skip "no protection keys in the QEMU guest's CPU either: pkey threads skipped"
fi
cat > want <<'EXP'
threads pkey 0
threads mprotect 2
threads none 2
clone0x50f00 pkey 42
clone0x11 pkey 159
clone0x350f00 pkey 159
clone0x40f00 pkey 159
clone0x4111 pkey 159
window pkey 139
window mprotect 2
exit pkey 7
race1 pkey 159
race2 pkey 159
df pkey 0
EXP
cmp -s want got || fail "threads under pkey in QEMU:
$(diff want got)"
# the kills came right after the guest's last line, logged just before the
# attacking call
g='pvsub-loader: guest:'
tr -d '\r' < console.log | sed -n 's/^LAST: //p' | grep -e '^race' -e '^clone0x[0-9a-f]* pkey' > got
cat > want <<EXP
clone0x50f00 pkey $g clone attack: jump
clone0x11 pkey $g clone attack: jump
clone0x350f00 pkey $g clone attack: jump
clone0x40f00 pkey $g clone attack: jump
clone0x4111 pkey $g clone attack: jump
race1 pkey $g map race: spinner in race_page, mmap
race2 pkey $g map race: spinner in race_page, mremap
EXP
cmp -s want got || fail "the guests' last lines before their kills:
$(diff want got)"
exit 0
