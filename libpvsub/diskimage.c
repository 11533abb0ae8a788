/* SPDX-License-Identifier: MIT */
/*
 * diskimage: guest disk images through The Sleuth Kit, qcow2 through libqcow.
 *
 * TSK reads the image through a TSK_IMG_INFO whose read callback is ours
 * (TSK's "external image" interface): pread() on the caller's descriptor
 * for a raw image, libqcow_file_read_buffer_at_offset() for qcow2.  TSK
 * caches what it reads, and reads only the tables and the blocks the file
 * system points at, so a sparse image is never read whole.
 *
 * The directory walk is ours, not tsk_fs_dir_walk(): it keeps the chain of
 * directories above the current one, so that a directory that contains
 * itself ends the partition with one error instead of being skipped
 * silently, and the set of files already delivered, so that hard links are
 * delivered once.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libqcow.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tsk/libtsk.h>
#include <unistd.h>

#include "libpvsub/diskimage.h"

/*
 * TSK builds the list of a file's blocks before it reads a byte of it, and
 * from ext2/3 block maps that list has one run per block, fragmented or
 * sparse: a directory claiming gigabytes of a small file system takes TSK
 * seconds to minutes (found by fuzz_diskimage).  No real directory is this
 * large; regular files are bounded by the caller's entry limit.
 */
#define MAX_DIR_SIZE (UINT64_C(64) << 20)

/* The sector size TSK assumes; 4 KiB-sector GPTs are not looked for. */
#define SECTOR_SIZE 512

struct pvsub_diskimage;

/* TSK's view of the image: its TSK_IMG_INFO must come first. */
struct ext_img {
	TSK_IMG_INFO info;
	struct pvsub_diskimage *owner;
};

/*
 * qcow2 bytes are read in aligned blocks kept in a small cache: TSK asks for
 * 64 KiB at any sector, which straddles two clusters, and a compressed
 * cluster is inflated whole for every read that touches it.
 */
#define QBLOCK_SIZE (256 * 1024)
#define QBLOCKS 4

struct qblock {
	uint64_t off;
	size_t len; /* 0: empty */
	unsigned age;
	uint8_t *data;
};

struct pvsub_diskimage {
	int fd;		      /* the caller's; raw images are read from it */
	libqcow_file_t *qcow; /* qcow2 only */
	uint64_t size;	      /* virtual size */
	struct ext_img *ext;  /* owned by TSK once opened: tsk_img_close() */
	TSK_IMG_INFO *img;
	TSK_VS_INFO *vs;	    /* a partition table, or */
	TSK_FS_INFO *fs;	    /* a bare file system */
	char read_error[256];	    /* the first failed read, for a better message */
	char first_read_error[256]; /* the image's first failed read, kept */
	bool error_said;	    /* an error entry or a failed file read */
	struct qblock qcache[QBLOCKS];
	unsigned qclock;
	bool announce_partitions; /* pvsub_diskimage_opts */
	/* Backing files, when allowed: parents[0] backs the image. */
	libqcow_file_t *parents[PVSUB_DISKIMAGE_MAX_BACKING];
	unsigned n_parents;
};

struct pvsub_diskimage_file {
	struct pvsub_diskimage *img;
	TSK_FS_FILE *f;
	uint64_t size;
};

/* The metadata addresses delivered in one file system (hard links). */
struct addr_set {
	uint64_t *slot; /* address + 1; 0 is empty */
	size_t cap, n;
};

/* A directory above the one being read, to find loops. */
struct dir_frame {
	TSK_INUM_T addr;
	const struct dir_frame *up;
};

/* One partition's (or bare file system's) walk. */
struct fs_walk {
	struct pvsub_diskimage *img;
	TSK_FS_INFO *fs;
	const char *prefix; /* "p2!" or "" */
	pvsub_diskimage_fn fn;
	void *data;
	struct addr_set seen;
	bool ended; /* an error ended this file system */
};

/* A directory entry kept from TSK's listing, to sort by name. */
struct dent {
	char *name;
	TSK_INUM_T addr;
	TSK_FS_NAME_TYPE_ENUM type;
};

bool pvsub_diskimage_is_qcow2(const uint8_t *head, size_t n)
{
	return n >= 4 && memcmp(head, "QFI\xfb", 4) == 0;
}

static bool magic_at(int fd, off_t off, const void *magic, size_t len)
{
	uint8_t buf[16];

	return len <= sizeof(buf) && pread(fd, buf, len, off) == (ssize_t)len &&
	       memcmp(buf, magic, len) == 0;
}

bool pvsub_diskimage_probe(int fd, const uint8_t *head, size_t n)
{
	if (pvsub_diskimage_is_qcow2(head, n))
		return true;
	/* An MBR (or a FAT boot sector, or a protective MBR before a GPT). */
	if (n >= 512 && head[510] == 0x55 && head[511] == 0xaa)
		return true;
	if (n >= 520 && memcmp(head + 512, "EFI PART", 8) == 0)
		return true;
	/* ext2/3/4: the superblock at 1024, its s_magic at 0x38. */
	if (magic_at(fd, 1024 + 0x38, "\x53\xef", 2))
		return true;
	/* ISO9660: the first volume descriptor at 32 KiB. */
	return magic_at(fd, 32768 + 1, "CD001", 5);
}

bool pvsub_diskimage_probe_buffer(const uint8_t *buf, size_t len)
{
	if (pvsub_diskimage_is_qcow2(buf, len))
		return true;
	if (len >= 512 && buf[510] == 0x55 && buf[511] == 0xaa)
		return true;
	if (len >= 520 && memcmp(buf + 512, "EFI PART", 8) == 0)
		return true;
	if (len >= 1024 + 0x3a && memcmp(buf + 1024 + 0x38, "\x53\xef", 2) == 0)
		return true;
	return len >= 32768 + 6 && memcmp(buf + 32768 + 1, "CD001", 5) == 0;
}

/* TSK's last error (its caller makes it one line). */
static const char *tsk_message(void)
{
	const char *m = tsk_error_get();

	return m && *m ? m : "unreadable";
}

static void set_read_error(struct pvsub_diskimage *d, const char *msg)
{
	if (!d->read_error[0])
		snprintf(d->read_error, sizeof(d->read_error), "%s", msg);
	if (!d->first_read_error[0])
		snprintf(d->first_read_error, sizeof(d->first_read_error), "%s", msg);
}

static ssize_t raw_read(TSK_IMG_INFO *info, TSK_OFF_T off, char *buf, size_t len)
{
	struct pvsub_diskimage *d = ((struct ext_img *)info)->owner;
	size_t got = 0;

	if (off < 0 || (uint64_t)off > d->size)
		return -1;
	if (len > d->size - (uint64_t)off)
		len = (size_t)(d->size - (uint64_t)off);
	while (got < len) {
		ssize_t n = pread(d->fd, buf + got, len - got, (off_t)((uint64_t)off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_read_error(d, strerror(errno));
			tsk_error_reset();
			tsk_error_set_errno(TSK_ERR_IMG_READ);
			tsk_error_set_errstr("%s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			/* The file shrank under us: the rest is not there. */
			memset(buf + got, 0, len - got);
			break;
		}
		got += (size_t)n;
	}
	return (ssize_t)len;
}

/*
 * libqcow's message for @e (freed), one line: of its backtrace (deepest
 * call first, the API call last) the line below the API call, which names
 * what failed in the file, without its function name.
 */
static void qcow_message(libqcow_error_t *e, char *out, size_t size)
{
	char trace[2048], *line, *last = NULL, *before = NULL, *colon, *save = NULL;

	out[0] = '\0';
	if (!e || libqcow_error_backtrace_sprint(e, trace, sizeof(trace)) < 0)
		trace[0] = '\0';
	libqcow_error_free(&e);
	for (line = strtok_r(trace, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		before = last;
		last = line;
	}
	line = before ? before : last;
	if (line) {
		colon = strstr(line, ": ");
		snprintf(out, size, "%s", colon ? colon + 2 : line);
	}
	for (char *p = out; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	if (!out[0])
		snprintf(out, size, "unreadable");
}

/* The cached block of @d at @off (aligned), read on a miss; NULL after a
 * read error (reported to TSK). */
static const struct qblock *qcow_block(struct pvsub_diskimage *d, uint64_t off)
{
	struct qblock *q = &d->qcache[0];
	libqcow_error_t *e = NULL;
	char msg[256];
	ssize_t n;

	for (unsigned i = 0; i < QBLOCKS; i++) {
		if (d->qcache[i].len && d->qcache[i].off == off) {
			d->qcache[i].age = ++d->qclock;
			return &d->qcache[i];
		}
		if (d->qcache[i].age < q->age)
			q = &d->qcache[i];
	}
	if (!q->data) {
		q->data = malloc(QBLOCK_SIZE);
		if (!q->data) {
			tsk_error_reset();
			tsk_error_set_errno(TSK_ERR_AUX_MALLOC);
			tsk_error_set_errstr("out of memory");
			return NULL;
		}
	}
	q->len = 0;
	n = libqcow_file_read_buffer_at_offset(d->qcow, q->data,
					       d->size - off < QBLOCK_SIZE ? (size_t)(d->size - off)
									   : QBLOCK_SIZE,
					       (off64_t)off, &e);
	if (n <= 0) {
		if (n == 0)
			snprintf(msg, sizeof(msg), "short read at %" PRIu64, off);
		else
			qcow_message(e, msg, sizeof(msg));
		set_read_error(d, msg);
		tsk_error_reset();
		tsk_error_set_errno(TSK_ERR_IMG_READ);
		tsk_error_set_errstr("qcow2: %s", msg);
		return NULL;
	}
	q->off = off;
	q->len = (size_t)n;
	q->age = ++d->qclock;
	return q;
}

static ssize_t qcow_read(TSK_IMG_INFO *info, TSK_OFF_T off, char *buf, size_t len)
{
	struct pvsub_diskimage *d = ((struct ext_img *)info)->owner;
	size_t done = 0;

	while (done < len) {
		uint64_t at = (uint64_t)off + done;
		uint64_t base = at & ~(uint64_t)(QBLOCK_SIZE - 1);
		const struct qblock *q = qcow_block(d, base);
		size_t skip = (size_t)(at - base), n;

		if (!q)
			return -1;
		if (skip >= q->len)
			break;
		n = q->len - skip < len - done ? q->len - skip : len - done;
		memcpy(buf + done, q->data + skip, n);
		done += n;
	}
	return (ssize_t)done;
}

/* TSK closes the image through this. */
static void ext_close(TSK_IMG_INFO *info)
{
	free(info);
}

static void ext_stat(TSK_IMG_INFO *info, FILE *f)
{
	(void)info;
	(void)f;
}

void pvsub_diskimage_free(struct pvsub_diskimage *d)
{
	if (!d)
		return;
	if (d->fs)
		tsk_fs_close(d->fs);
	if (d->vs)
		tsk_vs_close(d->vs);
	if (d->img)
		tsk_img_close(d->img);
	else
		free(d->ext);
	for (unsigned i = 0; i < QBLOCKS; i++)
		free(d->qcache[i].data);
	if (d->qcow) {
		libqcow_file_close(d->qcow, NULL);
		libqcow_file_free(&d->qcow, NULL);
	}
	for (unsigned i = d->n_parents; i-- > 0;) {
		libqcow_file_close(d->parents[i], NULL);
		libqcow_file_free(&d->parents[i], NULL);
	}
	free(d);
}

const char *pvsub_diskimage_format(const struct pvsub_diskimage *d)
{
	return d->qcow ? "qcow2" : "raw";
}

/* The header checks of an opened qcow2 file @q (@what names it in
 * messages): not encrypted; the size of its backing file's name in
 * *@backing (0: none). */
static int check_qcow(libqcow_file_t *q, const char *what, size_t *backing, struct pvsub_diag *diag)
{
	libqcow_error_t *e = NULL;
	uint32_t method = 0;
	char msg[256];

	*backing = 0;
	if (libqcow_file_get_utf8_backing_filename_size(q, backing, &e) < 0) {
		qcow_message(e, msg, sizeof(msg));
		return pvsub_diag_set(diag, EINVAL, "%s header: %s", what, msg);
	}
	if (libqcow_file_get_encryption_method(q, &method, &e) != 1) {
		qcow_message(e, msg, sizeof(msg));
		return pvsub_diag_set(diag, EINVAL, "%s header: %s", what, msg);
	}
	if (method != LIBQCOW_ENCRYPTION_METHOD_NONE)
		return pvsub_diag_set(diag, EINVAL, "encrypted %s: refused", what);
	return 0;
}

/* Open the qcow2 file in @fd with libqcow into *@q, by the descriptor's
 * /proc path, so that the file read is the one checked. */
static int qcow_open_fd(int fd, libqcow_file_t **q, const char *what, struct pvsub_diag *diag)
{
	libqcow_error_t *e = NULL;
	char name[64], msg[256];

	if (libqcow_file_initialize(q, &e) != 1) {
		libqcow_error_free(&e);
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	if (libqcow_file_open(*q, name, LIBQCOW_OPEN_READ, &e) != 1) {
		qcow_message(e, msg, sizeof(msg));
		libqcow_file_free(q, NULL);
		return pvsub_diag_set(diag, EINVAL, "not a readable %s: %s", what, msg);
	}
	return 0;
}

/* A backing file name pvsub opens: a file name in the image's own
 * directory, without any directory part. */
static bool plain_name(const char *name)
{
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

/*
 * Give @child (depth @depth in the chain) its backing file, whose name is
 * @size bytes long with its NUL: opened in @dirfd by name only, not through
 * a symbolic link, checked to be a qcow2 file, and given its own backing
 * file the same way.
 */
static int attach_backing(struct pvsub_diskimage *d, libqcow_file_t *child, size_t size, int dirfd,
			  unsigned depth, struct pvsub_diag *diag)
{
	libqcow_error_t *e = NULL;
	char name[256], shown[160], msg[256];
	libqcow_file_t *parent = NULL;
	uint8_t magic[4];
	size_t next = 0;
	struct stat st;
	int fd = -1, r;

	if (depth > PVSUB_DISKIMAGE_MAX_BACKING || d->n_parents >= PVSUB_DISKIMAGE_MAX_BACKING)
		return pvsub_diag_set(diag, EINVAL, "qcow2 backing files nested deeper than %d",
				      PVSUB_DISKIMAGE_MAX_BACKING);
	if (size > sizeof(name))
		return pvsub_diag_set(diag, EINVAL, "qcow2 backing file name too long: refused");
	if (libqcow_file_get_utf8_backing_filename(child, (uint8_t *)name, sizeof(name), &e) != 1) {
		qcow_message(e, msg, sizeof(msg));
		return pvsub_diag_set(diag, EINVAL, "qcow2 backing file name: %s", msg);
	}
	name[sizeof(name) - 1] = '\0';
	pvsub_quote(name, strlen(name), shown, sizeof(shown));
	if (!plain_name(name))
		return pvsub_diag_set(diag, EINVAL,
				      "qcow2 backing file \"%s\": refused (only a file in the "
				      "image's own directory, named without a directory, is read)",
				      shown);
	if (dirfd < 0)
		return pvsub_diag_set(diag, EINVAL,
				      "qcow2 backing file \"%s\": the image's directory is unknown",
				      shown);
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return pvsub_diag_set(diag, EINVAL, "qcow2 backing file \"%s\": %s", shown,
				      strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
	    !pvsub_diskimage_is_qcow2(magic, sizeof(magic))) {
		r = pvsub_diag_set(diag, EINVAL,
				   "qcow2 backing file \"%s\": not a qcow2 file (raw backing "
				   "files are not read)",
				   shown);
		goto out;
	}
	r = qcow_open_fd(fd, &parent, "qcow2 backing file", diag);
	if (r < 0)
		goto out;
	d->parents[d->n_parents++] = parent;
	r = check_qcow(parent, "qcow2 backing file", &next, diag);
	if (r == 0 && next > 0)
		r = attach_backing(d, parent, next, dirfd, depth + 1, diag);
	if (r == 0 && libqcow_file_set_parent_file(child, parent, &e) != 1) {
		qcow_message(e, msg, sizeof(msg));
		r = pvsub_diag_set(diag, EINVAL, "qcow2 backing file \"%s\": %s", shown, msg);
	}
out:
	close(fd);
	return r;
}

/*
 * Open the qcow2 image in @fd with libqcow.  A backing file is refused
 * before anything is read through the image unless @opts allow it:
 * libqcow never opens one by itself (only libqcow_file_set_parent_file()
 * gives it one), and without the option pvsub asks only the length of the
 * name libqcow read from the header.
 */
static int open_qcow(struct pvsub_diskimage *d, const struct pvsub_diskimage_opts *opts,
		     struct pvsub_diag *diag)
{
	libqcow_error_t *e = NULL;
	size64_t media = 0;
	size_t backing = 0;
	char msg[256];
	int r;

	r = qcow_open_fd(d->fd, &d->qcow, "qcow2 image", diag);
	if (r == 0)
		r = check_qcow(d->qcow, "qcow2 image", &backing, diag);
	if (r < 0)
		return r;
	if (backing > 0 && !(opts && opts->allow_backing_file))
		return pvsub_diag_set(diag, EINVAL,
				      "qcow2 image with a backing file: refused (the backing file "
				      "is never opened; convert the image to a standalone one)");
	if (backing > 0) {
		r = attach_backing(d, d->qcow, backing, opts->dirfd, 1, diag);
		if (r < 0)
			return r;
	}
	if (libqcow_file_get_media_size(d->qcow, &media, &e) != 1) {
		qcow_message(e, msg, sizeof(msg));
		return pvsub_diag_set(diag, EINVAL, "qcow2 header: %s", msg);
	}
	if (media > (uint64_t)INT64_MAX)
		return pvsub_diag_set(diag, EINVAL, "qcow2 virtual size too large");
	d->size = media;
	return 0;
}

static int open_tsk(struct pvsub_diskimage *d, struct pvsub_diag *diag)
{
	d->ext = calloc(1, sizeof(*d->ext));
	if (!d->ext)
		return -ENOMEM;
	d->ext->owner = d;
	d->ext->info.tag = TSK_IMG_INFO_TAG;
	d->img = tsk_img_open_external(d->ext, (TSK_OFF_T)d->size, SECTOR_SIZE,
				       d->qcow ? qcow_read : raw_read, ext_close, ext_stat);
	if (!d->img)
		return pvsub_diag_set(diag, EINVAL, "%s", tsk_message());
	return 0;
}

int pvsub_diskimage_open(int fd, const struct pvsub_diskimage_opts *opts,
			 struct pvsub_diskimage **out, struct pvsub_diag *diag)
{
	struct pvsub_diskimage *d;
	uint8_t head[4];
	struct stat st;
	ssize_t n;
	int r;

	*out = NULL;
	if (fstat(fd, &st) < 0)
		return pvsub_diag_set(diag, errno, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return -ENOTSUP;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fd = fd;
	d->size = (uint64_t)st.st_size;
	d->announce_partitions = opts && opts->announce_partitions;
	n = pread(fd, head, sizeof(head), 0);
	if (n == (ssize_t)sizeof(head) && pvsub_diskimage_is_qcow2(head, sizeof(head))) {
		r = open_qcow(d, opts, diag);
		if (r < 0)
			goto fail;
	}
	r = open_tsk(d, diag);
	if (r < 0)
		goto fail;
	tsk_error_reset();
	/* GPT before MBR, as Linux reads a disk with both; each asked for by
	 * name, since TSK's autodetection leaks the table it passes over. */
	d->vs = tsk_vs_open(d->img, 0, TSK_VS_TYPE_GPT);
	if (!d->vs)
		d->vs = tsk_vs_open(d->img, 0, TSK_VS_TYPE_DOS);
	if (!d->vs)
		d->fs = tsk_fs_open_img(d->img, 0, TSK_FS_TYPE_DETECT);
	if (!d->vs && !d->fs) {
		if (!d->qcow) {
			r = -ENOTSUP;
			goto fail;
		}
		if (d->read_error[0])
			r = pvsub_diag_set(diag, EINVAL, "qcow2 image unreadable: %s",
					   d->read_error);
		else
			r = pvsub_diag_set(diag, EINVAL,
					   "qcow2 image without a partition table or file system "
					   "that pvsub reads");
		goto fail;
	}
	*out = d;
	return 0;
fail:
	pvsub_diskimage_free(d);
	return r;
}

/* --- the set of delivered files ----------------------------------------------- */

static int addr_set_grow(struct addr_set *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	uint64_t *slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		size_t h;

		if (!s->slot[i])
			continue;
		for (h = (size_t)(s->slot[i] * 0x9e3779b97f4a7c15ULL) & (cap - 1); slot[h];
		     h = (h + 1) & (cap - 1))
			;
		slot[h] = s->slot[i];
	}
	free(s->slot);
	s->slot = slot;
	s->cap = cap;
	return 0;
}

/* Add @addr: 1 when it was new, 0 when already there, or -ENOMEM. */
static int addr_set_add(struct addr_set *s, uint64_t addr)
{
	uint64_t key = addr + 1;
	size_t h;

	if (2 * (s->n + 1) > s->cap && addr_set_grow(s) < 0)
		return -ENOMEM;
	for (h = (size_t)(key * 0x9e3779b97f4a7c15ULL) & (s->cap - 1); s->slot[h];
	     h = (h + 1) & (s->cap - 1)) {
		if (s->slot[h] == key)
			return 0;
	}
	s->slot[h] = key;
	s->n++;
	return 1;
}

/* --- walking one file system ---------------------------------------------------- */

static int emit_error(struct fs_walk *fw, const char *path, const char *fmt, ...)
	_printf_format_(3, 4);

/* An error that ends this file system's walk. */
static int emit_error(struct fs_walk *fw, const char *path, const char *fmt, ...)
{
	struct pvsub_diskimage_entry e = {.path = path};
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	}
	e.error = msg;
	fw->ended = true;
	fw->img->error_said = true;
	return fw->fn(fw->data, &e);
}

static char *path_join(const char *dir, const char *name)
{
	size_t ld = strlen(dir), ln = strlen(name);
	bool slash = ld && dir[ld - 1] == '/';
	char *s = malloc(ld + ln + 2);

	if (!s)
		return NULL;
	memcpy(s, dir, ld);
	if (!slash)
		s[ld++] = '/';
	memcpy(s + ld, name, ln + 1);
	return s;
}

static int cmp_dent(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

static void dents_free(struct dent *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* The allocated, real entries of directory @addr, sorted by name. */
static int list_dir(struct fs_walk *fw, TSK_INUM_T addr, const char *path, struct dent **out,
		    size_t *count)
{
	TSK_FS_DIR *dir;
	struct dent *v = NULL;
	size_t n = 0, total;
	int r = 0;

	*out = NULL;
	*count = 0;
	tsk_error_reset();
	dir = tsk_fs_dir_open_meta(fw->fs, addr);
	if (!dir)
		return emit_error(fw, path, "cannot read directory: %s", tsk_message());
	total = tsk_fs_dir_getsize(dir);
	v = calloc(total ? total : 1, sizeof(*v));
	if (!v) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < total; i++) {
		const TSK_FS_NAME *nm = tsk_fs_dir_get_name(dir, i);

		if (!nm || !nm->name || !nm->name[0] || TSK_FS_ISDOT(nm->name))
			continue;
		if (!(nm->flags & TSK_FS_NAME_FLAG_ALLOC))
			continue; /* deleted: not part of the guest */
		if (nm->type == TSK_FS_NAME_TYPE_VIRT || nm->type == TSK_FS_NAME_TYPE_VIRT_DIR)
			continue; /* TSK's own ($MBR, $FAT1, $OrphanFiles) */
		if (nm->type != TSK_FS_NAME_TYPE_REG && nm->type != TSK_FS_NAME_TYPE_DIR &&
		    nm->type != TSK_FS_NAME_TYPE_UNDEF)
			continue; /* symbolic links, devices, sockets: not followed */
		if (strchr(nm->name, '/'))
			continue; /* not a name a guest could open */
		v[n].name = strdup(nm->name);
		if (!v[n].name) {
			r = -ENOMEM;
			goto out;
		}
		v[n].addr = nm->meta_addr;
		v[n].type = nm->type;
		n++;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_dent);
	*out = v;
	*count = n;
	v = NULL;
	n = 0;
out:
	dents_free(v, n);
	tsk_fs_dir_close(dir);
	return r;
}

static int walk_dir(struct fs_walk *fw, TSK_INUM_T addr, const char *path,
		    const struct dir_frame *up, unsigned depth);

/* A regular file (or an entry whose type only its metadata says). */
static int walk_file(struct fs_walk *fw, const struct dent *de, const char *path,
		     const struct dir_frame *frame, unsigned depth)
{
	struct pvsub_diskimage_file file = {.img = fw->img};
	struct pvsub_diskimage_entry e = {.path = path};
	int r;

	tsk_error_reset();
	file.f = tsk_fs_file_open_meta(fw->fs, NULL, de->addr);
	if (!file.f || !file.f->meta) {
		r = emit_error(fw, path, "cannot read file metadata: %s", tsk_message());
		goto out;
	}
	if (file.f->meta->type == TSK_FS_META_TYPE_DIR && de->type == TSK_FS_NAME_TYPE_UNDEF) {
		tsk_fs_file_close(file.f);
		file.f = NULL;
		r = walk_dir(fw, de->addr, path, frame, depth + 1);
		goto out;
	}
	if (file.f->meta->type != TSK_FS_META_TYPE_REG) {
		r = 0;
		goto out;
	}
	r = addr_set_add(&fw->seen, de->addr);
	if (r <= 0)
		goto out; /* a hard link to a file already delivered, or -ENOMEM */
	file.size = file.f->meta->size > 0 ? (uint64_t)file.f->meta->size : 0;
	if (file.size > (uint64_t)fw->fs->block_count * fw->fs->block_size) {
		/* Sparse, or lying: TSK would map every block of it first. */
		e.error = "file larger than its file system (sparse or corrupt): not read";
		fw->img->error_said = true;
		r = fw->fn(fw->data, &e);
		goto out;
	}
	e.file = &file;
	e.size = file.size;
	r = fw->fn(fw->data, &e);
out:
	if (file.f)
		tsk_fs_file_close(file.f);
	return r;
}

/* A directory whose size no file system could hold ends the walk: 1 (the
 * error delivered), 0 to go on, or the callback's negative return. */
static int check_dir_size(struct fs_walk *fw, TSK_INUM_T addr, const char *path)
{
	uint64_t fs_bytes = (uint64_t)fw->fs->block_count * fw->fs->block_size;
	TSK_FS_FILE *f;
	uint64_t size;
	int r;

	tsk_error_reset();
	f = tsk_fs_file_open_meta(fw->fs, NULL, addr);
	if (!f || !f->meta) {
		if (f)
			tsk_fs_file_close(f);
		r = emit_error(fw, path, "cannot read directory metadata: %s", tsk_message());
		return r < 0 ? r : 1;
	}
	size = f->meta->size > 0 ? (uint64_t)f->meta->size : 0;
	tsk_fs_file_close(f);
	if (size <= MAX_DIR_SIZE && size <= fs_bytes)
		return 0;
	r = emit_error(fw, path,
		       "directory of %" PRIu64 " bytes, larger than %s (corrupt metadata)", size,
		       size > fs_bytes ? "its file system" : "64 MiB");
	return r < 0 ? r : 1;
}

static int walk_dir(struct fs_walk *fw, TSK_INUM_T addr, const char *path,
		    const struct dir_frame *up, unsigned depth)
{
	struct dir_frame frame = {.addr = addr, .up = up};
	struct dent *v = NULL;
	size_t n = 0;
	int r;

	for (const struct dir_frame *f = up; f; f = f->up) {
		if (f->addr == addr)
			return emit_error(fw, path, "directory loop (metadata address %" PRIu64 ")",
					  (uint64_t)addr);
	}
	if (depth > PVSUB_DISKIMAGE_MAX_DEPTH)
		return emit_error(fw, path, "directories nested deeper than %u",
				  PVSUB_DISKIMAGE_MAX_DEPTH);
	r = check_dir_size(fw, addr, path);
	if (r)
		return r < 0 ? r : 0;
	r = list_dir(fw, addr, path, &v, &n);
	for (size_t i = 0; i < n && r >= 0 && !fw->ended; i++) {
		char *child = path_join(path, v[i].name);

		if (!child) {
			r = -ENOMEM;
			break;
		}
		if (v[i].type == TSK_FS_NAME_TYPE_DIR)
			r = walk_dir(fw, v[i].addr, child, &frame, depth + 1);
		else
			r = walk_file(fw, &v[i], child, &frame, depth);
		free(child);
	}
	dents_free(v, n);
	return r;
}

/* Walk the file system @fs; entries are named @prefix + path. */
static int walk_fs(struct pvsub_diskimage *d, TSK_FS_INFO *fs, const char *prefix,
		   pvsub_diskimage_fn fn, void *data)
{
	struct fs_walk fw = {.img = d, .fs = fs, .prefix = prefix, .fn = fn, .data = data};
	char *root = path_join(prefix, "");
	int r;

	if (!root)
		return -ENOMEM;
	/* path_join() added the separator: "p1!/" or "/". */
	r = walk_dir(&fw, fs->root_inum, root, NULL, 0);
	free(root);
	free(fw.seen.slot);
	return r;
}

/* --- partitions -------------------------------------------------------------------- */

/* An entry about partition @name ("" for the table): @error or @unscanned,
 * made one line here (they carry TSK's messages and partition names). */
static int emit_partition(struct pvsub_diskimage *d, pvsub_diskimage_fn fn, void *data,
			  const char *name, const char *error, const char *unscanned)
{
	struct pvsub_diskimage_entry e = {.path = name};
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", error ? error : unscanned);
	for (char *p = msg; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	if (error) {
		e.error = msg;
		d->error_said = true;
	} else {
		e.unscanned = msg;
	}
	return fn(data, &e);
}

/* Two allocated partitions that share a sector: the table cannot be trusted. */
static bool overlapping(const TSK_VS_INFO *vs, unsigned *a, unsigned *b)
{
	unsigned ni = 0;

	for (TSK_PNUM_T i = 0; i < vs->part_count; i++) {
		const TSK_VS_PART_INFO *p = tsk_vs_part_get(vs, i);
		unsigned nj = ni;

		if (!p || !(p->flags & TSK_VS_PART_FLAG_ALLOC))
			continue;
		ni++;
		nj = ni;
		for (TSK_PNUM_T j = i + 1; j < vs->part_count; j++) {
			const TSK_VS_PART_INFO *q = tsk_vs_part_get(vs, j);

			if (!q || !(q->flags & TSK_VS_PART_FLAG_ALLOC))
				continue;
			nj++;
			if (p->start < q->start + q->len && q->start < p->start + p->len) {
				*a = ni;
				*b = nj;
				return true;
			}
		}
	}
	return false;
}

/*
 * An MBR whose partition is the protective one before a GPT (type 0xee,
 * as TSK describes it), found because the GPT itself did not read: the
 * GPT is what must be reported.
 */
static bool protective_only(const struct pvsub_diskimage *d)
{
	if (d->vs->vstype != TSK_VS_TYPE_DOS)
		return false;
	for (TSK_PNUM_T i = 0; i < d->vs->part_count; i++) {
		const TSK_VS_PART_INFO *p = tsk_vs_part_get(d->vs, i);

		if (p && (p->flags & TSK_VS_PART_FLAG_ALLOC) && p->desc &&
		    strstr(p->desc, "(0xee)"))
			return true;
	}
	return false;
}

static int walk_partition(struct pvsub_diskimage *d, const TSK_VS_PART_INFO *p, unsigned num,
			  pvsub_diskimage_fn fn, void *data)
{
	char name[32], prefix[40], msg[320];
	uint64_t bs = d->vs->block_size, end;
	TSK_FS_INFO *fs;
	int r;

	snprintf(name, sizeof(name), "p%u", num);
	snprintf(prefix, sizeof(prefix), "p%u!", num);
	if (__builtin_mul_overflow((uint64_t)p->start + (uint64_t)p->len, bs, &end) ||
	    p->start + p->len < p->start || end > d->size) {
		snprintf(msg, sizeof(msg),
			 "partition (sectors %" PRIu64 "+%" PRIu64 ") lies past the end of the "
			 "image",
			 (uint64_t)p->start, (uint64_t)p->len);
		return emit_partition(d, fn, data, name, msg, NULL);
	}
	if (d->announce_partitions) {
		struct pvsub_diskimage_entry e = {.path = name, .begin = true};

		r = fn(data, &e);
		if (r < 0)
			return r;
	}
	tsk_error_reset();
	d->read_error[0] = '\0';
	fs = tsk_fs_open_vol(p, TSK_FS_TYPE_DETECT);
	if (!fs) {
		if (d->read_error[0]) {
			snprintf(msg, sizeof(msg), "unreadable: %s", d->read_error);
			return emit_partition(d, fn, data, name, msg, NULL);
		}
		snprintf(msg, sizeof(msg), "partition without a file system pvsub reads (%s)",
			 p->desc && *p->desc ? p->desc : "unknown type");
		for (char *c = msg; *c; c++) {
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		}
		return emit_partition(d, fn, data, name, NULL, msg);
	}
	r = walk_fs(d, fs, prefix, fn, data);
	tsk_fs_close(fs);
	return r;
}

static int walk_table(struct pvsub_diskimage *d, pvsub_diskimage_fn fn, void *data)
{
	unsigned num = 0, a, b;
	TSK_VS_INFO *gpt;
	char msg[384];
	int r = 0;

	if (protective_only(d)) {
		tsk_error_reset();
		gpt = tsk_vs_open(d->img, 0, TSK_VS_TYPE_GPT);
		if (!gpt) {
			snprintf(msg, sizeof(msg), "GPT partition table unreadable: %s",
				 tsk_message());
			return emit_partition(d, fn, data, "", msg, NULL);
		}
		tsk_vs_close(d->vs);
		d->vs = gpt;
	}
	if (overlapping(d->vs, &a, &b)) {
		snprintf(msg, sizeof(msg), "%s partition table: partitions p%u and p%u overlap",
			 tsk_vs_type_toname(d->vs->vstype), a, b);
		return emit_partition(d, fn, data, "", msg, NULL);
	}
	for (TSK_PNUM_T i = 0; i < d->vs->part_count && r >= 0; i++) {
		const TSK_VS_PART_INFO *p = tsk_vs_part_get(d->vs, i);

		if (!p || !(p->flags & TSK_VS_PART_FLAG_ALLOC))
			continue;
		r = walk_partition(d, p, ++num, fn, data);
	}
	return r;
}

int pvsub_diskimage_walk(struct pvsub_diskimage *d, pvsub_diskimage_fn fn, void *data)
{
	char msg[384];
	int r;

	r = d->fs ? walk_fs(d, d->fs, "", fn, data) : walk_table(d, fn, data);
	/* TSK falls back on a backup GPT, or passes over what it cannot read:
	 * a part of the image that did not read is said, once. */
	if (r >= 0 && d->first_read_error[0] && !d->error_said) {
		snprintf(msg, sizeof(msg), "parts of the image are unreadable: %s",
			 d->first_read_error);
		r = emit_partition(d, fn, data, "", msg, NULL);
	}
	return r;
}

ssize_t pvsub_diskimage_file_read(struct pvsub_diskimage_file *f, uint64_t off, void *buf,
				  size_t len, struct pvsub_diag *diag)
{
	ssize_t n;

	if (off >= f->size)
		return 0;
	if (len > f->size - off)
		len = (size_t)(f->size - off);
	tsk_error_reset();
	n = tsk_fs_file_read(f->f, (TSK_OFF_T)off, buf, len, TSK_FS_FILE_READ_FLAG_NONE);
	if (n < 0 || (size_t)n > len) {
		f->img->error_said = true;
		return pvsub_diag_set(diag, EIO, "%s", tsk_message());
	}
	return n;
}
