/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpvsub/util.h"
#include "tests/unit/elfgen.h"

static int build_as(const char *lang, const char *src, const char *mode, const char *flags,
		    uint8_t **data, size_t *len)
{
	char dir[] = "/tmp/pvsub-elfgen.XXXXXX";
	char srcpath[64], outpath[64], *cmd = NULL;
	const char *cc = getenv("CC");
	struct pvsub_diag diag;
	FILE *f;
	int r = -1;

	if (!cc || !*cc)
		cc = "cc";
	if (!mkdtemp(dir))
		return -1;
	snprintf(srcpath, sizeof(srcpath), "%s/src", dir);
	snprintf(outpath, sizeof(outpath), "%s/out", dir);
	f = fopen(srcpath, "w");
	if (!f)
		goto out;
	fputs(src, f);
	fputc('\n', f);
	fclose(f);
	if (!flags)
		flags = "";
	if (asprintf(&cmd, "%s %s %s -x %s %s -o %s", cc, mode, flags, lang, srcpath, outpath) <
	    0) {
		cmd = NULL;
		goto out;
	}
	if (system(cmd) != 0)
		goto out;
	if (pvsub_read_file(outpath, 1 << 26, data, len, &diag) < 0)
		goto out;
	r = 0;
out:
	free(cmd);
	unlink(srcpath);
	unlink(outpath);
	rmdir(dir);
	return r;
}

static int build(const char *lang, const char *src, const char *flags, uint8_t **data, size_t *len)
{
	return build_as(lang, src, flags && strstr(flags, "-shared") ? "" : "-c", flags, data, len);
}

int elfgen_assemble(const char *src, const char *flags, uint8_t **data, size_t *len)
{
	return build("assembler", src, flags, data, len);
}

int elfgen_compile_c(const char *src, const char *flags, uint8_t **data, size_t *len)
{
	return build("c", src, flags, data, len);
}

int elfgen_link_exec(const char *src, const char *flags, uint8_t **data, size_t *len)
{
	return build_as("assembler", src, "-nostdlib -static -no-pie -Wl,--build-id=none", flags,
			data, len);
}
