/* SPDX-License-Identifier: MIT */
/*
 * The reader checks in the order a careful reader needs them: the header
 * before the section table, the table before any section, the name table
 * before any name, the symbol table before the relocations that index it.
 * Every check names what it found wrong, because the reason ends up in
 * front of a user as the one line about the input.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/modsig.h"
#include "libpvsub/relobj.h"

/* The largest section alignment accepted (a page; modules use at most that). */
#define RELOBJ_MAX_ALIGN 4096u

void pvsub_relobj_free(struct pvsub_relobj *o)
{
	if (!o)
		return;
	for (size_t i = 0; o->sec && i < o->n_sec; i++)
		free(o->sec[i].data);
	free(o->sec);
	free(o->shstr);
	free(o);
}

/* --- the ELF header ------------------------------------------------------- */

/* The identification and type, with the same words as the scanner's image
 * (a rewriter input error reads like a scan input error). */
static int check_ident(const uint8_t *data, size_t size, struct pvsub_diag *diag)
{
	Elf64_Ehdr eh;

	if (size < EI_NIDENT || memcmp(data, ELFMAG, SELFMAG) != 0)
		return pvsub_diag_set(diag, EINVAL, "not an ELF file");
	if (size < sizeof(eh))
		return pvsub_diag_set(diag, EINVAL, "truncated ELF header");
	memcpy(&eh, data, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return pvsub_diag_set(diag, EINVAL,
				      "unsupported ELF class %u (pvsub scans ELF64 x86-64)",
				      eh.e_ident[EI_CLASS]);
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return pvsub_diag_set(diag, EINVAL,
				      "unsupported byte order (pvsub scans little-endian x86-64)");
	if (eh.e_machine != EM_X86_64)
		return pvsub_diag_set(diag, EINVAL,
				      "unsupported machine %u (pvsub scans x86-64 only)",
				      eh.e_machine);
	if (eh.e_type == ET_DYN || eh.e_type == ET_EXEC)
		return pvsub_diag_set(diag, EINVAL, "not a relocatable object (ET_REL)");
	if (eh.e_type != ET_REL)
		return pvsub_diag_set(diag, EINVAL, "unsupported ELF type %u", eh.e_type);
	if (eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_version != EV_CURRENT)
		return pvsub_diag_set(diag, EINVAL, "unsupported ELF version %u",
				      eh.e_ident[EI_VERSION] != EV_CURRENT
					      ? eh.e_ident[EI_VERSION]
					      : (unsigned)eh.e_version);
	return 0;
}

/* The header tables of the @o->elf_size bytes at @data. */
static int check_tables(struct pvsub_relobj *o, const uint8_t *data, struct pvsub_diag *diag)
{
	const Elf64_Ehdr *eh = &o->eh;

	if (o->elf_size < sizeof(o->eh))
		return pvsub_diag_set(diag, EINVAL, "truncated ELF header");
	memcpy(&o->eh, data, sizeof(o->eh));
	if (eh->e_phnum != 0)
		return pvsub_diag_set(diag, EINVAL, "relocatable object with program headers");
	if (eh->e_shoff == 0)
		return pvsub_diag_set(diag, EINVAL, "no section header table");
	if (eh->e_shnum == 0)
		return pvsub_diag_set(diag, EINVAL,
				      "extended section numbering (e_shnum 0) is not supported");
	if (eh->e_shentsize != sizeof(Elf64_Shdr))
		return pvsub_diag_set(diag, EINVAL, "bad section header size %u", eh->e_shentsize);
	if (eh->e_shoff > o->elf_size ||
	    eh->e_shnum > (o->elf_size - eh->e_shoff) / sizeof(Elf64_Shdr))
		return pvsub_diag_set(diag, EINVAL,
				      "truncated: the section header table lies outside the file");
	if (eh->e_shstrndx == SHN_UNDEF || eh->e_shstrndx >= eh->e_shnum)
		return pvsub_diag_set(diag, EINVAL,
				      "no section name string table (e_shstrndx %u of %u sections)",
				      eh->e_shstrndx, eh->e_shnum);
	return 0;
}

/* --- sections --------------------------------------------------------------- */

/* Section @i's bytes: inside the file (unless it has none), copied or not. */
static int load_bytes(struct pvsub_relobj *o, size_t i, const uint8_t *data, bool copy,
		      struct pvsub_diag *diag)
{
	struct pvsub_relobj_section *s = &o->sec[i];

	/* Section 0 has no contents (its size field would only count
	 * sections under extended numbering, which is refused). */
	if (i == 0 || s->sh.sh_type == SHT_NOBITS || s->sh.sh_size == 0)
		return 0;
	if (s->sh.sh_offset > o->elf_size || s->sh.sh_size > o->elf_size - s->sh.sh_offset)
		return pvsub_diag_set(diag, EINVAL,
				      "section %zu lies outside the file (offset %#llx, size %#llx)",
				      i, (unsigned long long)s->sh.sh_offset,
				      (unsigned long long)s->sh.sh_size);
	s->size = s->sh.sh_size;
	s->bytes = data + s->sh.sh_offset;
	if (!copy)
		return 0;
	s->data = malloc(s->size);
	if (!s->data)
		return pvsub_diag_set(diag, ENOMEM, "out of memory");
	memcpy(s->data, s->bytes, s->size);
	s->bytes = s->data;
	return 0;
}

/* The section name table: a NUL-terminated SHT_STRTAB holding every name. */
static int load_names(struct pvsub_relobj *o, struct pvsub_diag *diag)
{
	size_t at = o->eh.e_shstrndx;
	const struct pvsub_relobj_section *ss = &o->sec[at];

	if (ss->sh.sh_type != SHT_STRTAB || !ss->bytes)
		return pvsub_diag_set(diag, EINVAL,
				      "section name string table (section %zu) is not a string table",
				      at);
	if (ss->bytes[ss->size - 1] != '\0')
		return pvsub_diag_set(diag, EINVAL,
				      "section name string table (section %zu) does not end in NUL",
				      at);
	for (size_t i = 0; i < o->n_sec; i++)
		if (o->sec[i].sh.sh_name >= ss->size)
			return pvsub_diag_set(diag, EINVAL,
					      "section %zu: name offset %u lies outside the section "
					      "name string table",
					      i, o->sec[i].sh.sh_name);
	/* A copy, so that replacing the table's contents cannot move names. */
	o->shstr = malloc(ss->size);
	if (!o->shstr)
		return pvsub_diag_set(diag, ENOMEM, "out of memory");
	memcpy(o->shstr, ss->bytes, ss->size);
	o->shstr_size = ss->size;
	for (size_t i = 0; i < o->n_sec; i++)
		o->sec[i].name = o->shstr + o->sec[i].sh.sh_name;
	return 0;
}

/* Alignment, and the kinds of section the reader does not take. */
static int check_section(const struct pvsub_relobj *o, size_t i, struct pvsub_diag *diag)
{
	const struct pvsub_relobj_section *s = &o->sec[i];
	uint64_t align = s->sh.sh_addralign;

	if (s->sh.sh_type == SHT_REL)
		return pvsub_diag_set(diag, EINVAL, "section %s: SHT_REL relocations (x86-64 uses RELA)",
				      s->name);
	if (s->sh.sh_type == SHT_SYMTAB_SHNDX)
		return pvsub_diag_set(diag, EINVAL,
				      "section %s: extended section indices are not supported",
				      s->name);
	/* Writing pads each section to its alignment: keep that bounded. */
	if (align > RELOBJ_MAX_ALIGN || (align & (align - 1)) != 0)
		return pvsub_diag_set(diag, EINVAL,
				      "section %s: alignment %llu is not a power of two up to %u",
				      s->name, (unsigned long long)align, RELOBJ_MAX_ALIGN);
	return 0;
}

/* A table of @ent-byte entries: its entry size, and whole entries. */
static int check_entries(const struct pvsub_relobj *o, size_t i, size_t ent,
			 struct pvsub_diag *diag)
{
	const struct pvsub_relobj_section *s = &o->sec[i];

	if (s->sh.sh_entsize != ent)
		return pvsub_diag_set(diag, EINVAL, "section %s: bad entry size %llu (want %zu)",
				      s->name, (unsigned long long)s->sh.sh_entsize, ent);
	if (s->size % ent)
		return pvsub_diag_set(diag, EINVAL,
				      "section %s: bad entry size: %zu bytes is not a whole number "
				      "of %zu-byte entries",
				      s->name, s->size, ent);
	return 0;
}

/* --- the symbol table ------------------------------------------------------------ */

static int find_symtab(struct pvsub_relobj *o, struct pvsub_diag *diag)
{
	for (size_t i = 1; i < o->n_sec; i++) {
		if (o->sec[i].sh.sh_type != SHT_SYMTAB)
			continue;
		if (o->symtab)
			return pvsub_diag_set(diag, EINVAL, "more than one symbol table (%s and %s)",
					      o->sec[o->symtab].name, o->sec[i].name);
		o->symtab = i;
	}
	return 0;
}

/* Each symbol's section: one that exists, or a special index (SHN_ABS,
 * SHN_COMMON...); SHN_XINDEX would need SHT_SYMTAB_SHNDX. */
static int check_symbols(const struct pvsub_relobj *o, struct pvsub_diag *diag)
{
	const struct pvsub_relobj_section *st = &o->sec[o->symtab];
	size_t link = st->sh.sh_link, n;
	int r = check_entries(o, o->symtab, sizeof(Elf64_Sym), diag);

	if (r < 0)
		return r;
	if (link == 0 || link >= o->n_sec || o->sec[link].sh.sh_type != SHT_STRTAB)
		return pvsub_diag_set(diag, EINVAL,
				      "symbol table %s: its string table link %zu is not a string "
				      "table",
				      st->name, link);
	n = pvsub_relobj_sym_count(o);
	for (size_t k = 0; k < n; k++) {
		Elf64_Half shndx; /* only the field checked: every scan reads this */

		memcpy(&shndx, st->bytes + k * sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_shndx),
		       sizeof(shndx));
		if (shndx == SHN_XINDEX || (shndx >= o->n_sec && shndx < SHN_LORESERVE))
			return pvsub_diag_set(diag, EINVAL,
					      "symbol %zu: section index %u is out of range (%zu "
					      "sections)",
					      k, shndx, o->n_sec);
	}
	return 0;
}

/* --- relocations -------------------------------------------------------------------- */

static int check_relas(const struct pvsub_relobj *o, size_t i, struct pvsub_diag *diag)
{
	const struct pvsub_relobj_section *s = &o->sec[i];
	size_t nsym = pvsub_relobj_sym_count(o), n;
	int r = check_entries(o, i, sizeof(Elf64_Rela), diag);

	if (r < 0)
		return r;
	if (s->sh.sh_link != o->symtab)
		return pvsub_diag_set(diag, EINVAL,
				      "section %s: bad link: section %u is not the symbol table",
				      s->name, s->sh.sh_link);
	if (s->sh.sh_info == 0 || s->sh.sh_info >= o->n_sec)
		return pvsub_diag_set(diag, EINVAL,
				      "section %s: bad target: it applies to section %u, which does "
				      "not exist",
				      s->name, s->sh.sh_info);
	n = pvsub_relobj_rela_count(o, i);
	for (size_t k = 0; k < n; k++) {
		Elf64_Xword info; /* only the field checked: every scan reads this */
		size_t symi;

		memcpy(&info, s->bytes + k * sizeof(Elf64_Rela) + offsetof(Elf64_Rela, r_info),
		       sizeof(info));
		symi = ELF64_R_SYM(info);
		if (symi != STN_UNDEF && symi >= nsym)
			return pvsub_diag_set(diag, EINVAL,
					      "section %s: entry %zu refers to symbol %zu, beyond "
					      "the %zu of the symbol table",
					      s->name, k, symi, nsym);
	}
	return 0;
}

/* --- the object ------------------------------------------------------------------------ */

static int load_sections(struct pvsub_relobj *o, const uint8_t *data, bool copy,
			 struct pvsub_diag *diag)
{
	int r = 0;

	o->n_sec = o->eh.e_shnum;
	o->sec = calloc(o->n_sec, sizeof(*o->sec));
	if (!o->sec)
		return pvsub_diag_set(diag, ENOMEM, "out of memory");
	for (size_t i = 0; i < o->n_sec && r == 0; i++) {
		memcpy(&o->sec[i].sh, data + o->eh.e_shoff + i * sizeof(Elf64_Shdr),
		       sizeof(Elf64_Shdr));
		r = load_bytes(o, i, data, copy, diag);
	}
	if (r == 0)
		r = load_names(o, diag);
	for (size_t i = 1; i < o->n_sec && r == 0; i++)
		r = check_section(o, i, diag);
	if (r == 0)
		r = find_symtab(o, diag);
	if (r == 0 && o->symtab)
		r = check_symbols(o, diag);
	for (size_t i = 1; i < o->n_sec && r == 0; i++)
		if (o->sec[i].sh.sh_type == SHT_RELA)
			r = check_relas(o, i, diag);
	return r;
}

/* The object in the first @elf_size bytes at @data, whose identification
 * was checked. */
static int relobj_new(const uint8_t *data, uint64_t elf_size, bool had_modsig, bool copy,
		      struct pvsub_relobj **out, struct pvsub_diag *diag)
{
	struct pvsub_relobj *o = calloc(1, sizeof(*o));
	int r;

	if (!o)
		return pvsub_diag_set(diag, ENOMEM, "out of memory");
	o->elf_size = elf_size;
	o->had_modsig = had_modsig;
	r = check_tables(o, data, diag);
	if (r == 0)
		r = load_sections(o, data, copy, diag);
	if (r < 0) {
		pvsub_relobj_free(o);
		return r;
	}
	*out = o;
	return 0;
}

int pvsub_relobj_view(const uint8_t *data, size_t elf_size, struct pvsub_relobj **out,
		      struct pvsub_diag *diag)
{
	int r = check_ident(data, elf_size, diag);
	return r < 0 ? r : relobj_new(data, elf_size, false, false, out, diag);
}

/*
 * Where the ELF file ends: an appended signature is found under the
 * scanner's rules (modsig.h, PVSUB_MODSIG_LAYOUT), so the reader and the
 * scan agree on it; a trailer that does not add up is an input error.
 */
static int elf_end(const uint8_t *data, size_t size, uint64_t *elf_size,
		   struct pvsub_diag *diag)
{
	struct pvsub_modsig ms;
	struct pvsub_diag d = {{0}};
	int r = pvsub_modsig_parse(data, size, PVSUB_MODSIG_LAYOUT, &ms, &d);

	*elf_size = size;
	if (r == -ENOKEY)
		return 0;
	if (r < 0)
		return pvsub_diag_set(diag, EINVAL, "%s", d.msg);
	*elf_size = ms.offset;
	return 0;
}

int pvsub_relobj_load(const uint8_t *data, size_t size, struct pvsub_relobj **out,
		      struct pvsub_diag *diag)
{
	uint64_t elf_size = size;
	int r = check_ident(data, size, diag);

	if (r == 0)
		r = elf_end(data, size, &elf_size, diag);
	if (r < 0)
		return r;
	return relobj_new(data, elf_size, elf_size != size, true, out, diag);
}

void pvsub_relobj_set_data(struct pvsub_relobj *o, size_t idx, uint8_t *data, size_t size)
{
	struct pvsub_relobj_section *s = &o->sec[idx];

	free(s->data);
	s->data = data;
	s->bytes = data;
	s->size = size;
	s->sh.sh_size = size;
}

Elf64_Sym *pvsub_relobj_symbols(struct pvsub_relobj *o, size_t *n)
{
	*n = 0;
	if (!o->symtab || !o->sec[o->symtab].data)
		return NULL;
	*n = o->sec[o->symtab].size / sizeof(Elf64_Sym);
	return (Elf64_Sym *)(void *)o->sec[o->symtab].data;
}

const char *pvsub_relobj_symbol_name(const struct pvsub_relobj *o, const Elf64_Sym *sym)
{
	if (!o->symtab)
		return "";
	if (ELF64_ST_TYPE(sym->st_info) == STT_SECTION)
		return sym->st_shndx < o->n_sec ? o->sec[sym->st_shndx].name : "";
	const struct pvsub_relobj_section *str = &o->sec[o->sec[o->symtab].sh.sh_link];
	if (!str->bytes || sym->st_name >= str->size)
		return "";
	/* The table need not end in NUL: only names terminated inside it count. */
	const char *s = (const char *)str->bytes + sym->st_name;
	return memchr(s, '\0', str->size - sym->st_name) ? s : "";
}

Elf64_Rela *pvsub_relobj_relas(struct pvsub_relobj *o, size_t idx, size_t *n)
{
	if (!o->sec[idx].data) {
		*n = 0;
		return NULL;
	}
	*n = o->sec[idx].size / sizeof(Elf64_Rela);
	return (Elf64_Rela *)(void *)o->sec[idx].data;
}

void pvsub_relobj_sym_get(const struct pvsub_relobj *o, size_t k, Elf64_Sym *out)
{
	memcpy(out, o->sec[o->symtab].bytes + k * sizeof(*out), sizeof(*out));
}

void pvsub_relobj_rela_get(const struct pvsub_relobj *o, size_t idx, size_t k, Elf64_Rela *out)
{
	memcpy(out, o->sec[idx].bytes + k * sizeof(*out), sizeof(*out));
}

size_t pvsub_relobj_rela_count(const struct pvsub_relobj *o, size_t idx)
{
	return o->sec[idx].size / sizeof(Elf64_Rela);
}

size_t pvsub_relobj_sym_count(const struct pvsub_relobj *o)
{
	return o->symtab ? o->sec[o->symtab].size / sizeof(Elf64_Sym) : 0;
}

size_t pvsub_relobj_rela_for(const struct pvsub_relobj *o, size_t idx)
{
	for (size_t i = 1; i < o->n_sec; i++)
		if (o->sec[i].sh.sh_type == SHT_RELA && o->sec[i].sh.sh_info == idx)
			return i;
	return 0;
}

size_t pvsub_relobj_find(const struct pvsub_relobj *o, const char *name)
{
	for (size_t i = 1; i < o->n_sec; i++)
		if (strcmp(o->sec[i].name, name) == 0)
			return i;
	return 0;
}

/* Section indices in input file order (stable for equal offsets). */
static int cmp_offset(const void *a, const void *b, void *arg)
{
	const struct pvsub_relobj *o = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint64_t ox = o->sec[x].sh.sh_offset, oy = o->sec[y].sh.sh_offset;
	if (ox != oy)
		return ox < oy ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int pad_to(struct pvsub_buf *out, size_t base, uint64_t align)
{
	static const uint8_t zero[64];
	if (align < 2)
		return 0;
	size_t at = out->len - base;
	size_t need = (size_t)((align - at % align) % align);
	int r = 0;
	while (r == 0 && need) {
		size_t k = need < sizeof(zero) ? need : sizeof(zero);
		r = pvsub_buf_append(out, zero, k);
		need -= k;
	}
	return r;
}

int pvsub_relobj_write(const struct pvsub_relobj *o, struct pvsub_buf *out)
{
	size_t base = out->len;
	size_t *order = malloc(o->n_sec * sizeof(*order));
	Elf64_Shdr *sh = malloc(o->n_sec * sizeof(*sh));
	int r = -ENOMEM;
	if (!order || !sh)
		goto out;
	for (size_t i = 0; i < o->n_sec; i++) {
		order[i] = i;
		sh[i] = o->sec[i].sh;
	}
	qsort_r(order, o->n_sec, sizeof(*order), cmp_offset, (void *)o);

	Elf64_Ehdr eh = o->eh;
	r = pvsub_buf_append(out, &eh, sizeof(eh));
	for (size_t k = 0; r == 0 && k < o->n_sec; k++) {
		size_t i = order[k];
		if (i == 0)
			continue;
		const struct pvsub_relobj_section *s = &o->sec[i];
		if (s->sh.sh_type == SHT_NOBITS || s->size == 0) {
			/* No bytes; keep the offset plausible for readers. */
			sh[i].sh_offset = out->len - base;
			if (s->sh.sh_type != SHT_NOBITS)
				sh[i].sh_size = 0;
			continue;
		}
		r = pad_to(out, base, s->sh.sh_addralign);
		sh[i].sh_offset = out->len - base;
		sh[i].sh_size = s->size;
		if (r == 0)
			r = pvsub_buf_append(out, s->bytes, s->size);
	}
	if (r == 0)
		r = pad_to(out, base, 8);
	if (r == 0) {
		eh.e_shoff = out->len - base;
		memcpy(out->data + base, &eh, sizeof(eh));
		r = pvsub_buf_append(out, sh, o->n_sec * sizeof(*sh));
	}
out:
	free(order);
	free(sh);
	return r;
}
