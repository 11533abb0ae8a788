#!/bin/sh
# SPDX-License-Identifier: MIT
# check-layering.sh [SRCDIR]: the modules of libpvsub/ must depend on each
# other as a DAG, and the object reader must stay usable by the loader.
#
# A module is a .c and its own .h (rewrite.c, rewrite_rules.c and
# rewrite_internal.h are one module, "rewrite"); module A depends on B when
# a file of A has #include "libpvsub/B.h".  Checked:
#
#   1. there is no cycle (the path of the first one found is printed);
#   2. the reader modules (reloc, relobj, kmeta) reach, through their
#      includes, only each other and util, crypto and modsig: never image
#      (libelf), x86 or classify (capstone), or anything above them;
#   3. their .c files include no libelf, gelf or capstone header and do not
#      print (no stdio output call): the library reports through its
#      diagnostics, and the loader links them as they are.
#
# Run by make check (TESTS); exit 0 pass, 1 fail.
set -eu
src=${1:-${top_srcdir:-.}}
lib=$src/libpvsub
[ -d "$lib" ] || { echo "check-layering: no $lib" >&2; exit 1; }

READER="reloc relobj kmeta"
READER_MAY_USE="util crypto modsig reloc relobj kmeta"

# module FILE: the module a file of libpvsub/ belongs to.
module() {
	m=$(basename "$1")
	m=${m%.[ch]}
	case $m in
	rewrite_rules | rewrite_internal) m=rewrite ;;
	esac
	echo "$m"
}

edges=$(mktemp "${TMPDIR:-/tmp}/pvsub-layering.XXXXXX")
trap 'rm -f "$edges"' EXIT
for f in "$lib"/*.c "$lib"/*.h; do
	[ -e "$f" ] || continue
	from=$(module "$f")
	sed -n 's|^[[:space:]]*#[[:space:]]*include[[:space:]]*"libpvsub/\([A-Za-z0-9_]*\)\.h".*|\1|p' "$f" |
		while read -r to; do
			to=$(module "$to.h")
			[ "$to" = "$from" ] || echo "$from $to"
		done
done | sort -u > "$edges"

status=0

# 1. cycles: depth-first search, grey nodes on the current path.
cycle=$(awk '
	{ n[$1] = 1; n[$2] = 1; adj[$1] = adj[$1] " " $2 }
	function visit(v, depth,    k, m, list, i, j, p) {
		colour[v] = 1
		path[depth] = v
		m = split(adj[v], list, " ")
		for (i = 1; i <= m; i++) {
			k = list[i]
			if (colour[k] == 1) {
				p = ""
				for (j = 0; j <= depth; j++)
					if (p != "" || path[j] == k)
						p = p path[j] " -> "
				print p k
				return 1
			}
			if (colour[k] == 0 && visit(k, depth + 1))
				return 1
		}
		colour[v] = 2
		return 0
	}
	END {
		for (v in n)
			if (colour[v] == 0 && visit(v, 0))
				exit
	}' "$edges")
if [ -n "$cycle" ]; then
	echo "FAIL: libpvsub modules include each other in a cycle: $cycle" >&2
	status=1
fi

# 2. what the reader modules reach.
for r in $READER; do
	reach=$(awk -v start="$r" '
		{ adj[$1] = adj[$1] " " $2 }
		function walk(v,    m, list, i) {
			if (seen[v]++)
				return
			m = split(adj[v], list, " ")
			for (i = 1; i <= m; i++)
				walk(list[i])
		}
		END { walk(start); for (v in seen) print v }' "$edges")
	for m in $reach; do
		case " $READER_MAY_USE " in
		*" $m "*) ;;
		*)
			echo "FAIL: the object reader module $r depends on $m" >&2
			status=1
			;;
		esac
	done
done

# 3. no libelf, no capstone, no printing in the reader's sources.
for r in $READER; do
	for f in "$lib/$r.c" "$lib/$r.h"; do
		[ -e "$f" ] || { echo "FAIL: $f is missing" >&2; status=1; continue; }
		if grep -n -E '#[[:space:]]*include[[:space:]]*<(libelf|gelf|capstone)' "$f" >&2; then
			echo "FAIL: $f includes libelf or capstone" >&2
			status=1
		fi
		if grep -n -E '\b(printf|fprintf|vfprintf|puts|fputs|putchar|perror|fwrite)[[:space:]]*\(|\b(stdout|stderr)\b' "$f" >&2; then
			echo "FAIL: $f prints" >&2
			status=1
		fi
	done
done

[ "$status" -eq 0 ] && echo "libpvsub: $(wc -l < "$edges") dependencies between modules, no cycle; the reader ($READER) uses only $READER_MAY_USE"
exit "$status"
