#!/bin/sh
# Guest disk images (issue 13), built here without root: a directory tree of
# objects with gate opcodes (at offset 0, in an immediate, spanning two
# instructions, at a junction of two sections, inside a .ko.xz and inside an
# initrd) goes into an ext4 file system (mkfs.ext4 -d), a FAT ESP (mkfs.vfat
# and mcopy), a GPT disk (sgdisk, dd), qcow2 images (qemu-img convert, plain
# and -c) and an ISO9660 seed (xorriso).  The files and findings (path
# inside, section, offset, class, pattern) from the source tree, the raw
# image, the qcow2 images, the bare ext4 and the ISO must be the same set;
# a tree with one more object must not be (the comparison can fail).
# Hostile images are one error line each and exit 2, without a hang:
# a truncated qcow2, a qcow2 whose backing file is /etc/shadow (never
# opened, with --allow-backing-file too: strace checks it where it is
# installed), a qcow2 whose L1 table
# lies past the end, a 1 TB sparse qcow2, an encrypted qcow2, a GPT whose
# both headers are corrupt, a GPT with overlapping partitions, an ext4 with
# a directory loop, a directory or a sparse file larger than its file
# system (what fuzz_diskimage found), a reader process over its memory
# limit.  Hard links are scanned once, symbolic links not
# followed, a partition without a file system is "not scanned", and
# --rewrite refuses an image.  --allow-backing-file reads a qcow2 overlay
# whose backing file lies beside it, and nothing else.
. "$top_srcdir/tests/lib.sh"
for tool in mkfs.ext4 mkfs.vfat mcopy mmd sgdisk qemu-img xorriso debugfs python3 xz cpio gzip xmllint; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool is missing (setup.sh installs it)"
done

# --- the source tree -----------------------------------------------------------
KV=6.1.0-99-test
MOD=root/lib/modules/$KV/kernel/drivers
mkdir -p "$MOD" root/boot root/usr/bin root/etc initrd esp/EFI/debian
asm "$MOD/gate" <<'ASM'
	.text
	.globl f
f:	wrpkru			# a real gate at offset 0
	ret
	.globl g
g:	movl $0xd4010f, %eax	# vmfunc inside an immediate
	ret
	.globl h
h:	.byte 0xb0, 0x0f	# mov $0x0f, %al, then
	.byte 0x01, 0xd4	# add %edx, %esp: 0f 01 d4 spans the two
	ret
ASM
mv "$MOD/gate.o" "$MOD/gate.ko"
asm "$MOD/junction" <<'ASM'
	.section .text.a,"ax",@progbits
	.globl a
a:	nop
	.byte 0x0f, 0x01
	.section .text.b,"ax",@progbits
	.globl b
b:	.byte 0xd4
	ret
ASM
mv "$MOD/junction.o" "$MOD/junction.ko"
asm xz-src <<'ASM'
	.text
	.globl x
x:	nop
	movq $0xef010f, %rax	# wrpkru inside an immediate
	ret
ASM
xz -c xz-src.o > "$MOD/inside.ko.xz"
asm root/usr/bin/clean <<'ASM'
	.text
	.globl c
c:	xor %eax, %eax
	ret
ASM
cp "$MOD/gate.ko" initrd/early.ko
(cd initrd && find . | cpio -o -H newc --quiet) | gzip -n > root/boot/initrd.img
printf 'hostname: guest\n' > root/etc/hostname
# Text over 512 bytes: not a disk image inside the image (it once was).
seq 1 1000 > root/etc/numbers
ln -s /etc/shadow root/usr/bin/shadow
cp "$MOD/gate.ko" esp/EFI/debian/gate.ko

# --- the images ------------------------------------------------------------------
mkfs.ext4 -q -F -d root root.ext4 16M >mkfs.err 2>&1 || fail "mkfs.ext4 -d: $(cat mkfs.err)"
mkfs.vfat -C esp.fat 4096 >/dev/null
mmd -i esp.fat ::/EFI ::/EFI/debian
mcopy -i esp.fat esp/EFI/debian/gate.ko ::/EFI/debian/gate.ko
truncate -s 32M disk.raw
sgdisk -n 1:2048:+4M -t 1:ef00 -n 2:0:+16M -t 2:8300 disk.raw >/dev/null 2>&1 || fail "sgdisk failed"
dd if=esp.fat of=disk.raw bs=512 seek=2048 conv=notrunc status=none
dd if=root.ext4 of=disk.raw bs=512 seek=10240 conv=notrunc status=none
qemu-img convert -O qcow2 disk.raw disk.qcow2
qemu-img convert -c -O qcow2 disk.raw diskc.qcow2
xorriso -as mkisofs -quiet -R -J -o seed.iso root 2>xorriso.err || fail "xorriso: $(cat xorriso.err)"

# findings NAME PREFIX INPUT [pipe]: the files and findings of INPUT under
# PREFIX (other partitions are left out), each path with PREFIX replaced by
# "/", one per line, sorted, into NAME.set; with "pipe", INPUT is read from
# standard input through a pipe ("-").
findings() {
	set +e
	if [ "${4:-}" = pipe ]; then
		cat "$3" | "$SCAN" --no-progress --format json - >"$1.json" 2>"$1.err"
	else
		"$SCAN" --no-progress --format json "$3" >"$1.json" 2>"$1.err"
	fi
	st=$?
	set -e
	[ "$st" -eq 1 ] || fail "$3: exit $st, expected 1 (findings): $(cat "$1.err")"
	python3 - "$1.json" "$2" >"$1.set" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
prefix = sys.argv[2]
for f in d["files"]:
    p = f["path"]
    if not p.startswith(prefix):
        continue
    p = "/" + p[len(prefix):]
    print("%s %s" % (p, f["status"]))
    for x in f["findings"]:
        where = x.get("section", x.get("segment"))
        print("%s %s+%s %s %s" % (p, where, x["offset"], x["class"], x["pattern"]))
PY
	sort -o "$1.set" "$1.set"
}

findings dir root/ root
for c in 'gate.ko .text+0 instruction wrpkru' 'gate.ko .text+5 embedded vmfunc' \
	'gate.ko .text+11 spanning vmfunc' 'inside.ko.xz .text+4 embedded wrpkru' 'initrd.img!early.ko .text+0 instruction'; do
	grep -qF "$c" dir.set || fail "the source tree has no finding '$c': $(cat dir.set)"
done
grep -q 'junction.ko .*vmfunc' dir.set || fail "no junction finding: $(cat dir.set)"
grep -q '/usr/bin/clean.o clean' dir.set || fail "the clean object is missing: $(cat dir.set)"

findings raw disk.raw!p2!/ disk.raw
findings qcow disk.qcow2!p2!/ disk.qcow2
findings qcowc diskc.qcow2!p2!/ diskc.qcow2
findings ext4 root.ext4!/ root.ext4
findings iso seed.iso!/ seed.iso
for s in raw qcow qcowc ext4 iso; do
	diff -u dir.set "$s.set" > "$s.diff" || fail "$s: not the source tree's findings: $(cat "$s.diff")"
done
grep -q 'shadow' raw.json && fail "a symbolic link was followed: $(cat raw.json)"

# The ESP (p1): its one object, as in its source directory.
findings espdir esp/ esp
for s in raw qcow qcowc; do
	json=$s.json
	python3 - "$json" > "$s.esp" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["files"]:
    p = f["path"]
    if "!p1!/" in p:
        print(p.split("!p1!", 1)[1], f["status"], len(f["findings"]))
PY
	grep -qx '/EFI/debian/gate.ko findings 3' "$s.esp" || fail "$s: the ESP: $(cat "$s.esp")"
done

# Negative control: one more object in the tree changes the set.
cp "$MOD/gate.ko" root/usr/bin/extra.o
findings dir2 root/ root
diff -q dir2.set raw.set >/dev/null && fail "the comparison cannot tell a different tree"
rm root/usr/bin/extra.o

# --- the image manifest: the image's own hash, every file in it, signed ------------
expect_status 1 "$SCAN" --no-progress --format json --manifest-dir md disk.qcow2
mv out md.json
im=md/disk.qcow2.image-manifest.xml
[ -s "$im" ] || fail "no image manifest: $(find md)"
xmllint --noout --schema "$top_srcdir/schemas/pvsub-manifest.xsd" "$im" 2>err ||
	fail "the image manifest does not validate: $(cat err)"
grep -q "<image path=\"disk.qcow2\" format=\"qcow2\" size=\"$(wc -c < disk.qcow2)\" sha256=\"$(sha256sum disk.qcow2 | cut -c1-64)\"/>" "$im" ||
	fail "the image's size or hash is not in its manifest: $(cat "$im")"
grep -q '<verdict result="rejected">' "$im" || fail "image verdict: $(cat "$im")"
# Every file the report names is in it, by its path inside, with the hash
# of its bytes in the source tree and the report's verdict.
python3 - md.json "$im" "$MOD/gate.ko" <<'PY' || fail "the image manifest is not the report"
import hashlib, json, sys, xml.etree.ElementTree as ET
ns = "{urn:pvsub:manifest:1}"
rep = {f["path"].split("!", 1)[1]: f for f in json.load(open(sys.argv[1]))["files"]}
man = {e.get("path"): e for e in ET.parse(sys.argv[2]).getroot().find(ns + "files")}
assert set(rep) == set(man), (sorted(rep), sorted(man))
for p, e in man.items():
    assert e.tag == ns + "file", p
    assert e.get("verdict") == rep[p]["verdict"], (p, e.get("verdict"), rep[p]["verdict"])
gate = hashlib.sha256(open(sys.argv[3], "rb").read()).hexdigest()
for p in ("p1!/EFI/debian/gate.ko", "p2!/lib/modules/6.1.0-99-test/kernel/drivers/gate.ko"):
    assert man[p].get("sha256") == gate and man[p].get("verdict") == "rejected", p
PY
# The per-file manifests are still written beside it.
[ -s md/disk.qcow2/p2/lib/modules/$KV/kernel/drivers/gate.ko.manifest.xml ] ||
	fail "no per-file manifest: $(find md)"

. "$top_srcdir/tests/integration/sign-lib.sh"
mkpki
expect_status 0 "$SIGN" sign --key s.key --cert s.pem "$im"
expect_status 0 "$SIGN" verify --ca ca.pem --manifest "$im" --binary disk.qcow2
grep -q "manifest OK for disk.qcow2" out || fail "image manifest: $(cat out err)"
expect_status 1 "$SIGN" verify --ca ca.pem --require-certified --manifest "$im" --binary disk.qcow2
grep -q "verdict is not certified" err || fail "a rejected image passed --require-certified: $(cat err)"
# Negative controls: one byte of the image changed; the manifest changed.
cp disk.qcow2 flipped.qcow2
python3 - <<'PY'
d = bytearray(open("flipped.qcow2", "rb").read())
d[len(d) // 2] ^= 0x01
open("flipped.qcow2", "wb").write(d)
PY
expect_status 1 "$SIGN" verify --ca ca.pem --manifest "$im" --binary flipped.qcow2
grep -q "flipped.qcow2: hash mismatch: SHA-256" err || fail "a changed image verified: $(cat out err)"
sed 's/verdict="rejected"/verdict="certified"/' "$im" > forged.xml
cp "$im.p7s" forged.xml.p7s
expect_status 1 "$SIGN" verify --ca ca.pem --manifest forged.xml --binary disk.qcow2
grep -q "bad signature" err || fail "a changed image manifest verified: $(cat err)"
# An image manifest is not a driver's: no bundle is made of it.
expect_status 2 "$SIGN" bundle --key s.key --cert s.pem -o img.bundle "$MOD/gate.ko" "$im"
grep -q "an image manifest is not bundled" err || fail "bundle of an image: $(cat err)"
[ ! -e img.bundle ] || fail "a bundle was written for an image"
# A clean image is certified, and so is its manifest.
mkdir cl
cp root/usr/bin/clean.o cl/
mkfs.ext4 -q -F -d cl clean.ext4 4M >/dev/null
expect_status 0 "$SCAN" --no-progress --manifest-dir mdc clean.ext4
grep -q '<verdict result="certified"/>' mdc/clean.ext4.image-manifest.xml ||
	fail "clean image: $(cat mdc/clean.ext4.image-manifest.xml)"
expect_status 0 "$SIGN" sign --key s.key --cert s.pem mdc/clean.ext4.image-manifest.xml
expect_status 0 "$SIGN" verify --ca ca.pem --require-certified \
	--manifest mdc/clean.ext4.image-manifest.xml --binary clean.ext4

# --- hard links, partitions without a file system, --rewrite --------------------------
mkdir hl
cp "$MOD/gate.ko" hl/a.ko
ln hl/a.ko hl/b.ko
mkfs.ext4 -q -F -d hl hl.ext4 4M >/dev/null
expect_status 1 "$SCAN" --no-progress --format json hl.ext4
[ "$(json_query out 'len(d["files"])')" = 1 ] || fail "a hard link was scanned twice: $(cat out)"
json_query out 'd["files"][0]["path"]' | grep -qx 'hl.ext4!/a.ko' || fail "hard link: $(cat out)"

truncate -s 8M nofs.raw
sgdisk -n 1:2048:0 -t 1:8300 nofs.raw >/dev/null 2>&1
expect_status 1 "$SCAN" --no-progress nofs.raw
grep -q '^nofs.raw!p1: not scanned: partition without a file system pvsub reads' out ||
	fail "a partition without a file system: $(cat out err)"
expect_status 0 "$SCAN" --no-progress --allow-unscanned nofs.raw

expect_status 2 "$SCAN" --no-progress --rewrite -O rewritten disk.qcow2
[ "$(grep -c 'rewrite does not write into disk images' out)" = 1 ] || fail "--rewrite: $(cat out err)"
[ ! -e rewritten ] || fail "--rewrite wrote something for a disk image: $(find rewritten)"

# --- disk images inside archives and through a pipe ------------------------------
# Spooled into a memory file (never a file on disk) and read from there: the
# same findings as the image file.
tar czf images.tar.gz disk.qcow2 diskc.qcow2
findings tgz 'images.tar.gz!disk.qcow2!p2!/' images.tar.gz
findings tgzc 'images.tar.gz!diskc.qcow2!p2!/' images.tar.gz
findings pipe '-!p2!/' disk.qcow2 pipe
findings piperaw '-!p2!/' disk.raw pipe
findings pipeext4 '-!/' root.ext4 pipe
xz -c disk.raw > disk.raw.xz
findings rawxz 'disk.raw.xz!p2!/' disk.raw.xz
for s in tgz tgzc pipe piperaw pipeext4 rawxz; do
	diff -u dir.set "$s.set" > "$s.diff" || fail "$s: not the source tree's findings: $(cat "$s.diff")"
done
if command -v strace >/dev/null 2>&1 && strace -f -o /dev/null true 2>/dev/null; then
	# Nothing is written to disk on the way: no file opened for writing.
	cat disk.qcow2 | strace -f -e trace=open,openat,creat,memfd_create -o spool.log \
		env ASAN_OPTIONS=detect_leaks=0 "$SCAN" --no-progress - >/dev/null 2>&1 || true
	grep -E 'O_WRONLY|O_RDWR|creat\(' spool.log && fail "a file was written: $(cat spool.log)"
	grep -q 'memfd_create("pvsub-image"' spool.log || fail "no memory file: $(cat spool.log)"
fi
# Negative controls: the size limit holds for a pipe; a qcow2 in an archive
# with a backing file is refused even with --allow-backing-file (no
# directory to look in); the set comparison tells a different image.
set +e
cat disk.qcow2 | "$SCAN" --no-progress --max-entry-size=64K - >out 2>err
st=$?
set -e
[ "$st" -eq 2 ] && [ "$(grep -c ': error: ' out)" = 1 ] &&
	grep -qx -- '-: error: entry exceeds the size limit (65536 bytes)' out ||
	fail "a qcow2 image through a pipe over the limit: exit $st: $(cat out err)"
qemu-img create -q -f qcow2 -F qcow2 -b disk.qcow2 inner-overlay.qcow2
tar cf overlay.tar inner-overlay.qcow2 disk.qcow2
expect_status 2 "$SCAN" --no-progress --allow-backing-file overlay.tar
grep -q '^overlay.tar!inner-overlay.qcow2: error: qcow2 image with a backing file: refused' out ||
	fail "a backing file inside an archive: $(cat out)"
findings pipeesp '-!/' esp.fat pipe
diff -q dir.set pipeesp.set >/dev/null 2>&1 && fail "the pipe comparison cannot tell a different image"
# An image inside an image (qcow2, or a partitioned disk) is one line, not
# opened.
mkdir nest
cp disk.qcow2 nest/inner.qcow2
mkfs.ext4 -q -F -d nest nest.ext4 16M >/dev/null
expect_status 2 "$SCAN" --no-progress nest.ext4
grep -qx 'nest.ext4!/inner.qcow2: error: a disk image inside a disk image is not read' out ||
	fail "an image in an image: $(cat out)"

# --- hostile images: one line each, exit 2, no hang -------------------------------------
# hostile NAME PATTERN: scanning NAME exits 2 within 20 s with exactly one error
# line, which matches PATTERN.
hostile() {
	set +e
	timeout 20 "$SCAN" --no-progress "$1" >out 2>err
	st=$?
	set -e
	[ "$st" -eq 2 ] || fail "$1: exit $st, expected 2: $(cat out err)"
	[ "$(grep -c ': error: ' out)" = 1 ] || fail "$1: not one error line: $(cat out)"
	grep -q "^$1[^ ]*: error: .*$2" out || fail "$1: no '$2': $(cat out)"
}

size=$(wc -c < disk.qcow2)
head -c $((size / 2)) disk.qcow2 > truncated.qcow2
hostile truncated.qcow2 'unreadable'
head -c 100 disk.qcow2 > header.qcow2
hostile header.qcow2 'not a readable qcow2 image'

qemu-img create -q -f qcow2 -F raw -b /etc/shadow -u backing.qcow2 1G
hostile backing.qcow2 'backing file: refused'
expect_status 2 "$SCAN" --no-progress --allow-backing-file backing.qcow2
grep -q '^backing.qcow2: error: qcow2 backing file "/etc/shadow": refused (only a file in the image' out ||
	fail "--allow-backing-file with /etc/shadow: $(cat out)"
if command -v strace >/dev/null 2>&1 && strace -f -o /dev/null true 2>/dev/null; then
	for allow in "" --allow-backing-file; do
		# LeakSanitizer cannot run under ptrace: leaks are checked above.
		strace -f -e trace=open,openat,stat,newfstatat,access -o trace.log \
			env ASAN_OPTIONS=detect_leaks=0 "$SCAN" --no-progress $allow backing.qcow2 \
			>/dev/null 2>&1 || true
		grep -q 'shadow' trace.log && fail "the backing file was touched: $(grep shadow trace.log)"
		grep -q 'backing.qcow2' trace.log || fail "strace saw nothing (negative control): $(head trace.log)"
	done
fi

# --allow-backing-file: a qcow2 overlay on disk.qcow2, beside it, reads as the
# disk; a backing file in another directory, a raw one, and a loop are each
# one line.
qemu-img create -q -f qcow2 -F qcow2 -b disk.qcow2 overlay.qcow2
hostile overlay.qcow2 'backing file: refused'
set +e
"$SCAN" --no-progress --allow-backing-file --format json overlay.qcow2 >overlay.json 2>overlay.err
st=$?
set -e
[ "$st" -eq 1 ] || fail "overlay: exit $st: $(cat overlay.err)"
python3 - overlay.json > overlay.set <<'PY'
import json, sys
prefix = "overlay.qcow2!p2!/"
for f in json.load(open(sys.argv[1]))["files"]:
    p = f["path"]
    if not p.startswith(prefix):
        continue
    p = "/" + p[len(prefix):]
    print("%s %s" % (p, f["status"]))
    for x in f["findings"]:
        print("%s %s+%s %s %s" % (p, x.get("section", x.get("segment")), x["offset"], x["class"], x["pattern"]))
PY
sort -o overlay.set overlay.set
diff -u dir.set overlay.set > overlay.diff || fail "overlay: not the source tree's findings: $(cat overlay.diff)"
mkdir sub
qemu-img create -q -f qcow2 -F qcow2 -b ../disk.qcow2 sub/up.qcow2
expect_status 2 "$SCAN" --no-progress --allow-backing-file sub/up.qcow2
grep -q '^sub/up.qcow2: error: qcow2 backing file "../disk.qcow2": refused' out || fail "../: $(cat out)"
qemu-img create -q -f qcow2 -F raw -b disk.raw rawback.qcow2
expect_status 2 "$SCAN" --no-progress --allow-backing-file rawback.qcow2
grep -q 'not a qcow2 file (raw backing files are not read)' out || fail "raw backing file: $(cat out)"
qemu-img create -q -f qcow2 -F qcow2 -b loop-b.qcow2 -u loop-a.qcow2 1G
qemu-img create -q -f qcow2 -F qcow2 -b loop-a.qcow2 -u loop-b.qcow2 1G
expect_status 2 timeout 20 "$SCAN" --no-progress --allow-backing-file loop-a.qcow2
grep -q 'qcow2 backing files nested deeper than 8' out || fail "a loop of backing files: $(cat out)"

python3 - <<'PY'
import struct
d = bytearray(open("disk.qcow2", "rb").read())
struct.pack_into(">Q", d, 40, 1 << 50)  # l1_table_offset far past the end
open("l1past.qcow2", "wb").write(d)
PY
hostile l1past.qcow2 'not a readable qcow2 image'

qemu-img create -q -f qcow2 huge.qcow2 1T
start=$(date +%s)
hostile huge.qcow2 'without a partition table or file system'
[ $(($(date +%s) - start)) -lt 10 ] || fail "a 1 TB sparse image took too long"

if qemu-img create -q -f qcow2 --object secret,id=s0,data=pw \
	-o encrypt.format=aes,encrypt.key-secret=s0 aes.qcow2 16M 2>/dev/null; then
	hostile aes.qcow2 'encrypted qcow2 image: refused'
fi

python3 - <<'PY'
import struct, zlib
d = bytearray(open("disk.raw", "rb").read())
bad = bytearray(d)
bad[512 + 8:512 + 92] = b"\xff" * 84       # primary GPT header
bad[-512 + 8:-512 + 92] = b"\xff" * 84     # backup GPT header
open("badgpt.raw", "wb").write(bad)
# Partition 2 starts inside partition 1; the CRCs are made right, so only
# the overlap is wrong.
ent_lba, n, size = struct.unpack_from("<QII", d, 512 + 72)
ents = ent_lba * 512
struct.pack_into("<Q", d, ents + size + 32, 5000)
struct.pack_into("<I", d, 512 + 88, zlib.crc32(bytes(d[ents:ents + n * size])))
hsize = struct.unpack_from("<I", d, 512 + 12)[0]
struct.pack_into("<I", d, 512 + 16, 0)
struct.pack_into("<I", d, 512 + 16, zlib.crc32(bytes(d[512:512 + hsize])))
open("overlap.raw", "wb").write(d)
PY
hostile badgpt.raw 'GPT partition table unreadable'
hostile overlap.raw 'partitions p1 and p2 overlap'

# The process that reads an image: past its memory it is one line naming
# the image, exit 2, and nothing from the image is scanned (the control: the
# same image scanned above).  Its CPU limit is test_diskimage's.  Under
# AddressSanitizer its address space is not limited (pvsub-scan(1)).
case "${SANITIZER_CFLAGS:-}" in
*address*) asan=1 ;;
*) asan= ;;
esac
[ -n "$asan" ] || {
	set +e
	timeout 20 "$SCAN" --no-progress --max-image-memory=64K diskc.qcow2 >out 2>err
	st=$?
	set -e
	[ "$st" -eq 2 ] || fail "reader memory: exit $st: $(cat out err)"
	[ "$(grep -c ': error: ' out)" = 1 ] && grep -qx \
		"diskc.qcow2: error: disk image reader ran out of memory (its limit: 64 KiB more than the scanner's own)" out ||
		fail "reader memory: $(cat out)"
	grep -q 'wrpkru' out && fail "a file was scanned from an image whose reader failed: $(cat out)"
}
expect_status 2 "$SCAN" --max-image-cpu=0 diskc.qcow2
grep -q "invalid CPU time" err || fail "--max-image-cpu=0: $(cat err)"

# What fuzz_diskimage found: TSK maps every block of a file before reading
# it, one run per block in ext2/3 block maps, so a directory claiming 3.9 GB
# of a 4 MiB file system took it minutes, and so does a huge sparse file.
mkdir -p bd/sub
mkfs.ext4 -q -F -d bd bigdir.ext4 4M >/dev/null
debugfs -w -R "sif /sub size 3976200192" bigdir.ext4 >/dev/null 2>&1
hostile bigdir.ext4 'directory of 3976200192 bytes, larger than its file system'
mkdir sp
truncate -s 400M sp/sparse.o
cp "$MOD/gate.ko" sp/gate.ko
mkfs.ext4 -q -F -O ^extent,^has_journal,^64bit -b 1024 -d sp sparse.ext4 8M >/dev/null
hostile sparse.ext4 'file larger than its file system'
grep -q '^sparse.ext4!/gate.ko: .text+0x0: wrpkru' out || fail "the file beside a sparse one: $(cat out)"

mkdir -p lp/d
cp "$MOD/gate.ko" lp/d/gate.ko
mkfs.ext4 -q -F -d lp loop.ext4 4M >/dev/null
debugfs -w -R "ln /d /d/loop" loop.ext4 >/dev/null 2>&1
set +e
timeout 20 "$SCAN" --no-progress loop.ext4 >out 2>err
st=$?
set -e
[ "$st" -eq 2 ] || fail "directory loop: exit $st: $(cat out err)"
grep -qx 'loop.ext4!/d/loop: error: directory loop (metadata address 12)' out ||
	fail "directory loop: $(cat out)"
grep -q '^loop.ext4!/d/gate.ko: .text+0x0: wrpkru' out || fail "directory loop: the file before it: $(cat out)"
# An error inside an image is in its manifest, and rejects the image.
expect_status 2 timeout 20 "$SCAN" --no-progress --manifest-dir mdl loop.ext4
grep -q '<error path="/d/loop" reason="directory loop (metadata address 12)"/>' \
	mdl/loop.ext4.image-manifest.xml || fail "loop: $(cat mdl/loop.ext4.image-manifest.xml)"
grep -q '<reason>1 error</reason>' mdl/loop.ext4.image-manifest.xml ||
	fail "loop: $(cat mdl/loop.ext4.image-manifest.xml)"
exit 0
