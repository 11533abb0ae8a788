/* SPDX-License-Identifier: MIT */
/*
 * relobj, the object reader: every class of malformed input is -EINVAL
 * with a one-line reason naming it (for both a loaded object and a view),
 * with a negative control where the rule has a legitimate neighbour; the
 * accessors on a valid object; the read-only view.  The objects are
 * assembled at test time and then broken byte by byte.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/relobj.h"
#include "tests/unit/elfgen.h"

/* A view's contents are read-only in the type, not only by convention. */
_Static_assert(_Generic(&((struct pvsub_relobj_section *)NULL)->bytes, const uint8_t **: 1,
			default: 0),
	       "a section's bytes must be const");

static uint8_t *data;
static size_t size;

static const char valid_src[] = "\t.text\n"
				"\t.globl f\n"
				"\t.type f, @function\n"
				"f:\tcall g\n"
				"\tmovq d(%rip), %rax\n"
				"\tret\n"
				"\t.size f, .-f\n"
				"\t.data\n"
				"\t.balign 8\n"
				"d:\t.quad f\n"
				"\t.bss\n"
				"\t.zero 16\n";

static void build(void)
{
	cr_assert_eq(elfgen_assemble(valid_src, NULL, &data, &size), 0, "assembling failed");
}

static void teardown(void)
{
	free(data);
	data = NULL;
}

TestSuite(relobj, .init = build, .fini = teardown);

/* --- raw access to the bytes under test -------------------------------------- */

static Elf64_Ehdr eh_get(void)
{
	Elf64_Ehdr eh;
	memcpy(&eh, data, sizeof(eh));
	return eh;
}

static void eh_put(const Elf64_Ehdr *eh)
{
	memcpy(data, eh, sizeof(*eh));
}

static Elf64_Shdr sh_get(size_t i)
{
	Elf64_Ehdr eh = eh_get();
	Elf64_Shdr sh;
	memcpy(&sh, data + eh.e_shoff + i * sizeof(sh), sizeof(sh));
	return sh;
}

static void sh_put(size_t i, const Elf64_Shdr *sh)
{
	Elf64_Ehdr eh = eh_get();
	memcpy(data + eh.e_shoff + i * sizeof(*sh), sh, sizeof(*sh));
}

/* Index of the section called @name in the raw bytes (asserted to exist). */
static size_t sec(const char *name)
{
	Elf64_Ehdr eh = eh_get();
	Elf64_Shdr str = sh_get(eh.e_shstrndx);
	for (size_t i = 1; i < eh.e_shnum; i++)
		if (strcmp((const char *)data + str.sh_offset + sh_get(i).sh_name, name) == 0)
			return i;
	cr_assert_fail("no section %s", name);
	return 0;
}

/* --- expectations ------------------------------------------------------------------ */

static struct pvsub_relobj *load_ok(void)
{
	struct pvsub_diag d = {""};
	struct pvsub_relobj *o = NULL;

	cr_assert_eq(pvsub_relobj_load(data, size, &o, &d), 0, "%s", d.msg);
	cr_assert_not_null(o);
	return o;
}

/* Both readers accept the bytes (a negative control of a rule). */
static void expect_ok(void)
{
	struct pvsub_diag d = {""};
	struct pvsub_relobj *o = NULL;

	cr_assert_eq(pvsub_relobj_load(data, size, &o, &d), 0, "load: %s", d.msg);
	pvsub_relobj_free(o);
	o = NULL;
	cr_assert_eq(pvsub_relobj_view(data, size, &o, &d), 0, "view: %s", d.msg);
	pvsub_relobj_free(o);
}

/* Both readers refuse the bytes, with one line that contains @needle. */
static void expect_invalid(const char *needle)
{
	struct pvsub_diag d = {""};
	struct pvsub_relobj *o = NULL;

	cr_assert_eq(pvsub_relobj_load(data, size, &o, &d), -EINVAL, "load accepted it");
	cr_assert_null(o);
	cr_assert_not_null(strstr(d.msg, needle), "load: '%s' lacks '%s'", d.msg, needle);
	cr_assert_null(strchr(d.msg, '\n'));
	memset(&d, 0, sizeof(d));
	cr_assert_eq(pvsub_relobj_view(data, size, &o, &d), -EINVAL, "view accepted it");
	cr_assert_null(o);
	cr_assert_not_null(strstr(d.msg, needle), "view: '%s' lacks '%s'", d.msg, needle);
}

/* --- the ELF header ------------------------------------------------------------------- */

Test(relobj, the_valid_object_loads)
{
	expect_ok();
}

Test(relobj, not_an_elf_file)
{
	data[1] = 'X';
	expect_invalid("not an ELF file");
}

Test(relobj, truncated_header)
{
	size = 40;
	expect_invalid("truncated ELF header");
}

Test(relobj, wrong_class_byte_order_machine)
{
	data[EI_CLASS] = ELFCLASS32;
	expect_invalid("ELF class 1");
	data[EI_CLASS] = ELFCLASS64;
	data[EI_DATA] = ELFDATA2MSB;
	expect_invalid("byte order");
	data[EI_DATA] = ELFDATA2LSB;
	Elf64_Ehdr eh = eh_get();
	eh.e_machine = EM_AARCH64;
	eh_put(&eh);
	expect_invalid("machine 183");
}

Test(relobj, wrong_type)
{
	Elf64_Ehdr eh = eh_get();
	eh.e_type = ET_DYN;
	eh_put(&eh);
	expect_invalid("not a relocatable object (ET_REL)");
	eh.e_type = ET_CORE;
	eh_put(&eh);
	expect_invalid("unsupported ELF type 4");
}

Test(relobj, wrong_version)
{
	Elf64_Ehdr eh = eh_get();
	eh.e_version = 2;
	eh_put(&eh);
	expect_invalid("ELF version 2");
	eh.e_version = EV_CURRENT;
	eh.e_ident[EI_VERSION] = EV_NONE;
	eh_put(&eh);
	expect_invalid("ELF version 0");
}

Test(relobj, program_headers)
{
	Elf64_Ehdr eh = eh_get();
	eh.e_phnum = 1;
	eh_put(&eh);
	expect_invalid("program headers");
}

/* --- the section header table ---------------------------------------------------------- */

Test(relobj, section_header_table_outside_the_file)
{
	Elf64_Ehdr eh = eh_get();
	eh.e_shoff = size - 8;
	eh_put(&eh);
	expect_invalid("section header table lies outside the file");
	/* Cut in its last entry. */
	teardown();
	build();
	size -= 1;
	expect_invalid("section header table lies outside the file");
	/* A count that would wrap around. */
	size += 1;
	eh = eh_get();
	eh.e_shnum = 0xffff;
	eh_put(&eh);
	expect_invalid("section header table lies outside the file");
}

Test(relobj, section_header_entry_size)
{
	Elf64_Ehdr eh = eh_get();
	eh.e_shentsize = 40;
	eh_put(&eh);
	expect_invalid("section header size 40");
}

Test(relobj, no_section_table)
{
	Elf64_Ehdr eh = eh_get();
	eh.e_shnum = 0;
	eh_put(&eh);
	expect_invalid("extended section numbering");
	eh.e_shoff = 0;
	eh_put(&eh);
	expect_invalid("no section header table");
}

/* --- names ---------------------------------------------------------------------------------- */

Test(relobj, section_name_table_index)
{
	Elf64_Ehdr eh = eh_get();
	uint16_t n = eh.e_shnum;
	eh.e_shstrndx = n;
	eh_put(&eh);
	expect_invalid("no section name string table");
	eh.e_shstrndx = SHN_UNDEF;
	eh_put(&eh);
	expect_invalid("no section name string table");
	/* An index to a section that is no string table. */
	teardown();
	build();
	eh = eh_get();
	eh.e_shstrndx = (uint16_t)sec(".text");
	eh_put(&eh);
	expect_invalid("is not a string table");
}

Test(relobj, section_name_table_must_end_in_nul)
{
	size_t i = eh_get().e_shstrndx;
	Elf64_Shdr sh = sh_get(i);
	data[sh.sh_offset + sh.sh_size - 1] = 'x';
	expect_invalid("does not end in NUL");
}

Test(relobj, section_name_outside_the_table)
{
	size_t i = sec(".data");
	Elf64_Shdr sh = sh_get(i);
	Elf64_Shdr str = sh_get(eh_get().e_shstrndx);
	sh.sh_name = (uint32_t)str.sh_size;
	sh_put(i, &sh);
	expect_invalid("name offset");
	/* The last byte of the table is still a name (the empty one). */
	sh.sh_name = (uint32_t)str.sh_size - 1;
	sh_put(i, &sh);
	expect_ok();
}

/* --- section contents and kinds ------------------------------------------------------------ */

Test(relobj, section_outside_the_file)
{
	size_t i = sec(".data");
	Elf64_Shdr sh = sh_get(i);
	sh.sh_offset = size - 4;
	sh_put(i, &sh);
	expect_invalid("lies outside the file");
	/* An offset + size that wraps around. */
	sh.sh_offset = 8;
	sh.sh_size = UINT64_MAX - 4;
	sh_put(i, &sh);
	expect_invalid("lies outside the file");
}

Test(relobj, nobits_may_lie_anywhere)
{
	size_t i = sec(".bss");
	Elf64_Shdr sh = sh_get(i);
	sh.sh_offset = UINT64_MAX - 1;
	sh.sh_size = 1 << 20;
	sh_put(i, &sh);
	expect_ok();
}

Test(relobj, alignment)
{
	size_t i = sec(".text");
	Elf64_Shdr sh = sh_get(i);
	sh.sh_addralign = 4096;
	sh_put(i, &sh);
	expect_ok();
	sh.sh_addralign = 0;
	sh_put(i, &sh);
	expect_ok();
	sh.sh_addralign = 24;
	sh_put(i, &sh);
	expect_invalid("section .text: alignment 24 is not a power of two");
	sh.sh_addralign = 8192;
	sh_put(i, &sh);
	expect_invalid("alignment 8192");
}

Test(relobj, rel_and_extended_index_sections_are_refused)
{
	size_t i = sec(".data");
	Elf64_Shdr sh = sh_get(i);
	sh.sh_type = SHT_REL;
	sh_put(i, &sh);
	expect_invalid("section .data: SHT_REL");
	sh.sh_type = SHT_SYMTAB_SHNDX;
	sh_put(i, &sh);
	expect_invalid("section .data: extended section indices");
}

/* --- the symbol table --------------------------------------------------------------------- */

Test(relobj, symbol_table_entry_size)
{
	size_t i = sec(".symtab");
	Elf64_Shdr sh = sh_get(i);
	sh.sh_entsize = 16;
	sh_put(i, &sh);
	expect_invalid("section .symtab: bad entry size 16");
	sh.sh_entsize = sizeof(Elf64_Sym);
	sh.sh_size -= 1;
	sh_put(i, &sh);
	expect_invalid("section .symtab: bad entry size");
}

Test(relobj, symbol_table_link)
{
	size_t i = sec(".symtab");
	Elf64_Shdr sh = sh_get(i);
	sh.sh_link = (uint32_t)sec(".text");
	sh_put(i, &sh);
	expect_invalid("string table link");
	sh.sh_link = eh_get().e_shnum;
	sh_put(i, &sh);
	expect_invalid("string table link");
}

Test(relobj, two_symbol_tables)
{
	size_t i = sec(".data");
	Elf64_Shdr sh = sh_get(sec(".symtab"));
	Elf64_Shdr d = sh_get(i);
	sh.sh_name = d.sh_name;
	sh_put(i, &sh);
	expect_invalid("more than one symbol table");
}

/* Symbol @k's section index set to @shndx. */
static void set_symbol_section(size_t k, uint16_t shndx)
{
	Elf64_Shdr st = sh_get(sec(".symtab"));
	Elf64_Sym sym;
	cr_assert(k < st.sh_size / sizeof(sym));
	memcpy(&sym, data + st.sh_offset + k * sizeof(sym), sizeof(sym));
	sym.st_shndx = shndx;
	memcpy(data + st.sh_offset + k * sizeof(sym), &sym, sizeof(sym));
}

Test(relobj, symbol_section_index)
{
	uint16_t n = eh_get().e_shnum;
	set_symbol_section(1, n);
	expect_invalid("symbol 1: section index");
	set_symbol_section(1, SHN_LORESERVE - 1);
	expect_invalid("symbol 1: section index");
	set_symbol_section(1, SHN_XINDEX);
	expect_invalid("symbol 1: section index");
	/* The special indices are not sections. */
	set_symbol_section(1, SHN_ABS);
	expect_ok();
	set_symbol_section(1, SHN_COMMON);
	expect_ok();
	set_symbol_section(1, (uint16_t)(n - 1));
	expect_ok();
}

/* --- relocations ---------------------------------------------------------------------------- */

Test(relobj, relocation_entry_size)
{
	size_t i = sec(".rela.text");
	Elf64_Shdr sh = sh_get(i);
	sh.sh_entsize = 16;
	sh_put(i, &sh);
	expect_invalid("section .rela.text: bad entry size 16");
	sh.sh_entsize = sizeof(Elf64_Rela);
	sh.sh_size -= 8;
	sh_put(i, &sh);
	expect_invalid("section .rela.text: bad entry size");
}

Test(relobj, relocation_link_and_target)
{
	size_t i = sec(".rela.text");
	Elf64_Shdr sh = sh_get(i);
	Elf64_Shdr good = sh;
	sh.sh_link = (uint32_t)sec(".strtab");
	sh_put(i, &sh);
	expect_invalid("section .rela.text: bad link");
	sh = good;
	sh.sh_info = 0;
	sh_put(i, &sh);
	expect_invalid("section .rela.text: bad target");
	sh.sh_info = eh_get().e_shnum;
	sh_put(i, &sh);
	expect_invalid("section .rela.text: bad target");
	/* Any section that exists may be the target. */
	sh.sh_info = (uint32_t)sec(".data");
	sh_put(i, &sh);
	expect_ok();
}

Test(relobj, relocation_symbol_index)
{
	Elf64_Shdr rs = sh_get(sec(".rela.text"));
	size_t nsym = sh_get(sec(".symtab")).sh_size / sizeof(Elf64_Sym);
	Elf64_Rela ra;
	memcpy(&ra, data + rs.sh_offset, sizeof(ra));
	uint32_t type = (uint32_t)ELF64_R_TYPE(ra.r_info);

	ra.r_info = ELF64_R_INFO(nsym, type);
	memcpy(data + rs.sh_offset, &ra, sizeof(ra));
	expect_invalid("section .rela.text: entry 0 refers to symbol");
	/* The last symbol, and STN_UNDEF, are fine. */
	ra.r_info = ELF64_R_INFO(nsym - 1, type);
	memcpy(data + rs.sh_offset, &ra, sizeof(ra));
	expect_ok();
	ra.r_info = ELF64_R_INFO(STN_UNDEF, R_X86_64_NONE);
	memcpy(data + rs.sh_offset, &ra, sizeof(ra));
	expect_ok();
}

/* --- the module signature ------------------------------------------------------------------ */

/* @data followed by a trailer saying that @sig_len bytes of signature
 * precede it (PKCS#7 id type, big-endian length). */
static void append_trailer(size_t body, uint32_t sig_len)
{
	static const char magic[] = "~Module signature appended~\n";
	uint8_t info[12] = {0, 0, 2, 0, 0, 0, 0, 0, (uint8_t)(sig_len >> 24),
			    (uint8_t)(sig_len >> 16), (uint8_t)(sig_len >> 8), (uint8_t)sig_len};
	uint8_t *p = realloc(data, size + body + sizeof(info) + sizeof(magic) - 1);
	cr_assert_not_null(p);
	data = p;
	memset(data + size, 0x5a, body);
	memcpy(data + size + body, info, sizeof(info));
	memcpy(data + size + body + sizeof(info), magic, sizeof(magic) - 1);
	size += body + sizeof(info) + sizeof(magic) - 1;
}

Test(relobj, an_appended_signature_is_not_part_of_the_object)
{
	size_t elf = size;
	append_trailer(16, 16);
	struct pvsub_relobj *o = load_ok();
	cr_assert(o->had_modsig);
	cr_assert_eq(o->elf_size, elf);
	pvsub_relobj_free(o);
	/* Without one, every byte belongs to the object. */
	teardown();
	build();
	o = load_ok();
	cr_assert_not(o->had_modsig);
	cr_assert_eq(o->elf_size, size);
	pvsub_relobj_free(o);
}

Test(relobj, a_trailer_that_does_not_add_up_is_refused)
{
	append_trailer(16, 1u << 30);
	struct pvsub_diag d = {""};
	struct pvsub_relobj *o = NULL;
	cr_assert_eq(pvsub_relobj_load(data, size, &o, &d), -EINVAL);
	cr_assert_null(o);
	cr_assert(d.msg[0] != '\0');
	cr_assert_null(strchr(d.msg, '\n'));
}

Test(relobj, a_section_in_the_signature_is_outside_the_object)
{
	/* Point .data into the signature bytes: they are not the object's. */
	size_t elf = size, i = sec(".data");
	append_trailer(64, 64);
	Elf64_Shdr sh = sh_get(i);
	sh.sh_offset = elf;
	sh.sh_size = 16;
	sh_put(i, &sh);
	struct pvsub_diag d = {""};
	struct pvsub_relobj *o = NULL;
	cr_assert_eq(pvsub_relobj_load(data, size, &o, &d), -EINVAL);
	cr_assert_not_null(strstr(d.msg, "lies outside the file"), "%s", d.msg);
}

/* --- accessors ------------------------------------------------------------------------------ */

static const Elf64_Sym *symbol(struct pvsub_relobj *o, const char *name)
{
	size_t n;
	Elf64_Sym *s = pvsub_relobj_symbols(o, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(pvsub_relobj_symbol_name(o, &s[i]), name) == 0)
			return &s[i];
	return NULL;
}

Test(relobj, accessors_of_a_loaded_object)
{
	struct pvsub_relobj *o = load_ok();
	size_t text = pvsub_relobj_find(o, ".text"), rt = pvsub_relobj_find(o, ".rela.text");
	size_t dsec = pvsub_relobj_find(o, ".data");

	cr_assert_eq(text, sec(".text"));
	cr_assert_eq(pvsub_relobj_find(o, "no such section"), 0);
	cr_assert_str_eq(o->sec[text].name, ".text");
	cr_assert_eq(o->symtab, sec(".symtab"));
	/* The one SHT_RELA section for a section, and none for one without. */
	cr_assert_eq(pvsub_relobj_rela_for(o, text), rt);
	cr_assert_eq(pvsub_relobj_rela_for(o, dsec), pvsub_relobj_find(o, ".rela.data"));
	cr_assert_eq(pvsub_relobj_rela_for(o, pvsub_relobj_find(o, ".bss")), 0);
	/* call g; movq d(%rip): two relocations, writable and as copies. */
	size_t n;
	Elf64_Rela *ra = pvsub_relobj_relas(o, rt, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(pvsub_relobj_rela_count(o, rt), 2);
	Elf64_Rela copy;
	pvsub_relobj_rela_get(o, rt, 1, &copy);
	cr_assert_eq(memcmp(&copy, &ra[1], sizeof(copy)), 0);
	cr_assert_eq(ra[0].r_offset, 1);
	Elf64_Sym s;
	pvsub_relobj_sym_get(o, ELF64_R_SYM(ra[0].r_info), &s);
	cr_assert_str_eq(pvsub_relobj_symbol_name(o, &s), "g");
	cr_assert_eq(s.st_shndx, SHN_UNDEF);
	const Elf64_Sym *f = symbol(o, "f");
	cr_assert_not_null(f);
	cr_assert_eq(f->st_shndx, text);
	cr_assert_eq(f->st_size, 13); /* call (5) + movq (7) + ret (1) */
	/* A section symbol is named after its section. */
	size_t nsym = pvsub_relobj_sym_count(o), k;
	for (k = 1; k < nsym; k++) {
		pvsub_relobj_sym_get(o, k, &s);
		if (ELF64_ST_TYPE(s.st_info) == STT_SECTION && s.st_shndx == dsec)
			break;
	}
	cr_assert_lt(k, nsym);
	cr_assert_str_eq(pvsub_relobj_symbol_name(o, &s), ".data");
	/* The contents are copies: the input can go away. */
	cr_assert_not_null(o->sec[text].data);
	cr_assert_eq(o->sec[text].bytes, o->sec[text].data);
	memset(data, 0, size);
	cr_assert_eq(o->sec[text].bytes[0], 0xe8);
	pvsub_relobj_free(o);
}

Test(relobj, set_data_replaces_a_section)
{
	struct pvsub_relobj *o = load_ok();
	size_t text = pvsub_relobj_find(o, ".text");
	uint8_t *nop = malloc(3);
	cr_assert_not_null(nop);
	memset(nop, 0x90, 3);
	pvsub_relobj_set_data(o, text, nop, 3);
	cr_assert_eq(o->sec[text].size, 3);
	cr_assert_eq(o->sec[text].sh.sh_size, 3);
	cr_assert_eq(o->sec[text].bytes, nop);
	/* Written and read back: the new contents, the same names. */
	struct pvsub_buf out = {0};
	cr_assert_eq(pvsub_relobj_write(o, &out), 0);
	struct pvsub_relobj *b = NULL;
	struct pvsub_diag d = {""};
	cr_assert_eq(pvsub_relobj_load((const uint8_t *)out.data, out.len, &b, &d), 0, "%s", d.msg);
	cr_assert_eq(b->sec[text].size, 3);
	cr_assert_eq(memcmp(b->sec[text].bytes, "\x90\x90\x90", 3), 0);
	cr_assert_str_eq(b->sec[text].name, ".text");
	pvsub_relobj_free(b);
	pvsub_relobj_free(o);
	pvsub_buf_release(&out);
}

Test(relobj, a_view_is_read_only_and_reads_in_place)
{
	struct pvsub_relobj *v = NULL;
	struct pvsub_diag d = {""};

	cr_assert_eq(pvsub_relobj_view(data, size, &v, &d), 0, "%s", d.msg);
	size_t text = pvsub_relobj_find(v, ".text"), rt = pvsub_relobj_find(v, ".rela.text");
	/* Nothing is copied and nothing writable is handed out. */
	for (size_t i = 0; i < v->n_sec; i++)
		cr_assert_null(v->sec[i].data, "section %zu of a view is writable", i);
	cr_assert_eq(v->sec[text].bytes, data + sh_get(sec(".text")).sh_offset);
	size_t n = 99;
	cr_assert_null(pvsub_relobj_symbols(v, &n));
	cr_assert_eq(n, 0);
	n = 99;
	cr_assert_null(pvsub_relobj_relas(v, rt, &n));
	cr_assert_eq(n, 0);
	/* The copying accessors work on it. */
	cr_assert_eq(pvsub_relobj_rela_count(v, rt), 2);
	cr_assert_eq(pvsub_relobj_rela_for(v, text), rt);
	Elf64_Rela ra;
	Elf64_Sym s;
	pvsub_relobj_rela_get(v, rt, 0, &ra);
	pvsub_relobj_sym_get(v, ELF64_R_SYM(ra.r_info), &s);
	cr_assert_str_eq(pvsub_relobj_symbol_name(v, &s), "g");
	/* It reads the caller's bytes: a change shows through. */
	data[sh_get(sec(".text")).sh_offset] = 0xcc;
	cr_assert_eq(v->sec[text].bytes[0], 0xcc);
	pvsub_relobj_free(v);
}

Test(relobj, a_view_checks_like_a_load)
{
	/* The view gets the ELF bytes without the signature: a malformed
	 * object is refused the same way. */
	size_t i = sec(".rela.text");
	Elf64_Shdr sh = sh_get(i);
	sh.sh_link = 0;
	sh_put(i, &sh);
	expect_invalid("bad link");
}

Test(relobj, free_null_is_a_no_op)
{
	pvsub_relobj_free(NULL);
}
