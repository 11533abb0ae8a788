#!/bin/sh
# fetch-kernel.sh DIR: make sure DIR holds the current Debian cloud kernel
# package (linux-image-*-cloud-amd64) and print its path.  Uses apt's own
# package lists: run `apt-get update` first on a fresh machine.
set -eu
dir=$1
mkdir -p "$dir"
name=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -1)
if [ -z "$name" ]; then
	echo "fetch-kernel.sh: apt does not know linux-image-cloud-amd64 (run apt-get update)" >&2
	exit 1
fi
deb=$(ls "$dir/${name}"_*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
	(cd "$dir" && apt-get download "$name" >/dev/null 2>&1) || {
		echo "fetch-kernel.sh: apt-get download $name failed" >&2
		exit 1
	}
	deb=$(ls "$dir/${name}"_*.deb | head -1)
fi
echo "$deb"
