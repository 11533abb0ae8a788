/* SPDX-License-Identifier: MIT */
/*
 * kmeta: the Linux (6.1, x86-64) module tables whose entries point at code,
 * and the mutable windows they define.
 *
 * A mutable window is a byte range of code that the kernel may overwrite at
 * load or run time (DESIGN §5 "patch-site"): alternative instructions and
 * their replacements, jump-label sites, ftrace call sites, static-call
 * sites, retpoline and return-thunk sites, SMP lock prefixes, paravirt patch
 * sites and sealed ENDBR instructions.  Their bytes must keep their size and
 * place when code is rewritten, and an occurrence inside one can only be
 * judged at load time.
 *
 * A module's tables are read through their relocations (an ET_REL object
 * has no other way to say where an entry points); a linked kernel's
 * (vmlinux, ET_EXEC) hold what the linker resolved: offsets from the field's
 * own address, or absolute addresses.  Both are read against the same
 * layouts and give windows of the same kinds and lengths.  A table whose
 * layout does not match the 6.1 ABI is reported, never guessed at.
 *
 * Layering: reads objects through relobj only (util <- modsig <- reloc <-
 * relobj <- kmeta <- image <- classify <- scan <- rewrite); no libelf, no
 * capstone, no printing.  The image reads a file's windows once
 * (pvsub_image_kmeta()) for classification, and the scan hands them to the
 * rewriter.
 */
#ifndef PVSUB_KMETA_H
#define PVSUB_KMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/relobj.h"
#include "libpvsub/util.h"

enum pvsub_window_kind {
	PVSUB_WINDOW_ALTERNATIVE,     /* .altinstructions: original instructions */
	PVSUB_WINDOW_ALT_REPLACEMENT, /* .altinstructions: replacement bytes */
	PVSUB_WINDOW_JUMP_LABEL,      /* __jump_table */
	PVSUB_WINDOW_FTRACE,	      /* __mcount_loc */
	PVSUB_WINDOW_STATIC_CALL,     /* .static_call_sites */
	PVSUB_WINDOW_RETPOLINE,	      /* .retpoline_sites */
	PVSUB_WINDOW_RETURN_THUNK,    /* .return_sites */
	PVSUB_WINDOW_SMP_LOCK,	      /* .smp_locks */
	PVSUB_WINDOW_PARAVIRT,	      /* .parainstructions */
	PVSUB_WINDOW_ENDBR_SEAL,      /* .ibt_endbr_seal */
};

/* "alternative", "alt-replacement", "jump-label", ... */
const char *pvsub_window_kind_name(enum pvsub_window_kind k);

/*
 * Coordinates: in a module, @section is the code section's index and
 * @offset counts from its start; in a linked image, @section is the index
 * of the executable PT_LOAD's program header and @offset counts from the
 * segment's p_offset (never negative: a window lies in the segment's file
 * bytes).  Either way this is the coordinate of image.h's region->origin.
 */
/* No window is longer: a length byte of the table, or a few bytes. */
#define PVSUB_MWINDOW_MAX_LEN 255u

struct pvsub_mwindow {
	size_t section;	 /* code section (ET_REL) or program header (ET_EXEC) */
	uint64_t offset; /* from the section start, or from the segment's p_offset */
	uint32_t len;
	enum pvsub_window_kind kind;
	size_t table;	    /* index of the table section that defines it */
	uint64_t table_off; /* the entry's offset in that section */
	/* A jump label's jmp target, in the coordinates of @section and
	 * @offset (the kernel writes a jmp there of the window's length);
	 * has_target is false for every other kind, and when the entry's
	 * target is not in a code section or run. */
	bool has_target;
	size_t target_section;
	uint64_t target_offset;
};

/* True when section @name is a table whose entries point at code (the
 * tables above, plus __ex_table, __bug_table, .orc_unwind_ip, ...). */
bool pvsub_kmeta_is_code_table(const char *name) _nonnull_(1);

/*
 * The mutable windows of @o, sorted by section then offset (*@out is
 * malloc'ed, NULL when there are none).  -EINVAL with the table named in
 * @diag when a table does not have the layout it must have, -ENOMEM.
 */
int pvsub_kmeta_windows(const struct pvsub_relobj *o, struct pvsub_mwindow **out, size_t *n,
			struct pvsub_diag *diag) _must_check_ _nonnull_(1, 2, 3);

/*
 * The boot-time patch tables of a linked kernel (vmlinux), in the order a
 * report names them (*@n of them).  @start and @stop are the symbols that
 * delimit a table the linker script merges into another section (both NULL
 * for a table that is an output section of its own); @unmodelled says why a
 * table is not read (NULL for the tables pvsub_kmeta_linked_windows reads).
 */
struct pvsub_kmeta_boot_table {
	const char *name;
	const char *start, *stop;
	const char *unmodelled;
};
const struct pvsub_kmeta_boot_table *pvsub_kmeta_boot_tables(size_t *n) _nonnull_(1);

/* One run of a linked image's executable bytes: part of an executable
 * segment's file bytes, as the caller maps them. */
struct pvsub_kmeta_code {
	uint64_t vaddr;	      /* address of bytes[0] */
	const uint8_t *bytes; /* not NULL */
	size_t size;
	size_t section;	  /* the windows' section: the program header index */
	uint64_t offset;  /* the windows' offset of bytes[0]: from the segment's p_offset */
	const char *name; /* for diagnostics ("segment 3") */
};

/* One boot-time patch table of a linked image, as bytes at an address. */
struct pvsub_kmeta_table {
	const char *name;     /* a boot table's name with @unmodelled NULL */
	uint64_t vaddr;	      /* address of bytes[0] */
	const uint8_t *bytes; /* NULL only when @size is 0 */
	size_t size;
	size_t index;		 /* the windows' table: the section that holds it */
	uint64_t section_offset; /* offset of bytes[0] in that section */
};

/*
 * The mutable windows of the @n_tabs tables @tabs of a linked kernel whose
 * executable bytes are the @n_code runs @code, sorted by section then
 * offset (*@out is malloc'ed, NULL when there are none).  Every entry must
 * point into one run, and its whole window lie in it; an .smp_locks entry
 * of 0 is padding the kernel skips.  The lengths are those of modules.
 * Each table is read on its own: @why has @n_tabs elements, and why[i] is
 * "" when tabs[i] was read, else the reason, naming the table, and that
 * table adds no window.  0, or -ENOMEM.
 */
int pvsub_kmeta_linked_windows(const struct pvsub_kmeta_table *tabs, size_t n_tabs,
			       const struct pvsub_kmeta_code *code, size_t n_code,
			       struct pvsub_mwindow **out, size_t *n, struct pvsub_diag *why)
	_must_check_ _nonnull_(5, 6);

#endif
