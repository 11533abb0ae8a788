#!/bin/sh
# boot.sh: boot a real Linux kernel under qemu-system-x86_64 with a busybox
# initramfs, run a shell script in the guest as init, and exit with its status.
#
# usage: boot.sh -k KERNEL [-m MODULE]... [-K MODPATH]... [-f SRC[=DEST]]...
#                [-a APPEND] [-t SECONDS] [-l CONSOLE.LOG] [-w WORKDIR]
#                {-c 'SHELL SNIPPET' | GUEST-SCRIPT}
#
#   -k KERNEL    a linux-image-*.deb, or a directory it was unpacked into
#                (holding boot/vmlinuz-* and lib/modules/VERSION/)
#   -m MODULE    a module file of the host, copied to /modules/ in the guest
#   -K MODPATH   a module of the kernel package, relative to
#                lib/modules/VERSION/ (e.g. kernel/lib/crc-itu-t.ko), also
#                copied to /modules/
#   -f SRC=DEST  any other file, copied to DEST (absolute; default /NAME)
#   -a APPEND    extra kernel command line
#   -t SECONDS   timeout of the whole boot (default 300)
#   -l LOG       where to keep the serial console (default: WORKDIR/console.log)
#   -w WORKDIR   scratch directory, kept (default: a temporary one, removed)
#
# Paths must not contain white space.
#
# The guest script runs under busybox sh with /proc, /sys and /dev mounted,
# busybox's applets in /bin, the modules in /modules and KVER set to the
# kernel release.  Its status is printed on the console as
# "PVSUB-GUEST-EXIT=N"; this script exits with that N.  Exit 124 means the
# boot timed out, 125 that the guest never reported (a panic, a missing
# tool, a bad kernel), with the console log's tail on stderr.
#
# KVM is used when /dev/kvm is usable, TCG otherwise.  QEMU and BUSYBOX
# override the qemu-system-x86_64 and (static) busybox found in PATH.
set -eu

me=boot.sh
die() {
	echo "$me: $*" >&2
	exit 125
}

kernel='' append='' timeout=300 log='' work='' snippet='' guest=''
modules='' kmodules='' files=''
nl='
'
while getopts k:m:K:f:a:t:l:w:c: opt; do
	case $opt in
	k) kernel=$OPTARG ;;
	m) modules="$modules$OPTARG$nl" ;;
	K) kmodules="$kmodules$OPTARG$nl" ;;
	f) files="$files$OPTARG$nl" ;;
	a) append=$OPTARG ;;
	t) timeout=$OPTARG ;;
	l) log=$OPTARG ;;
	w) work=$OPTARG ;;
	c) snippet=$OPTARG ;;
	*) die "bad option (see the comment at the top of $0)" ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$kernel" ] || die "no kernel (-k)"
if [ -z "$snippet" ]; then
	[ $# -eq 1 ] || die "give one guest script, or -c 'SNIPPET'"
	guest=$1
	[ -r "$guest" ] || die "cannot read $guest"
fi

qemu=${QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null || die "$qemu not found"
command -v cpio >/dev/null || die "cpio not found"
busybox=${BUSYBOX:-$(command -v busybox || true)}
[ -n "$busybox" ] || die "busybox not found (Debian: busybox-static)"
# A dynamic busybox would need its libraries in the initramfs.
if LC_ALL=C readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
	die "$busybox is dynamically linked (install busybox-static)"
fi

if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/pvsub-qemu.XXXXXX")
	trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
[ -n "$log" ] || log=$work/console.log

# The kernel: take only vmlinuz and the modules asked for out of a .deb.
if [ -d "$kernel" ]; then
	kroot=$kernel
else
	kroot=$work/kernel
	rm -rf "$kroot"
	mkdir -p "$kroot"
	pats="./boot/vmlinuz-*"
	for k in $kmodules; do
		pats="$pats ./lib/modules/*/$k"
	done
	# shellcheck disable=SC2086 # the patterns are split on purpose
	dpkg-deb --fsys-tarfile "$kernel" | tar -x -C "$kroot" --wildcards $pats ||
		die "cannot unpack $kernel"
fi
vmlinuz=$(find "$kroot/boot" -name "vmlinuz-*" 2>/dev/null | LC_ALL=C sort | head -1)
[ -n "$vmlinuz" ] || die "no boot/vmlinuz-* in $kernel"
kver=${vmlinuz##*/vmlinuz-}

# The initramfs.
root=$work/initramfs
rm -rf "$root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/modules"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
for m in $modules; do
	cp "$m" "$root/modules/"
done
for k in $kmodules; do
	cp "$kroot/lib/modules/$kver/$k" "$root/modules/" ||
		die "no $k in the kernel package"
done
for f in $files; do
	src=${f%%=*}
	dest=${f#*=}
	[ "$dest" != "$f" ] || dest=/$(basename "$src")
	mkdir -p "$root$(dirname "$dest")"
	cp "$src" "$root$dest"
done
if [ -n "$snippet" ]; then
	printf '%s\n' "$snippet" >"$root/guest.sh"
else
	cp "$guest" "$root/guest.sh"
fi
# Without a /dev/console node in the archive (making one needs root) the
# kernel starts init with no stdio: mount devtmpfs and take the console.
cat >"$root/init" <<EOF
#!/bin/sh
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
export PATH=/bin KVER=$kver
cd /
echo PVSUB-GUEST-START
sh /guest.sh
echo "PVSUB-GUEST-EXIT=\$?"
sync
poweroff -f
EOF
chmod 755 "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 >"$work/initrd.gz"

accel=tcg
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	accel=kvm
fi
echo "$me: booting $kver ($accel), console in $log" >&2
status=0
timeout "$timeout" "$qemu" -machine q35,accel=$accel -cpu max -m 1G -smp 1 \
	-nographic -no-reboot -nic none \
	-kernel "$vmlinuz" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 panic=-1 rdinit=/init $append" \
	</dev/null >"$log" 2>"$work/qemu.err" || status=$?

code=$(tr -d '\r' <"$log" | sed -n 's/^PVSUB-GUEST-EXIT=\([0-9][0-9]*\)$/\1/p' | tail -1)
if [ -n "$code" ]; then
	exit "$code"
fi
{
	if [ "$status" -eq 124 ]; then
		echo "$me: the guest did not finish within $timeout s"
	else
		echo "$me: the guest never reported its status (qemu exit $status)"
	fi
	cat "$work/qemu.err"
	echo "--- last lines of $log"
	tail -40 "$log"
} >&2
[ "$status" -eq 124 ] && exit 124
exit 125
