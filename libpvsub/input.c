/* SPDX-License-Identifier: MIT */
/*
 * input: files, directories and archives, read without ever writing to disk.
 *
 * A nested archive is read into memory as a member and opened from there, so
 * each nesting level holds one member.  The type of a member is decided by
 * its magic bytes, never by its name.
 *
 * Budgets.  max_entry_size bounds one delivered file or archive member and is
 * enforced while decompressing, chunk by chunk, so a decompression bomb costs
 * memory in proportion to the limit, not to the bomb.  max_total_size bounds
 * the member bytes decompressed out of one file on disk (a file named on the
 * command line, or each file found while walking a directory: a directory is
 * bounded by the disk, a bomb is not), and is what ends the walk of an
 * archive whose members are each under the entry limit but too many.
 * max_depth counts archives inside archives; the file on disk is depth 0.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libpvsub/bzimage.h"
#include "libpvsub/diskimage.h"
#include "libpvsub/input.h"

#define CHUNK_SIZE (64 * 1024)
/* Enough to see the tar magic at offset 257 and the bzImage header at 0x202. */
#define SNIFF_SIZE 1024
/* libarchive asks to retry after skipping damaged tar headers; bound that. */
#define MAX_RETRIES 64

/* libarchive's errno for "Unrecognized archive format", which archive.h
 * leaves out: EFTYPE where the system has it, EILSEQ elsewhere. */
#ifdef EFTYPE
#define LA_ERRNO_FILE_FORMAT EFTYPE
#else
#define LA_ERRNO_FILE_FORMAT EILSEQ
#endif

#define MSG_NOT_RECOGNISED "not an ELF file or a recognised archive"

enum kind {
	KIND_OTHER,
	KIND_ELF,
	/* An x86 boot image: its compressed vmlinux is the item. */
	KIND_BZIMAGE,
	KIND_ARCHIVE,
	/* A short or loose magic: an archive only if libarchive agrees. */
	KIND_MAYBE_ARCHIVE,
	/* Executable, in a format pvsub does not scan: reported, not skipped. */
	KIND_UNSCANNED,
};

/* What the walk of one archive member asks its archive loop to do next. */
enum step {
	STEP_NEXT,
	STEP_STOP_ARCHIVE,
};

struct walker {
	struct pvsub_ctx *ctx;
	const struct pvsub_input_limits *lim;
	pvsub_item_fn fn;
	void *data;
	const char *input_path;
	uint64_t total;
	bool input_stopped;
	/* Walking a disk image: the length of its path, a prefix of every
	 * item's path until the image is done (pvsub_item.image_len). */
	size_t image_len;
};

/* Ancestors of a directory being walked, to refuse bind-mount loops. */
struct dir_frame {
	dev_t dev;
	ino_t ino;
	const struct dir_frame *up;
};

void pvsub_input_limits_default(struct pvsub_input_limits *l)
{
	l->max_entry_size = UINT64_C(512) << 20;
	l->max_total_size = UINT64_C(8) << 30;
	l->max_depth = 8;
	l->allow_backing_file = false;
	l->image_summaries = false;
	l->image_reader_memory = 0;
	l->image_reader_cpu_ms = 0;
}

void pvsub_item_free_data(struct pvsub_item *item)
{
	if (!item)
		return;
	pvsub_boot_code_release(&item->boot);
	free(item->data);
	item->data = NULL;
}

void pvsub_item_free(struct pvsub_item *item)
{
	if (!item)
		return;
	pvsub_item_free_data(item);
	free(item->path);
	free(item->error);
	free(item->format);
	free(item->image);
	free(item);
}

static bool has_prefix(const uint8_t *p, size_t n, const void *magic, size_t mlen)
{
	return n >= mlen && memcmp(p, magic, mlen) == 0;
}

static bool is_elf(const uint8_t *p, size_t n)
{
	return has_prefix(p, n,
			  "\x7f"
			  "ELF",
			  4);
}

static uint16_t get16(const uint8_t *p, bool be)
{
	return be ? pvsub_be16(p) : pvsub_le16(p);
}

static uint32_t get32(const uint8_t *p, bool be)
{
	return be ? pvsub_be32(p) : pvsub_le32(p);
}

static const char *elf_machine_name(unsigned m)
{
	switch (m) {
	case 3:
		return "x86";
	case 62:
		return "x86-64";
	case 183:
		return "AArch64";
	case 40:
		return "ARM";
	case 243:
		return "RISC-V";
	case 20:
		return "PowerPC";
	case 21:
		return "PowerPC64";
	case 22:
		return "s390";
	case 8:
		return "MIPS";
	case 258:
		return "LoongArch";
	case 43:
		return "SPARC V9";
	}
	return NULL;
}

static const char *pe_machine_name(unsigned m)
{
	switch (m) {
	case 0x8664:
		return "x86-64";
	case 0x14c:
		return "x86";
	case 0xaa64:
		return "AArch64";
	case 0x1c0:
	case 0x1c2:
	case 0x1c4:
		return "ARM";
	case 0x5032:
		return "RISC-V 32";
	case 0x5064:
		return "RISC-V 64";
	case 0x6232:
		return "LoongArch32";
	case 0x6264:
		return "LoongArch64";
	case 0xebc:
		return "EFI byte code";
	}
	return NULL;
}

static const char *macho_cpu_name(uint32_t cpu)
{
	switch (cpu) {
	case 7:
		return "x86";
	case 0x01000007:
		return "x86-64";
	case 12:
		return "ARM";
	case 0x0100000c:
		return "ARM64";
	case 18:
		return "PowerPC";
	case 0x01000012:
		return "PowerPC64";
	}
	return NULL;
}

/* "NAME (MACHINE)", or "NAME (machine N)" for a machine without a name. */
static void name_format(char *fmt, size_t size, const char *what, const char *machine,
			unsigned number, bool hex)
{
	if (machine)
		snprintf(fmt, size, "%s (%s)", what, machine);
	else
		snprintf(fmt, size, hex ? "%s (machine %#x)" : "%s (machine %u)", what, number);
}

/*
 * An executable in a format pvsub reads but does not scan (an ELF file for
 * another machine, or ELF32) or does not read at all (PE/COFF, Mach-O, an
 * ARM64 kernel Image): true, and its name in @fmt.  Only whole headers
 * inside the @n bytes count, so a truncated header is not one.  A malformed
 * ELF header (unknown class or byte order, too short) is false: it is an
 * ELF file to reject, not another format.
 */
static bool unscanned_format(const uint8_t *p, size_t n, char *fmt, size_t size)
{
	if (is_elf(p, n)) {
		bool be;
		unsigned m;

		if (n < 52 || (p[4] != 1 && p[4] != 2) || (p[5] != 1 && p[5] != 2))
			return false;
		be = p[5] == 2;
		m = get16(p + 18, be);
		if (p[4] == 2 && !be && m == 62)
			return false; /* ELF64 x86-64: scanned */
		if ((p[4] == 2 && (n < 64 || m == 62)) || m == 0)
			return false; /* malformed x86-64 ELF, a truncated header, no machine */
		if (p[4] == 1)
			name_format(fmt, size, be ? "ELF32 big-endian" : "ELF32",
				    elf_machine_name(m), m, false);
		else
			name_format(fmt, size, be ? "ELF64 big-endian" : "ELF64",
				    elf_machine_name(m), m, false);
		return true;
	}
	/* An ARM64 kernel Image may start as a PE/COFF file (its EFI stub):
	 * its own magic says more. */
	if (n >= 0x40 && memcmp(p + 0x38, "ARM\x64", 4) == 0) {
		snprintf(fmt, size, "ARM64 kernel Image");
		return true;
	}
	if (has_prefix(p, n, "MZ", 2) && n >= 0x40) {
		uint32_t lfanew = get32(p + 0x3c, false);

		if (lfanew >= 0x40 && lfanew <= n && n - lfanew >= 6 &&
		    memcmp(p + lfanew, "PE\0\0", 4) == 0) {
			unsigned m = get16(p + lfanew + 4, false);

			name_format(fmt, size, "PE/COFF", pe_machine_name(m), m, true);
			return true;
		}
		return false;
	}
	if (n >= 8) {
		uint32_t magic = get32(p, true);
		bool be = magic == 0xfeedface || magic == 0xfeedfacf;
		bool le = magic == 0xcefaedfe || magic == 0xcffaedfe;

		if (be || le) {
			uint32_t cpu = get32(p + 4, be);
			bool wide = magic == 0xfeedfacf || magic == 0xcffaedfe;

			name_format(fmt, size, wide ? "Mach-O 64-bit" : "Mach-O 32-bit",
				    macho_cpu_name(cpu), cpu, true);
			return true;
		}
		/* Java class files share the magic; their version there is >= 45. */
		if (magic == 0xcafebabe && get32(p + 4, true) >= 1 && get32(p + 4, true) <= 30) {
			snprintf(fmt, size, "Mach-O universal");
			return true;
		}
	}
	return false;
}

/* lzma-alone has no magic: accept what libarchive's own bidder would. */
static bool looks_like_lzma(const uint8_t *p, size_t n)
{
	uint32_t dict;

	if (n < 13 || p[0] > 224)
		return false;
	dict = pvsub_le32(p + 1);
	for (unsigned bit = 12; bit < 31; bit++) {
		if (dict == 1U << bit || dict == (1U << bit) + (1U << (bit - 1)))
			return true;
	}
	return false;
}

static enum kind sniff(const uint8_t *p, size_t n)
{
	static const uint8_t gzip[] = {0x1f, 0x8b, 0x08};
	static const uint8_t xz[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
	static const uint8_t zstd[] = {0x28, 0xb5, 0x2f, 0xfd};
	static const uint8_t rpm[] = {0xed, 0xab, 0xee, 0xdb};
	static const uint8_t cpio_bin_le[] = {0xc7, 0x71};
	static const uint8_t cpio_bin_be[] = {0x71, 0xc7};

	char fmt[64];

	if (is_elf(p, n))
		return unscanned_format(p, n, fmt, sizeof(fmt)) ? KIND_UNSCANNED : KIND_ELF;
	if (pvsub_bzimage_sniff(p, n))
		return KIND_BZIMAGE;
	if (has_prefix(p, n, gzip, sizeof(gzip)) || has_prefix(p, n, xz, sizeof(xz)) ||
	    has_prefix(p, n, zstd, sizeof(zstd)) || has_prefix(p, n, rpm, sizeof(rpm)) ||
	    has_prefix(p, n, "!<arch>\n", 8) || has_prefix(p, n, "PK\x03\x04", 4) ||
	    has_prefix(p, n, "070701", 6) || has_prefix(p, n, "070702", 6) ||
	    has_prefix(p, n, "070707", 6))
		return KIND_ARCHIVE;
	/* A bzip2 stream starts with a block or the end-of-stream marker. */
	if (n >= 10 && has_prefix(p, n, "BZh", 3) && p[3] >= '1' && p[3] <= '9' &&
	    (memcmp(p + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0 ||
	     memcmp(p + 4, "\x17\x72\x45\x38\x50\x90", 6) == 0))
		return KIND_ARCHIVE;
	if (n >= 262 && memcmp(p + 257, "ustar", 5) == 0)
		return KIND_ARCHIVE;
	if (unscanned_format(p, n, fmt, sizeof(fmt)))
		return KIND_UNSCANNED;
	if (has_prefix(p, n, cpio_bin_le, 2) || has_prefix(p, n, cpio_bin_be, 2) ||
	    (p && n && p[0] == 0x5d && looks_like_lzma(p, n)))
		return KIND_MAYBE_ARCHIVE;
	return KIND_OTHER;
}

static char *join(const char *a, const char *sep, const char *b)
{
	size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
	char *s = malloc(la + ls + lb + 1);

	if (!s)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, sep, ls);
	memcpy(s + la + ls, b, lb + 1);
	return s;
}

/* Reports are line-oriented: a message from libarchive must not break a line. */
static void one_line(char *s)
{
	size_t n;

	for (char *p = s; *p; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	}
	n = strlen(s);
	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
}

static int emit_error(struct walker *w, const char *path, const char *fmt, ...)
	_printf_format_(3, 4);

/* Hand an item to the callback; @data (may be NULL) is consumed in any case. */
/* emit_item() for a vmlinux with its bzImage's code, which the item takes
 * over (@boot is emptied, also on failure). */
static int emit_item_boot(struct walker *w, const char *path, uint8_t *data, size_t size,
			  char *error, const char *format, struct pvsub_boot_code *boot)
{
	struct pvsub_item *item = calloc(1, sizeof(*item));
	int r;

	if (!item)
		goto nomem;
	if (boot) {
		item->boot = *boot;
		memset(boot, 0, sizeof(*boot));
	}
	item->path = strdup(path);
	if (!item->path)
		goto nomem;
	if (format) {
		item->format = strdup(format);
		if (!item->format)
			goto nomem;
	}
	item->data = data;
	item->size = data ? size : 0;
	item->error = error;
	item->image_len = w->image_len;
	r = w->fn(w->data, item);
	return r < 0 ? r : 0;
nomem:
	if (item) {
		free(item->path);
		pvsub_boot_code_release(&item->boot);
	}
	free(item);
	free(data);
	free(error);
	pvsub_boot_code_release(boot);
	return -ENOMEM;
}

static int emit_item(struct walker *w, const char *path, uint8_t *data, size_t size, char *error,
		     const char *format)
{
	return emit_item_boot(w, path, data, size, error, format, NULL);
}

static int emit(struct walker *w, const char *path, uint8_t *data, size_t size, char *error)
{
	return emit_item(w, path, data, size, error, NULL);
}

/* An executable pvsub does not scan (unscanned_format()): an item that says
 * so, never a silent skip; its bytes are not kept.  @size is reported. */
static int emit_unscanned(struct walker *w, const char *path, const uint8_t *buf, size_t len)
{
	char fmt[64];

	if (!unscanned_format(buf, len, fmt, sizeof(fmt)))
		return emit_error(w, path, MSG_NOT_RECOGNISED);
	pvsub_dbg(w->ctx, "%s: not scanned: %s", path, fmt);
	return emit_item(w, path, NULL, 0, NULL, fmt);
}

static int emit_error(struct walker *w, const char *path, const char *fmt, ...)
	_printf_format_(3, 4);

static int emit_error(struct walker *w, const char *path, const char *fmt, ...)
{
	struct pvsub_buf msg = {0};
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = pvsub_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0 || !msg.data) {
		pvsub_buf_release(&msg);
		return -ENOMEM;
	}
	one_line(msg.data);
	return emit(w, path, NULL, 0, pvsub_buf_steal(&msg, NULL));
}

static int emit_archive_error(struct walker *w, const char *path, struct archive *a)
{
	const char *msg = archive_error_string(a);

	return emit_error(w, path, "%s", msg && *msg ? msg : "unreadable archive");
}

static int emit_too_big(struct walker *w, const char *path)
{
	return emit_error(w, path, "entry exceeds the size limit (%" PRIu64 " bytes)",
			  w->lim->max_entry_size);
}

static void start_input(struct walker *w, const char *path)
{
	w->input_path = path;
	w->total = 0;
	w->input_stopped = false;
}

/* Count @n decompressed bytes against the input's budget.  Returns 1 when the
 * budget is exhausted (error already delivered), 0 to go on, or < 0. */
static int charge(struct walker *w, size_t n)
{
	int r;

	w->total += n;
	if (w->total <= w->lim->max_total_size)
		return 0;
	r = emit_error(w, w->input_path, "input exceeds the total size limit (%" PRIu64 " bytes)",
		       w->lim->max_total_size);
	w->input_stopped = true;
	return r < 0 ? r : 1;
}

static bool has_real_filter(struct archive *a)
{
	int n = archive_filter_count(a);

	for (int i = 0; i < n; i++) {
		if (archive_filter_code(a, i) != ARCHIVE_FILTER_NONE)
			return true;
	}
	return false;
}

static int archive_new_reader(struct archive **out)
{
	struct archive *a = archive_read_new();

	if (!a)
		return -ENOMEM;
	/* Unsupported filters or formats only narrow what we accept; an error
	 * here cannot make the reader unsafe, so the results are not checked. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_rpm(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_ar(a);
	/* Lowest bidder: a lone compressed file such as kvm.ko.xz. */
	archive_read_support_format_raw(a);
	*out = a;
	return 0;
}

static int walk_archive(struct walker *w, struct archive *a, const char *apath, unsigned depth,
			bool weak, bool explicit);

/*
 * The raw format takes any decompressed stream of one byte or more, so a
 * format error behind a working filter means an empty stream (Debian ships
 * empty man pages as .gz): compressed content that is not ELF.
 */
static bool empty_compressed(struct archive *a)
{
	return has_real_filter(a) && archive_errno(a) == LA_ERRNO_FILE_FORMAT;
}

static int skip_empty(struct walker *w, const char *apath, bool explicit)
{
	if (explicit)
		return emit_error(w, apath, "compressed content is " MSG_NOT_RECOGNISED);
	pvsub_dbg(w->ctx, "%s: skipped, empty compressed content", apath);
	return 0;
}

/*
 * libarchive's tar reader takes any stream that starts with a zero block: to
 * it that is an empty archive's end marker.  A file on disk needs the ustar
 * magic to be sent here (sniff()), but decompressed content has no such
 * check, so a .ko.gz that inflates to zeros would scan as an empty archive
 * and the input would vanish without a word.  A "tar" whose very first
 * header is the end marker has shown no tar header at all: treat it as the
 * compressed content it is, not an archive (an empty tar.gz says the same as
 * an empty tar, which sniff() does not recognise either).
 */
static bool zero_block_tar(struct archive *a)
{
	return has_real_filter(a) &&
	       (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR;
}

/* Opening reads ahead through the filters and picks the format, so it can
 * already fail. */
static int open_failed(struct walker *w, struct archive *a, const char *apath, bool weak,
		       bool explicit)
{
	if (empty_compressed(a))
		return skip_empty(w, apath, explicit);
	if (weak && !explicit) {
		pvsub_dbg(w->ctx, "%s: skipped: %s", apath, archive_error_string(a));
		return 0;
	}
	return emit_archive_error(w, apath, a);
}

static int walk_archive_memory(struct walker *w, const char *apath, const uint8_t *buf, size_t len,
			       unsigned depth, bool weak, bool explicit)
{
	struct archive *a = NULL;
	int r;

	r = archive_new_reader(&a);
	if (r < 0)
		return r;
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK)
		r = open_failed(w, a, apath, weak, explicit);
	else
		r = walk_archive(w, a, apath, depth, weak, explicit);
	archive_read_free(a);
	return r;
}

/*
 * A bzImage at @path: its payload decompressed (within max_entry_size, and
 * counted against the input's budget) is delivered as "@path!vmlinux", the
 * ELF file followed by its KASLR relocation table, so that the scan sees
 * both, and with the bzImage's own code in the item's `boot`.  A header, payload or vmlinux that does not check out is an error
 * item naming @path.
 */
static int walk_bzimage(struct walker *w, const char *path, const uint8_t *buf, size_t len)
{
	struct pvsub_diag diag = {""};
	struct pvsub_kaslr_relocs relocs;
	struct pvsub_boot_code boot = {0};
	struct pvsub_bzimage bz;
	struct pvsub_buf out = {0};
	uint64_t elf_size;
	uint8_t *data;
	char *vpath;
	size_t n;
	int r;

	vpath = join(path, "!", "vmlinux");
	if (!vpath)
		return -ENOMEM;
	r = pvsub_bzimage_parse(buf, len, &bz, &diag);
	if (r == 0)
		r = pvsub_bzimage_decompress(buf, len, &bz, w->lim->max_entry_size, &out, &diag);
	if (r == -EFBIG) {
		r = emit_too_big(w, vpath);
		goto out;
	}
	if (r == 0) {
		r = charge(w, out.len);
		if (r)
			goto out;
		r = pvsub_vmlinux_split((const uint8_t *)out.data, out.len, &elf_size, &relocs,
					&diag);
	}
	if (r == -ENOMEM)
		goto out;
	if (r < 0) {
		r = emit_error(w, path, "%s", diag.msg[0] ? diag.msg : strerror(-r));
		goto out;
	}
	pvsub_dbg(w->ctx,
		  "%s: bzImage protocol %u.%02u, %s payload of %" PRIu64
		  " bytes: vmlinux of %" PRIu64 " bytes, then %zu bytes of KASLR relocations",
		  path, bz.version >> 8, bz.version & 0xff, bz.codec, bz.payload_length, elf_size,
		  out.len - (size_t)elf_size);
	r = pvsub_bzimage_boot_code(buf, len, &bz, &boot);
	if (r == 0 && !(boot.image_path = strdup(path)))
		r = -ENOMEM;
	if (r < 0)
		goto out;
	data = (uint8_t *)pvsub_buf_steal(&out, &n);
	r = data ? emit_item_boot(w, vpath, data, n, NULL, NULL, &boot) : -ENOMEM;
out:
	pvsub_boot_code_release(&boot);
	pvsub_buf_release(&out);
	free(vpath);
	return r < 0 ? r : 0;
}

static int walk_image_buffer(struct walker *w, const char *path, const uint8_t *buf, size_t len,
			     unsigned depth);

/*
 * Deal with the content of one file or member at @path.  @owned, when not
 * NULL, points at the malloc'ed @buf and may be taken over (then set to NULL).
 */

static int walk_content(struct walker *w, const char *path, const uint8_t *buf, size_t len,
			uint8_t **owned, unsigned depth, bool explicit)
{
	enum kind kind = sniff(buf, len);
	uint8_t *copy;

	switch (kind) {
	case KIND_ELF:
		if (owned && *owned) {
			copy = *owned;
			*owned = NULL;
		} else {
			copy = malloc(len ? len : 1);
			if (!copy)
				return -ENOMEM;
			memcpy(copy, buf, len);
		}
		return emit(w, path, copy, len, NULL);
	case KIND_BZIMAGE:
		return walk_bzimage(w, path, buf, len);
	case KIND_UNSCANNED:
		return emit_unscanned(w, path, buf, len);
	case KIND_ARCHIVE:
	case KIND_MAYBE_ARCHIVE:
		if (depth > w->lim->max_depth)
			return emit_error(w, path, "archive nesting exceeds the depth limit (%u)",
					  w->lim->max_depth);
		return walk_archive_memory(w, path, buf, len, depth, kind == KIND_MAYBE_ARCHIVE,
					   explicit);
	case KIND_OTHER:
		break;
	}
	if (pvsub_diskimage_probe_buffer(buf, len)) {
		int r = walk_image_buffer(w, path, buf, len, depth);

		if (r <= 0)
			return r;
	}
	if (explicit)
		return emit_error(w, path, MSG_NOT_RECOGNISED);
	pvsub_dbg(w->ctx, "%s: skipped, " MSG_NOT_RECOGNISED, path);
	return 0;
}

/*
 * Read the current member into @out, at most max_entry_size bytes.  *@complete
 * tells whether @out then holds the whole member; when it does not, an error
 * item has been delivered or the input's budget is exhausted.  @too_big: the
 * member is already known to be over the limit, only drain it.  @quiet: a
 * stream that fails to decompress is just not what its loose magic suggested.
 */
static int read_member(struct walker *w, struct archive *a, const char *apath, const char *mpath,
		       bool too_big, bool quiet, struct pvsub_buf *out, bool *complete)
{
	ssize_t n;
	int r;

	*complete = false;
	for (;;) {
		if (too_big)
			pvsub_buf_reset(out);
		r = pvsub_buf_reserve(out, CHUNK_SIZE);
		if (r < 0)
			return r;
		n = archive_read_data(a, out->data + out->len, CHUNK_SIZE);
		if (n == 0)
			break;
		if (n == ARCHIVE_FATAL && quiet) {
			pvsub_dbg(w->ctx, "%s: skipped: %s", apath, archive_error_string(a));
			return STEP_STOP_ARCHIVE;
		}
		if (n == ARCHIVE_FATAL) {
			r = emit_archive_error(w, apath, a);
			return r < 0 ? r : STEP_STOP_ARCHIVE;
		}
		if (n < 0) {
			/* This member only (encrypted, unsupported method): skip it. */
			r = emit_archive_error(w, mpath, a);
			return r < 0 ? r : STEP_NEXT;
		}
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		r = charge(w, (size_t)n);
		if (r)
			return r < 0 ? r : STEP_STOP_ARCHIVE;
		if (!too_big && out->len > w->lim->max_entry_size) {
			r = emit_too_big(w, mpath);
			if (r < 0)
				return r;
			/* Drain rather than skip so that the bytes a bomb makes us
			 * decompress still count against the input's budget. */
			too_big = true;
		}
	}
	*complete = !too_big;
	return STEP_NEXT;
}

static int walk_entry(struct walker *w, struct archive *a, struct archive_entry *entry,
		      const char *apath, unsigned depth, bool weak, bool explicit)
{
	struct pvsub_buf content = {0};
	const char *name;
	char *mpath = NULL;
	uint8_t *owned;
	size_t len;
	mode_t type;
	enum kind kind;
	bool raw = archive_format(a) == ARCHIVE_FORMAT_RAW;
	bool too_big, complete;
	int r;

	name = archive_entry_pathname(entry);
	if (!name)
		name = archive_entry_pathname_utf8(entry);
	if (!name)
		name = "?";
	/* ar members (GNU ar in deterministic mode) may carry no file type. */
	type = archive_entry_filetype(entry);
	if ((type != AE_IFREG && type != 0) ||
	    (archive_entry_hardlink(entry) && archive_entry_size_is_set(entry) &&
	     archive_entry_size(entry) == 0)) {
		pvsub_dbg(w->ctx, "%s!%s: skipped, not a regular file", apath, name);
		return STEP_NEXT;
	}
	/* A lone compressed file keeps its own name: no member component. */
	mpath = raw ? strdup(apath) : join(apath, "!", name);
	if (!mpath)
		return -ENOMEM;

	too_big = archive_entry_size_is_set(entry) &&
		  (uint64_t)archive_entry_size(entry) > w->lim->max_entry_size;
	if (too_big) {
		r = emit_too_big(w, mpath);
		if (r < 0)
			goto out;
		/* Stored data is skipped by seeking; compressed data has to be
		 * decompressed anyway, so drain it against the budget instead. */
		if (!has_real_filter(a)) {
			r = STEP_NEXT;
			if (archive_read_data_skip(a) == ARCHIVE_FATAL) {
				r = emit_archive_error(w, apath, a);
				r = r < 0 ? r : STEP_STOP_ARCHIVE;
			}
			goto out;
		}
	}

	r = read_member(w, a, apath, mpath, too_big, raw && weak && !explicit, &content, &complete);
	if (r < 0 || r == STEP_STOP_ARCHIVE || !complete)
		goto out;

	kind = sniff((const uint8_t *)content.data, content.len);
	if (raw && kind != KIND_ELF && kind != KIND_BZIMAGE && kind != KIND_UNSCANNED &&
	    !pvsub_diskimage_probe_buffer((const uint8_t *)content.data, content.len)) {
		/* libarchive already had its say on what the stream holds. */
		if (explicit)
			r = emit_error(w, mpath, "compressed content is " MSG_NOT_RECOGNISED);
		else
			pvsub_dbg(w->ctx, "%s: skipped, compressed content is not ELF", mpath);
		r = r < 0 ? r : STEP_NEXT;
		goto out;
	}
	owned = (uint8_t *)pvsub_buf_steal(&content, &len);
	if (!owned) {
		r = -ENOMEM;
		goto out;
	}
	r = walk_content(w, mpath, owned, len, &owned, raw ? depth : depth + 1, false);
	free(owned);
	r = r < 0 ? r : STEP_NEXT;
out:
	pvsub_buf_release(&content);
	free(mpath);
	return r;
}

/*
 * Walk the members of an opened archive.  @weak: the magic that sent us here
 * is loose, so a stream libarchive does not recognise is simply not an
 * archive.  @explicit: the archive was named by the user.
 */
static int walk_archive(struct walker *w, struct archive *a, const char *apath, unsigned depth,
			bool weak, bool explicit)
{
	struct archive_entry *entry;
	unsigned retries = 0;
	bool first = true;
	int r;

	while (!w->input_stopped) {
		r = archive_read_next_header(a, &entry);
		if (r == ARCHIVE_EOF && first && !retries && zero_block_tar(a)) {
			if (explicit)
				return emit_error(w, apath,
						  "compressed content is " MSG_NOT_RECOGNISED);
			pvsub_dbg(w->ctx, "%s: skipped, compressed content is zeros", apath);
			return 0;
		}
		if (r == ARCHIVE_EOF)
			break;
		if (r == ARCHIVE_RETRY) {
			/* Damaged headers: libarchive resynchronises on the next
			 * good one.  Say it once; give up on endless damage. */
			if (++retries > MAX_RETRIES)
				break;
			if (retries == 1) {
				r = emit_archive_error(w, apath, a);
				if (r < 0)
					return r;
			}
			continue;
		}
		if (r < ARCHIVE_WARN)
			goto bad_archive;
		if (r == ARCHIVE_WARN)
			pvsub_dbg(w->ctx, "%s: %s", apath, archive_error_string(a));
		if (first && archive_format(a) == ARCHIVE_FORMAT_RAW && !has_real_filter(a))
			goto unrecognised;
		first = false;
		r = walk_entry(w, a, entry, apath, depth, weak, explicit);
		if (r < 0)
			return r;
		if (r == STEP_STOP_ARCHIVE)
			break;
	}
	return 0;

bad_archive:
	if (first && empty_compressed(a))
		return skip_empty(w, apath, explicit);
	if (!(first && weak))
		return emit_archive_error(w, apath, a);
unrecognised:
	if (!weak)
		return emit_error(w, apath, "unrecognised or corrupt archive");
	if (explicit)
		return emit_error(w, apath, MSG_NOT_RECOGNISED);
	pvsub_dbg(w->ctx, "%s: skipped, not a recognised archive", apath);
	return 0;
}

static int read_fd_all(int fd, uint64_t max, struct pvsub_buf *out)
{
	struct stat st;
	ssize_t n;
	int r;

	/* The size is a hint only: the file may change while it is read. */
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		if ((uint64_t)st.st_size > max)
			return -EFBIG;
		r = pvsub_buf_reserve(out, (size_t)st.st_size);
		if (r < 0)
			return r;
	}
	for (;;) {
		r = pvsub_buf_reserve(out, CHUNK_SIZE);
		if (r < 0)
			return r;
		n = read(fd, out->data + out->len, CHUNK_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (out->len > max)
			return -EFBIG;
	}
}

/* Read up to @len bytes into @buf: from offset 0 of a file (@at_start:
 * the file position is left alone), or the next bytes of a stream.  The
 * count read (short only at the end), or a negative errno. */
static ssize_t read_full(int fd, uint8_t *buf, size_t len, bool at_start)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = at_start ? pread(fd, buf + got, len - got, (off_t)got)
				     : read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* An ELF file read whole into @content (@r: how the read went): emit it,
 * or the one-line reason it cannot be scanned.  -ENOMEM is passed on. */
static int emit_read(struct walker *w, const char *path, int r, struct pvsub_buf *content)
{
	uint8_t *data;
	size_t len;

	if (r == -EFBIG)
		return emit_too_big(w, path);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return emit_error(w, path, "%s", strerror(-r));
	data = (uint8_t *)pvsub_buf_steal(content, &len);
	return data ? emit(w, path, data, len, NULL) : -ENOMEM;
}

/* A bzImage read whole into @content (@r: how the read went). */
static int read_bzimage(struct walker *w, const char *path, int r, struct pvsub_buf *content)
{
	if (r == -EFBIG)
		return emit_too_big(w, path);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return emit_error(w, path, "%s", strerror(-r));
	return walk_bzimage(w, path, (const uint8_t *)content->data, content->len);
}

/* An "MZ" file whose e_lfanew points past the @n sniffed bytes (a full
 * head): only the whole file says whether it is PE/COFF. */
static bool far_pe_header(const uint8_t *head, size_t n)
{
	return n == SNIFF_SIZE && has_prefix(head, n, "MZ", 2) &&
	       get32(head + 0x3c, false) >= n - 6;
}

/* Such a file read whole into @content (@r: how the read went). */
static int read_far_pe(struct walker *w, const char *path, int r, struct pvsub_buf *content,
		       bool explicit)
{
	if (r == -ENOMEM)
		return r;
	if (r == -EFBIG)
		return emit_too_big(w, path);
	if (r < 0)
		return emit_error(w, path, "%s", strerror(-r));
	return walk_content(w, path, (const uint8_t *)content->data, content->len, NULL, 0,
			    explicit);
}

/*
 * Disk images (diskimage.h) are walked in a child process, the reader, so
 * that what The Sleuth Kit and libqcow do with a hostile image (allocate
 * gigabytes from a file-system field, spin, crash) ends there: the reader
 * runs under limits (reader_limits_apply()) and hands the files it finds to this
 * process through a pipe, which does all the scanning.  The reader sniffs
 * each regular file from its first bytes and sends it whole only when it
 * is something pvsub reads (ELF, an archive, a compressed file, a bzImage,
 * an executable it names), within max_entry_size; here each is charged to
 * the image's budget and walked like an archive member one level below
 * the image, named "<image>!<path inside>".  The reader's records are checked as untrusted
 * input: a reader that misbehaves is one error line, like one that dies.
 *
 * A reader stopped by a limit or a crash is one error line naming the
 * image and the partition it was in; what it sent before is scanned as
 * usual, nothing after is read, and the image gets no summary.
 */

/* AddressSanitizer reserves terabytes and reports a failed allocation
 * instead of returning NULL: no address-space limit under it. */
#if defined(__SANITIZE_ADDRESS__)
#define PVSUB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PVSUB_ASAN 1
#endif
#endif
#ifndef PVSUB_ASAN
#define PVSUB_ASAN 0
#endif

/* The reader's address space may grow this much above what this process
 * had when it forked the reader. */
#define READER_MEMORY (UINT64_C(1) << 30)
/* The reader's CPU time: a base, and one second more per this many bytes
 * of the image file (inflating compressed qcow2 clusters costs CPU). */
#define READER_CPU_BASE_S 30
#define READER_CPU_BYTES_PER_S (UINT64_C(32) << 20)
/* A record's payload; file bytes go in pieces of DATA_PIECE. */
#define DATA_PIECE (16 * CHUNK_SIZE)
#define REC_MAX (DATA_PIECE + 2 * PVSUB_DIAG_MAX + 65536)
/* The reader's exit status when it ran out of memory. */
#define READER_EXIT_NOMEM 3

enum rec_type {
	REC_NOTSUP = 1, /* not an image after all */
	REC_REFUSED,	/* message: the image is refused or unreadable */
	REC_OPENED,	/* format */
	REC_PART,	/* "pN": a partition starts */
	REC_FILE,	/* u64 size, path: DATA... then END or ERROR follow */
	REC_DATA,	/* bytes of the file being sent */
	REC_END,	/* the file is complete */
	REC_TOO_BIG,	/* path */
	REC_ERROR,	/* path NUL message */
	REC_UNSCANNED,	/* path NUL format */
	REC_SKIP,	/* path: not something pvsub reads */
	REC_DONE,	/* i32: the walk's result */
};

/* In host byte order, as are the numbers in payloads: the reader is this
 * program. */
struct rec_head {
	uint32_t type;
	uint32_t len;
};

/* A partition table with a partition (an MBR signature and a partition
 * type), or a file system TSK reads, seems to be in @buf. */
static bool has_partition_or_fs(const uint8_t *buf, size_t len)
{
	if (len >= 520 && memcmp(buf + 512, "EFI PART", 8) == 0)
		return true;
	if (len >= 1024 + 0x3a && memcmp(buf + 1024 + 0x38, "\x53\xef", 2) == 0)
		return true;
	if (len >= 32768 + 6 && memcmp(buf + 32768 + 1, "CD001", 5) == 0)
		return true;
	if (len < 512 || buf[510] != 0x55 || buf[511] != 0xaa)
		return false;
	for (unsigned i = 0; i < 4; i++) {
		if (buf[446 + 16 * i + 4])
			return true;
	}
	return false;
}

/* --- the reader (child) ------------------------------------------------------ */

struct reader_walk {
	const struct pvsub_input_limits *lim;
	int out; /* the pipe */
	uint8_t *piece;
};

/* 0, or -errno (-EIO for a write that wrote nothing). */
static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One record of @type: @a (@alen bytes) and @b (@blen) as its payload. */
static int send_rec(int fd, enum rec_type type, const void *a, size_t alen, const void *b,
		    size_t blen)
{
	struct rec_head h = {.type = type, .len = (uint32_t)(alen + blen)};
	int r = write_all(fd, &h, sizeof(h));

	if (r == 0 && alen)
		r = write_all(fd, a, alen);
	if (r == 0 && blen)
		r = write_all(fd, b, blen);
	return r;
}

/* A record of a path and, when @msg is not NULL, a message after its NUL. */
static int send_path(int fd, enum rec_type type, const char *path, const char *msg)
{
	return send_rec(fd, type, path, strlen(path) + (msg ? 1 : 0), msg, msg ? strlen(msg) : 0);
}

/* The regular file @e: skipped, too big, or sent whole in pieces. */
static int reader_file(struct reader_walk *rw, const struct pvsub_diskimage_entry *e)
{
	struct pvsub_diag diag = {""};
	uint8_t head[SNIFF_SIZE], size_raw[sizeof(uint64_t)];
	uint64_t got = 0;
	ssize_t n;
	int r;

	/* Before a byte is read, as for an archive member: the file system
	 * library maps the whole file to read its first byte. */
	if (e->size > rw->lim->max_entry_size || e->size > SIZE_MAX - 1)
		return send_path(rw->out, REC_TOO_BIG, e->path, NULL);
	n = pvsub_diskimage_file_read(e->file, 0, head, sizeof(head), &diag);
	if (n < 0)
		return send_path(rw->out, REC_ERROR, e->path, diag.msg);
	if (sniff(head, (size_t)n) == KIND_OTHER && !far_pe_header(head, (size_t)n)) {
		/* An image in an image: its files would be named by two images,
		 * and the image manifest lists one image's. */
		if (pvsub_diskimage_is_qcow2(head, (size_t)n) ||
		    has_partition_or_fs(head, (size_t)n))
			return send_path(rw->out, REC_ERROR, e->path,
					 "a disk image inside a disk image is not read");
		return send_path(rw->out, REC_SKIP, e->path, NULL);
	}
	memcpy(size_raw, &e->size, sizeof(size_raw));
	r = send_rec(rw->out, REC_FILE, size_raw, sizeof(size_raw), e->path, strlen(e->path));
	while (r == 0 && got < e->size) {
		size_t want = e->size - got > DATA_PIECE ? DATA_PIECE : (size_t)(e->size - got);

		n = pvsub_diskimage_file_read(e->file, got, rw->piece, want, &diag);
		if (n <= 0)
			return send_path(rw->out, REC_ERROR, e->path,
					 n < 0 ? diag.msg : "file shorter than its size");
		r = send_rec(rw->out, REC_DATA, rw->piece, (size_t)n, NULL, 0);
		got += (uint64_t)n;
	}
	return r ? r : send_rec(rw->out, REC_END, NULL, 0, NULL, 0);
}

static int reader_entry(void *data, const struct pvsub_diskimage_entry *e)
{
	struct reader_walk *rw = data;

	if (e->begin)
		return send_path(rw->out, REC_PART, e->path, NULL);
	if (e->error)
		return send_path(rw->out, REC_ERROR, e->path, e->error);
	if (e->unscanned)
		return send_path(rw->out, REC_UNSCANNED, e->path, e->unscanned);
	return reader_file(rw, e);
}

/* The size of this process's address space, from /proc; 0 if unknown. */
static uint64_t address_space(void)
{
	unsigned long long pages = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &pages) != 1)
		pages = 0;
	fclose(f);
	return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* What the reader of the image in @fd may use (pvsub_input_limits). */
struct reader_limits {
	uint64_t memory; /* bytes of address space above what it inherits */
	uint64_t cpu_ms;
};

static struct reader_limits reader_limits_of(const struct pvsub_input_limits *lim, int fd)
{
	struct reader_limits rl = {lim->image_reader_memory, lim->image_reader_cpu_ms};
	struct stat st;

	if (!rl.memory)
		rl.memory = READER_MEMORY;
	if (!rl.cpu_ms) {
		rl.cpu_ms = READER_CPU_BASE_S;
		if (fstat(fd, &st) == 0)
			rl.cpu_ms += (uint64_t)st.st_size / READER_CPU_BYTES_PER_S;
		rl.cpu_ms *= 1000;
	}
	return rl;
}

/*
 * Apply @l in the reader: the address space (not under AddressSanitizer,
 * whose allocator reports instead of failing), CPU time (a profiling timer,
 * SIGPROF, and RLIMIT_CPU a second later as a backstop), no core file, and
 * death with this process.
 */
static void reader_limits_apply(const struct reader_limits *l)
{
	struct itimerval it = {
		.it_value = {(time_t)(l->cpu_ms / 1000), (suseconds_t)(l->cpu_ms % 1000) * 1000}};
	uint64_t as = address_space();
	struct rlimit rl;
	sigset_t set;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Large blocks from new mappings, which the limit counts, not from
	 * heap the reader inherited free (pvsub-scan serves blocks up to
	 * 32 MiB from the heap). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	rl = (struct rlimit){0, 0};
	setrlimit(RLIMIT_CORE, &rl);
	/* The timer's signal and RLIMIT_CPU's must kill, whatever the caller
	 * blocked or handled. */
	sigemptyset(&set);
	sigaddset(&set, SIGPROF);
	sigaddset(&set, SIGXCPU);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGPROF, SIG_DFL);
	signal(SIGXCPU, SIG_DFL);
	setitimer(ITIMER_PROF, &it, NULL);
	rl.rlim_cur = (rlim_t)(l->cpu_ms / 1000 + 2);
	rl.rlim_max = rl.rlim_cur + 1;
	setrlimit(RLIMIT_CPU, &rl);
#if !PVSUB_ASAN
	if (as) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)(as + l->memory);
		setrlimit(RLIMIT_AS, &rl);
	}
#else
	(void)as;
#endif
}

/* The child: open and walk the image in @fd, records to @out; never returns. */
static _Noreturn void reader_main(const struct pvsub_input_limits *lim,
				  const struct reader_limits *limits, int fd, int out,
				  const struct pvsub_diskimage_opts *opts)
{
	struct reader_walk rw = {.lim = lim, .out = out};
	struct pvsub_diag diag = {""};
	struct pvsub_diskimage *img = NULL;
	int32_t res;
	int r;

	reader_limits_apply(limits);
	rw.piece = malloc(DATA_PIECE);
	if (!rw.piece)
		_exit(READER_EXIT_NOMEM);
	r = pvsub_diskimage_open(fd, opts, &img, &diag);
	if (r == -ENOMEM)
		_exit(READER_EXIT_NOMEM);
	if (r == -ENOTSUP)
		_exit(send_rec(out, REC_NOTSUP, NULL, 0, NULL, 0) ? 1 : 0);
	if (r < 0) {
		r = send_path(out, REC_REFUSED, diag.msg[0] ? diag.msg : strerror(-r), NULL);
		_exit(r ? 1 : 0);
	}
	r = send_path(out, REC_OPENED, pvsub_diskimage_format(img), NULL);
	if (r == 0)
		r = pvsub_diskimage_walk(img, reader_entry, &rw);
	if (r == -ENOMEM)
		_exit(READER_EXIT_NOMEM);
	res = r;
	/* A write that failed: this process stopped reading. */
	if (r != -EPIPE && r != -EIO)
		send_rec(out, REC_DONE, &res, sizeof(res), NULL, 0);
	/* _exit: the parent's atexit handlers and stdio buffers are not ours. */
	_exit(0);
}

/* --- this side ------------------------------------------------------------------ */

struct reader {
	pid_t pid;
	int fd;
	uint8_t *buf; /* REC_MAX: the last record's payload */
	struct rec_head h;
	char part[32]; /* the partition being read, "" before the first */
	int fd_image;  /* the image, for its summary */
	struct reader_limits limits;
	unsigned depth; /* of the image: its files are one deeper */
};

static int read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0; /* the reader is gone, perhaps in mid-record */
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

/* The next record into rd->h and rd->buf (NUL-terminated): 1, 0 at the end
 * of the pipe (a record cut short included: the reader was stopped), or
 * -EPROTO for a record no reader sends. */
static int next_rec(struct reader *rd)
{
	int r = read_all(rd->fd, &rd->h, sizeof(rd->h));

	if (r <= 0)
		return r;
	if (rd->h.type < REC_NOTSUP || rd->h.type > REC_DONE || rd->h.len > REC_MAX)
		return -EPROTO;
	r = rd->h.len ? read_all(rd->fd, rd->buf, rd->h.len) : 1;
	if (r > 0)
		rd->buf[rd->h.len] = '\0';
	return r;
}

/* A path record's path, checked: no NUL inside but the separator. */
static const char *rec_path(struct reader *rd, const char **msg)
{
	const char *p = (const char *)rd->buf;
	size_t n = strlen(p);

	if (msg) {
		if (n == rd->h.len)
			return NULL;
		*msg = p + n + 1;
		if (strlen(*msg) != rd->h.len - n - 1)
			return NULL;
	} else if (n != rd->h.len) {
		return NULL;
	}
	return p;
}

/* One file sent by the reader (REC_FILE just read): its bytes, charged to
 * the image's budget, then walked. */
static int take_file(struct walker *w, struct reader *rd, const char *image)
{
	uint64_t size, got = 0;
	char *path = NULL;
	uint8_t *buf = NULL;
	int r;

	if (rd->h.len <= 8 || memchr(rd->buf + 8, '\0', rd->h.len - 8))
		return -EPROTO;
	memcpy(&size, rd->buf, sizeof(size));
	if (size > w->lim->max_entry_size || size > SIZE_MAX - 1)
		return -EPROTO;
	path = join(image, "!", (const char *)rd->buf + 8);
	if (!path)
		return -ENOMEM;
	r = charge(w, (size_t)size);
	if (r) {
		r = r < 0 ? r : -ECANCELED;
		goto out;
	}
	buf = malloc(size ? (size_t)size : 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while ((r = next_rec(rd)) > 0 && rd->h.type == REC_DATA) {
		if (rd->h.len > size - got) {
			r = -EPROTO;
			goto out;
		}
		memcpy(buf + got, rd->buf, rd->h.len);
		got += rd->h.len;
	}
	if (r <= 0) {
		r = r < 0 ? r : -EPIPE; /* the reader ended in mid-file */
	} else if (rd->h.type == REC_END && got == size) {
		r = walk_content(w, path, buf, (size_t)size, &buf, rd->depth + 1, false);
	} else if (rd->h.type == REC_ERROR) {
		const char *msg = NULL;

		r = rec_path(rd, &msg) ? emit_error(w, path, "%s", msg) : -EPROTO;
	} else {
		r = -EPROTO;
	}
out:
	free(buf);
	free(path);
	return r;
}

/* One record after REC_OPENED: 0 to go on, 1 when the walk is done (@done
 * its result), or < 0. */
static int take_rec(struct walker *w, struct reader *rd, const char *image, int *done)
{
	const char *inside, *msg = NULL;
	char *path;
	int r;

	switch (rd->h.type) {
	case REC_DONE: {
		int32_t res;

		if (rd->h.len != sizeof(res))
			return -EPROTO;
		memcpy(&res, rd->buf, sizeof(res));
		*done = res;
		return 1;
	}
	case REC_FILE:
		return take_file(w, rd, image);
	case REC_PART:
		inside = rec_path(rd, NULL);
		if (!inside || strlen(inside) >= sizeof(rd->part))
			return -EPROTO;
		snprintf(rd->part, sizeof(rd->part), "%s", inside);
		return 0;
	case REC_TOO_BIG:
	case REC_SKIP:
	case REC_ERROR:
	case REC_UNSCANNED:
		break;
	default:
		return -EPROTO;
	}
	inside = rec_path(rd, rd->h.type == REC_ERROR || rd->h.type == REC_UNSCANNED ? &msg : NULL);
	if (!inside)
		return -EPROTO;
	path = inside[0] ? join(image, "!", inside) : strdup(image);
	if (!path)
		return -ENOMEM;
	if (rd->h.type == REC_TOO_BIG)
		r = emit_too_big(w, path);
	else if (rd->h.type == REC_SKIP)
		r = (pvsub_dbg(w->ctx, "%s: skipped, " MSG_NOT_RECOGNISED, path), 0);
	else if (rd->h.type == REC_ERROR)
		r = emit_error(w, path, "%s", msg);
	else
		r = emit_item(w, path, NULL, 0, NULL, msg);
	free(path);
	return r;
}

/* Why the reader ended without saying it was done, from its wait status. */
static int reader_died(struct walker *w, struct reader *rd, const char *image, int status,
		       int proto)
{
	char *where = rd->part[0] ? join(image, "!", rd->part) : strdup(image);
	int r;

	if (!where)
		return -ENOMEM;
	if (proto)
		r = emit_error(w, where, "disk image reader failed (%s)", strerror(-proto));
	else if (WIFSIGNALED(status) &&
		 (WTERMSIG(status) == SIGPROF || WTERMSIG(status) == SIGXCPU ||
		  WTERMSIG(status) == SIGKILL))
		r = emit_error(w, where,
			       "disk image reader stopped: it used up its %" PRIu64 ".%03u s of "
			       "CPU time",
			       rd->limits.cpu_ms / 1000, (unsigned)(rd->limits.cpu_ms % 1000));
	else if (WIFSIGNALED(status))
		r = emit_error(w, where, "disk image reader crashed (%s)",
			       strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == READER_EXIT_NOMEM)
		r = emit_error(w, where,
			       "disk image reader ran out of memory (its limit: %" PRIu64
			       " KiB more than the scanner's own)",
			       rd->limits.memory >> 10);
	else if (WIFEXITED(status) && WEXITSTATUS(status))
		r = emit_error(w, where, "disk image reader failed (exit status %d)",
			       WEXITSTATUS(status));
	else
		r = emit_error(w, where, "disk image reader failed (it ended early)");
	free(where);
	return r;
}

/* Start the reader on @fd; rd->pid and rd->fd set. */
static int reader_start(struct walker *w, int fd, const struct pvsub_diskimage_opts *opts,
			struct reader *rd)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* Fewer, larger transfers: a file's pieces are 1 MiB. */
	(void)fcntl(p[0], F_SETPIPE_SZ, DATA_PIECE);
	rd->pid = fork();
	if (rd->pid < 0) {
		int r = -errno;

		close(p[0]);
		close(p[1]);
		return r;
	}
	if (rd->pid == 0) {
		close(p[0]);
		reader_main(w->lim, &rd->limits, fd, p[1], opts);
	}
	close(p[1]);
	rd->fd = p[0];
	return 0;
}

/* Close the pipe, make sure the reader is gone, and collect its status. */
static int reader_stop(struct reader *rd, bool kill_it)
{
	int status = 0;

	if (rd->fd >= 0)
		close(rd->fd);
	rd->fd = -1;
	if (rd->pid <= 0)
		return 0;
	if (kill_it)
		kill(rd->pid, SIGKILL);
	while (waitpid(rd->pid, &status, 0) < 0 && errno == EINTR)
		;
	rd->pid = -1;
	return status;
}

/* Where a backing file may be: the image's own directory, when allowed. */
static int backing_dir(const struct walker *w, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!w->lim->allow_backing_file)
		return -1;
	dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (!dir)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	return fd;
}

/*
 * The item for the image itself (pvsub_input_limits.image_summaries), after
 * its walk: its SHA-256 from @fd, the bytes the reader read.  An image
 * larger than max_total_size is not read whole: an error item instead.
 */
static int emit_image_summary(struct walker *w, int fd, const char *path, const char *format)
{
	struct pvsub_diag diag = {""};
	struct pvsub_item *item;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return emit_error(w, path, "%s", strerror(errno));
	if ((uint64_t)st.st_size > w->lim->max_total_size)
		return emit_error(w, path,
				  "image of %" PRIu64 " bytes: too large to hash for its manifest "
				  "(limit %" PRIu64 " bytes, --max-total-size)",
				  (uint64_t)st.st_size, w->lim->max_total_size);
	item = calloc(1, sizeof(*item));
	if (!item)
		return -ENOMEM;
	item->image = calloc(1, sizeof(*item->image));
	item->path = strdup(path);
	if (!item->image || !item->path) {
		pvsub_item_free(item);
		return -ENOMEM;
	}
	r = pvsub_sha256_fd_hex(fd, (uint64_t)st.st_size, item->image->sha256, &diag);
	if (r < 0) {
		pvsub_item_free(item);
		if (r == -ENOMEM)
			return r;
		return emit_error(w, path, "cannot hash the image: %s", diag.msg);
	}
	snprintf(item->image->format, sizeof(item->image->format), "%s", format);
	item->image->size = (uint64_t)st.st_size;
	item->image_len = strlen(path);
	r = w->fn(w->data, item);
	return r < 0 ? r : 0;
}

/* Read the records of the reader @rd after REC_OPENED, to the end of the
 * walk; the walk's result. */
static int take_walk(struct walker *w, struct reader *rd, const char *path, const char *format)
{
	int r, done = 0;

	for (;;) {
		r = next_rec(rd);
		if (r <= 0)
			/* Ended without saying it was done: killed by a limit, a
			 * crash, or records no reader sends. */
			return reader_died(w, rd, path, reader_stop(rd, r < 0), r);
		r = take_rec(w, rd, path, &done);
		if (r == 0 && w->input_stopped)
			r = -ECANCELED;
		if (r)
			break;
	}
	if (r == -EPIPE)
		return reader_died(w, rd, path, reader_stop(rd, false), 0);
	if (r == -EPROTO)
		return reader_died(w, rd, path, reader_stop(rd, true), r);
	if (r < 0) {
		/* Stopped here: the budget (its error said) or the callback. */
		reader_stop(rd, true);
		return r == -ECANCELED ? 0 : r;
	}
	reader_stop(rd, false);
	if (done < 0)
		return emit_error(w, path, "disk image reader failed (%s)", strerror(-done));
	if (w->lim->image_summaries)
		return emit_image_summary(w, rd->fd_image, path, format);
	return 0;
}

/* The disk image in @fd at @depth, if it is one: -ENOTSUP when TSK finds
 * no partition table or file system in a raw file (nothing delivered).
 * @in_memory: @fd is a memory file (an archive member, a pipe), beside no
 * directory: a backing file is refused whatever the limits allow. */
static int walk_diskimage(struct walker *w, int fd, const char *path, unsigned depth,
			  bool in_memory)
{
	struct pvsub_diskimage_opts opts = {.announce_partitions = true};
	struct reader rd = {.pid = -1,
			    .fd = -1,
			    .fd_image = fd,
			    .limits = reader_limits_of(w->lim, fd),
			    .depth = depth};
	size_t outer = w->image_len;
	char format[8] = "";
	int r;

	rd.buf = malloc(REC_MAX + 1);
	if (!rd.buf)
		return -ENOMEM;
	opts.allow_backing_file = w->lim->allow_backing_file && !in_memory;
	opts.dirfd = in_memory ? -1 : backing_dir(w, path);
	r = reader_start(w, fd, &opts, &rd);
	if (opts.dirfd >= 0)
		close(opts.dirfd);
	if (r < 0) {
		free(rd.buf);
		return emit_error(w, path, "cannot start the disk image reader: %s", strerror(-r));
	}
	r = next_rec(&rd);
	if (r > 0 && rd.h.type == REC_NOTSUP) {
		reader_stop(&rd, false);
		free(rd.buf);
		return -ENOTSUP;
	}
	w->image_len = strlen(path);
	if (r > 0 && rd.h.type == REC_REFUSED) {
		reader_stop(&rd, false);
		r = emit_error(w, path, "%s", (const char *)rd.buf);
	} else if (r > 0 && rd.h.type == REC_OPENED && rd.h.len < sizeof(format) &&
		   strlen((const char *)rd.buf) == rd.h.len) {
		memcpy(format, rd.buf, rd.h.len + 1);
		pvsub_dbg(w->ctx, "%s: %s disk image", path, format);
		r = take_walk(w, &rd, path, format);
	} else {
		r = reader_died(w, &rd, path, reader_stop(&rd, r != 0), r < 0 ? r : 0);
	}
	w->image_len = outer;
	free(rd.buf);
	return r;
}

/*
 * Disk images that are not files: an archive member (in memory already) or
 * a pipe.  Their bytes go into an anonymous memory file, sealed, never a
 * file on disk, which the reader reads as it reads an image file; a qcow2
 * backing file is refused, there being no directory to look in.
 */
static int memory_file(void)
{
	int fd = memfd_create("pvsub-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	return fd < 0 ? -errno : fd;
}

static int seal(int fd)
{
	return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0
		       ? -errno
		       : 0;
}

/* A disk image in the @len bytes at @buf, found at @depth: 1 when it is
 * not one after all (nothing delivered), 0, or < 0. */
static int walk_image_buffer(struct walker *w, const char *path, const uint8_t *buf, size_t len,
			     unsigned depth)
{
	int fd, r;

	/* An image's files are named by one image, and its manifest lists
	 * them: an image inside another is not opened.  A boot sector alone
	 * (GRUB's boot.img: an MBR signature, no partition) is no image. */
	if (w->image_len && !(pvsub_diskimage_is_qcow2(buf, len) || has_partition_or_fs(buf, len)))
		return 1;
	if (w->image_len)
		return emit_error(w, path, "a disk image inside a disk image is not read");
	if (depth > w->lim->max_depth)
		return emit_error(w, path, "archive nesting exceeds the depth limit (%u)",
				  w->lim->max_depth);
	fd = memory_file();
	if (fd < 0)
		return emit_error(w, path, "cannot make a memory file: %s", strerror(-fd));
	r = write_all(fd, buf, len);
	if (r == 0)
		r = seal(fd);
	if (r < 0)
		r = emit_error(w, path, "cannot fill a memory file: %s", strerror(-r));
	else
		r = walk_diskimage(w, fd, path, depth, true);
	close(fd);
	return r == -ENOTSUP ? 1 : r;
}

/* A stream whose first @n bytes, @head, could start a disk image (any
 * bytes of a bare file system's first kilobyte are zeros). */
static bool stream_may_be_image(const uint8_t *head, size_t n)
{
	if (pvsub_diskimage_probe_buffer(head, n))
		return true;
	if (n < SNIFF_SIZE)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (head[i])
			return false;
	}
	return true;
}

/* The rest of the stream @fd after @head into a new sealed memory file,
 * within max_entry_size: the file, -EFBIG past the limit, or < 0. */
static int spool_stream(struct walker *w, int fd, const uint8_t *head, size_t n)
{
	uint64_t total = n;
	uint8_t *buf = malloc(CHUNK_SIZE);
	int mfd = memory_file(), r;

	r = mfd < 0 ? mfd : buf ? 0 : -ENOMEM;
	if (r == 0)
		r = write_all(mfd, head, n);
	while (r == 0) {
		ssize_t got = read(fd, buf, CHUNK_SIZE);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = got < 0 ? -errno : 1;
			break;
		}
		total += (uint64_t)got;
		if (total > w->lim->max_entry_size)
			r = -EFBIG;
		else
			r = write_all(mfd, buf, (size_t)got);
	}
	free(buf);
	if (r == 1)
		r = seal(mfd);
	if (r < 0) {
		if (mfd >= 0)
			close(mfd);
		return r;
	}
	return mfd;
}

/* Standard input or a FIFO that may hold a disk image (stream_may_be_image()). */
static int walk_stream_image(struct walker *w, int fd, const char *path, const uint8_t *head,
			     size_t n)
{
	int mfd = spool_stream(w, fd, head, n), r;

	if (mfd == -EFBIG)
		return emit_too_big(w, path);
	if (mfd == -ENOMEM)
		return mfd;
	if (mfd < 0)
		return emit_error(w, path, "%s", strerror(-mfd));
	r = pvsub_diskimage_probe(mfd, head, n) ? walk_diskimage(w, mfd, path, 0, true) : -ENOTSUP;
	close(mfd);
	if (r == -ENOTSUP)
		r = emit_error(w, path, MSG_NOT_RECOGNISED);
	return r;
}

static int walk_file(struct walker *w, int fd, const char *path, bool explicit)
{
	struct pvsub_buf content = {0};
	struct archive *a = NULL;
	uint8_t head[SNIFF_SIZE];
	enum kind kind;
	ssize_t n;
	int r;

	start_input(w, path);
	n = read_full(fd, head, sizeof(head), true);
	if (n < 0)
		return emit_error(w, path, "%s", strerror((int)-n));
	kind = sniff(head, (size_t)n);
	switch (kind) {
	case KIND_ELF:
		r = read_fd_all(fd, w->lim->max_entry_size, &content);
		r = emit_read(w, path, r, &content);
		break;
	case KIND_BZIMAGE:
		r = read_fd_all(fd, w->lim->max_entry_size, &content);
		r = read_bzimage(w, path, r, &content);
		break;
	case KIND_UNSCANNED:
		r = emit_unscanned(w, path, head, (size_t)n);
		break;
	case KIND_ARCHIVE:
	case KIND_MAYBE_ARCHIVE:
		r = archive_new_reader(&a);
		if (r < 0)
			break;
		if (archive_read_open_fd(a, fd, CHUNK_SIZE) != ARCHIVE_OK)
			r = open_failed(w, a, path, kind == KIND_MAYBE_ARCHIVE, explicit);
		else
			r = walk_archive(w, a, path, 0, kind == KIND_MAYBE_ARCHIVE, explicit);
		break;
	default:
		r = 0;
		if (pvsub_diskimage_probe(fd, head, (size_t)n)) {
			r = walk_diskimage(w, fd, path, 0, false);
			if (r != -ENOTSUP)
				break;
			r = 0;
		}
		if (far_pe_header(head, (size_t)n)) {
			/* Its PE header lies past the sniffed bytes: read it all. */
			r = read_fd_all(fd, w->lim->max_entry_size, &content);
			r = read_far_pe(w, path, r, &content, explicit);
		} else if (explicit)
			r = emit_error(w, path, MSG_NOT_RECOGNISED);
		else
			pvsub_dbg(w->ctx, "%s: skipped, " MSG_NOT_RECOGNISED, path);
		break;
	}
	if (a)
		archive_read_free(a);
	pvsub_buf_release(&content);
	return r;
}

/*
 * A pipe (standard input, /dev/stdin, /dev/fd/N, a FIFO) cannot be read
 * twice or at an offset: sniff its first bytes, then hand libarchive those
 * bytes followed by the rest of the stream, so an archive of any size is
 * walked without being held in memory.  An ELF file is read whole, within
 * max_entry_size, as from a file.
 */
struct stream {
	int fd;
	const uint8_t *head;
	size_t head_len;
	bool head_given;
	uint8_t buf[CHUNK_SIZE];
};

static la_ssize_t stream_read(struct archive *a, void *data, const void **out)
{
	struct stream *s = data;
	ssize_t n;

	if (!s->head_given) {
		s->head_given = true;
		if (s->head_len) {
			*out = s->head;
			return (la_ssize_t)s->head_len;
		}
	}
	do
		n = read(s->fd, s->buf, sizeof(s->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "%s", strerror(errno));
		return ARCHIVE_FATAL;
	}
	*out = s->buf;
	return (la_ssize_t)n;
}

/* A whole file from a stream whose first @n bytes, @head, were read to
 * sniff it: into @content, within max_entry_size (-EFBIG past it). */
static int read_stream_rest(struct walker *w, int fd, const uint8_t *head, size_t n,
			    struct pvsub_buf *content)
{
	int r = pvsub_buf_append(content, head, n);

	if (r == 0)
		r = read_fd_all(fd, w->lim->max_entry_size, content);
	if (r == 0 && content->len > w->lim->max_entry_size)
		r = -EFBIG;
	return r;
}

static int walk_stream(struct walker *w, int fd, const char *path, bool explicit)
{
	struct pvsub_buf content = {0};
	struct archive *a = NULL;
	struct stream *s = NULL;
	uint8_t head[SNIFF_SIZE];
	enum kind kind;
	ssize_t n;
	int r;

	start_input(w, path);
	n = read_full(fd, head, sizeof(head), false);
	if (n < 0)
		return emit_error(w, path, "%s", strerror((int)-n));
	kind = sniff(head, (size_t)n);
	switch (kind) {
	case KIND_ELF:
		r = read_stream_rest(w, fd, head, (size_t)n, &content);
		r = emit_read(w, path, r, &content);
		break;
	case KIND_BZIMAGE:
		r = read_stream_rest(w, fd, head, (size_t)n, &content);
		r = read_bzimage(w, path, r, &content);
		break;
	case KIND_UNSCANNED:
		r = emit_unscanned(w, path, head, (size_t)n);
		break;
	case KIND_ARCHIVE:
	case KIND_MAYBE_ARCHIVE:
		s = malloc(sizeof(*s));
		r = s ? archive_new_reader(&a) : -ENOMEM;
		if (r < 0)
			break;
		*s = (struct stream){.fd = fd, .head = head, .head_len = (size_t)n};
		if (archive_read_open(a, s, NULL, stream_read, NULL) != ARCHIVE_OK)
			r = open_failed(w, a, path, kind == KIND_MAYBE_ARCHIVE, explicit);
		else
			r = walk_archive(w, a, path, 0, kind == KIND_MAYBE_ARCHIVE, explicit);
		break;
	default:
		r = 0;
		if (far_pe_header(head, (size_t)n)) {
			r = read_stream_rest(w, fd, head, (size_t)n, &content);
			r = read_far_pe(w, path, r, &content, explicit);
		} else if (explicit && stream_may_be_image(head, (size_t)n))
			r = walk_stream_image(w, fd, path, head, (size_t)n);
		else if (explicit)
			r = emit_error(w, path, n ? MSG_NOT_RECOGNISED : "empty input");
		else
			pvsub_dbg(w->ctx, "%s: skipped, " MSG_NOT_RECOGNISED, path);
		break;
	}
	if (a)
		archive_read_free(a);
	free(s);
	pvsub_buf_release(&content);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_fd(struct walker *w, int fd, const char *path, bool explicit,
		   const struct dir_frame *up);

static int walk_dir_entry(struct walker *w, int dfd, const char *dpath, const char *name,
			  const struct dir_frame *frame)
{
	struct stat st;
	char *path;
	int fd, flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
	int r = 0;

	path = join(dpath, dpath[0] && dpath[strlen(dpath) - 1] == '/' ? "" : "/", name);
	if (!path)
		return -ENOMEM;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = emit_error(w, path, "%s", strerror(errno));
		goto out;
	}
	if (S_ISLNK(st.st_mode) || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) {
		pvsub_dbg(w->ctx, "%s: skipped, not a regular file or directory", path);
		goto out;
	}
	fd = openat(dfd, name, flags | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if (fd < 0) {
		r = emit_error(w, path, "%s", strerror(errno));
		goto out;
	}
	r = walk_fd(w, fd, path, false, frame);
out:
	free(path);
	return r;
}

/* Takes over @fd. */
static int walk_dir(struct walker *w, int fd, const char *path, const struct stat *st,
		    const struct dir_frame *up)
{
	struct dir_frame frame = {.dev = st->st_dev, .ino = st->st_ino, .up = up};
	struct dirent *de;
	DIR *dir = NULL;
	char **names = NULL, **grown;
	size_t n = 0, cap = 0;
	int r = 0;

	for (const struct dir_frame *f = up; f; f = f->up) {
		if (f->dev == st->st_dev && f->ino == st->st_ino) {
			close(fd);
			return emit_error(w, path, "directory loop");
		}
	}
	dir = fdopendir(fd);
	if (!dir) {
		r = emit_error(w, path, "%s", strerror(errno));
		close(fd);
		return r;
	}
	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			grown = realloc(names, cap * sizeof(*names));
			if (!grown) {
				r = -ENOMEM;
				goto out;
			}
			names = grown;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (errno) {
		r = emit_error(w, path, "%s", strerror(errno));
		goto out;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && r >= 0; i++)
		r = walk_dir_entry(w, dirfd(dir), path, names[i], &frame);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return r;
}

/*
 * A pipe named on the command line is read as the user asked, blocking.  A
 * FIFO without a writer does not hang the scan: it reads as empty.
 */
static int read_as_stream(struct walker *w, int fd, const char *path)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return emit_error(w, path, "%s", strerror(errno));
	return walk_stream(w, fd, path, true);
}

/* Takes over @fd. */
static int walk_fd(struct walker *w, int fd, const char *path, bool explicit,
		   const struct dir_frame *up)
{
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0) {
		r = emit_error(w, path, "%s", strerror(errno));
		close(fd);
		return r;
	}
	if (S_ISDIR(st.st_mode))
		return walk_dir(w, fd, path, &st, up);
	if (S_ISREG(st.st_mode))
		r = walk_file(w, fd, path, explicit);
	else if (explicit && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		r = read_as_stream(w, fd, path);
	else if (explicit)
		r = emit_error(w, path, "not a regular file or directory");
	else
		r = 0;
	close(fd);
	return r;
}

int pvsub_input_walk(struct pvsub_ctx *ctx, const char *path,
		     const struct pvsub_input_limits *limits, pvsub_item_fn fn, void *data)
{
	struct walker w = {.ctx = ctx, .lim = limits, .fn = fn, .data = data};
	int fd;

	/* O_NONBLOCK: a FIFO named by mistake must not hang the scan. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return emit_error(&w, path, "%s", strerror(errno));
	return walk_fd(&w, fd, path, true, NULL);
}

int pvsub_input_walk_fd(struct pvsub_ctx *ctx, int fd, const char *name,
			const struct pvsub_input_limits *limits, pvsub_item_fn fn, void *data)
{
	struct walker w = {.ctx = ctx, .lim = limits, .fn = fn, .data = data};
	struct stat st;
	int own;

	if (fstat(fd, &st) < 0)
		return emit_error(&w, name, "%s", strerror(errno));
	if (S_ISCHR(st.st_mode) && isatty(fd))
		return emit_error(&w, name, "standard input is a terminal, not a file");
	own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (own < 0)
		return emit_error(&w, name, "%s", strerror(errno));
	/* A regular file (`< file`) is read from its start like any file; a
	 * device (/dev/null in a CI job) as a stream, like a pipe. */
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		int r = read_as_stream(&w, own, name);

		close(own);
		return r;
	}
	return walk_fd(&w, own, name, true, NULL);
}

int pvsub_input_walk_memory(struct pvsub_ctx *ctx, const char *name, const uint8_t *buf, size_t len,
			    const struct pvsub_input_limits *limits, pvsub_item_fn fn, void *data)
{
	struct walker w = {.ctx = ctx, .lim = limits, .fn = fn, .data = data};

	start_input(&w, name);
	if (is_elf(buf, len) && len > limits->max_entry_size)
		return emit_too_big(&w, name);
	return walk_content(&w, name, buf, len, NULL, 0, true);
}
