/* SPDX-License-Identifier: MIT */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/bzimage.h"
#include "libpvsub/image.h"
#include "libpvsub/kallsyms.h"
#include "libpvsub/kaslr.h"
#include "libpvsub/kmeta.h"
#include "libpvsub/modsig.h"
#include "libpvsub/relobj.h"
#include "libpvsub/reloc.h"

/* Per-region data computed on demand. */
struct region_extra {
	struct pvsub_code_start *starts;
	size_t n_starts;
	bool starts_done;
	struct pvsub_reloc_window *windows;
	size_t n_windows;
	bool windows_done;
	size_t window_count; /* counted when the image is built */
	struct pvsub_kaslr_window *kaslr; /* sorted by pos, built with the image */
	size_t n_kaslr;
};

struct pvsub_image {
	const uint8_t *data;
	size_t size;	 /* whole input */
	size_t elf_size; /* without an appended module signature */
	Elf *elf;
	enum pvsub_elf_kind kind;
	uint16_t machine;
	size_t shnum, shstrndx;

	struct pvsub_region *regions;
	struct region_extra *extra;
	size_t n_regions, regions_cap; /* regions and extra share the capacity */
	char **region_names;	       /* owned names for segments */
	size_t names_cap;

	struct pvsub_violation *violations;
	size_t n_violations, violations_cap;

	struct pvsub_modsig modsig;

	/* Mutable windows of all regions (ET_REL), built on first use. */
	bool mwindows_built;
	struct pvsub_mwindow *mwindows;
	size_t n_mwindows;
	struct pvsub_diag mwindows_why; /* why there are none, "" if there can be */

	/* A vmlinux followed by its KASLR relocation table (kaslr.h). */
	bool has_kaslr;
	struct pvsub_kaslr_info kaslr;
};

static pthread_once_t libelf_once = PTHREAD_ONCE_INIT;
static bool libelf_ok;

static void libelf_init(void)
{
	libelf_ok = elf_version(EV_CURRENT) != EV_NONE;
}

const char *pvsub_elf_kind_name(enum pvsub_elf_kind k)
{
	switch (k) {
	case PVSUB_ELF_REL:
		return "REL";
	case PVSUB_ELF_DYN:
		return "DYN";
	case PVSUB_ELF_EXEC:
		return "EXEC";
	}
	return "?";
}

static uint64_t page_down(uint64_t x)
{
	return x & ~(uint64_t)(PVSUB_PAGE_SIZE - 1);
}

static uint64_t page_up(uint64_t x)
{
	return x > UINT64_MAX - (PVSUB_PAGE_SIZE - 1) ? UINT64_MAX
						      : page_down(x + PVSUB_PAGE_SIZE - 1);
}

/* Make room for one more element in *@arr (of @cap elements, @n used),
 * doubling, so hostile files with many sections stay linear. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? 2 * *cap : 8;
	if (ncap > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static _printf_format_(3, 4) int add_violation(struct pvsub_image *img, const char *kind,
					       const char *fmt, ...)
{
	struct pvsub_violation *v;
	va_list ap;

	if (grow((void **)&img->violations, &img->violations_cap, img->n_violations, sizeof(*v)) <
	    0)
		return -ENOMEM;
	v = &img->violations[img->n_violations++];
	v->kind = kind;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
	return 0;
}

static int add_region(struct pvsub_image *img, const struct pvsub_region *r)
{
	size_t cap = img->regions_cap;

	if (grow((void **)&img->regions, &cap, img->n_regions, sizeof(*img->regions)) < 0)
		return -ENOMEM;
	cap = img->regions_cap;
	if (grow((void **)&img->extra, &cap, img->n_regions, sizeof(*img->extra)) < 0)
		return -ENOMEM;
	img->regions_cap = cap;
	img->regions[img->n_regions] = *r;
	memset(&img->extra[img->n_regions], 0, sizeof(img->extra[0]));
	img->n_regions++;
	return 0;
}

/*
 * The ELF file ends where an appended module signature starts.  Which
 * trailers count, and why leniency about the format fields hides nothing
 * from the scan, is in modsig.h (PVSUB_MODSIG_LAYOUT).  A file that claims
 * a signature but whose trailer does not add up cannot be trusted either
 * way: an input error.
 */
static int parse_modsig(struct pvsub_image *img, struct pvsub_diag *diag)
{
	struct pvsub_diag d = {{0}};
	int r;

	img->elf_size = img->size;
	r = pvsub_modsig_parse(img->data, img->size, PVSUB_MODSIG_LAYOUT, &img->modsig, &d);
	if (r == -ENOKEY)
		return 0;
	if (r < 0)
		return pvsub_diag_set(diag, EINVAL, "%s", d.msg);
	img->elf_size = img->modsig.offset;
	return 0;
}

/* libelf quietly treats header tables beyond the end of the file as absent;
 * for a scanner that would turn a truncated file into a clean one. */
static int check_header_tables(struct pvsub_image *img, struct pvsub_diag *diag)
{
	Elf64_Ehdr eh;
	uint64_t shnum;

	memcpy(&eh, img->data, sizeof(eh));
	if (eh.e_phnum) {
		if (eh.e_phentsize != sizeof(Elf64_Phdr))
			return pvsub_diag_set(diag, EINVAL, "bad program header size %u",
					      eh.e_phentsize);
		if (eh.e_phoff > img->elf_size ||
		    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > img->elf_size - eh.e_phoff)
			return pvsub_diag_set(
				diag, EINVAL,
				"truncated: the program header table lies outside the file");
	}
	if (eh.e_shoff == 0)
		return 0;
	if (eh.e_shentsize != sizeof(Elf64_Shdr))
		return pvsub_diag_set(diag, EINVAL, "bad section header size %u", eh.e_shentsize);
	if (eh.e_shoff > img->elf_size || sizeof(Elf64_Shdr) > img->elf_size - eh.e_shoff)
		return pvsub_diag_set(diag, EINVAL,
				      "truncated: the section header table lies outside the file");
	shnum = eh.e_shnum;
	if (shnum == 0) { /* extended numbering: the count is in section 0 */
		Elf64_Shdr sh0;

		memcpy(&sh0, img->data + eh.e_shoff, sizeof(sh0));
		shnum = sh0.sh_size;
	}
	if (shnum > (img->elf_size - eh.e_shoff) / sizeof(Elf64_Shdr))
		return pvsub_diag_set(diag, EINVAL,
				      "truncated: the section header table lies outside the file");
	return 0;
}

static int check_ident(struct pvsub_image *img, struct pvsub_diag *diag)
{
	const uint8_t *e = img->data;
	uint16_t type, machine;

	if (img->elf_size < EI_NIDENT || memcmp(e, ELFMAG, SELFMAG) != 0)
		return pvsub_diag_set(diag, EINVAL, "not an ELF file");
	if (img->elf_size < sizeof(Elf64_Ehdr))
		return pvsub_diag_set(diag, EINVAL, "truncated ELF header");
	if (e[EI_CLASS] != ELFCLASS64)
		return pvsub_diag_set(diag, EINVAL,
				      "unsupported ELF class %u (pvsub scans ELF64 x86-64)",
				      e[EI_CLASS]);
	if (e[EI_DATA] != ELFDATA2LSB)
		return pvsub_diag_set(diag, EINVAL,
				      "unsupported byte order (pvsub scans little-endian x86-64)");
	memcpy(&type, e + offsetof(Elf64_Ehdr, e_type), sizeof(type));
	memcpy(&machine, e + offsetof(Elf64_Ehdr, e_machine), sizeof(machine));
	if (machine != EM_X86_64)
		return pvsub_diag_set(diag, EINVAL,
				      "unsupported machine %u (pvsub scans x86-64 only)", machine);
	switch (type) {
	case ET_REL:
		img->kind = PVSUB_ELF_REL;
		break;
	case ET_DYN:
		img->kind = PVSUB_ELF_DYN;
		break;
	case ET_EXEC:
		img->kind = PVSUB_ELF_EXEC;
		break;
	default:
		return pvsub_diag_set(diag, EINVAL, "unsupported ELF type %u", type);
	}
	img->machine = machine;
	return 0;
}

static const char *section_name(const struct pvsub_image *img, const GElf_Shdr *sh)
{
	const char *name = elf_strptr(img->elf, img->shstrndx, sh->sh_name);

	return name ? name : "<bad name>";
}

static bool section_in_file(const struct pvsub_image *img, const GElf_Shdr *sh)
{
	if (sh->sh_type == SHT_NOBITS || sh->sh_size == 0)
		return true;
	return sh->sh_offset <= img->elf_size && sh->sh_size <= img->elf_size - sh->sh_offset;
}

struct extent {
	uint64_t start, end;
	size_t index;
};

static int cmp_extent(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Report every pair of file-backed sections whose bytes overlap. */
static int check_overlaps(struct pvsub_image *img)
{
	struct extent *ext;
	size_t n = 0;
	int r = 0;

	ext = calloc(img->shnum ? img->shnum : 1, sizeof(*ext));
	if (!ext)
		return -ENOMEM;
	for (size_t i = 1; i < img->shnum; i++) {
		GElf_Shdr sh;

		if (!gelf_getshdr(elf_getscn(img->elf, i), &sh))
			continue;
		if (sh.sh_type == SHT_NOBITS || sh.sh_type == SHT_NULL || sh.sh_size == 0 ||
		    !section_in_file(img, &sh))
			continue;
		ext[n++] = (struct extent){sh.sh_offset, sh.sh_offset + sh.sh_size, i};
	}
	qsort(ext, n, sizeof(*ext), cmp_extent);
	/* Compare each section with the furthest-reaching one before it, so
	 * a section nested inside a long one is caught too. */
	for (size_t i = 1, far = 0; i < n && r == 0; i++) {
		if (ext[i].start < ext[far].end)
			r = add_violation(
				img, "overlapping-sections",
				"sections %zu and %zu overlap in the file at offset 0x%llx",
				ext[far].index, ext[i].index, (unsigned long long)ext[i].start);
		if (ext[i].end > ext[far].end)
			far = i;
	}
	free(ext);
	return r;
}

static int load_sections(struct pvsub_image *img, struct pvsub_diag *diag)
{
	int r;

	if (elf_getshdrnum(img->elf, &img->shnum) < 0)
		return pvsub_diag_set(diag, EINVAL, "bad section header table: %s", elf_errmsg(-1));
	if (img->shnum == 0)
		return 0;
	if (elf_getshdrstrndx(img->elf, &img->shstrndx) < 0)
		return pvsub_diag_set(diag, EINVAL, "bad section name table index: %s",
				      elf_errmsg(-1));

	for (size_t i = 1; i < img->shnum; i++) {
		GElf_Shdr sh;
		bool exec;

		if (!gelf_getshdr(elf_getscn(img->elf, i), &sh))
			return pvsub_diag_set(diag, EINVAL, "bad section header %zu: %s", i,
					      elf_errmsg(-1));
		exec = (sh.sh_flags & SHF_ALLOC) && (sh.sh_flags & SHF_EXECINSTR);
		if (!section_in_file(img, &sh)) {
			r = add_violation(img, "section-out-of-file",
					  "section %zu (%s) lies outside the file (offset 0x%llx, "
					  "size 0x%llx)",
					  i, section_name(img, &sh),
					  (unsigned long long)sh.sh_offset,
					  (unsigned long long)sh.sh_size);
			if (r < 0)
				return r;
			continue;
		}
		if (!exec)
			continue;
		if (sh.sh_flags & SHF_WRITE) {
			r = add_violation(img, "wx-section",
					  "section %zu (%s) is writable and executable", i,
					  section_name(img, &sh));
			if (r < 0)
				return r;
		}
		if (sh.sh_type == SHT_NOBITS) {
			r = add_violation(img, "exec-nobits",
					  "section %zu (%s) is executable SHT_NOBITS", i,
					  section_name(img, &sh));
			if (r < 0)
				return r;
			continue;
		}
		if (img->kind != PVSUB_ELF_REL || sh.sh_size == 0)
			continue;
		r = add_region(img, &(struct pvsub_region){
					    .name = section_name(img, &sh),
					    .index = (unsigned)i,
					    .file_offset = sh.sh_offset,
					    .bytes = img->data + sh.sh_offset,
					    .size = sh.sh_size,
					    .origin = 0,
					    .align = sh.sh_addralign ? sh.sh_addralign : 1,
					    .vaddr = 0,
				    });
		if (r < 0)
			return r;
	}
	return check_overlaps(img);
}

static int check_dynamic(struct pvsub_image *img, const GElf_Phdr *ph)
{
	GElf_Dyn dyn;
	size_t n;

	if (ph->p_offset > img->elf_size || ph->p_filesz > img->elf_size - ph->p_offset)
		return 0; /* reported as segment-out-of-file */
	n = ph->p_filesz / sizeof(Elf64_Dyn);
	for (size_t i = 0; i < n; i++) {
		memcpy(&dyn, img->data + ph->p_offset + i * sizeof(Elf64_Dyn), sizeof(dyn));
		if (dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag == DT_TEXTREL ||
		    (dyn.d_tag == DT_FLAGS && (dyn.d_un.d_val & DF_TEXTREL)))
			return add_violation(img, "textrel",
					     "dynamic section has text relocations (%s)",
					     dyn.d_tag == DT_TEXTREL ? "DT_TEXTREL" : "DF_TEXTREL");
	}
	return 0;
}

#define MAX_LOADS 1024

/* A PT_LOAD as the loader maps it: whole pages of virtual memory. */
struct load {
	size_t index;
	GElf_Phdr ph;
	uint64_t lo, hi; /* page-aligned virtual range of its file-backed pages */
};

struct interval {
	uint64_t lo, hi;
};

static int add_segment_region(struct pvsub_image *img, const struct load *ld, uint64_t vlo,
			      uint64_t vhi)
{
	uint64_t file_lo = page_down(ld->ph.p_offset) + (vlo - ld->lo);
	uint64_t file_hi = file_lo + (vhi - vlo);
	char *name;
	int r;

	if (file_lo >= img->elf_size)
		return 0;
	if (file_hi > img->elf_size || file_hi < file_lo)
		file_hi = img->elf_size;
	if (asprintf(&name, "segment %zu", ld->index) < 0)
		return -ENOMEM;
	if (grow((void **)&img->region_names, &img->names_cap, img->n_regions,
		 sizeof(*img->region_names)) < 0) {
		free(name);
		return -ENOMEM;
	}
	img->region_names[img->n_regions] = name;
	r = add_region(img, &(struct pvsub_region){
				    .name = name,
				    .is_segment = true,
				    .index = (unsigned)ld->index,
				    .file_offset = file_lo,
				    .bytes = img->data + file_lo,
				    .size = file_hi - file_lo,
				    .origin = (int64_t)file_lo - (int64_t)ld->ph.p_offset,
				    .align = PVSUB_PAGE_SIZE,
				    .vaddr = vlo,
				    .paddr = ld->ph.p_paddr + (vlo - ld->ph.p_vaddr),
			    });
	if (r < 0) {
		free(name);
		img->region_names[img->n_regions] = NULL;
	}
	return r;
}

/*
 * The pages that executable segment @i really supplies: the loader maps
 * PT_LOADs in order with MAP_FIXED, so a page that a later PT_LOAD also
 * covers holds the later segment's bytes.  Each remaining run of pages is
 * one region; junctions between regions are then junctions in memory.
 */
static int add_segment_regions(struct pvsub_image *img, const struct load *loads, size_t n,
			       size_t i)
{
	struct interval iv[2 * MAX_LOADS + 1];
	size_t niv = 1;
	int r = 0;

	iv[0] = (struct interval){loads[i].lo, loads[i].hi};
	for (size_t j = i + 1; j < n; j++) {
		size_t out = 0;
		struct interval cut = {loads[j].lo, loads[j].hi};

		for (size_t k = 0; k < niv; k++) {
			struct interval v = iv[k];

			if (cut.hi <= v.lo || cut.lo >= v.hi) {
				iv[out++] = v;
				continue;
			}
			if (v.lo < cut.lo)
				iv[out++] = (struct interval){v.lo, cut.lo};
			if (cut.hi < v.hi)
				iv[out++] = (struct interval){cut.hi, v.hi};
		}
		niv = out;
	}
	for (size_t k = 0; k < niv && r == 0; k++)
		if (iv[k].hi > iv[k].lo)
			r = add_segment_region(img, &loads[i], iv[k].lo, iv[k].hi);
	return r;
}

static int load_segments(struct pvsub_image *img, struct pvsub_diag *diag)
{
	struct load *loads = NULL;
	size_t phnum, nloads = 0;
	int r = 0;

	if (elf_getphdrnum(img->elf, &phnum) < 0)
		return pvsub_diag_set(diag, EINVAL, "bad program header table: %s", elf_errmsg(-1));
	loads = calloc(PVSUB_MIN(phnum, (size_t)MAX_LOADS) + 1, sizeof(*loads));
	if (!loads)
		return -ENOMEM;
	for (size_t i = 0; i < phnum && r == 0; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(img->elf, (int)i, &ph)) {
			r = pvsub_diag_set(diag, EINVAL, "bad program header %zu: %s", i,
					   elf_errmsg(-1));
			break;
		}
		if (ph.p_type == PT_GNU_STACK && (ph.p_flags & PF_X))
			r = add_violation(img, "exec-stack",
					  "PT_GNU_STACK asks for an executable stack");
		if (r == 0 && ph.p_type == PT_DYNAMIC)
			r = check_dynamic(img, &ph);
		if (r < 0 || ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset > img->elf_size || ph.p_filesz > img->elf_size - ph.p_offset)
			r = add_violation(
				img, "segment-out-of-file",
				"segment %zu lies outside the file (offset 0x%llx, size 0x%llx)", i,
				(unsigned long long)ph.p_offset, (unsigned long long)ph.p_filesz);
		if (r == 0 && (ph.p_flags & PF_X) && (ph.p_flags & PF_W))
			r = add_violation(img, "wx-segment",
					  "segment %zu is writable and executable", i);
		if (r < 0)
			break;
		if (nloads == MAX_LOADS) {
			r = pvsub_diag_set(diag, EINVAL,
					   "too many loadable segments (more than %d)", MAX_LOADS);
			break;
		}
		/* The loader maps whole pages: the file bytes from the page below
		 * p_offset to the page end above p_offset+p_filesz execute too. */
		loads[nloads++] = (struct load){
			.index = i,
			.ph = ph,
			.lo = page_down(ph.p_vaddr),
			.hi = ph.p_filesz > UINT64_MAX - ph.p_vaddr
				      ? UINT64_MAX
				      : page_up(ph.p_vaddr + ph.p_filesz),
		};
	}
	for (size_t i = 0; i < nloads && r == 0; i++)
		if ((loads[i].ph.p_flags & PF_X) && loads[i].ph.p_offset <= img->elf_size)
			r = add_segment_regions(img, loads, nloads, i);
	free(loads);
	return r;
}

static size_t region_of_section(const struct pvsub_image *img, size_t shndx)
{
	for (size_t i = 0; i < img->n_regions; i++)
		if (img->regions[i].index == shndx)
			return i;
	return SIZE_MAX;
}

/*
 * Every relocation aimed at an executable section is checked and counted
 * when the image is built, straight from the file bytes: this is on every
 * scan's path, while the sorted, named windows are only needed near
 * occurrences (pvsub_image_reloc_windows).
 */
/*
 * The tables from which a kernel image patches its own code at boot
 * (alternatives, paravirt, jump labels, static calls, retpoline and return
 * thunks, call depth tracking, ENDBR sealing, SMP lock prefixes, ftrace),
 * by the section names that say they are there.  A vmlinux (ET_EXEC) has
 * them read into windows (check_boot_patching()); an ET_DYN file that has
 * them gets them named, unread.
 */
static const char *const boot_patch_tables[] = {
	".altinstructions", ".parainstructions", "__jump_table", ".static_call_sites",
	".retpoline_sites", ".return_sites",	 ".call_sites",	 ".ibt_endbr_seal",
	".smp_locks",	    "__mcount_loc",
};
#define N_BOOT_PATCH_TABLES (sizeof(boot_patch_tables) / sizeof(boot_patch_tables[0]))

/*
 * What an ET_DYN file with a kernel's boot-time patch tables changes in its
 * own code at boot and pvsub does not model (DESIGN §4): the code bytes
 * those tables rewrite.  It is a violation, so such a file is never
 * certified on the strength of bytes that are not the ones that run.
 */
static int check_kernel_patching(struct pvsub_image *img)
{
	bool seen[N_BOOT_PATCH_TABLES] = {false};
	char names[112] = "";
	size_t n = 0, used = 0;
	bool full = false;
	int r = 0;

	for (size_t i = 1; i < img->shnum; i++) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(elf_getscn(img->elf, i), &sh) || sh.sh_size == 0)
			continue;
		name = section_name(img, &sh);
		for (size_t t = 0; t < N_BOOT_PATCH_TABLES; t++) {
			if (seen[t] || strcmp(name, boot_patch_tables[t]) != 0)
				continue;
			seen[t] = true;
			n++;
			/* Names in section order, as many as the detail holds. */
			if (!full && used + strlen(name) + 6 < sizeof(names)) {
				used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
							 used ? " " : "", name);
			} else if (!full) {
				snprintf(names + used, sizeof(names) - used, " ...");
				full = true;
			}
		}
	}
	if (n)
		r = add_violation(img, "boot-patching-unchecked",
				  "%zu boot-time patch table%s (%s) rewrite%s code at boot; "
				  "not modelled",
				  n, n == 1 ? "" : "s", names, n == 1 ? "s" : "");
	return r;
}

/* The physical range the loadable segments cover: where the decompressor
 * puts the kernel before it relocates it. */
static int load_span(struct pvsub_image *img, uint64_t *lo, uint64_t *span)
{
	uint64_t hi = 0;
	size_t phnum;

	*lo = UINT64_MAX;
	if (elf_getphdrnum(img->elf, &phnum) < 0)
		return -EINVAL;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(img->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (ph.p_memsz > UINT64_MAX - ph.p_paddr)
			return -EINVAL;
		*lo = PVSUB_MIN(*lo, (uint64_t)ph.p_paddr);
		hi = PVSUB_MAX(hi, (uint64_t)(ph.p_paddr + ph.p_memsz));
	}
	if (*lo == UINT64_MAX)
		return -EINVAL;
	*span = hi - *lo;
	return 0;
}

static int cmp_kaslr_window(const void *x, const void *y)
{
	const struct pvsub_kaslr_window *a = x, *b = y;

	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/*
 * Put each field of the table onto the executable region that holds it, at
 * its physical address, as the decompressor finds it.  What the model
 * cannot say exactly is a kaslr-relocations-unchecked violation: a field
 * that crosses a region's edge, two fields that overlap, a kernel too big
 * for any offset.  Fields outside every executable region move data only.
 */
static int place_kaslr_fields(struct pvsub_image *img, const struct pvsub_kaslr_field *f,
			      size_t nf, bool *straddles)
{
	for (size_t i = 0; i < img->n_regions; i++) {
		const struct pvsub_region *rg = &img->regions[i];
		struct region_extra *ex = &img->extra[i];
		size_t cap = 0;

		for (size_t k = 0; k < nf; k++) {
			/* A sign-extended 32-bit word minus the map: below 2^32. */
			uint64_t phys = f[k].addr - PVSUB_KASLR_START_KERNEL_MAP;
			uint64_t last = phys + f[k].size - 1;
			bool first_in = phys >= rg->paddr && phys - rg->paddr < rg->size;
			bool last_in = last >= rg->paddr && last - rg->paddr < rg->size;
			uint64_t off = phys - rg->paddr;

			if (!first_in && !last_in)
				continue;
			if (!first_in || !last_in) {
				*straddles = true;
				continue;
			}
			if (grow((void **)&ex->kaslr, &cap, ex->n_kaslr, sizeof(*ex->kaslr)) < 0)
				return -ENOMEM;
			ex->kaslr[ex->n_kaslr++] = (struct pvsub_kaslr_window){
				.pos = (size_t)off, .size = f[k].size, .sign = f[k].sign};
		}
		if (ex->n_kaslr > 1)
			qsort(ex->kaslr, ex->n_kaslr, sizeof(*ex->kaslr), cmp_kaslr_window);
	}
	return 0;
}

/* Whether two fields of one region overlap (the decompressor would apply
 * both to the same bytes, in an order the model does not follow). */
static bool kaslr_fields_overlap(const struct pvsub_image *img)
{
	for (size_t i = 0; i < img->n_regions; i++) {
		const struct region_extra *ex = &img->extra[i];

		for (size_t k = 1; k < ex->n_kaslr; k++)
			if (ex->kaslr[k].pos < ex->kaslr[k - 1].pos + ex->kaslr[k - 1].size)
				return true;
	}
	return false;
}

/*
 * A vmlinux followed by its KASLR relocation table: every field the table
 * moves inside executable bytes becomes a window of its region, and the
 * offsets it may move by are fixed (kaslr.h).  A file without a table has
 * none; trailing bytes that are not a table are not read as one.
 */
static int build_kaslr(struct pvsub_image *img)
{
	struct pvsub_kaslr_field *f = NULL;
	uint64_t end, lo, span;
	bool straddles = false;
	size_t nf;
	int r;

	if (img->kind != PVSUB_ELF_EXEC ||
	    pvsub_vmlinux_elf_end(img->data, img->size, &end, NULL) < 0 || end >= img->size)
		return 0;
	r = pvsub_kaslr_fields(img->data + end, img->size - end, &f, &nf, &img->kaslr.counts);
	if (r == -EINVAL || (r == 0 && nf == 0))
		return 0;
	if (r < 0)
		return r;
	img->has_kaslr = true;
	img->kaslr.table_offset = end;
	img->kaslr.table_size = img->size - end;
	if (load_span(img, &lo, &span) < 0 ||
	    pvsub_kaslr_offsets_for(lo, span, &img->kaslr.offsets) < 0) {
		free(f);
		return add_violation(img, "kaslr-relocations-unchecked",
				     "the loadable segments do not fit below %llu MiB, so the "
				     "KASLR offsets are unknown",
				     PVSUB_KASLR_IMAGE_LIMIT >> 20);
	}
	r = place_kaslr_fields(img, f, nf, &straddles);
	free(f);
	if (r == 0 && straddles)
		r = add_violation(img, "kaslr-relocations-unchecked",
				  "a KASLR-relocated field crosses the edge of an executable "
				  "segment");
	if (r == 0 && kaslr_fields_overlap(img)) {
		/* No search over them: the file is rejected for the violation. */
		for (size_t i = 0; i < img->n_regions; i++) {
			free(img->extra[i].kaslr);
			img->extra[i].kaslr = NULL;
			img->extra[i].n_kaslr = 0;
		}
		r = add_violation(img, "kaslr-relocations-unchecked",
				  "two KASLR-relocated fields overlap in executable bytes");
	}
	return r;
}

int pvsub_image_kaslr_windows(const struct pvsub_image *img, size_t i,
			      const struct pvsub_kaslr_window **w, size_t *n)
{
	*w = NULL;
	*n = 0;
	if (i >= img->n_regions)
		return -EINVAL;
	*w = img->extra[i].kaslr;
	*n = img->extra[i].n_kaslr;
	return 0;
}

bool pvsub_image_kaslr(const struct pvsub_image *img, struct pvsub_kaslr_info *info)
{
	if (img->has_kaslr)
		*info = img->kaslr;
	return img->has_kaslr;
}

static int check_relocations(struct pvsub_image *img)
{
	int r;

	for (size_t k = 1; k < img->shnum; k++) {
		GElf_Shdr sh;
		size_t region, ent, count;
		const struct pvsub_region *rg;

		if (!gelf_getshdr(elf_getscn(img->elf, k), &sh) ||
		    (sh.sh_type != SHT_RELA && sh.sh_type != SHT_REL))
			continue;
		region = region_of_section(img, sh.sh_info);
		if (region == SIZE_MAX)
			continue;
		rg = &img->regions[region];
		ent = sh.sh_type == SHT_RELA ? sizeof(Elf64_Rela) : sizeof(Elf64_Rel);
		if (sh.sh_entsize != ent || !section_in_file(img, &sh) || sh.sh_size % ent) {
			r = add_violation(img, "bad-relocations",
					  "relocation section %s is malformed",
					  section_name(img, &sh));
			if (r < 0)
				return r;
			continue;
		}
		count = sh.sh_size / ent;
		for (size_t e = 0; e < count; e++) {
			Elf64_Rel rel; /* r_offset and r_info lead both forms */
			uint8_t size;

			memcpy(&rel, img->data + sh.sh_offset + e * ent, sizeof(rel));
			size = (uint8_t)pvsub_reloc_window_size((uint32_t)ELF64_R_TYPE(rel.r_info));
			if (size == 0)
				continue;
			if (rel.r_offset > rg->size || size > rg->size - rel.r_offset) {
				r = add_violation(
					img, "relocation-out-of-section",
					"relocation %zu of %s writes outside %s (offset 0x%llx)", e,
					section_name(img, &sh), rg->name,
					(unsigned long long)rel.r_offset);
				if (r < 0)
					return r;
				continue;
			}
			img->extra[region].window_count++;
		}
	}
	return 0;
}

size_t pvsub_image_reloc_window_count(const struct pvsub_image *img, size_t i)
{
	return i < img->n_regions ? img->extra[i].window_count : 0;
}

/* --- boot-time patch tables of a linked kernel (ET_EXEC) --------------------------- */

/* What an ET_EXEC file says about one table of pvsub_kmeta_boot_tables(). */
enum table_state {
	TABLE_ABSENT,	  /* not there, or empty */
	TABLE_FOUND,	  /* bytes to read */
	TABLE_UNLOCATED,  /* delimited by symbols, and the file has no symbol table */
	TABLE_BAD,	  /* there, but not readable: why */
	TABLE_UNMODELLED, /* there, and not a table pvsub reads */
};

struct boot_table {
	const struct pvsub_kmeta_boot_table *spec;
	enum table_state state;
	struct pvsub_kmeta_table t;
	struct pvsub_diag why;
	uint64_t start, stop; /* symbol values, when seen */
	bool have_start, have_stop, twice;
};

/* Index of the first section named @name with bytes, or 0. */
static size_t find_section(const struct pvsub_image *img, const char *name, GElf_Shdr *sh)
{
	for (size_t i = 1; i < img->shnum; i++)
		if (gelf_getshdr(elf_getscn(img->elf, i), sh) && sh->sh_size != 0 &&
		    strcmp(section_name(img, sh), name) == 0)
			return i;
	return 0;
}

/* The table's bytes are those of section @index (@sh). */
static void table_in_section(const struct pvsub_image *img, struct boot_table *bt, size_t index,
			     const GElf_Shdr *sh)
{
	if (sh->sh_type == SHT_NOBITS || !section_in_file(img, sh)) {
		bt->state = TABLE_BAD;
		pvsub_diag_set(&bt->why, EINVAL, "%s: section %zu has no bytes in the file",
			       bt->spec->name, index);
		return;
	}
	bt->state = TABLE_FOUND;
	bt->t = (struct pvsub_kmeta_table){
		.name = bt->spec->name,
		.vaddr = sh->sh_addr,
		.bytes = img->data + sh->sh_offset,
		.size = sh->sh_size,
		.index = index,
		.section_offset = 0,
	};
}

/* Record symbol @name (of @value) if it delimits one of the @n tables. */
static void note_delimiter(struct boot_table *bt, size_t n, const char *name, uint64_t value)
{
	for (size_t k = 0; k < n; k++) {
		bool is_start = bt[k].spec->start && strcmp(name, bt[k].spec->start) == 0;
		bool is_stop = bt[k].spec->stop && strcmp(name, bt[k].spec->stop) == 0;
		bool *have = is_start ? &bt[k].have_start : &bt[k].have_stop;
		uint64_t *val = is_start ? &bt[k].start : &bt[k].stop;

		if (!is_start && !is_stop)
			continue;
		if (*have && *val != value)
			bt[k].twice = true;
		*have = true;
		*val = value;
	}
}

/* Look the delimiting symbols up in every SHT_SYMTAB: true when the file
 * has one (a stripped vmlinux has none). */
static bool find_delimiters(struct pvsub_image *img, struct boot_table *bt, size_t n)
{
	bool have_symtab = false;

	for (size_t i = 1; i < img->shnum; i++) {
		Elf_Scn *scn = elf_getscn(img->elf, i);
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		have_symtab = true;
		d = elf_getdata(scn, NULL);
		if (!d || sh.sh_entsize != sizeof(Elf64_Sym))
			continue;
		for (size_t k = 1; k < d->d_size / sizeof(Elf64_Sym) && k <= INT32_MAX; k++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, (int)k, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(img->elf, sh.sh_link, sym.st_name);
			if (name && strncmp(name, "__st", 4) == 0)
				note_delimiter(bt, n, name, sym.st_value);
		}
	}
	return have_symtab;
}

/* The table between its two symbols: in the file bytes of one section. */
static void table_between_symbols(const struct pvsub_image *img, struct boot_table *bt)
{
	const struct pvsub_kmeta_boot_table *sp = bt->spec;

	bt->state = TABLE_BAD;
	if (bt->twice) {
		pvsub_diag_set(&bt->why, EINVAL, "%s: %s or %s is defined twice", sp->name,
			       sp->start, sp->stop);
		return;
	}
	if (!bt->have_start || !bt->have_stop) {
		pvsub_diag_set(&bt->why, EINVAL, "%s: %s without %s", sp->name,
			       bt->have_start ? sp->start : sp->stop,
			       bt->have_start ? sp->stop : sp->start);
		return;
	}
	if (bt->stop < bt->start) {
		pvsub_diag_set(&bt->why, EINVAL, "%s: %s (%#llx) lies after %s (%#llx)", sp->name,
			       sp->start, (unsigned long long)bt->start, sp->stop,
			       (unsigned long long)bt->stop);
		return;
	}
	if (bt->stop == bt->start) {
		bt->state = TABLE_ABSENT;
		return;
	}
	for (size_t i = 1; i < img->shnum; i++) {
		GElf_Shdr sh;

		if (!gelf_getshdr(elf_getscn(img->elf, i), &sh) || sh.sh_type == SHT_NOBITS ||
		    !(sh.sh_flags & SHF_ALLOC) || !section_in_file(img, &sh) ||
		    bt->start < sh.sh_addr || bt->stop - sh.sh_addr > sh.sh_size)
			continue;
		bt->state = TABLE_FOUND;
		bt->t = (struct pvsub_kmeta_table){
			.name = sp->name,
			.vaddr = bt->start,
			.bytes = img->data + sh.sh_offset + (bt->start - sh.sh_addr),
			.size = (size_t)(bt->stop - bt->start),
			.index = i,
			.section_offset = bt->start - sh.sh_addr,
		};
		return;
	}
	pvsub_diag_set(&bt->why, EINVAL, "%s: %#llx..%#llx lies in no section's file bytes",
		       sp->name, (unsigned long long)bt->start, (unsigned long long)bt->stop);
}

/* Whether the file has boot-time patch tables: a kernel. */
static bool has_boot_tables(const struct boot_table *bt, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (bt[k].state == TABLE_FOUND || bt[k].state == TABLE_BAD ||
		    bt[k].state == TABLE_UNMODELLED)
			return true;
	return false;
}

/* The file bytes of every loadable segment, as kallsyms reads them
 * (*@runs malloc'ed). */
static int loadable_runs(struct pvsub_image *img, struct pvsub_kallsyms_run **runs, size_t *n)
{
	size_t phnum;

	*n = 0;
	if (elf_getphdrnum(img->elf, &phnum) < 0)
		phnum = 0;
	*runs = calloc(phnum ? phnum : 1, sizeof(**runs));
	if (!*runs)
		return -ENOMEM;
	for (size_t i = 0; i < phnum && i <= INT32_MAX; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(img->elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    ph.p_offset > img->elf_size || ph.p_filesz == 0)
			continue;
		(*runs)[(*n)++] = (struct pvsub_kallsyms_run){
			.vaddr = ph.p_vaddr,
			.bytes = img->data + ph.p_offset,
			.size = (size_t)PVSUB_MIN(ph.p_filesz, img->elf_size - ph.p_offset),
		};
	}
	return 0;
}

struct delimiters {
	struct boot_table *bt;
	size_t n;
};

static int note_kallsyms(const char *name, char type, uint64_t addr, void *arg)
{
	struct delimiters *dl = arg;

	(void)type;
	if (strncmp(name, "__st", 4) == 0)
		note_delimiter(dl->bt, dl->n, name, addr);
	return 0;
}

/*
 * A stripped vmlinux still carries the kernel's own symbol table
 * (kallsyms.h): the symbols that delimit the tables that are not sections
 * are read from it and checked as those of an ELF symbol table are.  A
 * kallsyms without them (a kernel without CONFIG_KALLSYMS_ALL lists code
 * symbols only) says nothing about the table, which cannot be read.  When
 * kallsyms itself cannot be read, the tables stay unlocated and *@why says
 * why.  0, or -ENOMEM.
 */
static int kallsyms_delimiters(struct pvsub_image *img, struct boot_table *bt, size_t n,
			       struct pvsub_diag *why)
{
	struct pvsub_kallsyms_run *runs = NULL;
	struct pvsub_kallsyms *ks = NULL;
	struct delimiters dl = {bt, n};
	size_t n_runs;
	int r;

	r = loadable_runs(img, &runs, &n_runs);
	if (r == 0)
		r = pvsub_kallsyms_find(runs, n_runs, &ks, why);
	if (r == 0 && pvsub_kallsyms_foreach(ks, note_kallsyms, &dl) < 0)
		r = pvsub_diag_set(why, EINVAL, "kallsyms changed after it was read");
	pvsub_kallsyms_free(ks);
	free(runs);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	for (size_t k = 0; k < n; k++) {
		const struct pvsub_kmeta_boot_table *sp = bt[k].spec;

		if (bt[k].state != TABLE_UNLOCATED)
			continue;
		if (bt[k].have_start || bt[k].have_stop) {
			table_between_symbols(img, &bt[k]);
			continue;
		}
		bt[k].state = TABLE_BAD;
		pvsub_diag_set(&bt[k].why, EINVAL,
			       "%s: the kernel's kallsyms names neither %s nor %s", sp->name,
			       sp->start, sp->stop);
	}
	return 0;
}

/*
 * Where each table is.  A table the linker script merges into another
 * section is found by its symbols; a linker script defines both whenever
 * the kernel has the table, so a symbol table without them means there is
 * none.  Without a symbol table, a section of that name still says it, and
 * a kernel's kallsyms names the symbols (*@ks_why: why it cannot be read,
 * "" if it was not needed or could be).  0, or -ENOMEM.
 */
static int locate_boot_tables(struct pvsub_image *img, struct boot_table *bt, size_t n,
			      struct pvsub_diag *ks_why)
{
	bool have_symtab = find_delimiters(img, bt, n), unlocated = false;

	pvsub_diag_clear(ks_why);
	for (size_t k = 0; k < n; k++) {
		const struct pvsub_kmeta_boot_table *sp = bt[k].spec;
		GElf_Shdr sh;
		size_t index;

		if (sp->start && (bt[k].have_start || bt[k].have_stop)) {
			table_between_symbols(img, &bt[k]);
			continue;
		}
		index = find_section(img, sp->name, &sh);
		if (index && sp->unmodelled)
			bt[k].state = TABLE_UNMODELLED;
		else if (index)
			table_in_section(img, &bt[k], index, &sh);
		else if (sp->start && !have_symtab)
			bt[k].state = TABLE_UNLOCATED;
		unlocated |= bt[k].state == TABLE_UNLOCATED;
	}
	/* Only a kernel is searched: another stripped executable has no
	 * table to locate, and its bytes are not read again. */
	if (unlocated && has_boot_tables(bt, n))
		return kallsyms_delimiters(img, bt, n, ks_why);
	return 0;
}

/* The executable segments' file bytes, as runs of the regions that map
 * them (*@runs malloc'ed). */
static int exec_code_runs(struct pvsub_image *img, struct pvsub_kmeta_code **runs, size_t *n)
{
	*n = 0;
	*runs = calloc(img->n_regions ? img->n_regions : 1, sizeof(**runs));
	if (!*runs)
		return -ENOMEM;
	for (size_t i = 0; i < img->n_regions; i++) {
		const struct pvsub_region *rg = &img->regions[i];
		GElf_Phdr ph;
		int64_t lo, hi;

		if (!rg->is_segment || !gelf_getphdr(img->elf, (int)rg->index, &ph) ||
		    ph.p_filesz > INT64_MAX)
			continue;
		/* In the segment's coordinates (region->origin's): its file
		 * bytes are [0, p_filesz); the region holds [origin, origin + size). */
		lo = PVSUB_MAX(rg->origin, (int64_t)0);
		hi = PVSUB_MIN(rg->origin + (int64_t)rg->size, (int64_t)ph.p_filesz);
		if (hi <= lo)
			continue;
		(*runs)[(*n)++] = (struct pvsub_kmeta_code){
			.vaddr = rg->vaddr + (uint64_t)(lo - rg->origin),
			.bytes = rg->bytes + (lo - rg->origin),
			.size = (size_t)(hi - lo),
			.section = rg->index,
			.offset = (uint64_t)lo,
			.name = rg->name,
		};
	}
	return 0;
}

/* "a, b and c" of the tables in state @st, into @out. */
static void name_tables(const struct boot_table *bt, size_t n, enum table_state st, char *out,
			size_t size)
{
	size_t total = 0, done = 0, used = 0;

	out[0] = '\0';
	for (size_t k = 0; k < n; k++)
		total += bt[k].state == st;
	for (size_t k = 0; k < n && used < size; k++) {
		const char *sep = ", ";

		if (bt[k].state != st)
			continue;
		if (++done == 1)
			sep = "";
		else if (done == total)
			sep = " and ";
		used += (size_t)snprintf(out + used, size - used, "%s%s", sep, bt[k].spec->name);
	}
}

/*
 * What each violation says: a table that cannot be read, with its reason;
 * a table pvsub does not read; and, for a stripped kernel whose kallsyms
 * cannot be read (@ks_why), the tables it cannot locate.  Everything else
 * is modelled as windows.
 */
static int report_boot_tables(struct pvsub_image *img, const struct boot_table *bt, size_t n,
			      const struct pvsub_diag *ks_why)
{
	bool kernel = has_boot_tables(bt, n);
	char names[96];
	int r = 0;

	for (size_t k = 0; k < n && r == 0; k++) {
		if (bt[k].state == TABLE_BAD)
			r = add_violation(img, "boot-patching-unchecked",
					  "%s; its patch sites are not modelled", bt[k].why.msg);
		else if (bt[k].state == TABLE_UNMODELLED)
			r = add_violation(img, "boot-patching-unchecked",
					  "%s rewrites code at boot (%s); not modelled",
					  bt[k].spec->name, bt[k].spec->unmodelled);
	}
	name_tables(bt, n, TABLE_UNLOCATED, names, sizeof(names));
	if (r == 0 && kernel && names[0])
		r = add_violation(img, "boot-patching-unchecked",
				  "a stripped vmlinux does not say where %s lie and its kallsyms "
				  "cannot be read: %s; the code they patch at boot is not modelled",
				  names, ks_why->msg);
	return r;
}

/*
 * The patch tables are found through the section headers; an x86-64
 * kernel (code linked at or above __START_KERNEL_map) without them cannot
 * say whether it has any, so it is not certified as if it had none.
 */
static int check_headerless_kernel(struct pvsub_image *img)
{
	bool kernel = false;

	if (img->shnum > 1)
		return 0;
	for (size_t i = 0; i < img->n_regions; i++)
		kernel |= img->regions[i].is_segment &&
			  img->regions[i].vaddr >= PVSUB_KASLR_START_KERNEL_MAP;
	if (!kernel)
		return 0;
	return add_violation(img, "boot-patching-unchecked",
			     "a kernel without section headers does not say where its boot-time "
			     "patch tables lie; the code they patch at boot is not modelled");
}

/*
 * A linked kernel patches its own code at boot from the same tables as a
 * module (DESIGN §4): read them into mutable windows now, since what cannot
 * be read is a violation of the image.
 */
static int check_boot_patching(struct pvsub_image *img)
{
	const struct pvsub_kmeta_boot_table *specs;
	struct pvsub_kmeta_table tabs[16];
	struct pvsub_diag why[16];
	struct boot_table bt[16];
	struct pvsub_kmeta_code *runs = NULL;
	struct pvsub_diag ks_why;
	size_t n, n_runs, n_tabs = 0, map[16];
	int r;

	specs = pvsub_kmeta_boot_tables(&n);
	if (n > 16)
		return -EINVAL;
	memset(bt, 0, sizeof(bt));
	for (size_t k = 0; k < n; k++)
		bt[k].spec = &specs[k];
	r = locate_boot_tables(img, bt, n, &ks_why);
	if (r < 0)
		return r;
	for (size_t k = 0; k < n; k++)
		if (bt[k].state == TABLE_FOUND) {
			map[n_tabs] = k;
			tabs[n_tabs++] = bt[k].t;
		}
	r = n_tabs ? exec_code_runs(img, &runs, &n_runs) : 0;
	if (r == 0 && n_tabs)
		r = pvsub_kmeta_linked_windows(tabs, n_tabs, runs, n_runs, &img->mwindows,
					       &img->n_mwindows, why);
	free(runs);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_tabs; i++)
		if (why[i].msg[0]) {
			bt[map[i]].state = TABLE_BAD;
			bt[map[i]].why = why[i];
		}
	pvsub_diag_clear(&img->mwindows_why);
	img->mwindows_built = true;
	return report_boot_tables(img, bt, n, &ks_why);
}

int pvsub_image_new(const uint8_t *data, size_t size, struct pvsub_image **out,
		    struct pvsub_diag *diag)
{
	struct pvsub_image *img;
	int r;

	pthread_once(&libelf_once, libelf_init);
	if (!libelf_ok)
		return pvsub_diag_set(diag, EIO, "libelf initialisation failed");

	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	img->data = data;
	img->size = size;

	img->elf_size = size;
	r = check_ident(img, diag);
	/* Only a module carries an appended signature.  Anywhere else the
	 * marker is just bytes, and honouring it would cut executable page
	 * tails out of the scan. */
	if (r == 0 && img->kind == PVSUB_ELF_REL)
		r = parse_modsig(img, diag);
	if (r == 0)
		r = check_header_tables(img, diag);
	if (r < 0)
		goto fail;
	/* libelf only reads through this pointer (ELF_C_READ semantics). */
	img->elf = elf_memory((char *)(uintptr_t)data, img->elf_size);
	if (!img->elf || elf_kind(img->elf) != ELF_K_ELF) {
		r = pvsub_diag_set(diag, EINVAL, "malformed ELF file: %s", elf_errmsg(-1));
		goto fail;
	}
	r = load_sections(img, diag);
	if (r < 0)
		goto fail;
	if (img->kind != PVSUB_ELF_REL) {
		r = load_segments(img, diag);
		if (r == 0)
			r = img->kind == PVSUB_ELF_EXEC ? check_boot_patching(img)
							: check_kernel_patching(img);
		if (r == 0 && img->kind == PVSUB_ELF_EXEC)
			r = check_headerless_kernel(img);
		if (r == 0)
			r = build_kaslr(img);
		if (r < 0)
			goto fail;
	}
	if (img->kind == PVSUB_ELF_REL) {
		r = check_relocations(img);
		if (r < 0)
			goto fail;
	}
	*out = img;
	return 0;
fail:
	if (r == -ENOMEM)
		pvsub_diag_set(diag, ENOMEM, "out of memory");
	pvsub_image_free(img);
	return r;
}

void pvsub_image_free(struct pvsub_image *img)
{
	if (!img)
		return;
	for (size_t i = 0; i < img->n_regions; i++) {
		free(img->extra[i].starts);
		free(img->extra[i].windows);
		free(img->extra[i].kaslr);
		if (img->region_names)
			free(img->region_names[i]);
	}
	free(img->region_names);
	free(img->extra);
	free(img->regions);
	free(img->violations);
	free(img->mwindows);
	if (img->elf)
		elf_end(img->elf);
	free(img);
}

/*
 * A module's kernel tables are read once per image, through the object
 * reader (relobj) and kmeta, and only when someone asks: most files have no
 * occurrence to classify.  A module whose tables cannot be read has no
 * windows, and the reason is kept: classification then treats its
 * occurrences as plain code, which is stricter, never looser; the rewriter
 * refuses with the reason.
 */
static int build_mwindows(struct pvsub_image *img)
{
	struct pvsub_relobj *o = NULL;
	int r = 0;

	if (img->kind == PVSUB_ELF_REL) {
		r = pvsub_relobj_view(img->data, img->elf_size, &o, &img->mwindows_why);
		if (r == 0)
			r = pvsub_kmeta_windows(o, &img->mwindows, &img->n_mwindows,
						&img->mwindows_why);
		pvsub_relobj_free(o);
	}
	if (r == -ENOMEM)
		return r;
	if (r == 0)
		pvsub_diag_clear(&img->mwindows_why);
	img->mwindows_built = true;
	return 0;
}

int pvsub_image_kmeta(struct pvsub_image *img, const struct pvsub_mwindow **w, size_t *n,
		      const char **why)
{
	int r = img->mwindows_built ? 0 : build_mwindows(img);

	*w = img->mwindows;
	*n = r < 0 ? 0 : img->n_mwindows;
	*why = img->mwindows_why.msg;
	return r;
}

/* The first of the @n windows at @w (sorted by section, then offset) that
 * is not before (@section, @offset). */
static size_t mwindow_lower_bound(const struct pvsub_mwindow *w, size_t n, size_t section,
				  uint64_t offset)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w[mid].section < section || (w[mid].section == section && w[mid].offset < offset))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int pvsub_image_mutable_windows(struct pvsub_image *img, size_t i,
				const struct pvsub_mwindow **w, size_t *n)
{
	const struct pvsub_mwindow *all;
	const char *why;
	size_t n_all;

	*w = NULL;
	*n = 0;
	if (i >= img->n_regions)
		return -EINVAL;
	int r = pvsub_image_kmeta(img, &all, &n_all, &why);
	if (r < 0)
		return r;
	const struct pvsub_region *rg = &img->regions[i];
	/* Sorted by section (or segment), then offset: the region's run.  A
	 * segment may be split into several regions: each takes the windows
	 * between its origin and its end, which hold them whole (they were
	 * read against these regions' bytes).  Found by binary search: this
	 * runs for every occurrence classified. */
	uint64_t lo = rg->origin > 0 ? (uint64_t)rg->origin : 0;
	int64_t end = rg->origin + (int64_t)rg->size;
	uint64_t hi = end > 0 ? (uint64_t)end : 0;
	size_t first, k;

	if (rg->is_segment) {
		first = mwindow_lower_bound(all, n_all, rg->index, lo);
		k = mwindow_lower_bound(all, n_all, rg->index, hi);
	} else {
		first = mwindow_lower_bound(all, n_all, rg->index, 0);
		k = mwindow_lower_bound(all, n_all, (size_t)rg->index + 1, 0);
	}
	if (k > first) {
		*w = all + first;
		*n = k - first;
	}
	return 0;
}

enum pvsub_elf_kind pvsub_image_kind(const struct pvsub_image *img)
{
	return img->kind;
}

uint16_t pvsub_image_machine(const struct pvsub_image *img)
{
	return img->machine;
}

const uint8_t *pvsub_image_data(const struct pvsub_image *img, size_t *size)
{
	if (size)
		*size = img->size;
	return img->data;
}

size_t pvsub_image_region_count(const struct pvsub_image *img)
{
	return img->n_regions;
}

const struct pvsub_region *pvsub_image_region(const struct pvsub_image *img, size_t i)
{
	return i < img->n_regions ? &img->regions[i] : NULL;
}

size_t pvsub_image_violation_count(const struct pvsub_image *img)
{
	return img->n_violations;
}

const struct pvsub_violation *pvsub_image_violation(const struct pvsub_image *img, size_t i)
{
	return i < img->n_violations ? &img->violations[i] : NULL;
}

const struct pvsub_modsig *pvsub_image_modsig(const struct pvsub_image *img)
{
	return &img->modsig;
}

bool pvsub_image_may_adjoin(const struct pvsub_image *img, size_t a, size_t b, size_t *max_pad)
{
	const struct pvsub_region *ra, *rb;

	if (a == b || a >= img->n_regions || b >= img->n_regions)
		return false;
	ra = &img->regions[a];
	rb = &img->regions[b];
	if (img->kind == PVSUB_ELF_REL) {
		/* The module loader places sections one after another, each at
		 * its own alignment: anything from 0 to align-1 zero bytes. */
		*max_pad = rb->align > 1 ? (size_t)PVSUB_MIN(rb->align - 1, (uint64_t)SIZE_MAX) : 0;
		return true;
	}
	*max_pad = 0;
	return ra->vaddr + ra->size == rb->vaddr;
}

/* --- code starts ----------------------------------------------------------- */

static int cmp_start(const void *a, const void *b)
{
	const struct pvsub_code_start *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	/* Prefer a named start over the anonymous region start. */
	return (x->name == NULL) - (y->name == NULL);
}

struct start_list {
	struct pvsub_code_start *v;
	size_t n, cap;
};

static int push_start(struct start_list *l, size_t pos, size_t size, const char *name)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct pvsub_code_start *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct pvsub_code_start){pos, size, name};
	return 0;
}

/* Position of address/section offset @value in region @rg, or SIZE_MAX. */
static size_t region_pos(const struct pvsub_image *img, const struct pvsub_region *rg,
			 uint64_t value)
{
	if (img->kind == PVSUB_ELF_REL)
		return value < rg->size ? (size_t)value : SIZE_MAX;
	if (value < rg->vaddr || value - rg->vaddr >= rg->size)
		return SIZE_MAX;
	return (size_t)(value - rg->vaddr);
}

static int collect_symbol_starts(struct pvsub_image *img, const struct pvsub_region *rg,
				 Elf_Scn *scn, const GElf_Shdr *symsh, struct start_list *l)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n;

	if (!d || symsh->sh_entsize != sizeof(Elf64_Sym))
		return 0;
	n = d->d_size / sizeof(Elf64_Sym);
	for (size_t i = 1; i < n; i++) {
		GElf_Sym sym;
		unsigned type;
		size_t pos;

		if (!gelf_getsym(d, (int)i, &sym))
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC &&
		    !(img->kind == PVSUB_ELF_REL && type == STT_NOTYPE && sym.st_name))
			continue;
		if (img->kind == PVSUB_ELF_REL && sym.st_shndx != rg->index)
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE)
			continue;
		pos = region_pos(img, rg, sym.st_value);
		if (pos == SIZE_MAX)
			continue;
		if (push_start(l, pos, sym.st_size,
			       elf_strptr(img->elf, symsh->sh_link, sym.st_name)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int pvsub_image_code_starts(struct pvsub_image *img, size_t i,
			    const struct pvsub_code_start **starts, size_t *n)
{
	struct region_extra *e;
	struct start_list l = {0};
	bool have_symtab = false;
	int r;

	if (i >= img->n_regions)
		return -EINVAL;
	e = &img->extra[i];
	if (e->starts_done)
		goto done;

	r = push_start(&l, 0, 0, NULL);
	for (size_t k = 1; k < img->shnum && r == 0; k++) {
		Elf_Scn *scn = elf_getscn(img->elf, k);
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		have_symtab = true;
		r = collect_symbol_starts(img, &img->regions[i], scn, &sh, &l);
	}
	for (size_t k = 1; k < img->shnum && r == 0; k++) {
		Elf_Scn *scn = elf_getscn(img->elf, k);
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_DYNSYM && !have_symtab)
			r = collect_symbol_starts(img, &img->regions[i], scn, &sh, &l);
		/* In a linked file, each executable section starts on an
		 * instruction (.init, .plt, .text...). */
		else if (img->kind != PVSUB_ELF_REL && (sh.sh_flags & SHF_EXECINSTR) &&
			 sh.sh_type != SHT_NOBITS) {
			size_t pos = region_pos(img, &img->regions[i], sh.sh_addr);

			if (pos != SIZE_MAX)
				r = push_start(&l, pos, sh.sh_size, section_name(img, &sh));
		}
	}
	if (r < 0) {
		free(l.v);
		return r;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_start);
	{
		size_t w = 0;

		for (size_t k = 0; k < l.n; k++)
			if (w == 0 || l.v[k].pos != l.v[w - 1].pos)
				l.v[w++] = l.v[k];
		l.n = w;
	}
	e->starts = l.v;
	e->n_starts = l.n;
	e->starts_done = true;
done:
	*starts = e->starts;
	*n = e->n_starts;
	return 0;
}

/* --- relocation windows ------------------------------------------------------ */

static int cmp_window(const void *a, const void *b)
{
	const struct pvsub_reloc_window *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return (x->size > y->size) - (x->size < y->size);
}

/* The symbol table a relocation section refers to, looked up once. */
struct symtab_ref {
	Elf_Data *data;
	size_t strndx;
};

static void symtab_open(struct pvsub_image *img, size_t index, struct symtab_ref *st)
{
	Elf_Scn *scn = elf_getscn(img->elf, index);
	GElf_Shdr sh;

	st->data = NULL;
	st->strndx = 0;
	if (!scn || !gelf_getshdr(scn, &sh) ||
	    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
		return;
	st->data = elf_getdata(scn, NULL);
	st->strndx = sh.sh_link;
}

static const char *symbol_name(struct pvsub_image *img, const struct symtab_ref *st, size_t symidx)
{
	GElf_Sym sym;

	if (!st->data || symidx > INT32_MAX || !gelf_getsym(st->data, (int)symidx, &sym))
		return NULL;
	if (GELF_ST_TYPE(sym.st_info) == STT_SECTION) {
		GElf_Shdr tsh;

		if (sym.st_shndx >= img->shnum ||
		    !gelf_getshdr(elf_getscn(img->elf, sym.st_shndx), &tsh))
			return NULL;
		return section_name(img, &tsh);
	}
	return elf_strptr(img->elf, st->strndx, sym.st_name);
}

static int collect_windows(struct pvsub_image *img, size_t region, Elf_Scn *scn,
			   const GElf_Shdr *sh, struct pvsub_reloc_window **v, size_t *n,
			   size_t *cap)
{
	const struct pvsub_region *rg = &img->regions[region];
	Elf_Data *d = elf_getdata(scn, NULL);
	bool rela = sh->sh_type == SHT_RELA;
	size_t ent = rela ? sizeof(Elf64_Rela) : sizeof(Elf64_Rel);
	struct symtab_ref st;
	size_t count;

	symtab_open(img, sh->sh_link, &st);
	if (!d || sh->sh_entsize != ent)
		return 0; /* reported by check_relocations() */
	count = d->d_size / ent;
	for (size_t k = 0; k < count; k++) {
		GElf_Rela rel = {0};
		GElf_Rel rl;
		uint32_t type;
		uint8_t size;

		if (rela) {
			if (!gelf_getrela(d, (int)k, &rel))
				continue;
		} else {
			if (!gelf_getrel(d, (int)k, &rl))
				continue;
			rel.r_offset = rl.r_offset;
			rel.r_info = rl.r_info;
		}
		type = (uint32_t)GELF_R_TYPE(rel.r_info);
		size = (uint8_t)pvsub_reloc_window_size(type);
		if (size == 0)
			continue;
		if (rel.r_offset > rg->size || size > rg->size - rel.r_offset)
			continue; /* reported by check_relocations() */
		if (*n == *cap) {
			size_t ncap = *cap ? 2 * *cap : 64;
			struct pvsub_reloc_window *nv = realloc(*v, ncap * sizeof(**v));

			if (!nv)
				return -ENOMEM;
			*v = nv;
			*cap = ncap;
		}
		(*v)[(*n)++] = (struct pvsub_reloc_window){
			.pos = (size_t)rel.r_offset,
			.size = size,
			.type = type,
			.symbol = symbol_name(img, &st, GELF_R_SYM(rel.r_info)),
			.addend = rel.r_addend,
		};
	}
	return 0;
}

int pvsub_image_reloc_windows(struct pvsub_image *img, size_t i,
			      const struct pvsub_reloc_window **w, size_t *n)
{
	struct pvsub_reloc_window *v = NULL;
	size_t count = 0, cap = 0;
	struct region_extra *e;
	int r = 0;

	if (i >= img->n_regions)
		return -EINVAL;
	e = &img->extra[i];
	if (e->windows_done)
		goto done;
	if (img->kind == PVSUB_ELF_REL) {
		for (size_t k = 1; k < img->shnum && r == 0; k++) {
			Elf_Scn *scn = elf_getscn(img->elf, k);
			GElf_Shdr sh;

			if (!gelf_getshdr(scn, &sh) ||
			    (sh.sh_type != SHT_RELA && sh.sh_type != SHT_REL) ||
			    sh.sh_info != img->regions[i].index)
				continue;
			r = collect_windows(img, i, scn, &sh, &v, &count, &cap);
		}
	}
	if (r < 0) {
		free(v);
		return r;
	}
	for (size_t k = 1; k < count; k++)
		if (cmp_window(&v[k - 1], &v[k]) > 0) {
			qsort(v, count, sizeof(*v), cmp_window);
			break;
		}
	e->windows = v;
	e->n_windows = count;
	e->windows_done = true;
done:
	*w = e->windows;
	*n = e->n_windows;
	return 0;
}

int pvsub_image_overlaps_reloc(struct pvsub_image *img, size_t i, size_t pos, size_t len)
{
	const struct pvsub_reloc_window *w;
	size_t n, lo = 0, hi, from;
	int r = pvsub_image_reloc_windows(img, i, &w, &n);

	if (r < 0)
		return r;
	if (len == 0 || n == 0)
		return 0;
	/* Windows are sorted by pos and at most PVSUB_RELOC_MAX_FIELD bytes
	 * wide: only those that start less than that before @pos can reach
	 * it.  Find the first of them. */
	from = pos > PVSUB_RELOC_MAX_FIELD ? pos - PVSUB_RELOC_MAX_FIELD : 0;
	hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w[mid].pos < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k < n && w[k].pos < pos + len; k++)
		if (w[k].pos + w[k].size > pos)
			return 1;
	return 0;
}
