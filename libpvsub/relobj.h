/* SPDX-License-Identifier: MIT */
/*
 * relobj: the reader of relocatable ELF objects (ET_REL), held as editable
 * parts and written back as a new file.
 *
 * It validates every input itself, whatever reads it next: the ELF header
 * (ELF64, little-endian, x86-64, ET_REL, version 1, no program headers),
 * the section header table (inside the file, entry size), the section name
 * table (a NUL-terminated SHT_STRTAB, every name inside it), each section's
 * bytes (inside the file unless SHT_NOBITS) and alignment (a power of two up
 * to 4096), the symbol table (one at most, its entry size, a link to a
 * string table, each symbol's section index in range or special) and each
 * SHT_RELA section (entry size, linked to the symbol table, applied to a
 * section that exists, each entry's symbol in range).  Anything else is
 * -EINVAL with a one-line reason that names what is wrong.  An appended
 * module signature, found with modsig.h's parser under PVSUB_MODSIG_LAYOUT
 * (the rules the scanner uses), is not part of the object: the ELF bytes
 * end where it starts.
 *
 * Layering: uses util, modsig and reloc only (util <- modsig <- reloc <-
 * relobj <- kmeta <- image <- classify <- scan <- rewrite); no libelf, no
 * capstone, no printing, so the loader can read objects with it.
 *
 * A loaded object (pvsub_relobj_load) owns copies of every section and may
 * be edited; a view (pvsub_relobj_view) reads the caller's bytes in place
 * and is read-only all the way down: its sections have `bytes` (const) and
 * no `data`, and the accessors that hand out writable pointers give it
 * nothing.
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
	/* The contents, read-only: NULL when empty or SHT_NOBITS.  Points
	 * into the caller's bytes in a view, else equals @data. */
	const uint8_t *bytes;
	/* The same contents, writable, when the object owns them (a loaded
	 * object, or pvsub_relobj_set_data()); NULL in a view. */
	uint8_t *data;
	size_t size; /* bytes in @bytes (sh_size, 0 for SHT_NOBITS) */
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
 * Load the ET_REL object in @size bytes at @data, copying every section (the
 * input may go away).  An appended module signature is dropped (had_modsig
 * says so).  -EINVAL with a one-line reason for an input that breaks any
 * rule above (the reason names the section or field), -ENOMEM.
 */
int pvsub_relobj_load(const uint8_t *data, size_t size, struct pvsub_relobj **out,
		      struct pvsub_diag *diag) _must_check_ _nonnull_(1, 3);

/*
 * A read-only view of the ET_REL object in the first @elf_size bytes at
 * @data (the ELF file, without any appended signature), validated as
 * pvsub_relobj_load() does; nothing but the section name table is copied, so
 * it is cheap enough for every scan.  Sections have `bytes` and no `data`.
 * The view must not outlive @data.  -EINVAL with a reason, -ENOMEM.
 */
int pvsub_relobj_view(const uint8_t *data, size_t elf_size, struct pvsub_relobj **out,
		      struct pvsub_diag *diag) _must_check_ _nonnull_(1, 3);

/* Free a loaded object or a view; NULL is a no-op. */
void pvsub_relobj_free(struct pvsub_relobj *o);

/* Replace the contents of section @idx with @size bytes at @data (taken
 * over; freed with the object).  sh_size follows. */
void pvsub_relobj_set_data(struct pvsub_relobj *o, size_t idx, uint8_t *data, size_t size)
	_nonnull_(1);

/* The symbols, writable (NULL and *@n = 0 without a symbol table, and for
 * a view, which has nothing writable). */
Elf64_Sym *pvsub_relobj_symbols(struct pvsub_relobj *o, size_t *n) _nonnull_(1, 2);

/* Name of symbol @sym (the section's name for STT_SECTION), "" if none. */
const char *pvsub_relobj_symbol_name(const struct pvsub_relobj *o, const Elf64_Sym *sym)
	_nonnull_(1, 2);

/* The entries of SHT_RELA section @idx, writable (NULL and *@n = 0 for a
 * view). */
Elf64_Rela *pvsub_relobj_relas(struct pvsub_relobj *o, size_t idx, size_t *n) _nonnull_(1, 3);

/* Copies of entry @k of the symbol table / of SHT_RELA section @idx, for
 * views, whose bytes need not be aligned.  The caller checks @k against
 * the counts below. */
void pvsub_relobj_sym_get(const struct pvsub_relobj *o, size_t k, Elf64_Sym *out) _nonnull_(1, 3);
void pvsub_relobj_rela_get(const struct pvsub_relobj *o, size_t idx, size_t k, Elf64_Rela *out)
	_nonnull_(1, 4);
/* Number of entries of SHT_RELA section @idx / of the symbol table. */
size_t pvsub_relobj_rela_count(const struct pvsub_relobj *o, size_t idx) _nonnull_(1);
size_t pvsub_relobj_sym_count(const struct pvsub_relobj *o) _nonnull_(1);

/* The SHT_RELA section that applies to section @idx (the first one, in
 * section order), 0 if there is none. */
size_t pvsub_relobj_rela_for(const struct pvsub_relobj *o, size_t idx) _nonnull_(1);

/* Index of the section called @name, 0 if there is none. */
size_t pvsub_relobj_find(const struct pvsub_relobj *o, const char *name) _nonnull_(1, 2);

/* Serialise into @out (appended): header, sections, section header table. */
int pvsub_relobj_write(const struct pvsub_relobj *o, struct pvsub_buf *out) _must_check_
	_nonnull_(1, 2);

#endif
