#!/bin/sh
# fetch-kernel-dbg.sh DIR KERNEL_DEB: make sure DIR holds the debug-symbol
# package that matches KERNEL_DEB (the same package name with "-dbg", the
# same version: its vmlinux is the one inside KERNEL_DEB's vmlinuz, with
# symbols) and print its path.  It is large (about 280 MB), so it is
# downloaded once, with apt's own package lists (run `apt-get update` first
# on a fresh machine), into a temporary directory in DIR and renamed into
# place only when complete.
set -eu
dir=$1
kdeb=$2
name=$(dpkg-deb -f "$kdeb" Package)
version=$(dpkg-deb -f "$kdeb" Version)
arch=$(dpkg-deb -f "$kdeb" Architecture)
dbg=$name-dbg
# apt's file name: the epoch's ':' is written %3a.
deb="$dir/${dbg}_$(printf '%s' "$version" | sed 's/:/%3a/')_$arch.deb"
if [ ! -f "$deb" ]; then
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir/.fetch-dbg.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download "$dbg=$version" >/dev/null 2>&1) || {
		echo "fetch-kernel-dbg.sh: apt-get download $dbg=$version failed" >&2
		exit 1
	}
	set -- "$tmp"/*.deb
	[ $# -eq 1 ] && [ -f "$1" ] || {
		echo "fetch-kernel-dbg.sh: apt-get download $dbg=$version gave no single .deb" >&2
		exit 1
	}
	mv "$1" "$deb"
fi
if [ "$(dpkg-deb -f "$deb" Package)" != "$dbg" ] ||
	[ "$(dpkg-deb -f "$deb" Version)" != "$version" ]; then
	echo "fetch-kernel-dbg.sh: $deb is not $dbg $version" >&2
	exit 1
fi
echo "$deb"
