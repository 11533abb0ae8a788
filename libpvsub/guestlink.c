/* SPDX-License-Identifier: MIT */
/*
 * The plan does every check that does not depend on the base (sections,
 * symbols, relocation types, places), so that applying it is only
 * arithmetic and the overflow check of each value: a refusal names its
 * cause as early as it can be known.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/guestlink.h"
#include "libpvsub/reloc.h"

#ifndef SHT_LLVM_ADDRSIG
#define SHT_LLVM_ADDRSIG 0x6fff4c03u
#endif
#ifndef SHT_X86_64_UNWIND
#define SHT_X86_64_UNWIND 0x70000001u
#endif

#define GL_NO_SLOT UINT32_MAX

enum gl_region { GL_UNPLACED, GL_CODE, GL_RODATA, GL_DATA, GL_BSS };

enum gl_kind {
	GL_NONE,  /* symbol 0, a file symbol: nothing a relocation may use */
	GL_IMAGE, /* @value bytes into section @sec of object @obj */
	GL_ABS,	  /* the absolute address @value (an API symbol, SHN_ABS) */
	GL_GOT,	  /* _GLOBAL_OFFSET_TABLE_: the start of the linker's GOT */
};

/* The one name the linker defines: the assembler makes every object that
 * uses a GOT relocation import it, whether or not anything refers to it. */
#define GL_GOT_SYMBOL "_GLOBAL_OFFSET_TABLE_"

/* What a symbol resolved to, and the key of its GOT entry (API symbols
 * first, then every object's symbols in turn: a reference to another
 * object's definition shares that definition's key). */
struct gl_sym {
	uint8_t kind;
	uint32_t obj;
	uint32_t sec;
	uint64_t value;
	size_t key;
};

struct gl_obj {
	enum gl_region *region; /* per section */
	uint64_t *off;		/* per section: offset in the image */
	struct gl_sym *sym;	/* per symbol */
	/* per symbol: for a global definition, the index in defs of the one
	 * kept for its name (set by merge_defs), so that resolving it needs
	 * no search by name */
	uint32_t *def;
	size_t key_base; /* the GOT key of symbol 0 */
};

/* A global definition: name, where, and whether it is weak. */
struct gl_def {
	const char *name;
	uint32_t obj;
	uint32_t sym;
	bool weak;
};

struct gl_api_ref {
	const char *name;
	size_t idx;
};

struct pvsub_guestlink {
	const struct pvsub_relobj *const *objs;
	const char *const *names;
	size_t n;
	const struct pvsub_guestlink_api *api;
	size_t n_api;
	struct gl_api_ref *api_order; /* @api sorted by name */
	struct gl_obj *o;
	struct gl_def *defs; /* sorted by name, one per name */
	size_t n_defs;
	uint32_t *slot_of_key; /* GOT slot per key, GL_NO_SLOT if none */
	size_t n_keys;
	struct gl_sym *got;  /* per slot: whose address it holds */
	struct gl_sym entry; /* pvsub_guest_main */
	size_t n_got;
	struct pvsub_guestlink_layout lay;
};

/* --- diagnostics ------------------------------------------------------------ */

static const char *obj_name(const struct pvsub_guestlink *gl, size_t oi, char *buf, size_t len)
{
	if (gl->names && gl->names[oi])
		return gl->names[oi];
	snprintf(buf, len, "object %zu", oi);
	return buf;
}

/* -EINVAL, and "OBJECT: reason" in @diag. */
_printf_format_(4, 5) static int refuse(const struct pvsub_guestlink *gl, size_t oi,
					struct pvsub_diag *diag, const char *fmt, ...)
{
	char body[PVSUB_DIAG_MAX], nb[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	return pvsub_diag_set(diag, EINVAL, "%s: %s", obj_name(gl, oi, nb, sizeof(nb)), body);
}

/* A symbol name from the file, quoted for a message. */
struct gl_quoted {
	char s[160];
};

static struct gl_quoted quote(const char *name)
{
	struct gl_quoted q;
	pvsub_quote(name, strlen(name), q.s, sizeof(q.s));
	return q;
}

/* --- sections ------------------------------------------------------------------ */

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static bool is_ctor_section(const Elf64_Shdr *sh, const char *name)
{
	static const char *const names[] = {".init_array", ".fini_array", ".preinit_array",
					    ".ctors", ".dtors"};

	if (sh->sh_type == SHT_INIT_ARRAY || sh->sh_type == SHT_FINI_ARRAY ||
	    sh->sh_type == SHT_PREINIT_ARRAY)
		return true;
	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0 ||
		    (has_prefix(name, names[i]) && name[strlen(names[i])] == '.'))
			return true;
	return false;
}

/* A section that is not loaded: metadata, debugging information. */
static int classify_unallocated(const struct pvsub_guestlink *gl, size_t oi,
				const struct pvsub_relobj_section *s, struct pvsub_diag *diag)
{
	switch (s->sh.sh_type) {
	case SHT_NULL:
	case SHT_PROGBITS:
	case SHT_NOBITS:
	case SHT_NOTE:
	case SHT_SYMTAB:
	case SHT_STRTAB:
	case SHT_RELA:
	case SHT_LLVM_ADDRSIG:
	case SHT_X86_64_UNWIND:
		break;
	default:
		return refuse(gl, oi, diag, "section %s: type %#x is not understood", s->name,
			      s->sh.sh_type);
	}
	/* The one unallocated section whose flags mean something at run time. */
	if (strcmp(s->name, ".note.GNU-stack") == 0 && (s->sh.sh_flags & SHF_EXECINSTR))
		return refuse(gl, oi, diag, "asks for an executable stack (.note.GNU-stack)");
	return 0;
}

/* Which region section @i of object @oi goes to, or a refusal. */
static int classify(const struct pvsub_guestlink *gl, size_t oi, size_t i, enum gl_region *out,
		    struct pvsub_diag *diag)
{
	static const uint64_t known = SHF_WRITE | SHF_ALLOC | SHF_EXECINSTR | SHF_MERGE |
				      SHF_STRINGS | SHF_INFO_LINK | SHF_LINK_ORDER;
	const struct pvsub_relobj_section *s = &gl->objs[oi]->sec[i];
	uint64_t f = s->sh.sh_flags;

	*out = GL_UNPLACED;
	if (is_ctor_section(&s->sh, s->name))
		return refuse(gl, oi, diag, "section %s: constructors and destructors are not run",
			      s->name);
	if (s->sh.sh_type == SHT_GROUP || (f & SHF_GROUP))
		return refuse(gl, oi, diag, "section %s: COMDAT groups are not supported", s->name);
	if (!(f & SHF_ALLOC))
		return classify_unallocated(gl, oi, s, diag);
	if (f & SHF_TLS)
		return refuse(gl, oi, diag, "section %s: thread-local storage is not supported",
			      s->name);
	if (f & ~known)
		return refuse(gl, oi, diag, "section %s: flags %#llx are not understood", s->name,
			      (unsigned long long)(f & ~known));
	switch (s->sh.sh_type) {
	case SHT_NOTE:
		return 0; /* for linkers; nothing runs or reads it */
	case SHT_PROGBITS:
	case SHT_X86_64_UNWIND:
		if ((f & SHF_EXECINSTR) && (f & SHF_WRITE))
			return refuse(gl, oi, diag, "section %s: writable code", s->name);
		*out = (f & SHF_EXECINSTR) ? GL_CODE : (f & SHF_WRITE) ? GL_DATA : GL_RODATA;
		return 0;
	case SHT_NOBITS:
		if (f & SHF_EXECINSTR)
			return refuse(gl, oi, diag, "section %s: code without contents", s->name);
		*out = GL_BSS;
		return 0;
	default:
		return refuse(gl, oi, diag,
			      "section %s: allocated section of type %#x is not understood",
			      s->name, s->sh.sh_type);
	}
}

/* --- layout -------------------------------------------------------------------------- */

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return a < 2 ? v : (v + a - 1) & ~(a - 1);
}

/* Place every section of @region after @at; the region is returned page
 * aligned, and @at moves past its page-rounded end.  Sizes are bounded by
 * PVSUB_GUESTLINK_MAX_SIZE before each addition, so nothing wraps. */
static int place_region(struct pvsub_guestlink *gl, enum gl_region region,
			struct pvsub_guestlink_region *r, uint64_t *at, struct pvsub_diag *diag)
{
	uint64_t pos = *at;

	r->offset = pos;
	for (size_t oi = 0; oi < gl->n; oi++) {
		const struct pvsub_relobj *o = gl->objs[oi];

		for (size_t i = 1; i < o->n_sec; i++) {
			if (gl->o[oi].region[i] != region)
				continue;
			if (o->sec[i].sh.sh_size > PVSUB_GUESTLINK_MAX_SIZE)
				return refuse(gl, oi, diag, "section %s: %llu bytes is too large",
					      o->sec[i].name,
					      (unsigned long long)o->sec[i].sh.sh_size);
			pos = align_up(pos, o->sec[i].sh.sh_addralign);
			gl->o[oi].off[i] = pos;
			pos += o->sec[i].sh.sh_size;
			if (pos > PVSUB_GUESTLINK_MAX_SIZE)
				return refuse(gl, oi, diag,
					      "the image would pass %llu bytes at section %s",
					      PVSUB_GUESTLINK_MAX_SIZE, o->sec[i].name);
		}
	}
	pos = align_up(pos, PVSUB_GUESTLINK_PAGE);
	r->size = pos - r->offset;
	*at = pos;
	return 0;
}

static void place_fixed(struct pvsub_guestlink_region *r, uint64_t size, uint64_t *at)
{
	r->offset = *at;
	r->size = align_up(size, PVSUB_GUESTLINK_PAGE);
	*at += r->size;
}

static int lay_out(struct pvsub_guestlink *gl, struct pvsub_diag *diag)
{
	struct pvsub_guestlink_layout *l = &gl->lay;
	uint64_t at = 0;
	int r;

	place_fixed(&l->guard_lo, PVSUB_GUESTLINK_PAGE, &at);
	r = place_region(gl, GL_CODE, &l->code, &at, diag);
	if (r < 0)
		return r;
	place_fixed(&l->guard_hi, PVSUB_GUESTLINK_PAGE, &at);
	r = place_region(gl, GL_RODATA, &l->rodata, &at, diag);
	if (r < 0)
		return r;
	/* n_got is at most the relocation count, which fits in memory. */
	place_fixed(&l->got, (uint64_t)gl->n_got * 8, &at);
	r = place_region(gl, GL_DATA, &l->data, &at, diag);
	if (r == 0)
		r = place_region(gl, GL_BSS, &l->bss, &at, diag);
	if (r == 0 && at > PVSUB_GUESTLINK_MAX_SIZE)
		r = pvsub_diag_set(diag, EINVAL, "the image would pass %llu bytes",
				   PVSUB_GUESTLINK_MAX_SIZE);
	l->size = at;
	return r;
}

/* --- symbols ----------------------------------------------------------------------------- */

static const char *sym_name(const struct pvsub_guestlink *gl, size_t oi, const Elf64_Sym *sym)
{
	return pvsub_relobj_symbol_name(gl->objs[oi], sym);
}

/* A defined or local symbol of object @oi: where it is. */
static int resolve_own(struct pvsub_guestlink *gl, size_t oi, const Elf64_Sym *sym,
		       struct gl_sym *out, struct pvsub_diag *diag)
{
	const struct pvsub_relobj *o = gl->objs[oi];
	unsigned type = ELF64_ST_TYPE(sym->st_info);

	if (type == STT_FILE)
		return 0;
	if (sym->st_shndx == SHN_UNDEF)
		return refuse(gl, oi, diag, "local symbol '%s' is undefined",
			      quote(sym_name(gl, oi, sym)).s);
	if (sym->st_shndx == SHN_COMMON)
		return refuse(gl, oi, diag, "common symbol '%s' (build with -fno-common)",
			      quote(sym_name(gl, oi, sym)).s);
	if (sym->st_shndx == SHN_ABS) {
		out->kind = GL_ABS;
		out->value = sym->st_value;
		return 0;
	}
	if (sym->st_shndx >= o->n_sec)
		return refuse(gl, oi, diag, "symbol '%s': special section index %#x",
			      quote(sym_name(gl, oi, sym)).s, sym->st_shndx);
	if (sym->st_value > o->sec[sym->st_shndx].sh.sh_size)
		return refuse(gl, oi, diag, "symbol '%s' lies outside its section %s",
			      quote(sym_name(gl, oi, sym)).s, o->sec[sym->st_shndx].name);
	out->kind = GL_IMAGE;
	out->obj = (uint32_t)oi;
	out->sec = sym->st_shndx;
	out->value = sym->st_value;
	return 0;
}

/* Every symbol's own resolution, and the global definitions collected. */
static int scan_symbols(struct pvsub_guestlink *gl, size_t oi, size_t *n_defs,
			struct pvsub_diag *diag)
{
	const struct pvsub_relobj *o = gl->objs[oi];
	size_t nsym = pvsub_relobj_sym_count(o);

	for (size_t k = 1; k < nsym; k++) {
		struct gl_sym *gs = &gl->o[oi].sym[k];
		Elf64_Sym sym;
		unsigned bind, type;
		int r;

		pvsub_relobj_sym_get(o, k, &sym);
		bind = ELF64_ST_BIND(sym.st_info);
		type = ELF64_ST_TYPE(sym.st_info);
		gs->key = gl->o[oi].key_base + k;
		if (type == STT_TLS)
			return refuse(gl, oi, diag,
				      "symbol '%s': thread-local storage is not supported",
				      quote(sym_name(gl, oi, &sym)).s);
		if (type == STT_GNU_IFUNC)
			return refuse(gl, oi, diag, "symbol '%s': IFUNC symbols are not supported",
				      quote(sym_name(gl, oi, &sym)).s);
		if (bind != STB_LOCAL && bind != STB_GLOBAL && bind != STB_WEAK)
			return refuse(gl, oi, diag, "symbol '%s': binding %u is not understood",
				      quote(sym_name(gl, oi, &sym)).s, bind);
		if (bind != STB_LOCAL && sym.st_shndx == SHN_UNDEF) {
			if (bind == STB_WEAK)
				return refuse(gl, oi, diag,
					      "weak undefined symbol '%s' is not supported",
					      quote(sym_name(gl, oi, &sym)).s);
			continue; /* resolved once every definition is known */
		}
		r = resolve_own(gl, oi, &sym, gs, diag);
		if (r < 0)
			return r;
		if (bind == STB_LOCAL)
			continue;
		gl->defs[*n_defs] = (struct gl_def){sym_name(gl, oi, &sym), (uint32_t)oi,
						    (uint32_t)k, bind == STB_WEAK};
		++*n_defs;
	}
	return 0;
}

static int cmp_def(const void *a, const void *b)
{
	const struct gl_def *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->obj != y->obj)
		return x->obj < y->obj ? -1 : 1;
	return x->sym < y->sym ? -1 : x->sym > y->sym;
}

/* Sort the definitions and keep one per name: a strong one over weak
 * ones, the first weak one among weak ones; two strong ones refuse. */
static int merge_defs(struct pvsub_guestlink *gl, size_t n, struct pvsub_diag *diag)
{
	size_t w = 0;
	char nb[32];

	qsort(gl->defs, n, sizeof(*gl->defs), cmp_def);
	for (size_t i = 0; i < n; i++) {
		struct gl_def *d = &gl->defs[i], *kept = w ? &gl->defs[w - 1] : NULL;

		if (!kept || strcmp(kept->name, d->name) != 0) {
			gl->o[d->obj].def[d->sym] = (uint32_t)w;
			gl->defs[w++] = *d;
			continue;
		}
		gl->o[d->obj].def[d->sym] = (uint32_t)(w - 1);
		if (!kept->weak && !d->weak)
			return refuse(gl, d->obj, diag, "symbol '%s' is also defined in %s",
				      quote(d->name).s, obj_name(gl, kept->obj, nb, sizeof(nb)));
		if (kept->weak && !d->weak)
			*kept = *d;
	}
	gl->n_defs = w;
	return 0;
}

static const struct gl_def *find_def(const struct pvsub_guestlink *gl, const char *name)
{
	size_t lo = 0, hi = gl->n_defs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, gl->defs[mid].name);

		if (c == 0)
			return &gl->defs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int cmp_api(const void *a, const void *b)
{
	const struct gl_api_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* The index in the API table of @name, -1 if it is not there. */
static ptrdiff_t find_api(const struct pvsub_guestlink *gl, const char *name)
{
	size_t lo = 0, hi = gl->n_api;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, gl->api_order[mid].name);

		if (c == 0)
			return (ptrdiff_t)gl->api_order[mid].idx;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* The API table sorted by name; its names must be unique. */
static int sort_api(struct pvsub_guestlink *gl, struct pvsub_diag *diag)
{
	for (size_t i = 0; i < gl->n_api; i++) {
		if (!gl->api[i].name)
			return pvsub_diag_set(diag, EINVAL, "API table: entry %zu has no name", i);
		gl->api_order[i] = (struct gl_api_ref){gl->api[i].name, i};
	}
	qsort(gl->api_order, gl->n_api, sizeof(*gl->api_order), cmp_api);
	for (size_t i = 1; i < gl->n_api; i++)
		if (strcmp(gl->api_order[i - 1].name, gl->api_order[i].name) == 0)
			return pvsub_diag_set(diag, EINVAL,
					      "API table: symbol '%s' is listed twice",
					      quote(gl->api_order[i].name).s);
	return 0;
}

/* Every global symbol of object @oi: the definition kept for its name
 * (its own, or a strong one over its weak one), else the API table, else a
 * refusal. */
static int resolve_globals(struct pvsub_guestlink *gl, size_t oi, struct pvsub_diag *diag)
{
	const struct pvsub_relobj *o = gl->objs[oi];
	size_t nsym = pvsub_relobj_sym_count(o);

	for (size_t k = 1; k < nsym; k++) {
		Elf64_Sym sym;
		const struct gl_def *d;
		const char *name;
		ptrdiff_t a;

		pvsub_relobj_sym_get(o, k, &sym);
		if (ELF64_ST_BIND(sym.st_info) == STB_LOCAL)
			continue;
		if (sym.st_shndx != SHN_UNDEF) {
			/* a definition: merge_defs kept one for its name */
			d = &gl->defs[gl->o[oi].def[k]];
			gl->o[oi].sym[k] = gl->o[d->obj].sym[d->sym];
			continue;
		}
		name = sym_name(gl, oi, &sym);
		d = find_def(gl, name);
		if (d) {
			gl->o[oi].sym[k] = gl->o[d->obj].sym[d->sym];
			continue;
		}
		if (strcmp(name, GL_GOT_SYMBOL) == 0) {
			gl->o[oi].sym[k].kind = GL_GOT;
			continue;
		}
		a = find_api(gl, name);
		if (a < 0)
			return refuse(gl, oi, diag, "unknown symbol '%s' (not in the guest API)",
				      quote(name).s);
		gl->o[oi].sym[k] = (struct gl_sym){GL_ABS, 0, 0, gl->api[a].addr, (size_t)a};
	}
	return 0;
}

/* A guest may not define a name the API has: which one a reference means
 * would depend on the linker's order.  Each such name is looked up among
 * the definitions (a few names, not one search per definition); the first
 * offender in name order is the one refused. */
static int check_api_shadowing(const struct pvsub_guestlink *gl, struct pvsub_diag *diag)
{
	const struct gl_def *first = find_def(gl, GL_GOT_SYMBOL);

	for (size_t i = 0; i < gl->n_api; i++) {
		const struct gl_def *d = find_def(gl, gl->api[i].name);

		if (d && (!first || d < first))
			first = d;
	}
	if (first)
		return refuse(gl, first->obj, diag,
			      "defines '%s', a name the linker or the guest API defines",
			      quote(first->name).s);
	return 0;
}

/* pvsub_guest_main: defined once, global, in code. */
static int find_entry(struct pvsub_guestlink *gl, struct pvsub_diag *diag)
{
	const struct gl_def *d = find_def(gl, PVSUB_GUESTLINK_ENTRY);
	const struct gl_sym *s;
	size_t count = 0;

	for (size_t oi = 0; oi < gl->n; oi++) {
		size_t nsym = pvsub_relobj_sym_count(gl->objs[oi]);

		for (size_t k = 1; k < nsym; k++) {
			Elf64_Sym sym;

			pvsub_relobj_sym_get(gl->objs[oi], k, &sym);
			if (ELF64_ST_BIND(sym.st_info) != STB_LOCAL && sym.st_shndx != SHN_UNDEF &&
			    strcmp(sym_name(gl, oi, &sym), PVSUB_GUESTLINK_ENTRY) == 0)
				count++;
		}
	}
	if (!d || count == 0)
		return pvsub_diag_set(diag, EINVAL,
				      "no object defines the entry point " PVSUB_GUESTLINK_ENTRY);
	if (count > 1)
		return refuse(gl, d->obj, diag,
			      "the entry point " PVSUB_GUESTLINK_ENTRY " is defined %zu times",
			      count);
	s = &gl->o[d->obj].sym[d->sym];
	if (s->kind != GL_IMAGE || gl->o[s->obj].region[s->sec] != GL_CODE)
		return refuse(gl, d->obj, diag,
			      "the entry point " PVSUB_GUESTLINK_ENTRY " is not in a code section");
	/* A symbol may end its section; an entry point is a byte of code. */
	if (s->value >= gl->objs[s->obj]->sec[s->sec].sh.sh_size)
		return refuse(gl, d->obj, diag,
			      "the entry point " PVSUB_GUESTLINK_ENTRY
			      " lies at the end of its section");
	gl->entry = *s;
	return 0;
}

/* --- relocations ------------------------------------------------------------------------------ */

static bool is_got_type(uint32_t type)
{
	return type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX ||
	       type == R_X86_64_REX_GOTPCRELX;
}

/* The bytes a supported type writes, and whether it is PC-relative. */
static unsigned field_size(uint32_t type)
{
	const struct pvsub_reloc_type *t = pvsub_reloc_lookup(type);
	return t ? t->size : 0;
}

static bool is_pc_relative(uint32_t type)
{
	const struct pvsub_reloc_type *t = pvsub_reloc_lookup(type);
	return t && t->pc_relative;
}

static bool is_supported(uint32_t type)
{
	switch (type) {
	case R_X86_64_NONE:
	case R_X86_64_64:
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
	case R_X86_64_32:
	case R_X86_64_32S:
	case R_X86_64_PC64:
		return true;
	default:
		return is_got_type(type);
	}
}

/* The relocation sections that are applied: those whose target is placed
 * (relocations of debugging sections are not). */
static size_t rela_target(const struct pvsub_guestlink *gl, size_t oi, size_t i)
{
	const struct pvsub_relobj *o = gl->objs[oi];

	if (o->sec[i].sh.sh_type != SHT_RELA ||
	    gl->o[oi].region[o->sec[i].sh.sh_info] == GL_UNPLACED)
		return 0;
	return o->sec[i].sh.sh_info;
}

/* One relocation, before any base is known: its type, its place, its
 * symbol; a GOT slot for its symbol when it goes through the GOT. */
static int check_rela(struct pvsub_guestlink *gl, size_t oi, size_t t, size_t k,
		      const Elf64_Rela *ra, struct pvsub_diag *diag)
{
	const struct pvsub_relobj *o = gl->objs[oi];
	const struct pvsub_relobj_section *ts = &o->sec[t];
	uint32_t type = (uint32_t)ELF64_R_TYPE(ra->r_info);
	size_t symi = ELF64_R_SYM(ra->r_info), size;
	const struct gl_sym *s;

	if (!is_supported(type))
		return refuse(gl, oi, diag,
			      "section %s: relocation %zu: type %u (R_X86_64_%s) is not supported",
			      ts->name, k, type, pvsub_reloc_name(type));
	if (type == R_X86_64_NONE)
		return 0;
	size = field_size(type);
	if (ra->r_offset > ts->sh.sh_size || size > ts->sh.sh_size - ra->r_offset)
		return refuse(
			gl, oi, diag,
			"section %s: relocation %zu writes outside the section (offset %#llx)",
			ts->name, k, (unsigned long long)ra->r_offset);
	if (symi == STN_UNDEF)
		return refuse(gl, oi, diag, "section %s: relocation %zu has no symbol", ts->name,
			      k);
	s = &gl->o[oi].sym[symi];
	if (s->kind == GL_NONE)
		return refuse(
			gl, oi, diag,
			"section %s: relocation %zu refers to symbol %zu, which has no address",
			ts->name, k, symi);
	if (s->kind == GL_IMAGE && gl->o[s->obj].region[s->sec] == GL_UNPLACED)
		return refuse(
			gl, oi, diag,
			"section %s: relocation %zu refers to section %s, which is not loaded",
			ts->name, k, gl->objs[s->obj]->sec[s->sec].name);
	if (is_got_type(type) && gl->slot_of_key[s->key] == GL_NO_SLOT) {
		gl->slot_of_key[s->key] = (uint32_t)gl->n_got;
		gl->got[gl->n_got++] = *s;
	}
	return 0;
}

static int check_relocations(struct pvsub_guestlink *gl, size_t oi, struct pvsub_diag *diag)
{
	const struct pvsub_relobj *o = gl->objs[oi];

	for (size_t i = 1; i < o->n_sec; i++) {
		size_t t = rela_target(gl, oi, i), n;

		if (!t)
			continue;
		if (gl->o[oi].region[t] == GL_BSS)
			return refuse(gl, oi, diag,
				      "section %s: relocations in %s, which has no contents",
				      o->sec[i].name, o->sec[t].name);
		n = pvsub_relobj_rela_count(o, i);
		for (size_t k = 0; k < n; k++) {
			Elf64_Rela ra;
			int r;

			pvsub_relobj_rela_get(o, i, k, &ra);
			r = check_rela(gl, oi, t, k, &ra, diag);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* --- the plan ------------------------------------------------------------------------------------
 */

void pvsub_guestlink_free(struct pvsub_guestlink *gl)
{
	if (!gl)
		return;
	for (size_t i = 0; gl->o && i < gl->n; i++) {
		free(gl->o[i].region);
		free(gl->o[i].off);
		free(gl->o[i].sym);
		free(gl->o[i].def);
	}
	free(gl->o);
	free(gl->api_order);
	free(gl->defs);
	free(gl->slot_of_key);
	free(gl->got);
	free(gl);
}

/* Room for everything the plan keeps, and every object's sections
 * classified; *@n_sym and *@n_rela count symbols and relocations. */
static int prepare(struct pvsub_guestlink *gl, size_t *n_sym, size_t *n_rela,
		   struct pvsub_diag *diag)
{
	*n_sym = 0;
	*n_rela = 0;
	gl->o = calloc(gl->n, sizeof(*gl->o));
	gl->api_order = calloc(gl->n_api ? gl->n_api : 1, sizeof(*gl->api_order));
	if (!gl->o || !gl->api_order)
		return -ENOMEM;
	for (size_t oi = 0; oi < gl->n; oi++) {
		const struct pvsub_relobj *o = gl->objs[oi];
		struct gl_obj *g = &gl->o[oi];
		size_t nsym;

		if (!o)
			return pvsub_diag_set(diag, EINVAL, "object %zu is missing", oi);
		nsym = pvsub_relobj_sym_count(o);
		g->region = calloc(o->n_sec, sizeof(*g->region));
		g->off = calloc(o->n_sec, sizeof(*g->off));
		g->sym = calloc(nsym ? nsym : 1, sizeof(*g->sym));
		g->def = calloc(nsym ? nsym : 1, sizeof(*g->def));
		if (!g->region || !g->off || !g->sym || !g->def)
			return -ENOMEM;
		g->key_base = gl->n_api + *n_sym;
		*n_sym += nsym;
		for (size_t i = 1; i < o->n_sec; i++) {
			int r = classify(gl, oi, i, &g->region[i], diag);

			if (r < 0)
				return r;
			if (o->sec[i].sh.sh_type == SHT_RELA)
				*n_rela += pvsub_relobj_rela_count(o, i);
		}
	}
	gl->n_keys = gl->n_api + *n_sym;
	gl->defs = calloc(*n_sym ? *n_sym : 1, sizeof(*gl->defs));
	gl->slot_of_key = malloc((gl->n_keys ? gl->n_keys : 1) * sizeof(*gl->slot_of_key));
	gl->got = calloc(*n_rela ? *n_rela : 1, sizeof(*gl->got));
	if (!gl->defs || !gl->slot_of_key || !gl->got)
		return -ENOMEM;
	for (size_t i = 0; i < gl->n_keys; i++)
		gl->slot_of_key[i] = GL_NO_SLOT;
	return 0;
}

static int plan(struct pvsub_guestlink *gl, struct pvsub_diag *diag)
{
	size_t n_sym, n_rela, n_defs = 0;
	int r = prepare(gl, &n_sym, &n_rela, diag);

	if (r == 0)
		r = sort_api(gl, diag);
	for (size_t oi = 0; r == 0 && oi < gl->n; oi++)
		r = scan_symbols(gl, oi, &n_defs, diag);
	if (r == 0)
		r = merge_defs(gl, n_defs, diag);
	if (r == 0)
		r = check_api_shadowing(gl, diag);
	for (size_t oi = 0; r == 0 && oi < gl->n; oi++)
		r = resolve_globals(gl, oi, diag);
	if (r == 0)
		r = find_entry(gl, diag);
	for (size_t oi = 0; r == 0 && oi < gl->n; oi++)
		r = check_relocations(gl, oi, diag);
	if (r == 0)
		r = lay_out(gl, diag);
	if (r == 0)
		gl->lay.entry = gl->o[gl->entry.obj].off[gl->entry.sec] + gl->entry.value;
	if (r == -ENOMEM)
		pvsub_diag_set(diag, ENOMEM, "out of memory");
	return r;
}

int pvsub_guestlink_plan(const struct pvsub_relobj *const *objs, const char *const *names, size_t n,
			 const struct pvsub_guestlink_api *api, size_t n_api,
			 struct pvsub_guestlink **out, struct pvsub_diag *diag)
{
	struct pvsub_guestlink *gl;
	int r;

	*out = NULL;
	if (n == 0 || !objs)
		return pvsub_diag_set(diag, EINVAL, "no guest object to link");
	if (n_api && !api)
		return pvsub_diag_set(diag, EINVAL, "API table: missing");
	if (n > UINT32_MAX)
		return pvsub_diag_set(diag, EINVAL, "too many guest objects");
	gl = calloc(1, sizeof(*gl));
	if (!gl)
		return pvsub_diag_set(diag, ENOMEM, "out of memory");
	gl->objs = objs;
	gl->names = names;
	gl->n = n;
	gl->api = api;
	gl->n_api = n_api;
	r = plan(gl, diag);
	if (r < 0) {
		pvsub_guestlink_free(gl);
		return r;
	}
	*out = gl;
	return 0;
}

void pvsub_guestlink_layout(const struct pvsub_guestlink *gl, struct pvsub_guestlink_layout *out)
{
	*out = gl->lay;
}

size_t pvsub_guestlink_got_count(const struct pvsub_guestlink *gl)
{
	return gl->n_got;
}

int pvsub_guestlink_locate(const struct pvsub_guestlink *gl, uint64_t offset,
			   struct pvsub_guestlink_place *out)
{
	for (size_t oi = 0; oi < gl->n; oi++) {
		const struct pvsub_relobj *o = gl->objs[oi];

		for (size_t i = 1; i < o->n_sec; i++) {
			uint64_t at = gl->o[oi].off[i];

			if (gl->o[oi].region[i] == GL_UNPLACED || offset < at ||
			    offset - at >= o->sec[i].sh.sh_size)
				continue;
			out->obj = oi;
			out->section = o->sec[i].name;
			out->offset = offset - at;
			return 0;
		}
	}
	return -ENOENT;
}

/* --- applying
 * ------------------------------------------------------------------------------------- */

static uint64_t sym_addr(const struct pvsub_guestlink *gl, const struct gl_sym *s, uint64_t base)
{
	if (s->kind == GL_ABS)
		return s->value;
	if (s->kind == GL_GOT)
		return base + gl->lay.got.offset;
	return base + gl->o[s->obj].off[s->sec] + s->value;
}

static void put_le(uint8_t *p, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The value relocation @ra writes at @place (an address), exactly (the
 * 128-bit sum cannot wrap: three 64-bit terms). */
static __int128 rela_value(const struct pvsub_guestlink *gl, size_t oi, const Elf64_Rela *ra,
			   uint64_t place, uint64_t base)
{
	uint32_t type = (uint32_t)ELF64_R_TYPE(ra->r_info);
	const struct gl_sym *s = &gl->o[oi].sym[ELF64_R_SYM(ra->r_info)];
	__int128 a = ra->r_addend;

	if (is_got_type(type)) {
		uint64_t entry = base + gl->lay.got.offset + 8ull * gl->slot_of_key[s->key];
		return (__int128)entry + a - (__int128)place;
	}
	if (is_pc_relative(type))
		return (__int128)sym_addr(gl, s, base) + a - (__int128)place;
	return (__int128)sym_addr(gl, s, base) + a;
}

/* Whether @v fits the field of @type; 64-bit fields take any value modulo
 * 2^64, as every linker writes them. */
static bool fits(uint32_t type, __int128 v)
{
	switch (type) {
	case R_X86_64_32:
		return v >= 0 && v <= UINT32_MAX;
	case R_X86_64_64:
	case R_X86_64_PC64:
		return true;
	default: /* PC32, PLT32, 32S and the GOT forms: sign-extended 32 bits */
		return v >= INT32_MIN && v <= INT32_MAX;
	}
}

static int apply_section(const struct pvsub_guestlink *gl, size_t oi, size_t i, uint64_t base,
			 uint8_t *image, struct pvsub_diag *diag)
{
	const struct pvsub_relobj *o = gl->objs[oi];
	size_t t = rela_target(gl, oi, i), n = pvsub_relobj_rela_count(o, i);
	uint64_t sec_off = gl->o[oi].off[t];

	for (size_t k = 0; k < n; k++) {
		Elf64_Rela ra;
		uint32_t type;
		uint64_t place;
		__int128 v;

		pvsub_relobj_rela_get(o, i, k, &ra);
		type = (uint32_t)ELF64_R_TYPE(ra.r_info);
		if (type == R_X86_64_NONE)
			continue;
		/* Type, place and symbol were checked by the plan. */
		place = base + sec_off + ra.r_offset;
		v = rela_value(gl, oi, &ra, place, base);
		if (!fits(type, v))
			return refuse(gl, oi, diag,
				      "section %s: relocation %zu (R_X86_64_%s) at offset %#llx: "
				      "value %#llx does not fit its field",
				      o->sec[t].name, k, pvsub_reloc_name(type),
				      (unsigned long long)ra.r_offset, (unsigned long long)v);
		put_le(image + sec_off + ra.r_offset, (uint64_t)v, field_size(type));
	}
	return 0;
}

/* Every byte of the image before relocation. */
static void write_bytes(const struct pvsub_guestlink *gl, uint64_t base, uint8_t *image)
{
	const struct pvsub_guestlink_layout *l = &gl->lay;
	uint64_t code_end = l->guard_hi.offset + l->guard_hi.size;

	memset(image, 0xcc, code_end);
	memset(image + code_end, 0, l->size - code_end);
	for (size_t oi = 0; oi < gl->n; oi++) {
		const struct pvsub_relobj *o = gl->objs[oi];

		for (size_t i = 1; i < o->n_sec; i++) {
			enum gl_region r = gl->o[oi].region[i];

			if (r != GL_UNPLACED && r != GL_BSS && o->sec[i].size)
				memcpy(image + gl->o[oi].off[i], o->sec[i].bytes, o->sec[i].size);
		}
	}
	for (size_t g = 0; g < gl->n_got; g++)
		put_le(image + l->got.offset + 8 * g, sym_addr(gl, &gl->got[g], base), 8);
}

int pvsub_guestlink_apply(const struct pvsub_guestlink *gl, uint64_t base, uint8_t *image,
			  size_t image_size, struct pvsub_diag *diag)
{
	if (base % PVSUB_GUESTLINK_PAGE)
		return pvsub_diag_set(diag, EINVAL, "base %#llx is not page aligned",
				      (unsigned long long)base);
	if (base > UINT64_MAX - gl->lay.size)
		return pvsub_diag_set(diag, EINVAL,
				      "base %#llx: the image would pass the end of "
				      "the address space",
				      (unsigned long long)base);
	if (image_size < gl->lay.size)
		return pvsub_diag_set(diag, EINVAL, "%zu bytes cannot hold the %llu-byte image",
				      image_size, (unsigned long long)gl->lay.size);
	write_bytes(gl, base, image);
	for (size_t oi = 0; oi < gl->n; oi++) {
		for (size_t i = 1; i < gl->objs[oi]->n_sec; i++) {
			int r;

			if (!rela_target(gl, oi, i))
				continue;
			r = apply_section(gl, oi, i, base, image, diag);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
