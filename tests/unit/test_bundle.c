/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "libpvsub/bundle.h"

static uint8_t drv[] = "driver bytes";
static uint8_t man[] = "<manifest/>";
static uint8_t sig[] = {0x30, 0x00};
static uint8_t pem[] = "-----BEGIN CERTIFICATE-----\n";

static struct pvsub_bundle sample(void)
{
	struct pvsub_bundle b = {
		.driver_name = (char *)"drv.ko",
		.driver = {drv, sizeof(drv) - 1},
		.manifest = {man, sizeof(man) - 1},
		.signature = {sig, sizeof(sig)},
		.cert = {pem, sizeof(pem) - 1},
	};
	return b;
}

Test(bundle, driver_names)
{
	cr_assert(pvsub_bundle_driver_name_ok("e1000.ko"));
	cr_assert_not(pvsub_bundle_driver_name_ok(""));
	cr_assert_not(pvsub_bundle_driver_name_ok(".hidden"));
	cr_assert_not(pvsub_bundle_driver_name_ok(".."));
	cr_assert_not(pvsub_bundle_driver_name_ok("a/b"));
	cr_assert_not(pvsub_bundle_driver_name_ok("a b"));
	cr_assert_not(pvsub_bundle_driver_name_ok("a\x1b[31m"));
	cr_assert_not(pvsub_bundle_driver_name_ok(PVSUB_BUNDLE_MANIFEST));
	cr_assert_not(pvsub_bundle_driver_name_ok(PVSUB_BUNDLE_CERT));
}

Test(bundle, reproducible_round_trip)
{
	struct pvsub_bundle b = sample(), r = {0};
	struct pvsub_buf one = {0}, two = {0};
	struct pvsub_diag d = {{0}};

	cr_assert_eq(pvsub_bundle_write(&b, &one, &d), 0, "%s", d.msg);
	sleep(1);
	cr_assert_eq(pvsub_bundle_write(&b, &two, &d), 0, "%s", d.msg);
	cr_assert_eq(one.len, two.len);
	cr_assert_eq(memcmp(one.data, two.data, one.len), 0);
	cr_assert_eq(one.len % 512, 0);
	/* ustar magic, mtime field all zero digits, driver first */
	cr_assert_eq(memcmp(one.data + 257, "ustar", 5), 0);
	cr_assert_str_eq(one.data, "drv.ko");
	cr_assert_eq(strtol(one.data + 136, NULL, 8), 0);

	cr_assert_eq(pvsub_bundle_read((uint8_t *)one.data, one.len, 1 << 20, &r, &d), 0, "%s",
		     d.msg);
	cr_assert_str_eq(r.driver_name, "drv.ko");
	cr_assert_eq(r.driver.len, sizeof(drv) - 1);
	cr_assert_eq(memcmp(r.driver.data, drv, r.driver.len), 0);
	cr_assert_eq(r.manifest.len, sizeof(man) - 1);
	cr_assert_eq(r.signature.len, sizeof(sig));
	cr_assert_eq(memcmp(r.cert.data, pem, r.cert.len), 0);
	pvsub_bundle_release(&r);

	cr_assert_eq(pvsub_bundle_read((uint8_t *)one.data, one.len, 4, &r, &d), -EINVAL);
	cr_assert(strstr(d.msg, "too large"), "%s", d.msg);
	pvsub_bundle_release(&r);

	b.driver_name = (char *)"../x";
	cr_assert_eq(pvsub_bundle_write(&b, &two, &d), -EINVAL);
	pvsub_buf_release(&two);
	pvsub_buf_release(&one);
}

/* ---- hostile archives, made with libarchive ------------------------------- */

struct member {
	const char *name;
	mode_t type;
	const char *link; /* symlink or hardlink target */
	bool hardlink;
	bool sparse; /* written as a sparse file: bytes 0 and 3, a hole between */
};

static la_ssize_t append(struct archive *a, void *ctx, const void *data, size_t len)
{
	cr_assert_eq(pvsub_buf_append(ctx, data, len), 0);
	return (la_ssize_t)len;
}

static void craft(const struct member *ms, size_t n, struct pvsub_buf *out)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	cr_assert(a && e);
	cr_assert_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	cr_assert_eq(archive_write_open(a, out, NULL, append, NULL), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		bool data = ms[i].type == AE_IFREG && !ms[i].link;

		archive_entry_clear(e);
		archive_entry_set_pathname(e, ms[i].name);
		archive_entry_set_filetype(e, ms[i].type);
		archive_entry_set_perm(e, 0644);
		if (ms[i].link && ms[i].hardlink)
			archive_entry_set_hardlink(e, ms[i].link);
		else if (ms[i].link)
			archive_entry_set_symlink(e, ms[i].link);
		if (ms[i].type == AE_IFCHR)
			archive_entry_set_rdev(e, 0x0103);
		archive_entry_set_size(e, data ? 4 : 0);
		if (ms[i].sparse) {
			archive_entry_sparse_add_entry(e, 0, 1);
			archive_entry_sparse_add_entry(e, 3, 1);
		}
		cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK, "%s", archive_error_string(a));
		if (data)
			cr_assert_eq(archive_write_data(a, "data", 4), 4);
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_entry_free(e);
	archive_write_free(a);
}

#define GOOD_THREE                                                                                 \
	{PVSUB_BUNDLE_MANIFEST, AE_IFREG, NULL, false},                                            \
		{PVSUB_BUNDLE_SIGNATURE, AE_IFREG, NULL, false},                                   \
	{                                                                                          \
		PVSUB_BUNDLE_CERT, AE_IFREG, NULL, false                                           \
	}

static void expect_refused(const struct member *ms, size_t n, const char *why)
{
	struct pvsub_buf buf = {0};
	struct pvsub_bundle b;
	struct pvsub_diag d = {{0}};

	craft(ms, n, &buf);
	cr_assert_eq(pvsub_bundle_read((uint8_t *)buf.data, buf.len, 1 << 20, &b, &d), -EINVAL,
		     "accepted, expected: %s", why);
	cr_assert(strstr(d.msg, why), "'%s' lacks '%s'", d.msg, why);
	pvsub_bundle_release(&b);
	/* the loader's reader refuses the same */
	cr_assert_eq(pvsub_bundle_read_in_place((uint8_t *)buf.data, buf.len, 1 << 20, &b, &d),
		     -EINVAL, "accepted in place, expected: %s", why);
	cr_assert(strstr(d.msg, why), "'%s' lacks '%s'", d.msg, why);
	pvsub_bundle_release(&b);
	pvsub_buf_release(&buf);
}

Test(bundle, hostile_archives_refused)
{
	const struct member good[] = {{"drv.ko", AE_IFREG, NULL, false}, GOOD_THREE};
	const struct member abs[] = {{"/etc/drv.ko", AE_IFREG, NULL, false}, GOOD_THREE};
	const struct member dotdot[] = {{"../drv.ko", AE_IFREG, NULL, false}, GOOD_THREE};
	const struct member deep[] = {{"x/../../drv.ko", AE_IFREG, NULL, false}, GOOD_THREE};
	const struct member sub[] = {{"sub/drv.ko", AE_IFREG, NULL, false}, GOOD_THREE};
	const struct member sym[] = {{"drv.ko", AE_IFLNK, "/etc/passwd", false}, GOOD_THREE};
	const struct member hard[] = {GOOD_THREE, {"drv.ko", AE_IFREG, "signer.pem", true}};
	const struct member dev[] = {{"drv.ko", AE_IFCHR, NULL, false}, GOOD_THREE};
	const struct member dir[] = {{"drv.ko", AE_IFDIR, NULL, false}, GOOD_THREE};
	const struct member extra[] = {
		{"drv.ko", AE_IFREG, NULL, false}, GOOD_THREE, {"other.ko", AE_IFREG, NULL, false}};
	const struct member dup[] = {{"drv.ko", AE_IFREG, NULL, false},
				     GOOD_THREE,
				     {PVSUB_BUNDLE_MANIFEST, AE_IFREG, NULL, false}};
	const struct member missing[] = {GOOD_THREE};
	const struct member sparse[] = {{"drv.ko", AE_IFREG, NULL, false, true}, GOOD_THREE};
	struct pvsub_buf buf = {0};
	struct pvsub_bundle b;
	struct pvsub_diag d = {{0}};

	craft(good, PVSUB_ARRAY_SIZE(good), &buf);
	cr_assert_eq(pvsub_bundle_read((uint8_t *)buf.data, buf.len, 1 << 20, &b, &d), 0, "%s",
		     d.msg);
	pvsub_bundle_release(&b);
	pvsub_buf_release(&buf);

	expect_refused(abs, PVSUB_ARRAY_SIZE(abs), "absolute path");
	expect_refused(dotdot, PVSUB_ARRAY_SIZE(dotdot), "path with ..");
	expect_refused(deep, PVSUB_ARRAY_SIZE(deep), "path with ..");
	expect_refused(sub, PVSUB_ARRAY_SIZE(sub), "unexpected member");
	expect_refused(sym, PVSUB_ARRAY_SIZE(sym), "link");
	expect_refused(hard, PVSUB_ARRAY_SIZE(hard), "link");
	expect_refused(dev, PVSUB_ARRAY_SIZE(dev), "device");
	expect_refused(dir, PVSUB_ARRAY_SIZE(dir), "directory");
	expect_refused(extra, PVSUB_ARRAY_SIZE(extra), "unexpected member");
	expect_refused(dup, PVSUB_ARRAY_SIZE(dup), "duplicate member");
	expect_refused(missing, PVSUB_ARRAY_SIZE(missing), "missing the driver");
	expect_refused(sparse, PVSUB_ARRAY_SIZE(sparse), "sparse file");
}

Test(bundle, garbage_and_truncation)
{
	struct pvsub_bundle b0 = sample(), b;
	struct pvsub_buf buf = {0};
	struct pvsub_diag d = {{0}};

	cr_assert_eq(pvsub_bundle_read((const uint8_t *)"not a tar", 9, 1 << 20, &b, &d), -EINVAL);
	pvsub_bundle_release(&b);
	cr_assert_eq(pvsub_bundle_read(NULL, 0, 1 << 20, &b, &d), -EINVAL);
	pvsub_bundle_release(&b);
	cr_assert_eq(pvsub_bundle_write(&b0, &buf, &d), 0);
	for (size_t n = 0; n < buf.len; n += 97) {
		int r = pvsub_bundle_read((uint8_t *)buf.data, n, 1 << 20, &b, &d);

		/* cut inside the last member's zero padding still has all four */
		cr_assert(r == -EINVAL || n > 4 * 1024, "cut at %zu accepted", n);
		pvsub_bundle_release(&b);
	}
	pvsub_buf_release(&buf);
}

Test(bundle, extract)
{
	struct pvsub_bundle b = sample();
	char dir[] = "/tmp/pvsub-unbundle.XXXXXX", path[256];
	struct pvsub_diag d = {{0}};
	struct stat st;

	cr_assert(mkdtemp(dir));
	cr_assert_eq(pvsub_bundle_extract(&b, dir, &d), 0, "%s", d.msg);
	snprintf(path, sizeof(path), "%s/drv.ko", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, (off_t)(sizeof(drv) - 1));
	cr_assert_eq(st.st_mode & 0777, 0644);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, PVSUB_BUNDLE_MANIFEST);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, PVSUB_BUNDLE_SIGNATURE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, PVSUB_BUNDLE_CERT);
	unlink(path);
	cr_assert_eq(rmdir(dir), 0, "extract left something else behind");

	/* a failure removes what was written */
	cr_assert_neq(pvsub_bundle_extract(&b, "/nonexistent-dir", &d), 0);
}

Test(bundle, only_the_driver_may_be_large)
{
	size_t big = PVSUB_BUNDLE_META_MAX + 1;
	uint8_t *huge = calloc(1, big);
	struct pvsub_bundle b = sample(), r = {0};
	struct pvsub_buf out = {0};
	struct pvsub_diag d = {{0}};

	cr_assert_not_null(huge);
	/* A driver past the metadata cap reads; a manifest of that size does not. */
	b.driver = (struct pvsub_bundle_member){huge, big};
	cr_assert_eq(pvsub_bundle_write(&b, &out, &d), 0, "%s", d.msg);
	cr_assert_eq(pvsub_bundle_read((uint8_t *)out.data, out.len, 1u << 30, &r, &d), 0, "%s",
		     d.msg);
	cr_assert_eq(r.driver.len, big);
	pvsub_bundle_release(&r);
	pvsub_buf_release(&out);

	b = sample();
	b.manifest = (struct pvsub_bundle_member){huge, big};
	cr_assert_eq(pvsub_bundle_write(&b, &out, &d), 0, "%s", d.msg);
	cr_assert_eq(pvsub_bundle_read((uint8_t *)out.data, out.len, 1u << 30, &r, &d), -EINVAL);
	cr_assert(strstr(d.msg, "too large"), "%s", d.msg);
	pvsub_bundle_release(&r);
	pvsub_buf_release(&out);
	free(huge);
}

/* ---- the driver read in place --------------------------------------------- */

/* sample() as a gzip-compressed ustar archive. */
static void write_gzip(struct pvsub_buf *out)
{
	const struct pvsub_bundle b = sample();
	const struct {
		const char *name;
		const struct pvsub_bundle_member *m;
	} ms[] = {{b.driver_name, &b.driver},
		  {PVSUB_BUNDLE_MANIFEST, &b.manifest},
		  {PVSUB_BUNDLE_SIGNATURE, &b.signature},
		  {PVSUB_BUNDLE_CERT, &b.cert}};
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	cr_assert(a && e);
	cr_assert_eq(archive_write_set_format_ustar(a), ARCHIVE_OK);
	cr_assert_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	cr_assert_eq(archive_write_open(a, out, NULL, append, NULL), ARCHIVE_OK);
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(ms); i++) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, ms[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)ms[i].m->len);
		cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
		cr_assert_eq(archive_write_data(a, ms[i].m->data, ms[i].m->len),
			     (la_ssize_t)ms[i].m->len);
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_entry_free(e);
	archive_write_free(a);
}

static bool inside(const struct pvsub_buf *buf, const struct pvsub_bundle_member *m)
{
	const uint8_t *lo = (const uint8_t *)buf->data;

	return m->data >= lo && m->data + m->len <= lo + buf->len;
}

/* An uncompressed bundle's driver is borrowed from the input (releasing
 * the bundle frees nothing inside it: glibc would abort on that free); a
 * gzip bundle's is a copy; the other members are always copies, and
 * every member reads the same bytes either way. */
Test(bundle, driver_read_in_place)
{
	struct pvsub_bundle b = sample(), r = {0};
	struct pvsub_buf plain = {0}, gz = {0};
	struct pvsub_diag d = {{0}};

	cr_assert_eq(pvsub_bundle_write(&b, &plain, &d), 0, "%s", d.msg);
	cr_assert_eq(pvsub_bundle_read_in_place((uint8_t *)plain.data, plain.len, 1 << 20, &r, &d),
		     0, "%s", d.msg);
	cr_assert(r.driver.borrowed);
	cr_assert(inside(&plain, &r.driver));
	cr_assert_eq(r.driver.len, sizeof(drv) - 1);
	cr_assert_eq(memcmp(r.driver.data, drv, r.driver.len), 0);
	cr_assert_not(r.manifest.borrowed || r.signature.borrowed || r.cert.borrowed);
	cr_assert_not(inside(&plain, &r.manifest));
	cr_assert_eq(memcmp(r.cert.data, pem, r.cert.len), 0);
	pvsub_bundle_release(&r);

	/* the control: the copying reader copies the same bundle's driver */
	cr_assert_eq(pvsub_bundle_read((uint8_t *)plain.data, plain.len, 1 << 20, &r, &d), 0);
	cr_assert_not(r.driver.borrowed);
	cr_assert_not(inside(&plain, &r.driver));
	pvsub_bundle_release(&r);

	write_gzip(&gz);
	cr_assert_eq(memcmp(gz.data, "\x1f\x8b", 2), 0);
	cr_assert_eq(pvsub_bundle_read_in_place((uint8_t *)gz.data, gz.len, 1 << 20, &r, &d), 0,
		     "%s", d.msg);
	cr_assert_not(r.driver.borrowed);
	cr_assert_eq(r.driver.len, sizeof(drv) - 1);
	cr_assert_eq(memcmp(r.driver.data, drv, r.driver.len), 0);
	cr_assert_eq(memcmp(r.manifest.data, man, r.manifest.len), 0);
	pvsub_bundle_release(&r);

	/* limits and truncation as for the copying reader */
	cr_assert_eq(pvsub_bundle_read_in_place((uint8_t *)plain.data, plain.len, 4, &r, &d),
		     -EINVAL);
	cr_assert(strstr(d.msg, "too large"), "%s", d.msg);
	pvsub_bundle_release(&r);
	for (size_t n = 0; n < plain.len; n += 97) {
		int e = pvsub_bundle_read_in_place((uint8_t *)plain.data, n, 1 << 20, &r, &d);

		cr_assert(e == -EINVAL || n > 4 * 1024, "cut at %zu accepted", n);
		if (e == 0)
			cr_assert(inside(&plain, &r.driver) || !r.driver.borrowed);
		pvsub_bundle_release(&r);
	}
	/* cut inside the driver's data */
	cr_assert_eq(pvsub_bundle_read_in_place((uint8_t *)plain.data, 512 + 4, 1 << 20, &r, &d),
		     -EINVAL);
	cr_assert(strstr(d.msg, "drv.ko"), "%s", d.msg);
	pvsub_bundle_release(&r);
	pvsub_buf_release(&gz);
	pvsub_buf_release(&plain);
}
