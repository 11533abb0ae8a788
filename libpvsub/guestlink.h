/* SPDX-License-Identifier: MIT */
/*
 * guestlink: the guest linker.  It places N certified relocatable objects
 * (ET_REL, x86-64) in one image, resolves their symbols against each other
 * and a table of guest API symbols, and applies their relocations, as
 * DESIGN §8 steps 2 to 4 ask, before any guest byte runs.
 *
 * It works on the caller's objects (relobj.h; a view is enough) and on
 * buffers and addresses the caller provides: no mapping, no printing, no
 * third-party library.  The caller (pvsub-loader) reserves one contiguous
 * mapping of the planned size, chooses its base, has the image written
 * into it, and then sets the protections the layout describes.
 *
 * Guest objects are expected to be built with
 *
 *   gcc or clang  -fPIE -mcmodel=small -ffreestanding -fno-stack-protector
 *                 -fno-common -O2 -c
 *
 * (-fno-common is gcc's and clang's default since gcc 10 and clang 11).
 * For those flags gcc 12 and clang 14 emit R_X86_64_64, PC32, PLT32 and
 * REX_GOTPCRELX (measured on the test guests and on libpvsub's own
 * sources); the linker also takes GOTPCREL and GOTPCRELX (-fno-plt, hand
 * written assembly), NONE, 32, 32S and PC64.  GOTOFF64, GOTPC32/64 and the other GOT-relative forms
 * are only emitted for -mcmodel=large or medium: they are refused, as is any other type.  Calls
 * (PLT32) go to the symbol directly: there is no PLT. GOT references go through a GOT the linker
 * makes, one 8-byte entry per distinct symbol, and are never relaxed.
 *
 * The layout, in this order, each region starting on a page (4096 bytes):
 *
 *   guard    one page, never mapped accessible
 *   code     every SHF_EXECINSTR section, in object order then section
 *            order, each at its alignment; 0xCC (int3) between sections
 *            and after the last one up to the page-rounded end
 *   guard    one page
 *   rodata   the other allocated read-only sections (SHF_MERGE strings are
 *            not merged; .eh_frame is placed like any other)
 *   got      the linker's GOT, read-only once the image is written
 *   data     allocated writable sections with contents
 *   bss      SHT_NOBITS sections, zero
 *
 * Empty regions take no space.  The layout depends only on the objects, in
 * the order given, and on the API table: the same inputs always give the
 * same layout and, at the same base, the same bytes.
 *
 * What the linker refuses (-EINVAL and one line in the diagnostic: the
 * object at fault, by the caller's name for it, then the cause; symbol
 * names from the objects are quoted and cut):
 *
 *   - an undefined symbol that is neither defined by another object nor
 *     in the API table (_GLOBAL_OFFSET_TABLE_, which the assembler makes
 *     every object that uses the GOT import, is the start of the linker's
 *     GOT); a weak undefined symbol (a guest that can run without a symbol
 *     cannot be told apart from one that misspelt it); a global symbol
 *     defined twice (weak definitions yield to a strong one, the first
 *     weak one wins among weak ones); a guest definition of an API
 *     symbol's name or of _GLOBAL_OFFSET_TABLE_;
 *   - SHN_COMMON symbols (build with -fno-common), thread-local storage
 *     (STT_TLS, SHF_TLS), IFUNC symbols (STT_GNU_IFUNC);
 *   - constructors and destructors (.init_array, .fini_array,
 *     .preinit_array, .ctors, .dtors): nothing runs before the entry
 *     point; COMDAT groups; writable code; a request for an executable
 *     stack; allocated sections of a type or with flags it does not know;
 *   - a relocation of a type not listed above, one whose field lies
 *     outside its section, one in a section without contents, one without
 *     a symbol, one against a symbol in a section that is not placed, and
 *     one whose value does not fit its field (at apply time);
 *   - no global pvsub_guest_main on a byte of code, or more than one
 *     definition of it (weak ones count).
 *
 * Non-allocated sections (.comment, .debug_*, .note.GNU-stack,
 * .llvm_addrsig) and notes, allocated or not, are not placed, and their
 * relocations are not applied.
 */
#ifndef PVSUB_GUESTLINK_H
#define PVSUB_GUESTLINK_H

#include <stddef.h>
#include <stdint.h>

#include "libpvsub/relobj.h"
#include "libpvsub/util.h"

/* The page size the layout uses, and the largest image it plans (so that
 * any two places in it are within reach of a 32-bit displacement). */
#define PVSUB_GUESTLINK_PAGE 4096u
#define PVSUB_GUESTLINK_MAX_SIZE (1ull << 30)

/* The entry point every guest defines exactly once. */
#define PVSUB_GUESTLINK_ENTRY "pvsub_guest_main"

/* One guest API symbol: its name, and its absolute address in the process
 * that will run the guest. */
struct pvsub_guestlink_api {
	const char *name;
	uint64_t addr;
};

/* A region of the image: @offset from the base, @size bytes (a multiple of
 * the page size, 0 for an empty region). */
struct pvsub_guestlink_region {
	uint64_t offset;
	uint64_t size;
};

/* The plan's layout (offsets from the base the caller will choose). */
struct pvsub_guestlink_layout {
	uint64_t size; /* bytes of the whole image, guard pages included */
	struct pvsub_guestlink_region guard_lo, code, guard_hi, rodata, got, data, bss;
	uint64_t entry; /* offset of pvsub_guest_main, inside code */
};

struct pvsub_guestlink;

/*
 * Plan the link of the @n objects at @objs (read only: views will do),
 * called @names[i] in diagnostics (@names may be NULL: then "object I"),
 * against the @n_api symbols at @api (names unique, else -EINVAL): resolve
 * every symbol, check every relocation that will be applied (type, place,
 * symbol) and lay out the image.  The plan refers to @objs, @names and
 * @api, which must outlive it.
 *
 * 0 and *@out, to be released with pvsub_guestlink_free(); -EINVAL with one
 * line in @diag for any refusal listed above (or no object at all, or an
 * image larger than PVSUB_GUESTLINK_MAX_SIZE); -ENOMEM.
 */
int pvsub_guestlink_plan(const struct pvsub_relobj *const *objs, const char *const *names, size_t n,
			 const struct pvsub_guestlink_api *api, size_t n_api,
			 struct pvsub_guestlink **out, struct pvsub_diag *diag)
	_must_check_ _nonnull_(6);

/* Release a plan; NULL is a no-op. */
void pvsub_guestlink_free(struct pvsub_guestlink *gl);

/* The layout of a plan. */
void pvsub_guestlink_layout(const struct pvsub_guestlink *gl, struct pvsub_guestlink_layout *out)
	_nonnull_(1, 2);

/* Number of entries of the linker's GOT (its region holds 8 bytes each). */
size_t pvsub_guestlink_got_count(const struct pvsub_guestlink *gl) _nonnull_(1);

/* Where a byte of the image came from: object @obj (an index into the
 * plan's objects), @offset bytes into its section @section (a name owned
 * by the object). */
struct pvsub_guestlink_place {
	size_t obj;
	const char *section;
	uint64_t offset;
};

/*
 * Which placed section holds byte @offset of the image (an offset from the
 * base, as the layout's): 0 and *@out, or -ENOENT for a byte no section
 * holds (a guard page, padding, the GOT).  Linear in the number of
 * sections: for messages, not for every byte.
 */
int pvsub_guestlink_locate(const struct pvsub_guestlink *gl, uint64_t offset,
			   struct pvsub_guestlink_place *out) _must_check_ _nonnull_(1, 3);

/*
 * Write the linked image for base address @base (a multiple of
 * PVSUB_GUESTLINK_PAGE, with the whole image below 2^64) into @image,
 * @image_size bytes (at least the layout's size; only that many are
 * written): every byte of the layout, the guard pages as 0xCC, then every
 * relocation applied for that base.  @image is where the bytes are
 * written, @base where they will run: they may differ (link into a buffer,
 * copy into place).
 *
 * 0 on success.  -EINVAL with one line in @diag naming the object, section
 * and relocation when a value does not fit its field at this base (another
 * base may do: a PC-relative reference to an API symbol must reach it from
 * the image), or for a @base or @image_size that cannot hold the image.  On
 * failure the image's bytes are unspecified and must not be run.
 */
int pvsub_guestlink_apply(const struct pvsub_guestlink *gl, uint64_t base, uint8_t *image,
			  size_t image_size, struct pvsub_diag *diag) _must_check_ _nonnull_(1, 3);

#endif
