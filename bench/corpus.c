/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <ftw.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/corpus.h"

static bench_range_fn range_fn;
static void *range_data;
static long files;

static void visit(uint8_t *buf, size_t len)
{
	Elf *elf = elf_memory((char *)buf, len);
	GElf_Ehdr eh;
	size_t n;

	if (!elf)
		return;
	if (!gelf_getehdr(elf, &eh))
		goto out;
	if (eh.e_type == ET_REL) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
			    (sh.sh_flags & (SHF_ALLOC | SHF_EXECINSTR)) !=
				    (SHF_ALLOC | SHF_EXECINSTR) ||
			    sh.sh_offset > len || sh.sh_size > len - sh.sh_offset)
				continue;
			range_fn(buf + sh.sh_offset, sh.sh_size, range_data);
		}
	} else if (elf_getphdrnum(elf, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
			    !(ph.p_flags & PF_X) || ph.p_offset > len ||
			    ph.p_filesz > len - ph.p_offset)
				continue;
			range_fn(buf + ph.p_offset, ph.p_filesz, range_data);
		}
	}
out:
	elf_end(elf);
}

static int on_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	uint8_t *buf;
	ssize_t got;
	int fd;

	if (type != FTW_F || st->st_size < 4)
		return 0;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	buf = malloc((size_t)st->st_size);
	got = buf ? read(fd, buf, (size_t)st->st_size) : -1;
	close(fd);
	if (got == st->st_size && buf[0] == 0x7f && buf[1] == 'E' && buf[2] == 'L' &&
	    buf[3] == 'F') {
		visit(buf, (size_t)got);
		files++;
	}
	free(buf);
	return 0;
}

long bench_walk(const char *root, bench_range_fn fn, void *data)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -1;
	range_fn = fn;
	range_data = data;
	files = 0;
	if (nftw(root, on_file, 32, FTW_PHYS) != 0)
		return -1;
	return files;
}
