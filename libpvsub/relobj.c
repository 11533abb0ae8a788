/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/image.h"
#include "libpvsub/relobj.h"

/* The largest section alignment accepted (a page; modules use at most that). */
#define RELOBJ_MAX_ALIGN 4096u

void pvsub_relobj_free(struct pvsub_relobj *o)
{
	if (!o)
		return;
	for (size_t i = 0; o->sec && i < o->n_sec; i++)
		if (o->sec[i].owned)
			free(o->sec[i].data);
	free(o->sec);
	free(o->shstr);
	free(o);
}

static int copy_section(struct pvsub_relobj *o, size_t i, const uint8_t *data, bool copy,
			struct pvsub_diag *diag)
{
	struct pvsub_relobj_section *s = &o->sec[i];

	if (s->sh.sh_type == SHT_NOBITS || s->sh.sh_size == 0)
		return 0;
	if (s->sh.sh_offset > o->elf_size || s->sh.sh_size > o->elf_size - s->sh.sh_offset)
		return pvsub_diag_set(diag, EINVAL, "section %zu lies outside the file", i);
	s->size = s->sh.sh_size;
	if (!copy) {
		s->data = (uint8_t *)(uintptr_t)(data + s->sh.sh_offset);
		return 0;
	}
	s->owned = true;
	s->data = malloc(s->sh.sh_size);
	if (!s->data)
		return pvsub_diag_set(diag, ENOMEM, "out of memory");
	memcpy(s->data, data + s->sh.sh_offset, s->sh.sh_size);
	return 0;
}

/* Tables whose entries the rewriter reads as arrays must hold whole entries. */
static int check_table(const struct pvsub_relobj *o, size_t i, struct pvsub_diag *diag)
{
	const Elf64_Shdr *sh = &o->sec[i].sh;
	size_t ent = 0;

	if (sh->sh_type == SHT_SYMTAB)
		ent = sizeof(Elf64_Sym);
	else if (sh->sh_type == SHT_RELA)
		ent = sizeof(Elf64_Rela);
	else if (sh->sh_type == SHT_REL)
		return pvsub_diag_set(diag, EINVAL, "section %s: SHT_REL relocations (x86-64 uses RELA)",
				      o->sec[i].name);
	/* Writing pads each section to its alignment: keep that bounded. */
	if (sh->sh_addralign > RELOBJ_MAX_ALIGN ||
	    (sh->sh_addralign & (sh->sh_addralign - 1)) != 0)
		return pvsub_diag_set(diag, EINVAL,
				      "section %s: alignment %llu is not a power of two up to %u",
				      o->sec[i].name, (unsigned long long)sh->sh_addralign,
				      RELOBJ_MAX_ALIGN);
	if (ent && (sh->sh_entsize != ent || sh->sh_size % ent))
		return pvsub_diag_set(diag, EINVAL, "section %s: bad entry size", o->sec[i].name);
	if (sh->sh_type == SHT_RELA && (sh->sh_link != o->symtab || sh->sh_info == 0 ||
					sh->sh_info >= o->n_sec))
		return pvsub_diag_set(diag, EINVAL, "section %s: bad link or target", o->sec[i].name);
	return 0;
}

static int load_names(struct pvsub_relobj *o, struct pvsub_diag *diag)
{
	const struct pvsub_relobj_section *ss = &o->sec[o->eh.e_shstrndx];

	if (o->eh.e_shstrndx == SHN_UNDEF || o->eh.e_shstrndx >= o->n_sec || !ss->data)
		return pvsub_diag_set(diag, EINVAL, "no section name string table");
	o->shstr = malloc(ss->size + 1);	/* NUL-terminated even if the table is not */
	if (!o->shstr)
		return pvsub_diag_set(diag, ENOMEM, "out of memory");
	memcpy(o->shstr, ss->data, ss->size);
	o->shstr[ss->size] = '\0';
	o->shstr_size = ss->size;
	for (size_t i = 0; i < o->n_sec; i++) {
		size_t at = o->sec[i].sh.sh_name;
		o->sec[i].name = at < o->shstr_size ? o->shstr + at : "";
	}
	return 0;
}

static int load_sections(struct pvsub_relobj *o, const uint8_t *data, bool copy,
			 struct pvsub_diag *diag)
{
	o->n_sec = o->eh.e_shnum;
	if (o->n_sec == 0 || o->eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    o->eh.e_shoff > o->elf_size ||
	    o->n_sec > (o->elf_size - o->eh.e_shoff) / sizeof(Elf64_Shdr))
		return pvsub_diag_set(diag, EINVAL, "bad section header table");
	o->sec = calloc(o->n_sec, sizeof(*o->sec));
	if (!o->sec)
		return pvsub_diag_set(diag, ENOMEM, "out of memory");
	for (size_t i = 0; i < o->n_sec; i++) {
		memcpy(&o->sec[i].sh, data + o->eh.e_shoff + i * sizeof(Elf64_Shdr),
		       sizeof(Elf64_Shdr));
		int r = copy_section(o, i, data, copy, diag);
		if (r < 0)
			return r;
		if (o->sec[i].sh.sh_type == SHT_SYMTAB) {
			if (o->symtab)
				return pvsub_diag_set(diag, EINVAL, "more than one symbol table");
			o->symtab = i;
		}
		if (o->sec[i].sh.sh_type == SHT_SYMTAB_SHNDX)
			return pvsub_diag_set(diag, EINVAL, "extended section indices are not supported");
	}
	int r = load_names(o, diag);
	for (size_t i = 0; r == 0 && i < o->n_sec; i++)
		r = check_table(o, i, diag);
	if (r == 0 && o->symtab && o->sec[o->symtab].sh.sh_link >= o->n_sec)
		r = pvsub_diag_set(diag, EINVAL, "symbol table has a bad string table link");
	return r;
}

static int relobj_new(const uint8_t *data, uint64_t elf_size, bool had_modsig, bool copy,
		      struct pvsub_relobj **out, struct pvsub_diag *diag)
{
	struct pvsub_relobj *o = calloc(1, sizeof(*o));
	if (!o)
		return pvsub_diag_set(diag, ENOMEM, "out of memory");
	o->elf_size = elf_size;
	o->had_modsig = had_modsig;
	int r = 0;
	if (elf_size < sizeof(o->eh))
		r = pvsub_diag_set(diag, EINVAL, "truncated ELF header");
	else
		memcpy(&o->eh, data, sizeof(o->eh));
	if (r == 0 && o->eh.e_type != ET_REL)
		r = pvsub_diag_set(diag, EINVAL, "not a relocatable object (ET_REL)");
	else if (r == 0 && o->eh.e_phnum != 0)
		r = pvsub_diag_set(diag, EINVAL, "relocatable object with program headers");
	else if (r == 0)
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
	return relobj_new(data, elf_size, false, false, out, diag);
}

int pvsub_relobj_load(const uint8_t *data, size_t size, struct pvsub_relobj **out,
		      struct pvsub_diag *diag)
{
	struct pvsub_image *img = NULL;
	int r = pvsub_image_new(data, size, &img, diag);
	if (r < 0)
		return r;
	bool rel = pvsub_image_kind(img) == PVSUB_ELF_REL;
	const struct pvsub_modsig *ms = pvsub_image_modsig(img);
	uint64_t elf_size = ms->present ? ms->offset : size;
	pvsub_image_free(img);
	if (!rel)
		return pvsub_diag_set(diag, EINVAL, "not a relocatable object (ET_REL)");
	return relobj_new(data, elf_size, elf_size != size, true, out, diag);
}

void pvsub_relobj_set_data(struct pvsub_relobj *o, size_t idx, uint8_t *data, size_t size)
{
	struct pvsub_relobj_section *s = &o->sec[idx];
	if (s->owned)
		free(s->data);
	s->data = data;
	s->owned = true;
	s->size = size;
	s->sh.sh_size = size;
}

Elf64_Sym *pvsub_relobj_symbols(struct pvsub_relobj *o, size_t *n)
{
	*n = 0;
	if (!o->symtab || !o->sec[o->symtab].data)
		return NULL;
	*n = o->sec[o->symtab].size / sizeof(Elf64_Sym);
	return (Elf64_Sym *)o->sec[o->symtab].data;
}

const char *pvsub_relobj_symbol_name(const struct pvsub_relobj *o, const Elf64_Sym *sym)
{
	if (!o->symtab)
		return "";
	if (ELF64_ST_TYPE(sym->st_info) == STT_SECTION)
		return sym->st_shndx < o->n_sec ? o->sec[sym->st_shndx].name : "";
	const struct pvsub_relobj_section *str = &o->sec[o->sec[o->symtab].sh.sh_link];
	if (!str->data || sym->st_name >= str->size)
		return "";
	/* The table need not end in NUL: only names terminated inside it count. */
	const char *s = (const char *)str->data + sym->st_name;
	return memchr(s, '\0', str->size - sym->st_name) ? s : "";
}

Elf64_Rela *pvsub_relobj_relas(struct pvsub_relobj *o, size_t idx, size_t *n)
{
	*n = o->sec[idx].size / sizeof(Elf64_Rela);
	return (Elf64_Rela *)o->sec[idx].data;
}

void pvsub_relobj_sym_get(const struct pvsub_relobj *o, size_t k, Elf64_Sym *out)
{
	memcpy(out, o->sec[o->symtab].data + k * sizeof(*out), sizeof(*out));
}

void pvsub_relobj_rela_get(const struct pvsub_relobj *o, size_t idx, size_t k, Elf64_Rela *out)
{
	memcpy(out, o->sec[idx].data + k * sizeof(*out), sizeof(*out));
}

size_t pvsub_relobj_rela_count(const struct pvsub_relobj *o, size_t idx)
{
	return o->sec[idx].size / sizeof(Elf64_Rela);
}

size_t pvsub_relobj_sym_count(const struct pvsub_relobj *o)
{
	return o->symtab ? o->sec[o->symtab].size / sizeof(Elf64_Sym) : 0;
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
			r = pvsub_buf_append(out, s->data, s->size);
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
