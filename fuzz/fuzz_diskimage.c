/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: a disk image (raw or qcow2: its header and tables, the
 * partition table, the file systems) opened and walked by diskimage.h from
 * a memory file, every file inside read in part.  Every refusal and every
 * error entry must be one line; a walk that yields absurdly many entries is
 * stopped by the callback, and the walk must honour that.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libpvsub/diskimage.h"

static void one_line(const char *s)
{
	if (!s || !s[0] || strchr(s, '\n'))
		abort();
}

static int on_entry(void *data, const struct pvsub_diskimage_entry *e)
{
	struct pvsub_diag diag = {""};
	size_t *count = data;
	uint8_t buf[4096];
	ssize_t n;

	if (!e->path || (!e->file + !e->error + !e->unscanned) != 2)
		abort();
	if (e->error)
		one_line(e->error);
	if (e->unscanned)
		one_line(e->unscanned);
	if (e->file) {
		/* The start, and a read past the end that must be empty. */
		n = pvsub_diskimage_file_read(e->file, 0, buf, sizeof(buf), &diag);
		if (n < 0)
			one_line(diag.msg);
		else if ((uint64_t)n > e->size)
			abort();
		n = pvsub_diskimage_file_read(e->file, e->size, buf, sizeof(buf), &diag);
		if (n != 0)
			abort();
	}
	return ++*count > 10000 ? -E2BIG : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvsub_diag diag = {""};
	struct pvsub_diskimage *img = NULL;
	size_t count = 0, done = 0;
	int fd, r;

	fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	(void)pvsub_diskimage_probe(fd, data, size);
	r = pvsub_diskimage_open(fd, NULL, &img, &diag);
	if (r == -EINVAL)
		one_line(diag.msg);
	else if (r == 0) {
		r = pvsub_diskimage_walk(img, on_entry, &count);
		if (r < 0 && r != -E2BIG && r != -ENOMEM)
			abort();
		if (r == -E2BIG && count != 10001)
			abort();
		pvsub_diskimage_free(img);
	} else if (r != -ENOTSUP && r != -ENOMEM) {
		abort();
	}
	close(fd);
	return 0;
}
