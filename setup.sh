#!/bin/sh
# setup.sh: make a fresh Debian 12 machine ready to build and test pvsub.
#
#   1. installs the Debian packages the build and the tests need, if any is
#      missing (needs root, or sudo);
#   2. generates the build system (autoreconf) if it is missing or stale;
#   3. configures the tree if it is not configured yet.
#
# Extra configure options may be given in PVSUB_CONFIGURE_FLAGS, e.g.
#   PVSUB_CONFIGURE_FLAGS=--enable-sanitizers ./setup.sh
set -eu
cd "$(dirname "$0")"

PACKAGES="build-essential autoconf automake libtool pkg-config
libelf-dev libcapstone-dev libxml2-dev libxml2-utils libarchive-dev libssl-dev
libcriterion-dev liblzo2-dev zlib1g-dev liblua5.4-dev
xz-utils zstd lz4 lzop bzip2 gzip cpio tar zip binutils python3 python3-yaml dpkg-dev rpm
openssl kmod qemu-system-x86 busybox-static softhsm2 libengine-pkcs11-openssl
clang libclang-rt-14-dev
libtsk-dev libqcow-dev qemu-utils e2fsprogs dosfstools mtools fdisk gdisk xorriso strace
musl-tools"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "setup.sh: installing:$missing"
	if [ "$(id -u)" -eq 0 ]; then
		SUDO=
	elif command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "setup.sh: these Debian packages are missing and I am not root:$missing" >&2
		exit 1
	fi
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	echo "setup.sh: generating the build system"
	mkdir -p m4
	autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt config.status ]; then
	echo "setup.sh: configuring${PVSUB_CONFIGURE_FLAGS:+ with $PVSUB_CONFIGURE_FLAGS}"
	# shellcheck disable=SC2086
	./configure -q ${PVSUB_CONFIGURE_FLAGS:-}
fi
echo "setup.sh: ready (make, make demo, make check, make bench)"
