#!/bin/sh
# bench/rewrite.sh BUILDDIR: the rewriter on the crypto modules of the real-
# kernel test (tests/qemu/rewrite-crypto.sh), under the same kind of stress
# policies: for each module, the time of `pvsub-scan --rewrite` next to a
# plain `pvsub-scan` of the same module with the same policy, and the size
# growth of its code.
#
# The policies come from tests/qemu/choose-patterns.py with a fixed seed
# (SEED, default 1) so that runs compare.  Each command runs REPEAT times
# (default 3) after one warm-up; the best time counts.
set -eu
b=$1
src=$(cd "$(dirname "$0")/.." && pwd)
repeat=${REPEAT:-3}
seed=${SEED:-1}
scan=$b/pvsub-scan/pvsub-scan
cache=${PVSUB_CORPUS_DIR:-$b/tests/corpus-cache}
deb=$("$src/tests/corpus/fetch-kernel.sh" "$cache")
corpus=$b/bench/corpus
if [ ! -f "$corpus/.unpacked" ] || [ "$deb" -nt "$corpus/.unpacked" ]; then
	rm -rf "$corpus"
	mkdir -p "$corpus"
	dpkg-deb -x "$deb" "$corpus"
	touch "$corpus/.unpacked"
fi
MODS="kernel/arch/x86/crypto/aesni-intel.ko kernel/arch/x86/crypto/sha256-ssse3.ko
kernel/crypto/twofish_generic.ko kernel/crypto/camellia_generic.ko
kernel/crypto/serpent_generic.ko kernel/crypto/sha3_generic.ko"
echo "corpus: $(basename "$deb"), seed $seed, best of $repeat"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"

w=$(mktemp -d "${TMPDIR:-/tmp}/pvsub-bench.XXXXXX")
trap 'rm -rf "$w"' EXIT

now() { date +%s.%N; }
# best OK COMMAND...: print the best wall time of REPEAT runs, in seconds,
# or "-" when the command exits above OK (the rewriter refusing or not
# there yet; a plain scan exits 1 on findings, which is its normal case).
best() {
	ok=$1
	shift
	st=0
	"$@" >/dev/null 2>&1 || st=$?
	if [ "$st" -gt "$ok" ]; then
		echo -
		return
	fi
	t=
	i=0
	while [ $i -lt "$repeat" ]; do
		s=$(now)
		"$@" >/dev/null 2>&1 || true
		e=$(now)
		t=$(awk -v s="$s" -v e="$e" -v t="$t" 'BEGIN { d = e - s; print (t == "" || d < t) ? d : t }')
		i=$((i + 1))
	done
	awk -v t="$t" 'BEGIN { printf "%.4f\n", t }'
}

# text_size FILE: bytes of its SHF_ALLOC | SHF_EXECINSTR sections, which is
# what the rewriter grows (the file also loses its signature).
text_size() {
	python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
shoff, = struct.unpack_from("<Q", d, 0x28)
shentsize, shnum = struct.unpack_from("<HH", d, 0x3A)
n = 0
for i in range(shnum):
    _, stype, flags, _, _, size = struct.unpack_from("<IIQQQQ", d, shoff + i * shentsize)
    if flags & 6 == 6 and stype != 8:
        n += size
print(n)
PY
}

printf '%-18s %9s %9s %8s %8s %7s %6s %10s %8s\n' module "file" "after" text "after" growth occ rewrite scan
i=0
for m in $MODS; do
	f=$(basename "$m")
	in=$(echo "$corpus"/lib/modules/*/"$m")
	i=$((i + 1))
	python3 "$src/tests/qemu/choose-patterns.py" --scan "$scan" --seed $((seed + i)) \
		-o "$w/$f.xml" "$in" 2>"$w/$f.choose" || {
		cat "$w/$f.choose" >&2
		echo "$f: no stress policy" >&2
		continue
	}
	occ=$("$scan" --no-progress --format json --policy "$w/$f.xml" "$in" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["files"][0]["findings"]))')
	t_scan=$(best 1 "$scan" --no-progress -q --policy "$w/$f.xml" "$in")
	t_rw=$(best 0 "$scan" --no-progress -q --rewrite --policy "$w/$f.xml" -o "$w/$f" "$in")
	size=$(wc -c <"$in")
	text=$(text_size "$in")
	if [ "$t_rw" != - ] && [ -f "$w/$f" ]; then
		size2=$(wc -c <"$w/$f")
		text2=$(text_size "$w/$f")
		growth=$(awk -v a="$text" -v b="$text2" 'BEGIN { printf "%.1f%%", 100 * (b - a) / a }')
	else
		size2=- text2=- growth=-
		# Why, in one line, after the table.
		st=0
		"$scan" --no-progress --rewrite --format json --policy "$w/$f.xml" -o "$w/$f" "$in" \
			>"$w/$f.json" 2>"$w/$f.err" || st=$?
		why=$(python3 -c 'import json,sys
f = json.load(open(sys.argv[1]))["files"][0]
r = f.get("refused") or []
print("%d sites refused, first: %s+%#x: %s" % (len(r), r[0]["section"], r[0]["offset"], r[0]["reason"])
      if r else (f.get("error") or f.get("status")))' "$w/$f.json" 2>/dev/null || head -1 "$w/$f.err")
		echo "${f%.ko}: exit $st: $why" >>"$w/notes"
	fi
	printf '%-18s %9s %9s %8s %8s %7s %6s %10s %8s\n' "${f%.ko}" "$size" "$size2" "$text" "$text2" \
		"$growth" "$occ" "$t_rw" "$t_scan"
done
echo "(sizes in bytes: the whole file, then its executable sections; growth of the"
echo " executable sections; times in seconds; '-': the rewrite failed or is not available)"
[ -f "$w/notes" ] && cat "$w/notes"
echo
python3 "$src/bench/rewrite-growth.py" "$scan" "$src" "$b"
exit 0
