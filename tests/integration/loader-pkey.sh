#!/bin/sh
# pvsub-loader's pkey backend (issue 12), what runs on every machine:
# pvsub-guestrun's text holds a gate opcode exactly at the gate sites its
# build records (the pkey gates' WRPKRU instructions, labelled *_wrpkru)
# and nowhere else; its rescan accepts those sites and refuses a copy of
# itself with one more WRPKRU (or an XRSTOR) planted elsewhere, status 132,
# before it looks for protection keys; the runtime checks the guest API of
# the backend it is handed; and --backend pkey where the CPU has no
# protection keys is refused with 129 and one line; the gates reach no
# indirect call or jump; their bodies run on a stack of their own.  The tests that need PKU are loader-pkey-hw.sh.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/pkey-lib.sh"
. "$top_srcdir/tests/integration/runtime-lib.sh"
[ -x "$RUNTIME" ] || skip "no pvsub-guestrun (configure found no musl-gcc)"
command -v python3 >/dev/null || skip "python3 is needed to read and plant bytes"
PVSUB_GUESTRUN=$RUNTIME
export PVSUB_GUESTRUN
[ -f "$GUESTS/loopback.tar" ] || fail "make did not build $GUESTS/loopback.tar"

# --- the recorded sites and the runtime's text -----------------------------------------
# sites FILE: the recorded WRPKRU sites of FILE, from its symbols, one
# hexadecimal address a line, sorted
sites() {
	nm "$1" | awk '$3 ~ /_pkey_(open|close)_wrpkru$/ { print "0x" $1 }' |
		python3 -c 'import sys; print("\n".join(hex(a) for a in sorted(int(l, 16) for l in sys.stdin)))'
}
# found FILE: every finding of pvsub-scan -p default in FILE, "PATTERN ADDRESS"
found() {
	set +e
	"$SCAN" --no-progress -q -p default -f json "$1" > scan.json
	set -e
	python3 - scan.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for f in sorted(d["files"][0].get("findings", []), key=lambda f: f["vaddr"]):
    print(f["pattern"], hex(f["vaddr"]))
PY
}
sites "$RUNTIME" > recorded
[ "$(wc -l < recorded)" -eq 9 ] || fail "recorded sites: $(cat recorded)"
sed 's/^/wrpkru /' recorded > want
found "$RUNTIME" > got
cmp -s want got || fail "the runtime's gate opcodes are not the recorded sites:
$(diff want got)"

plant planted 0f01ef
plant xrstor 0fae28 # xrstor (%rax)
# the control of the comparison above: the planted WRPKRU is found, and it
# is not a recorded site
found planted > got
[ "$(wc -l < got)" -eq 10 ] || fail "planted: $(cat got)"
grep -qx "wrpkru $(cat planted.at)" got || fail "planted: $(cat got)"
! grep -qx "$(cat planted.at)" recorded || fail "planted onto a recorded site"

# --- the runtime's rescan, under each backend ---------------------------------------------
# handoff RUNTIME BACKEND [API]: run RUNTIME with a hand-made image (a
# guard page, one page of code that returns 0, a guard page) in a sealed
# memfd, the header's backend BACKEND (0 none, 1 mprotect, 2 pkey) and its
# API addresses those of the pkey gates for backend 2, else of the
# mprotect ones, or API's (pkey or mprotect) when given
cat > handoff.py <<'PY'
import fcntl, os, subprocess, sys
import struct
runtime, backend = sys.argv[1], int(sys.argv[2])
table = sys.argv[3] if len(sys.argv) > 3 else ("pkey" if backend == 2 else "mprotect")
syms = {}
for line in subprocess.check_output(["nm", runtime], text=True).splitlines():
    f = line.split()
    if len(f) == 3:
        syms[f[2]] = int(f[0], 16)
gate = "_pkey" if table == "pkey" else ""
api = [syms["pvsub_tx" + gate], syms["pvsub_rx" + gate], syms["pvsub_clock_ns"],
       syms["pvsub_log" + gate], syms["pvsub_exit"],
       syms["pvsub_thread_start" + gate]]
page = 4096
regions = [(0, page), (page, page), (2 * page, page), (0, 0), (0, 0), (0, 0), (0, 0)]
hdr = struct.pack("<QIIQQQ", 0x6e75726275737670, 1, backend, 0x40000000, 3 * page, page)
hdr += b"".join(struct.pack("<QQ", *r) for r in regions)
hdr += b"".join(struct.pack("<Q", a) for a in api) + b"handoff.py".ljust(256, b"\0")
image = bytearray(b"\xcc" * 3 * page)
image[page:page + 3] = b"\x31\xc0\xc3"  # xor %eax, %eax; ret
fd = os.memfd_create("handoff", os.MFD_ALLOW_SEALING)
os.write(fd, hdr.ljust(page, b"\0") + bytes(image))
fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK |
            fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
os.dup2(fd, 3)
sys.exit(subprocess.run([runtime], pass_fds=(3,), env={}).returncode)
PY
# the probe the runtime makes itself: does pkey_alloc work here?
python3 -c 'import ctypes, sys; sys.exit(ctypes.CDLL(None, use_errno=True).syscall(330, 0, 0) < 0)' &&
	pku=yes || pku=no
echo "protection keys on this machine: $pku"

for be in 0 1 2; do
	# the planted copies: refused by the rescan (before the pkey probe)
	expect_status 132 python3 handoff.py ./planted $be
	grep -qx "pvsub-loader: handoff.py: wrpkru at $(cat planted.at) in .*planted (0x[0-9a-f]*-0x[0-9a-f]*), not a recorded gate site: refused" err ||
		fail "planted, backend $be: $(cat err)"
	expect_status 132 python3 handoff.py ./xrstor $be
	grep -q "^pvsub-loader: handoff.py: xrstor at $(cat xrstor.at) in .*xrstor " err ||
		fail "xrstor, backend $be: $(cat err)"
done
# the controls: the runtime itself, with its six WRPKRU, runs the image,
# or, under pkey without protection keys, gets past the rescan to the
# probe that refuses it
expect_status 0 python3 handoff.py "$RUNTIME" 0
expect_status 0 python3 handoff.py "$RUNTIME" 1
if [ "$pku" = yes ]; then
	expect_status 0 python3 handoff.py "$RUNTIME" 2
else
	expect_status 129 python3 handoff.py "$RUNTIME" 2
	[ "$(wc -l < err)" -eq 1 ] || fail "pkey probe: not one line: $(cat err)"
	grep -q "^pvsub-loader: backend pkey: this machine has no protection keys" err ||
		fail "pkey probe: $(cat err)"
fi
# the API is the backend's: an image linked against the other gates is refused
expect_status 128 python3 handoff.py "$RUNTIME" 2 mprotect
grep -q "handoff.py: linked for another build of pvsub-guestrun" err || fail "pkey api: $(cat err)"
expect_status 128 python3 handoff.py "$RUNTIME" 1 pkey
grep -q "handoff.py: linked for another build of pvsub-guestrun" err || fail "mprotect api: $(cat err)"
expect_status 128 python3 handoff.py "$RUNTIME" 3
grep -q "not a hand-off of this pvsub-loader" err || fail "backend 3: $(cat err)"

# through the loader: the planted copy refused, the runtime runs the guest
PVSUB_GUESTRUN=./planted expect_status 132 "$LOADER" --backend mprotect --ca "$CA" --loopback \
	"$GUESTS/loopback.tar"
expect_status 0 "$LOADER" --backend mprotect --ca "$CA" --loopback "$GUESTS/loopback.tar"

# --- --backend pkey, and the default -------------------------------------------------------
if [ "$pku" = no ]; then
	expect_status 129 "$LOADER" --backend pkey --ca "$CA" --loopback "$GUESTS/loopback.tar"
	[ "$(wc -l < err)" -eq 1 ] || fail "--backend pkey: not one line: $(cat err)"
	grep -qx "pvsub-loader: backend pkey: this machine has no protection keys (pkey_alloc: .*)" err ||
		fail "--backend pkey: $(cat err)"
	# the default is mprotect here: the guest runs, and its gates mprotect
	expect_status 0 "$LOADER" --ca "$CA" --loopback "$GUESTS/loopback.tar"
	if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
		expect_status 0 strace -f -o trace "$LOADER" --ca "$CA" --loopback "$GUESTS/loopback.tar"
		grep -q "mprotect(0x20000000, 1048576, PROT_READ|PROT_WRITE) = 0" trace ||
			fail "the default backend is not mprotect: $(grep -c mprotect trace) mprotect calls"
		! grep -q "pkey_mprotect" trace || fail "pkey_mprotect without protection keys"
	fi
fi

# --- what the gates call -------------------------------------------------------------------
# the gates never call back into guest code: every function their bodies
# reach (direct calls and jumps, followed through the runtime's text by
# symbol) holds no indirect call or jump, nor a call outside every
# function; the control: the same walk from pvsub_clock_ns finds musl's
# call of the vDSO through a pointer
if command -v objdump >/dev/null; then
	cat > reach.py <<'PY'
import bisect, re, subprocess, sys
binary, roots = sys.argv[1], sys.argv[2:]
# the functions, as symbols with a size (labels such as the gate sites have none)
funcs, bare = {}, {}
for line in subprocess.check_output(["nm", "-S", "--defined-only", binary], text=True).splitlines():
    f = line.split()
    if len(f) == 4 and f[2] in "tTwW" and int(f[1], 16):
        funcs.setdefault(int(f[0], 16), (f[3], int(f[1], 16)))
    elif len(f) == 3 and f[1] in "tTwW":
        bare.setdefault(int(f[0], 16), f[2])
starts = sorted(funcs)
# a symbol without a size (assembly such as musl's memcpy) outside every
# sized function: a function up to the next symbol
edges = sorted(set(starts) | set(bare))
for a, n in bare.items():
    i = bisect.bisect_right(starts, a) - 1
    if i >= 0 and a < starts[i] + funcs[starts[i]][1]:
        continue
    j = edges.index(a) + 1
    if j < len(edges):
        funcs[a] = (n, edges[j] - a)
starts = sorted(funcs)
names = {n: a for a, (n, _) in funcs.items()}

def owner(addr):
    i = bisect.bisect_right(starts, addr) - 1
    if i >= 0 and addr < starts[i] + funcs[starts[i]][1]:
        return starts[i]
    return None

insns = {}
for line in subprocess.check_output(["objdump", "-d", "--no-show-raw-insn", binary], text=True).splitlines():
    m = re.match(r"^\s+([0-9a-f]+):\s+(.*)$", line)
    if m:
        a = owner(int(m.group(1), 16))
        if a is not None:
            insns.setdefault(a, []).append(m.group(2).strip())
seen, todo, bad = set(), [names[r] for r in roots], []
while todo:
    f = todo.pop()
    if f in seen:
        continue
    seen.add(f)
    for insn in insns.get(f, []):
        op = insn.split()[0]
        if op.startswith(("call", "jmp")) and "*" in insn:
            bad.append("%s: %s" % (funcs[f][0], insn))
        elif op.startswith(("call", "j")):
            m = re.match(r"\S+\s+([0-9a-f]+)\b", insn)
            t = owner(int(m.group(1), 16)) if m else None
            if t is None:
                bad.append("%s: %s (outside every function)" % (funcs[f][0], insn))
            elif t != f:
                todo.append(t)
print("reached: " + " ".join(sorted(funcs[a][0] for a in seen)))
for b in bad:
    print("indirect: " + b)
sys.exit(1 if bad else 0)
PY
	expect_status 0 python3 reach.py "$RUNTIME" pvsub_tx pvsub_rx pvsub_log pvsub_tx_pkey \
		pvsub_rx_pkey pvsub_log_pkey
	for f in guestapi_tx guestapi_rx guestapi_log __memcpy_fwd; do
		grep "^reached: " out | tr ' ' '\n' | grep -qx "$f" ||
			fail "the walk did not reach $f: $(cat out)"
	done
	expect_status 1 python3 reach.py "$RUNTIME" pvsub_clock_ns
	grep -q "^indirect: __clock_gettime: call" out || fail "the control: $(cat out)"
fi

# --- the gates' own stack --------------------------------------------------------------------
# a gate's body never runs on the caller's stack (attack 8 finds its canary
# intact under the mprotect gates, which none uses too), while a function
# of the guest's own writes there (9, the control); loader-pkey-hw.sh runs
# both under pkey
pkey_attacks 8 9
for be in mprotect none; do
	expect_status 1 "$LOADER" --backend $be --ca "$CA" --loopback attack8.tar
	expect_status 0 "$LOADER" --backend $be --ca "$CA" --loopback attack9.tar
done
exit 0
