#!/bin/sh
# bench/diskimage.sh BUILDDIR: pvsub-scan on a guest disk image against the
# same files unpacked in a directory (issue 13).
#
# The tree: the Debian cloud kernel package unpacked (its /boot and module
# tree, as bench/run.sh unpacks it) and a few hundred ELF files of this
# machine's /usr/bin and /usr/lib (the first 300 in name order).  It goes
# into an ext4 partition of a GPT disk (mkfs.ext4 -d, sgdisk, dd), converted
# to qcow2 plain and compressed (-c).  Each scan is run REPEAT times
# (default 3) after one warm-up; the best time counts.  Target: scanning the
# qcow2 image takes at most 1.5x the directory scan plus the time
# `qemu-img convert -O raw` needs for that image.
set -eu
b=$1
src=$(cd "$(dirname "$0")/.." && pwd)
repeat=${REPEAT:-3}
scan=$b/pvsub-scan/pvsub-scan
for tool in mkfs.ext4 sgdisk qemu-img dpkg-deb; do
	command -v "$tool" >/dev/null 2>&1 || { echo "diskimage bench: $tool is missing, skipped"; exit 0; }
done
cache=${PVSUB_CORPUS_DIR:-$b/tests/corpus-cache}
deb=$("$src/tests/corpus/fetch-kernel.sh" "$cache")
w=$b/bench/diskimage
rm -rf "$w"
mkdir -p "$w/tree/extra"
dpkg-deb -x "$deb" "$w/tree"
find /usr/bin /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -size +1k 2>/dev/null | LC_ALL=C sort |
	while read -r f; do
		[ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && echo "$f"
	done | head -n 300 | while read -r f; do cp "$f" "$w/tree/extra/"; done
files=$(find "$w/tree" -type f | wc -l)
kib=$(du -sk "$w/tree" | cut -f1)
echo "diskimage bench: $(basename "$deb") and $(ls "$w/tree/extra" | wc -l) ELF files: $files files, $((kib / 1024)) MiB"

size_mib=$((kib / 1024 * 2 + 64))
mkfs.ext4 -q -F -d "$w/tree" "$w/root.ext4" "${size_mib}M" >/dev/null
truncate -s $((size_mib + 2))M "$w/disk.raw"
sgdisk -n 1:2048:0 -t 1:8300 "$w/disk.raw" >/dev/null 2>&1
dd if="$w/root.ext4" of="$w/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
rm -f "$w/root.ext4"
qemu-img convert -O qcow2 "$w/disk.raw" "$w/disk.qcow2"
qemu-img convert -c -O qcow2 "$w/disk.raw" "$w/diskc.qcow2"
echo "images: qcow2 $(($(stat -c %s "$w/disk.qcow2") / 1048576)) MiB, compressed qcow2 $(($(stat -c %s "$w/diskc.qcow2") / 1048576)) MiB"

now() { date +%s.%N; }
# best COMMAND...: prints the best wall time of REPEAT runs, in seconds
best() {
	"$@" >/dev/null 2>&1 || true
	t=
	i=0
	while [ $i -lt "$repeat" ]; do
		s=$(now)
		"$@" >/dev/null 2>&1 || true
		e=$(now)
		d=$(awk "BEGIN {print $e - $s}")
		if [ -z "$t" ] || [ "$(awk "BEGIN {print ($d < $t)}")" = 1 ]; then t=$d; fi
		i=$((i + 1))
	done
	echo "$t"
}
convert() {
	qemu-img convert -O raw "$1" "$w/converted.raw"
	rm -f "$w/converted.raw"
}

# The same files and findings, or the comparison means nothing.
"$scan" --no-progress --format json "$w/tree" > "$w/dir.json" 2>/dev/null || true
"$scan" --no-progress --format json "$w/diskc.qcow2" > "$w/img.json" 2>/dev/null || true
python3 - "$w/dir.json" "$w/tree/" "$w/img.json" "$w/diskc.qcow2!p1!/" <<'PY'
import json, sys
def s(path, prefix):
    out = set()
    for f in json.load(open(path))["files"]:
        p = f["path"][len(prefix):] if f["path"].startswith(prefix) else "?" + f["path"]
        out.add((p, f["status"]))
        for x in f["findings"]:
            out.add((p, x.get("section", x.get("segment")), x["offset"], x["class"], x["pattern"]))
    return out
a, b = s(sys.argv[1], sys.argv[2]), s(sys.argv[3], sys.argv[4])
print("same files and findings: %s (%d entries)" % ("yes" if a == b else "NO", len(a)))
PY

dir=$(best "$scan" --no-progress -q "$w/tree")
raw=$(best "$scan" --no-progress -q "$w/disk.raw")
q=$(best "$scan" --no-progress -q "$w/disk.qcow2")
qc=$(best "$scan" --no-progress -q "$w/diskc.qcow2")
cq=$(best convert "$w/disk.qcow2")
cqc=$(best convert "$w/diskc.qcow2")
printf '%-34s %8.3f s\n' "pvsub-scan directory" "$dir" "pvsub-scan raw image" "$raw" \
	"pvsub-scan qcow2" "$q" "pvsub-scan compressed qcow2" "$qc" \
	"qemu-img convert qcow2 -> raw" "$cq" "qemu-img convert compressed -> raw" "$cqc"
awk -v d="$dir" -v q="$q" -v qc="$qc" -v cq="$cq" -v cqc="$cqc" 'BEGIN {
	printf "\nratios (target <= 1.00):\n"
	printf "  qcow2 / (1.5 x directory + convert)            = %.2f\n", q / (1.5 * d + cq)
	printf "  compressed qcow2 / (1.5 x directory + convert) = %.2f\n", qc / (1.5 * d + cqc)
}'
rm -rf "$w"
