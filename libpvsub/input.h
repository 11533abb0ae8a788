/* SPDX-License-Identifier: MIT */
/*
 * input: turning command-line inputs into ELF files to scan.
 *
 * An input is a file, a directory (walked recursively, entries in byte order
 * of their names, symbolic links inside directories not followed), or an
 * archive read with libarchive straight from memory, never unpacked to disk:
 * tar, cpio, zip, ar, Debian .deb, RPM; compressed with gzip, xz, zstd or
 * bzip2; nested to any depth up to a limit.  A single compressed file
 * (`kvm.ko.xz`, `.ko.zst`, `.ko.gz`) is decompressed in memory.  An x86
 * boot image (bzImage, told by its header wherever it is found) becomes the
 * vmlinux inside it, named "<path>!vmlinux": its payload decompressed in
 * memory within max_entry_size, the ELF file followed by the KASLR
 * relocation table when there is one (bzimage.h), with the bzImage's own
 * code (setup and boot decompressor) in the item's `boot`.
 *
 * A guest disk image (raw or qcow2, told by its content: diskimage.h) is
 * read in place, never whole: every regular file inside is named
 * "<path>!pN!/path/inside" ("<path>!/path/inside" for a bare file system)
 * and read as if it were an archive member, so that ELF files, archives and
 * compressed files inside are found as anywhere else.  A file inside that
 * is not something pvsub reads is skipped after its first bytes.  An image
 * found as an archive member, or read from a pipe (within max_entry_size),
 * is put into a sealed anonymous memory file and read from there, a qcow2
 * backing file always refused; an image inside an image is an error item.
 * Each image is read by a forked child process under memory and CPU limits
 * (image_reader_*), which sends the files through a pipe; a child stopped
 * by a limit or a crash is one error item naming the image and partition,
 * and nothing more of that image is delivered.  The caller's SIGCHLD
 * disposition must let waitpid() collect it (not SIG_IGN).
 *
 * A pipe named on the command line (standard input, /dev/stdin, a FIFO)
 * is read as a stream.
 *
 * Every ELF file found is handed to a callback with its display path, whose
 * archive members are separated by '!':
 *     image.tar!inner.tar.gz!lib/modules/x.ko.xz
 * An executable in a format pvsub does not scan (PE/COFF, Mach-O, an ARM64
 * kernel Image, ELF for another machine or ELF32), told by its header, is
 * an item with `format` set, wherever it is found: nothing executable is
 * skipped silently (DESIGN §4).  An "MZ" file whose e_lfanew does not
 * point inside the file at "PE\0\0" is not PE/COFF.  Other files that are
 * neither ELF, bzImage nor archives are skipped silently inside
 * directories and archives; named explicitly on the command line they are
 * an error.  Errors (unreadable file, corrupt archive, a limit exceeded) are
 * handed to the same callback as an item with `error` set, and the walk goes
 * on with the next entry or input where it can.
 */
#ifndef PVSUB_INPUT_H
#define PVSUB_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/bzimage.h"
#include "libpvsub/crypto.h"
#include "libpvsub/log.h"
#include "libpvsub/util.h"

/*
 * Limits against hostile archives.  An entry over max_entry_size, or nested
 * deeper than max_depth (the file itself is depth 0), becomes an error item
 * and the walk goes on with the next member.  max_total_size counts the
 * member bytes decompressed out of one file on disk (or one memory buffer):
 * each file found in a directory has its own budget, since a directory is
 * bounded by the disk and a decompression bomb is not.  Once it is spent, an
 * error item names that file and the rest of it is skipped.
 */
struct pvsub_input_limits {
	uint64_t max_entry_size; /* one file or archive member, decompressed */
	uint64_t max_total_size; /* all bytes decompressed from one input */
	unsigned max_depth;	 /* archives inside archives */
	/* Not a limit: read a qcow2 image's backing file, a qcow2 file in the
	 * image's directory (diskimage.h); refused when false (the default). */
	bool allow_backing_file;
	/* Not a limit: after the last item of each disk image, deliver one
	 * more item for the image itself (pvsub_item.image), its SHA-256
	 * taken from the same file: what an image manifest binds.  The image
	 * is then read whole once more; one larger than max_total_size is an
	 * error item instead. */
	bool image_summaries;
	/* The process that reads each disk image (input.c's reader): how
	 * much address space it may add to what it inherits, and how much CPU
	 * time it may use, in milliseconds; 0 for the defaults, 1 GiB and
	 * 30 s plus 1 s per 32 MiB of the image file.  Past either, the image
	 * ends with one error line. */
	uint64_t image_reader_memory;
	uint64_t image_reader_cpu_ms;
};

/* Defaults: 512 MiB per entry, 8 GiB per input, depth 8, no backing file,
 * no image summaries. */
void pvsub_input_limits_default(struct pvsub_input_limits *l) _nonnull_(1);

/* A disk image's own bytes, as read (pvsub_input_limits.image_summaries). */
struct pvsub_image_summary {
	char format[8]; /* "raw" or "qcow2" */
	uint64_t size;	/* of the image file */
	char sha256[PVSUB_SHA256_HEX_LEN];
};

struct pvsub_item {
	char *path;    /* display path, '!'-separated inside archives */
	uint8_t *data; /* malloc'ed file content, NULL for an error item */
	size_t size;
	char *error; /* one-line reason (without the path), or NULL */
	/* An executable that pvsub does not scan (data and error NULL): its
	 * format, e.g. "PE/COFF (x86-64)", "ELF32 (x86)", "Mach-O 64-bit
	 * (ARM64)", "ARM64 kernel Image"; else NULL. */
	char *format;
	/* A vmlinux from a bzImage: the bzImage's own code (bzimage.h), to be
	 * scanned with it; empty otherwise.  Freed with the data. */
	struct pvsub_boot_code boot;
	/* Found inside a disk image (diskimage.h): the length of the image's
	 * own path, a prefix of @path ("disk.qcow2" in
	 * "disk.qcow2!p1!/lib/x.ko"); else 0. */
	size_t image_len;
	/* The disk image itself, delivered after everything found in it when
	 * image_summaries is asked for: @path is the image's (image_len is
	 * its length), data, error and format are NULL; else NULL. */
	struct pvsub_image_summary *image;
};

/*
 * Called for each ELF file, each executable not scanned and each error, in
 * walk order.  The callback owns @item and everything in it from then on:
 * free it with pvsub_item_free().
 * Return 0 to go on, or a negative errno to stop the walk (returned as is).
 */
typedef int (*pvsub_item_fn)(void *data, struct pvsub_item *item);

void pvsub_item_free(struct pvsub_item *item);

/* Free item->data now, keeping the rest (size included); NULL-safe. */
void pvsub_item_free_data(struct pvsub_item *item);

/*
 * Walk one command-line input.  Returns 0 when the walk completed (even if
 * error items were delivered), or the callback's negative return value, or
 * -ENOMEM.  @ctx may be NULL (debug messages about skipped entries go there).
 */
int pvsub_input_walk(struct pvsub_ctx *ctx, const char *path,
		     const struct pvsub_input_limits *limits, pvsub_item_fn fn, void *data)
	_must_check_ _nonnull_(2, 3, 4);

/*
 * Same for an open file descriptor (standard input for "-"), shown as
 * @name; @fd stays open and is not the walk's.  It may be a regular file, a
 * directory, or a pipe, socket or device, which is read as a stream: an ELF file
 * whole (within max_entry_size), an archive member by member without
 * holding the whole stream.  A terminal is refused.  Named pipes and FIFOs
 * given as paths to pvsub_input_walk() are read the same way.
 */
int pvsub_input_walk_fd(struct pvsub_ctx *ctx, int fd, const char *name,
			const struct pvsub_input_limits *limits, pvsub_item_fn fn, void *data)
	_must_check_ _nonnull_(3, 4, 5);

/*
 * Same for bytes already in memory (@name is the display path), as if they
 * were a file named on the command line.  Used for tests and fuzzing.
 */
int pvsub_input_walk_memory(struct pvsub_ctx *ctx, const char *name, const uint8_t *buf, size_t len,
			    const struct pvsub_input_limits *limits, pvsub_item_fn fn, void *data)
	_must_check_ _nonnull_(2, 5, 6);

#endif
