/* SPDX-License-Identifier: MIT */
/*
 * diskimage: guest disk images, read in place and never mounted.
 *
 * A disk image is a raw file or a qcow2 file (v2 or v3, compressed clusters
 * included) holding a partition table (GPT or MBR) or a bare file system
 * (ext2/3/4, FAT12/16/32, ISO9660).  The Sleuth Kit reads the partition
 * tables and file systems; libqcow supplies the bytes of a qcow2 image
 * through TSK's external image interface.  Nothing here parses a file system
 * or qcow2 by hand: the magic checks below only decide whether to ask TSK.
 *
 * Paths.  Every regular file is named by its path inside the image, with the
 * partition first when there is a partition table: "p2!/lib/x.ko", or
 * "/lib/x.ko" for a bare file system.  pN numbers the allocated partitions
 * in the order TSK lists them (by start sector), from 1; for a table whose
 * entries are in disk order, as sfdisk, sgdisk and the installers write
 * them, that is the kernel's sdaN.
 *
 * Safety.  A qcow2 image with a backing file is refused: the backing file is
 * never opened, unless the caller allows it (pvsub_diskimage_opts): then
 * only a qcow2 file in the image's own directory, named without any
 * directory part, is opened (without following a symbolic link), and so
 * on for its own backing file, at most PVSUB_DISKIMAGE_MAX_BACKING deep.
 * An encrypted qcow2 image is refused.  Only what the partition tables and file systems point at is
 * read, so a sparse image of any virtual size costs what its files cost.
 * A file reached twice (hard links) is delivered once, symbolic links are
 * not followed, and a directory that contains itself, nests deeper than
 * PVSUB_DISKIMAGE_MAX_DEPTH or is larger than 64 MiB or than its file
 * system ends its partition with an error.  A regular file larger than its
 * file system (sparse, or lying) is an error entry and is not read: TSK
 * maps every block of a file before it reads any, one run per block in
 * ext2/3 block maps.
 *
 * Not thread-safe: TSK keeps its error state per thread, and one image is
 * walked by one thread.
 */
#ifndef PVSUB_DISKIMAGE_H
#define PVSUB_DISKIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "libpvsub/util.h"

/* Directories nested deeper than this end their partition with an error. */
#define PVSUB_DISKIMAGE_MAX_DEPTH 256
/* The longest chain of qcow2 backing files opened when allowed. */
#define PVSUB_DISKIMAGE_MAX_BACKING 8

struct pvsub_diskimage;
struct pvsub_diskimage_file;

/*
 * Whether a file whose first @n bytes are @head may be a disk image, and so
 * is worth pvsub_diskimage_open(): the qcow2 magic at 0, or in the file
 * @fd (read at fixed offsets, the file position untouched) an MBR boot
 * signature, a GPT header, an ext2/3/4 superblock magic or an ISO9660
 * volume descriptor.  Cheap: at most a few small reads.
 */
bool pvsub_diskimage_probe(int fd, const uint8_t *head, size_t n) _nonnull_(2);

/*
 * Whether the @len bytes at @buf, a whole file in memory (an archive
 * member), may be a disk image: pvsub_diskimage_probe() on bytes instead of
 * a file.
 */
bool pvsub_diskimage_probe_buffer(const uint8_t *buf, size_t len) _nonnull_(1);

/* Whether @head (@n bytes) starts with the qcow2 magic "QFI\xfb". */
bool pvsub_diskimage_is_qcow2(const uint8_t *head, size_t n) _nonnull_(1);

struct pvsub_diskimage_opts {
	/* Read a qcow2 image's backing file (a qcow2 file beside it). */
	bool allow_backing_file;
	/* The image's directory, where its backing file is looked for; -1
	 * when unknown (then a backing file is refused).  The caller's. */
	int dirfd;
	/* Deliver an entry with @begin set as each partition's walk starts,
	 * before its file system is opened: whoever watches the walk from
	 * outside (input.c's reader process) can then say which partition
	 * a stopped walk was in. */
	bool announce_partitions;
};

/*
 * Open the disk image in @fd, a regular file that stays the caller's and
 * must stay open until pvsub_diskimage_free(); @opts may be NULL (no
 * backing file).  On success *@out is the
 * image, with its partition table or file system recognised.
 * Returns -ENOTSUP for a raw file in which TSK finds neither a partition
 * table nor a file system: it is not a disk image (@diag is left alone).
 * Returns -EINVAL with @diag set for an image that is refused or unreadable
 * (a qcow2 image that is corrupt, truncated, encrypted or has a backing
 * file not allowed or not found as allowed; a qcow2 image with no partition
 * table or file system TSK reads),
 * -ENOMEM when out of memory.
 */
int pvsub_diskimage_open(int fd, const struct pvsub_diskimage_opts *opts,
			 struct pvsub_diskimage **out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(3, 4);

/* Close the image; NULL is a no-op.  The caller's descriptor stays open. */
void pvsub_diskimage_free(struct pvsub_diskimage *img);

/* "qcow2" or "raw". */
const char *pvsub_diskimage_format(const struct pvsub_diskimage *img) _nonnull_(1);

/* One thing found in an image: a regular file, an error, or a partition
 * pvsub cannot read. */
struct pvsub_diskimage_entry {
	/* Inside the image: "p1!/boot/x.ko", "/x.ko"; "p3" for a partition;
	 * "" for the image itself. */
	const char *path;
	/* A regular file, readable until the callback returns; else NULL. */
	struct pvsub_diskimage_file *file;
	uint64_t size; /* of the file */
	/* One line (no path): why this partition or directory ends, or why
	 * this file is not read. */
	const char *error;
	/* A partition with no file system that pvsub reads, e.g.
	 * "partition without a recognised file system (XFS)". */
	const char *unscanned;
	/* Only with announce_partitions: partition @path ("p2") starts; the
	 * other fields are empty. */
	bool begin;
};

/* Called for each entry in walk order; return 0 to go on, or a negative
 * errno to stop the walk (returned by pvsub_diskimage_walk as is). */
typedef int (*pvsub_diskimage_fn)(void *data, const struct pvsub_diskimage_entry *e);

/*
 * Walk every partition and every file system in @img: within a directory
 * entries go in byte order of their names, depth first.  An unreadable
 * directory, a directory loop or a corrupt partition table is an error
 * entry, and that partition (or the whole table) ends there; the other
 * partitions go on.  Returns 0 when the walk completed, the callback's
 * negative return, or -ENOMEM.
 */
int pvsub_diskimage_walk(struct pvsub_diskimage *img, pvsub_diskimage_fn fn, void *data)
	_must_check_ _nonnull_(1, 2);

/*
 * Read up to @len bytes at @off of a file handed to the callback: the
 * count (short only at the end of the file), or -EIO with @diag set.
 * Holes in sparse files read as zeros.
 */
ssize_t pvsub_diskimage_file_read(struct pvsub_diskimage_file *f, uint64_t off, void *buf,
				  size_t len, struct pvsub_diag *diag)
	_must_check_ _nonnull_(1, 3, 5);

#endif
