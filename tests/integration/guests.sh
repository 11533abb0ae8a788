#!/bin/sh
# The example guests that make builds, certifies, signs and bundles
# (examples/guests), run under pvsub-loader --loopback with each backend
# this machine runs, their results asserted; and each again with a config
# bundle (a second, signed object whose strong definition replaces the
# guest's weak defaults) that makes its check fail, to show it can.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/sign-lib.sh"
command -v python3 >/dev/null || skip "python3 is needed to build the reference frames"
LOADER="$top_builddir/pvsub-loader/pvsub-loader"
PVSUB_GUESTRUN="$top_builddir/runtime/pvsub-guestrun"
[ -x "$PVSUB_GUESTRUN" ] || skip "no pvsub-guestrun (configure found no musl-gcc)"
export PVSUB_GUESTRUN
GUESTS=$top_builddir/examples/guests
CA=$GUESTS/pki/ca.pem
POLICY="$top_srcdir/examples/guests/guest-policy.xml"
GUEST_CFLAGS="-fPIE -mcmodel=small -ffreestanding -fno-stack-protector -fno-common -O2"
for g in pktgen sink echo; do
	[ -f "$GUESTS/$g.tar" ] || fail "make did not build $GUESTS/$g.tar"
done

# run STATUS BACKEND BUNDLE...: the guest's log lines (without the
# loader's prefix) in ./log
run() {
	want=$1 be=$2
	shift 2
	expect_status "$want" "$LOADER" --backend "$be" --ca "$CA" --loopback "$@"
	grep -v '^pvsub-loader: warning: ' err | sed -n 's/^pvsub-loader: guest: //p' > log
	[ "$(grep -cv '^pvsub-loader: warning: ' err)" -eq "$(wc -l < log)" ] ||
		fail "$*: a line not from the guest: $(cat err)"
}

# config NAME C-SOURCE: a config bundle NAME.tar, certified under the
# guests' policy and signed by the examples' signer
config() {
	printf '#include "guestlib.h"\n%s\n' "$2" > "$1.c"
	# shellcheck disable=SC2086
	"${CC:-cc}" $GUEST_CFLAGS -I"$top_srcdir/runtime/include" \
		-I"$top_srcdir/examples/guests" -c -o "$1.o" "$1.c"
	expect_status 0 "$SCAN" --no-progress -q -p "$POLICY" --manifest "$1.xml" "$1.o"
	expect_status 0 "$SIGN" bundle --key "$GUESTS/pki/s.key" --cert "$GUESTS/pki/s.pem" \
		-o "$1.tar" "$1.o" "$1.xml"
}

for be in none mprotect; do
	# --- pktgen: 1000 frames of 60, 128, 512 and 1514 bytes in turn ----------------
	run 0 "$be" "$GUESTS/pktgen.tar"
	bytes=$((250 * (60 + 128 + 512 + 1514)))
	grep -Eqx "pktgen: sent 1000 frames $bytes bytes, back 1000 in order, bad 0, [0-9]+ ns" log ||
		fail "pktgen ($be): $(cat log)"
	# --- sink: feeds itself 1000 frames of 100 bytes and checks them -------------
	run 0 "$be" "$GUESTS/sink.tar"
	grep -qx "sink: received 1000 frames 100000 bytes, lost 0, late 0, bad 0, other 0" log ||
		fail "sink ($be): $(cat log)"
	# --- echo: its ARP and ICMP answers, byte for byte ------------------------------
	run 0 "$be" "$GUESTS/echo.tar"
	cp log "echo-$be.log"
	grep -qx "echo: selftest passed" log || fail "echo ($be): $(cat log)"
done

# the same guests built by clang, certified and signed here, run as well
if command -v clang >/dev/null; then
	for g in pktgen sink echo; do
		# shellcheck disable=SC2086
		clang $GUEST_CFLAGS -I"$top_srcdir/runtime/include" -c -o $g-clang.o \
			"$top_srcdir/examples/guests/$g.c"
		set +e
		"$SCAN" --no-progress -q -p "$POLICY" --manifest $g-clang.xml $g-clang.o >/dev/null
		st=$?
		set -e
		if [ $st = 1 ]; then
			expect_status 0 "$SCAN" --no-progress -q -p "$POLICY" --rewrite -o $g-rw.o $g-clang.o
			mv $g-rw.o $g-clang.o
			expect_status 0 "$SCAN" --no-progress -q -p "$POLICY" --manifest $g-clang.xml $g-clang.o
		fi
		expect_status 0 "$SIGN" bundle --key "$GUESTS/pki/s.key" --cert "$GUESTS/pki/s.pem" \
			-o $g-clang.tar $g-clang.o $g-clang.xml
		run 0 mprotect $g-clang.tar
	done
	grep -qx "echo: selftest passed" log || fail "echo (clang): $(cat log)"
	cp log echo-clang.log
else
	echo "no clang: the example guests are not built with it"
fi

# pktgen configured: 37 frames of 64 and 1000 bytes, one per call
config gen37 'const struct pktgen_config pktgen_config = {
	.count = 37, .batch = 1, .n_sizes = 2, .sizes = {64, 1000},
	.dst = {2, 0, 0, 0, 0, 1}, .queue = 1};'
run 0 mprotect "$GUESTS/pktgen.tar" gen37.tar
grep -Eqx "pktgen: sent 37 frames $((19 * 64 + 18 * 1000)) bytes, back 37 in order, bad 0, [0-9]+ ns" log ||
	fail "pktgen configured: $(cat log)"
# a configuration it cannot use (a frame shorter than the stream header
# and its minimum)
config gen-bad 'const struct pktgen_config pktgen_config = {
	.count = 1, .batch = 1, .n_sizes = 1, .sizes = {20}};'
run 2 mprotect "$GUESTS/pktgen.tar" gen-bad.tar
grep -qx "pktgen: unusable configuration" log || fail "pktgen unusable: $(cat log)"

# sink's checks fail when its feed leaves out frame 500, or damages frame 7
config sink-skip 'const struct sink_config sink_config = {
	.count = 1000, .idle_ns = 1000000000, .feed = 1, .feed_size = 100,
	.feed_skip = 500, .feed_damage = SINK_NONE};'
run 1 mprotect "$GUESTS/sink.tar" sink-skip.tar
grep -qx "sink: received 999 frames 99900 bytes, lost 1, late 0, bad 0, other 0" log ||
	fail "sink, frame 500 left out: $(cat log)"
config sink-damage 'const struct sink_config sink_config = {
	.count = 1000, .idle_ns = 1000000000, .feed = 1, .feed_size = 100,
	.feed_skip = SINK_NONE, .feed_damage = 7};'
run 1 mprotect "$GUESTS/sink.tar" sink-damage.tar
grep -qx "sink: received 1000 frames 100000 bytes, lost 0, late 0, bad 1, other 0" log ||
	fail "sink, frame 7 damaged: $(cat log)"

# echo at an address of its configuration
config echo-ip 'const struct echo_config echo_config = {
	.ip = {10, 1, 2, 3}, .selftest = 1};'
run 0 mprotect "$GUESTS/echo.tar" echo-ip.tar
cp log echo-ip.log

# The replies, built here from RFC 826 and RFC 792 rather than from the
# guest's code: the guest's MAC is the loopback device's, its address by
# default 169.254 and the MAC's last two bytes; the peer it plays is
# 02:00:00:00:00:01 at 169.254.0.1, and its echo request carries
# identifier 0x1234, sequence 1, IP identification 0x4242, TOS 0 and the
# 56 bytes i * 3 + 1.
cat > ref.py <<'PY'
import struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

mac = bytes.fromhex("027076737562")
peer_mac, peer_ip = bytes.fromhex("020000000001"), bytes([169, 254, 0, 1])
ip = bytes(int(x) for x in sys.argv[2].split("."))
arp = peer_mac + mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + \
    mac + ip + peer_mac + peer_ip
arp += b"\0" * (60 - len(arp))
data = bytes((i * 3 + 1) & 0xff for i in range(56))
icmp = struct.pack("!BBHHH", 0, 0, 0, 0x1234, 1) + data
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0x4242, 0, 64, 1, 0, ip, peer_ip)
hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
want = {
    "arp-reply": arp.hex(),
    "icmp-reply": (peer_mac + mac + b"\x08\x00" + hdr + icmp).hex(),
}
got = {}
for line in open(sys.argv[1]):
    w = line.split()
    if len(w) == 3 and w[0] == "echo:" and w[1] in want:
        got[w[1]] = w[2]
ok = True
for k in want:
    if got.get(k) != want[k]:
        print("%s: got %s\n%*s want %s" % (k, got.get(k), len(k), "", want[k]))
        ok = False
if "echo: %s at %s\n" % (mac.hex(), sys.argv[2]) not in open(sys.argv[1]).readlines():
    print("no line naming", mac.hex(), "at", sys.argv[2])
    ok = False
sys.exit(0 if ok else 1)
PY
for be in none mprotect; do
	python3 ref.py echo-$be.log 169.254.117.98 || fail "echo ($be): the replies differ"
done
[ ! -f echo-clang.log ] || python3 ref.py echo-clang.log 169.254.117.98 ||
	fail "echo (clang): the replies differ"
python3 ref.py echo-ip.log 10.1.2.3 || fail "echo at 10.1.2.3: the replies differ"
# the control: the replies for one address are not those for another
if python3 ref.py echo-ip.log 169.254.117.98 > /dev/null; then
	fail "the reference does not tell 10.1.2.3 from 169.254.117.98"
fi
exit 0
