#!/bin/sh
# libpvsub's areas are linked bottom-up (core < elf < trust < analysis) and
# its modules include each other without a cycle: build-aux/check-layering.py
# checks the archives the build made and the sources, after proving on a
# small tree of its own that it reports each kind of breach.  Then what the
# loader will need (the object reader, relocations, kernel metadata and the
# one verification call) is linked without libelf and capstone, and run; and
# the real pvsub-loader is checked the same way.
. "$top_srcdir/tests/lib.sh"
command -v nm >/dev/null && command -v ar >/dev/null || skip "nm and ar (binutils) are needed"
python3 "$top_srcdir/build-aux/check-layering.py" --self-test || fail "the checker's self-test failed"
python3 "$top_srcdir/build-aux/check-layering.py" "$top_srcdir" "$top_builddir" ||
	fail "libpvsub's layering is broken (lines above)"

# A new upward use is a link error too: each area, whole, linked with only
# the areas below it and its own third-party libraries.
pc() { pkg-config --libs "$@" 2>/dev/null || skip "pkg-config cannot name $*"; }
libs=$top_builddir/libpvsub/.libs
echo 'int main(void) { return 0; }' > empty.c
below=
for area in core elf trust analysis; do
	case $area in
	trust) third=$(pc libxml-2.0 libarchive libcrypto) ;;
	analysis) third="$(pc libelf capstone libarchive lzo2 tsk libqcow) $(pc libxml-2.0 libcrypto)" ;;
	*) third= ;;
	esac
	# shellcheck disable=SC2086
	$CC ${SANITIZER_CFLAGS:-} -o "link-$area" empty.c -Wl,--whole-archive "$libs/libpvsub-$area.a" \
		-Wl,--no-whole-archive $below $third -pthread 2>"link-$area.err" ||
		fail "libpvsub-$area does not link with only the areas below it: $(grep -m3 undefined "link-$area.err")"
	below="$libs/libpvsub-$area.a $below"
done

cat > loader.c <<'CEOF'
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "libpvsub/kmeta.h"
#include "libpvsub/reloc.h"
#include "libpvsub/relobj.h"
#include "libpvsub/verify.h"

int main(int argc, char **argv)
{
	struct pvsub_diag diag = {{0}};
	struct pvsub_verify_request q = {.sz = sizeof(q)};
	struct pvsub_verify_result res;
	struct pvsub_relobj *o = NULL;
	struct pvsub_mwindow *w = NULL;
	size_t len, nw = 0, relas = 0, unknown = 0;
	uint8_t *data;
	int status = 0;

	if (argc != 2 || pvsub_read_file(argv[1], 1 << 26, &data, &len, &diag) < 0)
		return 2;
	if (pvsub_relobj_load(data, len, &o, &diag) < 0) {
		printf("refused: %s\n", diag.msg);
		free(data);
		return 1;
	}
	for (size_t i = 1; i < o->n_sec; i++) {
		if (o->sec[i].sh.sh_type != SHT_RELA)
			continue;
		for (size_t k = 0; k < pvsub_relobj_rela_count(o, i); k++) {
			Elf64_Rela ra;

			pvsub_relobj_rela_get(o, i, k, &ra);
			relas++;
			unknown += !pvsub_reloc_lookup((uint32_t)ELF64_R_TYPE(ra.r_info));
		}
	}
	/* No trust anchors: refused as a malformed request, by the library. */
	if (pvsub_kmeta_windows(o, &w, &nw, &diag) < 0 || pvsub_verify(&q, &res) != -EINVAL ||
	    res.status != PVSUB_VERIFY_ERROR) {
		printf("failed: %s\n", diag.msg);
		status = 1;
	} else {
		printf("%zu sections, %zu relocations (%zu unknown), %zu windows\n", o->n_sec,
		       relas, unknown, nw);
	}
	free(w);
	pvsub_relobj_free(o);
	free(data);
	return status;
}
CEOF
third=$(pc libxml-2.0 libarchive libcrypto)
# The archives are instrumented when the build is (--enable-sanitizers).
# shellcheck disable=SC2086
$CC -std=gnu11 ${SANITIZER_CFLAGS:-} -include "$top_builddir/config.h" -I"$top_srcdir" -I"$top_builddir" -o loader \
	loader.c "$libs/libpvsub-trust.a" "$libs/libpvsub-elf.a" "$libs/libpvsub-core.a" \
	$third -pthread 2>link.err || fail "the reader and verifier need more than trust, elf and core: $(cat link.err)"
nm -u loader | grep -Eq ' (elf_|gelf_|cs_)' && fail "the loader's link pulls libelf or capstone"

# The real pvsub-loader passes the same check, and holds no code of the
# analysis area (checked by name: the analysis archive's global symbols).
real=$top_builddir/pvsub-loader/pvsub-loader
[ -x "$real" ] || fail "pvsub-loader was not built"
nm -u "$real" | grep -Eq ' (elf_|gelf_|cs_)' && fail "pvsub-loader's link pulls libelf or capstone"
readelf -dW "$real" | grep -E 'NEEDED.*(libelf|libcapstone)' &&
	fail "pvsub-loader needs libelf or capstone"
nm -g --defined-only "$libs/libpvsub-analysis.a" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u > analysis.syms
nm --defined-only "$real" | awk 'NF == 3 { print $3 }' | sort -u > loader.syms
[ -s analysis.syms ] || fail "no symbol read from libpvsub-analysis.a"
comm -12 analysis.syms loader.syms > both.syms
[ ! -s both.syms ] || fail "pvsub-loader holds analysis code: $(head -5 both.syms | tr '\n' ' ')"
# the control: the scanner does hold it
nm --defined-only "$top_builddir/pvsub-scan/pvsub-scan" | awk 'NF == 3 { print $3 }' | sort -u |
	comm -12 analysis.syms - | grep -q . || fail "the analysis symbol check sees nothing in pvsub-scan"

cat > mod.s <<'SEOF'
	.text
	.globl f
f:	call ext
	movq table(%rip), %rax
1:	nop
	ret
	.section .smp_locks, "a"
	.long 1b - .
	.data
table:	.quad f
SEOF
$CC -c -o mod.o mod.s
expect_status 0 ./loader mod.o
want=$(readelf -r mod.o | grep -c 'R_X86_64_')
sections=$(readelf -h mod.o | sed -n 's/.*Number of section headers: *\([0-9]*\).*/\1/p')
grep -qx "$sections sections, $want relocations (0 unknown), 1 windows" out ||
	fail "the reader saw $(cat out); readelf: $sections sections, $want relocations"
# The reader refuses what it cannot trust, without libelf to do it for it.
head -c 100 mod.o > short.o
expect_status 1 ./loader short.o
grep -q '^refused: ' out || fail "a truncated object was not refused: $(cat out)"
exit 0
