#!/bin/sh
# The rewriter on real kernel code: crypto modules of the Debian cloud
# kernel, each rewritten under a stress policy chosen at random from its own
# bytes (3-byte patterns that occur only inside displacements and immediates
# or across two instructions, dozens of occurrences), must rescan clean, load
# into the real kernel booted under QEMU, and pass the kernel's own crypto
# self-tests: every algorithm they register shows "selftest : passed" in
# /proc/crypto, with no oops, warning, unknown symbol or relocation error.
#
# The dependencies (cryptd, crypto_simd, twofish_common) get stress policies
# of their own and are rewritten too: they run in the same self-tests.
#
# PVSUB_SEED=N replays a run (the seed is printed).  With
# PVSUB_REWRITE_CRYPTO_BASELINE=1 nothing is rewritten: the original
# modules are loaded and checked the same way, which shows that the guest's
# checks pass on unchanged code and that a failure is the rewriter's.
#
# Skips without qemu, busybox-static or the kernel package (fails instead
# when PVSUB_REQUIRE_CORPUS=1).  The boot uses KVM when a probe shows that
# it works, TCG otherwise; PVSUB_QEMU_ACCEL=kvm|tcg forces one (see boot.sh).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/qemu/lib.sh"
qemu_tier python3
CHOOSE="$top_srcdir/tests/qemu/choose-patterns.py"
baseline=${PVSUB_REWRITE_CRYPTO_BASELINE:-0}

# Load order: dependencies first.  Paths relative to lib/modules/VERSION/.
DEPS="kernel/crypto/cryptd.ko kernel/crypto/crypto_simd.ko kernel/crypto/twofish_common.ko"
MODS="kernel/arch/x86/crypto/aesni-intel.ko kernel/arch/x86/crypto/sha256-ssse3.ko
kernel/crypto/twofish_generic.ko kernel/crypto/camellia_generic.ko
kernel/crypto/serpent_generic.ko kernel/crypto/sha3_generic.ko"

seed=${PVSUB_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "seed: $seed (replay with PVSUB_SEED=$seed)"

mkdir k orig rw
pats="./boot/vmlinuz-*"
for m in $DEPS $MODS; do
	pats="$pats ./lib/modules/*/$m"
done
# shellcheck disable=SC2086 # the patterns are split on purpose
dpkg-deb --fsys-tarfile "$KERNEL_DEB" | tar -x -C k --wildcards $pats
for m in $DEPS $MODS; do
	cp k/lib/modules/*/"$m" orig/
done

# name FILE: the module's name as the kernel knows it (aesni-intel.ko ->
# aesni_intel), which is what /proc/crypto and /proc/modules show.
name() {
	basename "$1" .ko | tr - _
}

# Each module: its stress policy, the scan of the original (exit 1: the
# policy has occurrences there), the rewrite (exit 0, every occurrence
# recorded, the input untouched, the signature gone), and the rescan of the
# output (clean).
i=0
files=
for m in $DEPS $MODS; do
	f=$(basename "$m")
	i=$((i + 1))
	python3 "$CHOOSE" --scan "$SCAN" --seed $((seed + i)) -o "$f.policy.xml" "orig/$f" ||
		fail "no stress policy for $f (PVSUB_SEED=$seed)"
	expect_status 1 "$SCAN" --no-progress --format json --policy "$f.policy.xml" "orig/$f"
	cp out "$f.scan.json"
	if [ "$baseline" = 1 ]; then
		files="$files -m orig/$f"
		continue
	fi
	sha=$(sha256sum "orig/$f")
	st=0
	"$SCAN" --no-progress --rewrite --policy "$f.policy.xml" -o "rw/$f" --format json \
		--manifest="rw/$f.manifest.xml" "orig/$f" >"$f.rewrite.json" 2>err || st=$?
	if [ "$st" -ne 0 ]; then
		# The refusals, not the whole report: it can be long.
		cat err
		python3 -c 'import json, sys
f = json.load(open(sys.argv[1]))["files"][0]
print("status %s, error %s" % (f.get("status"), f.get("error")))
for r in f.get("refused") or []:
    print("refused: %s+%#x: %s" % (r.get("section"), r.get("offset"), r.get("reason")))' \
			"$f.rewrite.json" || true
		fail "pvsub-scan --rewrite exited $st on $f (PVSUB_SEED=$seed)"
	fi
	[ "$(sha256sum "orig/$f")" = "$sha" ] || fail "--rewrite changed its input $f"
	python3 - "$f.scan.json" "$f.rewrite.json" "rw/$f.manifest.xml" <<'PY' || fail "rewrite report of $f (PVSUB_SEED=$seed)"
import collections, json, sys
import xml.etree.ElementTree as ET
scan = json.load(open(sys.argv[1]))["files"][0]
rep = json.load(open(sys.argv[2]))["files"]
if len(rep) != 1:
    sys.exit("%d files in the rewrite report" % len(rep))
rep = rep[0]
if rep.get("status") != "rewritten":
    sys.exit("status %r, expected 'rewritten'" % rep.get("status"))
if rep.get("refused"):
    sys.exit("refused sites: %s" % rep["refused"])
# One change may remove several occurrences (two patterns in one
# displacement; a pattern the first split already broke), and is recorded
# once, at one of them.  So each occurrence needs a record of the same
# section starting at most 8 bytes before it (the widest field: an imm64, or
# a displacement and an immediate) or 2 after (a split inside the pattern).
# The rescan below is what proves the occurrences gone; this proves that
# none went away unrecorded.
at = collections.defaultdict(list)
for r in rep.get("rewrites") or []:
    if not r.get("rule") or r.get("class") not in ("spanning", "embedded", "instruction"):
        sys.exit("malformed rewrite record %s" % r)
    at[r.get("section")].append(r.get("offset"))
for x in scan["findings"]:
    if not any(x["offset"] - 8 <= o <= x["offset"] + 2 for o in at[x["section"]]):
        sys.exit("no rewrite recorded for the %s occurrence at %s+%#x (%s)"
                 % (x["class"], x["section"], x["offset"], x["bytes"]))
root = ET.parse(sys.argv[3]).getroot()
in_manifest = [e for e in root.iter() if e.tag.split("}")[-1] == "rewrite"]
if len(in_manifest) != len(rep["rewrites"]):
    sys.exit("the manifest lists %d rewrites, the report %d" % (len(in_manifest), len(rep["rewrites"])))
rules = collections.Counter(r.get("rule") for r in rep["rewrites"])
print("%d occurrences, %d rewrites (%s); file %s -> %s bytes, code %s -> %s" % (
    len(scan["findings"]), len(rep["rewrites"]), ", ".join("%s %d" % kv for kv in sorted(rules.items())),
    rep.get("size_before"), rep.get("size_after"), rep.get("code_before"), rep.get("code_after")))
PY
	if tail -c 28 "rw/$f" | grep -q 'Module signature appended'; then
		fail "rw/$f still carries the module signature"
	fi
	expect_status 0 "$SCAN" --no-progress --policy "$f.policy.xml" "rw/$f"
	files="$files -m rw/$f"
done

# The guest loads everything, then checks.  Boot messages are cleared first:
# only what loading and self-testing printed is judged.
load=
for m in $DEPS $MODS; do
	load="$load $(basename "$m")"
done
want=
for m in $MODS; do
	want="$want $(name "$m")"
done
all=
for m in $DEPS $MODS; do
	all="$all $(name "$m")"
done
# Rewritten modules are unsigned: the kernel taints itself E (unsigned
# module, 8192) and says so once.  That and nothing else is allowed.
allowed_taint=8192
[ "$baseline" = 1 ] && allowed_taint=0
cat >guest.sh <<EOF
st=0
dmesg -c >/dev/null
echo "TAINT-BEFORE \$(cat /proc/sys/kernel/tainted)"
for f in $load; do
	if insmod /modules/\$f; then
		echo "LOADED \$f"
	else
		echo "INSMOD-FAILED \$f"
		st=1
	fi
done
for n in $all; do
	grep -q "^\$n " /proc/modules || { echo "NOT-IN-PROC-MODULES \$n"; st=1; }
done
echo "---- /proc/crypto"
cat /proc/crypto
echo "---- dmesg"
dmesg
echo "---- checks"
# Every algorithm of our modules passed its self-test; each of the six
# registered at least one.
awk -v all="$all" -v want="$want" '
function flush() {
	if (name != "" && (mod in ours)) {
		n[mod]++
		if (st != "passed") { print "SELFTEST-NOT-PASSED " mod " " drv " " st; bad = 1 }
	}
	name = ""; drv = ""; mod = ""; st = ""
}
BEGIN { k = split(all, a, " "); for (i = 1; i <= k; i++) ours[a[i]] = 1 }
\$1 == "name" { flush(); name = \$3 }
\$1 == "driver" { drv = \$3 }
\$1 == "module" { mod = \$3 }
\$1 == "selftest" { st = \$3 }
END {
	flush()
	k = split(want, w, " ")
	for (i = 1; i <= k; i++) {
		print "ALGS " w[i] " " (n[w[i]] + 0)
		if (!n[w[i]]) { print "NO-ALGORITHMS " w[i]; bad = 1 }
	}
	exit bad
}' /proc/crypto || st=1
dmesg | grep -v 'module verification failed: signature and/or required key missing - tainting kernel' |
	grep -E 'Oops|WARNING|BUG|Unknown symbol|[Rr]elocation|invalid module format|[Tt]aint|Call Trace|general protection|invalid opcode|Kernel panic|segfault|unable to handle|double fault|disagrees about|Exec format|rcu.*stall|soft lockup|hung task|[Oo]verflow|alg: .*(fail|error)|self-?tests? .*fail|RIP:' >/tmp/bad.txt
if [ -s /tmp/bad.txt ]; then
	sed 's/^/BAD-KMSG /' /tmp/bad.txt
	st=1
fi
t=\$(cat /proc/sys/kernel/tainted)
echo "TAINT-AFTER \$t"
if [ \$((t & ~$allowed_taint)) -ne 0 ]; then
	echo "BAD-TAINT \$t"
	st=1
fi
echo "GUEST-CHECKS \$st"
exit \$st
EOF

# shellcheck disable=SC2086 # $files is a list of options
qemu_boot -k k $files -l console.log -w boot guest.sh
status=$boot_status
touch console.log
tr -d '\r' <console.log >console.txt
# The verdicts on the test log; /proc/crypto and the kernel log too when
# something failed.
grep -E '^(TAINT-|LOADED|INSMOD-FAILED|NOT-IN-PROC|ALGS|NO-ALGORITHMS|SELFTEST-NOT|BAD-|GUEST-CHECKS)' console.txt || true
if [ "$status" -ne 0 ]; then
	sed -n '/^---- \/proc\/crypto$/,/^---- checks$/p' console.txt
	grep -q '^GUEST-CHECKS' console.txt || tail -60 console.txt
	fail "the guest exited $status (seed $seed)"
fi
grep -q '^GUEST-CHECKS 0$' console.txt || fail "the guest did not report its checks (seed $seed)"
exit 0
