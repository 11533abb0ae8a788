/* SPDX-License-Identifier: MIT */
/*
 * bzimage: the x86 boot image (bzImage, vmlinuz) and the vmlinux inside it.
 *
 * A bzImage is real-mode setup code, then the protected-mode code: the
 * kernel's own decompressor with, at payload_offset, the compressed kernel
 * (boot protocol 2.08 and later).  The payload decompresses to the stripped
 * vmlinux ELF file (ET_EXEC) followed, for a relocatable kernel, by the
 * table of KASLR relocations the boot decompressor applies
 * (arch/x86/tools/relocs: 32-bit words read from the end: the 32-bit
 * relocations up to a zero, the inverse 32-bit ones up to a zero, the
 * 64-bit ones up to a zero).  The kernel build appends the decompressed size
 * as four little-endian bytes to every payload (gzip's own ISIZE field is
 * the same four bytes).
 *
 * Decompression goes through libarchive's raw format with the one filter
 * the payload's magic names, never through a decompressor of our own.  An
 * lzo payload is an lzop container, which Debian's libarchive reads only
 * through an external program: its header and blocks are read here, and
 * each block is decompressed by liblzo2 (lzo1x_decompress_safe).
 * Everything is read from caller-owned bytes; every field is checked before
 * it is used, and a reader says which field is wrong.
 */
#ifndef PVSUB_BZIMAGE_H
#define PVSUB_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/crypto.h"
#include "libpvsub/util.h"

/* Bytes needed to tell a bzImage by its header magic. */
#define PVSUB_BZIMAGE_SNIFF_SIZE 0x206

struct pvsub_bzimage {
	uint16_t version;	 /* boot protocol, 0x0208 or later */
	unsigned setup_sects;	 /* as used: 0 in the header means 4 */
	uint64_t pm_offset;	 /* file offset of the protected-mode code */
	uint64_t payload_offset; /* file offset of the compressed payload */
	uint64_t payload_length;
	const char *codec; /* "gzip", "bzip2", "lzma", "xz", "lzo", "lz4", "zstd" */
	bool relocatable;  /* the header's relocatable_kernel flag */
};

/* Whether the @n bytes at @p start with the boot protocol's "HdrS" header
 * (a bzImage as far as the magic goes; pvsub_bzimage_parse() checks the rest). */
bool pvsub_bzimage_sniff(const uint8_t *p, size_t n);

/*
 * Read and check the boot header of the @size bytes at @data into @out.
 * -EINVAL with a one-line reason naming the field for a truncated header,
 * a protocol older than 2.08, a setup or payload past the end of the file,
 * or a payload whose compression magic is unknown.
 */
int pvsub_bzimage_parse(const uint8_t *data, size_t size, struct pvsub_bzimage *out,
			struct pvsub_diag *diag) _must_check_ _nonnull_(1, 3);

/*
 * Decompress the payload that @bz (from pvsub_bzimage_parse() on the same
 * bytes) describes into @out (empty on entry), at most @max bytes.  Returns
 * 0; -EFBIG as soon as the output exceeds @max, so a decompression bomb costs no more than @max;
 * -EINVAL with a reason for a corrupt stream, an unsupported codec, or an output whose size differs
 * from the size the payload states; -ENOMEM.  @out holds nothing useful after a failure (release
 * it).  For lzo, both sizes are checked before each block is written, a block may not state more
 * than 256 KiB, and every checksum the container's flags name is verified.
 */
int pvsub_bzimage_decompress(const uint8_t *data, size_t size, const struct pvsub_bzimage *bz,
			     uint64_t max, struct pvsub_buf *out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 3, 5);

/*
 * The bzImage's own code, which runs before the kernel it carries: the
 * real-mode setup (the boot sector and setup sectors), and the protected-mode
 * code around the compressed payload (the boot decompressor, with the EFI
 * stub).  The payload itself is compressed data, never executed; the
 * vmlinux it decompresses to is scanned on its own.
 */
struct pvsub_boot_part {
	const char *name;     /* "bzImage setup", "bzImage decompressor", "bzImage decompressor tail" */
	uint64_t file_offset; /* of its first byte in the bzImage */
	size_t offset;	      /* of its first byte in pvsub_boot_code.bytes */
	size_t size;	      /* never 0 */
};

#define PVSUB_BOOT_PARTS 3

struct pvsub_boot_code {
	uint8_t *bytes; /* the parts one after the other (malloc'ed), or NULL */
	size_t size;
	struct pvsub_boot_part parts[PVSUB_BOOT_PARTS];
	size_t n_parts;
	/* The whole bzImage, which a manifest names: its path in the report (the
	 * caller's, malloc'ed; NULL until set), size and SHA-256 (hex). */
	char *image_path;
	uint64_t image_size;
	char image_sha256[PVSUB_SHA256_HEX_LEN];
};

/*
 * Copy the code of the bzImage at @data (@size bytes, whose header
 * pvsub_bzimage_parse() read into @bz) into @out, part by part, leaving out
 * empty parts, and hash the whole bzImage into @out->image_sha256.  0,
 * -ENOMEM, or the hash's error (then @out is empty).
 */
int pvsub_bzimage_boot_code(const uint8_t *data, size_t size, const struct pvsub_bzimage *bz,
			    struct pvsub_boot_code *out) _must_check_ _nonnull_(1, 3, 4);

/* Free @bc's bytes and empty it; NULL-safe. */
void pvsub_boot_code_release(struct pvsub_boot_code *bc);

/* The KASLR relocation table: how many entries of each list. */
struct pvsub_kaslr_relocs {
	uint64_t n32;	      /* 32-bit fields */
	uint64_t n32_inverse; /* 32-bit fields that move the other way */
	uint64_t n64;	      /* 64-bit fields */
};

/*
 * Parse @n bytes as a KASLR relocation table, all of them: 0, or -EINVAL
 * when they are not exactly three zero-terminated lists of 32-bit words.
 */
int pvsub_kaslr_relocs_parse(const uint8_t *p, size_t n, struct pvsub_kaslr_relocs *out)
	_must_check_ _nonnull_(3);

/*
 * Where the ELF64 little-endian file at @data ends: the largest end of its
 * header, program and section header tables, segments' file bytes and
 * sections' file bytes (not SHT_NOBITS).  -EINVAL with a reason naming the
 * field when one lies past @size or overflows.
 */
int pvsub_vmlinux_elf_end(const uint8_t *data, size_t size, uint64_t *end, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 3);

/*
 * Check that the @size bytes at @data are what a bzImage payload holds: an
 * x86-64 ET_EXEC ELF file followed by nothing or by a KASLR relocation
 * table.  *@elf_size is where the ELF file ends and @relocs counts the
 * table's entries (all zero without one).  -EINVAL with a reason.
 */
int pvsub_vmlinux_split(const uint8_t *data, size_t size, uint64_t *elf_size,
			struct pvsub_kaslr_relocs *relocs, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 3, 4);

#endif
