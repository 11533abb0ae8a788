#!/bin/sh
# boot.sh: boot a real Linux kernel under qemu-system-x86_64 with a busybox
# initramfs, run a shell script in the guest as init, and exit with its status.
#
# usage: boot.sh -k KERNEL [-m MODULE]... [-K MODPATH]... [-f SRC[=DEST]]...
#                [-a APPEND] [-s CPUS] [-t SECONDS] [-l CONSOLE.LOG] [-w WORKDIR]
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
#   -s CPUS      virtual CPUs (default 1); with more than one, TCG runs
#                them in parallel, one host thread each (thread=multi)
#   -t SECONDS   timeout of the boot that runs the script (default 300)
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
# The accelerator is chosen here and nowhere else.  PVSUB_QEMU_ACCEL=kvm
# or tcg forces one (a forced KVM that QEMU cannot use fails the boot);
# unset, empty or "auto", a short probe boot of the same kernel and
# initramfs under KVM must reach the initramfs's init within
# PVSUB_QEMU_PROBE_TIMEOUT seconds (default 30; KVM needs 1 or 2).  When it
# does not, because QEMU aborts (an MSR it cannot set), reports a KVM
# failure ("KVM internal error", "emulation failure": the vCPU stops and
# QEMU would wait forever) or runs out of time, the boot falls back to TCG
# with one line on stderr saying why.  Only QEMU's behaviour decides: a
# /dev/kvm that exists and is writable may still be unusable (nested
# virtualisation).  Every QEMU run is bounded, and one that reports a KVM
# failure is stopped at once.
#
# QEMU and BUSYBOX override the qemu-system-x86_64 and (static) busybox
# found in PATH.
set -eu

me=boot.sh
die() {
	echo "$me: $*" >&2
	exit 125
}

kernel='' append='' cpus=1 timeout=300 log='' work='' snippet='' guest=''
modules='' kmodules='' files=''
nl='
'
while getopts k:m:K:f:a:s:t:l:w:c: opt; do
	case $opt in
	k) kernel=$OPTARG ;;
	m) modules="$modules$OPTARG$nl" ;;
	K) kmodules="$kmodules$OPTARG$nl" ;;
	f) files="$files$OPTARG$nl" ;;
	a) append=$OPTARG ;;
	s) cpus=$OPTARG ;;
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

accel=${PVSUB_QEMU_ACCEL:-auto}
case $accel in
auto | kvm | tcg) ;;
*) die "PVSUB_QEMU_ACCEL=$accel: expected kvm, tcg or auto" ;;
esac
probe_timeout=${PVSUB_QEMU_PROBE_TIMEOUT:-30}
for n in "$timeout" "$probe_timeout"; do
	case $n in
	'' | *[!0-9]* | 0) die "timeout '$n': expected a number of seconds" ;;
	esac
done

qemu=${QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null || die "$qemu not found"
command -v cpio >/dev/null || die "cpio not found"
busybox=${BUSYBOX:-$(command -v busybox || true)}
[ -n "$busybox" ] || die "busybox not found (Debian: busybox-static)"
# A dynamic busybox would need its libraries in the initramfs.
if LC_ALL=C readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
	die "$busybox is dynamically linked (install busybox-static)"
fi

keep_work=1
if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/pvsub-qemu.XXXXXX")
	keep_work=0
fi
mkdir -p "$work"
# On the way out, stop a QEMU still running (this script was interrupted).
cleanup() {
	if [ -s "$work/qemu.pid" ] && [ ! -e "$work/qemu.rc" ]; then
		kill "$(cat "$work/qemu.pid")" 2>/dev/null || :
	fi
	[ "$keep_work" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
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
case " \$(cat /proc/cmdline) " in
*" pvsub.probe=1 "*)
	echo PVSUB-PROBE-OK
	poweroff -f
	;;
esac
echo PVSUB-GUEST-START
sh /guest.sh
echo "PVSUB-GUEST-EXIT=\$?"
sync
poweroff -f
EOF
chmod 755 "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 >"$work/initrd.gz"

# qemu_run ACCEL SECONDS LOG ERR APPEND: boot the initramfs under ACCEL
# for at most SECONDS, console in LOG, QEMU's messages in ERR, APPEND added
# to the kernel command line.  QEMU runs in the background so that its
# messages can be watched: one that says KVM cannot run the guest stops it
# at once.  Sets qstatus (QEMU's exit status, 124 when the time ran out)
# and qfail (QEMU's KVM complaint when it was stopped for one, else empty).
# More than one vCPU under TCG asks for multi-threaded TCG, so that the
# guest's threads do run at the same time (QEMU refuses it where it cannot).
kvm_failure='KVM internal error\|emulation failure'
qemu_run() {
	rm -f "$work/qemu.pid" "$work/qemu.rc" "$work/qemu.rc.tmp"
	_accel=accel=$1
	[ "$1" != tcg ] || [ "$cpus" -eq 1 ] || _accel=$_accel,thread=multi
	(
		timeout "$2" "$qemu" -machine q35 -accel "$_accel" -cpu max -m 1G -smp "$cpus" \
			-nographic -no-reboot -nic none \
			-kernel "$vmlinuz" -initrd "$work/initrd.gz" \
			-append "console=ttyS0 panic=-1 rdinit=/init $5" \
			</dev/null >"$3" 2>"$4" &
		echo $! >"$work/qemu.pid"
		st=0
		wait $! || st=$?
		echo "$st" >"$work/qemu.rc.tmp"
		mv "$work/qemu.rc.tmp" "$work/qemu.rc"
	) 2>/dev/null & # not the shell's own "Aborted": QEMU's messages are in ERR
	qfail=''
	while [ ! -s "$work/qemu.rc" ]; do
		if [ -z "$qfail" ] && grep -q "$kvm_failure" "$4" 2>/dev/null; then
			qfail=$(qemu_why "$4")
			while [ ! -s "$work/qemu.pid" ]; do
				sleep 0.1 2>/dev/null || sleep 1
			done
			kill "$(cat "$work/qemu.pid")" 2>/dev/null || :
		fi
		sleep 0.2 2>/dev/null || sleep 1
	done
	wait
	qstatus=$(cat "$work/qemu.rc")
}

# qemu_why ERR: QEMU's complaint in one line, without the program's name:
# its first line that says what went wrong (else its first line), plus
# "emulation failure" when KVM said so further down.
qemu_why() {
	_why=$(tr -d '\r' <"$1" | sed 's/^[^ :]*qemu[^ :]*: //; s/^error: //' |
		grep -i -m1 'error\|fail\|could not\|cannot\|assert' || :)
	[ -n "$_why" ] || _why=$(tr -d '\r' <"$1" | sed 's/^[^ :]*qemu[^ :]*: //' | grep -m1 . || :)
	case $_why in
	*'emulation failure'*) ;;
	*) grep -q 'emulation failure' "$1" && _why="$_why; emulation failure" ;;
	esac
	printf '%s' "$_why" | cut -c1-200
}

if [ "$accel" = auto ]; then
	qemu_run kvm "$probe_timeout" "$work/probe.log" "$work/probe.err" pvsub.probe=1
	if [ -z "$qfail" ] && tr -d '\r' <"$work/probe.log" | grep -qx PVSUB-PROBE-OK; then
		accel=kvm
	else
		if [ -n "$qfail" ]; then
			why="qemu: $qfail"
		elif [ "$qstatus" -eq 124 ]; then
			why="the guest did not reach init within $probe_timeout s"
		elif [ -s "$work/probe.err" ]; then
			why="qemu: $(qemu_why "$work/probe.err")"
		else
			why="qemu exited $qstatus before the guest reached init"
		fi
		echo "$me: KVM unusable ($why), using TCG" >&2
		accel=tcg
	fi
fi
how=$accel
[ "$cpus" -eq 1 ] || how="$accel, $cpus vCPUs"
echo "$me: booting $kver ($how), console in $log" >&2
qemu_run "$accel" "$timeout" "$log" "$work/qemu.err" "$append"
status=$qstatus

code=$(tr -d '\r' <"$log" | sed -n 's/^PVSUB-GUEST-EXIT=\([0-9][0-9]*\)$/\1/p' | tail -1)
if [ -n "$code" ]; then
	exit "$code"
fi
{
	if [ -n "$qfail" ]; then
		echo "$me: QEMU stopped: KVM cannot run the guest ($qfail)"
	elif [ "$status" -eq 124 ]; then
		echo "$me: the guest did not finish within $timeout s"
	else
		echo "$me: the guest never reported its status (qemu exit $status)"
	fi
	cat "$work/qemu.err"
	if [ "$accel" = kvm ] && [ "${PVSUB_QEMU_ACCEL:-}" = kvm ]; then
		echo "$me: KVM was forced by PVSUB_QEMU_ACCEL=kvm (auto falls back to TCG)"
	fi
	echo "--- last lines of $log"
	tail -40 "$log"
} >&2
[ "$status" -eq 124 ] && exit 124
exit 125
