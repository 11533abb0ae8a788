/* SPDX-License-Identifier: MIT */
/*
 * reloc: the one table of x86-64 relocation types (System V x86-64 psABI):
 * how many bytes of its place each type writes, and what the value depends
 * on.
 *
 * Layering: uses nothing but the C library and <elf.h>; relobj, image and
 * the rewriter use it (util <- modsig <- reloc <- relobj <- kmeta <- image
 * <- classify <- scan <- rewrite).  No libelf, no capstone, no printing:
 * the loader's relocator may use it as it is.
 *
 * A type the table does not list is *unknown*.  What unknown means is the
 * caller's decision, and it is never "writes nothing":
 *
 *   - the scanner (pvsub_reloc_window_size) treats an unknown type's window
 *     as PVSUB_RELOC_MAX_FIELD bytes, the widest field, so a window never
 *     hides less than the relocation could write and an occurrence beside
 *     it is still reported;
 *   - the rewriter moves and patches only around the types whose
 *     `rewritable` flag is set, and refuses an object in which an unknown
 *     or other type would have to move (inside code it rewrites, or
 *     referring into it) rather than guess at its field.
 */
#ifndef PVSUB_RELOC_H
#define PVSUB_RELOC_H

#include <stdbool.h>
#include <stdint.h>

#include "libpvsub/util.h"

/* The widest field any x86-64 relocation in a relocatable object writes. */
#define PVSUB_RELOC_MAX_FIELD 8u

/* What a type does; small, so that a lookup is an index (the scanner and
 * the rewriter look up every relocation they pass). */
struct pvsub_reloc_type {
	uint8_t size;	  /* bytes of the place written; 0: none (a marker) */
	bool known;	  /* listed in the table (false: unknown, the rest is 0) */
	bool pc_relative; /* the value is relative to the place (P) */
	bool got;	  /* the value refers to a GOT entry, not to the symbol */
	/* The rewriter knows how to move this field and re-bias its addend
	 * (the types compilers emit for code and data of kernel modules and
	 * position-dependent objects). */
	bool rewritable;
};

/* The table, indexed by type.  Callers use the functions below; the table
 * is here so that they inline. */
#define PVSUB_RELOC_NTYPES 43u
extern const struct pvsub_reloc_type pvsub_reloc_types[PVSUB_RELOC_NTYPES];

/* The psABI name of @type without its R_X86_64_ prefix ("PC32"), or
 * "unknown" past the last type pvsub numbers; never NULL. */
const char *pvsub_reloc_name(uint32_t type);

/* The table's entry for @type, or NULL when the type is unknown. */
static inline const struct pvsub_reloc_type *pvsub_reloc_lookup(uint32_t type)
{
	if (type >= PVSUB_RELOC_NTYPES || !pvsub_reloc_types[type].known)
		return NULL;
	return &pvsub_reloc_types[type];
}

/* The entry for @type when the rewriter may move it, else NULL (unknown
 * types never are: their entries are all zero). */
static inline const struct pvsub_reloc_type *pvsub_reloc_rewritable(uint32_t type)
{
	if (type >= PVSUB_RELOC_NTYPES || !pvsub_reloc_types[type].rewritable)
		return NULL;
	return &pvsub_reloc_types[type];
}

/*
 * Bytes of the relocation window of @type for the scanner: the field size
 * of a known type (0 for the markers R_X86_64_NONE and
 * R_X86_64_TLSDESC_CALL, which write nothing), PVSUB_RELOC_MAX_FIELD for an
 * unknown type.
 */
static inline unsigned pvsub_reloc_window_size(uint32_t type)
{
	const struct pvsub_reloc_type *t = pvsub_reloc_lookup(type);
	return t ? t->size : PVSUB_RELOC_MAX_FIELD;
}

#endif
