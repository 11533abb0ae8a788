/* SPDX-License-Identifier: MIT */
/*
 * kaslr: the fields of an x86-64 kernel that KASLR moves at boot, and which
 * of them can form a pattern.
 *
 * A relocatable bzImage's payload ends with a relocation table (bzimage.h)
 * that the boot decompressor applies after it has placed the kernel: every
 * listed 32-bit field gets += delta (mod 2^32), every "inverse" 32-bit field
 * -= delta, every 64-bit field += delta, where delta is the one virtual
 * offset chosen for this boot (arch/x86/boot/compressed/misc.c,
 * handle_relocations()).  Each table word is the field's link-time virtual
 * address, sign-extended from 32 bits; the decompressor finds the field at
 * that address minus __START_KERNEL_map (0xffffffff80000000), i.e. at a
 * physical load address, which is how it is mapped onto the image here.
 *
 * The offsets: delta = virt_addr - LOAD_PHYSICAL_ADDR, where virt_addr is
 * LOAD_PHYSICAL_ADDR plus a slot times CONFIG_PHYSICAL_ALIGN, and the kernel
 * image must end below KERNEL_IMAGE_SIZE (arch/x86/boot/compressed/kaslr.c,
 * find_random_virt_addr()).  pvsub over-approximates that set, so that
 * what it proves holds for every kernel it may be: CONFIG_PHYSICAL_ALIGN is a
 * multiple of 2 MiB on x86-64 (its Kconfig range), so the 2 MiB steps
 * include every larger alignment's; KERNEL_IMAGE_SIZE is 1 GiB with
 * CONFIG_RANDOMIZE_BASE (512 MiB without), so 1 GiB includes both; and the
 * image's size is at least the span of its loadable segments.  delta = 0 is
 * always in the set (KASLR off, or slot 0).
 *
 * Which bytes can change: delta is a multiple of 2^21, so a field's bytes 0
 * and 1 and the low five bits of byte 2 never change; its other bits can.
 * An occurrence that forms for some offset and not for another must cover
 * one of those changing bits; the rest are the same for every offset and
 * the ordinary search sees them.  pvsub_kaslr_search() decides, for every
 * pattern position that covers a changing byte, for how many of the allowed
 * offsets the pattern forms there, by trying each one: a window none of
 * whose positions forms for any offset is proven, not merely flagged.
 *
 * Layering: analysis area (uses the matcher); bzimage.h owns the table's
 * format check, image.h maps the fields onto regions.  No printing.
 */
#ifndef PVSUB_KASLR_H
#define PVSUB_KASLR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpvsub/bzimage.h"
#include "libpvsub/search.h"
#include "libpvsub/util.h"

/* The kernel's virtual base: link-time address = physical + this. */
#define PVSUB_KASLR_START_KERNEL_MAP 0xffffffff80000000ull
/* The step of the offsets (smallest CONFIG_PHYSICAL_ALIGN on x86-64). */
#define PVSUB_KASLR_STEP (2ull << 20)
/* The largest KERNEL_IMAGE_SIZE: the kernel must end below it. */
#define PVSUB_KASLR_IMAGE_LIMIT (1ull << 30)

/* One field of the relocation table, as the decompressor reads it. */
struct pvsub_kaslr_field {
	uint64_t addr; /* link-time virtual address, sign-extended from the table word */
	uint8_t size;  /* 4 or 8 */
	int8_t sign;   /* +1: += delta; -1: -= delta (the inverse list) */
};

/*
 * Read every field of the relocation table at @p (@n bytes, as
 * pvsub_kaslr_relocs_parse() accepts) into *@out (malloc'ed, NULL when
 * empty), in the decompressor's order: 32-bit, inverse 32-bit, 64-bit,
 * and how many each list has into *@counts when it is not NULL.
 * -EINVAL when the bytes are not such a table, -ENOMEM.
 */
int pvsub_kaslr_fields(const uint8_t *p, size_t n, struct pvsub_kaslr_field **out, size_t *nout,
		       struct pvsub_kaslr_relocs *counts) _must_check_ _nonnull_(3, 4);

/* The offsets tried: delta = k * step for 0 <= k < count. */
struct pvsub_kaslr_offsets {
	uint64_t step;
	uint64_t count;
};

/*
 * The offsets a kernel whose loadable segments start at physical address
 * @load_min (LOAD_PHYSICAL_ADDR) and span @span bytes can be moved by:
 * -EINVAL when it cannot fit below PVSUB_KASLR_IMAGE_LIMIT at all.
 */
int pvsub_kaslr_offsets_for(uint64_t load_min, uint64_t span, struct pvsub_kaslr_offsets *out)
	_must_check_ _nonnull_(3);

/* The relocation table that follows a vmlinux, as the image read it. */
struct pvsub_kaslr_info {
	uint64_t table_offset; /* in the payload: where the ELF file ends */
	uint64_t table_size;
	struct pvsub_kaslr_relocs counts; /* fields per list */
	struct pvsub_kaslr_offsets offsets;
};

/* A field mapped into an executable region's bytes. */
struct pvsub_kaslr_window {
	size_t pos; /* index into the region's bytes */
	uint8_t size;
	int8_t sign;
};

/* What a search found: one pattern at one position, for some offsets. */
struct pvsub_kaslr_hit {
	size_t pos;	       /* index into the region's bytes */
	size_t pattern;	       /* the matcher's index */
	uint64_t n_offsets;    /* how many of the offsets form it (>= 1) */
	uint64_t first_delta;  /* the smallest delta that forms it */
	bool at_zero;	       /* delta 0 forms it: the ordinary search sees it too */
	uint8_t bytes[PVSUB_PATTERN_MAX]; /* the bytes there at first_delta */
};

struct pvsub_kaslr_stats {
	uint64_t windows; /* windows searched */
	uint64_t proven;  /* of which no offset forms a pattern over their changing bytes */
};

/*
 * Every position of @size bytes at @bytes where a pattern of @m covers a
 * changing byte of one of the @n windows @w (sorted by pos, not
 * overlapping, each inside the bytes) and forms for at least one of the
 * offsets @off: *@hits (malloc'ed, NULL when none) in ascending (pos,
 * pattern) order, and the windows' count and proven count added to @st.
 * 0, -EINVAL for unsorted, overlapping or out-of-range windows, -ENOMEM.
 */
int pvsub_kaslr_search(const struct pvsub_matcher *m, const uint8_t *bytes, size_t size,
		       const struct pvsub_kaslr_window *w, size_t n,
		       const struct pvsub_kaslr_offsets *off, struct pvsub_kaslr_hit **hits,
		       size_t *nhits, struct pvsub_kaslr_stats *st) _must_check_
	_nonnull_(1, 6, 7, 8, 9);

#endif
