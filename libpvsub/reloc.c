/* SPDX-License-Identifier: MIT */
#include <elf.h>
#include <stddef.h>

#include "libpvsub/reloc.h"

/*
 * Indexed by type.  R_X86_64_COPY (no field: it copies a whole object) and
 * R_X86_64_TLSDESC (two words, dynamic only) are left out on purpose: no
 * fixed field of at most PVSUB_RELOC_MAX_FIELD bytes describes them, so
 * callers treat them as unknown.
 */
#define T(t, sz, pc, g, rw) [R_X86_64_##t] = {sz, true, pc, g, rw}
_Static_assert(R_X86_64_REX_GOTPCRELX < PVSUB_RELOC_NTYPES, "the table holds every listed type");

const struct pvsub_reloc_type pvsub_reloc_types[PVSUB_RELOC_NTYPES] = {
	T(NONE, 0, false, false, true),
	T(64, 8, false, false, true),
	T(PC32, 4, true, false, true),
	T(GOT32, 4, false, true, false),
	T(PLT32, 4, true, false, true),
	T(GLOB_DAT, 8, false, false, false),
	T(JUMP_SLOT, 8, false, false, false),
	T(RELATIVE, 8, false, false, false),
	T(GOTPCREL, 4, true, true, true),
	T(32, 4, false, false, true),
	T(32S, 4, false, false, true),
	T(16, 2, false, false, true),
	T(PC16, 2, true, false, true),
	T(8, 1, false, false, true),
	T(PC8, 1, true, false, true),
	T(DTPMOD64, 8, false, false, false),
	T(DTPOFF64, 8, false, false, false),
	T(TPOFF64, 8, false, false, false),
	T(TLSGD, 4, true, true, false),
	T(TLSLD, 4, true, true, false),
	T(DTPOFF32, 4, false, false, false),
	T(GOTTPOFF, 4, true, true, false),
	T(TPOFF32, 4, false, false, false),
	T(PC64, 8, true, false, true),
	T(GOTOFF64, 8, false, false, false),
	T(GOTPC32, 4, true, true, false),
	T(GOT64, 8, false, true, false),
	T(GOTPCREL64, 8, true, true, false),
	T(GOTPC64, 8, true, true, false),
	T(GOTPLT64, 8, false, true, false),
	T(PLTOFF64, 8, false, false, false),
	T(SIZE32, 4, false, false, false),
	T(SIZE64, 8, false, false, false),
	T(GOTPC32_TLSDESC, 4, true, true, false),
	T(TLSDESC_CALL, 0, false, false, false),
	T(IRELATIVE, 8, false, false, false),
	T(RELATIVE64, 8, false, false, false),
	T(GOTPCRELX, 4, true, true, true),
	T(REX_GOTPCRELX, 4, true, true, true),
};
#undef T

/* Every type's name, listed in the table or not (the psABI's numbering:
 * 39 and 40 are unassigned), for messages. */
static const char *const reloc_names[] = {
	"NONE",
	"64",
	"PC32",
	"GOT32",
	"PLT32",
	"COPY",
	"GLOB_DAT",
	"JUMP_SLOT",
	"RELATIVE",
	"GOTPCREL",
	"32",
	"32S",
	"16",
	"PC16",
	"8",
	"PC8",
	"DTPMOD64",
	"DTPOFF64",
	"TPOFF64",
	"TLSGD",
	"TLSLD",
	"DTPOFF32",
	"GOTTPOFF",
	"TPOFF32",
	"PC64",
	"GOTOFF64",
	"GOTPC32",
	"GOT64",
	"GOTPCREL64",
	"GOTPC64",
	"GOTPLT64",
	"PLTOFF64",
	"SIZE32",
	"SIZE64",
	"GOTPC32_TLSDESC",
	"TLSDESC_CALL",
	"TLSDESC",
	"IRELATIVE",
	"RELATIVE64",
	"39",
	"40",
	"GOTPCRELX",
	"REX_GOTPCRELX",
};
_Static_assert(sizeof(reloc_names) / sizeof(reloc_names[0]) == PVSUB_RELOC_NTYPES,
	       "a name for every type the table indexes");

const char *pvsub_reloc_name(uint32_t type)
{
	return type < PVSUB_RELOC_NTYPES ? reloc_names[type] : "unknown";
}
