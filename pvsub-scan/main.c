/* SPDX-License-Identifier: MIT */
/*
 * pvsub-scan: find every occurrence of a policy's patterns in the memory
 * that can execute in ELF files, directories and guest images.
 *
 * The tool is thin: inputs come from libpvsub/input, scanning from
 * libpvsub/scan, output from its own report.c and libpvsub/manifest.  This
 * file parses options, runs the ordered work queue and maps results to the
 * exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "libpvsub/crypto.h"
#include "libpvsub/input.h"
#include "libpvsub/log.h"
#include "libpvsub/manifest.h"
#include "libpvsub/policy.h"
#include "pvsub-scan/report.h"
#include "libpvsub/rewrite.h"
#include "libpvsub/scan.h"
#include "libpvsub/search.h"
#include "libpvsub/certify.h"
#include "libpvsub/workq.h"
#include "libpvsub/x86.h"

#define PROGRAM "pvsub-scan"

enum exit_status {
	EXIT_CLEAN = 0,
	EXIT_FINDINGS = 1,
	EXIT_ERROR = 2,
};

enum {
	OPT_LIST_POLICIES = 0x100,
	OPT_JUNIT,
	OPT_MANIFEST,
	OPT_MANIFEST_DIR,
	OPT_DEEP,
	OPT_COLOR,
	OPT_NO_COLOR,
	OPT_MAX_ENTRY,
	OPT_MAX_TOTAL,
	OPT_MAX_DEPTH,
	OPT_REWRITE,
	OPT_ALLOW_UNSCANNED,
	OPT_ALLOW_BACKING_FILE,
	OPT_MAX_IMAGE_MEMORY,
	OPT_MAX_IMAGE_CPU,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_SARIF_ROOT,
	OPT_VERSION,
	OPT_HELP,
};

static const struct option long_options[] = {
	{"policy", required_argument, NULL, 'p'},
	{"list-policies", no_argument, NULL, OPT_LIST_POLICIES},
	{"format", required_argument, NULL, 'f'},
	{"junit", required_argument, NULL, OPT_JUNIT},
	{"sarif-root", required_argument, NULL, OPT_SARIF_ROOT},
	{"manifest", required_argument, NULL, OPT_MANIFEST},
	{"manifest-dir", required_argument, NULL, OPT_MANIFEST_DIR},
	{"jobs", required_argument, NULL, 'j'},
	{"deep", no_argument, NULL, OPT_DEEP},
	{"color", optional_argument, NULL, OPT_COLOR},
	{"colour", optional_argument, NULL, OPT_COLOR},
	{"no-color", no_argument, NULL, OPT_NO_COLOR},
	{"progress", no_argument, NULL, OPT_PROGRESS},
	{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	{"max-entry-size", required_argument, NULL, OPT_MAX_ENTRY},
	{"max-total-size", required_argument, NULL, OPT_MAX_TOTAL},
	{"max-depth", required_argument, NULL, OPT_MAX_DEPTH},
	{"rewrite", no_argument, NULL, OPT_REWRITE},
	{"allow-unscanned", no_argument, NULL, OPT_ALLOW_UNSCANNED},
	{"allow-backing-file", no_argument, NULL, OPT_ALLOW_BACKING_FILE},
	{"max-image-memory", required_argument, NULL, OPT_MAX_IMAGE_MEMORY},
	{"max-image-cpu", required_argument, NULL, OPT_MAX_IMAGE_CPU},
	{"output", required_argument, NULL, 'o'},
	{"output-dir", required_argument, NULL, 'O'},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROGRAM " [OPTION]... INPUT...\n"
		"Find gate opcodes (VMFUNC, WRPKRU, XRSTOR...) at every byte offset that can\n"
		"execute in ELF objects, x86 kernel images (bzImage: the vmlinux inside),\n"
		"directories and guest images (tar, cpio, zip, ar, deb, rpm; gzip, xz, zstd,\n"
		"bzip2; nested), guest disk images (raw or qcow2: GPT or MBR; ext2/3/4,\n"
		"FAT, ISO9660; read in place), and classify each occurrence.\n"
		"An INPUT of - is standard input (an ELF file, a bzImage or an archive).\n"
		"\n"
		"Policy:\n"
		"  -p, --policy=NAME|FILE    built-in profile or XML policy file (default: "
		"default)\n"
		"      --list-policies       list the built-in profiles and exit\n"
		"      --allow-unscanned     an executable in a format pvsub does not scan\n"
		"                            (PE/COFF, Mach-O, another machine's ELF, an\n"
		"                            ARM64 Image) is reported but does not count\n"
		"                            against the run\n"
		"\n"
		"Output:\n"
		"  -f, --format=FORMAT       text (default), json or sarif, on standard output\n"
		"      --junit=FILE          also write a JUnit XML report to FILE\n"
		"      --sarif-root=DIR      SARIF URIs relative to DIR (default: the current\n"
		"                            directory); file: URIs for files outside it\n"
		"      --manifest=FILE       write the subtraction manifest of the one ELF file\n"
		"      --manifest-dir=DIR    write one manifest per ELF file under DIR\n"
		"      --deep                decode every instruction and report decoding "
		"statistics\n"
		"      --color[=WHEN]        colour text output: auto (default), always, never\n"
		"      --colour[=WHEN]       the same\n"
		"      --no-color            the same as --color=never\n"
		"      --progress            show the progress line on standard error even\n"
		"                            when it is not a terminal\n"
		"      --no-progress         no progress line on standard error\n"
		"  -v, --verbose             list clean files and notes too\n"
		"  -q, --quiet               no progress line\n"
		"\n"
		"Rewriting (relocatable objects: kernel modules, driver objects):\n"
		"      --rewrite             remove every occurrence, keeping behaviour; the\n"
		"                            output's rescan must certify or nothing is written\n"
		"  -o, --output=FILE         write the one rewritten object to FILE\n"
		"  -O, --output-dir=DIR      write each rewritten object under DIR, at its\n"
		"                            input path (archive members as directories)\n"
		"\n"
		"Processing:\n"
		"  -j, --jobs=N              scan N files in parallel (output order is unchanged)\n"
		"      --max-entry-size=SIZE largest file or archive member, decompressed (512M)\n"
		"      --max-total-size=SIZE most bytes decompressed from one archive (8G)\n"
		"      --max-depth=N         deepest nesting of archives (8)\n"
		"      --allow-backing-file  read a qcow2 image's backing file: a qcow2 file\n"
		"                            in the image's directory, named without one\n"
		"      --max-image-memory=SIZE  memory the process reading a disk image may\n"
		"                            add to the scanner's (1G)\n"
		"      --max-image-cpu=SECONDS  its CPU time (30, and 1 more per 32 MiB of image)\n"
		"\n"
		"      --help                display this help and exit\n"
		"      --version             output version information and exit\n"
		"\n"
		"SIZE takes a K, M or G suffix (powers of 1024).\n"
		"\n"
		"Exit status: 0 if every file's verdict certifies it: certified, or certified\n"
		"with load-time checks when its only occurrences are in relocation windows (with\n"
		"--rewrite: every output was written, and is certified so); 1 if any file is\n"
		"rejected: an occurrence of another class (a kernel patch site included) or a\n"
		"violation remains, or a site was refused, or a file is not scanned (an\n"
		"executable in a format pvsub does not scan) without --allow-unscanned; 2 on a\n"
		"usage error or if any input could not be read or scanned (each such input is\n"
		"named on standard error, and in the report).\n"
		"\n"
		"See pvsub-scan(1), pvsub-policy(5), pvsub-manifest(5) and pvsub(7).\n");
}

/*
 * The progress line lives on standard error and is rewritten in place.
 * Anything else printed while it is shown would be glued to it, so every
 * message clears it first, and so does the report before it writes to
 * standard output when both go to the same place (a terminal, or one file).
 */
static struct {
	bool shown;	 /* a progress line is there now */
	bool same_place; /* standard output and error go to the same file */
} tty;

static void progress_clear(void)
{
	if (!tty.shown)
		return;
	fputs("\r\033[K", stderr);
	tty.shown = false;
}

/* Report callback: about to write to standard output. */
static void before_stdout(void *data)
{
	if (tty.same_place)
		progress_clear();
}

/* Every message of the tool: in order with the report when both go to
 * the same place, and never glued to the progress line. */
static void before_message(void)
{
	if (tty.same_place)
		fflush(stdout);
	progress_clear();
}

/* --- the job pipeline ------------------------------------------------------------ */

struct options {
	const char *policy;
	enum pvsub_report_format format;
	const char *junit;
	const char *sarif_root;
	const char *manifest;
	const char *manifest_dir;
	unsigned jobs;
	bool deep;
	int color;    /* -1 auto */
	int progress; /* -1 auto */
	bool verbose, quiet;
	struct pvsub_input_limits limits;
	bool rewrite;
	bool allow_unscanned;
	const char *output;	/* -o */
	const char *output_dir; /* -O */
};

struct image_files {
	char *path; /* the image's display path; NULL when none */
	struct pvsub_image_file *files;
	size_t n, cap;
};

struct run {
	const struct options *opt;
	struct pvsub_policy *policy;
	struct pvsub_matcher *matcher;
	struct pvsub_decoder **decoders;
	unsigned ndecoders;
	struct pvsub_report *report;
	int status;
	bool report_failed;

	/* --manifest-dir: what became of each file reported from the disk
	 * image being walked, until its summary item writes its manifest. */
	struct image_files image;

	/* --manifest FILE: the one manifest, written at the end. */
	size_t elf_files;
	size_t outputs; /* --rewrite: objects handed to write_rewritten() */
	struct pvsub_buf single_manifest;

	/* progress */
	bool progress;
	struct timespec started, last_progress;
	size_t done_files;
	uint64_t done_bytes;
};

struct job {
	struct pvsub_item *item;
	struct pvsub_scan_result *result; /* with --rewrite: of the output when written */
	struct pvsub_rewrite_result *rw;
	bool unchanged; /* --rewrite found nothing to change: the input is the output */
	char *error;
	struct pvsub_buf manifest;
	size_t size;
	const char *input; /* the command-line argument it came from */
	double seconds;	   /* time spent on it in a worker */
};

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void image_files_release(struct image_files *im)
{
	for (size_t i = 0; i < im->n; i++) {
		free((char *)im->files[i].path);
		free((char *)im->files[i].sha256);
		free((char *)im->files[i].detail);
	}
	free(im->files);
	free(im->path);
	*im = (struct image_files){0};
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	pvsub_item_free(j->item);
	pvsub_scan_result_free(j->result);
	pvsub_rewrite_result_free(j->rw);
	free(j->error);
	pvsub_buf_release(&j->manifest);
	free(j);
}

static void make_manifest(struct job *j, struct run *run, const char *original_sha256)
{
	if (!run->opt->manifest && !run->opt->manifest_dir)
		return;
	struct pvsub_manifest_input mi = {
		.tool_name = PROGRAM,
		.tool_version = PACKAGE_VERSION,
		.policy = run->policy,
		.object_path = j->item->path,
		.result = j->result,
		.original_sha256 = original_sha256,
		.rewrite = j->rw,
		.boot = j->item->boot.n_parts ? &j->item->boot : NULL,
	};

	if (pvsub_manifest_write(&mi, &j->manifest) < 0)
		j->error = strdup("cannot serialise the manifest: out of memory");
}

/*
 * --rewrite: the library rewrites, rescans and decides; its result carries
 * the scan of the output (or of the input, when nothing was written or
 * changed) for the report and the manifest.  The output is kept in
 * j->rw->data and written by finish_job().
 */
static void rewrite_job(struct job *j, struct run *run, const struct pvsub_scan_opts *so)
{
	struct pvsub_rewrite_opts ro = {
		.policy = run->policy,
		.matcher = run->matcher,
		.decoder = so->decoder,
		.deep = so->deep,
		.hashes = so->hashes,
	};
	struct pvsub_diag diag = {""};
	char original[PVSUB_SHA256_HEX_LEN];
	int r = pvsub_rewrite_buffer(&ro, j->item->data, j->item->size, &j->rw, &diag);

	if (r == 0)
		r = pvsub_sha256_hex(j->item->data, j->item->size, original);
	if (r < 0) {
		j->error = strdup(diag.msg[0] ? diag.msg : strerror(-r));
		return;
	}
	j->unchanged = j->rw->n_refusals == 0 && j->rw->n_sites == 0;
	j->result = j->rw->scan;
	j->rw->scan = NULL;
	make_manifest(j, run, j->rw->data && !j->unchanged ? original : NULL);
	if (!j->unchanged)
		pvsub_item_free_data(j->item);
}

static void scan_job(void *p, unsigned worker, void *data)
{
	struct job *j = p;
	struct run *run = data;
	struct pvsub_scan_opts so = {
		.policy = run->policy,
		.matcher = run->matcher,
		.decoder = run->decoders[worker],
		.deep = run->opt->deep,
		.hashes = run->opt->format != PVSUB_REPORT_TEXT || run->opt->manifest ||
			  run->opt->manifest_dir,
	};
	struct pvsub_diag diag = {""};
	struct timespec t0, t1;
	int r;

	if (j->item->error || j->item->format || j->item->image)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	j->size = j->item->size;
	if (run->opt->rewrite) {
		rewrite_job(j, run, &so);
	} else {
		if (j->item->boot.n_parts)
			so.boot = &j->item->boot;
		r = pvsub_scan_buffer(&so, j->item->data, j->item->size, &j->result, &diag);
		if (r < 0)
			j->error = strdup(diag.msg[0] ? diag.msg : strerror(-r));
		else
			make_manifest(j, run, NULL);
		/* The bytes are no longer needed; free them early to bound memory. */
		pvsub_item_free_data(j->item);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	j->seconds = seconds_between(&t0, &t1);
}

/* Map a display path to a relative file name under --manifest-dir: every
 * path and archive component becomes a directory, and nothing can climb
 * out ("..", absolute paths). */
static int mirror_path(const char *dir, const char *display, const char *suffix, char **out)
{
	struct pvsub_buf b = {0};
	const char *p = display;
	int r = pvsub_buf_puts(&b, dir);

	while (r == 0 && *p) {
		size_t n = strcspn(p, "/!");

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* empty or "." component */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			r = pvsub_buf_puts(&b, "/__");
		} else {
			r = pvsub_buf_putc(&b, '/');
			if (r == 0)
				r = pvsub_buf_append(&b, p, n);
		}
		p += n;
		if (*p)
			p++;
	}
	if (r == 0)
		r = pvsub_buf_puts(&b, suffix);
	if (r < 0) {
		pvsub_buf_release(&b);
		return r;
	}
	*out = pvsub_buf_steal(&b, NULL);
	return 0;
}

static int make_parents(char *path)
{
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			int r = -errno;

			*s = '/';
			return r;
		}
		*s = '/';
	}
	return 0;
}

static void write_manifest_dir(struct run *run, struct job *j)
{
	struct pvsub_diag diag = {""};
	char *path = NULL;
	int r;

	r = mirror_path(run->opt->manifest_dir, j->item->path, ".manifest.xml", &path);
	if (r == 0)
		r = make_parents(path);
	if (r == 0)
		r = pvsub_write_file_atomic(path, j->manifest.data, j->manifest.len, 0644, &diag);
	if (r < 0) {
		error_msg("%s: cannot write manifest %s: %s", j->item->path, path ? path : "",
			  diag.msg[0] ? diag.msg : strerror(-r));
		run->status = EXIT_ERROR;
	}
	free(path);
}

/* Where --rewrite writes the object of @j: -o FILE, or its input path
 * mirrored under -O DIR without a compression suffix (the output is not
 * compressed). */
static int output_path(struct run *run, const struct job *j, char **out)
{
	static const char *const zsuffix[] = {".xz", ".gz", ".zst", ".bz2"};
	if (run->opt->output) {
		if (run->outputs > 1)
			return -EEXIST;
		*out = strdup(run->opt->output);
		return *out ? 0 : -ENOMEM;
	}
	char *display = strdup(j->item->path);
	if (!display)
		return -ENOMEM;
	size_t n = strlen(display);
	for (size_t k = 0; k < sizeof(zsuffix) / sizeof(zsuffix[0]); k++) {
		size_t l = strlen(zsuffix[k]);
		if (n > l + 3 && strcmp(display + n - l, zsuffix[k]) == 0 &&
		    strncmp(display + n - l - 3, ".ko", 3) == 0)
			display[n - l] = '\0';
	}
	int r = mirror_path(run->opt->output_dir, display, "", out);
	free(display);
	return r;
}

/* Write the output of a --rewrite job; its path in *@written.  The input is
 * never touched: an output that resolves to the input is refused. */
static int write_rewritten(struct run *run, struct job *j, char **written)
{
	struct pvsub_diag diag = {""};
	const uint8_t *data = j->unchanged ? j->item->data : j->rw->data;
	size_t size = j->unchanged ? j->item->size : j->rw->size;
	char *path = NULL;
	struct stat in, out;
	int r;

	run->outputs++;
	r = output_path(run, j, &path);
	if (r == -EEXIST) {
		error_msg("%s: -o takes one object, and the inputs hold more (use -O DIR)",
			  j->item->path);
		return r;
	}
	if (r == 0 && run->opt->output_dir)
		r = make_parents(path);
	if (r == 0 && stat(j->item->path, &in) == 0 && stat(path, &out) == 0 &&
	    in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
		error_msg("%s: the output %s is the input; it is never overwritten", j->item->path,
			  path);
		free(path);
		return -EEXIST;
	}
	if (r == 0)
		r = pvsub_write_file_atomic(path, data, size, 0644, &diag);
	if (r < 0) {
		error_msg("%s: cannot write %s: %s", j->item->path, path ? path : "",
			  diag.msg[0] ? diag.msg : strerror(-r));
		free(path);
		return r;
	}
	*written = path;
	return 0;
}

/* The status of a job that produced a result, as the library decides it
 * from the verdict @v; an accepted --rewrite once its output is written. */
static enum pvsub_file_status job_status(struct run *run, struct job *j, enum pvsub_verdict v,
					 char **written)
{
	if (j->rw && pvsub_verdict_certifies(v) && write_rewritten(run, j, written) < 0)
		return PVSUB_FILE_ERROR;
	return pvsub_file_status_of(j->result, j->rw);
}

static void show_progress(struct run *run, bool final)
{
	struct timespec now;

	if (!run->progress)
		return;
	if (final) {
		progress_clear();
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Only work that takes a while deserves a progress line. */
	if (seconds_between(&run->started, &now) < 0.5 ||
	    seconds_between(&run->last_progress, &now) < 0.1)
		return;
	run->last_progress = now;
	/* What the report wrote comes first, not after the line. */
	if (tty.same_place)
		fflush(stdout);
	tty.shown = true;
	fprintf(stderr, "\r\033[K" PROGRAM ": %zu files, %.1f MiB scanned", run->done_files,
		(double)run->done_bytes / (1024.0 * 1024.0));
}

/*
 * --manifest-dir: note what became of @j, found in a disk image, for the
 * image's manifest.  Items of an image whose walk ended without its
 * summary (a budget ran out) are dropped when the next image starts.
 */
static void note_image_file(struct run *run, const struct job *j, const char *err,
			    enum pvsub_verdict v)
{
	struct image_files *im = &run->image;
	const struct pvsub_item *it = j->item;
	struct pvsub_image_file *f;
	const char *inside = it->path + it->image_len + (it->path[it->image_len] ? 1 : 0);

	if (!run->opt->manifest_dir || !it->image_len)
		return;
	if (!im->path || strncmp(im->path, it->path, it->image_len) != 0 ||
	    im->path[it->image_len]) {
		image_files_release(im);
		im->path = strndup(it->path, it->image_len);
		if (!im->path)
			goto nomem;
	}
	if (im->n == im->cap) {
		size_t cap = im->cap ? 2 * im->cap : 64;
		struct pvsub_image_file *grown = realloc(im->files, cap * sizeof(*grown));

		if (!grown)
			goto nomem;
		im->files = grown;
		im->cap = cap;
	}
	f = &im->files[im->n];
	*f = (struct pvsub_image_file){.path = strdup(inside), .verdict = v};
	if (err) {
		f->kind = PVSUB_IMAGE_FILE_ERROR;
		f->detail = strdup(err);
	} else if (it->format) {
		f->kind = PVSUB_IMAGE_FILE_NOT_SCANNED;
		f->detail = strdup(it->format);
	} else {
		f->kind = PVSUB_IMAGE_FILE_SCANNED;
		f->size = j->result->size;
		f->sha256 = strdup(j->result->sha256);
	}
	im->n++;
	if (f->path && (f->kind == PVSUB_IMAGE_FILE_SCANNED ? !!f->sha256 : !!f->detail))
		return;
nomem:
	error_msg("%s: out of memory for the image manifest", it->path);
	run->status = EXIT_ERROR;
	image_files_release(im);
}

/* --manifest-dir: the summary item of a disk image: its manifest, beside
 * the manifests of the files in it, as IMAGE.image-manifest.xml. */
static void write_image_manifest(struct run *run, const struct job *j)
{
	const struct pvsub_item *it = j->item;
	struct image_files *im = &run->image;
	bool mine = im->path && strcmp(im->path, it->path) == 0;
	struct pvsub_image_manifest_input mi = {
		.tool_name = PROGRAM,
		.tool_version = PACKAGE_VERSION,
		.policy = run->policy,
		.image_path = it->path,
		.format = it->image->format,
		.size = it->image->size,
		.sha256 = it->image->sha256,
		.files = mine ? im->files : NULL,
		.n_files = mine ? im->n : 0,
	};
	struct pvsub_buf xml = {0};
	struct pvsub_diag diag = {""};
	char *path = NULL;
	int r;

	r = pvsub_manifest_write_image(&mi, &xml);
	if (r == 0)
		r = mirror_path(run->opt->manifest_dir, it->path, ".image-manifest.xml", &path);
	if (r == 0)
		r = make_parents(path);
	if (r == 0)
		r = pvsub_write_file_atomic(path, xml.data, xml.len, 0644, &diag);
	if (r < 0) {
		error_msg("%s: cannot write the image manifest %s: %s", it->path, path ? path : "",
			  diag.msg[0] ? diag.msg : strerror(-r));
		run->status = EXIT_ERROR;
	}
	image_files_release(im);
	pvsub_buf_release(&xml);
	free(path);
}

static void finish_job(void *p, void *data)
{
	struct job *j = p;
	struct run *run = data;
	struct pvsub_file_record rec = {
		.path = j->item->path, .input = j->input, .seconds = j->seconds};
	const char *err = j->item->error ? j->item->error : j->error;
	char *written = NULL;

	if (j->item->image) {
		if (run->opt->manifest_dir)
			write_image_manifest(run, j);
		job_free(j);
		return;
	}

	/* A job without result or error ran out of memory on the way. */
	if (!err && !j->result && !j->item->format)
		err = "out of memory";

	if (err) {
		rec.status = PVSUB_FILE_ERROR;
		rec.error = err;
		run->status = EXIT_ERROR;
		/* On standard error in every format, so that a CI log shows it
		 * when the report goes to a file; the text report has the same
		 * line, so once is enough when both go to one place. */
		if (run->opt->format != PVSUB_REPORT_TEXT || !tty.same_place)
			error_msg("%s: %s", j->item->path, err);
		note_image_file(run, j, err, PVSUB_VERDICT_REJECTED);
	} else if (j->item->format) {
		/* Not scanned: its verdict, from the library as for every file;
		 * with --rewrite nothing is written for it. */
		enum pvsub_verdict v = pvsub_verdict_of_unscanned(run->opt->allow_unscanned);

		rec.status = PVSUB_FILE_NOT_SCANNED;
		rec.format = j->item->format;
		rec.allow_unscanned = run->opt->allow_unscanned;
		if (!pvsub_verdict_certifies(v) && run->status == EXIT_CLEAN)
			run->status = EXIT_FINDINGS;
		note_image_file(run, j, NULL, v);
	} else {
		enum pvsub_verdict v = pvsub_verdict_of_file(j->result, j->rw);

		rec.result = j->result;
		rec.rewrite = j->rw;
		rec.status = job_status(run, j, v, &written);
		rec.output = written;
		if (rec.status == PVSUB_FILE_ERROR) {
			rec.error = "the output could not be written";
			run->status = EXIT_ERROR;
		} else if (!pvsub_verdict_certifies(v) && run->status == EXIT_CLEAN) {
			run->status = EXIT_FINDINGS;
		}
		run->elf_files++;
		note_image_file(run, j, NULL, v);
		if (run->opt->manifest_dir)
			write_manifest_dir(run, j);
		else if (run->opt->manifest && run->elf_files == 1)
			run->single_manifest = j->manifest, j->manifest = (struct pvsub_buf){0};
	}
	if (!run->report_failed) {
		int r = pvsub_report_add(run->report, &rec);

		if (r < 0) {
			error_msg("cannot write the report: %s", strerror(-r));
			run->report_failed = true;
			run->status = EXIT_ERROR;
		}
	}
	run->done_files++;
	run->done_bytes += j->size;
	show_progress(run, false);
	free(written);
	job_free(j);
}

struct walk_ctx {
	struct pvsub_workq *q;
	const char *input; /* being walked */
	bool rewrite;
	char *refused_image; /* --rewrite: the disk image refused last */
};

/*
 * --rewrite does not write into a disk image (a rebuilt image is the
 * image builder's job): the first item found inside an image becomes the
 * one error line for that image, the others are dropped.  Returns 1 when
 * @item was dropped (and freed), 0 to submit it, or -ENOMEM.
 */
static int refuse_image_item(struct walk_ctx *w, struct pvsub_item *item)
{
	char *image;

	item->path[item->image_len] = '\0';
	if (w->refused_image && strcmp(w->refused_image, item->path) == 0) {
		pvsub_item_free(item);
		return 1;
	}
	image = strdup(item->path);
	free(item->error);
	free(item->format);
	item->format = NULL;
	pvsub_item_free_data(item);
	item->error = strdup("--rewrite does not write into disk images: rewrite the package "
			     "or the module tree, then rebuild the image");
	if (!image || !item->error) {
		free(image);
		pvsub_item_free(item);
		return -ENOMEM;
	}
	free(w->refused_image);
	w->refused_image = image;
	return 0;
}

static int on_item(void *data, struct pvsub_item *item)
{
	struct walk_ctx *w = data;
	struct job *j;

	if (w->rewrite && item->image_len) {
		int r = refuse_image_item(w, item);

		if (r)
			return r < 0 ? r : 0;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		pvsub_item_free(item);
		return -ENOMEM;
	}
	j->item = item;
	j->input = w->input;
	return pvsub_workq_submit(w->q, j);
}

/* --- set-up ------------------------------------------------------------------------ */

static void list_policies(void)
{
	for (const char *const *n = pvsub_policy_builtin_names(); *n; n++) {
		struct pvsub_policy *p = NULL;
		size_t count = 0;

		if (pvsub_policy_new_builtin(*n, &p, NULL) == 0)
			pvsub_policy_patterns(p, &count);
		printf("%-10s %zu patterns  %s\n", *n, count, pvsub_policy_builtin_description(*n));
		pvsub_policy_free(p);
	}
}

static bool want_color(int setting)
{
	const char *term = getenv("TERM");

	if (setting >= 0)
		return setting;
	if (getenv("NO_COLOR"))
		return false;
	return isatty(STDOUT_FILENO) && term && strcmp(term, "dumb") != 0;
}

static int parse_args(int argc, char **argv, struct options *opt)
{
	int c;

	*opt = (struct options){.policy = "default", .jobs = 1, .color = -1, .progress = -1};
	pvsub_input_limits_default(&opt->limits);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:f:j:o:O:vq", long_options, NULL)) != -1) {
		switch (c) {
		case 'p':
			opt->policy = optarg;
			break;
		case OPT_LIST_POLICIES:
			list_policies();
			exit(EXIT_CLEAN);
		case 'f':
			if (pvsub_report_format_parse(optarg, &opt->format) < 0) {
				error_msg("invalid format '%s' (text, json or sarif)", optarg);
				return -EINVAL;
			}
			break;
		case OPT_JUNIT:
			opt->junit = optarg;
			break;
		case OPT_SARIF_ROOT:
			if (!*optarg) {
				error_msg("--sarif-root needs a directory");
				return -EINVAL;
			}
			opt->sarif_root = optarg;
			break;
		case OPT_MANIFEST:
			opt->manifest = optarg;
			break;
		case OPT_MANIFEST_DIR:
			opt->manifest_dir = optarg;
			break;
		case 'j': {
			uint64_t n;

			if (cli_parse_range(optarg, 1, 256, &n) < 0) {
				error_msg("invalid number of jobs '%s' (1 to 256)", optarg);
				return -EINVAL;
			}
			opt->jobs = (unsigned)n;
			break;
		}
		case OPT_DEEP:
			opt->deep = true;
			break;
		case OPT_COLOR:
			if (!optarg || strcmp(optarg, "always") == 0)
				opt->color = 1;
			else if (strcmp(optarg, "never") == 0)
				opt->color = 0;
			else if (strcmp(optarg, "auto") == 0)
				opt->color = -1;
			else {
				error_msg("invalid colour setting '%s' (auto, always or never)",
					  optarg);
				return -EINVAL;
			}
			break;
		case OPT_NO_COLOR:
			opt->color = 0;
			break;
		case OPT_PROGRESS:
			opt->progress = 1;
			break;
		case OPT_NO_PROGRESS:
			opt->progress = 0;
			break;
		case OPT_MAX_ENTRY:
		case OPT_MAX_TOTAL: {
			uint64_t v;

			if (cli_parse_size(optarg, &v) < 0 || v == 0) {
				error_msg("invalid size '%s'", optarg);
				return -EINVAL;
			}
			if (c == OPT_MAX_ENTRY)
				opt->limits.max_entry_size = v;
			else
				opt->limits.max_total_size = v;
			break;
		}
		case OPT_MAX_DEPTH: {
			uint64_t n;

			if (cli_parse_range(optarg, 0, 64, &n) < 0) {
				error_msg("invalid depth '%s' (0 to 64)", optarg);
				return -EINVAL;
			}
			opt->limits.max_depth = (unsigned)n;
			break;
		}
		case OPT_REWRITE:
			opt->rewrite = true;
			break;
		case OPT_ALLOW_UNSCANNED:
			opt->allow_unscanned = true;
			break;
		case OPT_ALLOW_BACKING_FILE:
			opt->limits.allow_backing_file = true;
			break;
		case OPT_MAX_IMAGE_MEMORY:
			if (cli_parse_size(optarg, &opt->limits.image_reader_memory) < 0 ||
			    opt->limits.image_reader_memory == 0) {
				error_msg("invalid size '%s'", optarg);
				return -EINVAL;
			}
			break;
		case OPT_MAX_IMAGE_CPU: {
			uint64_t n;

			if (cli_parse_range(optarg, 1, 86400, &n) < 0) {
				error_msg("invalid CPU time '%s' (1 to 86400 seconds)", optarg);
				return -EINVAL;
			}
			opt->limits.image_reader_cpu_ms = n * 1000;
			break;
		}
		case 'o':
			opt->output = optarg;
			break;
		case 'O':
			opt->output_dir = optarg;
			break;
		case 'v':
			opt->verbose = true;
			break;
		case 'q':
			opt->quiet = true;
			break;
		case OPT_VERSION:
			print_version();
			exit(EXIT_CLEAN);
		case OPT_HELP:
			usage(stdout);
			exit(EXIT_CLEAN);
		default:
			option_error(NULL, argv, c, long_options);
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		usage_error(NULL, "no input given");
		return -EINVAL;
	}
	if ((opt->manifest && !*opt->manifest) || (opt->manifest_dir && !*opt->manifest_dir)) {
		error_msg("--manifest and --manifest-dir need a non-empty path");
		return -EINVAL;
	}
	if (opt->manifest && opt->manifest_dir) {
		error_msg("--manifest and --manifest-dir cannot be used together");
		return -EINVAL;
	}
	if (opt->rewrite && !!opt->output == !!opt->output_dir) {
		error_msg("--rewrite needs one of -o FILE or -O DIR");
		return -EINVAL;
	}
	if (!opt->rewrite && (opt->output || opt->output_dir)) {
		error_msg("-o and -O are only used with --rewrite");
		return -EINVAL;
	}
	if ((opt->output && !*opt->output) || (opt->output_dir && !*opt->output_dir)) {
		error_msg("-o and -O need a non-empty path");
		return -EINVAL;
	}
	return 0;
}

static void log_to_stderr(void *data, int priority, const char *fmt, va_list ap)
{
	if (tty.same_place)
		fflush(stdout);
	progress_clear();
	fputs(PROGRAM ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static int setup(struct run *run, const struct options *opt)
{
	struct pvsub_diag diag = {""};
	const struct pvsub_pattern *pats;
	size_t n;
	int r;

	r = pvsub_policy_load(opt->policy, &run->policy, &diag);
	if (r < 0) {
		error_msg("%s: %s", opt->policy, diag.msg[0] ? diag.msg : strerror(-r));
		return r;
	}
	pats = pvsub_policy_patterns(run->policy, &n);
	r = pvsub_matcher_new(pats, n, &run->matcher);
	if (r < 0) {
		error_msg("%s: cannot build a matcher: %s", opt->policy, strerror(-r));
		return r;
	}
	run->ndecoders = opt->jobs;
	run->decoders = calloc(run->ndecoders, sizeof(*run->decoders));
	if (!run->decoders)
		return -ENOMEM;
	for (unsigned i = 0; i < run->ndecoders; i++) {
		r = pvsub_decoder_new(&run->decoders[i]);
		if (r < 0) {
			error_msg("cannot start the x86 decoder: %s", strerror(-r));
			return r;
		}
	}
	return 0;
}

static void teardown(struct run *run)
{
	for (unsigned i = 0; run->decoders && i < run->ndecoders; i++)
		pvsub_decoder_free(run->decoders[i]);
	free(run->decoders);
	pvsub_matcher_free(run->matcher);
	pvsub_policy_free(run->policy);
	pvsub_report_free(run->report);
	pvsub_buf_release(&run->single_manifest);
	image_files_release(&run->image);
}

static void write_outputs(struct run *run)
{
	struct pvsub_diag diag = {""};

	if (pvsub_report_finish(run->report) < 0 || fflush(stdout) != 0) {
		error_msg("cannot write the report: %s", strerror(errno));
		run->status = EXIT_ERROR;
	}
	if (run->opt->junit) {
		FILE *f = fopen(run->opt->junit, "w");

		if (!f || pvsub_report_write_junit(run->report, f) < 0 || fclose(f) != 0) {
			error_msg("%s: cannot write the JUnit report: %s", run->opt->junit,
				  strerror(errno));
			run->status = EXIT_ERROR;
		}
	}
	if (run->opt->manifest) {
		if (run->elf_files != 1) {
			error_msg("%s: --manifest needs exactly one ELF file, the inputs hold %zu "
				  "(use --manifest-dir)",
				  run->opt->manifest, run->elf_files);
			run->status = EXIT_ERROR;
		} else if (pvsub_write_file_atomic(run->opt->manifest, run->single_manifest.data,
						   run->single_manifest.len, 0644, &diag) < 0) {
			error_msg("%s: %s", run->opt->manifest, diag.msg);
			run->status = EXIT_ERROR;
		}
	}
}

/* Do standard output and standard error go to the same file, pipe or
 * terminal? */
static bool same_place(void)
{
	struct stat o, e;

	return fstat(STDOUT_FILENO, &o) == 0 && fstat(STDERR_FILENO, &e) == 0 &&
	       o.st_dev == e.st_dev && o.st_ino == e.st_ino;
}

/*
 * Where SARIF URIs start: --sarif-root, resolved, or the current directory.
 * Both are set, or both NULL when the current directory is gone and no
 * root was given (then URIs are the paths as given).
 */
static int sarif_paths(const struct options *opt, char **root, char **cwd)
{
	*cwd = getcwd(NULL, 0);
	*root = realpath(opt->sarif_root ? opt->sarif_root : ".", NULL);
	if (!*root && opt->sarif_root) {
		error_msg("--sarif-root %s: %s", opt->sarif_root, strerror(errno));
		free(*cwd);
		*cwd = NULL;
		return -EINVAL;
	}
	if (!*root || !*cwd) {
		free(*root);
		free(*cwd);
		*root = *cwd = NULL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct run run = {.opt = &opt};
	struct pvsub_ctx *ctx = NULL;
	struct walk_ctx walk = {NULL};
	struct pvsub_report_opts ro;
	char *sarif_root = NULL, *cwd = NULL, host[256] = "";
	int r;

	cli_init(PROGRAM, before_message);
	if (parse_args(argc, argv, &opt) < 0)
		return EXIT_ERROR;
	tty.same_place = same_place();
	if (sarif_paths(&opt, &sarif_root, &cwd) < 0)
		return EXIT_ERROR;
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	/*
	 * Every file is read whole into a fresh buffer and freed soon after.
	 * By default glibc serves buffers this large with mmap and returns them
	 * with munmap, which costs a TLB flush and page faults per file; keeping
	 * them on the heap lets later files reuse the same pages.  The heap is
	 * bounded by the jobs in flight (4 per worker).
	 */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	if (pvsub_ctx_new(&ctx) < 0) {
		error_msg("out of memory");
		return EXIT_ERROR;
	}
	pvsub_ctx_set_log_fn(ctx, log_to_stderr, NULL);
	pvsub_ctx_set_log_priority(ctx, opt.verbose ? PVSUB_LOG_INFO : PVSUB_LOG_WARNING);
	if (setup(&run, &opt) < 0) {
		run.status = EXIT_ERROR;
		goto out;
	}
	ro = (struct pvsub_report_opts){
		.format = opt.format,
		.color = opt.format == PVSUB_REPORT_TEXT && want_color(opt.color),
		.verbose = opt.verbose,
		.tool_name = PROGRAM,
		.tool_version = PACKAGE_VERSION,
		.policy = run.policy,
		.want_junit = opt.junit != NULL,
		.rewrite = opt.rewrite,
		.sarif_root = sarif_root,
		.cwd = cwd,
		.junit_timestamp = (int64_t)time(NULL),
		.junit_hostname = host,
		.before_write = before_stdout,
	};
	if (pvsub_report_new(&ro, stdout, &run.report) < 0) {
		error_msg("out of memory");
		run.status = EXIT_ERROR;
		goto out;
	}
	run.progress =
		opt.progress == 1 || (opt.progress == -1 && isatty(STDERR_FILENO) && !opt.quiet);
	clock_gettime(CLOCK_MONOTONIC, &run.started);
	run.last_progress = run.started;

	r = pvsub_workq_new(opt.jobs, 4 * (size_t)opt.jobs, scan_job, finish_job, &run, &walk.q);
	if (r < 0) {
		error_msg("cannot start workers: %s", strerror(-r));
		run.status = EXIT_ERROR;
		goto out;
	}
	walk.rewrite = opt.rewrite;
	opt.limits.image_summaries = opt.manifest_dir && !opt.rewrite;
	for (int i = optind; i < argc && r >= 0; i++) {
		walk.input = argv[i];
		if (strcmp(argv[i], "-") == 0)
			r = pvsub_input_walk_fd(ctx, STDIN_FILENO, "-", &opt.limits, on_item,
						&walk);
		else
			r = pvsub_input_walk(ctx, argv[i], &opt.limits, on_item, &walk);
		if (r < 0)
			error_msg("%s: %s", argv[i], strerror(-r));
	}
	pvsub_workq_free(walk.q);
	free(walk.refused_image);
	if (r < 0)
		run.status = EXIT_ERROR;
	show_progress(&run, true);
	write_outputs(&run);
out:
	teardown(&run);
	pvsub_ctx_unref(ctx);
	free(sarif_root);
	free(cwd);
	return run.status;
}
