#!/bin/sh
# pvsub-loader (issue 12): the example guest runs under
# --backend none --loopback; the guest's status is the loader's; and each
# refusal, from bundles built here, is one line naming the bundle with its
# documented status.  Each refused bundle is made from a good one that runs
# (the control that shows the refusal is the defect's doing).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/sign-lib.sh"
command -v python3 >/dev/null || skip "python3 is needed to edit bundles"
LOADER="$top_builddir/pvsub-loader/pvsub-loader"
PVSUB_GUESTRUN="$top_builddir/runtime/pvsub-guestrun"
[ -x "$PVSUB_GUESTRUN" ] || skip "no pvsub-guestrun (configure found no musl-gcc)"
export PVSUB_GUESTRUN
GUEST_CFLAGS="-fPIE -mcmodel=small -ffreestanding -fno-stack-protector -fno-common -O2"
POLICY="$top_srcdir/examples/guests/guest-policy.xml"
mkpki

# load STATUS BUNDLE... [--ca ...]: run the loader with the test CA.
load() {
	want=$1
	shift
	expect_status "$want" "$LOADER" --backend none --ca ca.pem --loopback "$@"
}

# refused STATUS WORDS BUNDLE [OPTION...]: the loader refuses BUNDLE with
# STATUS and one line on stderr that names it and contains WORDS.
refused() {
	want=$1 words=$2 bundle=$3
	shift 3
	expect_status "$want" "$LOADER" --backend none --ca ca.pem --loopback "$@" "$bundle"
	grep -v '^pvsub-loader: warning: ' err > reasons || true
	[ "$(wc -l < reasons)" -eq 1 ] || fail "$bundle: not one line: $(cat err)"
	grep -q "^pvsub-loader: $bundle: .*$words" reasons ||
		fail "$bundle: expected '$words' in: $(cat reasons)"
	[ ! -s out ] || fail "$bundle: the guest ran: $(cat out)"
}

# guest NAME [POLICY]: NAME.c (or NAME.s) compiled as guestlink.h says,
# scanned under POLICY (default: the guests' policy) and bundled as
# NAME.tar, signed by s.key.  The scan's status is in scan_status.
guest() {
	if [ -f "$1.c" ]; then
		# shellcheck disable=SC2086
		"${CC:-cc}" $GUEST_CFLAGS -I"$top_srcdir/runtime/include" -c -o "$1.o" "$1.c"
	else
		"$CC" -c -o "$1.o" "$1.s"
	fi
	set +e
	"$SCAN" --no-progress -q -p "${2:-$POLICY}" --manifest "$1.xml" "$1.o" >/dev/null
	scan_status=$?
	set -e
	expect_status 0 "$SIGN" bundle --key s.key --cert s.pem -o "$1.tar" "$1.o" "$1.xml"
}

# tamper IN OUT MEMBER [end]: OUT is IN with one byte of MEMBER (DRIVER: the
# object) flipped, in its middle or 8 bytes before its end.
tamper() {
	python3 - "$1" "$2" "$3" "${4:-mid}" <<-'PY'
	import io, sys, tarfile
	src = tarfile.open(sys.argv[1])
	out = tarfile.open(sys.argv[2], "w", format=tarfile.USTAR_FORMAT)
	hit = False
	for m in src.getmembers():
	    data = src.extractfile(m).read()
	    if m.name == sys.argv[3] or (sys.argv[3] == "DRIVER" and m.name.endswith(".o")):
	        data = bytearray(data)
	        data[len(data) // 2 if sys.argv[4] == "mid" else len(data) - 8] ^= 0x01
	        data, hit = bytes(data), True
	    out.addfile(m, io.BytesIO(data))
	out.close()
	assert hit, "no member " + sys.argv[3]
	PY
}

# --- the example guest, as make built it -----------------------------------------------
example=$top_builddir/examples/guests/loopback.tar
[ -f "$example" ] || fail "make did not build $example"
expect_status 0 "$LOADER" --backend none --ca "$top_builddir/examples/guests/pki/ca.pem" \
	--loopback "$example"
grep -q "^pvsub-loader: warning: --backend none: nothing isolates the guest" err ||
	fail "no warning for --backend none: $(cat err)"
grep -q "^pvsub-loader: guest: loopback: every frame came back, queues 2$" err ||
	fail "the self-test did not report: $(cat err)"
# its certificate is the example PKI's, not this test's
expect_status 126 "$LOADER" --backend none --ca ca.pem --loopback "$example"
# the same guest built by gcc and by clang, signed here
for cc in gcc clang; do
	command -v $cc >/dev/null || { echo "no $cc: the loopback guest is not built with it"; continue; }
	cp "$top_srcdir/examples/guests/loopback.c" lb-$cc.c
	saved_cc=$CC
	CC=$cc
	guest lb-$cc
	CC=$saved_cc
	load 0 lb-$cc.tar
	grep -q "every frame came back" err || fail "$cc: $(cat err)"
done

# --- the guest's status is the loader's ---------------------------------------------------
cat > ret7.c <<'CEOF'
#include <pvsub/guest.h>
int pvsub_guest_main(const struct pvsub_guest *g)
{
	return g->abi_version == PVSUB_GUEST_ABI_VERSION ? 7 : 1;
}
CEOF
guest ret7
[ "$scan_status" = 0 ] || fail "ret7.o is not certified"
load 7 ret7.tar
# pvsub_exit() from deep in the guest, with a frame transmitted on the way
cat > quit.c <<'CEOF'
#include <pvsub/guest.h>
__attribute__((noinline)) static void deep(const struct pvsub_guest *g, int n)
{
	struct pvsub_frame f = {.off = 0, .len = 60};

	if (n == 0) {
		pvsub_tx(0, &f, 1);
		pvsub_exit(5);
	}
	deep(g, n - 1);
	pvsub_log("not reached", 11);
}
int pvsub_guest_main(const struct pvsub_guest *g)
{
	deep(g, 10);
	return 1;
}
CEOF
guest quit
load 5 quit.tar
grep -q "not reached" err && fail "pvsub_exit returned"
# statuses past the guest's range are the loader's to give
sed 's/? 7 : 1/? 126 : 1/' ret7.c > big.c
guest big
load 131 big.tar
grep -q "pvsub-loader: the guest's exit status 126 is outside 0-125" err || fail "$(cat err)"
sed 's/? 7 : 1/? -1 : 1/' ret7.c > neg.c
guest neg
load 131 neg.tar
# a guest in two bundles: the main object calls the other's function
cat > two_main.c <<'CEOF'
#include <pvsub/guest.h>
int helper(int x);
int pvsub_guest_main(const struct pvsub_guest *g)
{
	(void)g;
	return helper(20) == 42 ? 3 : 1;
}
CEOF
printf 'int helper(int x) { return 2 * x + 2; }\n' > two_lib.c
guest two_main
guest two_lib
load 3 two_main.tar two_lib.tar
refused 127 "unknown symbol .helper. (not in the guest API)" two_main.tar

# --- verification refusals (126) ---------------------------------------------------------
# the signature value itself (the end of the CMS structure), and the
# manifest after it was signed
tamper ret7.tar badsig.tar manifest.xml.p7s end
refused 126 "manifest.xml: bad signature" badsig.tar
tamper ret7.tar badmanifest.tar manifest.xml
refused 126 "manifest.xml: bad signature" badmanifest.tar
expect_status 126 "$LOADER" --backend none --ca ca2.pem --loopback ret7.tar
grep -q "^pvsub-loader: ret7.tar: manifest.xml: untrusted signer" err || fail "$(cat err)"
# the manifest does not describe the object in the bundle
tamper ret7.tar mismatch.tar DRIVER
refused 126 "hash mismatch" mismatch.tar
# the verdict rejected
printf '#include <pvsub/guest.h>\nint pvsub_guest_main(const struct pvsub_guest *g)\n{\n\t(void)g;\n\t__asm__ volatile(".byte 0x0f,0x01,0xef");\n\treturn 0;\n}\n' > gate.c
guest gate
[ "$scan_status" = 1 ] || fail "gate.o was not rejected by the scan"
refused 126 "verdict is not certified" gate.tar

# --- load-time checks (133): the linked code rescanned for the policy's patterns ---------
# reloc NAME TYPE ADDEND DISK: NAME.s, whose entry point loads a value that
# a relocation of TYPE (R_X86_64_32 in a mov's immediate, R_X86_64_PC32 in a
# lea's displacement) computes from its own address plus ADDEND, with DISK
# as the field's bytes in the file; it returns 4 + (the value is its own
# address), so that the guest's status shows the relocation was applied.
# The image is linked at 0x40000000 and its code starts a guard page
# later: pvsub_guest_main is at 0x40001000.
reloc() {
	case $2 in
	R_X86_64_32) insn='.byte 0xb8' ;;
	R_X86_64_PC32) insn='.byte 0x48, 0x8d, 0x05' ;;
	esac
	printf '\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\t%s\n' "$insn" > "$1.s"
	printf '\t.reloc ., %s, pvsub_guest_main%s\n\t.long %s\n' "$2" "$3" "$4" >> "$1.s"
	printf '\tcmpl $0x40001000, %%eax\n\tsete %%al\n\tmovzbl %%al, %%eax\n\taddl $4, %%eax\n\tret\n' >> "$1.s"
}
# The field's bytes on disk spell syscall: the scan certifies the object
# with load-time checks.  With addend -0xaf1 the value is 0x4000050f, whose
# bytes 0f 05 00 40 spell it again in the linked code: refused, naming the
# bundle, the place and the pattern.  With addend 0 (the value 0x40001000)
# nothing forms: the guest runs and sees its own address (status 5).
reloc lt-syscall R_X86_64_32 -0xaf1 0x050f
reloc lt-clean R_X86_64_32 +0 0x050f
for g in lt-syscall lt-clean; do
	guest $g
	[ "$scan_status" = 0 ] || fail "$g.o does not certify"
	grep -q 'result="certified-with-load-time-checks"' $g.xml || fail "$g.o: $(grep verdict $g.xml)"
done
refused 133 "lt-syscall.o: .text+0x1: the linked code at 0x40001001 holds syscall (0f 05), which its policy forbids" lt-syscall.tar
load 5 lt-clean.tar
expect_status 5 "$LOADER" --backend mprotect --ca ca.pem --loopback lt-clean.tar
# a gate opcode, wrpkru 0f 01 ef, from the value 0x40ef010f; the runtime's
# own rescan would refuse it too (132), but the loader's comes first
reloc lt-wrpkru R_X86_64_32 +0xeef10f 0x00ef010f
guest lt-wrpkru
grep -q 'result="certified-with-load-time-checks"' lt-wrpkru.xml || fail "lt-wrpkru.o: $(grep verdict lt-wrpkru.xml)"
refused 133 "lt-wrpkru.o: .text+0x1: .* holds wrpkru (0f 01 ef)" lt-wrpkru.tar
# PC-relative: lea's displacement is S + A - P with S = 0x40001000 and
# P = 0x40001003: with A = 0x512 it is 0x050f, whose bytes spell syscall;
# with A = -4 it is -7, which points lea at the entry point itself
reloc lt-pc R_X86_64_PC32 +0x512 0x050f
reloc lt-pc-clean R_X86_64_PC32 -4 0x050f
for g in lt-pc lt-pc-clean; do
	guest $g
	[ "$scan_status" = 0 ] || fail "$g.o does not certify"
done
refused 133 "lt-pc.o: .text+0x3: .*holds syscall (0f 05)" lt-pc.tar
load 5 lt-pc-clean.tar
# a certified object (zeros on disk: nothing for the scan to see) whose
# relocated value spells syscall is refused all the same: every bundle's
# linked code is rescanned, whatever its verdict says
reloc lt-hidden R_X86_64_32 -0xaf1 0
guest lt-hidden
grep -q 'result="certified"' lt-hidden.xml || fail "lt-hidden.o: $(grep verdict lt-hidden.xml)"
refused 133 "lt-hidden.o: .text+0x1: .*holds syscall (0f 05)" lt-hidden.tar
# two bundles: the line names the one whose code holds the occurrence
expect_status 133 "$LOADER" --backend none --ca ca.pem --loopback lt-syscall.tar two_lib.tar
grep -q "^pvsub-loader: lt-syscall.tar: lt-syscall.o: .text+0x1: .*holds syscall" err ||
	fail "two bundles: $(cat err)"
expect_status 5 "$LOADER" --backend none --ca ca.pem --loopback lt-clean.tar two_lib.tar

# a policy that does not cover syscall; the same object under the guests'
# policy is ret7.tar, which runs
cp ret7.c nosys.c
guest nosys default
refused 126 "does not cover profile syscall" nosys.tar
printf '<?xml version="1.0"?>\n<policy xmlns="urn:pvsub:policy:1" id="nogate" version="1">\n  <include profile="syscall"/>\n</policy>\n' > nogate.xml
cp ret7.c nogate.c
guest nogate nogate.xml
refused 126 "does not cover profile default" nogate.tar
# --policy: the manifest must have been made under exactly that policy
load 7 ret7.tar --policy "$POLICY"
refused 126 "policy mismatch" ret7.tar --policy default

# --- link refusals (127) -------------------------------------------------------------------
cat > unknown.c <<'CEOF'
#include <pvsub/guest.h>
int puts(const char *s);
int pvsub_guest_main(const struct pvsub_guest *g)
{
	(void)g;
	return puts("hello") > 0 ? 0 : 1;
}
CEOF
guest unknown
refused 127 "puts" unknown.tar
# a GOT-relative type that only -mcmodel=large emits
printf '\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\txor %%eax, %%eax\n\tret\n\t.data\n\t.quad pvsub_guest_main@GOTOFF\n' > gotoff.s
guest gotoff
[ "$scan_status" = 0 ] || fail "gotoff.o does not certify"
readelf -rW gotoff.o | grep -q R_X86_64_GOTOFF64 || fail "gotoff.o has no GOTOFF64"
refused 127 "GOTOFF64" gotoff.tar
# an absolute 32-bit address that does not fit: the image is linked for
# pvsub-guestrun's fixed base (1 GiB), and 3 GiB past it is beyond 4 GiB
printf '\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tmovl $pvsub_guest_main+0xc0000000, %%eax\n\tret\n' > abs32.s
guest abs32
readelf -rW abs32.o | grep -q 'R_X86_64_32 ' || fail "abs32.o has no R_X86_64_32"
refused 127 "abs32.o: .*does not fit" abs32.tar
# the control: the image's own address fits
printf '\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tmovl $pvsub_guest_main, %%eax\n\tcmpl $0x40000000, %%eax\n\tsetae %%al\n\tmovzbl %%al, %%eax\n\tret\n' > abs32ok.s
guest abs32ok
load 1 abs32ok.tar
# a bundle may carry a shared object, which pvsub-scan certifies too: not a guest
"$CC" -shared -fPIC -nostdlib -o shared.so ret7.c -I"$top_srcdir/runtime/include"
expect_status 0 "$SCAN" --no-progress -q -p "$POLICY" --manifest shared.xml shared.so
expect_status 0 "$SIGN" bundle --key s.key --cert s.pem -o shared.tar shared.so shared.xml
refused 127 "shared.so: not a relocatable object" shared.tar
sed 's/pvsub_guest_main/guest_main/' ret7.c > noentry.c
guest noentry
refused 127 "pvsub_guest_main" noentry.tar

# --- backends and usage ---------------------------------------------------------------------
# mprotect runs the guest, locked down; pkey too where the machine has
# protection keys, else it is refused with 129 and one line; without
# --backend, pkey where it has them, else mprotect: the guest runs either
# way (loader-pkey.sh and loader-pkey-hw.sh test which one ran)
expect_status 7 "$LOADER" --backend mprotect --ca ca.pem --loopback ret7.tar
grep -q "warning" err && fail "mprotect warns: $(cat err)"
set +e
"$LOADER" --backend pkey --ca ca.pem --loopback ret7.tar >out 2>err
st=$?
set -e
if [ $st -ne 7 ]; then
	[ $st -eq 129 ] || fail "pkey: status $st: $(cat err)"
	grep -Eqx "pvsub-loader: backend pkey: this machine has no protection keys .*" err ||
		fail "pkey: $(cat err)"
fi
expect_status 7 "$LOADER" --ca ca.pem --loopback ret7.tar
expect_status 128 "$LOADER" --backend vmfunc --ca ca.pem --loopback ret7.tar
expect_status 128 "$LOADER" --backend none --ca ca.pem ret7.tar
grep -q "loopback is required" err || fail "no --loopback: $(cat err)"
expect_status 128 "$LOADER" --backend none --loopback ret7.tar
expect_status 128 "$LOADER" --backend none --ca ca.pem --loopback no-such.tar
grep -q "^pvsub-loader: no-such.tar: " err || fail "unreadable bundle not named: $(cat err)"
expect_status 128 "$LOADER" --bogus
grep -q "Try 'pvsub-loader --help'" err || fail "no Try line: $(cat err)"
expect_status 0 "$LOADER" --help
grep -q "^Usage: pvsub-loader " out || fail "--help: $(cat out)"
# every long option is in --help and in the man page, and so is every status
sed -n '/^static const struct option options/,/^};/p' "$top_srcdir/pvsub-loader/main.c" |
	sed -n 's/^[[:space:]]*{"\([a-z-]*\)".*/\1/p' > options
[ "$(wc -l < options)" -ge 6 ] || fail "cannot read the options from main.c: $(cat options)"
while read -r o; do
	grep -q -- "--$o\b" out || fail "--help does not list --$o"
	man_o=$(printf '%s' "--$o" | sed 's/-/\\-/g')
	grep -qF -- "$man_o" "$top_srcdir/man/pvsub-loader.8" || fail "pvsub-loader(8) does not list --$o"
done < options
for st in 126 127 128 129 130 131 132 133; do
	grep -q "^\.B $st\$" "$top_srcdir/man/pvsub-loader.8" || fail "pvsub-loader(8) does not list status $st"
	grep -q "$st " out || fail "--help does not list status $st"
done
expect_status 0 "$LOADER" --version
grep -q "^pvsub-loader (pvsub) " out || fail "--version: $(cat out)"
exit 0
