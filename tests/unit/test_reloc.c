/* SPDX-License-Identifier: MIT */
/*
 * reloc: the one table of x86-64 relocation types, and what an unknown type
 * means to the scanner (the widest window) and to the rewriter (nothing it
 * may move).
 */
#include <criterion/criterion.h>
#include <elf.h>

#include "libpvsub/reloc.h"

Test(reloc, field_sizes_of_known_types)
{
	static const struct {
		uint32_t type;
		unsigned size;
	} want[] = {
		{R_X86_64_NONE, 0},	    {R_X86_64_64, 8},	       {R_X86_64_PC32, 4},
		{R_X86_64_PLT32, 4},	    {R_X86_64_32, 4},	       {R_X86_64_32S, 4},
		{R_X86_64_16, 2},	    {R_X86_64_PC16, 2},	       {R_X86_64_8, 1},
		{R_X86_64_PC8, 1},	    {R_X86_64_PC64, 8},	       {R_X86_64_GOTPCREL, 4},
		{R_X86_64_GOTPCRELX, 4},   {R_X86_64_REX_GOTPCRELX, 4}, {R_X86_64_TLSGD, 4},
		{R_X86_64_DTPOFF64, 8},    {R_X86_64_SIZE32, 4},       {R_X86_64_SIZE64, 8},
		{R_X86_64_TLSDESC_CALL, 0}, {R_X86_64_GOTOFF64, 8},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct pvsub_reloc_type *t = pvsub_reloc_lookup(want[i].type);
		cr_assert_not_null(t, "type %u is unknown", want[i].type);
		cr_assert_eq(t->size, want[i].size, "type %u", want[i].type);
		cr_assert_eq(pvsub_reloc_window_size(want[i].type), want[i].size, "type %u",
			     want[i].type);
	}
}

Test(reloc, unknown_types_get_the_widest_window)
{
	/* COPY and TLSDESC have no fixed field of at most 8 bytes; 39 and 40
	 * are unassigned; the table ends at REX_GOTPCRELX. */
	static const uint32_t unknown[] = {R_X86_64_COPY, R_X86_64_TLSDESC, 39, 40,
					   R_X86_64_REX_GOTPCRELX + 1, 255, 0xffffffffu};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		cr_assert_null(pvsub_reloc_lookup(unknown[i]), "type %u", unknown[i]);
		cr_assert_null(pvsub_reloc_rewritable(unknown[i]), "type %u", unknown[i]);
		cr_assert_eq(pvsub_reloc_window_size(unknown[i]), PVSUB_RELOC_MAX_FIELD);
	}
}

Test(reloc, no_field_is_wider_than_the_widest)
{
	for (uint32_t type = 0; type < 256; type++) {
		unsigned w = pvsub_reloc_window_size(type);
		cr_assert_leq(w, PVSUB_RELOC_MAX_FIELD, "type %u", type);
		cr_assert(w == 0 || w == 1 || w == 2 || w == 4 || w == 8, "type %u: %u", type, w);
	}
}

Test(reloc, the_rewriter_moves_exactly_these_types)
{
	static const uint32_t movable[] = {
		R_X86_64_NONE,	   R_X86_64_64,	       R_X86_64_PC32,	   R_X86_64_PLT32,
		R_X86_64_GOTPCREL, R_X86_64_32,	       R_X86_64_32S,	   R_X86_64_16,
		R_X86_64_PC16,	   R_X86_64_8,	       R_X86_64_PC8,	   R_X86_64_PC64,
		R_X86_64_GOTPCRELX, R_X86_64_REX_GOTPCRELX,
	};
	size_t n = 0;
	for (uint32_t type = 0; type < 256; type++) {
		bool want = false;
		for (size_t i = 0; i < sizeof(movable) / sizeof(movable[0]); i++)
			want |= movable[i] == type;
		cr_assert_eq(pvsub_reloc_rewritable(type) != NULL, want, "type %u", type);
		n += want;
	}
	cr_assert_eq(n, sizeof(movable) / sizeof(movable[0]));
}

/* The entry of a type the table must know. */
static struct pvsub_reloc_type known(uint32_t type)
{
	const struct pvsub_reloc_type *t = pvsub_reloc_lookup(type);
	const struct pvsub_reloc_type none = {0};

	cr_assert_not_null(t, "type %u is unknown", type);
	return t ? *t : none;
}

Test(reloc, pc_relative_and_got_flags)
{
	cr_assert(known(R_X86_64_PC32).pc_relative);
	cr_assert(known(R_X86_64_PLT32).pc_relative);
	cr_assert_not(known(R_X86_64_PC32).got);
	cr_assert_not(known(R_X86_64_64).pc_relative);
	cr_assert_not(known(R_X86_64_32S).pc_relative);
	cr_assert(known(R_X86_64_GOTPCRELX).got);
	cr_assert(known(R_X86_64_GOTPCRELX).pc_relative);
	cr_assert(known(R_X86_64_GOT32).got);
	cr_assert_not(known(R_X86_64_GOT32).rewritable);
}

Test(reloc, every_type_has_its_psabi_name)
{
	cr_expect_str_eq(pvsub_reloc_name(R_X86_64_NONE), "NONE");
	cr_expect_str_eq(pvsub_reloc_name(R_X86_64_PC32), "PC32");
	cr_expect_str_eq(pvsub_reloc_name(R_X86_64_GOTOFF64), "GOTOFF64");
	cr_expect_str_eq(pvsub_reloc_name(R_X86_64_REX_GOTPCRELX), "REX_GOTPCRELX");
	cr_expect_str_eq(pvsub_reloc_name(PVSUB_RELOC_NTYPES), "unknown");
	cr_expect_str_eq(pvsub_reloc_name(UINT32_MAX), "unknown");
}
