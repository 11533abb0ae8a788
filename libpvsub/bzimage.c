/* SPDX-License-Identifier: MIT */
/*
 * bzimage: reading the x86 boot header (Documentation/arch/x86/boot.rst),
 * decompressing its payload through libarchive (liblzo2 for lzo), and
 * splitting the result into the vmlinux ELF file and its KASLR relocation
 * table.
 */
#include <archive.h>
#include <archive_entry.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <lzo/lzo1x.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/bzimage.h"

/* Offsets in the boot sector and setup header. */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_RELOCATABLE 0x234
#define HDR_PAYLOAD_OFFSET 0x248
#define HDR_PAYLOAD_LENGTH 0x24c
/* The setup header of protocol 2.08 ends with payload_length. */
#define HDR_END_208 0x250
#define SECTOR 512u
#define CHUNK_SIZE (64 * 1024)
/* Every payload ends with its decompressed size (gzip: ISIZE). */
#define SIZE_TRAILER 4

bool pvsub_bzimage_sniff(const uint8_t *p, size_t n)
{
	return p && n >= PVSUB_BZIMAGE_SNIFF_SIZE && memcmp(p + HDR_MAGIC, "HdrS", 4) == 0;
}

struct codec {
	const char *name;
	const uint8_t *magic;
	size_t len;
	/* libarchive's filter for it; NULL for lzo, which Debian's libarchive
	 * reads only through an external lzop program: its container is
	 * read here and its blocks decompressed by liblzo2. */
	int (*support)(struct archive *);
};

static const uint8_t m_gzip[] = {0x1f, 0x8b};
static const uint8_t m_bzip2[] = {'B', 'Z', 'h'};
static const uint8_t m_lzma[] = {0x5d, 0x00, 0x00};
static const uint8_t m_xz[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
static const uint8_t m_lzo[] = {0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a};
static const uint8_t m_lz4[] = {0x02, 0x21, 0x4c, 0x18};
static const uint8_t m_zstd[] = {0x28, 0xb5, 0x2f, 0xfd};

/* The codecs the kernel's Kconfig offers (KERNEL_GZIP ... KERNEL_ZSTD). */
static const struct codec codecs[] = {
	{"gzip", m_gzip, sizeof(m_gzip), archive_read_support_filter_gzip},
	{"bzip2", m_bzip2, sizeof(m_bzip2), archive_read_support_filter_bzip2},
	{"lzma", m_lzma, sizeof(m_lzma), archive_read_support_filter_lzma},
	{"xz", m_xz, sizeof(m_xz), archive_read_support_filter_xz},
	{"lzo", m_lzo, sizeof(m_lzo), NULL},
	{"lz4", m_lz4, sizeof(m_lz4), archive_read_support_filter_lz4},
	{"zstd", m_zstd, sizeof(m_zstd), archive_read_support_filter_zstd},
};

static const struct codec *codec_of(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		if (n >= codecs[i].len && memcmp(p, codecs[i].magic, codecs[i].len) == 0)
			return &codecs[i];
	}
	return NULL;
}

static const struct codec *codec_named(const char *name)
{
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		if (name && strcmp(codecs[i].name, name) == 0)
			return &codecs[i];
	}
	return NULL;
}

int pvsub_bzimage_parse(const uint8_t *data, size_t size, struct pvsub_bzimage *out,
			struct pvsub_diag *diag)
{
	const struct codec *c;
	uint32_t po, pl;
	uint64_t start;
	const uint8_t *p;

	memset(out, 0, sizeof(*out));
	if (!pvsub_bzimage_sniff(data, size))
		return pvsub_diag_set(diag, EINVAL, "bzImage: no \"HdrS\" boot header at 0x%x",
				      HDR_MAGIC);
	out->version = pvsub_le16(data + HDR_VERSION);
	if (out->version < 0x0208)
		return pvsub_diag_set(diag, EINVAL,
				      "bzImage: boot protocol %u.%02u is older than 2.08 "
				      "(no payload_offset)",
				      out->version >> 8, out->version & 0xff);
	if (size < HDR_END_208)
		return pvsub_diag_set(diag, EINVAL,
				      "bzImage: boot header truncated at %zu bytes "
				      "(payload_length ends at 0x%x)",
				      size, HDR_END_208);
	if (pvsub_le16(data + HDR_BOOT_FLAG) != 0xaa55)
		return pvsub_diag_set(diag, EINVAL, "bzImage: boot_flag is 0x%04x, not 0xaa55",
				      pvsub_le16(data + HDR_BOOT_FLAG));
	out->setup_sects = data[HDR_SETUP_SECTS] ? data[HDR_SETUP_SECTS] : 4;
	out->pm_offset = (uint64_t)(out->setup_sects + 1) * SECTOR;
	if (out->pm_offset >= size)
		return pvsub_diag_set(diag, EINVAL,
				      "bzImage: setup_sects (%u) puts the protected-mode code at "
				      "0x%" PRIx64 ", past the end of the file (%zu bytes)",
				      out->setup_sects, out->pm_offset, size);
	out->relocatable = data[HDR_RELOCATABLE] != 0;
	po = pvsub_le32(data + HDR_PAYLOAD_OFFSET);
	pl = pvsub_le32(data + HDR_PAYLOAD_LENGTH);
	start = out->pm_offset + po;
	if (start >= size)
		return pvsub_diag_set(diag, EINVAL,
				      "bzImage: payload_offset 0x%" PRIx32 " points past the end "
				      "of the file (0x%" PRIx64 " >= %zu bytes)",
				      po, start, size);
	if (pl > size - start)
		return pvsub_diag_set(diag, EINVAL,
				      "bzImage: payload_length 0x%" PRIx32 " at 0x%" PRIx64
				      " runs past the end of the file (%zu bytes)",
				      pl, start, size);
	p = data + start;
	c = codec_of(p, pl);
	if (!c) {
		char hex[3 * 4 + 1] = "";

		for (size_t i = 0, used = 0; i < PVSUB_MIN((size_t)pl, (size_t)4); i++)
			used += (size_t)snprintf(hex + used, sizeof(hex) - used, "%s%02x",
						 i ? " " : "", p[i]);
		return pvsub_diag_set(diag, EINVAL,
				      "bzImage: payload at 0x%" PRIx64 " has no known compression "
				      "magic (starts \"%s\")",
				      start, hex);
	}
	if (pl < c->len + SIZE_TRAILER)
		return pvsub_diag_set(diag, EINVAL,
				      "bzImage: payload_length %" PRIu32 " is too short for a %s "
				      "payload and its size",
				      pl, c->name);
	out->payload_offset = start;
	out->payload_length = pl;
	out->codec = c->name;
	return 0;
}

/* Where decompressed bytes go, and the two sizes they may not pass. */
struct sink {
	struct pvsub_buf *out;
	uint64_t max;	 /* the caller's limit: -EFBIG past it */
	uint32_t stated; /* the payload's size field: -EINVAL past it */
	const char *codec;
	struct pvsub_diag *diag;
};

/* Whether the output may grow by @n more bytes (0 after they are written). */
static int sink_check(const struct sink *s, uint64_t n)
{
	uint64_t len = s->out->len;

	if (len > s->max || n > s->max - len)
		return -EFBIG;
	if (len > s->stated || n > s->stated - len)
		return pvsub_diag_set(s->diag, EINVAL,
				      "bzImage: %s payload decompresses to more than the "
				      "%" PRIu32 " bytes its size field states",
				      s->codec, s->stated);
	return 0;
}

/* libarchive's own one-line message, or @fallback. */
static const char *la_msg(struct archive *a, const char *fallback)
{
	const char *m = archive_error_string(a);

	return m && *m ? m : fallback;
}

/* The @len bytes at @payload through libarchive's raw format and @c's filter. */
static int la_decompress(const struct codec *c, const uint8_t *payload, size_t len,
			 const struct sink *s)
{
	struct archive *a = archive_read_new();
	struct archive_entry *entry;
	struct pvsub_buf *out = s->out;
	la_ssize_t n;
	int r = 0;

	if (!a)
		return -ENOMEM;
	/* Only the filter the magic names: libarchive must not pick another.
	 * ARCHIVE_WARN means an external program would do the work: not here. */
	if (c->support(a) != ARCHIVE_OK) {
		r = pvsub_diag_set(s->diag, EINVAL,
				   "bzImage: the payload is %s-compressed, which this libarchive "
				   "cannot read itself",
				   c->name);
		goto out;
	}
	if (archive_read_support_format_raw(a) != ARCHIVE_OK ||
	    archive_read_open_memory(a, payload, len) != ARCHIVE_OK ||
	    archive_read_next_header(a, &entry) != ARCHIVE_OK) {
		r = pvsub_diag_set(s->diag, EINVAL, "bzImage: %s payload: %s", c->name,
				   la_msg(a, "not readable"));
		goto out;
	}
	if (archive_filter_count(a) < 2 || archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE) {
		r = pvsub_diag_set(s->diag, EINVAL,
				   "bzImage: %s payload not recognised by libarchive", c->name);
		goto out;
	}
	for (;;) {
		r = pvsub_buf_reserve(out, CHUNK_SIZE);
		if (r < 0)
			goto out;
		n = archive_read_data(a, out->data + out->len, CHUNK_SIZE);
		if (n == 0)
			break;
		if (n < 0) {
			r = pvsub_diag_set(s->diag, EINVAL, "bzImage: %s payload: %s", c->name,
					   la_msg(a, "corrupt stream"));
			goto out;
		}
		out->len += (size_t)n;
		r = sink_check(s, 0);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	archive_read_free(a);
	return r;
}

/* --- lzo: the lzop container ------------------------------------------------
 *
 * What the kernel build writes (`lzop -9`) and its boot decompressor reads
 * (lib/decompress_unlzo.c): a header, then blocks of at most 256 KiB, each
 * LZO1X-compressed or, when that would not be smaller, stored; all numbers
 * big-endian.
 *
 *   header: magic (9), version (2), lib_version (2), [version_needed (2)],
 *           method (1), [level (1)], flags (4), (filter (4)), mode (4),
 *           mtime_low (4), [mtime_high (4)], name length (1), name,
 *           checksum (4) of the header after the magic: Adler-32, or
 *           CRC-32 with F_H_CRC32.  [...] is there from version 0x0940
 *           on, (...) with F_H_FILTER only.
 *   block:  size (4; 0 ends the stream), compressed size (4), then the
 *           checksums the flags name: Adler-32 and CRC-32 of the block's
 *           bytes (F_ADLER32_D, F_CRC32_D), then of its compressed bytes
 *           (F_ADLER32_C, F_CRC32_C) when it is compressed, then the data.
 */
#define LZOP_F_ADLER32_D 0x00000001u
#define LZOP_F_ADLER32_C 0x00000002u
#define LZOP_F_H_EXTRA_FIELD 0x00000040u
#define LZOP_F_CRC32_D 0x00000100u
#define LZOP_F_CRC32_C 0x00000200u
#define LZOP_F_MULTIPART 0x00000400u
#define LZOP_F_H_FILTER 0x00000800u
#define LZOP_F_H_CRC32 0x00001000u
/* lzop's methods, all LZO1X streams: LZO1X-1, LZO1X-1(15), LZO1X-999. */
#define LZOP_M_LZO1X_1 1
#define LZOP_M_LZO1X_999 3
#define LZOP_VERSION_MIN 0x0900
#define LZOP_VERSION_0940 0x0940 /* the header's optional fields begin */
/* The kernel's decompressor refuses larger blocks (LZO_BLOCK_SIZE). */
#define LZOP_BLOCK_MAX (256u * 1024)

/* A cursor over the container's bytes that says which field ran out. */
struct lzop_in {
	const uint8_t *p;
	size_t n, pos;
	struct pvsub_diag *diag;
};

static int lzop_need(struct lzop_in *in, size_t n, const char *field)
{
	if (n > in->n - in->pos)
		return pvsub_diag_set(in->diag, EINVAL,
				      "bzImage: lzo payload truncated: %s at offset %zu needs %zu "
				      "bytes, %zu left",
				      field, in->pos, n, in->n - in->pos);
	return 0;
}

static int lzop_u8(struct lzop_in *in, const char *field, uint32_t *v)
{
	int r = lzop_need(in, 1, field);

	if (r == 0)
		*v = in->p[in->pos++];
	return r;
}

static int lzop_u16(struct lzop_in *in, const char *field, uint32_t *v)
{
	int r = lzop_need(in, 2, field);

	if (r == 0) {
		*v = pvsub_be16(in->p + in->pos);
		in->pos += 2;
	}
	return r;
}

static int lzop_u32(struct lzop_in *in, const char *field, uint32_t *v)
{
	int r = lzop_need(in, 4, field);

	if (r == 0) {
		*v = pvsub_be32(in->p + in->pos);
		in->pos += 4;
	}
	return r;
}

static int lzop_skip(struct lzop_in *in, size_t n, const char *field)
{
	int r = lzop_need(in, n, field);

	if (r == 0)
		in->pos += n;
	return r;
}

static int lzo_init_status = LZO_E_ERROR;

static void lzo_init_once(void)
{
	lzo_init_status = lzo_init();
}

/* The header: its flags in *@flags, the cursor on the first block. */
static int lzop_header(struct lzop_in *in, uint32_t *flags)
{
	uint32_t version = 0, method = 0, v, len = 0, sum, want;
	size_t from;
	int r;

	r = lzop_skip(in, sizeof(m_lzo), "magic");
	from = in->pos;
	if (r == 0)
		r = lzop_u16(in, "version", &version);
	if (r == 0 && version < LZOP_VERSION_MIN)
		return pvsub_diag_set(in->diag, EINVAL,
				      "bzImage: lzo payload: lzop version 0x%04" PRIx32
				      " is older than 0x%04x",
				      version, LZOP_VERSION_MIN);
	if (r == 0)
		r = lzop_u16(in, "lib_version", &v);
	if (r == 0 && version >= LZOP_VERSION_0940)
		r = lzop_u16(in, "version_needed", &v);
	if (r == 0)
		r = lzop_u8(in, "method", &method);
	if (r == 0 && (method < LZOP_M_LZO1X_1 || method > LZOP_M_LZO1X_999))
		return pvsub_diag_set(in->diag, EINVAL,
				      "bzImage: lzo payload: method %" PRIu32 " is not LZO1X",
				      method);
	if (r == 0 && version >= LZOP_VERSION_0940)
		r = lzop_u8(in, "level", &v);
	if (r == 0)
		r = lzop_u32(in, "flags", flags);
	if (r < 0)
		return r;
	/* A filter changes the bytes after decompression, a multipart file
	 * or an extra field the container; the kernel's build writes none. */
	if (*flags & (LZOP_F_H_FILTER | LZOP_F_MULTIPART | LZOP_F_H_EXTRA_FIELD))
		return pvsub_diag_set(in->diag, EINVAL,
				      "bzImage: lzo payload: flags 0x%08" PRIx32
				      " ask for a filter, multiple parts or an extra field",
				      *flags);
	r = lzop_u32(in, "mode", &v);
	if (r == 0)
		r = lzop_u32(in, "mtime", &v);
	if (r == 0 && version >= LZOP_VERSION_0940)
		r = lzop_u32(in, "mtime_high", &v);
	if (r == 0)
		r = lzop_u8(in, "name length", &len);
	if (r == 0)
		r = lzop_skip(in, len, "name");
	if (r < 0)
		return r;
	if (*flags & LZOP_F_H_CRC32)
		want = lzo_crc32(0, in->p + from, in->pos - from);
	else
		want = lzo_adler32(1, in->p + from, in->pos - from);
	r = lzop_u32(in, "header checksum", &sum);
	if (r == 0 && sum != want)
		return pvsub_diag_set(in->diag, EINVAL,
				      "bzImage: lzo payload: the header's %s is 0x%08" PRIx32
				      ", it states 0x%08" PRIx32,
				      *flags & LZOP_F_H_CRC32 ? "CRC-32" : "Adler-32", want, sum);
	return r;
}

/* Check @sum, the Adler-32 (or CRC-32) of @n bytes at @p that block @block
 * states for @what. */
static int lzop_verify(struct lzop_in *in, size_t block, const char *what, bool adler, uint32_t sum,
		       const uint8_t *p, size_t n)
{
	uint32_t got = adler ? lzo_adler32(1, p, n) : lzo_crc32(0, p, n);

	if (got == sum)
		return 0;
	return pvsub_diag_set(in->diag, EINVAL,
			      "bzImage: lzo payload: block %zu: the %s of %s is 0x%08" PRIx32
			      ", the block states 0x%08" PRIx32,
			      block, adler ? "Adler-32" : "CRC-32", what, got, sum);
}

/* One block's header: its sizes and the checksums @flags say it carries
 * (bit 0..3: Adler-32 and CRC-32 of the data, then of the compressed data). */
struct lzop_block {
	uint32_t dst_len, src_len;
	uint32_t sum[4];
	unsigned have;
};

static int lzop_block_header(struct lzop_in *in, uint32_t flags, size_t block, struct lzop_block *b)
{
	static const struct {
		uint32_t flag;
		bool compressed;
		const char *field;
	} sums[4] = {
		{LZOP_F_ADLER32_D, false, "block Adler-32"},
		{LZOP_F_CRC32_D, false, "block CRC-32"},
		{LZOP_F_ADLER32_C, true, "compressed block Adler-32"},
		{LZOP_F_CRC32_C, true, "compressed block CRC-32"},
	};
	int r;

	b->have = 0;
	r = lzop_u32(in, "compressed size", &b->src_len);
	if (r < 0)
		return r;
	if (b->src_len == 0 || b->src_len > b->dst_len)
		return pvsub_diag_set(in->diag, EINVAL,
				      "bzImage: lzo payload: block %zu states %" PRIu32
				      " compressed bytes for %" PRIu32 " bytes",
				      block, b->src_len, b->dst_len);
	for (unsigned i = 0; i < 4; i++) {
		/* A stored block has no checksum of its own compressed bytes. */
		if (!(flags & sums[i].flag) || (sums[i].compressed && b->src_len == b->dst_len))
			continue;
		r = lzop_u32(in, sums[i].field, &b->sum[i]);
		if (r < 0)
			return r;
		b->have |= 1u << i;
	}
	return lzop_need(in, b->src_len, "block data");
}

/* Check the checksums in @b over @p (@compressed: the bits 2..3 ones). */
static int lzop_block_verify(struct lzop_in *in, size_t block, const struct lzop_block *b,
			     bool compressed, const uint8_t *p, size_t n)
{
	int r = 0;

	for (unsigned i = compressed ? 2 : 0; r == 0 && i < (compressed ? 4u : 2u); i++)
		if (b->have & (1u << i))
			r = lzop_verify(in, block,
					compressed ? "its compressed bytes" : "its bytes",
					i % 2 == 0, b->sum[i], p, n);
	return r;
}

/* One block, after its header, appended to the sink's output. */
static int lzop_block_data(struct lzop_in *in, size_t block, const struct lzop_block *b,
			   const struct sink *s)
{
	const uint8_t *src = in->p + in->pos;
	struct pvsub_buf *out = s->out;
	lzo_uint got = b->dst_len;
	uint8_t *dst;
	int r;

	r = sink_check(s, b->dst_len);
	if (r == 0)
		r = pvsub_buf_reserve(out, b->dst_len);
	if (r < 0)
		return r;
	dst = (uint8_t *)out->data + out->len;
	if (b->src_len == b->dst_len) {
		memcpy(dst, src, b->dst_len);
	} else {
		r = lzop_block_verify(in, block, b, true, src, b->src_len);
		if (r < 0)
			return r;
		r = lzo1x_decompress_safe(src, b->src_len, dst, &got, NULL);
		if (r == LZO_E_OUTPUT_OVERRUN)
			return pvsub_diag_set(
				in->diag, EINVAL,
				"bzImage: lzo payload: block %zu decompresses to more "
				"than the %" PRIu32 " bytes it states",
				block, b->dst_len);
		if (r != LZO_E_OK)
			return pvsub_diag_set(in->diag, EINVAL,
					      "bzImage: lzo payload: block %zu is corrupt (liblzo2 "
					      "error %d)",
					      block, r);
		if (got != b->dst_len)
			return pvsub_diag_set(in->diag, EINVAL,
					      "bzImage: lzo payload: block %zu decompresses to %lu "
					      "bytes, it states %" PRIu32,
					      block, (unsigned long)got, b->dst_len);
	}
	r = lzop_block_verify(in, block, b, false, dst, b->dst_len);
	if (r < 0)
		return r;
	out->len += b->dst_len;
	in->pos += b->src_len;
	return 0;
}

/* The @len bytes at @payload as an lzop container, block by block. */
static int lzop_decompress(const uint8_t *payload, size_t len, const struct sink *s)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct lzop_in in = {payload, len, 0, s->diag};
	struct lzop_block b;
	uint32_t flags;
	int r;

	if (pthread_once(&once, lzo_init_once) != 0 || lzo_init_status != LZO_E_OK)
		return pvsub_diag_set(s->diag, EINVAL, "bzImage: liblzo2 failed to initialise");
	r = lzop_header(&in, &flags);
	for (size_t block = 0; r == 0; block++) {
		r = lzop_u32(&in, "block size", &b.dst_len);
		if (r < 0 || b.dst_len == 0)
			break;
		if (b.dst_len > LZOP_BLOCK_MAX)
			return pvsub_diag_set(s->diag, EINVAL,
					      "bzImage: lzo payload: block %zu states %" PRIu32
					      " bytes, more than the %u of an lzop block",
					      block, b.dst_len, LZOP_BLOCK_MAX);
		r = lzop_block_header(&in, flags, block, &b);
		if (r == 0)
			r = lzop_block_data(&in, block, &b, s);
	}
	if (r == 0 && in.pos != in.n)
		return pvsub_diag_set(s->diag, EINVAL,
				      "bzImage: lzo payload: %zu bytes after the end of the stream",
				      in.n - in.pos);
	return r;
}

int pvsub_bzimage_decompress(const uint8_t *data, size_t size, const struct pvsub_bzimage *bz,
			     uint64_t max, struct pvsub_buf *out, struct pvsub_diag *diag)
{
	const struct codec *c = codec_named(bz->codec);
	struct sink s = {out, max, 0, bz->codec, diag};
	const uint8_t *payload;
	size_t len;
	int r;

	if (!c || bz->payload_offset > size || bz->payload_length > size - bz->payload_offset ||
	    bz->payload_length < c->len + SIZE_TRAILER)
		return pvsub_diag_set(diag, EINVAL, "bzImage: payload description is invalid");
	payload = data + bz->payload_offset;
	len = (size_t)bz->payload_length;
	/* Not trusted before the output bears it out: a garbage payload is
	 * corrupt, not too big. */
	s.stated = pvsub_le32(payload + len - SIZE_TRAILER);
	/* gzip's ISIZE is part of its stream; for the others the four bytes
	 * are the kernel build's, and no decompressor expects them. */
	if (strcmp(c->name, "gzip") != 0)
		len -= SIZE_TRAILER;
	r = c->support ? la_decompress(c, payload, len, &s) : lzop_decompress(payload, len, &s);
	if (r < 0)
		return r;
	if (out->len != s.stated)
		return pvsub_diag_set(
			diag, EINVAL,
			"bzImage: %s payload decompresses to %zu bytes, its size field "
			"states %" PRIu32,
			c->name, out->len, s.stated);
	return 0;
}

int pvsub_bzimage_boot_code(const uint8_t *data, size_t size, const struct pvsub_bzimage *bz,
			    struct pvsub_boot_code *out)
{
	/* pvsub_bzimage_parse() checked that each range lies in the file. */
	const uint64_t end = bz->payload_offset + bz->payload_length;
	const struct {
		const char *name;
		uint64_t lo, hi;
	} parts[PVSUB_BOOT_PARTS] = {
		{"bzImage setup", 0, bz->pm_offset},
		{"bzImage decompressor", bz->pm_offset, bz->payload_offset},
		{"bzImage decompressor tail", end, size},
	};
	size_t total = 0;
	int r;

	memset(out, 0, sizeof(*out));
	out->image_size = size;
	r = pvsub_sha256_hex(data, size, out->image_sha256);
	if (r < 0)
		return r;
	for (size_t i = 0; i < PVSUB_BOOT_PARTS; i++)
		if (parts[i].hi > parts[i].lo)
			total += parts[i].hi - parts[i].lo;
	out->bytes = malloc(total ? total : 1);
	if (!out->bytes)
		return -ENOMEM;
	for (size_t i = 0; i < PVSUB_BOOT_PARTS; i++) {
		size_t n;

		if (parts[i].hi <= parts[i].lo)
			continue;
		n = parts[i].hi - parts[i].lo;
		memcpy(out->bytes + out->size, data + parts[i].lo, n);
		out->parts[out->n_parts++] = (struct pvsub_boot_part){
			.name = parts[i].name,
			.file_offset = parts[i].lo,
			.offset = out->size,
			.size = n,
		};
		out->size += n;
	}
	return 0;
}

void pvsub_boot_code_release(struct pvsub_boot_code *bc)
{
	if (!bc)
		return;
	free(bc->bytes);
	free(bc->image_path);
	memset(bc, 0, sizeof(*bc));
}

int pvsub_kaslr_relocs_parse(const uint8_t *p, size_t n, struct pvsub_kaslr_relocs *out)
{
	uint64_t *lists[3] = {&out->n32, &out->n32_inverse, &out->n64};
	size_t words = n / 4, i = words;

	memset(out, 0, sizeof(*out));
	if (!p || n % 4)
		return -EINVAL;
	/* Read from the end, as the boot decompressor does. */
	for (size_t l = 0; l < 3; l++) {
		for (;;) {
			if (i == 0)
				return -EINVAL;
			i--;
			if (pvsub_le32(p + 4 * i) == 0)
				break;
			(*lists[l])++;
		}
	}
	return i == 0 ? 0 : -EINVAL;
}

/* *@end = max(*@end, @off + @len), or -EINVAL when that passes @size. */
static int extend(uint64_t *end, uint64_t off, uint64_t len, size_t size, const char *what,
		  uint64_t index, struct pvsub_diag *diag)
{
	if (off > size || len > size - off)
		return pvsub_diag_set(diag, EINVAL,
				      "vmlinux: %s %" PRIu64 " (offset 0x%" PRIx64
				      ", size 0x%" PRIx64
				      ") lies past the end of the file (%zu bytes)",
				      what, index, off, len, size);
	if (off + len > *end)
		*end = off + len;
	return 0;
}

int pvsub_vmlinux_elf_end(const uint8_t *data, size_t size, uint64_t *end, struct pvsub_diag *diag)
{
	uint64_t phoff, shoff, shnum;
	uint16_t phentsize, phnum, shentsize;
	int r;

	*end = 0;
	if (size < sizeof(Elf64_Ehdr) || memcmp(data, ELFMAG, SELFMAG) != 0 ||
	    data[EI_CLASS] != ELFCLASS64 || data[EI_DATA] != ELFDATA2LSB)
		return pvsub_diag_set(diag, EINVAL, "vmlinux: not an ELF64 little-endian file");
	*end = sizeof(Elf64_Ehdr);
	phoff = pvsub_le64(data + offsetof(Elf64_Ehdr, e_phoff));
	shoff = pvsub_le64(data + offsetof(Elf64_Ehdr, e_shoff));
	phentsize = pvsub_le16(data + offsetof(Elf64_Ehdr, e_phentsize));
	phnum = pvsub_le16(data + offsetof(Elf64_Ehdr, e_phnum));
	shentsize = pvsub_le16(data + offsetof(Elf64_Ehdr, e_shentsize));
	shnum = pvsub_le16(data + offsetof(Elf64_Ehdr, e_shnum));
	if (phnum && phentsize != sizeof(Elf64_Phdr))
		return pvsub_diag_set(diag, EINVAL, "vmlinux: e_phentsize is %u, not %zu",
				      phentsize, sizeof(Elf64_Phdr));
	if (shoff && shentsize != sizeof(Elf64_Shdr))
		return pvsub_diag_set(diag, EINVAL, "vmlinux: e_shentsize is %u, not %zu",
				      shentsize, sizeof(Elf64_Shdr));
	r = extend(end, phoff, (uint64_t)phnum * sizeof(Elf64_Phdr), size, "program header table",
		   0, diag);
	/* More than SHN_LORESERVE sections: the count is in section 0. */
	if (r == 0 && shoff && shnum == 0) {
		r = extend(end, shoff, sizeof(Elf64_Shdr), size, "section header", 0, diag);
		if (r == 0)
			shnum = pvsub_le64(data + shoff + offsetof(Elf64_Shdr, sh_size));
	}
	if (r == 0 && shoff) {
		if (shnum > size / sizeof(Elf64_Shdr))
			return pvsub_diag_set(diag, EINVAL,
					      "vmlinux: %" PRIu64 " section headers cannot fit in "
					      "%zu bytes",
					      shnum, size);
		r = extend(end, shoff, shnum * sizeof(Elf64_Shdr), size, "section header table", 0,
			   diag);
	}
	for (uint64_t i = 0; r == 0 && i < phnum; i++) {
		const uint8_t *ph = data + phoff + i * sizeof(Elf64_Phdr);

		if (pvsub_le32(ph + offsetof(Elf64_Phdr, p_type)) == PT_NULL)
			continue;
		r = extend(end, pvsub_le64(ph + offsetof(Elf64_Phdr, p_offset)),
			   pvsub_le64(ph + offsetof(Elf64_Phdr, p_filesz)), size, "segment", i, diag);
	}
	for (uint64_t i = 0; r == 0 && shoff && i < shnum; i++) {
		const uint8_t *sh = data + shoff + i * sizeof(Elf64_Shdr);
		uint32_t type = pvsub_le32(sh + offsetof(Elf64_Shdr, sh_type));

		if (type == SHT_NOBITS || type == SHT_NULL)
			continue;
		r = extend(end, pvsub_le64(sh + offsetof(Elf64_Shdr, sh_offset)),
			   pvsub_le64(sh + offsetof(Elf64_Shdr, sh_size)), size, "section", i, diag);
	}
	return r;
}

int pvsub_vmlinux_split(const uint8_t *data, size_t size, uint64_t *elf_size,
			struct pvsub_kaslr_relocs *relocs, struct pvsub_diag *diag)
{
	int r;

	memset(relocs, 0, sizeof(*relocs));
	r = pvsub_vmlinux_elf_end(data, size, elf_size, diag);
	if (r < 0)
		return r;
	if (pvsub_le16(data + offsetof(Elf64_Ehdr, e_type)) != ET_EXEC ||
	    pvsub_le16(data + offsetof(Elf64_Ehdr, e_machine)) != EM_X86_64)
		return pvsub_diag_set(diag, EINVAL, "vmlinux: not an x86-64 ET_EXEC file");
	if (*elf_size == size)
		return 0;
	if (pvsub_kaslr_relocs_parse(data + *elf_size, size - *elf_size, relocs) < 0)
		return pvsub_diag_set(diag, EINVAL,
				      "vmlinux: the %zu bytes after the ELF file (at 0x%" PRIx64
				      ") are not a KASLR relocation table",
				      (size_t)(size - *elf_size), *elf_size);
	return 0;
}
