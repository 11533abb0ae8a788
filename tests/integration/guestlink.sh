#!/bin/sh
# The guest linker on what compilers emit (issue 12): the guest objects of
# tests/guest/ are built at test time with gcc and with clang, with the
# flags guestlink.h documents
#
#   -fPIE -mcmodel=small -ffreestanding -fno-stack-protector -O2 -c
#
# (and -O0 and -Os besides), linked by tests/guest/guestrun with libpvsub's
# guest linker into an anonymous mapping, and run.  Their output must be
# what the same objects print when the system linker links them into an
# ordinary program (tests/guest/ref.c).  The objects call each other, run
# a switch compiled to a jump table, call through a function-pointer table
# in .data (R_X86_64_64), log string literals, count in .bss, and call,
# take the address of and read the API (PLT32, PC32, GOTPCRELX).
# A generated guest of 400 functions does the same at scale.
# Negative controls: an object importing a symbol the API lacks is
# refused, naming it; one addend made wrong by one byte changes the output;
# an object built -mcmodel=large is refused for its GOT-relative types.
. "$top_srcdir/tests/lib.sh"
RUN=$top_builddir/tests/guest/guestrun
G=$top_srcdir/tests/guest
FLAGS="-fPIE -mcmodel=small -ffreestanding -fno-stack-protector"
command -v readelf >/dev/null && command -v objdump >/dev/null || skip "readelf and objdump (binutils) are needed"

# corrupt_addend IN OUT: OUT is IN with the addend of the first PC32
# relocation in .rela.text that loads a string starting "main: " (against
# a section symbol or a .LC label, in .rodata.str1.1 or .rodata) one
# larger: the string the code loads starts one byte later.
corrupt_addend() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
shoff, = struct.unpack_from("<Q", d, 0x28)
shnum, shstrndx = struct.unpack_from("<HH", d, 0x3c)
sh = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + 64 * i) for i in range(shnum)]
def name(off):
    base = sh[shstrndx][4] + off
    return d[base:d.index(b"\0", base)].decode()
for s in sh:
    if s[1] != 4 or name(s[0]) != ".rela.text":
        continue
    symtab = sh[s[6]]
    for k in range(s[5] // 24):
        at = s[4] + 24 * k
        info, addend = struct.unpack_from("<Qq", d, at + 8)
        sym = symtab[4] + 24 * (info >> 32)
        shndx, value = struct.unpack_from("<HQ", d, sym + 6)
        if info & 0xffffffff != 2 or not 0 < shndx < shnum:
            continue
        target = sh[shndx][4] + value + addend + 4
        if d[target:target + 6] == b"main: ":
            struct.pack_into("<q", d, at + 16, addend + 1)
            open(sys.argv[2], "wb").write(d)
            sys.exit(0)
sys.exit("no relocation loads a string literal")
PY
}

ran=0
for cc in gcc clang; do
	command -v $cc >/dev/null || { echo "# $cc not found: skipped"; continue; }
	for opt in -O2 -O0 -Os; do
		v=$cc$opt
		for src in main lib unknown; do
			# shellcheck disable=SC2086
			$cc $FLAGS $opt -c -I"$G" -o "$v-$src.o" "$G/$src.c" ||
				fail "$cc $opt cannot build $src.c"
		done
		$cc -o "$v-ref" -I"$top_srcdir" "$G/ref.c" "$G/api.c" "$v-main.o" "$v-lib.o" ||
			fail "$cc cannot link the reference program"
		expect_status 0 "./$v-ref"
		mv out ref.out
		grep -q '^log: lib: alpha$' ref.out || fail "$v: the reference did not run: $(cat ref.out)"

		expect_status 0 "$RUN" "$v-main.o" "$v-lib.o"
		cmp -s out ref.out || {
			diff ref.out out >&2 || :
			fail "$v: the linked guest printed something else than the reference"
		}
		echo "# $v: $(sed 's/^guestrun: //' err)"
		# The order of the objects changes the layout, never the result.
		expect_status 0 "$RUN" "$v-lib.o" "$v-main.o"
		cmp -s out ref.out || fail "$v: the result depends on the order of the objects"

		# Negative control: an import the API does not have.
		expect_status 3 "$RUN" "$v-main.o" "$v-unknown.o"
		grep -q "refused: $v-unknown.o: unknown symbol 'test_secret'" err ||
			fail "$v: an unknown symbol was not refused by name: $(cat err)"

		# Negative control: one addend wrong by one, the output changes.
		corrupt_addend "$v-main.o" "$v-bad.o"
		expect_status 0 "$RUN" "$v-bad.o" "$v-lib.o"
		cmp -s out ref.out && fail "$v: a corrupted addend did not change the result"
		grep -q '^log: ain: ' out || fail "$v: the corrupted addend did not shift the string: $(cat out)"
		ran=$((ran + 1))
	done
	# -mcmodel=large is not among the documented flags: its GOT-relative
	# forms (GOT64, GOTOFF64, GOTPC64) are refused, by name.
	# shellcheck disable=SC2086
	$cc $FLAGS -mcmodel=large -O2 -c -I"$G" -o "$cc-large-main.o" "$G/main.c"
	expect_status 3 "$RUN" "$cc-large-main.o" "$cc-O2-lib.o"
	grep -Eq "refused: $cc-large-main.o: section .text: relocation [0-9]+: type [0-9]+ \(R_X86_64_GOT(64|OFF64|PC64)\) is not supported" err ||
		fail "$cc -mcmodel=large: not refused by relocation type: $(cat err)"

	# What the documented flags make the compiler emit, and so what was
	# just applied.
	types=$(readelf -rW "$cc-O2-main.o" "$cc-O2-lib.o" | awk '/R_X86_64_/ {print $3}' | sort -u | tr '\n' ' ')
	echo "# $cc -O2 relocation types: $types"
	for t in R_X86_64_64 R_X86_64_PC32 R_X86_64_PLT32 R_X86_64_REX_GOTPCRELX; do
		case " $types " in *" $t "*) ;; *) fail "$cc -O2: no $t to test ($types)" ;; esac
	done
	objdump -d "$cc-O2-main.o" | grep -Eq 'jmp +\*%r' ||
		fail "$cc -O2: the switch was not compiled to a jump table"
	readelf -SW "$cc-O2-main.o" | grep -q ' \.data' ||
		fail "$cc -O2: the function-pointer table is not in a data section"
done
# At scale: 400 functions, each a switch, called through a table of 400
# pointers (several pages of code, thousands of relocations).
python3 - <<'PY'
out = ['#include "api.h"', "static int tab[64];"]
for i in range(400):
    out.append("__attribute__((noinline)) int f%d(int x) { switch (x & 7) { case 0: return x * %d + 1; "
               "case 1: return test_add(x, %d); case 2: return x ^ %d; case 3: return tab[x & 63]++ + %d; "
               "case 4: return x << %d; case 5: return x - %d; case 6: return x %% %d; default: return x | %d; } }"
               % (i, i, i, i * 7, i, i % 13, i, i + 3, i))
out.append("int (*fp[400])(int) = {" + ", ".join("f%d" % i for i in range(400)) + "};")
out.append("int pvsub_guest_main(const void *g) { long a = 0; (void)g; "
           "for (int r = 0; r < 3; r++) for (int i = 0; i < 400; i++) a += fp[i](i + r + test_input()); "
           "test_log(\"many: done\"); return (int)(a & 0x7fffffff); }")
open("many.c", "w").write("\n".join(out) + "\n")
PY
for cc in gcc clang; do
	command -v $cc >/dev/null || continue
	# shellcheck disable=SC2086
	$cc $FLAGS -O2 -c -I"$G" -o "$cc-many.o" many.c || fail "$cc cannot build many.c"
	$cc -o "$cc-many-ref" -I"$top_srcdir" "$G/ref.c" "$G/api.c" "$cc-many.o" ||
		fail "$cc cannot link the reference program"
	expect_status 0 "./$cc-many-ref"
	mv out ref.out
	expect_status 0 "$RUN" "$cc-many.o"
	cmp -s out ref.out || fail "$cc: many.c linked by guestlink printed $(cat out), not $(cat ref.out)"
	echo "# $cc many.c: $(readelf -rW "$cc-many.o" | grep -c R_X86_64_) relocations, $(sed 's/^guestrun: //' err)"
done

[ "$ran" -gt 0 ] || skip "neither gcc nor clang is available"
[ "$ran" -eq 6 ] || [ "${PVSUB_REQUIRE_CLANG:-0}" != 1 ] || fail "only $ran of 6 builds ran"
exit 0
