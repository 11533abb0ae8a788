/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/kmeta.h"

const char *pvsub_window_kind_name(enum pvsub_window_kind k)
{
	switch (k) {
	case PVSUB_WINDOW_ALTERNATIVE:
		return "alternative";
	case PVSUB_WINDOW_ALT_REPLACEMENT:
		return "alt-replacement";
	case PVSUB_WINDOW_JUMP_LABEL:
		return "jump-label";
	case PVSUB_WINDOW_FTRACE:
		return "ftrace";
	case PVSUB_WINDOW_STATIC_CALL:
		return "static-call";
	case PVSUB_WINDOW_RETPOLINE:
		return "retpoline";
	case PVSUB_WINDOW_RETURN_THUNK:
		return "return-thunk";
	case PVSUB_WINDOW_SMP_LOCK:
		return "smp-lock";
	case PVSUB_WINDOW_PARAVIRT:
		return "paravirt";
	case PVSUB_WINDOW_ENDBR_SEAL:
		return "endbr-seal";
	}
	return "?";
}

/* How a window's length is known. */
enum len_rule {
	LEN_FIXED,	/* spec->len */
	LEN_BYTE,	/* a byte of the entry, at spec->len_off */
	LEN_BRANCH,	/* the call/jmp/jcc at the site */
	LEN_JUMP_LABEL, /* the jmp or NOP at the site */
};

/*
 * One pointer field of a table (Linux 6.1 x86-64 layouts):
 *   struct alt_instr { s32 instr, repl; u16 cpuid; u8 instrlen, replacementlen; }   12
 *   struct jump_entry { s32 code, target; long key; }                               16
 *   __mcount_loc: unsigned long ip;                                                  8
 *   struct static_call_site { s32 addr, key; }                                       8
 *   .retpoline_sites, .return_sites, .smp_locks, .ibt_endbr_seal: s32               4
 *   struct paravirt_patch_site { u8 *instr; u8 type, len; }                         16
 */
struct table_spec {
	const char *name;
	unsigned entsize;
	unsigned ptr_off;
	bool abs64; /* R_X86_64_64, else R_X86_64_PC32 */
	enum pvsub_window_kind kind;
	enum len_rule rule;
	unsigned len; /* LEN_FIXED: the length; LEN_BYTE: offset of the length byte */
	/* Linked image: an entry whose pointer field is 0 is padding the
	 * kernel skips (alternatives_smp_unlock() does for .smp_locks, which
	 * the linker script pads to a page). */
	bool zero_skipped;
};

static const struct table_spec specs[] = {
	{".altinstructions", 12, 0, false, PVSUB_WINDOW_ALTERNATIVE, LEN_BYTE, 10, false},
	{".altinstructions", 12, 4, false, PVSUB_WINDOW_ALT_REPLACEMENT, LEN_BYTE, 11, false},
	{"__jump_table", 16, 0, false, PVSUB_WINDOW_JUMP_LABEL, LEN_JUMP_LABEL, 0, false},
	{"__mcount_loc", 8, 0, true, PVSUB_WINDOW_FTRACE, LEN_FIXED, 5, false},
	{".static_call_sites", 8, 0, false, PVSUB_WINDOW_STATIC_CALL, LEN_FIXED, 5, false},
	{".retpoline_sites", 4, 0, false, PVSUB_WINDOW_RETPOLINE, LEN_BRANCH, 0, false},
	{".return_sites", 4, 0, false, PVSUB_WINDOW_RETURN_THUNK, LEN_BRANCH, 0, false},
	{".smp_locks", 4, 0, false, PVSUB_WINDOW_SMP_LOCK, LEN_FIXED, 1, true},
	{".parainstructions", 16, 0, true, PVSUB_WINDOW_PARAVIRT, LEN_BYTE, 9, false},
	{".ibt_endbr_seal", 4, 0, false, PVSUB_WINDOW_ENDBR_SEAL, LEN_FIXED, 4, false},
};
#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

/*
 * Where a linked kernel (vmlinux) keeps each table: most are output
 * sections of their own; the linker script puts __jump_table and
 * .static_call_sites inside .rodata (ro_after_init) and __mcount_loc inside
 * .init.data, between symbols (include/asm-generic/vmlinux.lds.h).
 * .call_sites is read by call depth tracking, which Linux 6.1 does not have.
 */
static const struct pvsub_kmeta_boot_table boot_tables[] = {
	{".altinstructions", NULL, NULL, NULL},
	{".parainstructions", NULL, NULL, NULL},
	{".retpoline_sites", NULL, NULL, NULL},
	{".return_sites", NULL, NULL, NULL},
	{".smp_locks", NULL, NULL, NULL},
	{".ibt_endbr_seal", NULL, NULL, NULL},
	{"__jump_table", "__start___jump_table", "__stop___jump_table", NULL},
	{".static_call_sites", "__start_static_call_sites", "__stop_static_call_sites", NULL},
	{"__mcount_loc", "__start_mcount_loc", "__stop_mcount_loc", NULL},
	{".call_sites", NULL, NULL, "call depth tracking, Linux 6.2 and later"},
};

const struct pvsub_kmeta_boot_table *pvsub_kmeta_boot_tables(size_t *n)
{
	*n = sizeof(boot_tables) / sizeof(boot_tables[0]);
	return boot_tables;
}

/* Tables whose entries point at code but define no window. */
static const char *const ref_tables[] = {
	"__ex_table",  "__bug_table", ".orc_unwind_ip",
	".call_sites", ".kcfi_traps", "__patchable_function_entries",
};

bool pvsub_kmeta_is_code_table(const char *name)
{
	for (size_t i = 0; i < N_SPECS; i++)
		if (strcmp(name, specs[i].name) == 0)
			return true;
	for (size_t i = 0; i < sizeof(ref_tables) / sizeof(ref_tables[0]); i++)
		if (strcmp(name, ref_tables[i]) == 0)
			return true;
	return false;
}

/* Length of the call/jmp/jcc at @p (a retpoline or return-thunk site), 0 if
 * it is none of them. */
static unsigned branch_len(const uint8_t *p, size_t avail)
{
	size_t k = 0;
	if (avail > 0 && (p[0] == 0x2e || p[0] == 0x3e))
		k = 1;
	if (avail > k && (p[k] == 0xe8 || p[k] == 0xe9))
		return (unsigned)k + 5;
	if (avail > k + 1 && p[k] == 0x0f && (p[k + 1] & 0xf0) == 0x80)
		return (unsigned)k + 6;
	return 0;
}

static unsigned jump_label_len(const uint8_t *p, size_t avail)
{
	static const uint8_t nop5[] = {0x0f, 0x1f, 0x44, 0x00, 0x00};
	if (avail >= 2 && (p[0] == 0xeb || (p[0] == 0x66 && p[1] == 0x90)))
		return 2;
	if (avail >= 5 && (p[0] == 0xe9 || memcmp(p, nop5, 5) == 0))
		return 5;
	return 0;
}

struct wlist {
	struct pvsub_mwindow *w;
	size_t n, cap;
};

static int wlist_push(struct wlist *l, const struct pvsub_mwindow *w)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		void *p = realloc(l->w, cap * sizeof(*l->w));
		if (!p)
			return -ENOMEM;
		l->w = p;
		l->cap = cap;
	}
	l->w[l->n++] = *w;
	return 0;
}

static unsigned window_len(const struct table_spec *sp, const uint8_t *entry, const uint8_t *site,
			   size_t avail)
{
	switch (sp->rule) {
	case LEN_FIXED:
		return sp->len;
	case LEN_BYTE:
		return entry[sp->len];
	case LEN_BRANCH:
		return branch_len(site, avail);
	case LEN_JUMP_LABEL:
		return jump_label_len(site, avail);
	}
	return 0;
}

/*
 * The length of the window that a table entry (its bytes at @entry, its
 * pointer field at offset @field of the table) defines at offset @at of
 * @code (@size bytes, NULL when there are none, named @code_name, whose
 * bytes[0] is at offset @base of what that name names): modules
 * and linked images decide it here alike.  0 in *@len for an empty
 * alternative (no window), or -EINVAL with @diag naming the table.
 */
static int site_len(const struct table_spec *sp, const uint8_t *entry, uint64_t field,
		    const uint8_t *code, uint64_t size, const char *code_name, uint64_t base,
		    uint64_t at, unsigned *len, struct pvsub_diag *diag)
{
	/*
	 * An alternative may have an empty replacement (the kernel then fills
	 * the site with NOPs) or, in principle, an empty original: a length
	 * byte of 0 defines no window, and its pointer may sit at the very end
	 * of its section or where the next entry's bytes start.
	 */
	if (sp->rule == LEN_BYTE && entry[sp->len] == 0) {
		if (at > size)
			return pvsub_diag_set(diag, EINVAL, "%s+%#llx: points past the end of %s",
					      sp->name, (unsigned long long)field, code_name);
		*len = 0;
		return 0;
	}
	if (at >= size || !code)
		return pvsub_diag_set(diag, EINVAL, "%s+%#llx: points past the end of %s", sp->name,
				      (unsigned long long)field, code_name);
	unsigned l = window_len(sp, entry, code + at, (size_t)(size - at));
	if (l == 0 || l > size - at)
		return pvsub_diag_set(diag, EINVAL,
				      "%s+%#llx: no patch site of a known size at %s+%#llx",
				      sp->name, (unsigned long long)field, code_name,
				      (unsigned long long)(base + at));
	*len = l;
	return 0;
}

/* A jump label's jmp target, from the PC32 relocation of its entry's
 * second field (target = S + A, as for the code field). */
struct jl_target {
	bool ok;
	size_t section;
	uint64_t offset;
};

static void jump_target(const struct pvsub_relobj *o, const Elf64_Rela *ra, struct jl_target *t)
{
	size_t symi = ELF64_R_SYM(ra->r_info);
	Elf64_Sym sym;

	if (ELF64_R_TYPE(ra->r_info) != R_X86_64_PC32 || symi == 0 ||
	    symi >= pvsub_relobj_sym_count(o))
		return;
	pvsub_relobj_sym_get(o, symi, &sym);
	if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= o->n_sec ||
	    !(o->sec[sym.st_shndx].sh.sh_flags & SHF_EXECINSTR))
		return;
	t->section = sym.st_shndx;
	t->offset = sym.st_value + (uint64_t)ra->r_addend;
	t->ok = t->offset < o->sec[sym.st_shndx].size;
}

/* One entry's window into @l: 1 when the entry is well formed (an empty
 * window is not added), or a negative errno with @diag set. */
static int one_entry(const struct pvsub_relobj *o, const struct table_spec *sp, size_t tab,
		     const Elf64_Rela *ra, const struct jl_target *jt, struct wlist *l,
		     struct pvsub_diag *diag)
{
	const struct pvsub_relobj_section *t = &o->sec[tab];
	uint64_t entry = ra->r_offset - sp->ptr_off;
	uint32_t want = sp->abs64 ? R_X86_64_64 : R_X86_64_PC32;
	size_t symi = ELF64_R_SYM(ra->r_info);
	Elf64_Sym sym;

	if (ELF64_R_TYPE(ra->r_info) != want || symi == 0 || symi >= pvsub_relobj_sym_count(o))
		return pvsub_diag_set(diag, EINVAL, "%s+%#llx: unexpected relocation", sp->name,
				      (unsigned long long)ra->r_offset);
	pvsub_relobj_sym_get(o, symi, &sym);
	if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= o->n_sec ||
	    !(o->sec[sym.st_shndx].sh.sh_flags & SHF_EXECINSTR))
		return pvsub_diag_set(diag, EINVAL, "%s+%#llx: does not point into code", sp->name,
				      (unsigned long long)ra->r_offset);
	const struct pvsub_relobj_section *code = &o->sec[sym.st_shndx];
	uint64_t at = sym.st_value + (uint64_t)ra->r_addend;
	unsigned len;
	int r = site_len(sp, t->bytes + entry, ra->r_offset, code->bytes, code->size, code->name, 0,
			 at, &len, diag);
	if (r < 0)
		return r;
	if (len == 0)
		return 1;
	struct pvsub_mwindow w = {
		.section = sym.st_shndx,
		.offset = at,
		.len = len,
		.kind = sp->kind,
		.table = tab,
		.table_off = entry,
	};
	if (jt && jt[entry / sp->entsize].ok) {
		w.has_target = true;
		w.target_section = jt[entry / sp->entsize].section;
		w.target_offset = jt[entry / sp->entsize].offset;
	}
	return wlist_push(l, &w) < 0 ? pvsub_diag_set(diag, ENOMEM, "out of memory") : 1;
}

static int one_table(const struct pvsub_relobj *o, const struct table_spec *sp, struct wlist *l,
		     struct pvsub_diag *diag)
{
	size_t tab = pvsub_relobj_find(o, sp->name);
	if (!tab || o->sec[tab].sh.sh_type == SHT_NOBITS || o->sec[tab].size == 0)
		return 0;
	if (o->sec[tab].size % sp->entsize)
		return pvsub_diag_set(diag, EINVAL, "%s: size %zu is not a multiple of %u",
				      sp->name, o->sec[tab].size, sp->entsize);
	size_t rs = pvsub_relobj_rela_for(o, tab);
	size_t entries = o->sec[tab].size / sp->entsize, found = 0;
	size_t nr = rs ? pvsub_relobj_rela_count(o, rs) : 0;
	struct jl_target *jt = NULL;
	if (sp->kind == PVSUB_WINDOW_JUMP_LABEL) {
		jt = calloc(entries, sizeof(*jt));
		if (!jt)
			return pvsub_diag_set(diag, ENOMEM, "out of memory");
		for (size_t k = 0; k < nr; k++) {
			Elf64_Rela ra;
			pvsub_relobj_rela_get(o, rs, k, &ra);
			if (ra.r_offset % sp->entsize == 4 && ra.r_offset < o->sec[tab].size)
				jump_target(o, &ra, &jt[ra.r_offset / sp->entsize]);
		}
	}
	for (size_t k = 0; k < nr; k++) {
		Elf64_Rela ra;
		pvsub_relobj_rela_get(o, rs, k, &ra);
		if (ra.r_offset % sp->entsize != sp->ptr_off || ra.r_offset >= o->sec[tab].size)
			continue;
		int r = one_entry(o, sp, tab, &ra, jt, l, diag);
		if (r < 0) {
			free(jt);
			return r;
		}
		found++;
	}
	free(jt);
	if (found != entries)
		return pvsub_diag_set(diag, EINVAL,
				      "%s: %zu entries but %zu relocations of their pointer field",
				      sp->name, entries, found);
	return 0;
}

static int cmp_window(const void *a, const void *b)
{
	const struct pvsub_mwindow *x = a, *y = b;
	if (x->section != y->section)
		return x->section < y->section ? -1 : 1;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return (x->len > y->len) - (x->len < y->len);
}

int pvsub_kmeta_windows(const struct pvsub_relobj *o, struct pvsub_mwindow **out, size_t *n,
			struct pvsub_diag *diag)
{
	struct wlist l = {0};
	for (size_t i = 0; i < N_SPECS; i++) {
		int r = one_table(o, &specs[i], &l, diag);
		if (r < 0) {
			free(l.w);
			return r;
		}
	}
	if (l.n)
		qsort(l.w, l.n, sizeof(*l.w), cmp_window);
	*out = l.w;
	*n = l.n;
	return 0;
}

/* --- linked images (vmlinux) ------------------------------------------------------ */

/* The code range that holds @at, else one that ends exactly there (where an
 * empty alternative may point), else NULL. */
static const struct pvsub_kmeta_code *code_at(const struct pvsub_kmeta_code *code, size_t n,
					      uint64_t at)
{
	const struct pvsub_kmeta_code *end = NULL;

	for (size_t i = 0; i < n; i++) {
		if (at < code[i].vaddr)
			continue;
		if (at - code[i].vaddr < code[i].size)
			return &code[i];
		if (!end && at - code[i].vaddr == code[i].size)
			end = &code[i];
	}
	return end;
}

/* The window of the entry at offset @entry of table @t into @l, if it
 * defines one: 0, or a negative errno with @diag set. */
static int linked_entry(const struct pvsub_kmeta_table *t, const struct table_spec *sp,
			size_t entry, const struct pvsub_kmeta_code *code, size_t n_code,
			struct wlist *l, struct pvsub_diag *diag)
{
	const uint8_t *e = t->bytes + entry;
	uint64_t field = entry + sp->ptr_off, raw, at;

	/* Resolved by the linker: an absolute address, or an offset from
	 * the field's own address. */
	if (sp->abs64) {
		raw = pvsub_le64(e + sp->ptr_off);
		at = raw;
	} else {
		int32_t rel = (int32_t)pvsub_le32(e + sp->ptr_off);
		raw = (uint64_t)(int64_t)rel;
		at = t->vaddr + field + raw;
	}
	if (raw == 0 && sp->zero_skipped)
		return 0;
	const struct pvsub_kmeta_code *c = code_at(code, n_code, at);
	if (!c)
		return pvsub_diag_set(
			diag, EINVAL,
			"%s+%#llx: %#llx is not in an executable segment's file bytes", sp->name,
			(unsigned long long)field, (unsigned long long)at);
	unsigned len;
	int r = site_len(sp, e, field, c->bytes, c->size, c->name, c->offset, at - c->vaddr, &len,
			 diag);
	if (r < 0 || len == 0)
		return r;
	struct pvsub_mwindow w = {
		.section = c->section,
		.offset = c->offset + (at - c->vaddr),
		.len = len,
		.kind = sp->kind,
		.table = t->index,
		.table_off = t->section_offset + entry,
	};
	if (sp->kind == PVSUB_WINDOW_JUMP_LABEL) {
		/* struct jump_entry's second field: s32 target - &field. */
		uint64_t tf = t->vaddr + entry + 4;
		uint64_t target = tf + (uint64_t)(int64_t)(int32_t)pvsub_le32(e + 4);
		const struct pvsub_kmeta_code *tc = code_at(code, n_code, target);

		if (tc && target - tc->vaddr < tc->size) {
			w.has_target = true;
			w.target_section = tc->section;
			w.target_offset = tc->offset + (target - tc->vaddr);
		}
	}
	return wlist_push(l, &w) < 0 ? pvsub_diag_set(diag, ENOMEM, "out of memory") : 0;
}

/* Every window of table @t into @l; on -EINVAL, @l is as it was. */
static int linked_table(const struct pvsub_kmeta_table *t, const struct pvsub_kmeta_code *code,
			size_t n_code, struct wlist *l, struct pvsub_diag *diag)
{
	size_t before = l->n, found = 0;

	for (size_t i = 0; i < N_SPECS; i++) {
		const struct table_spec *sp = &specs[i];

		if (strcmp(t->name, sp->name) != 0)
			continue;
		found++;
		if (t->size % sp->entsize) {
			l->n = before;
			return pvsub_diag_set(diag, EINVAL, "%s: size %zu is not a multiple of %u",
					      sp->name, t->size, sp->entsize);
		}
		for (size_t e = 0; e < t->size; e += sp->entsize) {
			int r = linked_entry(t, sp, e, code, n_code, l, diag);
			if (r < 0) {
				l->n = before;
				return r;
			}
		}
	}
	if (!found)
		return pvsub_diag_set(diag, EINVAL, "%s: not a table that defines windows",
				      t->name);
	return 0;
}

int pvsub_kmeta_linked_windows(const struct pvsub_kmeta_table *tabs, size_t n_tabs,
			       const struct pvsub_kmeta_code *code, size_t n_code,
			       struct pvsub_mwindow **out, size_t *n, struct pvsub_diag *why)
{
	struct wlist l = {0};

	for (size_t i = 0; i < n_tabs; i++) {
		pvsub_diag_clear(&why[i]);
		int r = linked_table(&tabs[i], code, n_code, &l, &why[i]);
		if (r == -ENOMEM) {
			free(l.w);
			return r;
		}
	}
	if (l.n)
		qsort(l.w, l.n, sizeof(*l.w), cmp_window);
	*out = l.w;
	*n = l.n;
	return 0;
}
