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
 * Every table is read through its relocations (an ET_REL object has no
 * other way to say where an entry points).  A table whose layout does not
 * match the 6.1 ABI is reported, never guessed at.
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

struct pvsub_mwindow {
	size_t section;	 /* index of the code section */
	uint64_t offset; /* from the section start */
	uint32_t len;
	enum pvsub_window_kind kind;
	size_t table;	     /* index of the table section that defines it */
	uint64_t table_off;  /* the entry's offset in that table */
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

#endif
