/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "libpvsub/bundle.h"
#include "libpvsub/modsig.h"

bool pvsub_bundle_driver_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > PVSUB_BUNDLE_NAME_MAX || name[0] == '.')
		return false;
	if (strcmp(name, PVSUB_BUNDLE_MANIFEST) == 0 || strcmp(name, PVSUB_BUNDLE_SIGNATURE) == 0 ||
	    strcmp(name, PVSUB_BUNDLE_CERT) == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		/* printable ASCII only: no separators, no terminal escapes */
		if (c == '/' || c == '\\' || c < 0x21 || c > 0x7e)
			return false;
	}
	return true;
}

int pvsub_bundle_check_driver(const uint8_t *data, size_t len, struct pvsub_diag *diag)
{
	return pvsub_modsig_check_object(
		data, len, PVSUB_OBJECT_REL | PVSUB_OBJECT_DYN | PVSUB_OBJECT_EXEC, diag);
}

/* ---- writing ---------------------------------------------------------------- */

static la_ssize_t buf_write(struct archive *a, void *ctx, const void *data, size_t len)
{
	if (pvsub_buf_append(ctx, data, len) < 0) {
		archive_set_error(a, ENOMEM, "out of memory");
		return -1;
	}
	return (la_ssize_t)len;
}

static int write_member(struct archive *a, struct archive_entry *e, const char *name,
			const struct pvsub_bundle_member *m)
{
	archive_entry_clear(e);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)m->len);
	archive_entry_set_mtime(e, 0, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		return -EIO;
	if (m->len && archive_write_data(a, m->data, m->len) != (la_ssize_t)m->len)
		return -EIO;
	return 0;
}

int pvsub_bundle_write(const struct pvsub_bundle *b, struct pvsub_buf *out, struct pvsub_diag *diag)
{
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	size_t start = out->len;
	int r = 0;

	if (!b->driver_name || !pvsub_bundle_driver_name_ok(b->driver_name))
		return pvsub_diag_set(diag, EINVAL, "driver name '%s' cannot be a bundle member",
				      b->driver_name ? b->driver_name : "");
	a = archive_write_new();
	e = archive_entry_new();
	if (!a || !e) {
		r = -ENOMEM;
		goto out;
	}
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_open(a, out, NULL, buf_write, NULL) != ARCHIVE_OK) {
		r = -EIO;
		goto out;
	}
	if ((r = write_member(a, e, b->driver_name, &b->driver)) < 0 ||
	    (r = write_member(a, e, PVSUB_BUNDLE_MANIFEST, &b->manifest)) < 0 ||
	    (r = write_member(a, e, PVSUB_BUNDLE_SIGNATURE, &b->signature)) < 0 ||
	    (r = write_member(a, e, PVSUB_BUNDLE_CERT, &b->cert)) < 0)
		goto out;
	if (archive_write_close(a) != ARCHIVE_OK)
		r = -EIO;
out:
	if (r == -EIO)
		pvsub_diag_set(diag, EIO, "cannot write the bundle: %s",
			       a && archive_error_string(a) ? archive_error_string(a) : "unknown");
	if (r < 0) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	archive_entry_free(e);
	archive_write_free(a);
	return r;
}

/* ---- reading ---------------------------------------------------------------- */

void pvsub_bundle_release(struct pvsub_bundle *b)
{
	if (!b)
		return;
	free(b->driver_name);
	if (!b->driver.borrowed)
		free(b->driver.data);
	free(b->manifest.data);
	free(b->signature.data);
	free(b->cert.data);
	memset(b, 0, sizeof(*b));
}

static const char *type_name(mode_t type)
{
	switch (type) {
	case AE_IFDIR:
		return "a directory";
	case AE_IFLNK:
		return "a symbolic link";
	case AE_IFCHR:
	case AE_IFBLK:
		return "a device";
	case AE_IFIFO:
		return "a FIFO";
	case AE_IFSOCK:
		return "a socket";
	}
	return "not a regular file";
}

/* Where a member of this name goes, or NULL (with the reason) if none. */
static struct pvsub_bundle_member *slot_for(struct pvsub_bundle *b, const char *name,
					    const char **why)
{
	struct pvsub_bundle_member *m = NULL;

	if (name[0] == '/') {
		*why = "absolute path";
		return NULL;
	}
	if (strcmp(name, "..") == 0 || strncmp(name, "../", 3) == 0 || strstr(name, "/../") ||
	    (strlen(name) >= 3 && strcmp(name + strlen(name) - 3, "/..") == 0)) {
		*why = "path with ..";
		return NULL;
	}
	if (strcmp(name, PVSUB_BUNDLE_MANIFEST) == 0)
		m = &b->manifest;
	else if (strcmp(name, PVSUB_BUNDLE_SIGNATURE) == 0)
		m = &b->signature;
	else if (strcmp(name, PVSUB_BUNDLE_CERT) == 0)
		m = &b->cert;
	else if (pvsub_bundle_driver_name_ok(name))
		m = b->driver_name ? NULL : &b->driver;
	if (!m) {
		*why = "unexpected member";
		return NULL;
	}
	if (m->data) {
		*why = "duplicate member";
		return NULL;
	}
	return m;
}

/* @size, the member's size, checked against @max. */
static int member_size(struct archive_entry *e, size_t max, size_t *size, struct pvsub_diag *diag)
{
	la_int64_t n = archive_entry_size(e);

	if (!archive_entry_size_is_set(e) || n < 0 || (uint64_t)n > max)
		return pvsub_diag_set(diag, EINVAL, "%s: member too large",
				      archive_entry_pathname(e));
	*size = (size_t)n;
	return 0;
}

static int truncated(struct archive *a, struct archive_entry *e, la_ssize_t got,
		     struct pvsub_diag *diag)
{
	return pvsub_diag_set(diag, EINVAL, "%s: truncated member: %s", archive_entry_pathname(e),
			      got >= 0			? "short read"
			      : archive_error_string(a) ? archive_error_string(a)
							: "read error");
}

static int read_member(struct archive *a, struct archive_entry *e, size_t max,
		       struct pvsub_bundle_member *m, struct pvsub_diag *diag)
{
	la_ssize_t got;
	size_t size;
	int r = member_size(e, max, &size, diag);

	if (r < 0)
		return r;
	m->data = malloc(size + 1);
	if (!m->data)
		return -ENOMEM;
	got = size ? archive_read_data(a, m->data, size) : 0;
	if (got < 0 || (size_t)got != size)
		return truncated(a, e, got, diag);
	m->len = size;
	return 0;
}

/*
 * Read the member in place when libarchive hands it back as one block
 * inside the @len bytes at @in (it does for an uncompressed archive in
 * memory); else copy the blocks it hands back, each at its offset and
 * inside the member (no member is sparse: read_bundle() refuses those).
 */
static int read_member_in_place(struct archive *a, struct archive_entry *e, size_t max,
				const uint8_t *in, size_t len, struct pvsub_bundle_member *m,
				struct pvsub_diag *diag)
{
	const void *block;
	size_t size, n;
	la_int64_t off;
	int r = member_size(e, max, &size, diag), st;

	if (r < 0)
		return r;
	if (size == 0)
		return read_member(a, e, max, m, diag);
	st = archive_read_data_block(a, &block, &n, &off);
	if (st == ARCHIVE_OK && off == 0 && n == size && (const uint8_t *)block >= in && n <= len &&
	    (const uint8_t *)block - in <= (ptrdiff_t)(len - n)) {
		m->data = (uint8_t *)(uintptr_t)block;
		m->len = size;
		m->borrowed = true;
		return 0;
	}
	m->data = calloc(1, size + 1);
	if (!m->data)
		return -ENOMEM;
	for (; st == ARCHIVE_OK; st = archive_read_data_block(a, &block, &n, &off)) {
		if (off < 0 || (uint64_t)off > size || n > size - (size_t)off)
			return pvsub_diag_set(diag, EINVAL, "%s: data outside the member",
					      archive_entry_pathname(e));
		memcpy(m->data + off, block, n);
	}
	if (st != ARCHIVE_EOF)
		return truncated(a, e, -1, diag);
	m->len = size;
	return 0;
}

static int read_bundle(const uint8_t *data, size_t len, size_t max_member, bool in_place,
		       struct pvsub_bundle *out, struct pvsub_diag *diag)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	int r = 0, st;

	memset(out, 0, sizeof(*out));
	a = archive_read_new();
	if (!a)
		return -ENOMEM;
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_open_memory(a, data ? data : (const uint8_t *)"", len) != ARCHIVE_OK) {
		r = pvsub_diag_set(diag, EINVAL, "not a bundle: %s",
				   archive_error_string(a) ? archive_error_string(a) : "unknown");
		goto out;
	}
	while ((st = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e), *why = NULL;
		struct pvsub_bundle_member *m;

		if (!name || !*name) {
			r = pvsub_diag_set(diag, EINVAL, "member without a name");
			goto out;
		}
		if (archive_entry_hardlink(e) || archive_entry_symlink(e)) {
			r = pvsub_diag_set(diag, EINVAL, "%s: refusing a link", name);
			goto out;
		}
		if (archive_entry_filetype(e) != AE_IFREG) {
			r = pvsub_diag_set(diag, EINVAL, "%s: refusing %s", name,
					   type_name(archive_entry_filetype(e)));
			goto out;
		}
		/* pvsub_bundle_write() writes none, and how a reader fills one's
		 * holes and overlapping blocks is the reader's choice: refused,
		 * so that every reader sees the same bytes. */
		if (archive_entry_sparse_count(e) != 0) {
			r = pvsub_diag_set(diag, EINVAL, "%s: refusing a sparse file", name);
			goto out;
		}
		m = slot_for(out, name, &why);
		if (!m) {
			r = pvsub_diag_set(diag, EINVAL, "%s: refusing: %s", name, why);
			goto out;
		}
		if (m == &out->driver) {
			out->driver_name = strdup(name);
			if (!out->driver_name) {
				r = -ENOMEM;
				goto out;
			}
		}
		/* Only the driver may be large: the metadata members are capped
		 * so that a small compressed bundle cannot claim gigabytes for
		 * each of them. */
		if (m == &out->driver && in_place)
			r = read_member_in_place(a, e, max_member, data, len, m, diag);
		else
			r = read_member(
				a, e,
				m == &out->driver
					? max_member
					: PVSUB_MIN(max_member, (size_t)PVSUB_BUNDLE_META_MAX),
				m, diag);
		if (r < 0)
			goto out;
	}
	if (st != ARCHIVE_EOF) {
		r = pvsub_diag_set(diag, EINVAL, "not a valid bundle: %s",
				   archive_error_string(a) ? archive_error_string(a)
							   : "bad header");
		goto out;
	}
	if (!out->driver_name || !out->manifest.data || !out->signature.data || !out->cert.data)
		r = pvsub_diag_set(diag, EINVAL, "incomplete bundle: missing %s",
				   !out->driver_name	  ? "the driver"
				   : !out->manifest.data  ? PVSUB_BUNDLE_MANIFEST
				   : !out->signature.data ? PVSUB_BUNDLE_SIGNATURE
							  : PVSUB_BUNDLE_CERT);
out:
	archive_read_free(a);
	return r;
}

int pvsub_bundle_read(const uint8_t *data, size_t len, size_t max_member, struct pvsub_bundle *out,
		      struct pvsub_diag *diag)
{
	return read_bundle(data, len, max_member, false, out, diag);
}

int pvsub_bundle_read_in_place(const uint8_t *data, size_t len, size_t max_member,
			       struct pvsub_bundle *out, struct pvsub_diag *diag)
{
	return read_bundle(data, len, max_member, true, out, diag);
}

int pvsub_bundle_extract(const struct pvsub_bundle *b, const char *dir, struct pvsub_diag *diag)
{
	const struct {
		const char *name;
		const struct pvsub_bundle_member *m;
	} files[] = {
		{b->driver_name, &b->driver},
		{PVSUB_BUNDLE_MANIFEST, &b->manifest},
		{PVSUB_BUNDLE_SIGNATURE, &b->signature},
		{PVSUB_BUNDLE_CERT, &b->cert},
	};
	char *paths[PVSUB_ARRAY_SIZE(files)] = {0};
	size_t done = 0;
	int r = 0;

	if (!b->driver_name || !pvsub_bundle_driver_name_ok(b->driver_name))
		return pvsub_diag_set(diag, EINVAL, "bad driver member name");
	for (; done < PVSUB_ARRAY_SIZE(files); done++) {
		if (asprintf(&paths[done], "%s/%s", dir, files[done].name) < 0) {
			paths[done] = NULL;
			r = -ENOMEM;
			break;
		}
		r = pvsub_write_file_atomic(paths[done], files[done].m->data, files[done].m->len,
					    0644, diag);
		if (r < 0) {
			free(paths[done]);
			paths[done] = NULL;
			break;
		}
	}
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(files); i++) {
		if (r < 0 && paths[i])
			unlink(paths[i]);
		free(paths[i]);
	}
	return r;
}
