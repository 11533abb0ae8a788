/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libpvsub/util.h"

void pvsub_one_line(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

void pvsub_quote(const char *s, size_t len, char *out, size_t outlen)
{
	const size_t max_shown = 32;
	size_t o = 0;

	for (size_t i = 0; i < len && i < max_shown && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	if (len > max_shown && o + 4 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

int pvsub_diag_set(struct pvsub_diag *d, int err, const char *fmt, ...)
{
	va_list ap;

	if (d) {
		va_start(ap, fmt);
		vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
		va_end(ap);
		/* Names from hostile files end up in messages: keep them one line. */
		pvsub_one_line(d->msg);
	}
	return err > 0 ? -err : err;
}

void pvsub_diag_clear(struct pvsub_diag *d)
{
	if (d)
		d->msg[0] = '\0';
}

int pvsub_buf_reserve(struct pvsub_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	/* No object may be larger than PTRDIFF_MAX: refuse before asking
	 * malloc, which would refuse too (and a sanitizer's would abort). */
	if (b->len >= PTRDIFF_MAX || extra > (size_t)PTRDIFF_MAX - b->len - 1)
		return -ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > (size_t)PTRDIFF_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int pvsub_buf_append(struct pvsub_buf *b, const void *data, size_t len)
{
	int r = pvsub_buf_reserve(b, len);

	if (r < 0)
		return r;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int pvsub_buf_puts(struct pvsub_buf *b, const char *s)
{
	return pvsub_buf_append(b, s, strlen(s));
}

int pvsub_buf_putc(struct pvsub_buf *b, char c)
{
	return pvsub_buf_append(b, &c, 1);
}

int pvsub_buf_vprintf(struct pvsub_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, r;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -EINVAL;
	r = pvsub_buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int pvsub_buf_printf(struct pvsub_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = pvsub_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void pvsub_buf_reset(struct pvsub_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void pvsub_buf_release(struct pvsub_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *pvsub_buf_steal(struct pvsub_buf *b, size_t *len)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void pvsub_hex(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

/* Length of the valid UTF-8 sequence at @s (1..4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

#define REPLACEMENT_CHAR "\xef\xbf\xbd"

/*
 * Append @s to @b as valid UTF-8: each invalid byte becomes U+FFFD, each
 * valid multi-byte sequence is copied, and each ASCII byte is appended as
 * @escape_ascii(@b, byte) writes it.
 */
static int buf_utf8_string(struct pvsub_buf *b, const char *s,
			   int (*escape_ascii)(struct pvsub_buf *, unsigned char))
{
	const unsigned char *p = (const unsigned char *)s;
	int r = 0;

	while (*p && r == 0) {
		size_t n = utf8_seq_len(p);

		if (n == 0) {
			r = pvsub_buf_puts(b, REPLACEMENT_CHAR);
			n = 1;
		} else if (n > 1) {
			r = pvsub_buf_append(b, p, n);
		} else {
			r = escape_ascii(b, *p);
		}
		p += n;
	}
	return r;
}

static int json_ascii(struct pvsub_buf *b, unsigned char c)
{
	switch (c) {
	case '"':
		return pvsub_buf_puts(b, "\\\"");
	case '\\':
		return pvsub_buf_puts(b, "\\\\");
	case '\n':
		return pvsub_buf_puts(b, "\\n");
	case '\r':
		return pvsub_buf_puts(b, "\\r");
	case '\t':
		return pvsub_buf_puts(b, "\\t");
	}
	if (c < 0x20 || c == 0x7f)
		return pvsub_buf_printf(b, "\\u%04x", c);
	return pvsub_buf_putc(b, (char)c);
}

int pvsub_buf_json_string(struct pvsub_buf *b, const char *s)
{
	return buf_utf8_string(b, s, json_ascii);
}

/* XML 1.0 has no way to write the other control characters at all. */
static int xml_ascii(struct pvsub_buf *b, unsigned char c)
{
	switch (c) {
	case '<':
		return pvsub_buf_puts(b, "&lt;");
	case '>':
		return pvsub_buf_puts(b, "&gt;");
	case '&':
		return pvsub_buf_puts(b, "&amp;");
	case '"':
		return pvsub_buf_puts(b, "&quot;");
	case '\'':
		return pvsub_buf_puts(b, "&apos;");
	case '\t':
		return pvsub_buf_puts(b, "&#9;");
	case '\n':
		return pvsub_buf_puts(b, "&#10;");
	case '\r':
		return pvsub_buf_puts(b, "&#13;");
	}
	if (c < 0x20 || c == 0x7f)
		return pvsub_buf_puts(b, REPLACEMENT_CHAR);
	return pvsub_buf_putc(b, (char)c);
}

int pvsub_buf_xml_string(struct pvsub_buf *b, const char *s)
{
	return buf_utf8_string(b, s, xml_ascii);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pvsub_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
			    struct pvsub_diag *diag)
{
	char *dircopy = NULL, *tmp = NULL;
	int fd = -1, r;

	dircopy = strdup(path);
	if (!dircopy) {
		r = -ENOMEM;
		goto out;
	}
	const char *dir = dirname(dircopy);
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, "pvsub-tmp") < 0) {
		tmp = NULL;
		r = -ENOMEM;
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			r = pvsub_diag_set(diag, e, "directory %s does not exist", dir);
		else if (e == ENOTDIR)
			r = pvsub_diag_set(diag, e, "%s is not a directory", dir);
		else
			r = pvsub_diag_set(diag, e, "cannot create a temporary file in %s: %s", dir,
					   strerror(e));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	r = write_all(fd, data, len);
	if (r == 0 && fchmod(fd, mode & 07777) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	fd = -1;
	if (r < 0) {
		pvsub_diag_set(diag, r, "cannot write: %s", strerror(-r));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		r = pvsub_diag_set(diag, errno, "cannot rename into place: %s", strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(dircopy);
	return r;
}

int pvsub_read_file(const char *path, size_t max, uint8_t **data, size_t *len,
		    struct pvsub_diag *diag)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pvsub_diag_set(diag, errno, "%s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = pvsub_diag_set(diag, errno, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = pvsub_diag_set(diag, EINVAL, "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = pvsub_diag_set(diag, EFBIG, "file too large (%lld bytes, limit %zu)",
				   (long long)st.st_size, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = pvsub_diag_set(diag, errno, "read error: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return r;
}
