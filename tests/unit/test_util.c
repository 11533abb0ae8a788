/* SPDX-License-Identifier: MIT */
/*
 * util: one-line text from hostile names, diagnostics, the growable buffer,
 * JSON and XML escaping, and the file helpers.  Each test runs in its own
 * scratch directory (tests/criterion-tap.sh).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libpvsub/util.h"

Test(util, one_line_replaces_every_control_character)
{
	char s[] = "a\nb\rc\td\x7f" "e\x1b[0m\xc3\xa9";

	pvsub_one_line(s);
	/* Controls become '?'; printable ASCII and bytes >= 0x80 (UTF-8) stay. */
	cr_assert_str_eq(s, "a?b?c?d?e?[0m\xc3\xa9");
	char empty[] = "";
	pvsub_one_line(empty);
	cr_assert_str_eq(empty, "");
}

Test(util, quote_escapes_and_limits_untrusted_text)
{
	char out[256];

	pvsub_quote("ab\n\x01\xff", 5, out, sizeof(out));
	cr_assert_str_eq(out, "ab\\x0a\\x01\\xff");
	/* An embedded NUL is a byte like any other: @len counts, not strlen. */
	pvsub_quote("a\0b", 3, out, sizeof(out));
	cr_assert_str_eq(out, "a\\x00b");
	/* At most 32 bytes are shown, then "...". */
	char long_name[40];
	memset(long_name, 'x', sizeof(long_name));
	pvsub_quote(long_name, sizeof(long_name), out, sizeof(out));
	cr_assert_eq(strlen(out), 32 + 3);
	cr_assert_str_eq(out + 32, "...");
	/* Exactly 32: no ellipsis (the negative control of the limit). */
	pvsub_quote(long_name, 32, out, sizeof(out));
	cr_assert_eq(strlen(out), 32);
	/* A small output buffer is never overrun and always terminated. */
	char small[8];
	memset(small, 'Z', sizeof(small));
	pvsub_quote("\x01\x02\x03\x04", 4, small, sizeof(small));
	cr_assert(memchr(small, '\0', sizeof(small)) != NULL);
	cr_assert_str_eq(small, "\\x01");
}

Test(util, diag_set_returns_a_negative_errno)
{
	struct pvsub_diag d = {"old"};

	cr_assert_eq(pvsub_diag_set(&d, EINVAL, "bad %s %d", "thing", 7), -EINVAL);
	cr_assert_str_eq(d.msg, "bad thing 7");
	/* Already negative: unchanged, so `return pvsub_diag_set(d, r, ...)` works. */
	cr_assert_eq(pvsub_diag_set(&d, -ENOMEM, "x"), -ENOMEM);
	/* No diagnostic wanted: still the error. */
	cr_assert_eq(pvsub_diag_set(NULL, ERANGE, "ignored %s", "here"), -ERANGE);
	/* A name from a file cannot spread the message over lines. */
	pvsub_diag_set(&d, EINVAL, "section %s", "a\nb");
	cr_assert_str_eq(d.msg, "section a?b");
	pvsub_diag_clear(&d);
	cr_assert_str_eq(d.msg, "");
	pvsub_diag_clear(NULL);
}

Test(util, diag_set_truncates_long_messages)
{
	struct pvsub_diag d;
	char big[2 * PVSUB_DIAG_MAX];

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pvsub_diag_set(&d, EIO, "%s", big);
	cr_assert_eq(strlen(d.msg), PVSUB_DIAG_MAX - 1);
}

Test(util, buffer_appends_and_stays_terminated)
{
	struct pvsub_buf b = {0};

	cr_assert_eq(pvsub_buf_append(&b, "", 0), 0);
	cr_assert_not_null(b.data);
	cr_assert_str_eq(b.data, "");
	cr_assert_eq(pvsub_buf_puts(&b, "ab"), 0);
	cr_assert_eq(pvsub_buf_putc(&b, 'c'), 0);
	cr_assert_eq(pvsub_buf_printf(&b, "-%d-%s", 42, "x"), 0);
	cr_assert_eq(b.len, 8);
	cr_assert_str_eq(b.data, "abc-42-x");
	/* Binary data with NULs: len counts them. */
	cr_assert_eq(pvsub_buf_append(&b, "\0\1", 2), 0);
	cr_assert_eq(b.len, 10);
	cr_assert_eq(b.data[9], '\1');
	cr_assert_eq(b.data[10], '\0');
	/* Growth past the first allocation keeps the content. */
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(pvsub_buf_putc(&b, (char)('a' + i % 26)), 0);
	cr_assert_eq(b.len, 1010);
	cr_assert(b.cap > b.len);
	cr_assert_eq(memcmp(b.data, "abc-42-x", 8), 0);
	cr_assert_eq(b.data[1009], (char)('a' + 999 % 26));
	cr_assert_eq(b.data[1010], '\0');
	pvsub_buf_reset(&b);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(b.data, "");
	pvsub_buf_release(&b);
	cr_assert_null(b.data);
	cr_assert_eq(b.cap, 0);
}

Test(util, buffer_refuses_an_impossible_size_and_keeps_its_content)
{
	struct pvsub_buf b = {0};

	cr_assert_eq(pvsub_buf_puts(&b, "keep"), 0);
	cr_assert_eq(pvsub_buf_reserve(&b, SIZE_MAX), -ENOMEM);
	cr_assert_eq(pvsub_buf_reserve(&b, SIZE_MAX - b.len - 1), -ENOMEM);
	cr_assert_eq(pvsub_buf_append(&b, "x", SIZE_MAX - 2), -ENOMEM);
	cr_assert_eq(b.len, 4);
	cr_assert_str_eq(b.data, "keep");
	/* A reasonable reservation succeeds and does not change the length. */
	cr_assert_eq(pvsub_buf_reserve(&b, 4096), 0);
	cr_assert_eq(b.len, 4);
	cr_assert(b.cap >= 4 + 4096 + 1);
	pvsub_buf_release(&b);
}

Test(util, buffer_steal_hands_over_and_empties)
{
	struct pvsub_buf b = {0};
	size_t len = 99;

	/* Never appended to: still a string the caller can free. */
	char *p = pvsub_buf_steal(&b, &len);
	cr_assert_not_null(p);
	cr_assert_str_eq(p, "");
	cr_assert_eq(len, 0);
	free(p);

	cr_assert_eq(pvsub_buf_puts(&b, "text"), 0);
	p = pvsub_buf_steal(&b, &len);
	cr_assert_str_eq(p, "text");
	cr_assert_eq(len, 4);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.cap, 0);
	free(p);
	/* A stolen-from buffer is usable again. */
	cr_assert_eq(pvsub_buf_puts(&b, "again"), 0);
	cr_assert_str_eq(b.data, "again");
	pvsub_buf_release(&b);
}

Test(util, hex_is_lower_case_and_terminated)
{
	const uint8_t bytes[] = {0x00, 0x0f, 0xa0, 0xff};
	char out[2 * sizeof(bytes) + 1];

	memset(out, 'Z', sizeof(out));
	pvsub_hex(bytes, sizeof(bytes), out);
	cr_assert_str_eq(out, "000fa0ff");
	pvsub_hex(bytes, 0, out);
	cr_assert_str_eq(out, "");
}

static char *json(const char *s)
{
	struct pvsub_buf b = {0};

	cr_assert_eq(pvsub_buf_json_string(&b, s), 0);
	return pvsub_buf_steal(&b, NULL);
}

static char *xml(const char *s)
{
	struct pvsub_buf b = {0};

	cr_assert_eq(pvsub_buf_xml_string(&b, s), 0);
	return pvsub_buf_steal(&b, NULL);
}

#define EXPECT_ESCAPED(fn, in, want)                                                               \
	do {                                                                                       \
		char *got_ = fn(in);                                                               \
		cr_assert_str_eq(got_, want, "%s(%s)", #fn, #in);                                  \
		free(got_);                                                                        \
	} while (0)

Test(util, json_string_escapes_as_rfc_8259_requires)
{
	EXPECT_ESCAPED(json, "plain .text", "plain .text");
	EXPECT_ESCAPED(json, "q\"b\\s/", "q\\\"b\\\\s/");
	EXPECT_ESCAPED(json, "\n\r\t", "\\n\\r\\t");
	EXPECT_ESCAPED(json, "\x01\x1f\x7f", "\\u0001\\u001f\\u007f");
	/* Valid UTF-8 passes through whole. */
	EXPECT_ESCAPED(json, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* Invalid: a lone continuation byte, an overlong form, a surrogate,
	 * a truncated sequence, beyond U+10FFFF: one U+FFFD per bad byte. */
	EXPECT_ESCAPED(json, "\x80", "\xef\xbf\xbd");
	EXPECT_ESCAPED(json, "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
	EXPECT_ESCAPED(json, "\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	EXPECT_ESCAPED(json, "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	EXPECT_ESCAPED(json, "\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd");
	EXPECT_ESCAPED(json, "\xf4\x90\x80\x80",
		       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* The largest code point is still valid. */
	EXPECT_ESCAPED(json, "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");
	EXPECT_ESCAPED(json, "", "");
}

Test(util, xml_string_escapes_markup_and_drops_what_xml_cannot_carry)
{
	EXPECT_ESCAPED(xml, "a<b>&\"c'", "a&lt;b&gt;&amp;&quot;c&apos;");
	EXPECT_ESCAPED(xml, "\t\n\r", "&#9;&#10;&#13;");
	/* XML 1.0 has no other control characters, not even escaped. */
	EXPECT_ESCAPED(xml, "\x01x\x7f", "\xef\xbf\xbdx\xef\xbf\xbd");
	EXPECT_ESCAPED(xml, "\xff", "\xef\xbf\xbd");
	EXPECT_ESCAPED(xml, "\xc3\xa9", "\xc3\xa9");
}

/* Criterion runs tests in parallel in one scratch directory: each file
 * test works in a directory of its own. */
static void enter(const char *dir)
{
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(chdir(dir), 0);
}

Test(util, write_file_atomic_replaces_the_whole_file)
{
	enter("atomic");
	struct pvsub_diag d = {""};
	uint8_t *data = NULL;
	size_t len = 0;
	struct stat st;

	cr_assert_eq(pvsub_write_file_atomic("f", "first version", 13, 0640, &d), 0, "%s", d.msg);
	cr_assert_eq(pvsub_write_file_atomic("f", "second", 6, 0600, &d), 0, "%s", d.msg);
	cr_assert_eq(pvsub_read_file("f", 1024, &data, &len, &d), 0, "%s", d.msg);
	cr_assert_eq(len, 6);
	cr_assert_str_eq((char *)data, "second"); /* NUL-terminated, not counted */
	free(data);
	cr_assert_eq(stat("f", &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	/* No temporary file is left beside it. */
	cr_assert_eq(system("test \"$(ls -A | wc -l)\" -eq 1"), 0);
}

Test(util, write_file_atomic_into_a_missing_directory_leaves_nothing)
{
	enter("missing");
	struct pvsub_diag d = {""};

	cr_assert_eq(pvsub_write_file_atomic("nosuch/f", "x", 1, 0644, &d), -ENOENT);
	cr_assert_not_null(strstr(d.msg, "nosuch"), "%s", d.msg);
	cr_assert_eq(system("test \"$(ls -A | wc -l)\" -eq 0"), 0);
	/* A file where a directory should be. */
	cr_assert_eq(pvsub_write_file_atomic("plain", "x", 1, 0644, &d), 0);
	cr_assert_eq(pvsub_write_file_atomic("plain/f", "x", 1, 0644, &d), -ENOTDIR);
}

Test(util, read_file_enforces_its_limit_and_kind)
{
	enter("read");
	struct pvsub_diag d = {""};
	uint8_t *data = NULL;
	size_t len = 0;

	cr_assert_eq(pvsub_write_file_atomic("ten", "0123456789", 10, 0644, &d), 0);
	/* Exactly at the limit is fine; one byte over is -EFBIG. */
	cr_assert_eq(pvsub_read_file("ten", 10, &data, &len, &d), 0, "%s", d.msg);
	cr_assert_eq(len, 10);
	free(data);
	data = NULL;
	cr_assert_eq(pvsub_read_file("ten", 9, &data, &len, &d), -EFBIG);
	cr_assert_null(data);
	cr_assert_not_null(strstr(d.msg, "too large"), "%s", d.msg);
	cr_assert_eq(pvsub_read_file(".", 1 << 20, &data, &len, &d), -EINVAL);
	cr_assert_str_eq(d.msg, "not a regular file");
	cr_assert_eq(pvsub_read_file("missing", 1 << 20, &data, &len, &d), -ENOENT);
	/* An empty file is an empty, terminated string. */
	cr_assert_eq(pvsub_write_file_atomic("empty", "", 0, 0644, &d), 0);
	cr_assert_eq(pvsub_read_file("empty", 0, &data, &len, &d), 0);
	cr_assert_eq(len, 0);
	cr_assert_eq(data[0], '\0');
	free(data);
}
