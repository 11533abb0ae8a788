#!/bin/sh
# bench/run.sh BUILDDIR: pvsub-scan against its baselines, side by side in one
# run, on the unpacked modules of the current Debian cloud kernel.
#
#   pvsub-scan (default)    byte search, decoding only near occurrences
#   pvsub-scan --deep       decodes every instruction
#   capstone-sweep          a plain capstone linear sweep of the same sections
#   objdump -d              GNU objdump disassembling every module
#   floor                   libelf + memchr over the same sections
#
# Each is run REPEAT times (default 3) after one warm-up; the best time
# counts.  Targets (issue 2): default <= 1/8 of capstone-sweep, <= 2.5x floor.
set -eu
b=$1
src=$(cd "$(dirname "$0")/.." && pwd)
repeat=${REPEAT:-3}
cache=${PVSUB_CORPUS_DIR:-$b/tests/corpus-cache}
deb=$("$src/tests/corpus/fetch-kernel.sh" "$cache")
corpus=$b/bench/corpus
if [ ! -f "$corpus/.unpacked" ] || [ "$deb" -nt "$corpus/.unpacked" ]; then
	rm -rf "$corpus"
	mkdir -p "$corpus"
	dpkg-deb -x "$deb" "$corpus"
	touch "$corpus/.unpacked"
fi
mods=$(find "$corpus" -name '*.ko' | wc -l)
bytes=$(find "$corpus" -name '*.ko' -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "corpus: $(basename "$deb"): $mods modules, $((bytes / 1048576)) MiB"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"

now() { date +%s.%N; }
# best NAME COMMAND...: best wall time of REPEAT runs, in seconds
best() {
	name=$1
	shift
	"$@" >/dev/null 2>&1 || true
	t=
	i=0
	while [ $i -lt "$repeat" ]; do
		s=$(now)
		"$@" >/dev/null 2>&1 || true
		e=$(now)
		d=$(echo "$e - $s" | bc -l 2>/dev/null || awk "BEGIN {print $e - $s}")
		if [ -z "$t" ] || [ "$(awk "BEGIN {print ($d < $t)}")" = 1 ]; then t=$d; fi
		i=$((i + 1))
	done
	echo "$name $t" >> "$results"
	printf '%-28s %8.3f s\n' "$name" "$t"
}

objdump_all() {
	find "$corpus" -name '*.ko' -print0 | xargs -0 -n 64 objdump -d > /dev/null
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
best "pvsub-scan" "$b/pvsub-scan/pvsub-scan" --no-progress -q "$corpus"
best "pvsub-scan -j2" "$b/pvsub-scan/pvsub-scan" --no-progress -q -j 2 "$corpus"
best "pvsub-scan --deep" "$b/pvsub-scan/pvsub-scan" --no-progress -q --deep "$corpus"
best "capstone-sweep" "$b/bench/capstone-sweep" "$corpus"
if command -v objdump >/dev/null; then
	best "objdump -d" objdump_all
fi
best "floor (libelf+memchr)" "$b/bench/floor" "$corpus"
"$b/bench/capstone-sweep" "$corpus"
"$b/pvsub-scan/pvsub-scan" --no-progress --deep --format json "$corpus" |
	python3 -c 'import json,sys
d=json.load(sys.stdin)
tot={}
for f in d["files"]:
    for k,v in (f.get("deep") or {}).items(): tot[k]=tot.get(k,0)+v
print("pvsub-scan --deep:", ", ".join("%s %d" % kv for kv in sorted(tot.items())))' || true

awk '
{ t[$0] = $NF; name = $0; sub(/ [^ ]*$/, "", name); v[name] = $NF }
END {
	d = v["pvsub-scan"]; c = v["capstone-sweep"]; f = v["floor (libelf+memchr)"]
	printf "\nratios:\n"
	printf "  pvsub-scan / capstone-sweep = %.3f  (target <= 0.125)\n", d / c
	printf "  pvsub-scan / floor          = %.2f   (target <= 2.5)\n", d / f
	printf "  pvsub-scan --deep / capstone-sweep = %.2f\n", v["pvsub-scan --deep"] / c
	if ("objdump -d" in v) printf "  objdump -d / pvsub-scan     = %.1f\n", v["objdump -d"] / d
}' "$results"
