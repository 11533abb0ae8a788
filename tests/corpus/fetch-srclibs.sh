#!/bin/sh
# fetch-srclibs.sh DIR: make sure DIR/srclibs holds the Debian bookworm
# source packages of zlib and lua5.4 (each .dsc with every file it lists)
# and print the path of each .dsc, one a line.
#
# The machine's apt configuration is left alone: apt reads a sources list
# of our own (one deb-src line for bookworm main) with lists, cache and
# downloads in a temporary directory, so it still checks the Release file's
# signature against the machine's trusted keys and every file against the
# checksums of the .dsc.  The files are renamed into DIR/srclibs only when
# both packages are complete; once they are there, nothing is downloaded.
set -eu
dir=$1/srclibs
mirror=${PVSUB_DEBIAN_MIRROR:-http://deb.debian.org/debian}

# have PACKAGE: the .dsc of PACKAGE in $dir (the highest version, where a
# later fetch added another), when it and every file it lists are there.
have() {
	set -- "$(ls "$dir/$1"_*.dsc 2>/dev/null | sort -V | tail -n 1)"
	[ -f "$1" ] || return 1
	for f in $(sed -n '/^Files:/,/^[^ ]/s/^ [0-9a-f]\{32\} [0-9]* \(.*\)$/\1/p' "$1"); do
		[ -f "$dir/$f" ] || return 1
	done
	echo "$1"
}

if ! have zlib >/dev/null || ! have lua5.4 >/dev/null; then
	mkdir -p "$1"
	tmp=$(mktemp -d "$1/.fetch-srclibs.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/get"
	echo "deb-src $mirror bookworm main" >"$tmp/sources.list"
	set -- -o Dir::Etc::SourceList="$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)"
	apt-get "$@" -q update >"$tmp/log" 2>&1 &&
		(cd "$tmp/get" && apt-get "$@" -q source --download-only zlib lua5.4) >>"$tmp/log" 2>&1 || {
		echo "fetch-srclibs.sh: apt-get source zlib lua5.4 failed: $(grep -m1 '^E:\|^Err:' "$tmp/log" || tail -1 "$tmp/log")" >&2
		exit 1
	}
	mkdir -p "$dir"
	mv "$tmp/get"/* "$dir/"
fi
have zlib || { echo "fetch-srclibs.sh: no complete zlib source package in $dir" >&2; exit 1; }
have lua5.4 || { echo "fetch-srclibs.sh: no complete lua5.4 source package in $dir" >&2; exit 1; }
