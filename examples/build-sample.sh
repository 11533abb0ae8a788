#!/bin/sh
# build-sample.sh SRCDIR OUTDIR
#
# Build the sample guest image OUTDIR/sample-guest.tar.gz from the example
# drivers in SRCDIR/drivers.  The image is reproducible: sorted entries,
# fixed owner and time, gzip without a name or time stamp.
set -eu
src=$1
out=$2
cc=${CC:-cc}
root=$out/sample-root
rm -rf "$root"
mkdir -p "$root/lib/modules/pvsub-sample" "$root/usr/lib" "$root/boot" "$root/etc" "$root/initrd/lib/modules"

obj() { # obj SOURCE OUTPUT [FLAGS...]
	s=$1 o=$2
	shift 2
	"$cc" -c -O2 -fno-asynchronous-unwind-tables "$@" -o "$o" "$src/drivers/$s"
}

obj clean_nic.c "$root/lib/modules/pvsub-sample/clean_nic.o"
obj clean_blk.S "$root/lib/modules/pvsub-sample/clean_blk.o"
obj embedded_imm.S "$root/lib/modules/pvsub-sample/embedded_imm.o"
obj spanning.S "$root/lib/modules/pvsub-sample/spanning.ko"
xz -9 -f "$root/lib/modules/pvsub-sample/spanning.ko"
"$cc" -shared -fPIC -O2 -Wl,--build-id=none -o "$root/usr/lib/libpvsub-sample.so" "$src/drivers/libclean_user.c"
echo pvsub-sample-guest > "$root/etc/hostname"

# An initramfs inside the image, holding the module with a real gate and
# the one whose sections only form a gate where they meet.
obj gate_wrpkru.S "$root/initrd/lib/modules/gate_wrpkru.o"
obj junction.S "$root/initrd/lib/modules/junction.o"
find "$root/initrd" -exec touch -h -d @0 {} +
(cd "$root/initrd" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible) | gzip -n -9 > "$root/boot/initrd.cpio.gz"
rm -rf "$root/initrd"

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=gnu -C "$root" -cf - . | gzip -n -9 > "$out/sample-guest.tar.gz.tmp"
mv "$out/sample-guest.tar.gz.tmp" "$out/sample-guest.tar.gz"
