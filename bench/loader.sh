#!/bin/sh
# bench/loader.sh BUILDDIR: pvsub-loader's load time and the gates' cost
# (issue 12), side by side in one run.
#
# Load time: a guest of about 1 MiB of real code (bench/guests/big.py: 4200
# leaf functions of integer code, and a pvsub_guest_main that logs its
# first pvsub_clock_ns() reading and returns 0), certified, signed with the
# example guests' test PKI and bundled, run by
#   pvsub-loader --loopback BUNDLE
# (read, verify, link at 0x40000000, rescan the linked code, seal the
# memfd, exec pvsub-guestrun, map, rescan every executable mapping, seal,
# lock down, call the guest) REPEAT times (default 20) after one warm-up;
# "first" is the time from the spawn to the guest's first reading of the
# clock, "total" to the loader's exit.  Next to it: the same with an empty
# guest (the fixed cost), pvsub-loader --version (exec and the dynamic
# linker's loading of its shared libraries: the part of the fixed cost that
# comes before main), and pvsub-scan of the same 1 MiB object under the
# same policy (a plain scan: what the loader's verification replaces).
# Target: first <= 10 ms.
#
# BASELINE=DIR (another build tree of pvsub, e.g. of the commit before a
# change): its pvsub-loader and pvsub-guestrun are timed on the same
# bundles, each of their rows right after this build's, so that a change
# is measured before and after in one run on a machine whose speed drifts.
#
# Gates: bench/guests/gatecost.c under --backend none and mprotect, for
# batches of 1, 8 and 32 64-byte frames (pvsub_tx then pvsub_rx of the
# batch, 200000 times: two gate calls a round), next to a plain call of a
# function in the guest.  Under none the guest calls the same gate stubs,
# whose two mprotect calls change nothing and pass no seccomp filter: the
# none row is the stubs' two system calls plus the loopback's work, and
# mprotect's extra is the filter and the window's protection changes.
# pkey is reported as skipped where the loader refuses it (no protection
# keys here, or not implemented).
set -eu
b=$1
src=$(cd "$(dirname "$0")/.." && pwd)
repeat=${REPEAT:-20}
w=$b/bench/loader
loader=$b/pvsub-loader/pvsub-loader
scan=$b/pvsub-scan/pvsub-scan
sign=$b/pvsub-sign/pvsub-sign
policy=$src/examples/guests/guest-policy.xml
pki=$b/examples/guests/pki
PVSUB_GUESTRUN="$b/runtime/pvsub-guestrun"
export PVSUB_GUESTRUN
if [ ! -x "$PVSUB_GUESTRUN" ]; then
	echo "loader bench: no pvsub-guestrun (configure found no musl-gcc), skipped"
	exit 0
fi
[ -s "$pki/s.pem" ] || { echo "loader bench: run make first (no $pki)" >&2; exit 1; }
mkdir -p "$w"
cc=${CC:-cc}
cflags="-fPIE -mcmodel=small -ffreestanding -fno-stack-protector -fno-common -O2"

# guest NAME SOURCE: NAME.tar, certified (rewritten if it must be) and signed
guest() {
	# shellcheck disable=SC2086
	"$cc" $cflags -I"$src/runtime/include" -I"$src/examples/guests" -c -o "$w/$1.o" "$2"
	if ! "$scan" --no-progress -q -p "$policy" --manifest "$w/$1.xml" "$w/$1.o" >/dev/null; then
		"$scan" --no-progress -q -p "$policy" --rewrite -o "$w/$1.rw.o" "$w/$1.o" >/dev/null
		mv "$w/$1.rw.o" "$w/$1.o"
		"$scan" --no-progress -q -p "$policy" --manifest "$w/$1.xml" "$w/$1.o" >/dev/null
	fi
	"$sign" bundle --key "$pki/s.key" --cert "$pki/s.pem" -o "$w/$1.tar" "$w/$1.o" "$w/$1.xml"
}
# shellcheck disable=SC3013
if [ ! -f "$w/big.tar" ] || [ "$src/bench/guests/big.py" -nt "$w/big.tar" ] ||
	[ "$scan" -nt "$w/big.tar" ]; then
	echo "building the 1 MiB guest (a minute) ..."
	python3 "$src/bench/guests/big.py" 4200 > "$w/big.c"
	guest big "$w/big.c"
fi
python3 "$src/bench/guests/big.py" 0 > "$w/empty.c"
guest empty "$w/empty.c"
guest gatecost "$src/bench/guests/gatecost.c"

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"
echo "guest code: $(size -A "$w/big.o" | awk '$1 == ".text" {print $2}') bytes of .text in big.o"
echo
echo "load time, $repeat runs after a warm-up (ms: min / median)"
ms() { awk "BEGIN {printf \"%7.2f\", $1 / 1e6}"; }
# row LABEL COMMAND...
row() {
	label=$1
	shift
	# shellcheck disable=SC2046
	set -- $("$b/bench/loadtime" "$repeat" "$@")
	# total MIN MED first MIN MED status S
	[ "$8" = 0 ] || echo "  ($label exited $8)"
	if [ "$5" = - ]; then
		printf '  %-34s first      -          total %s / %s\n' "$label" "$(ms "$2")" "$(ms "$3")"
	else
		printf '  %-34s first %s / %s  total %s / %s\n' "$label" "$(ms "$5")" "$(ms "$6")" \
			"$(ms "$2")" "$(ms "$3")"
	fi
}
base=${BASELINE:-}
if [ -n "$base" ] && { [ ! -x "$base/pvsub-loader/pvsub-loader" ] ||
	[ ! -x "$base/runtime/pvsub-guestrun" ]; }; then
	echo "loader bench: BASELINE=$base has no built pvsub-loader and pvsub-guestrun" >&2
	exit 1
fi
# loader_rows BACKEND GUEST LABEL: this build's row, then the baseline's
loader_rows() {
	row "pvsub-loader $1, $3" "$loader" --backend "$1" --ca "$pki/ca.pem" --loopback \
		"$w/$2.tar"
	[ -n "$base" ] || return 0
	PVSUB_GUESTRUN="$base/runtime/pvsub-guestrun"
	row "  baseline" "$base/pvsub-loader/pvsub-loader" --backend "$1" --ca "$pki/ca.pem" \
		--loopback "$w/$2.tar"
	PVSUB_GUESTRUN="$b/runtime/pvsub-guestrun"
}
for be in mprotect none; do
	loader_rows $be big "1 MiB guest"
	loader_rows $be empty "empty guest"
done
row "pvsub-loader --version" "$loader" --version
[ -z "$base" ] || row "  baseline" "$base/pvsub-loader/pvsub-loader" --version
row "pvsub-scan, the same 1 MiB object" "$scan" --no-progress -q -p "$policy" "$w/big.o"
echo "  target: first <= 10 ms for the 1 MiB guest"
echo "  (pvsub-loader --version: exec, glibc loading its $(ldd "$loader" | grep -c '=>') shared libraries, exit;"
echo "  part of every row above, before the loader's own work begins)"
echo
echo "gate cost (ns: per gate call / per frame; a round is pvsub_tx + pvsub_rx of the batch)"
printf '  %-10s %-18s %-18s %-18s %s\n' backend "batch 1" "batch 8" "batch 32" "plain call"
echo "  (none: the same gate stubs, whose two mprotect calls change nothing; no filter)"
for be in none mprotect pkey; do
	if ! "$loader" --backend $be --ca "$pki/ca.pem" --loopback "$w/gatecost.tar" \
		> /dev/null 2> "$w/gatecost-$be.log"; then
		if [ $be = pkey ]; then
			printf '  %-10s skipped: %s\n' $be "$(sed 's/^pvsub-loader: //' "$w/gatecost-$be.log" | head -n 1)"
			continue
		fi
		echo "  $be: the guest failed: $(cat "$w/gatecost-$be.log")"
		continue
	fi
	line=$(printf '  %-10s' $be)
	for bs in 1 8 32; do
		# shellcheck disable=SC2046
		set -- $(sed -n "s/^pvsub-loader: guest: gatecost: batch $bs: \([0-9]*\) calls \([0-9]*\) ns$/\1 \2/p" \
			"$w/gatecost-$be.log")
		line="$line $(awk "BEGIN {printf \"%7.1f / %-8.1f\", $2 / $1, $2 / ($1 / 2 * $bs)}")"
	done
	# shellcheck disable=SC2046
	set -- $(sed -n 's/^pvsub-loader: guest: gatecost: plain: \([0-9]*\) calls \([0-9]*\) ns$/\1 \2/p' \
		"$w/gatecost-$be.log")
	echo "$line $(awk "BEGIN {printf \"%7.2f\", $2 / $1}")"
done
