/* SPDX-License-Identifier: MIT */
/*
 * The bzImage reader against boot headers, payloads and vmlinux files built
 * here in memory (payloads compressed with libarchive's write side).
 */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
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
