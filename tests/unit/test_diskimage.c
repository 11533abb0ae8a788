/* SPDX-License-Identifier: MIT */
/*
 * The disk image reader: what is and is not an image, refusals as one line,
 * and walks of small file systems made here with mkfs.vfat and mkfs.ext4
 * (skipped where those are not installed): paths, contents read back, hard
 * links once, symbolic links not delivered, a stop asked by the callback;
 * and the reader process input.c walks an image in: a reader over its CPU
 * time is one error item naming the image and the partition, and the same
 * image under the default limits is read whole (the control).  Its memory
 * limit is tested through pvsub-scan (diskimage.sh): a test process's free
 * heap, which a forked reader may reuse, is not bounded here.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libpvsub/diskimage.h"
#include "libpvsub/input.h"

/* A memory file holding @len bytes of @buf; the caller closes it. */
static int memfile(const void *buf, size_t len)
{
	int fd = memfd_create("test-disk", MFD_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	return fd;
}

static bool have(const char *tool)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

struct seen {
	char paths[16][128];
	char first[16][16];
	uint64_t sizes[16];
	size_t n, errors, stop_after;
};

static int collect(void *data, const struct pvsub_diskimage_entry *e)
{
	struct seen *s = data;
	struct pvsub_diag diag = {""};

	if (e->error) {
		s->errors++;
		return 0;
	}
	cr_assert_lt(s->n, 16);
	snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", e->path);
	s->sizes[s->n] = e->size;
	if (e->file) {
		ssize_t n = pvsub_diskimage_file_read(e->file, 0, s->first[s->n],
						      sizeof(s->first[0]) - 1, &diag);

		cr_assert_geq(n, 0, "%s: %s", e->path, diag.msg);
		s->first[s->n][n] = '\0';
	}
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? -E2BIG : 0;
}

/* Open the image file @path and walk it into @s; returns the walk's result. */
static int walk_file(const char *path, struct seen *s)
{
	struct pvsub_diag diag = {""};
	struct pvsub_diskimage *img = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	cr_assert_geq(fd, 0);
	r = pvsub_diskimage_open(fd, NULL, &img, &diag);
	cr_assert_eq(r, 0, "%s: %d %s", path, r, diag.msg);
	cr_assert_str_eq(pvsub_diskimage_format(img), "raw");
	r = pvsub_diskimage_walk(img, collect, s);
	pvsub_diskimage_free(img);
	close(fd);
	return r;
}

/* The same candidates from bytes in memory (an archive member), and nothing
 * read past the end of a short buffer. */
Test(diskimage, probe_buffer)
{
	static uint8_t buf[40000];

	cr_assert_not(pvsub_diskimage_probe_buffer(buf, sizeof(buf)));
	memcpy(buf, "QFI\xfb", 4);
	cr_assert(pvsub_diskimage_probe_buffer(buf, 4));
	cr_assert_not(pvsub_diskimage_probe_buffer(buf, 3));
	memset(buf, 0, 4);
	memcpy(buf + 512, "EFI PART", 8);
	cr_assert(pvsub_diskimage_probe_buffer(buf, 520));
	cr_assert_not(pvsub_diskimage_probe_buffer(buf, 519));
	memset(buf + 512, 0, 8);
	memcpy(buf + 1024 + 0x38, "\x53\xef", 2);
	cr_assert(pvsub_diskimage_probe_buffer(buf, sizeof(buf)));
	cr_assert_not(pvsub_diskimage_probe_buffer(buf, 1024 + 0x39));
	memset(buf + 1024 + 0x38, 0, 2);
	memcpy(buf + 32769, "CD001", 5);
	cr_assert(pvsub_diskimage_probe_buffer(buf, sizeof(buf)));
	cr_assert_not(pvsub_diskimage_probe_buffer(buf, 32773));
	memset(buf + 32769, 0, 5);
	buf[510] = 0x55;
	buf[511] = 0xaa;
	cr_assert(pvsub_diskimage_probe_buffer(buf, 512));
	cr_assert_not(pvsub_diskimage_probe_buffer(buf, 511));
}

Test(diskimage, probe_tells_candidates_only)
{
	uint8_t buf[1024] = {0};
	int fd = memfile(buf, sizeof(buf));

	cr_assert_not(pvsub_diskimage_probe(fd, buf, sizeof(buf)));
	memcpy(buf, "QFI\xfb", 4);
	cr_assert(pvsub_diskimage_is_qcow2(buf, 4));
	cr_assert_not(pvsub_diskimage_is_qcow2(buf, 3));
	cr_assert(pvsub_diskimage_probe(fd, buf, sizeof(buf)));
	memset(buf, 0, 4);
	buf[510] = 0x55;
	buf[511] = 0xaa;
	cr_assert(pvsub_diskimage_probe(fd, buf, sizeof(buf)));
	close(fd);
}

Test(diskimage, zeros_are_not_an_image)
{
	size_t len = 1 << 20;
	uint8_t *zeros = calloc(1, len);
	struct pvsub_diag diag = {""};
	struct pvsub_diskimage *img = NULL;
	int fd;

	cr_assert_not_null(zeros);
	zeros[510] = 0x55; /* a boot signature alone is no partition table */
	zeros[511] = 0xaa;
	fd = memfile(zeros, len);
	cr_assert_eq(pvsub_diskimage_open(fd, NULL, &img, &diag), -ENOTSUP);
	cr_assert_null(img);
	close(fd);
	free(zeros);
}

Test(diskimage, broken_qcow2_is_one_line)
{
	uint8_t buf[512] = "QFI\xfb";
	struct pvsub_diag diag = {""};
	struct pvsub_diskimage *img = NULL;
	int fd;

	buf[7] = 3; /* version 3, nothing else */
	fd = memfile(buf, sizeof(buf));
	cr_assert_eq(pvsub_diskimage_open(fd, NULL, &img, &diag), -EINVAL);
	cr_assert_null(img);
	cr_assert(strstr(diag.msg, "qcow2"), "%s", diag.msg);
	cr_assert_null(strchr(diag.msg, '\n'));
	close(fd);
}

Test(diskimage, fat_file_system)
{
	char dir[] = "/tmp/pvsub-diskimage.XXXXXX", cmd[512], img[600];
	struct seen s = {0};

	if (!have("mkfs.vfat") || !have("mcopy") || !have("mmd"))
		cr_skip_test("mkfs.vfat and mtools are not installed");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/esp.img", dir);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && printf 'hello fat' > a.txt && mkfs.vfat -C esp.img 1024 >/dev/null && "
		 "mmd -i esp.img ::/EFI && mcopy -i esp.img a.txt ::/EFI/Boot.txt && "
		 "mcopy -i esp.img a.txt ::/z.txt",
		 dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(walk_file(img, &s), 0);
	cr_assert_eq(s.errors, 0);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.paths[0], "/EFI/Boot.txt");
	cr_assert_str_eq(s.paths[1], "/z.txt");
	cr_assert_str_eq(s.first[0], "hello fat");
	cr_assert_eq(s.sizes[0], 9);

	/* The callback stops the walk. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	cr_assert_eq(walk_file(img, &s), -E2BIG);
	cr_assert_eq(s.n, 1);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(diskimage, ext4_links)
{
	char dir[] = "/tmp/pvsub-diskimage.XXXXXX", cmd[512], img[600];
	struct seen s = {0};

	if (!have("mkfs.ext4"))
		cr_skip_test("mkfs.ext4 is not installed");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/root.img", dir);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p t/b && printf one > t/b/x && ln t/b/x t/a && "
		 "ln -s /etc/shadow t/link && mkfs.ext4 -q -F -d t root.img 4M >/dev/null",
		 dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(walk_file(img, &s), 0);
	/* /a and /b/x are one file: delivered once, under its first name;
	 * lost+found is empty; the symbolic link is not a file. */
	cr_assert_eq(s.errors, 0);
	cr_assert_eq(s.n, 1, "%zu entries, first %s", s.n, s.paths[0]);
	cr_assert_str_eq(s.paths[0], "/a");
	cr_assert_str_eq(s.first[0], "one");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* ---- the reader process (input.c) ------------------------------------------------ */

struct items {
	size_t n, errors, files;
	char first_error[512];
	size_t big_size;
};

static int collect_item(void *data, struct pvsub_item *item)
{
	struct items *s = data;

	s->n++;
	if (item->error) {
		if (!s->errors++)
			snprintf(s->first_error, sizeof(s->first_error), "%s: %s", item->path,
				 item->error);
	} else if (item->data) {
		s->files++;
		s->big_size = item->size;
	}
	pvsub_item_free(item);
	return 0;
}

/* A compressed qcow2 image in a new directory @dir, of a GPT disk whose
 * partition 1 holds an ext4 file system holding /big.o: 96 MiB of text
 * after an ELF magic, so that the reader inflates and sends all of them
 * (tens of milliseconds of its CPU time). */
static void big_image(char *dir, char *img, size_t img_size)
{
	char cmd[512];

	if (!have("mkfs.ext4") || !have("qemu-img") || !have("sgdisk"))
		cr_skip_test("mkfs.ext4, sgdisk or qemu-img is not installed");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(img, img_size, "%s/big.qcow2", dir);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir t && printf '\\177ELF' > t/big.o && "
		 "yes 'a line of the reader test' | head -c 100663296 >> t/big.o && "
		 "mkfs.ext4 -q -F -d t big.ext4 128M >/dev/null && truncate -s 130M disk.raw && "
		 "sgdisk -n 1:2048:0 disk.raw >/dev/null && "
		 "dd if=big.ext4 of=disk.raw bs=512 seek=2048 conv=notrunc status=none && "
		 "qemu-img convert -c -O qcow2 disk.raw big.qcow2",
		 dir);
	cr_assert_eq(system(cmd), 0);
}

static void walk_with(const char *img, uint64_t memory, uint64_t cpu_ms, struct items *s)
{
	struct pvsub_input_limits l;

	pvsub_input_limits_default(&l);
	l.image_reader_memory = memory;
	l.image_reader_cpu_ms = cpu_ms;
	*s = (struct items){0};
	cr_assert_eq(pvsub_input_walk(NULL, img, &l, collect_item, s), 0);
}

static void remove_dir(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(diskimage, reader_cpu_limit, .timeout = 60)
{
	char dir[] = "/tmp/pvsub-diskimage.XXXXXX", img[600], want[700];
	struct items s;

	big_image(dir, img, sizeof(img));
	/* 1 ms of CPU time: inflating 96 MiB takes more. */
	walk_with(img, 0, 1, &s);
	cr_assert_eq(s.n, 1, "%zu items, first error %s", s.n, s.first_error);
	snprintf(want, sizeof(want),
		 "%s!p1: disk image reader stopped: it used up its 0.001 s of CPU time", img);
	cr_assert_str_eq(s.first_error, want);
	/* The control: under the default limits the file comes whole. */
	walk_with(img, 0, 0, &s);
	cr_assert_eq(s.errors, 0, "%s", s.first_error);
	cr_assert_eq(s.files, 1);
	cr_assert_eq(s.big_size, ((size_t)96 << 20) + 4);
	remove_dir(dir);
}
