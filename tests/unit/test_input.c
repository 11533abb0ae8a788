/* SPDX-License-Identifier: MIT */
/*
 * The input walker against archives built here, in memory, with libarchive's
 * write side, and against a scratch directory tree.
 */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libpvsub/input.h"

typedef int (*la_setter)(struct archive *);

/* --- what the walker delivered ----------------------------------------------------- */

#define MAX_ITEMS 64

struct seen {
	size_t n;
	struct pvsub_item *items[MAX_ITEMS];
	size_t stop_after; /* stop the walk after this many items (0: never) */
};

static struct seen seen;

static void seen_reset(void)
{
	for (size_t i = 0; i < seen.n; i++)
		pvsub_item_free(seen.items[i]);
	memset(&seen, 0, sizeof(seen));
}

static int collect(void *data, struct pvsub_item *item)
{
	struct seen *s = data;

	cr_assert_not_null(item);
	cr_assert_not_null(item->path);
	cr_assert_lt(s->n, MAX_ITEMS);
	/* Every item is an ELF file with its bytes, a one-line error, or an
	 * executable not scanned, named by its format. */
	if (item->format) {
		cr_assert_null(item->data, "%s: unscanned item with data", item->path);
		cr_assert_null(item->error);
		cr_assert_gt(strlen(item->format), 0);
	} else if (item->error) {
		cr_assert_null(item->data, "%s: error item with data", item->path);
		cr_assert_gt(strlen(item->error), 0);
		cr_assert_null(strchr(item->error, '\n'), "%s: multi-line error", item->path);
		cr_assert_null(strchr(item->error, '\r'));
	} else {
		cr_assert_not_null(item->data, "%s: no data", item->path);
		cr_assert_geq(item->size, 4);
		cr_assert_eq(memcmp(item->data,
				    "\x7f"
				    "ELF",
				    4),
			     0, "%s: not ELF", item->path);
	}
	s->items[s->n++] = item;
	if (s->stop_after && s->n == s->stop_after)
		return -ECANCELED;
	return 0;
}

static void fini(void)
{
	seen_reset();
}

TestSuite(input, .fini = fini);

static struct pvsub_input_limits limits(void)
{
	struct pvsub_input_limits l;

	pvsub_input_limits_default(&l);
	return l;
}

static void walk_mem(const char *name, const void *buf, size_t len,
		     const struct pvsub_input_limits *l)
{
	int r = pvsub_input_walk_memory(NULL, name, buf, len, l, collect, &seen);

	cr_assert_eq(r, 0, "walk of %s returned %d", name, r);
}

static void expect_file(size_t i, const char *path, const void *data, size_t size)
{
	const struct pvsub_item *it;

	cr_assert_lt(i, seen.n, "item %zu (%s) missing, only %zu", i, path, seen.n);
	it = seen.items[i];
	cr_assert_str_eq(it->path, path);
	cr_assert_null(it->error, "%s: unexpected error: %s", path, it->error);
	cr_assert_eq(it->size, size, "%s: size %zu, want %zu", path, it->size, size);
	cr_assert_eq(memcmp(it->data, data, size), 0, "%s: content differs", path);
}

static void expect_error(size_t i, const char *path, const char *error)
{
	const struct pvsub_item *it;

	cr_assert_lt(i, seen.n, "item %zu (%s) missing, only %zu", i, path, seen.n);
	it = seen.items[i];
	cr_assert_str_eq(it->path, path);
	cr_assert_not_null(it->error, "%s: expected an error", path);
	if (error)
		cr_assert_str_eq(it->error, error);
}

/* --- building archives in memory ----------------------------------------------------- */

enum { REG, DIR_, SYMLINK, HARDLINK };

struct member {
	const char *name;
	const void *data;
	size_t size;
	int type;
	const char *link;
};

struct blob {
	uint8_t *data;
	size_t len;
};

static struct blob build(la_setter format, la_setter filter, const struct member *m, size_t n)
{
	size_t cap = 4 << 20, used = 0;
	struct blob b = {.data = malloc(cap)};
	struct archive *a = archive_write_new();

	cr_assert_not_null(b.data);
	cr_assert_not_null(a);
	cr_assert_eq(format(a), ARCHIVE_OK, "%s", archive_error_string(a));
	if (filter)
		cr_assert_eq(filter(a), ARCHIVE_OK, "%s", archive_error_string(a));
	cr_assert_eq(archive_write_open_memory(a, b.data, cap, &used), ARCHIVE_OK, "%s",
		     archive_error_string(a));
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_mtime(e, 1700000000, 0);
		switch (m[i].type) {
		case REG:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, (la_int64_t)m[i].size);
			break;
		case DIR_:
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
			break;
		case SYMLINK:
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, m[i].link);
			break;
		case HARDLINK:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_hardlink(e, m[i].link);
			archive_entry_set_size(e, 0);
			break;
		}
		cr_assert_geq(archive_write_header(a, e), ARCHIVE_WARN, "%s: %s", m[i].name,
			      archive_error_string(a));
		if (m[i].type == REG && m[i].size)
			cr_assert_eq(archive_write_data(a, m[i].data, m[i].size),
				     (la_ssize_t)m[i].size, "%s: %s", m[i].name,
				     archive_error_string(a));
		archive_entry_free(e);
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK, "%s", archive_error_string(a));
	archive_write_free(a);
	b.len = used;
	return b;
}

/* One member, compressed on its own (`x.ko.xz`). */
static struct blob compress(la_setter filter, const void *data, size_t size)
{
	struct member m = {"data", data, size, REG, NULL};

	return build(archive_write_set_format_raw, filter, &m, 1);
}

/* Small fake ELF files: the input module looks at the magic only. */
static uint8_t *fake_elf(size_t size, unsigned seed)
{
	uint8_t *p = malloc(size);

	cr_assert_not_null(p);
	cr_assert_geq(size, 4);
	memcpy(p,
	       "\x7f"
	       "ELF",
	       4);
	for (size_t i = 4; i < size; i++)
		p[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
	return p;
}

static const char text[] = "this is not an ELF file\n";

#define NOT_ELF "not an ELF file or a recognised archive"
#define COMPRESSED_NOT_ELF "compressed content is " NOT_ELF

#define M(name, buf, size)                                                                         \
	{                                                                                          \
		(name), (buf), (size), REG, NULL                                                   \
	}

/* --- formats, filters, member types ------------------------------------------------------ */

Test(input, tar_delivers_regular_elf_members_only)
{
	uint8_t *a = fake_elf(300, 1), *b = fake_elf(5000, 2);
	struct member m[] = {
		{"lib/", NULL, 0, DIR_, NULL},	 M("lib/a.ko", a, 300),
		M("README", text, sizeof(text)), {"lib/l.ko", NULL, 0, SYMLINK, "a.ko"},
		M("lib/b.o", b, 5000),		 {"lib/c.ko", NULL, 0, HARDLINK, "lib/a.ko"},
	};
	struct pvsub_input_limits l = limits();
	struct blob t = build(archive_write_set_format_ustar, NULL, m, PVSUB_ARRAY_SIZE(m));

	walk_mem("img.tar", t.data, t.len, &l);
	cr_assert_eq(seen.n, 2);
	expect_file(0, "img.tar!lib/a.ko", a, 300);
	expect_file(1, "img.tar!lib/b.o", b, 5000);
	free(t.data);
	free(a);
	free(b);
}

Test(input, every_archive_format)
{
	static const struct {
		const char *name;
		la_setter set;
	} formats[] = {
		{"pax", archive_write_set_format_pax},
		{"ustar", archive_write_set_format_ustar},
		{"gnutar", archive_write_set_format_gnutar},
		{"newc", archive_write_set_format_cpio_newc},
		{"odc", archive_write_set_format_cpio_odc},
		{"zip", archive_write_set_format_zip},
		{"ar-svr4", archive_write_set_format_ar_svr4},
		{"ar-bsd", archive_write_set_format_ar_bsd},
	};
	uint8_t *elf = fake_elf(1234, 3);
	struct member m[] = {M("y.txt", text, sizeof(text)), M("x.ko", elf, 1234)};
	struct pvsub_input_limits l = limits();

	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(formats); i++) {
		struct blob b = build(formats[i].set, NULL, m, PVSUB_ARRAY_SIZE(m));

		seen_reset();
		walk_mem(formats[i].name, b.data, b.len, &l);
		cr_assert_eq(seen.n, 1, "%s: %zu items", formats[i].name, seen.n);
		char want[64];
		snprintf(want, sizeof(want), "%s!x.ko", formats[i].name);
		expect_file(0, want, elf, 1234);
		free(b.data);
	}
	free(elf);
}

Test(input, every_compression_filter)
{
	static const struct {
		const char *name;
		la_setter set;
	} filters[] = {
		{"t.tar.gz", archive_write_add_filter_gzip},
		{"t.tar.xz", archive_write_add_filter_xz},
		{"t.tar.zst", archive_write_add_filter_zstd},
		{"t.tar.bz2", archive_write_add_filter_bzip2},
		{"t.tar.lzma", archive_write_add_filter_lzma},
	};
	uint8_t *elf = fake_elf(7000, 4);
	struct member m[] = {M("m/x.ko", elf, 7000)};
	struct pvsub_input_limits l = limits();

	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(filters); i++) {
		struct blob b = build(archive_write_set_format_pax, filters[i].set, m, 1);
		char want[64];

		seen_reset();
		walk_mem(filters[i].name, b.data, b.len, &l);
		cr_assert_eq(seen.n, 1, "%s: %zu items", filters[i].name, seen.n);
		snprintf(want, sizeof(want), "%s!m/x.ko", filters[i].name);
		expect_file(0, want, elf, 7000);
		free(b.data);
	}
	free(elf);
}

Test(input, compressed_single_elf_keeps_its_name)
{
	static const struct {
		const char *name;
		la_setter set;
	} filters[] = {
		{"kvm.ko.gz", archive_write_add_filter_gzip},
		{"kvm.ko.xz", archive_write_add_filter_xz},
		{"kvm.ko.zst", archive_write_add_filter_zstd},
		{"kvm.ko.bz2", archive_write_add_filter_bzip2},
	};
	uint8_t *elf = fake_elf(2000, 5);
	struct pvsub_input_limits l = limits();

	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(filters); i++) {
		struct blob c = compress(filters[i].set, elf, 2000);

		seen_reset();
		walk_mem(filters[i].name, c.data, c.len, &l);
		cr_assert_eq(seen.n, 1, "%s", filters[i].name);
		expect_file(0, filters[i].name, elf, 2000);
		free(c.data);
	}
	free(elf);
}

Test(input, compressed_single_elf_inside_tar)
{
	uint8_t *elf = fake_elf(2000, 6);
	struct blob c = compress(archive_write_add_filter_xz, elf, 2000);
	struct blob ct = compress(archive_write_add_filter_zstd, text, sizeof(text));
	struct blob empty = compress(archive_write_add_filter_gzip, "", 0);
	struct member m[] = {M("lib/modules/x.ko.xz", c.data, c.len),
			     M("lib/modules/notes.zst", ct.data, ct.len),
			     M("man/empty.1.gz", empty.data, empty.len)};
	struct blob t = build(archive_write_set_format_ustar, NULL, m, 3);
	struct pvsub_input_limits l = limits();

	walk_mem("image.tar", t.data, t.len, &l);
	/* The compressed text (and an empty .gz, as Debian ships some man pages)
	 * is neither ELF nor an archive: skipped silently. */
	cr_assert_eq(seen.n, 1);
	expect_file(0, "image.tar!lib/modules/x.ko.xz", elf, 2000);

	/* Named explicitly, compressed text is an error. */
	seen_reset();
	walk_mem("notes.zst", ct.data, ct.len, &l);
	cr_assert_eq(seen.n, 1);
	expect_error(0, "notes.zst", COMPRESSED_NOT_ELF);
	seen_reset();
	walk_mem("empty.gz", empty.data, empty.len, &l);
	cr_assert_eq(seen.n, 1);
	expect_error(0, "empty.gz", COMPRESSED_NOT_ELF);
	free(empty.data);
	free(t.data);
	free(c.data);
	free(ct.data);
	free(elf);
}

/* zip ⊂ cpio.xz ⊂ tar.gz, with ELF files at every level; @e1, @e2, @e3 hold
 * 100, 200 and 300 bytes. */
static struct blob nested(const uint8_t *e1, const uint8_t *e2, const uint8_t *e3)
{
	struct member zm[] = {M("./lib/modules/6.1/kernel/x.ko", e1, 100)};
	struct blob zip = build(archive_write_set_format_zip, NULL, zm, 1);
	struct member cm[] = {M("c.zip", zip.data, zip.len), M("d.ko", e2, 200)};
	struct blob cpio =
		build(archive_write_set_format_cpio_newc, archive_write_add_filter_xz, cm, 2);
	struct member tm[] = {M("b.cpio.xz", cpio.data, cpio.len), M("top.ko", e3, 300)};
	struct blob tar = build(archive_write_set_format_pax, archive_write_add_filter_gzip, tm, 2);

	free(zip.data);
	free(cpio.data);
	return tar;
}

Test(input, nested_three_levels)
{
	uint8_t *e1 = fake_elf(100, 7), *e2 = fake_elf(200, 8), *e3 = fake_elf(300, 9);
	struct blob tar = nested(e1, e2, e3);
	struct pvsub_input_limits l = limits();

	walk_mem("image.tar.gz", tar.data, tar.len, &l);
	cr_assert_eq(seen.n, 3);
	expect_file(0, "image.tar.gz!b.cpio.xz!c.zip!./lib/modules/6.1/kernel/x.ko", e1, 100);
	expect_file(1, "image.tar.gz!b.cpio.xz!d.ko", e2, 200);
	expect_file(2, "image.tar.gz!top.ko", e3, 300);

	/* The zip sits at depth 2: allowed by a limit of 2. */
	seen_reset();
	l.max_depth = 2;
	walk_mem("image.tar.gz", tar.data, tar.len, &l);
	cr_assert_eq(seen.n, 3);
	expect_file(0, "image.tar.gz!b.cpio.xz!c.zip!./lib/modules/6.1/kernel/x.ko", e1, 100);
	free(tar.data);
	free(e1);
	free(e2);
	free(e3);
}

Test(input, depth_over_limit_is_an_error_for_that_member)
{
	uint8_t *e1 = fake_elf(100, 7), *e2 = fake_elf(200, 8), *e3 = fake_elf(300, 9);
	struct blob tar = nested(e1, e2, e3);
	struct pvsub_input_limits l = limits();

	l.max_depth = 1;
	walk_mem("image.tar.gz", tar.data, tar.len, &l);
	cr_assert_eq(seen.n, 3);
	expect_error(0, "image.tar.gz!b.cpio.xz!c.zip",
		     "archive nesting exceeds the depth limit (1)");
	expect_file(1, "image.tar.gz!b.cpio.xz!d.ko", e2, 200);
	expect_file(2, "image.tar.gz!top.ko", e3, 300);

	seen_reset();
	l.max_depth = 0;
	walk_mem("image.tar.gz", tar.data, tar.len, &l);
	cr_assert_eq(seen.n, 2);
	expect_error(0, "image.tar.gz!b.cpio.xz", "archive nesting exceeds the depth limit (0)");
	expect_file(1, "image.tar.gz!top.ko", e3, 300);
	free(tar.data);
	free(e1);
	free(e2);
	free(e3);
}

Test(input, debian_package)
{
	uint8_t *elf = fake_elf(4096, 10);
	struct member cm[] = {M("./control", text, sizeof(text))};
	struct blob control =
		build(archive_write_set_format_ustar, archive_write_add_filter_gzip, cm, 1);
	struct member dm[] = {{"./lib/", NULL, 0, DIR_, NULL},
			      M("./lib/modules/6.1/kernel/x.ko", elf, 4096)};
	struct blob data =
		build(archive_write_set_format_gnutar, archive_write_add_filter_xz, dm, 2);
	struct member debm[] = {M("debian-binary", "2.0\n", 4),
				M("control.tar.gz", control.data, control.len),
				M("data.tar.xz", data.data, data.len)};
	struct blob deb = build(archive_write_set_format_ar_svr4, NULL, debm, 3);
	struct pvsub_input_limits l = limits();

	walk_mem("image.deb", deb.data, deb.len, &l);
	cr_assert_eq(seen.n, 1);
	expect_file(0, "image.deb!data.tar.xz!./lib/modules/6.1/kernel/x.ko", elf, 4096);
	free(deb.data);
	free(data.data);
	free(control.data);
	free(elf);
}

/* GNU ar in deterministic mode (and other ar writers) may leave the file type
 * out of the mode field; the members are files all the same. */
Test(input, ar_members_without_a_file_type)
{
	uint8_t *elf = fake_elf(101, 12);
	char hdr[61];
	uint8_t buf[512];
	size_t len = 0;
	struct pvsub_input_limits l = limits();

	memcpy(buf, "!<arch>\n", 8);
	len = 8;
	snprintf(hdr, sizeof(hdr), "%-16s%-12s%-6s%-6s%-8s%-10d`\n", "x.o/", "0", "0", "0", "644",
		 101);
	memcpy(buf + len, hdr, 60);
	len += 60;
	memcpy(buf + len, elf, 101);
	len += 101;
	buf[len++] = '\n';
	walk_mem("lib.a", buf, len, &l);
	cr_assert_eq(seen.n, 1);
	expect_file(0, "lib.a!x.o", elf, 101);
	free(elf);
}

/* A damaged header in the middle of a tar: libarchive resynchronises on the
 * next good header; the damage is reported once, in order. */
Test(input, damaged_tar_header)
{
	uint8_t *a = fake_elf(100, 50), *b = fake_elf(2000, 51), *c = fake_elf(300, 52);
	struct member m[] = {M("a.ko", a, 100), M("b.ko", b, 2000), M("c.ko", c, 300)};
	struct blob t = build(archive_write_set_format_ustar, NULL, m, 3);
	struct pvsub_input_limits l = limits();

	/* b's header follows a's header and one data block; break its checksum. */
	t.data[1024 + 148] ^= 0x01;
	walk_mem("d.tar", t.data, t.len, &l);
	cr_assert_eq(seen.n, 3);
	expect_file(0, "d.tar!a.ko", a, 100);
	expect_error(1, "d.tar", "Damaged tar archive");
	expect_file(2, "d.tar!c.ko", c, 300);
	free(t.data);
	free(a);
	free(b);
	free(c);
}

/* Damage that never ends (a member of 100 blocks behind a broken header) is
 * reported once, and the walk of that archive gives up. */
Test(input, endless_tar_damage_gives_up)
{
	uint8_t *a = fake_elf(100, 53), *b = fake_elf(100 * 512, 54), *c = fake_elf(300, 55);
	struct member m[] = {M("a.ko", a, 100), M("b.ko", b, 100 * 512), M("c.ko", c, 300)};
	struct blob t = build(archive_write_set_format_ustar, NULL, m, 3);
	struct pvsub_input_limits l = limits();

	t.data[1024 + 148] ^= 0x01;
	walk_mem("d.tar", t.data, t.len, &l);
	cr_assert_eq(seen.n, 2);
	expect_file(0, "d.tar!a.ko", a, 100);
	expect_error(1, "d.tar", "Damaged tar archive");
	free(t.data);
	free(a);
	free(b);
	free(c);
}

/* A member that merely starts like lzma-alone is not an archive, and not an
 * error; named explicitly it is. */
Test(input, loose_magic_that_is_not_an_archive_is_skipped)
{
	static const uint8_t fake_lzma[32] = {0x5d, 0x00, 0x00, 0x80, 0x00, 0xff, 0xff, 0xff,
					      0xff, 0xff, 0xff, 0xff, 0xff, 0x42, 0x42, 0x42};
	static const uint8_t fake_cpio[16] = {0xc7, 0x71, 1, 2, 3};
	uint8_t *elf = fake_elf(64, 11);
	struct member m[] = {M("a.lzma", fake_lzma, sizeof(fake_lzma)),
			     M("b.bin", fake_cpio, sizeof(fake_cpio)), M("c.ko", elf, 64)};
	struct blob t = build(archive_write_set_format_ustar, NULL, m, 3);
	struct pvsub_input_limits l = limits();

	walk_mem("t.tar", t.data, t.len, &l);
	cr_assert_eq(seen.n, 1);
	expect_file(0, "t.tar!c.ko", elf, 64);

	seen_reset();
	walk_mem("a.lzma", fake_lzma, sizeof(fake_lzma), &l);
	cr_assert_eq(seen.n, 1);
	expect_error(0, "a.lzma", NULL);
	free(t.data);
	free(elf);
}

/* --- errors ------------------------------------------------------------------------------ */

Test(input, explicit_non_elf_and_elf_in_memory)
{
	uint8_t *elf = fake_elf(10, 12);
	struct pvsub_input_limits l = limits();

	walk_mem("notes.txt", text, sizeof(text), &l);
	walk_mem("empty", "", 0, &l);
	walk_mem("x.ko", elf, 10, &l);
	cr_assert_eq(seen.n, 3);
	expect_error(0, "notes.txt", NOT_ELF);
	expect_error(1, "empty", NOT_ELF);
	expect_file(2, "x.ko", elf, 10);
	free(elf);
}

/* gzip header, then a deflate block of the reserved type 3. */
static const uint8_t corrupt_gz[] = {0x1f, 0x8b, 0x08, 0,    0,	   0,	 0,    0,
				     0,	   3,	 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				     0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

Test(input, corrupt_gzip_is_an_error_and_the_walk_goes_on)
{
	uint8_t *g1 = fake_elf(100, 13), *g2 = fake_elf(200, 14);
	struct member m[] = {M("good1.ko", g1, 100),
			     M("broken.tar.gz", corrupt_gz, sizeof(corrupt_gz)),
			     M("good2.ko", g2, 200)};
	struct blob t = build(archive_write_set_format_ustar, NULL, m, 3);
	struct pvsub_input_limits l = limits();

	walk_mem("image.tar", t.data, t.len, &l);
	cr_assert_eq(seen.n, 3);
	expect_file(0, "image.tar!good1.ko", g1, 100);
	expect_error(1, "image.tar!broken.tar.gz", NULL);
	expect_file(2, "image.tar!good2.ko", g2, 200);

	seen_reset();
	walk_mem("broken.tar.gz", corrupt_gz, sizeof(corrupt_gz), &l);
	cr_assert_eq(seen.n, 1);
	expect_error(0, "broken.tar.gz", NULL);
	free(t.data);
	free(g1);
	free(g2);
}

Test(input, truncated_tar)
{
	uint8_t *a = fake_elf(1000, 15), *b = fake_elf(10000, 16), *c = fake_elf(50, 17);
	struct member m[] = {M("a.ko", a, 1000), M("b.ko", b, 10000)};
	struct blob t = build(archive_write_set_format_ustar, NULL, m, 2);
	/* a: header and two blocks; b: header and part of its data. */
	size_t cut = 512 + 1024 + 512 + 3000;
	struct member om[] = {M("t.tar", t.data, cut), M("after.ko", c, 50)};
	struct blob outer = build(archive_write_set_format_ustar, NULL, om, 2);
	struct pvsub_input_limits l = limits();

	cr_assert_gt(t.len, cut);
	walk_mem("t.tar", t.data, cut, &l);
	cr_assert_eq(seen.n, 2);
	expect_file(0, "t.tar!a.ko", a, 1000);
	expect_error(1, "t.tar", NULL);

	seen_reset();
	walk_mem("outer.tar", outer.data, outer.len, &l);
	cr_assert_eq(seen.n, 3);
	expect_file(0, "outer.tar!t.tar!a.ko", a, 1000);
	expect_error(1, "outer.tar!t.tar", NULL);
	expect_file(2, "outer.tar!after.ko", c, 50);
	free(outer.data);
	free(t.data);
	free(a);
	free(b);
	free(c);
}

Test(input, truncated_compressed_stream)
{
	uint8_t *big = fake_elf(200000, 18);
	struct member m[] = {M("big.ko", big, 200000)};
	struct blob t = build(archive_write_set_format_ustar, archive_write_add_filter_xz, m, 1);
	struct pvsub_input_limits l = limits();

	walk_mem("t.tar.xz", t.data, t.len / 2, &l);
	cr_assert_eq(seen.n, 1);
	expect_error(0, "t.tar.xz", NULL);
	free(t.data);
	free(big);
}

Test(input, entry_over_the_size_limit)
{
	size_t big_size = 100 * 1024;
	uint8_t *zeros = calloc(1, big_size), *small = fake_elf(500, 19);
	struct member m[] = {M("big.ko", zeros, big_size), M("small.ko", small, 500)};
	struct blob tgz, zip, bomb;
	struct pvsub_input_limits l = limits();

	cr_assert_not_null(zeros);
	memcpy(zeros,
	       "\x7f"
	       "ELF",
	       4);
	tgz = build(archive_write_set_format_ustar, archive_write_add_filter_gzip, m, 2);
	zip = build(archive_write_set_format_zip, NULL, m, 2);
	bomb = compress(archive_write_add_filter_xz, zeros, big_size);
	cr_assert_lt(bomb.len, 1000, "the test needs a bomb: %zu bytes", bomb.len);
	l.max_entry_size = 1000;

	walk_mem("x.tar.gz", tgz.data, tgz.len, &l);
	walk_mem("x.zip", zip.data, zip.len, &l);
	walk_mem("bomb.ko.xz", bomb.data, bomb.len, &l);
	walk_mem("plain.ko", zeros, big_size, &l);
	cr_assert_eq(seen.n, 6);
	expect_error(0, "x.tar.gz!big.ko", "entry exceeds the size limit (1000 bytes)");
	expect_file(1, "x.tar.gz!small.ko", small, 500);
	expect_error(2, "x.zip!big.ko", "entry exceeds the size limit (1000 bytes)");
	expect_file(3, "x.zip!small.ko", small, 500);
	expect_error(4, "bomb.ko.xz", "entry exceeds the size limit (1000 bytes)");
	expect_error(5, "plain.ko", "entry exceeds the size limit (1000 bytes)");
	free(bomb.data);
	free(zip.data);
	free(tgz.data);
	free(zeros);
	free(small);
}

Test(input, total_over_the_limit_stops_that_input)
{
	uint8_t *e1 = fake_elf(2000, 20), *e2 = fake_elf(2000, 21), *e3 = fake_elf(2000, 22);
	struct member m[] = {M("1.ko", e1, 2000), M("2.ko", e2, 2000), M("3.ko", e3, 2000)};
	struct blob t =
		build(archive_write_set_format_cpio_newc, archive_write_add_filter_gzip, m, 3);
	struct pvsub_input_limits l = limits();

	l.max_total_size = 5000;
	walk_mem("t.cpio.gz", t.data, t.len, &l);
	cr_assert_eq(seen.n, 3);
	expect_file(0, "t.cpio.gz!1.ko", e1, 2000);
	expect_file(1, "t.cpio.gz!2.ko", e2, 2000);
	expect_error(2, "t.cpio.gz", "input exceeds the total size limit (5000 bytes)");

	/* The budget is per input: the next one starts afresh. */
	walk_mem("again.cpio.gz", t.data, t.len, &l);
	cr_assert_eq(seen.n, 6);
	expect_file(3, "again.cpio.gz!1.ko", e1, 2000);
	free(t.data);
	free(e1);
	free(e2);
	free(e3);
}

Test(input, callback_can_stop_the_walk)
{
	uint8_t *e1 = fake_elf(20, 23), *e2 = fake_elf(30, 24);
	struct member m[] = {M("1.ko", e1, 20), M("2.ko", e2, 30)};
	struct blob t = build(archive_write_set_format_pax, NULL, m, 2);
	struct pvsub_input_limits l = limits();

	seen.stop_after = 1;
	cr_assert_eq(pvsub_input_walk_memory(NULL, "t.tar", t.data, t.len, &l, collect, &seen),
		     -ECANCELED);
	cr_assert_eq(seen.n, 1);
	expect_file(0, "t.tar!1.ko", e1, 20);
	free(t.data);
	free(e1);
	free(e2);
}

/* Hostile input: every truncation and many single-byte corruptions of real
 * archives must give items or error items, never a crash (ASan watches). */
Test(input, truncations_and_corruptions_never_crash)
{
	uint8_t *e1 = fake_elf(100, 25), *e2 = fake_elf(200, 26), *e3 = fake_elf(300, 27);
	struct blob samples[4];
	struct member zm[] = {M("a.ko", e3, 300), M("b.ko", e2, 200)};
	struct pvsub_input_limits l = limits();

	samples[0] = nested(e1, e2, e3);
	samples[1] = build(archive_write_set_format_zip, NULL, zm, 2);
	samples[2] = build(archive_write_set_format_ar_svr4, NULL, zm, 2);
	samples[3] =
		build(archive_write_set_format_cpio_odc, archive_write_add_filter_bzip2, zm, 2);
	for (size_t s = 0; s < PVSUB_ARRAY_SIZE(samples); s++) {
		struct blob *b = &samples[s];
		uint8_t *copy = malloc(b->len);

		cr_assert_not_null(copy);
		for (size_t cut = 0; cut < b->len; cut += 1 + cut / 16) {
			seen_reset();
			memcpy(copy, b->data, cut);
			walk_mem("cut", copy, cut, &l);
		}
		for (size_t at = 0; at < b->len; at += 1 + at / 32) {
			seen_reset();
			memcpy(copy, b->data, b->len);
			copy[at] ^= 0x5a;
			walk_mem("flip", copy, b->len, &l);
		}
		free(copy);
		free(b->data);
	}
	free(e1);
	free(e2);
	free(e3);
}

/* --- files and directories ----------------------------------------------------------------- */

static void put(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static void walk_path(const char *path, const struct pvsub_input_limits *l)
{
	int r = pvsub_input_walk(NULL, path, l, collect, &seen);

	cr_assert_eq(r, 0, "walk of %s returned %d", path, r);
}

Test(input, directory_walk_is_sorted_and_skips_symlinks)
{
	char tmpl[] = "/tmp/pvsub-input-XXXXXX";
	char *dir = mkdtemp(tmpl);
	char path[1024], sub[512], want[1024];
	uint8_t *a = fake_elf(64, 30), *b = fake_elf(65, 31), *z = fake_elf(66, 32),
		*up = fake_elf(67, 33), *x = fake_elf(68, 34);
	struct member m[] = {M("x.ko", x, 68)};
	struct blob t = build(archive_write_set_format_ustar, archive_write_add_filter_zstd, m, 1);
	struct pvsub_input_limits l = limits();

	cr_assert_not_null(dir);
	put(dir, "b.ko", b, 65);
	put(dir, "a.o", a, 64);
	put(dir, "c.txt", text, sizeof(text));
	put(dir, "m.tar.zst", t.data, t.len);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	put(sub, "z.ko", z, 66);
	put(sub, "A.ko", up, 67);
	snprintf(path, sizeof(path), "%s/link.ko", dir);
	cr_assert_eq(symlink("a.o", path), 0);
	snprintf(path, sizeof(path), "%s/linkdir", dir);
	cr_assert_eq(symlink("sub", path), 0);

	walk_path(dir, &l);
	cr_assert_eq(seen.n, 5);
	snprintf(want, sizeof(want), "%s/a.o", dir);
	expect_file(0, want, a, 64);
	snprintf(want, sizeof(want), "%s/b.ko", dir);
	expect_file(1, want, b, 65);
	snprintf(want, sizeof(want), "%s/m.tar.zst!x.ko", dir);
	expect_file(2, want, x, 68);
	snprintf(want, sizeof(want), "%s/sub/A.ko", dir);
	expect_file(3, want, up, 67);
	snprintf(want, sizeof(want), "%s/sub/z.ko", dir);
	expect_file(4, want, z, 66);

	/* The top-level path is shown as given, trailing slash and all. */
	seen_reset();
	snprintf(path, sizeof(path), "%s/sub/", dir);
	walk_path(path, &l);
	cr_assert_eq(seen.n, 2);
	snprintf(want, sizeof(want), "%s/sub/A.ko", dir);
	expect_file(0, want, up, 67);

	/* A symbolic link named explicitly is followed. */
	seen_reset();
	snprintf(path, sizeof(path), "%s/link.ko", dir);
	walk_path(path, &l);
	cr_assert_eq(seen.n, 1);
	expect_file(0, path, a, 64);

	/* Unreadable files inside a directory are error items (root reads anything). */
	if (geteuid() != 0) {
		seen_reset();
		snprintf(path, sizeof(path), "%s/z.ko", sub);
		cr_assert_eq(chmod(path, 0), 0);
		walk_path(sub, &l);
		cr_assert_eq(seen.n, 2);
		expect_error(1, path, strerror(EACCES));
	}

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	cr_assert_eq(system(path), 0);
	free(t.data);
	free(a);
	free(b);
	free(z);
	free(up);
	free(x);
}

Test(input, files_on_disk)
{
	char tmpl[] = "/tmp/pvsub-input-XXXXXX";
	char *dir = mkdtemp(tmpl);
	char path[1024], want[1024];
	uint8_t *e = fake_elf(3000, 40);
	struct member m[] = {M("lib/x.ko", e, 3000)};
	struct blob t = build(archive_write_set_format_ustar, archive_write_add_filter_bzip2, m, 1);
	struct pvsub_input_limits l = limits();

	cr_assert_not_null(dir);
	put(dir, "x.ko", e, 3000);
	put(dir, "img.tar.bz2", t.data, t.len);
	put(dir, "notes.txt", text, sizeof(text));
	put(dir, "broken.tar.gz", corrupt_gz, sizeof(corrupt_gz));

	snprintf(path, sizeof(path), "%s/x.ko", dir);
	walk_path(path, &l);
	snprintf(path, sizeof(path), "%s/broken.tar.gz", dir);
	walk_path(path, &l);
	snprintf(path, sizeof(path), "%s/img.tar.bz2", dir);
	walk_path(path, &l);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	walk_path(path, &l);
	walk_path("/nonexistent/pvsub-missing.ko", &l);
	walk_path("/dev/null", &l);
	cr_assert_eq(seen.n, 6);
	snprintf(want, sizeof(want), "%s/x.ko", dir);
	expect_file(0, want, e, 3000);
	snprintf(want, sizeof(want), "%s/broken.tar.gz", dir);
	expect_error(1, want, NULL);
	snprintf(want, sizeof(want), "%s/img.tar.bz2!lib/x.ko", dir);
	expect_file(2, want, e, 3000);
	snprintf(want, sizeof(want), "%s/notes.txt", dir);
	expect_error(3, want, NOT_ELF);
	expect_error(4, "/nonexistent/pvsub-missing.ko", strerror(ENOENT));
	expect_error(5, "/dev/null", "not a regular file or directory");

	/* An ELF file on disk over the entry limit. */
	seen_reset();
	l.max_entry_size = 2999;
	snprintf(path, sizeof(path), "%s/x.ko", dir);
	walk_path(path, &l);
	cr_assert_eq(seen.n, 1);
	expect_error(0, path, "entry exceeds the size limit (2999 bytes)");

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	cr_assert_eq(system(path), 0);
	free(t.data);
	free(e);
}

/* Found by fuzz_input (issue 5): a newc cpio header whose name length says
 * 128 MiB in a 3 KiB input.  libarchive reserves a read-ahead buffer of
 * that size before it finds the data missing; the walk must end with one
 * error item for the input, not a crash or a hang. */
Test(input, cpio_name_length_past_the_end)
{
	struct pvsub_input_limits l = limits();
	char hdr[111];
	uint8_t buf[3072];

	/* magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	 * devminor, rdevmajor, rdevminor, namesize, check */
	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1u,
		 0100644u, 0u, 0u, 1u, 0u, 16u, 0u, 0u, 0u, 0u, 0x08000000u, 0u);
	memset(buf, 'A', sizeof(buf));
	memcpy(buf, hdr, 110);
	walk_mem("huge-name.cpio", buf, sizeof(buf), &l);
	cr_assert_eq(seen.n, 1);
	expect_error(0, "huge-name.cpio", NULL);
}

/* Feed @len bytes to a pipe from a child process and walk its read end. */
static void walk_pipe(const char *name, const void *buf, size_t len,
		      const struct pvsub_input_limits *l)
{
	int fds[2];
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		const uint8_t *p = buf;

		close(fds[0]);
		/* in small pieces, so the reader sees short reads */
		while (len) {
			ssize_t n = write(fds[1], p, len < 1000 ? len : 1000);

			if (n <= 0)
				_exit(1);
			p += n;
			len -= (size_t)n;
		}
		_exit(0);
	}
	close(fds[1]);
	cr_assert_eq(pvsub_input_walk_fd(NULL, fds[0], name, l, collect, &seen), 0);
	/* the descriptor stays the caller's */
	cr_assert_eq(fcntl(fds[0], F_GETFD) >= 0, true);
	close(fds[0]);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
}

Test(input, pipes_are_read_as_streams)
{
	uint8_t *e1 = fake_elf(70000, 30), *e2 = fake_elf(3000, 31);
	struct member m[] = {M("a/1.ko", e1, 70000), M("b/2.ko", e2, 3000)};
	struct blob txz =
		build(archive_write_set_format_pax_restricted, archive_write_add_filter_xz, m, 2);
	struct pvsub_input_limits l = limits();

	walk_pipe("-", e1, 70000, &l);
	walk_pipe("-", txz.data, txz.len, &l);
	walk_pipe("-", text, strlen(text), &l);
	walk_pipe("-", "", 0, &l);
	l.max_entry_size = 4000;
	walk_pipe("-", e1, 70000, &l);
	walk_pipe("-", txz.data, txz.len, &l);
	cr_assert_eq(seen.n, 8);
	expect_file(0, "-", e1, 70000);
	expect_file(1, "-!a/1.ko", e1, 70000);
	expect_file(2, "-!b/2.ko", e2, 3000);
	expect_error(3, "-", NOT_ELF);
	expect_error(4, "-", "empty input");
	expect_error(5, "-", "entry exceeds the size limit (4000 bytes)");
	expect_error(6, "-!a/1.ko", "entry exceeds the size limit (4000 bytes)");
	expect_file(7, "-!b/2.ko", e2, 3000);
	cr_assert_eq(seen.n, 8);
	free(txz.data);
	free(e1);
	free(e2);
}

Test(input, a_fifo_named_on_the_command_line)
{
	char dir[] = "/tmp/pvsub-fifo.XXXXXX", path[64];
	struct pvsub_input_limits l = limits();

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	/* no writer: read as empty, never a hang */
	cr_assert_eq(pvsub_input_walk(NULL, path, &l, collect, &seen), 0);
	cr_assert_eq(seen.n, 1);
	expect_error(0, path, "empty input");
	unlink(path);
	rmdir(dir);
}

static void expect_unscanned(size_t i, const char *path, const char *format)
{
	const struct pvsub_item *it;

	cr_assert_lt(i, seen.n, "item %zu (%s) missing, only %zu", i, path, seen.n);
	it = seen.items[i];
	cr_assert_str_eq(it->path, path);
	cr_assert_not_null(it->format, "%s: expected not scanned", path);
	cr_assert_str_eq(it->format, format);
}

/* A PE/COFF header whose e_lfanew is @lfanew, "PE\0\0" there when it fits. */
static size_t make_pe(uint8_t *buf, size_t size, uint32_t lfanew, uint16_t machine)
{
	memset(buf, 0, size);
	buf[0] = 'M';
	buf[1] = 'Z';
	memcpy(buf + 0x3c, &lfanew, 4);
	if ((size_t)lfanew + 6 <= size) {
		memcpy(buf + lfanew, "PE\0\0", 4);
		memcpy(buf + lfanew + 4, &machine, 2);
	}
	return size;
}

Test(input, executables_not_scanned_are_items_with_their_format)
{
	struct pvsub_input_limits l = limits();
	uint8_t pe[0x200], far[4096], macho[64] = {0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0, 0, 1};
	uint8_t fat[64] = {0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2};
	uint8_t elf32[64] = {0x7f, 'E', 'L', 'F', 1, 1, 1};

	elf32[18] = 3; /* EM_386 */
	walk_mem("shimx64.efi", pe, make_pe(pe, sizeof(pe), 0x80, 0x8664), &l);
	walk_mem("far.efi", far, make_pe(far, sizeof(far), 0xf00, 0xaa64), &l);
	walk_mem("tool", macho, sizeof(macho), &l);
	walk_mem("fat", fat, sizeof(fat), &l);
	walk_mem("i386.o", elf32, sizeof(elf32), &l);
	expect_unscanned(0, "shimx64.efi", "PE/COFF (x86-64)");
	expect_unscanned(1, "far.efi", "PE/COFF (AArch64)");
	expect_unscanned(2, "tool", "Mach-O 64-bit (ARM64)");
	expect_unscanned(3, "fat", "Mach-O universal");
	expect_unscanned(4, "i386.o", "ELF32 (x86)");
}

Test(input, lookalikes_are_not_executables)
{
	struct pvsub_input_limits l = limits();
	uint8_t pe[0x100], class[64] = {0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x34};

	/* e_lfanew past the end; a Java class file. */
	walk_mem("truncated.efi", pe, make_pe(pe, sizeof(pe), 0x1000, 0x8664), &l);
	walk_mem("Main.class", class, sizeof(class), &l);
	expect_error(0, "truncated.efi", "not an ELF file or a recognised archive");
	expect_error(1, "Main.class", "not an ELF file or a recognised archive");
}
