#!/bin/sh
# Hostile ELF files (issue 5): hundreds of deterministic mutants of real
# objects (header fields, section and program headers, relocations, symbols,
# string tables, truncation, byte noise) through pvsub-scan.  Each run may
# only end with status 0, 1 or 2: never a crash, a hang or a sanitizer
# report.  Then the inputs that could make a scan take minutes: many tiny
# executable sections (the junction search) and huge table counts.
. "$top_srcdir/tests/lib.sh"

MUTATE="$top_builddir/fuzz/mutate"
[ -x "$MUTATE" ] || fail "$MUTATE is not built"
command -v timeout >/dev/null || skip "timeout is missing"
PER_BASE=${PVSUB_MUTANTS:-250}
BATCH=50

# run_batch FILE...: one pvsub-scan over FILES; fail on anything but 0-2,
# and on any sanitizer report.  Alternate the output formats so that the
# report writers see the hostile names too.
runs=0
run_batch() {
	runs=$((runs + 1))
	case $((runs % 4)) in
	0) set -- --format json "$@" ;;
	1) set -- --format sarif --deep "$@" ;;
	2) set -- -j 2 --manifest-dir manifests "$@" ;;
	3) set -- --junit junit.xml "$@" ;;
	esac
	scan_survives "$@"
}

# --- base objects, built here ---------------------------------------------------
# Several executable sections, relocations against local, global and
# undefined symbols, a gate in an immediate, data and a string table.
asm multi <<'ASM'
	.text
	.globl f1
	.type f1, @function
f1:	call ext_fn
	movl ext_var(%rip), %eax
	movabs $0x90d401c7c7c7c7c7, %rax
	leaq local(%rip), %rdx
	ret
	.size f1, .-f1
	.section .text.unlikely,"ax",@progbits
	.type f2, @function
f2:	jmp f1
	.byte 0x0f, 0x01
	.size f2, .-f2
	.section .init.text,"ax",@progbits
	.p2align 4
	.globl init_fn
init_fn: .byte 0xd4
	call f2
	.quad ext_var
	ret
	.section .rodata,"a",@progbits
local:	.asciz "pvsub mutation base"
	.section .data,"aw",@progbits
	.quad f1, f2, init_fn
ASM

cat > c.c <<'EOF2'
extern int ext(int);
static int state[8];
int a(int x) { return ext(x) + state[x & 7]; }
int b(int x) { state[x & 7] = x; return a(x + 1); }
__attribute__((cold)) int c(int x) { return b(x) * 3; }
EOF2
"$CC" -c -O2 -ffunction-sections -o c.o c.c
"$CC" -shared -fPIC -O2 -o c.so c.c -Wl,--unresolved-symbols=ignore-all 2>/dev/null || :

mkdir bases mut manifests
cp multi.o c.o bases/
[ -f c.so ] && cp c.so bases/
for f in "$top_builddir"/examples/sample-root/lib/modules/pvsub-sample/*.o \
	"$top_builddir"/examples/sample-root/usr/lib/*.so; do
	[ -f "$f" ] && cp "$f" bases/
done

# Unmutated, every base scans fine: the mutants start from working files.
for f in bases/*; do
	set +e
	"$SCAN" --no-progress "$f" >out 2>err
	got=$?
	set -e
	[ "$got" -le 1 ] || { cat err; fail "base $f does not scan (status $got)"; }
done

seed=1
for f in bases/*; do
	rm -f mut/*
	"$MUTATE" --elf "$seed" "$PER_BASE" "$f" mut
	in_batches "$BATCH" run_batch mut
	seed=$((seed + 1))
done
echo "mutants: $((seed - 1)) bases x $PER_BASE in $runs pvsub-scan runs"

# --- many tiny executable sections: the junction search must stay bounded ------
{
	i=0
	while [ $i -lt 200 ]; do
		printf '\t.section .text.t%d,"ax",@progbits\n\t.byte 0x%02x\n' $i $(((i * 37) % 256))
		i=$((i + 1))
	done
} | asm tiny
start=$(date +%s)
set +e
timeout 60 "$SCAN" --no-progress --format json tiny.o >out 2>err
got=$?
set -e
elapsed=$(($(date +%s) - start))
[ "$got" -le 2 ] || { cat err; fail "200 one-byte sections: status $got after ${elapsed}s"; }
[ "$elapsed" -lt 30 ] || fail "200 one-byte sections took ${elapsed}s"
grep -q 'junction-limit' out || fail "200 one-byte sections: no junction-limit violation"
echo "200 one-byte executable sections: ${elapsed}s, status $got"
