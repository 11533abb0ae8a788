# shellcheck shell=sh
# What the runtime's tests share (sourced after tests/lib.sh, with RUNTIME
# set to the pvsub-guestrun under test).

# plant NAME BYTES: a copy of the runtime with the hexadecimal BYTES
# written after the end of one of its functions (never executed), its
# address in NAME.at
plant() {
	python3 - "$RUNTIME" "$1" "$2" <<'PY'
import struct, subprocess, sys
src, dst, pat = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
data = bytearray(open(src, "rb").read())
phoff, = struct.unpack_from("<Q", data, 0x20)
phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
seg = None
for i in range(phnum):
    p_type, p_flags, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
    if p_type == 1 and p_flags & 1:
        seg = (p_offset, p_vaddr, p_filesz)
assert seg, "no executable segment"
syms = []
for line in subprocess.check_output(["nm", "-S", "--defined-only", src], text=True).splitlines():
    f = line.split()
    if len(f) == 4 and f[2] in "tT":
        syms.append((int(f[0], 16), int(f[1], 16)))
syms.sort()
for (a, n), (b, _) in zip(syms, syms[1:]):
    end = a + n
    if n and b - end >= len(pat) and seg[1] <= end and b <= seg[1] + seg[2]:
        off = end - seg[1] + seg[0]
        data[off:off + len(pat)] = pat
        open(dst + ".at", "w").write(hex(end) + "\n")
        break
else:
    sys.exit("no gap between functions to plant into")
open(dst, "wb").write(data)
PY
	chmod +x "$1"
}
