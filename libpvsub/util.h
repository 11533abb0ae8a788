/* SPDX-License-Identifier: MIT */
/*
 * util: annotations, error diagnostics and a growable byte buffer shared by
 * every libpvsub module.
 *
 * Error convention: functions return 0 or a negative errno and hand new
 * objects back through out-parameters.  Where a caller needs to tell a user
 * *what* was wrong with an input (one line, naming the problem), the function
 * also takes a `struct pvsub_diag *` (which may be NULL) and fills it.  The
 * library itself never prints.
 */
#ifndef PVSUB_UTIL_H
#define PVSUB_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define _must_check_ __attribute__((warn_unused_result))
#define _nonnull_(...) __attribute__((nonnull(__VA_ARGS__)))
#define _printf_format_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))
#define _export_ __attribute__((visibility("default")))

#define PVSUB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PVSUB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PVSUB_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Unsigned integers stored at @p in little- or big-endian byte order, read
 * byte by byte (no alignment needed, the same on any host). */
static inline uint16_t pvsub_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t pvsub_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t pvsub_le64(const uint8_t *p)
{
	return (uint64_t)pvsub_le32(p) | (uint64_t)pvsub_le32(p + 4) << 32;
}

static inline uint16_t pvsub_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t pvsub_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A one-line, human-readable explanation of the last failure. */
#define PVSUB_DIAG_MAX 512
struct pvsub_diag {
	char msg[PVSUB_DIAG_MAX];
};

/* Replace every control character of @s (below 0x20, and 0x7f) with '?',
 * in place: for text that must stay one line, such as names taken from a
 * hostile file. */
void pvsub_one_line(char *s) _nonnull_(1);

/* Quote @len bytes of untrusted text at @s for a one-line message into @out
 * (@outlen bytes, always NUL-terminated): printable ASCII as it is, any
 * other byte as \xNN, and at most 32 bytes, then "...", so that a hostile
 * input can neither spread a message over lines nor fill it with one token. */
void pvsub_quote(const char *s, size_t len, char *out, size_t outlen) _nonnull_(1, 3);

/* Format a message into @d (no-op when @d is NULL).  Always returns -@err
 * when @err is positive, or @err unchanged when it is already negative, so a
 * caller can write `return pvsub_diag_set(d, EINVAL, "bad thing %d", x);`. */
int pvsub_diag_set(struct pvsub_diag *d, int err, const char *fmt, ...) _printf_format_(3, 4);

/* Empty @d (no-op when NULL). */
void pvsub_diag_clear(struct pvsub_diag *d);

/*
 * A growable byte buffer.  Zero-initialise it (`struct pvsub_buf b = {0};`),
 * append, then either pvsub_buf_steal() the bytes or pvsub_buf_release().
 * The data is always NUL-terminated after a successful append so text can be
 * used as a C string.  Appends return 0 or -ENOMEM; after a failed append
 * the buffer keeps its previous content.
 */
struct pvsub_buf {
	char *data;
	size_t len;
	size_t cap;
};

int pvsub_buf_append(struct pvsub_buf *b, const void *data, size_t len) _must_check_;
int pvsub_buf_puts(struct pvsub_buf *b, const char *s) _must_check_;
int pvsub_buf_putc(struct pvsub_buf *b, char c) _must_check_;
int pvsub_buf_printf(struct pvsub_buf *b, const char *fmt, ...) _printf_format_(2, 3) _must_check_;
int pvsub_buf_vprintf(struct pvsub_buf *b, const char *fmt, va_list ap) _must_check_;
/* Reserve room for @extra more bytes (plus the terminating NUL).  -ENOMEM
 * when memory runs out or the buffer would pass PTRDIFF_MAX bytes; the
 * content is kept either way. */
int pvsub_buf_reserve(struct pvsub_buf *b, size_t extra) _must_check_;
void pvsub_buf_reset(struct pvsub_buf *b);   /* len = 0, keep memory */
void pvsub_buf_release(struct pvsub_buf *b); /* free memory, zero it */
/* Hand the bytes to the caller (free() them); the buffer becomes empty. */
char *pvsub_buf_steal(struct pvsub_buf *b, size_t *len);

/* Lower-case hex of @len bytes into @out, which must hold 2*len+1 chars. */
void pvsub_hex(const uint8_t *bytes, size_t len, char *out);

/* Append @s to @b as the body of a JSON string (no quotes), escaping as RFC
 * 8259 requires; invalid UTF-8 bytes become U+FFFD so output stays valid. */
int pvsub_buf_json_string(struct pvsub_buf *b, const char *s) _must_check_;

/* Append @s escaped for XML character data and attribute values. Bytes that
 * XML 1.0 cannot carry (control characters, invalid UTF-8) become U+FFFD. */
int pvsub_buf_xml_string(struct pvsub_buf *b, const char *s) _must_check_;

/*
 * Write @len bytes to @path atomically: a temporary file in the same
 * directory, fsync, then rename over @path.  On failure nothing is left
 * behind and @path is untouched.  @mode is used for a new file.
 */
int pvsub_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
			    struct pvsub_diag *diag) _must_check_;

/* Read a whole regular file into memory (at most @max bytes, else -EFBIG).
 * *@data is malloc'ed and NUL-terminated (not counted in *@len). */
int pvsub_read_file(const char *path, size_t max, uint8_t **data, size_t *len,
		    struct pvsub_diag *diag) _must_check_;

#endif
