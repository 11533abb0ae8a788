/* SPDX-License-Identifier: MIT */
/*
 * The bzImage reader against boot headers, payloads and vmlinux files built
 * here in memory (payloads compressed with libarchive's write side, lzop
 * containers with liblzo2's compressor).
 */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <lzo/lzo1x.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/bzimage.h"

#define PM 1024u /* setup_sects 1 */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A bzImage of @len payload bytes; the caller frees it.  *@size is set. */
static uint8_t *make_bz(const uint8_t *payload, size_t len, size_t *size)
{
	uint8_t *b = calloc(1, PM + len + 16);

	cr_assert_not_null(b);
	b[0x1f1] = 1;
	put16(b + 0x1fe, 0xaa55);
	memcpy(b + 0x202, "HdrS", 4);
	put16(b + 0x206, 0x020f);
	b[0x234] = 1;
	put32(b + 0x248, 0);
	put32(b + 0x24c, (uint32_t)len);
	memcpy(b + PM, payload, len);
	*size = PM + len + 16;
	return b;
}

/* @in compressed with libarchive's @filter into a new buffer. */
static uint8_t *compress(int (*filter)(struct archive *), const void *in, size_t len,
			 size_t *out_len)
{
	size_t cap = len + 65536, used = 0;
	uint8_t *out = malloc(cap);
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	cr_assert(out && a && e);
	cr_assert_eq(filter(a), ARCHIVE_OK);
	cr_assert_eq(archive_write_set_format_raw(a), ARCHIVE_OK);
	cr_assert_eq(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	cr_assert_eq(archive_write_open_memory(a, out, cap, &used), ARCHIVE_OK);
	archive_entry_set_pathname(e, "x");
	archive_entry_set_filetype(e, AE_IFREG);
	cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
	cr_assert_eq(archive_write_data(a, in, len), (la_ssize_t)len);
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
	*out_len = used;
	return out;
}

static int parse_fails(const uint8_t *b, size_t size, const char *want)
{
	struct pvsub_diag d = {""};
	struct pvsub_bzimage bz;
	int r = pvsub_bzimage_parse(b, size, &bz, &d);

	cr_expect(strstr(d.msg, want), "\"%s\" does not say \"%s\"", d.msg, want);
	return r;
}

Test(bzimage, header_fields_are_checked)
{
	uint8_t payload[64] = {0x1f, 0x8b, 0x08};
	struct pvsub_bzimage bz;
	size_t size;
	uint8_t *b = make_bz(payload, sizeof(payload), &size);

	cr_assert_eq(pvsub_bzimage_parse(b, size, &bz, NULL), 0);
	cr_expect_eq(bz.setup_sects, 1);
	cr_expect_eq(bz.payload_offset, PM);
	cr_expect_eq(bz.payload_length, sizeof(payload));
	cr_expect_str_eq(bz.codec, "gzip");
	cr_expect(bz.relocatable);

	cr_expect_eq(parse_fails(b, 0x230, "boot header truncated at 560 bytes"), -EINVAL);
	cr_expect_eq(parse_fails(b, 0x100, "no \"HdrS\" boot header"), -EINVAL);
	put16(b + 0x206, 0x0207);
	cr_expect_eq(parse_fails(b, size, "boot protocol 2.07 is older than 2.08"), -EINVAL);
	put16(b + 0x206, 0x020f);
	b[0x1f1] = 0; /* means 4: the protected-mode code at 2560, past the end */
	cr_expect_eq(parse_fails(b, size, "setup_sects (4) puts"), -EINVAL);
	b[0x1f1] = 1;
	put32(b + 0x248, 0xfffffff0);
	cr_expect_eq(parse_fails(b, size, "payload_offset 0xfffffff0 points past the end"),
		     -EINVAL);
	put32(b + 0x248, 0);
	put32(b + 0x24c, (uint32_t)(size - PM + 1));
	cr_expect_eq(parse_fails(b, size, "payload_length"), -EINVAL);
	put32(b + 0x24c, sizeof(payload));
	b[PM] = 0x42;
	cr_expect_eq(parse_fails(b, size, "no known compression magic (starts \"42 8b 08 00\")"),
		     -EINVAL);
	b[PM] = 0x1f;
	put32(b + 0x24c, 3);
	cr_expect_eq(parse_fails(b, size, "too short"), -EINVAL);
	free(b);
}

/* Decompress @plain through a bzImage with @filter, @lie added to the size
 * the payload states (gzip's own trailer is left alone). */
static int roundtrip(int (*filter)(struct archive *), bool gzip, const uint8_t *plain, size_t len,
		     uint32_t lie, uint64_t max, struct pvsub_buf *out, struct pvsub_diag *d)
{
	struct pvsub_bzimage bz;
	size_t clen, size;
	uint8_t *c = compress(filter, plain, len, &clen), *b;
	int r;

	c = realloc(c, clen + 4);
	cr_assert_not_null(c);
	if (!gzip) {
		put32(c + clen, (uint32_t)len + lie);
		clen += 4;
	}
	b = make_bz(c, clen, &size);
	r = pvsub_bzimage_parse(b, size, &bz, d);
	if (r == 0)
		r = pvsub_bzimage_decompress(b, size, &bz, max, out, d);
	free(b);
	free(c);
	return r;
}

Test(bzimage, payloads_decompress_within_the_limit)
{
	static uint8_t plain[200000];
	struct pvsub_buf out = {0};
	struct pvsub_diag d = {""};

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 7 / 3);
	cr_assert_eq(roundtrip(archive_write_add_filter_gzip, true, plain, sizeof(plain), 0,
			       1 << 20, &out, &d),
		     0, "%s", d.msg);
	cr_expect_eq(out.len, sizeof(plain));
	cr_expect(memcmp(out.data, plain, sizeof(plain)) == 0);
	pvsub_buf_release(&out);
	cr_assert_eq(roundtrip(archive_write_add_filter_xz, false, plain, sizeof(plain), 0, 1 << 20,
			       &out, &d),
		     0, "%s", d.msg);
	cr_expect(out.len == sizeof(plain) && memcmp(out.data, plain, sizeof(plain)) == 0);
	pvsub_buf_release(&out);

	/* Over the limit: -EFBIG, whatever size the payload states. */
	cr_expect_eq(roundtrip(archive_write_add_filter_xz, false, plain, sizeof(plain), 0, 65536,
			       &out, &d),
		     -EFBIG);
	pvsub_buf_release(&out);
	/* A size field that the output does not bear out. */
	cr_expect_eq(roundtrip(archive_write_add_filter_xz, false, plain, sizeof(plain), 1, 1 << 20,
			       &out, &d),
		     -EINVAL);
	cr_expect(strstr(d.msg, "decompresses to 200000 bytes, its size field states 200001"), "%s",
		  d.msg);
	pvsub_buf_release(&out);
	cr_expect_eq(roundtrip(archive_write_add_filter_xz, false, plain, sizeof(plain),
			       (uint32_t)-100000, 1 << 20, &out, &d),
		     -EINVAL);
	cr_expect(strstr(d.msg, "more than the 100000 bytes its size field states"), "%s", d.msg);
	pvsub_buf_release(&out);
}

Test(bzimage, relocation_tables_are_three_lists_exactly)
{
	/* 0, two 64-bit, 0, (no inverse), 0, one 32-bit */
	uint8_t t[24] = {0};
	struct pvsub_kaslr_relocs rl;

	put32(t + 4, 0x1000);
	put32(t + 8, 0x2000);
	put32(t + 20, 0x3000);
	cr_assert_eq(pvsub_kaslr_relocs_parse(t, sizeof(t), &rl), 0);
	cr_expect(rl.n32 == 1 && rl.n32_inverse == 0 && rl.n64 == 2);
	cr_expect_eq(pvsub_kaslr_relocs_parse(t, sizeof(t) - 1, &rl), -EINVAL);
	cr_expect_eq(pvsub_kaslr_relocs_parse(t + 4, sizeof(t) - 4, &rl), -EINVAL);
	put32(t, 0x5000); /* a word before the last terminator */
	cr_expect_eq(pvsub_kaslr_relocs_parse(t, sizeof(t), &rl), -EINVAL);
	cr_expect_eq(pvsub_kaslr_relocs_parse(t, 0, &rl), -EINVAL);
}

Test(bzimage, the_elf_end_is_checked)
{
	uint8_t f[256 + 12] = {0};
	Elf64_Ehdr *eh = (Elf64_Ehdr *)f;
	Elf64_Shdr sh = {.sh_type = SHT_PROGBITS, .sh_offset = 64, .sh_size = 64};
	struct pvsub_kaslr_relocs rl;
	struct pvsub_diag d = {""};
	uint64_t end;

	memcpy(f, ELFMAG, SELFMAG);
	f[EI_CLASS] = ELFCLASS64;
	f[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_shoff = 128;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = 2;
	memcpy(f + 128 + sizeof(Elf64_Shdr), &sh, sizeof(sh));
	cr_assert_eq(pvsub_vmlinux_split(f, 256, &end, &rl, &d), 0, "%s", d.msg);
	cr_expect_eq(end, 256);
	/* Followed by an empty table of three terminators. */
	cr_assert_eq(pvsub_vmlinux_split(f, sizeof(f), &end, &rl, &d), 0, "%s", d.msg);
	cr_expect(end == 256 && rl.n32 + rl.n32_inverse + rl.n64 == 0);
	/* Followed by bytes that are no table. */
	f[260] = 1;
	f[264] = 1;
	cr_expect_eq(pvsub_vmlinux_split(f, sizeof(f), &end, &rl, &d), -EINVAL);
	cr_expect(strstr(d.msg, "the 12 bytes after the ELF file (at 0x100)"), "%s", d.msg);
	/* A section past the end. */
	sh.sh_size = 4096;
	memcpy(f + 128 + sizeof(Elf64_Shdr), &sh, sizeof(sh));
	cr_expect_eq(pvsub_vmlinux_elf_end(f, 256, &end, &d), -EINVAL);
	cr_expect(strstr(d.msg, "section 1 (offset 0x40, size 0x1000) lies past the end"), "%s",
		  d.msg);
	/* A section header table past the end. */
	eh->e_shnum = 200;
	cr_expect_eq(pvsub_vmlinux_elf_end(f, 256, &end, &d), -EINVAL);
	eh->e_shnum = 2;
	eh->e_type = ET_DYN;
	sh.sh_size = 64;
	memcpy(f + 128 + sizeof(Elf64_Shdr), &sh, sizeof(sh));
	cr_expect_eq(pvsub_vmlinux_split(f, 256, &end, &rl, &d), -EINVAL);
	cr_expect(strstr(d.msg, "not an x86-64 ET_EXEC file"), "%s", d.msg);
}

/* --- lzo: lzop containers written here with liblzo2's own compressor ------ */

#define LZ_ADLER32_D 0x1u
#define LZ_ADLER32_C 0x2u
#define LZ_CRC32_D 0x100u
#define LZ_CRC32_C 0x200u
#define LZ_H_FILTER 0x800u
#define LZ_H_CRC32 0x1000u
#define LZ_ALL_SUMS (LZ_ADLER32_D | LZ_ADLER32_C | LZ_CRC32_D | LZ_CRC32_C)
/* What lz_make() writes: a header of 38 bytes, then the first block. */
#define LZ_HDR 38u
#define LZ_BLOCK 262144u

struct lz {
	uint8_t *b;
	size_t n, cap;
	size_t stored; /* blocks stored as they are */
};

static void lz_put(struct lz *z, const void *p, size_t n)
{
	if (z->n + n > z->cap) {
		z->cap = (z->n + n) * 2;
		z->b = realloc(z->b, z->cap);
		cr_assert_not_null(z->b);
	}
	memcpy(z->b + z->n, p, n);
	z->n += n;
}

static void lz_be(struct lz *z, uint32_t v, size_t bytes)
{
	uint8_t b[4];

	for (size_t i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	lz_put(z, b, bytes);
}

/* @in as `lzop -9` writes it from a pipe, in blocks of @block bytes, with
 * the checksums @flags name; a block that does not shrink is stored. */
static struct lz lz_make(const uint8_t *in, size_t len, size_t block, uint32_t flags)
{
	static const uint8_t magic[] = {0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a};
	static uint8_t wrk[LZO1X_999_MEM_COMPRESS];
	uint8_t *c = malloc(block + block / 16 + 64 + 3);
	struct lz z = {0};
	uint32_t sum;

	cr_assert_not_null(c);
	cr_assert_eq(lzo_init(), LZO_E_OK);
	lz_put(&z, magic, sizeof(magic));
	lz_be(&z, 0x1040, 2); /* version */
	lz_be(&z, 0x20a0, 2); /* lib_version */
	lz_be(&z, 0x0940, 2); /* version_needed */
	lz_be(&z, 3, 1);      /* method: LZO1X-999 */
	lz_be(&z, 9, 1);      /* level */
	lz_be(&z, flags | 0x03000000u, 4);
	lz_be(&z, 0, 4); /* mode */
	lz_be(&z, 0, 4); /* mtime */
	lz_be(&z, 0, 4); /* mtime_high */
	lz_be(&z, 0, 1); /* no name */
	sum = flags & LZ_H_CRC32 ? lzo_crc32(0, z.b + sizeof(magic), z.n - sizeof(magic))
				 : lzo_adler32(1, z.b + sizeof(magic), z.n - sizeof(magic));
	lz_be(&z, sum, 4);
	cr_assert_eq(z.n, LZ_HDR);
	for (size_t off = 0; off < len; off += block) {
		size_t n = PVSUB_MIN(block, len - off);
		lzo_uint clen = 0;
		bool stored;

		cr_assert_eq(lzo1x_999_compress(in + off, n, c, &clen, wrk), LZO_E_OK);
		stored = clen >= n;
		z.stored += stored;
		lz_be(&z, (uint32_t)n, 4);
		lz_be(&z, stored ? (uint32_t)n : (uint32_t)clen, 4);
		if (flags & LZ_ADLER32_D)
			lz_be(&z, lzo_adler32(1, in + off, n), 4);
		if (flags & LZ_CRC32_D)
			lz_be(&z, lzo_crc32(0, in + off, n), 4);
		if ((flags & LZ_ADLER32_C) && !stored)
			lz_be(&z, lzo_adler32(1, c, clen), 4);
		if ((flags & LZ_CRC32_C) && !stored)
			lz_be(&z, lzo_crc32(0, c, clen), 4);
		lz_put(&z, stored ? in + off : c, stored ? n : clen);
	}
	lz_be(&z, 0, 4);
	free(c);
	return z;
}

/* Decompress the container @z through a bzImage stating @stated bytes. */
static int lz_run(const struct lz *z, uint32_t stated, uint64_t max, struct pvsub_buf *out,
		  struct pvsub_diag *d)
{
	struct pvsub_bzimage bz;
	uint8_t *p = malloc(z->n + 4), *b;
	size_t size;
	int r;

	cr_assert_not_null(p);
	memcpy(p, z->b, z->n);
	put32(p + z->n, stated);
	b = make_bz(p, z->n + 4, &size);
	d->msg[0] = '\0';
	r = pvsub_bzimage_parse(b, size, &bz, d);
	if (r == 0) {
		cr_assert_str_eq(bz.codec, "lzo");
		r = pvsub_bzimage_decompress(b, size, &bz, max, out, d);
	}
	free(b);
	free(p);
	return r;
}

/* 600000 bytes: compressible, but for 256 KiB of noise that lzo cannot
 * shrink, so that the second block is stored. */
static uint8_t *lz_plain(size_t *len)
{
	uint8_t *p = malloc(600000);
	uint32_t x = 12345;

	cr_assert_not_null(p);
	for (size_t i = 0; i < 600000; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = i >= LZ_BLOCK && i < 2 * LZ_BLOCK ? (uint8_t)(x >> 16)
							 : (uint8_t)(i * 7 / 3);
	}
	*len = 600000;
	return p;
}

Test(bzimage, lzo_payloads_decompress_with_every_checksum)
{
	static const uint32_t flags[] = {0, LZ_ADLER32_D, LZ_ALL_SUMS, LZ_ALL_SUMS | LZ_H_CRC32};
	size_t len;
	uint8_t *plain = lz_plain(&len);

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct lz z = lz_make(plain, len, LZ_BLOCK, flags[i]);
		struct pvsub_buf out = {0};
		struct pvsub_diag d = {""};

		/* the second block is stored: as long as its data */
		cr_assert_eq(z.stored, 1);
		cr_assert_eq(lz_run(&z, (uint32_t)len, len, &out, &d), 0, "flags 0x%x: %s",
			     flags[i], d.msg);
		cr_expect(out.len == len && memcmp(out.data, plain, len) == 0, "flags 0x%x",
			  flags[i]);
		pvsub_buf_release(&out);
		free(z.b);
	}
	free(plain);
}

Test(bzimage, lzo_limits_hold_before_a_block_is_written)
{
	size_t len;
	uint8_t *plain = lz_plain(&len);
	struct lz z = lz_make(plain, len, LZ_BLOCK, LZ_ADLER32_D);
	struct pvsub_buf out = {0};
	struct pvsub_diag d = {""};

	/* One byte short of the output: the last block is refused unwritten. */
	cr_expect_eq(lz_run(&z, (uint32_t)len, len - 1, &out, &d), -EFBIG);
	cr_expect_eq(out.len, 2 * LZ_BLOCK);
	pvsub_buf_release(&out);
	/* A limit below the first block: nothing is written at all. */
	cr_expect_eq(lz_run(&z, (uint32_t)len, 1000, &out, &d), -EFBIG);
	cr_expect_eq(out.len, 0);
	pvsub_buf_release(&out);
	/* The payload's size field, one byte short, and one byte long. */
	cr_expect_eq(lz_run(&z, (uint32_t)len - 1, len, &out, &d), -EINVAL);
	cr_expect(strstr(d.msg, "lzo payload decompresses to more than the 599999 bytes its size "
				"field states"),
		  "%s", d.msg);
	cr_expect_eq(out.len, 2 * LZ_BLOCK);
	pvsub_buf_release(&out);
	cr_expect_eq(lz_run(&z, (uint32_t)len + 1, len + 1, &out, &d), -EINVAL);
	cr_expect(strstr(d.msg, "decompresses to 600000 bytes, its size field states 600001"), "%s",
		  d.msg);
	pvsub_buf_release(&out);
	free(z.b);
	free(plain);
}

/* The message for @z with byte @at xor @x (or, with @x 0, the 32-bit
 * big-endian field at @at set to @v). */
static int lz_broken(const struct lz *z0, size_t at, uint8_t x, uint32_t v, struct pvsub_diag *d)
{
	struct lz z = {malloc(z0->n), z0->n, z0->n};
	struct pvsub_buf out = {0};
	int r;

	cr_assert_not_null(z.b);
	memcpy(z.b, z0->b, z0->n);
	if (x)
		z.b[at] ^= x;
	else
		for (int i = 0; i < 4; i++)
			z.b[at + (size_t)i] = (uint8_t)(v >> (24 - 8 * i));
	r = lz_run(&z, 0x10000, 1 << 20, &out, d);
	pvsub_buf_release(&out);
	free(z.b);
	return r;
}

Test(bzimage, lzo_corruption_is_named)
{
	uint8_t plain[0x10000];
	struct pvsub_diag d = {""};
	struct lz z;

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i % 251 < 40 ? i : i / 256);
	z = lz_make(plain, sizeof(plain), LZ_BLOCK, LZ_ALL_SUMS | LZ_H_CRC32);
	/* The block: size, compressed size, Adler-32 and CRC-32 of the data,
	 * then of the compressed data, then the data. */
	cr_expect_eq(lz_broken(&z, LZ_HDR + 8, 1, 0, &d), -EINVAL);
	cr_expect(strstr(d.msg, "block 0: the Adler-32 of its bytes is 0x"), "%s", d.msg);
	cr_expect_eq(lz_broken(&z, LZ_HDR + 12, 1, 0, &d), -EINVAL);
	cr_expect(strstr(d.msg, "block 0: the CRC-32 of its bytes is 0x"), "%s", d.msg);
	cr_expect_eq(lz_broken(&z, LZ_HDR + 16, 1, 0, &d), -EINVAL);
	cr_expect(strstr(d.msg, "block 0: the Adler-32 of its compressed bytes is 0x"), "%s",
		  d.msg);
	cr_expect_eq(lz_broken(&z, LZ_HDR + 20, 1, 0, &d), -EINVAL);
	cr_expect(strstr(d.msg, "block 0: the CRC-32 of its compressed bytes is 0x"), "%s", d.msg);
	cr_expect_eq(lz_broken(&z, 30, 1, 0, &d), -EINVAL);
	cr_expect(strstr(d.msg, "the header's CRC-32 is 0x"), "%s", d.msg);
	/* Sizes that lie: a block larger than lzop's, more compressed bytes
	 * than bytes, one byte fewer than the data holds. */
	cr_expect_eq(lz_broken(&z, LZ_HDR, 0, LZ_BLOCK + 1, &d), -EINVAL);
	cr_expect(strstr(d.msg, "block 0 states 262145 bytes, more than the 262144 of an lzop "
				"block"),
		  "%s", d.msg);
	cr_expect_eq(lz_broken(&z, LZ_HDR + 4, 0, 0x10001, &d), -EINVAL);
	cr_expect(strstr(d.msg, "block 0 states 65537 compressed bytes for 65536 bytes"), "%s",
		  d.msg);
	cr_expect_eq(lz_broken(&z, LZ_HDR, 0, 0xffff, &d), -EINVAL);
	cr_expect(strstr(d.msg, "block 0 decompresses to more than the 65535 bytes it states"),
		  "%s", d.msg);
	/* What the header may not ask for. */
	cr_expect_eq(lz_broken(&z, 15, 0x07, 0, &d), -EINVAL); /* method 4 */
	cr_expect(strstr(d.msg, "method 4 is not LZO1X"), "%s", d.msg);
	cr_expect_eq(lz_broken(&z, 17 + 2, LZ_H_FILTER >> 8, 0, &d), -EINVAL);
	cr_expect(strstr(d.msg, "ask for a filter, multiple parts or an extra field"), "%s", d.msg);
	cr_expect_eq(lz_broken(&z, 9, 0x18, 0, &d), -EINVAL); /* version 0x0840 */
	cr_expect(strstr(d.msg, "lzop version 0x0840 is older than 0x0900"), "%s", d.msg);
	free(z.b);

	/* Without checksums, liblzo2 itself refuses a broken stream. */
	z = lz_make(plain, sizeof(plain), LZ_BLOCK, 0);
	cr_expect_eq(lz_broken(&z, LZ_HDR + 8, 0, 0, &d), -EINVAL);
	cr_expect(strstr(d.msg, "block 0 is corrupt (liblzo2 error -"), "%s", d.msg);
	free(z.b);
}

Test(bzimage, lzo_every_truncation_and_trailing_bytes_are_refused)
{
	uint8_t plain[5000];
	struct lz z;

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i % 97 < 30 ? i * 13 : 0);
	/* Four blocks of 1250 bytes, every checksum. */
	z = lz_make(plain, sizeof(plain), 1250, LZ_ALL_SUMS);
	for (size_t n = 0; n < z.n; n++) {
		struct lz cut = {z.b, n, n};
		struct pvsub_buf out = {0};
		struct pvsub_diag d = {""};

		cr_expect_eq(lz_run(&cut, sizeof(plain), 1 << 20, &out, &d), -EINVAL, "cut at %zu",
			     n);
		/* below 9 bytes, not even the magic is there */
		cr_expect(n < 9 || strstr(d.msg, "lzo payload truncated: "), "cut at %zu: %s", n,
			  d.msg);
		pvsub_buf_release(&out);
	}
	lz_be(&z, 0, 1);
	{
		struct pvsub_buf out = {0};
		struct pvsub_diag d = {""};

		cr_expect_eq(lz_run(&z, sizeof(plain), 1 << 20, &out, &d), -EINVAL);
		cr_expect(strstr(d.msg, "lzo payload: 1 bytes after the end of the stream"), "%s",
			  d.msg);
		pvsub_buf_release(&out);
	}
	free(z.b);
}

Test(bzimage, boot_code_is_everything_but_the_payload)
{
	uint8_t file[1200];
	struct pvsub_bzimage bz = {.pm_offset = 1024, .payload_offset = 1100, .payload_length = 50};
	struct pvsub_boot_code bc;

	for (size_t i = 0; i < sizeof(file); i++)
		file[i] = (uint8_t)i;
	cr_assert_eq(pvsub_bzimage_boot_code(file, sizeof(file), &bz, &bc), 0);
	cr_assert_eq(bc.n_parts, 3);
	cr_expect_str_eq(bc.parts[0].name, "bzImage setup");
	cr_expect(bc.parts[0].file_offset == 0 && bc.parts[0].offset == 0 &&
		  bc.parts[0].size == 1024);
	cr_expect_str_eq(bc.parts[1].name, "bzImage decompressor");
	cr_expect(bc.parts[1].file_offset == 1024 && bc.parts[1].offset == 1024 &&
		  bc.parts[1].size == 76);
	cr_expect_str_eq(bc.parts[2].name, "bzImage decompressor tail");
	cr_expect(bc.parts[2].file_offset == 1150 && bc.parts[2].offset == 1100 &&
		  bc.parts[2].size == 50);
	cr_assert_eq(bc.size, 1150);
	/* The bytes are the file's, part by part; the payload is left out. */
	cr_expect_arr_eq(bc.bytes, file, 1100);
	cr_expect_arr_eq(bc.bytes + 1100, file + 1150, 50);
	pvsub_boot_code_release(&bc);
	cr_expect_null(bc.bytes);

	/* A payload right after setup and up to the end: setup alone. */
	bz.payload_offset = 1024;
	bz.payload_length = sizeof(file) - 1024;
	cr_assert_eq(pvsub_bzimage_boot_code(file, sizeof(file), &bz, &bc), 0);
	cr_expect(bc.n_parts == 1 && bc.size == 1024);
	pvsub_boot_code_release(&bc);
	pvsub_boot_code_release(NULL);
}
