#!/bin/sh
# build-and-run.sh SRCDIR BUILDDIR [HARNESS...]
#
# Build the libFuzzer harnesses in SRCDIR/fuzz together with libpvsub's own
# sources, compiled here with clang and the fuzzing sanitizers (the gcc-built
# libpvsub.la cannot be used: libFuzzer needs clang's coverage
# instrumentation in the code under test), into BUILDDIR/fuzz/.  Then seed a
# corpus for each harness from the test fixtures and the sample image, and
# run each harness for FUZZ_SECONDS seconds (default 60).  Exit status 1 if
# any harness found a crash, a leak, a timeout or a sanitizer report; the
# input that did it is left in BUILDDIR/fuzz/artifacts/.
#
# Environment: CLANG (default clang), FUZZ_SECONDS, FUZZ_BUILD_ONLY=1 (build
# and seed, do not run), FUZZ_FLAGS (more libFuzzer options), FUZZ_JOBS
# (harnesses run at a time; default one per core).
#
# The signature harnesses (verify, modsig, bundle seeds) need a CA and a
# signer: made once with the openssl command in BUILDDIR/fuzz/pki and kept,
# so that the signed inputs in the corpus stay valid from one run to the
# next.  The harnesses find them through PVSUB_FUZZ_CA, PVSUB_FUZZ_CERT and
# PVSUB_FUZZ_KEY (set them too when replaying an input by hand).
set -eu
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
shift 2
clang=${CLANG:-clang}
seconds=${FUZZ_SECONDS:-60}
# diskimage is built and seeded but run only when named (FUZZ_TARGETS=diskimage):
# it fuzzes The Sleuth Kit and libqcow as Debian builds them, and finds their
# own bugs within a minute (fuzz/README.md), which must not fail CI's run.
harnesses=${*:-image input policy pattern manifest verify bundle modsig rewrite kmeta guestlink kallsyms}
build_harnesses=${*:-$harnesses diskimage}
out=$build/fuzz
scan=$build/pvsub-scan/pvsub-scan
sign=$build/pvsub-sign/pvsub-sign

command -v "$clang" >/dev/null 2>&1 || {
	echo "fuzz: $clang not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
	exit 1
}
command -v openssl >/dev/null 2>&1 || {
	echo "fuzz: the openssl command is needed (Debian: apt-get install openssl)" >&2
	exit 1
}
for f in "$build/config.h" "$build/libpvsub/schemas.c" "$scan" "$sign"; do
	[ -e "$f" ] || { echo "fuzz: $f is missing; run make first" >&2; exit 1; }
done

san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
pkgs="libelf capstone libxml-2.0 libarchive libcrypto lzo2 tsk libqcow"
cflags="-std=gnu11 -g -O1 -pthread $san -include $build/config.h -I$src -I$build"
cflags="$cflags $(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -pthread"

mkdir -p "$out/obj" "$out/seeds" "$out/corpus" "$out/artifacts"

echo "fuzz: compiling libpvsub with $clang"
objs=
for c in "$src"/libpvsub/*.c "$build/libpvsub/schemas.c"; do
	o=$out/obj/$(basename "$c" .c).o
	# In an in-tree build the generated schemas.c is in the glob too:
	# compile it once.
	case " $objs " in *" $o "*) continue ;; esac
	# shellcheck disable=SC2086
	"$clang" $cflags -fsanitize=fuzzer-no-link -c -o "$o" "$c"
	objs="$objs $o"
done
for h in $build_harnesses; do
	# shellcheck disable=SC2086
	"$clang" $cflags -fsanitize=fuzzer -o "$out/fuzz_$h" "$src/fuzz/fuzz_$h.c" $objs $libs
done

# --- seed corpora, made fresh from the fixtures (no binary seed is committed)
seeds=$out/seeds
rm -rf "$seeds"
for h in image input policy pattern manifest verify bundle modsig rewrite kmeta guestlink diskimage kallsyms; do
	mkdir -p "$seeds/$h"
done
tmp=$out/tmp
rm -rf "$tmp"
mkdir -p "$tmp"

for s in "$src"/examples/drivers/*.c "$src"/examples/drivers/*.S; do
	"$clang" -c -O2 -fno-asynchronous-unwind-tables -o "$seeds/image/$(basename "$s").o" "$s"
done
# A relocatable object with many sections, relocations and symbols.
cat > "$tmp/multi.c" <<'CEOF'
extern int ext_value;
extern void ext_call(int);
static int counter;
int table[4] = {1, 2, 3, 4};
__attribute__((section(".text.one"))) int one(int x) { ext_call(x); return x + ext_value; }
__attribute__((section(".init.text"))) int two(void) { return table[counter++ & 3]; }
__attribute__((section(".exit.text"), aligned(32))) void three(void) { ext_call(counter); }
int main(void) { return one(two()); }
CEOF
"$clang" -c -O1 -o "$seeds/image/multi.o" "$tmp/multi.c"
"$clang" -shared -fPIC -O1 -o "$seeds/image/multi.so" "$tmp/multi.c" -Wl,--unresolved-symbols=ignore-all
cp "$build/examples/sample-root/usr/lib/libpvsub-sample.so" "$seeds/image/" 2>/dev/null || :
# A module with an appended signature (struct module_signature: algo, hash,
# id_type = 2 (PKCS#7), signer_len, key_id_len, pad[3], sig_len big endian).
{
	cat "$seeds/image/clean_nic.c.o"
	printf '0123456789abcdef'
	printf '\000\000\002\000\000\000\000\000\000\000\000\020'
	printf '~Module signature appended~\n'
} > "$seeds/image/signed.ko"

cp "$build/examples/sample-guest.tar.gz" "$seeds/input/"
cp "$build/examples/sample-root/boot/initrd.cpio.gz" "$seeds/input/" 2>/dev/null || :
mkdir -p "$tmp/root/lib/modules"
cp "$seeds/image/multi.o" "$tmp/root/lib/modules/multi.ko"
cp "$seeds/image/junction.S.o" "$tmp/root/lib/modules/junction.ko"
xz -c "$tmp/root/lib/modules/junction.ko" > "$seeds/input/junction.ko.xz"
(cd "$tmp/root" && tar --format=gnu -cf "$seeds/input/root.tar" .)
(cd "$tmp/root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc > "$seeds/input/root.cpio")
(cd "$tmp/root/lib/modules" && ar qc "$seeds/input/mods.a" multi.ko junction.ko)
if command -v zip >/dev/null 2>&1; then
	(cd "$tmp/root" && zip -q -r "$seeds/input/root.zip" .)
fi
if command -v zstd >/dev/null 2>&1; then
	zstd -q -c "$seeds/input/root.cpio" > "$seeds/input/root.cpio.zst"
fi
if command -v bzip2 >/dev/null 2>&1; then
	bzip2 -c "$seeds/input/root.tar" > "$seeds/input/root.tar.bz2"
fi

# bzImage seeds, built like tests/integration/bzimage.sh's fixtures: a tiny
# vmlinux (ET_EXEC with a gate and a boot-time patch table) and a KASLR
# relocation table, compressed, behind a boot header (protocol 2.15,
# setup_sects 1, the payload 64 bytes into the protected-mode code).
le32() {
	# shellcheck disable=SC2059
	printf "\\$(printf %03o $(($1 & 255)))\\$(printf %03o $(($1 >> 8 & 255)))\\$(printf %03o $(($1 >> 16 & 255)))\\$(printf %03o $(($1 >> 24 & 255)))"
}
bzimage() { # PAYLOAD OUT
	{
		head -c $((0x1f1)) /dev/zero
		printf '\001'
		head -c $((0x1fe - 0x1f2)) /dev/zero
		printf '\125\252\000\000HdrS\017\002'
		head -c $((0x234 - 0x208)) /dev/zero
		printf '\001'
		head -c $((0x248 - 0x235)) /dev/zero
		le32 64
		le32 "$(wc -c < "$1")"
		head -c $((1024 - 0x250 + 64)) /dev/zero
		cat "$1"
	} > "$2"
}
printf '\t.text\n\t.globl _start\n_start:\n\tnop\n\t.byte 0x0f, 0x01, 0xef\n\tret\n\t.section .altinstructions,"a",@progbits\n\t.long 0\n' \
	> "$tmp/vmlinux.s"
if "$clang" -nostdlib -static -Wl,--build-id=none -o "$tmp/vmlinux" "$tmp/vmlinux.s"; then
	{ cat "$tmp/vmlinux"; le32 0; le32 4198401; le32 0; le32 0; le32 4198400; } > "$tmp/vmlinux.bin"
	# Tables whose fields lie in the code (KASLR windows), apart and
	# overlapping: the image harness's way into kaslr.c.
	{ cat "$tmp/vmlinux"; le32 0; le32 $((0x80401004)); le32 0; le32 $((0x80401000)); le32 0; le32 $((0x80401001)); } \
		> "$seeds/image/vmlinux-kaslr"
	{ cat "$tmp/vmlinux"; le32 0; le32 0; le32 0; le32 $((0x80401000)); le32 $((0x80401002)); } \
		> "$seeds/image/vmlinux-kaslr-overlap"
	gzip -9n -c "$tmp/vmlinux.bin" > "$tmp/vmlinux.gz"
	bzimage "$tmp/vmlinux.gz" "$seeds/input/vmlinuz-gzip"
	if command -v lz4 >/dev/null 2>&1; then
		{ lz4 -l -9 -c "$tmp/vmlinux.bin" && le32 "$(wc -c < "$tmp/vmlinux.bin")"; } > "$tmp/vmlinux.lz4"
		bzimage "$tmp/vmlinux.lz4" "$seeds/input/vmlinuz-lz4"
	fi
	if command -v lzop >/dev/null 2>&1; then
		{ lzop -9 -c < "$tmp/vmlinux.bin" && le32 "$(wc -c < "$tmp/vmlinux.bin")"; } > "$tmp/vmlinux.lzo"
		bzimage "$tmp/vmlinux.lzo" "$seeds/input/vmlinuz-lzo"
	fi
fi
# A vmlinux with every boot-time patch table kind, with its symbols and
# stripped: the image harness's way into the linked-kernel tables (kmeta.c).
cat > "$tmp/tables.s" <<'ASM'
	.text
	.globl _start
_start:
1:	lock incl (%rdi)
2:	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00
3:	.byte 0x0f, 0x01, 0xef
4:	call _start
5:	.byte 0xe9
	.long _start - (. + 4)
6:	.byte 0xf3, 0x0f, 0x1e, 0xfa
7:	call *0x1000
8:	ret
	.section .altinstr_replacement, "ax"
20:	.byte 0x0f, 0x01, 0xd4
21:
	.section .altinstructions, "a"
	.long 3b - ., 20b - .
	.word 0
	.byte 4b - 3b, 21b - 20b
	.section .parainstructions, "a"
	.balign 8
	.quad 7b
	.byte 1, 8b - 7b
	.balign 8
	.section .smp_locks, "a"
	.long 1b - ., 0
	.section .retpoline_sites, "a"
	.long 4b - .
	.section .return_sites, "a"
	.long 5b - .
	.section .ibt_endbr_seal, "a"
	.long 6b - .
	.section .rodata, "a"
	.balign 8
	.globl __start___jump_table, __stop___jump_table
__start___jump_table:
	.long 2b - ., 3b - .
	.quad 0
__stop___jump_table:
	.globl __start_static_call_sites, __stop_static_call_sites
__start_static_call_sites:
	.long 4b - ., 0
__stop_static_call_sites:
	.globl __start_mcount_loc, __stop_mcount_loc
__start_mcount_loc:
	.quad 2b
__stop_mcount_loc:
ASM
"$clang" -nostdlib -static -Wl,--build-id=none -o "$seeds/image/vmlinux-tables" "$tmp/tables.s" &&
	"$clang" -nostdlib -static -Wl,--build-id=none -Wl,-s -o "$seeds/image/vmlinux-tables-stripped" \
		"$tmp/tables.s" || :
# kallsyms (tests/unit/ksymgen's layout), alone for fuzz_kallsyms, and in the
# stripped vmlinux, where the image finds the three tables between symbols
# through it.
"$clang" -I"$src" -o "$tmp/ksymseed" "$src/fuzz/ksymseed.c" "$src/tests/unit/ksymgen.c"
"$tmp/ksymseed" blob 12 1 > "$seeds/kallsyms/small-seqs"
"$tmp/ksymseed" blob 300 0 > "$seeds/kallsyms/blocks"
"$tmp/ksymseed" asm > "$tmp/kallsyms.s"
cat "$tmp/tables.s" "$tmp/kallsyms.s" > "$tmp/tables-kallsyms.s"
"$clang" -nostdlib -static -Wl,--build-id=none -Wl,-s \
	-o "$seeds/image/vmlinux-kallsyms-stripped" "$tmp/tables-kallsyms.s"

cp "$src"/tests/fixtures/policy/*.xml "$seeds/policy/"
i=0
for e in '0f 01 d4' '0f 01 ef' '0f ae /5m' '0f ae 28/f8' '?? 0f 05' '48/f8 0f c7 /1' 'ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff'; do
	i=$((i + 1))
	printf '%s' "$e" > "$seeds/pattern/$i"
done

for o in "$seeds"/image/*; do
	"$scan" -q --no-progress --manifest "$seeds/manifest/$(basename "$o").xml" "$o" \
		>/dev/null 2>&1 || :
done

# --- signatures: a CA and a signer it issued, made once and kept (see the top)
pki=$out/pki
if [ ! -s "$pki/s.pem" ]; then
	rm -rf "$pki"
	mkdir -p "$pki"
	{
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.pem" \
			-days 3650 -subj "/CN=pvsub fuzz ca" \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" &&
			openssl req -newkey rsa:2048 -nodes -keyout "$pki/s.key" -out "$pki/s.csr" \
				-subj "/CN=pvsub fuzz signer" &&
			openssl x509 -req -in "$pki/s.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
				-set_serial 0x5eed -days 3650 -out "$pki/s.pem"
	} > "$out/pki.log" 2>&1 || {
		cat "$out/pki.log" >&2
		rm -rf "$pki"
		echo "fuzz: cannot make the test PKI" >&2
		exit 1
	}
fi
PVSUB_FUZZ_CA=$pki/ca.pem PVSUB_FUZZ_CERT=$pki/s.pem PVSUB_FUZZ_KEY=$pki/s.key
export PVSUB_FUZZ_CA PVSUB_FUZZ_CERT PVSUB_FUZZ_KEY

# be16 N: N as two bytes, big endian (the signature length of a verify seed)
be16() {
	# shellcheck disable=SC2059
	printf "\\$(printf %03o $(($1 >> 8)))\\$(printf %03o $(($1 & 255)))"
}

# verify: each manifest with its signature; bundle: each driver whose
# manifest describes it, plain and gzip'ed; modsig: modules signed with
# each hash, re-signed, and the hand-made trailer above.
for m in "$seeds"/manifest/*.xml; do
	b=$(basename "$m" .xml)
	for hash in sha256 sha384; do
		"$sign" sign --key "$pki/s.key" --cert "$pki/s.pem" --hash "$hash" -o "$tmp/m.p7s" "$m" \
			>/dev/null 2>&1 || continue
		{
			be16 "$(wc -c < "$tmp/m.p7s")"
			cat "$tmp/m.p7s" "$m"
			# the binary the manifest describes follows it
			if [ -f "$seeds/image/$b" ]; then cat "$seeds/image/$b"; fi
		} > "$seeds/verify/$b-$hash"
	done
	if [ -f "$seeds/image/$b" ] &&
		"$sign" bundle --key "$pki/s.key" --cert "$pki/s.pem" -o "$seeds/bundle/$b.tar" \
			"$seeds/image/$b" "$m" >/dev/null 2>&1; then
		gzip -n -c "$seeds/bundle/$b.tar" > "$seeds/bundle/$b.tar.gz"
	fi
done
for o in multi.o junction.S.o clean_nic.c.o; do
	[ -f "$seeds/image/$o" ] || continue
	for hash in sha256 sha512; do
		"$sign" sign --module --key "$pki/s.key" --cert "$pki/s.pem" --hash "$hash" \
			-o "$seeds/modsig/$o-$hash.ko" "$seeds/image/$o" >/dev/null 2>&1 || :
	done
done
cp "$seeds/image/signed.ko" "$seeds/modsig/"
# A second signature stacked on a signed module (the 16-byte dummy and its
# trailer from signed.ko), which stripping must peel off too.
if [ -f "$seeds/modsig/multi.o-sha256.ko" ]; then
	tail -c 56 "$seeds/image/signed.ko" > "$tmp/trailer"
	cat "$seeds/modsig/multi.o-sha256.ko" "$tmp/trailer" > "$seeds/modsig/stacked.ko"
fi
# The rewriter starts from the relocatable objects and signed modules.
for o in "$seeds"/image/*.o "$seeds"/image/signed.ko "$seeds"/modsig/*.ko; do
	if [ -f "$o" ]; then cp "$o" "$seeds/rewrite/"; fi
done
# The object reader and kernel metadata: the same objects, plus one with
# every kernel table kmeta reads (Linux 6.1 layouts), whole and with a
# table cut short.
for o in "$seeds"/rewrite/*; do
	cp "$o" "$seeds/kmeta/"
done
cat > "$tmp/tables.S" <<'SEOF'
	.text
f:
1:	lock incl (%rdi)
2:	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00
3:	.byte 0x90, 0x90, 0x90
4:
5:	call __fentry__
6:	call g
7:	call __x86_indirect_thunk_rax
	ret
	.section .altinstr_replacement, "ax"
8:	.byte 0x0f, 0x01, 0xd4
9:
	.section .altinstructions, "a"
	.long 3b - ., 8b - .
	.word 0x1234
	.byte 4b - 3b, 9b - 8b
	.section __jump_table, "aw"
	.balign 8
	.long 2b - ., 3b - .
	.quad key - .
	.section .smp_locks, "a"
	.long 1b - .
	.section __mcount_loc, "a"
	.quad 5b
	.section .static_call_sites, "a"
	.long 6b - ., key - .
	.section .retpoline_sites, "a"
	.long 7b - .
	.section .return_sites, "a"
	.section .parainstructions, "a"
	.balign 8
	.quad 1b
	.byte 0, 1
	.balign 8
	.section .ibt_endbr_seal, "a"
	.section __ex_table, "a"
	.long 1b - ., 2b - ., 0
	.data
key:	.quad 0
SEOF
"$clang" -c -o "$seeds/kmeta/tables.o" "$tmp/tables.S"
head -c 1500 "$seeds/kmeta/tables.o" > "$seeds/kmeta/tables-cut.o"

# The guest linker: the test guests built as guestlink.h documents (each
# alone, and the two that link back to back: the harness splits its input
# at each ELF header), and every relocation type it applies or refuses.
gflags="-fPIE -mcmodel=small -ffreestanding -fno-stack-protector -c -I$src/tests/guest"
for opt in -O2 -O0; do
	for g in main lib unknown; do
		# shellcheck disable=SC2086
		"$clang" $gflags $opt -o "$tmp/$g$opt.o" "$src/tests/guest/$g.c"
		cp "$tmp/$g$opt.o" "$seeds/guestlink/"
	done
	cat "$tmp/main$opt.o" "$tmp/lib$opt.o" > "$seeds/guestlink/main-lib$opt"
	cat "$tmp/main$opt.o" "$tmp/unknown$opt.o" > "$seeds/guestlink/main-unknown$opt"
done
cat > "$tmp/relocs.S" <<'SEOF'
	.text
	.globl pvsub_guest_main
pvsub_guest_main:
	call ext
	call far
	movq ext@GOTPCREL(%rip), %rax
	leaq target(%rip), %rcx
	ret
	.section .rodata.str1.1, "aMS", @progbits, 1
	.string "hello"
	.section .rodata
target:	.quad 0
	.data
	.reloc ., R_X86_64_64, target+3
	.quad 0
	.reloc ., R_X86_64_32, target
	.long 0
	.reloc ., R_X86_64_32S, target
	.long 0
	.reloc ., R_X86_64_PC64, ext
	.quad 0
	.reloc ., R_X86_64_GOTPCRELX, target-4
	.long 0
	.bss
	.zero 64
SEOF
"$clang" -c -o "$seeds/guestlink/relocs.o" "$tmp/relocs.S"

# Disk images, small: a FAT and an ext2 file system (bare), a GPT holding
# the FAT, and that disk as qcow2 (512-byte clusters; 4 KiB compressed).
if command -v mkfs.vfat >/dev/null 2>&1 && command -v mcopy >/dev/null 2>&1 &&
	command -v mkfs.ext4 >/dev/null 2>&1 && command -v sgdisk >/dev/null 2>&1 &&
	command -v qemu-img >/dev/null 2>&1; then
	d=$seeds/diskimage
	mkdir -p "$tmp/disk"
	cp "$seeds/image/junction.S.o" "$tmp/disk/junction.ko"
	mkfs.vfat -C "$d/fat.img" 64 >/dev/null
	mcopy -i "$d/fat.img" "$tmp/disk/junction.ko" ::/junction.ko
	mkfs.ext4 -q -F -b 1024 -N 16 -O ^has_journal,^resize_inode -d "$tmp/disk" "$d/ext2.img" 128K \
		>/dev/null
	truncate -s 160K "$d/gpt.img"
	sgdisk -n 1:34:+64K -n 2:0:0 "$d/gpt.img" >/dev/null 2>&1
	dd if="$d/fat.img" of="$d/gpt.img" bs=512 seek=34 conv=notrunc status=none
	qemu-img convert -O qcow2 -o cluster_size=512 "$d/gpt.img" "$d/gpt.qcow2"
	qemu-img convert -c -O qcow2 -o cluster_size=4096 "$d/gpt.img" "$d/gptc.qcow2"
fi

case " $harnesses " in *" diskimage "*) need_disk=diskimage ;; *) need_disk= ;; esac
for h in verify bundle modsig rewrite kmeta guestlink $need_disk; do
	[ -n "$(ls "$seeds/$h")" ] || { echo "fuzz: no $h seed could be made" >&2; exit 1; }
done

# Dictionaries: the element and attribute names of each schema.
for s in policy manifest; do
	sed -n 's/.*name="\([^"]*\)".*/"\1"/p' "$src/schemas/pvsub-$s.xsd" | sort -u > "$out/$s.dict"
done

[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

# --- run -------------------------------------------------------------------------
# run_one H: run harness H for $seconds s; status 1 on any finding.
run_one() {
	h=$1
	mkdir -p "$out/corpus/$h"
	extra=
	asan=${ASAN_OPTIONS:-}
	case $h in
	policy | manifest) extra=-dict=$out/$h.dict ;;
	verify) extra=-dict=$out/manifest.dict ;;
	# libarchive sizes a read-ahead buffer from a header field before it
	# knows the data is there (a cpio name length of up to 4 GiB): without
	# sanitizers a malloc never touched, under ASan seconds of shadow
	# memory work per input.  Refuse such allocations (libarchive then
	# fails the archive cleanly); the RSS limit still catches real use.
	input) asan=${asan:+$asan:}allocator_may_return_null=1:max_allocation_size_mb=1024 ;;
	# The Sleuth Kit does the same from file-system fields (3 GiB calloc'ed
	# for an ext2 inode of a 37 KiB image, never touched); it fails the
	# file system cleanly when refused.
	# libqcow 20201213 copies a whole cluster out of a shorter block for a
	# malformed image (a heap over-read, found by this harness): reports
	# from memcpy called by libqcow itself are suppressed, so that the run
	# goes on to find pvsub's own faults.
	diskimage)
		printf 'interceptor_via_lib:libqcow.so\n' > "$out/diskimage.supp"
		asan=${asan:+$asan:}allocator_may_return_null=1:max_allocation_size_mb=1024
		asan=$asan:suppressions=$out/diskimage.supp
		;;
	esac
	echo "fuzz: fuzz_$h for $seconds s"
	# shellcheck disable=SC2086
	if ! ASAN_OPTIONS=$asan "$out/fuzz_$h" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$h-" $extra ${FUZZ_FLAGS:-} \
		"$out/corpus/$h" "$seeds/$h" > "$out/$h.log" 2>&1; then
		tail -60 "$out/$h.log" >&2
		return 1
	fi
	grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+.*DONE)' "$out/$h.log" || :
}

# Each harness is one process on one core: run FUZZ_JOBS of them at a time
# (default: the number of cores), each lane its share in order.
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
rm -f "$out"/lane-*.failed
lane=0
while [ "$lane" -lt "$jobs" ]; do
	(
		i=0
		for h in $harnesses; do
			if [ $((i % jobs)) -eq "$lane" ] && ! run_one "$h"; then
				echo "$h" >> "$out/lane-$lane.failed"
			fi
			i=$((i + 1))
		done
	) &
	lane=$((lane + 1))
done
wait
failed=$(cat "$out"/lane-*.failed 2>/dev/null | tr '\n' ' ')
rm -f "$out"/lane-*.failed
rm -rf "$tmp"
if [ -n "$failed" ]; then
	echo "fuzz: FAILED: $failed(inputs in $out/artifacts/)" >&2
	exit 1
fi
echo "fuzz: all harnesses ran $seconds s without a finding"
