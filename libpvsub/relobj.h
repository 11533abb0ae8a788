/* SPDX-License-Identifier: MIT */
/*
 * relobj: a relocatable ELF object (ET_REL) held as editable parts, and
 * written back as a new file.
 *
 * The rewriter changes the bytes of executable sections, the relocation
 * entries, symbols and metadata that describe them, and then needs a valid
 * object again.  An object is loaded from bytes that pvsub_image_new()
 * accepted (so its headers, section table and relocations were already
 * bounds-checked); every section's contents are copied, so the input can go
 * away.  An appended module signature is not part of the object: the
 * ELF bytes end where the signature starts.
 *
 * Writing keeps the section order, indices, names, flags, links and
 * alignments; only file offsets and sizes are recomputed (sections in their
 * original file order, the section header table last).
 */
#ifndef PVSUB_RELOBJ_H
#define PVSUB_RELOBJ_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/util.h"

struct pvsub_relobj_section {
	Elf64_Shdr sh;	  /* sh_offset is the input's until written */
	const char *name; /* points into the object's copy of .shstrtab */
	uint8_t *data;	  /* NULL when empty or SHT_NOBITS */
	size_t size;	  /* bytes in @data (sh_size, 0 for SHT_NOBITS) */
	bool owned;	  /* @data is a copy (else it points into the input) */
};

struct pvsub_relobj {
	Elf64_Ehdr eh;
	struct pvsub_relobj_section *sec; /* eh.e_shnum entries; [0] is the null section */
	size_t n_sec;
	size_t symtab; /* index of SHT_SYMTAB, 0 if none */
	char *shstr;   /* copy of the section name string table */
	size_t shstr_size;
	uint64_t elf_size; /* input bytes that belong to the ELF file */
	bool had_modsig;   /* a module signature followed them */
};

/*
 * Load the ET_REL object in @size bytes at @data (which pvsub_image_new()
 * must accept).  An appended module signature is dropped (had_modsig says
 * so).  -EINVAL with a one-line reason for anything else than a 64-bit
 * x86-64 ET_REL file with a section table (or one whose sections ask for an
 * alignment that is not a power of two up to 4096), -ENOMEM.
 */
int pvsub_relobj_load(const uint8_t *data, size_t size, struct pvsub_relobj **out,
		      struct pvsub_diag *diag) _must_check_ _nonnull_(1, 3);

/*
 * A read-only view of the first @elf_size bytes at @data, which an image
 * (pvsub_image_new()) has already validated as ET_REL: no section is copied,
 * so it is cheap enough for every scan.  The view must not be modified or
 * written through and must not outlive @data.
 */
int pvsub_relobj_view(const uint8_t *data, size_t elf_size, struct pvsub_relobj **out,
		      struct pvsub_diag *diag) _must_check_ _nonnull_(1, 3);

void pvsub_relobj_free(struct pvsub_relobj *o);

/* Replace the contents of section @idx with @size bytes at @data (taken
 * over; freed with the object).  sh_size follows. */
void pvsub_relobj_set_data(struct pvsub_relobj *o, size_t idx, uint8_t *data, size_t size)
	_nonnull_(1);

/* The symbols (NULL and *@n = 0 without a symbol table). */
Elf64_Sym *pvsub_relobj_symbols(struct pvsub_relobj *o, size_t *n) _nonnull_(1, 2);

/* Name of symbol @sym (the section's name for STT_SECTION), "" if none. */
const char *pvsub_relobj_symbol_name(const struct pvsub_relobj *o, const Elf64_Sym *sym)
	_nonnull_(1, 2);

/* The entries of SHT_RELA section @idx. */
Elf64_Rela *pvsub_relobj_relas(struct pvsub_relobj *o, size_t idx, size_t *n) _nonnull_(1, 3);

/* Copies of entry @k of the symbol table / of SHT_RELA section @idx, for
 * views whose bytes need not be aligned.  The caller checks @k. */
void pvsub_relobj_sym_get(const struct pvsub_relobj *o, size_t k, Elf64_Sym *out) _nonnull_(1, 3);
void pvsub_relobj_rela_get(const struct pvsub_relobj *o, size_t idx, size_t k, Elf64_Rela *out)
	_nonnull_(1, 4);
/* Number of entries of SHT_RELA section @idx / of the symbol table. */
size_t pvsub_relobj_rela_count(const struct pvsub_relobj *o, size_t idx) _nonnull_(1);
size_t pvsub_relobj_sym_count(const struct pvsub_relobj *o) _nonnull_(1);

/* Index of the section called @name, 0 if there is none. */
size_t pvsub_relobj_find(const struct pvsub_relobj *o, const char *name) _nonnull_(1, 2);

/* Serialise into @out (appended): header, sections, section header table. */
int pvsub_relobj_write(const struct pvsub_relobj *o, struct pvsub_buf *out) _must_check_
	_nonnull_(1, 2);

#endif
