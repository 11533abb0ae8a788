/* SPDX-License-Identifier: MIT */
/*
 * image: an ELF file seen as the memory that can execute (DESIGN §4).
 *
 * An image is built over caller-owned bytes (which must outlive it) and
 * answers: which byte ranges can execute (regions), what an executable region
 * is followed by in memory (junctions), where decoding may start (symbols),
 * which bytes change at load time (relocation windows), which layout rules
 * are broken (violations), and whether a Linux module signature is appended.
 *
 * Layering: image reads every ELF type through libelf, leniently (what a
 * relocatable object breaks is reported as a violation, not refused), and
 * the kernel tables of a relocatable object through the object reader and
 * kmeta, which never call back into it (util <- modsig <- reloc <- relobj
 * <- kmeta <- image <- classify <- scan <- rewrite).
 *
 * Only ELF64 little-endian x86-64 is accepted; everything else is an input
 * error with a one-line reason.  Every header field is bounds-checked; a
 * hostile file yields -EINVAL and a diagnostic, never a crash.
 *
 * Positions inside a region are *indices into region->bytes*; add
 * region->origin to get the offset relative to the section (ET_REL) or to
 * the segment's p_offset (ET_DYN/ET_EXEC, negative for the page head).
 */
#ifndef PVSUB_IMAGE_H
#define PVSUB_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/kaslr.h"
#include "libpvsub/modsig.h"
#include "libpvsub/util.h"

#define PVSUB_PAGE_SIZE 4096u

enum pvsub_elf_kind {
	PVSUB_ELF_REL,
	PVSUB_ELF_DYN,
	PVSUB_ELF_EXEC,
};

/* "REL", "DYN", "EXEC" */
const char *pvsub_elf_kind_name(enum pvsub_elf_kind k);

/* One range of bytes that can execute. */
struct pvsub_region {
	const char *name;     /* section name, or "segment N" */
	bool is_segment;      /* ET_DYN/ET_EXEC program header */
	unsigned index;	      /* section header index, or program header index */
	uint64_t file_offset; /* file offset of bytes[0] */
	const uint8_t *bytes; /* points into the image's data */
	size_t size;
	int64_t origin; /* offset of bytes[0] from the section/segment start */
	uint64_t align; /* sh_addralign (at least 1), or the page size */
	uint64_t vaddr; /* address of bytes[0] (0 based for ET_REL) */
	uint64_t paddr; /* segments: physical (p_paddr-based) address of bytes[0]; 0 for sections */
};

/* A place where decoding may start: function symbols, plus each region start. */
struct pvsub_code_start {
	size_t pos;	  /* index into region->bytes */
	size_t size;	  /* st_size, 0 if unknown */
	const char *name; /* symbol name, or NULL for the region start */
};

/*
 * A byte range whose final value is written at load time: an x86-64
 * relocation applied to an executable section (ET_REL).
 */
struct pvsub_reloc_window {
	size_t pos;	    /* index into region->bytes */
	uint8_t size;	    /* bytes written: 1, 2, 4 or 8 */
	uint32_t type;	    /* R_X86_64_* */
	const char *symbol; /* symbol name, or NULL */
	int64_t addend;
};

/* A layout rule that the file breaks (reported on its own, DESIGN §4). */
struct pvsub_violation {
	const char *kind; /* "wx-segment", "exec-stack", "textrel", "exec-nobits",
			     "overlapping-sections", "section-out-of-file",
			     "segment-out-of-file", "wx-section",
			     "boot-patching-unchecked", "kaslr-relocations-unchecked" */
	char detail[256];
};

struct pvsub_image;

/*
 * Build an image over @size bytes at @data (not copied; must outlive the
 * image).  @name is used in diagnostics only.  -EINVAL with a one-line reason
 * for anything that is not a well-formed ELF64 x86-64 REL/DYN/EXEC file,
 * -ENOMEM.
 */
int pvsub_image_new(const uint8_t *data, size_t size, struct pvsub_image **out,
		    struct pvsub_diag *diag) _must_check_ _nonnull_(1, 3);
void pvsub_image_free(struct pvsub_image *img);

enum pvsub_elf_kind pvsub_image_kind(const struct pvsub_image *img) _nonnull_(1);
uint16_t pvsub_image_machine(const struct pvsub_image *img) _nonnull_(1);
const uint8_t *pvsub_image_data(const struct pvsub_image *img, size_t *size) _nonnull_(1);

/* The executable regions, in section (or program header) order. */
size_t pvsub_image_region_count(const struct pvsub_image *img) _nonnull_(1);
const struct pvsub_region *pvsub_image_region(const struct pvsub_image *img, size_t i) _nonnull_(1);

/*
 * Decoding start points of region @i, sorted by pos, unique by pos, always
 * including pos 0.  Built lazily on first call (not thread-safe with itself
 * on the same image; an image is used by one thread at a time).
 */
int pvsub_image_code_starts(struct pvsub_image *img, size_t i,
			    const struct pvsub_code_start **starts, size_t *n)
	_must_check_ _nonnull_(1, 3, 4);

/* Relocation windows of region @i (ET_REL only; empty otherwise), sorted by
 * pos, with symbol names.  Built on first use, like the code starts.
 * Relocations that write outside their section are violations (found when
 * the image is built) and have no window. */
int pvsub_image_reloc_windows(struct pvsub_image *img, size_t i,
			      const struct pvsub_reloc_window **w, size_t *n)
	_must_check_ _nonnull_(1, 3, 4);

/*
 * Whether bytes [@pos, @pos + @len) of region @i overlap one of its
 * relocation windows: 1 or 0, or a negative errno when the windows cannot
 * be built (-ENOMEM) or @i is out of range (-EINVAL).
 */
int pvsub_image_overlaps_reloc(struct pvsub_image *img, size_t i, size_t pos, size_t len)
	_must_check_ _nonnull_(1);

/*
 * The kernel mutable windows (kmeta.h) of the whole file, sorted by section
 * (or segment) then offset.
 *
 * ET_REL: read once, on first use, through the object reader and kmeta.
 * When the module's tables cannot be read there are none and *@why is the
 * reason, else *@why is "".  Classification treats a file without windows
 * as plain code (stricter); the rewriter refuses with the reason.
 *
 * ET_EXEC (a vmlinux): the boot-time patch tables, read when the image is
 * built, each on its own: the windows of every table that could be read.
 * What is not modelled (a table that cannot be read, with its reason; the
 * tables a stripped vmlinux does not locate; a table pvsub does not read)
 * is a "boot-patching-unchecked" violation instead, and *@why is "".
 *
 * ET_DYN: none.  The windows and the reason live as long as the image.
 * 0, or -ENOMEM.
 */
struct pvsub_mwindow;
int pvsub_image_kmeta(struct pvsub_image *img, const struct pvsub_mwindow **w, size_t *n,
		      const char **why) _must_check_ _nonnull_(1, 2, 3, 4);

/*
 * The windows of pvsub_image_kmeta() that lie in region @i, sorted by
 * offset.  Their section and offset are in the coordinates of
 * region->origin: a section region's windows count from the section start
 * (origin 0), a segment region's from the segment's p_offset.  Each window
 * lies whole in the region, at position offset - region->origin of
 * region->bytes.
 */
int pvsub_image_mutable_windows(struct pvsub_image *img, size_t i,
				const struct pvsub_mwindow **w, size_t *n)
	_must_check_ _nonnull_(1, 3, 4);

/*
 * The KASLR windows of region @i (kaslr.h): the fields, inside its bytes,
 * that the relocation table following a vmlinux (ET_EXEC) moves at boot,
 * sorted by pos and not overlapping (overlapping fields are a violation).
 * Built with the image; none for a file without such a table.  0, or
 * -EINVAL when @i is out of range.
 */
int pvsub_image_kaslr_windows(const struct pvsub_image *img, size_t i,
			      const struct pvsub_kaslr_window **w, size_t *n)
	_must_check_ _nonnull_(1, 3, 4);

/* Whether the file is a vmlinux followed by a KASLR relocation table, and
 * then the table and the offsets it may be moved by, in *@info. */
bool pvsub_image_kaslr(const struct pvsub_image *img, struct pvsub_kaslr_info *info)
	_nonnull_(1, 2);

/* Number of relocation windows of region @i, without building them. */
size_t pvsub_image_reloc_window_count(const struct pvsub_image *img, size_t i) _nonnull_(1);

size_t pvsub_image_violation_count(const struct pvsub_image *img) _nonnull_(1);
const struct pvsub_violation *pvsub_image_violation(const struct pvsub_image *img, size_t i)
	_nonnull_(1);

/* The module signature appended to an ET_REL file, found under
 * PVSUB_MODSIG_LAYOUT (modsig.h); present is false when there is none and
 * for every other ELF type.  The ELF file is the bytes before its offset. */
const struct pvsub_modsig *pvsub_image_modsig(const struct pvsub_image *img) _nonnull_(1);

/*
 * Region @b may directly follow region @a in executable memory with some
 * zero padding (ET_REL: any two distinct executable sections, as the module
 * loader packs them by alignment; ET_DYN/EXEC: consecutive executable
 * segments whose page-extended ranges touch).  *@max_pad is the largest
 * number of padding bytes that can lie between them.
 */
bool pvsub_image_may_adjoin(const struct pvsub_image *img, size_t a, size_t b, size_t *max_pad)
	_nonnull_(1, 4);

#endif
