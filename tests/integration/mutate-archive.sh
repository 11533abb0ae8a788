#!/bin/sh
# Hostile archives (issue 5): deterministic mutants of real images (the
# sample guest image, a nested archive, cpio, zip, ar, plain tar, a .ko.xz)
# through pvsub-scan, which may only end with status 0, 1 or 2: never a
# crash, a hang or a sanitizer report.  Then the limits: a decompression
# bomb, nesting past --max-depth, member names of 64 KiB, directories nested
# thousands deep, each with a clear error and the rest of the input scanned.
. "$top_srcdir/tests/lib.sh"

MUTATE="$top_builddir/fuzz/mutate"
[ -x "$MUTATE" ] || fail "$MUTATE is not built"
for tool in timeout tar cpio xz gzip; do
	command -v "$tool" >/dev/null || skip "$tool is missing"
done
PER_BASE=${PVSUB_MUTANTS:-100}
BATCH=50
# libarchive reserves a read-ahead buffer as large as a header field says
# (up to 4 GiB) before it finds the data missing: never touched without
# sanitizers, seconds of shadow memory work under ASan.  Let the sanitizer
# build refuse such allocations, as a small machine would (fuzz/README.md).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1:max_allocation_size_mb=1024"
export ASAN_OPTIONS

# scan_ok FILE...: pvsub-scan --format json; status 0-2, no sanitizer report.
scan_ok() {
	scan_survives --format json "$@"
}

# --- bases ------------------------------------------------------------------------
asm mod <<'ASM'
	.text
	.globl f
f:	call g
	ret
	.section .text.unlikely,"ax",@progbits
g:	.byte 0x0f, 0x01
	ret
ASM
mkdir -p bases mut root/lib/modules/6.1 initrd/lib/modules
cp mod.o root/lib/modules/6.1/a.ko
cp mod.o initrd/lib/modules/b.ko
xz -c mod.o > root/lib/modules/6.1/c.ko.xz
(cd initrd && find . | LC_ALL=C sort | cpio --quiet -o -H newc) | gzip -n > root/initrd.cpio.gz
cp root/initrd.cpio.gz bases/
(cd initrd && find . | LC_ALL=C sort | cpio --quiet -o -H newc) > bases/initrd.cpio
tar -C root -cf bases/root.tar .
tar -C root -czf bases/nested.tar.gz .
cp root/lib/modules/6.1/c.ko.xz bases/
ar qc bases/mods.a mod.o 2>/dev/null
if command -v zip >/dev/null 2>&1; then
	(cd root && zip -q -r ../bases/root.zip .)
fi
if command -v zstd >/dev/null 2>&1; then
	zstd -q -c bases/root.tar > bases/root.tar.zst
fi
sample="$top_builddir/examples/sample-guest.tar.gz"
[ -f "$sample" ] && cp "$sample" bases/

for f in bases/*; do
	scan_ok "$f"
	[ "$got" -le 1 ] || { cat err; fail "base $f does not scan (status $got)"; }
done

seed=100
for f in bases/*; do
	rm -f mut/*
	"$MUTATE" "$seed" "$PER_BASE" "$f" mut
	in_batches "$BATCH" scan_ok mut
	seed=$((seed + 1))
done
echo "mutants: $((seed - 100)) bases x $PER_BASE"

# --- a decompression bomb: an error for that entry, the rest still scanned --------
# (An ELF header first: a stream of zeros alone is an empty tar to libarchive.)
mkdir bomb
{ cat mod.o; head -c 64M /dev/zero; } | xz -1 > bomb/big.ko.xz
cp mod.o bomb/z-after.ko
tar -C bomb -cf bomb.tar big.ko.xz z-after.ko
expect_status 2 "$SCAN" --no-progress --format json --max-entry-size=1M bomb.tar
grep -q 'big.ko.xz' out || fail "the bomb is not named"
grep -qi 'limit\|too large\|exceeds' out err || fail "no limit error for the bomb"
grep -q 'z-after.ko' out || fail "the entry after the bomb was not scanned"
# Named on the command line, then the next input is scanned.
expect_status 2 "$SCAN" --no-progress --max-entry-size=1M bomb/big.ko.xz mod.o
grep -q 'big.ko.xz: error: .*limit' out || fail "no limit error for the lone bomb"
grep -q '2 files scanned: 1 clean' out || fail "the input after the lone bomb was not scanned"
# The total budget: each entry fits, together they do not.
expect_status 2 "$SCAN" --no-progress --max-entry-size=100M --max-total-size=8M bomb.tar

# --- nesting past --max-depth --------------------------------------------------------
cp mod.o inner.ko
cur=inner.ko
i=0
while [ $i -lt 10 ]; do
	tar -cf "n$i.tar" "$cur"
	cur=n$i.tar
	i=$((i + 1))
done
expect_status 2 "$SCAN" --no-progress --max-depth=4 "$cur"
grep -qi 'depth' out err || fail "no depth error"
expect_status 0 "$SCAN" --no-progress --max-depth=12 "$cur"

# --- overlong names and deep paths inside archives (python3 writes them) -------------
if command -v python3 >/dev/null 2>&1; then
	python3 - mod.o <<'PY'
import io, sys, tarfile
obj = open(sys.argv[1], 'rb').read()
def add(t, name):
    ti = tarfile.TarInfo(name)
    ti.size = len(obj)
    t.addfile(ti, io.BytesIO(obj))
for fmt, out in ((tarfile.GNU_FORMAT, 'long-gnu.tar'), (tarfile.PAX_FORMAT, 'long-pax.tar')):
    with tarfile.open(out, 'w', format=fmt) as t:
        add(t, 'x' * 65536 + '.ko')                   # one 64 KiB name
        add(t, 'd/' * 32768 + 'deep.ko')              # 32768 directories deep
        add(t, ('%s/' % ('y' * 255)) * 256 + 'w.ko')  # 64 KiB of long components
        add(t, 'plain.ko')
PY
	for f in long-gnu.tar long-pax.tar; do
		scan_ok "$f"
		[ "$got" -le 1 ] || { cat err; fail "$f: status $got"; }
		grep -q '"plain.ko"\|!plain.ko"' out || fail "$f: plain.ko not scanned"
	done
fi

# --- directories nested thousands deep on disk -----------------------------------------
# (mkdir -p and cd a hundred levels at a time: one cd per level is very slow.)
mkdir deepdir
(
	cd deepdir
	p=d
	i=1
	while [ $i -lt 100 ]; do
		p=$p/d
		i=$((i + 1))
	done
	i=0
	while [ $i -lt 15 ]; do
		mkdir -p "$p"
		cd "$p"
		i=$((i + 1))
	done
	cp "$T/mod.o" bottom.ko
)
scan_ok deepdir
echo "limits: bomb, depth, long names, deep directories handled"
