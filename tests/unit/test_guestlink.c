/* SPDX-License-Identifier: MIT */
/*
 * guestlink, the guest linker: the layout (regions, guard pages, 0xCC
 * padding, determinism), the value each relocation type writes and the
 * GOT it shares, overflow, and each refusal with its one line naming the
 * object, each next to a neighbour that links (the negative control).
 * The objects are assembled at test time, some then broken byte by byte.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/guestlink.h"
#include "libpvsub/relobj.h"
#include "tests/unit/elfgen.h"

#define MAXOBJ 4
#define BASE 0x10000000ull
#define EXT 0x10100000ull

static uint8_t *data[MAXOBJ];
static size_t size[MAXOBJ];
static struct pvsub_relobj *view[MAXOBJ];
static size_t n_obj;
static const char *const names[MAXOBJ] = {"a.o", "b.o", "c.o", "d.o"};
static struct pvsub_guestlink_api api[] = {{"ext", EXT}, {"far", 0x7fff00000000ull}};
static size_t n_api = 2;

static const char entry_src[] = "\t.text\n"
				"\t.globl pvsub_guest_main\n"
				"pvsub_guest_main:\n"
				"\tret\n";

static void teardown(void)
{
	for (size_t i = 0; i < n_obj; i++) {
		pvsub_relobj_free(view[i]);
		free(data[i]);
		view[i] = NULL;
		data[i] = NULL;
	}
	n_obj = 0;
	api[1].addr = 0x7fff00000000ull;
	n_api = 2;
}

TestSuite(guestlink, .fini = teardown);

/* Assemble @src as the next object; returns its index. */
static size_t add(const char *src)
{
	cr_assert_lt(n_obj, MAXOBJ);
	cr_assert_eq(elfgen_assemble(src, NULL, &data[n_obj], &size[n_obj]), 0,
		     "assembling failed:\n%s", src);
	return n_obj++;
}

/* --- raw access to an object's bytes (before it is linked) ----------------- */

static Elf64_Shdr sh_get(size_t o, size_t i)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh;

	memcpy(&eh, data[o], sizeof(eh));
	memcpy(&sh, data[o] + eh.e_shoff + i * sizeof(sh), sizeof(sh));
	return sh;
}

static void sh_put(size_t o, size_t i, const Elf64_Shdr *sh)
{
	Elf64_Ehdr eh;

	memcpy(&eh, data[o], sizeof(eh));
	memcpy(data[o] + eh.e_shoff + i * sizeof(*sh), sh, sizeof(*sh));
}

static size_t sec(size_t o, const char *name)
{
	Elf64_Ehdr eh;

	memcpy(&eh, data[o], sizeof(eh));
	Elf64_Shdr str = sh_get(o, eh.e_shstrndx);
	for (size_t i = 1; i < eh.e_shnum; i++)
		if (strcmp((const char *)data[o] + str.sh_offset + sh_get(o, i).sh_name, name) == 0)
			return i;
	cr_assert_fail("no section %s", name);
	return 0;
}

/* Entry @k of the relocation section @name, to change in place. */
static Elf64_Rela *rela(size_t o, const char *name, size_t k)
{
	Elf64_Shdr sh = sh_get(o, sec(o, name));

	cr_assert_lt(k, sh.sh_size / sizeof(Elf64_Rela));
	return (Elf64_Rela *)(void *)(data[o] + sh.sh_offset + k * sizeof(Elf64_Rela));
}

/* The symbol called @name, to change in place. */
static Elf64_Sym *symbol(size_t o, const char *name)
{
	Elf64_Shdr st = sh_get(o, sec(o, ".symtab")), str = sh_get(o, st.sh_link);

	for (size_t k = 1; k < st.sh_size / sizeof(Elf64_Sym); k++) {
		Elf64_Sym *s = (Elf64_Sym *)(void *)(data[o] + st.sh_offset + k * sizeof(*s));
		if (strcmp((const char *)data[o] + str.sh_offset + s->st_name, name) == 0)
			return s;
	}
	cr_assert_fail("no symbol %s", name);
	return NULL;
}

/* --- linking ---------------------------------------------------------------------------- */

static int plan(const char *const *nm, struct pvsub_guestlink **gl, struct pvsub_diag *d)
{
	for (size_t i = 0; i < n_obj; i++) {
		pvsub_relobj_free(view[i]);
		view[i] = NULL;
		cr_assert_eq(pvsub_relobj_view(data[i], size[i], &view[i], d), 0, "%s", d->msg);
	}
	return pvsub_guestlink_plan((const struct pvsub_relobj *const *)view, nm, n_obj, api, n_api,
				    gl, d);
}

static struct pvsub_guestlink *plan_ok(void)
{
	struct pvsub_diag d = {""};
	struct pvsub_guestlink *gl = NULL;

	cr_assert_eq(plan(names, &gl, &d), 0, "refused: %s", d.msg);
	cr_assert_not_null(gl);
	return gl;
}

static void check_line(const struct pvsub_diag *d, const char *needle)
{
	cr_assert_not_null(strstr(d->msg, needle), "expected '%s' in: %s", needle, d->msg);
	cr_assert_null(strchr(d->msg, '\n'), "not one line: %s", d->msg);
}

/* The plan refuses, with one line that contains @needle. */
static void expect_refused(const char *needle)
{
	struct pvsub_diag d = {""};
	struct pvsub_guestlink *gl = NULL;

	cr_assert_eq(plan(names, &gl, &d), -EINVAL, "not refused (wanted '%s')", needle);
	cr_assert_null(gl);
	check_line(&d, needle);
}

/* The image at @base (0x77 before, to see that every byte is written). */
static uint8_t *apply_ok(const struct pvsub_guestlink *gl, uint64_t base)
{
	struct pvsub_guestlink_layout l;
	struct pvsub_diag d = {""};
	uint8_t *img;

	pvsub_guestlink_layout(gl, &l);
	img = malloc(l.size);
	cr_assert_not_null(img);
	memset(img, 0x77, l.size);
	cr_assert_eq(pvsub_guestlink_apply(gl, base, img, l.size, &d), 0, "%s", d.msg);
	return img;
}

static void expect_apply_refused(const struct pvsub_guestlink *gl, uint64_t base,
				 const char *needle)
{
	struct pvsub_guestlink_layout l;
	struct pvsub_diag d = {""};
	uint8_t *img;

	pvsub_guestlink_layout(gl, &l);
	img = malloc(l.size);
	cr_assert_not_null(img);
	cr_assert_eq(pvsub_guestlink_apply(gl, base, img, l.size, &d), -EINVAL,
		     "applied at %#llx (wanted '%s')", (unsigned long long)base, needle);
	check_line(&d, needle);
	free(img);
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Plan and apply the objects added so far at BASE, and return the first
 * eight bytes of the data region and, in *@l, the layout. */
static uint64_t linked_data_word(struct pvsub_guestlink_layout *l)
{
	struct pvsub_guestlink *gl = plan_ok();
	uint8_t *img;
	uint64_t v;

	pvsub_guestlink_layout(gl, l);
	img = apply_ok(gl, BASE);
	v = le(img + l->data.offset, 8);
	free(img);
	pvsub_guestlink_free(gl);
	return v;
}

/* --- layout ----------------------------------------------------------------------------------- */

static const char layout_src[] = "\t.section .text.a,\"ax\",@progbits\n"
				 "\t.balign 16\n"
				 "\t.globl pvsub_guest_main\n"
				 "pvsub_guest_main:\n"
				 "\t.byte 0x90, 0x90, 0xc3\n"
				 "\t.section .text.b,\"ax\",@progbits\n"
				 "\t.balign 64\n"
				 "\t.byte 0x31, 0xc0, 0x90, 0x90, 0xc3\n"
				 "\t.section .rodata.str1.1,\"aMS\",@progbits,1\n"
				 "\t.string \"hello\"\n"
				 "\t.data\n"
				 "\t.quad 0x1122334455667788\n"
				 "\t.bss\n"
				 "\t.zero 100\n";

Test(guestlink, layout_regions_guard_pages_and_padding)
{
	struct pvsub_guestlink_layout l;
	struct pvsub_guestlink *gl;
	uint8_t *img;

	add(layout_src);
	gl = plan_ok();
	pvsub_guestlink_layout(gl, &l);
	cr_assert_eq(l.guard_lo.offset, 0);
	cr_assert_eq(l.guard_lo.size, PVSUB_GUESTLINK_PAGE);
	cr_assert_eq(l.code.offset, PVSUB_GUESTLINK_PAGE);
	cr_assert_eq(l.code.size, PVSUB_GUESTLINK_PAGE);
	cr_assert_eq(l.guard_hi.offset, l.code.offset + l.code.size);
	cr_assert_eq(l.guard_hi.size, PVSUB_GUESTLINK_PAGE);
	cr_assert_eq(l.rodata.offset, l.guard_hi.offset + PVSUB_GUESTLINK_PAGE);
	cr_assert_eq(l.rodata.size, PVSUB_GUESTLINK_PAGE);
	cr_assert_eq(l.got.size, 0, "no GOT reference, no GOT");
	cr_assert_eq(l.data.offset, l.rodata.offset + l.rodata.size);
	cr_assert_eq(l.bss.offset, l.data.offset + l.data.size);
	cr_assert_eq(l.bss.size, PVSUB_GUESTLINK_PAGE);
	cr_assert_eq(l.size, l.bss.offset + l.bss.size);
	cr_assert_eq(l.entry, l.code.offset, "the entry is the first code byte");
	cr_assert_eq(pvsub_guestlink_got_count(gl), 0);

	img = apply_ok(gl, BASE);
	/* Guard pages and code padding are int3; the second section is at 64. */
	for (uint64_t i = 0; i < l.guard_lo.size; i++)
		cr_assert_eq(img[i], 0xcc, "guard byte %llu", (unsigned long long)i);
	cr_assert_eq(memcmp(img + l.code.offset, "\x90\x90\xc3", 3), 0);
	for (uint64_t i = 3; i < 64; i++)
		cr_assert_eq(img[l.code.offset + i], 0xcc, "padding byte %llu",
			     (unsigned long long)i);
	cr_assert_eq(memcmp(img + l.code.offset + 64, "\x31\xc0\x90\x90\xc3", 5), 0);
	for (uint64_t i = 69; i < l.code.size + l.guard_hi.size; i++)
		cr_assert_eq(img[l.code.offset + i], 0xcc, "byte %llu after the code",
			     (unsigned long long)i);
	cr_assert_str_eq((const char *)img + l.rodata.offset, "hello");
	cr_assert_eq(le(img + l.data.offset, 8), 0x1122334455667788ull);
	for (uint64_t i = 0; i < l.bss.size; i++)
		cr_assert_eq(img[l.bss.offset + i], 0, "bss byte %llu", (unsigned long long)i);
	free(img);
	pvsub_guestlink_free(gl);
}

Test(guestlink, layout_is_deterministic_and_in_object_order)
{
	struct pvsub_guestlink_layout l1, l2;
	struct pvsub_guestlink *g1, *g2;
	uint8_t *i1, *i2;

	add(layout_src);
	add("\t.text\n\t.globl other\nother:\n\t.byte 0xc3\n\t.data\n\t.quad other\n");
	g1 = plan_ok();
	g2 = plan_ok();
	pvsub_guestlink_layout(g1, &l1);
	pvsub_guestlink_layout(g2, &l2);
	cr_assert_eq(memcmp(&l1, &l2, sizeof(l1)), 0);
	i1 = apply_ok(g1, BASE);
	i2 = apply_ok(g2, BASE);
	cr_assert_eq(memcmp(i1, i2, l1.size), 0, "the same inputs gave different bytes");
	/* b.o's code follows a.o's (at 64 + 5, aligned to 1), and its data
	 * holds the address of it. */
	cr_assert_eq(i1[l1.code.offset + 69], 0xc3);
	cr_assert_eq(le(i1 + l1.data.offset + 8, 8), BASE + l1.code.offset + 69);
	free(i1);
	free(i2);
	pvsub_guestlink_free(g1);
	pvsub_guestlink_free(g2);
}

/* Which object and section a byte of the image came from; padding, guard
 * pages and the GOT are nobody's. */
Test(guestlink, locate_names_object_section_and_offset)
{
	struct pvsub_guestlink_layout l;
	struct pvsub_guestlink_place at;
	struct pvsub_guestlink *gl;

	add(layout_src);
	add("\t.text\n\t.globl other\nother:\n\t.byte 0xc3\n\t.data\n\t.quad other\n");
	gl = plan_ok();
	pvsub_guestlink_layout(gl, &l);
	cr_assert_eq(pvsub_guestlink_locate(gl, l.code.offset + 1, &at), 0);
	cr_assert_eq(at.obj, 0);
	cr_assert_str_eq(at.section, ".text.a");
	cr_assert_eq(at.offset, 1);
	cr_assert_eq(pvsub_guestlink_locate(gl, l.code.offset + 66, &at), 0);
	cr_assert_eq(at.obj, 0);
	cr_assert_str_eq(at.section, ".text.b");
	cr_assert_eq(at.offset, 2, "the second code section starts at 64");
	cr_assert_eq(pvsub_guestlink_locate(gl, l.code.offset + 69, &at), 0);
	cr_assert_eq(at.obj, 1);
	cr_assert_str_eq(at.section, ".text");
	cr_assert_eq(at.offset, 0);
	cr_assert_eq(pvsub_guestlink_locate(gl, l.data.offset + 8, &at), 0);
	cr_assert_eq(at.obj, 1);
	cr_assert_str_eq(at.section, ".data");
	cr_assert_eq(pvsub_guestlink_locate(gl, l.code.offset + 3, &at), -ENOENT, "padding");
	cr_assert_eq(pvsub_guestlink_locate(gl, l.code.offset + 70, &at), -ENOENT, "after code");
	cr_assert_eq(pvsub_guestlink_locate(gl, 0, &at), -ENOENT, "guard page");
	cr_assert_eq(pvsub_guestlink_locate(gl, l.size, &at), -ENOENT, "past the image");
	pvsub_guestlink_free(gl);
}

/* --- relocations
 * ---------------------------------------------------------------------------------- */

static const char reloc_src[] = "\t.text\n"
				"\t.globl pvsub_guest_main\n"
				"pvsub_guest_main:\n"
				"\tret\n"
				"\t.section .rodata\n"
				"\t.quad 0\n"
				"target:\t.quad 0\n"
				"\t.data\n"
				"\t.reloc ., R_X86_64_64, target+3\n"
				"\t.quad 0\n"
				"\t.reloc ., R_X86_64_PC32, target+5\n"
				"\t.long 0\n"
				"\t.reloc ., R_X86_64_PLT32, ext-4\n"
				"\t.long 0\n"
				"\t.reloc ., R_X86_64_32, target+7\n"
				"\t.long 0\n"
				"\t.reloc ., R_X86_64_32S, target-9\n"
				"\t.long 0\n"
				"\t.reloc ., R_X86_64_PC64, ext+11\n"
				"\t.quad 0\n"
				"\t.reloc ., R_X86_64_GOTPCREL, ext-4\n"
				"\t.long 0\n"
				"\t.reloc ., R_X86_64_GOTPCRELX, target-4\n"
				"\t.long 0\n"
				"\t.reloc ., R_X86_64_REX_GOTPCRELX, ext-4\n"
				"\t.long 0\n"
				"\t.reloc ., R_X86_64_NONE, target\n"
				"\t.long 0x5a5a5a5a\n";

Test(guestlink, each_relocation_type_writes_its_value)
{
	struct pvsub_guestlink_layout l;
	struct pvsub_guestlink *gl;
	uint64_t D, T, G;
	uint8_t *img, *p;

	add(reloc_src);
	gl = plan_ok();
	pvsub_guestlink_layout(gl, &l);
	img = apply_ok(gl, BASE);
	D = BASE + l.data.offset;
	T = BASE + l.rodata.offset + 8;
	G = BASE + l.got.offset;
	p = img + l.data.offset;
	cr_assert_eq(le(p + 0, 8), T + 3, "R_X86_64_64");
	cr_assert_eq(le(p + 8, 4), (uint32_t)(T + 5 - (D + 8)), "R_X86_64_PC32");
	cr_assert_eq(le(p + 12, 4), (uint32_t)(EXT - 4 - (D + 12)), "R_X86_64_PLT32 (no PLT)");
	cr_assert_eq(le(p + 16, 4), T + 7, "R_X86_64_32");
	cr_assert_eq(le(p + 20, 4), T - 9, "R_X86_64_32S");
	cr_assert_eq(le(p + 24, 8), EXT + 11 - (D + 24), "R_X86_64_PC64");
	/* Two distinct symbols through the GOT: two entries, in the order of
	 * first reference; the third reference shares the first. */
	cr_assert_eq(pvsub_guestlink_got_count(gl), 2);
	cr_assert_eq(l.got.size, PVSUB_GUESTLINK_PAGE);
	cr_assert_eq(le(img + l.got.offset, 8), EXT);
	cr_assert_eq(le(img + l.got.offset + 8, 8), T);
	cr_assert_eq(le(p + 32, 4), (uint32_t)(G - 4 - (D + 32)), "R_X86_64_GOTPCREL");
	cr_assert_eq(le(p + 36, 4), (uint32_t)(G + 8 - 4 - (D + 36)), "R_X86_64_GOTPCRELX");
	cr_assert_eq(le(p + 40, 4), (uint32_t)(G - 4 - (D + 40)), "R_X86_64_REX_GOTPCRELX");
	cr_assert_eq(le(p + 44, 4), 0x5a5a5a5a, "R_X86_64_NONE wrote something");
	free(img);
	pvsub_guestlink_free(gl);
}

Test(guestlink, relocations_of_code_in_place)
{
	struct pvsub_guestlink_layout l;
	struct pvsub_guestlink *gl;
	uint8_t *img;

	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n"
	    "\tcall ext\n\tmovq ext@GOTPCREL(%rip), %rax\n\tleaq d(%rip), %rcx\n\tret\n"
	    "\t.data\nd:\t.quad 0\n");
	gl = plan_ok();
	pvsub_guestlink_layout(gl, &l);
	img = apply_ok(gl, BASE);
	/* call rel32 (e8), then mov disp32 (48 8b 05): not relaxed to a lea. */
	uint64_t c = BASE + l.code.offset;
	cr_assert_eq(img[l.code.offset], 0xe8);
	cr_assert_eq((uint32_t)le(img + l.code.offset + 1, 4), (uint32_t)(EXT - (c + 5)));
	cr_assert_eq(memcmp(img + l.code.offset + 5, "\x48\x8b\x05", 3), 0, "relaxed");
	cr_assert_eq((uint32_t)le(img + l.code.offset + 8, 4),
		     (uint32_t)(BASE + l.got.offset - (c + 12)));
	cr_assert_eq((uint32_t)le(img + l.code.offset + 15, 4),
		     (uint32_t)(BASE + l.data.offset - (c + 19)));
	free(img);
	pvsub_guestlink_free(gl);
}

Test(guestlink, overflow_refuses_and_a_base_in_reach_links)
{
	struct pvsub_guestlink *gl;
	uint8_t *img;

	/* A call to an API symbol 128 TiB away does not fit in 32 bits. */
	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tcall far\n\tret\n");
	gl = plan_ok();
	expect_apply_refused(gl, BASE, "a.o: section .text: relocation 0 (R_X86_64_PLT32)");
	expect_apply_refused(gl, BASE, "does not fit its field");
	pvsub_guestlink_free(gl);
	/* Negative control: the same object with the API symbol in reach. */
	api[1].addr = BASE + 0x40000000;
	gl = plan_ok();
	img = apply_ok(gl, BASE);
	free(img);
	pvsub_guestlink_free(gl);
}

Test(guestlink, overflow_of_absolute_32_bit_fields)
{
	struct pvsub_guestlink *gl;

	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
	    "\t.data\n\t.reloc ., R_X86_64_32, pvsub_guest_main\n\t.long 0\n");
	add("\t.data\n\t.reloc ., R_X86_64_32S, pvsub_guest_main\n\t.long 0\n");
	gl = plan_ok();
	free(apply_ok(gl, BASE));
	/* 2 GiB: 32 still fits, 32S (sign-extended) does not. */
	expect_apply_refused(gl, 0x80000000ull, "b.o: section .data: relocation 0 (R_X86_64_32S)");
	/* 4 GiB: neither. */
	expect_apply_refused(gl, 0x100000000ull, "a.o: section .data: relocation 0 (R_X86_64_32)");
	pvsub_guestlink_free(gl);
}

Test(guestlink, overflow_of_a_pc_relative_addend)
{
	struct pvsub_guestlink *gl;

	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
	    "\t.data\n\t.reloc ., R_X86_64_PC32, pvsub_guest_main+0x90000000\n\t.long 0\n");
	gl = plan_ok();
	expect_apply_refused(gl, BASE, "does not fit");
	pvsub_guestlink_free(gl);
}

Test(guestlink, unsupported_relocation_types_refuse_naming_the_type)
{
	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
	    "\t.data\n\t.reloc ., R_X86_64_GOTOFF64, ext\n\t.quad 0\n");
	expect_refused("a.o: section .data: relocation 0: type 25 (R_X86_64_GOTOFF64) is not "
		       "supported");
	teardown();
	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n"
	    "\t.reloc ., R_X86_64_GOTPC32, _GLOBAL_OFFSET_TABLE_\n\t.long 0\n");
	expect_refused("type 26 (R_X86_64_GOTPC32)");
	teardown();
	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n"
	    "\t.reloc ., R_X86_64_16, ext\n\t.word 0\n");
	expect_refused("type 12 (R_X86_64_16)");
}

Test(guestlink, relocations_of_unloaded_sections_are_not_applied)
{
	/* The same unsupported type in a debugging section is left alone. */
	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
	    "\t.section .debug_x,\"\",@progbits\n\t.reloc ., R_X86_64_GOTOFF64, ext\n\t.quad 0\n");
	pvsub_guestlink_free(plan_ok());
}

Test(guestlink, a_relocation_outside_its_section_refuses)
{
	size_t o = add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
		       "\t.data\n\t.long 0\n\t.long pvsub_guest_main\n");

	/* Negative control: the last 4 bytes of the 8-byte section. */
	rela(o, ".rela.data", 0)->r_offset = 4;
	pvsub_guestlink_free(plan_ok());
	rela(o, ".rela.data", 0)->r_offset = 6;
	expect_refused("a.o: section .data: relocation 0 writes outside the section (offset 0x6)");
	rela(o, ".rela.data", 0)->r_offset = UINT64_MAX - 1;
	expect_refused("writes outside the section");
}

Test(guestlink, a_relocation_in_bss_refuses)
{
	size_t o = add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
		       "\t.data\n\t.quad pvsub_guest_main\n\t.bss\n\t.zero 16\n");
	Elf64_Shdr sh = sh_get(o, sec(o, ".rela.data"));

	sh.sh_info = (Elf64_Word)sec(o, ".bss");
	sh_put(o, sec(o, ".rela.data"), &sh);
	expect_refused("relocations in .bss, which has no contents");
}

Test(guestlink, a_relocation_without_a_symbol_refuses)
{
	size_t o = add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
		       "\t.data\n\t.quad pvsub_guest_main\n");

	rela(o, ".rela.data", 0)->r_info = ELF64_R_INFO(0, R_X86_64_64);
	expect_refused("a.o: section .data: relocation 0 has no symbol");
}

Test(guestlink, a_relocation_against_an_unloaded_section_refuses)
{
	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
	    "\t.section .comment,\"\",@progbits\ncmt:\t.byte 0\n\t.data\n\t.quad cmt\n");
	expect_refused("refers to section .comment, which is not loaded");
}

Test(guestlink, a_symbol_outside_its_section_refuses)
{
	size_t o = add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
		       "\t.data\n\t.globl d\nd:\t.quad 0\n");

	symbol(o, "d")->st_value = 9;
	expect_refused("a.o: symbol 'd' lies outside its section .data");
}

/* --- symbols
 * ------------------------------------------------------------------------------------------ */

Test(guestlink, symbols_resolve_across_objects)
{
	struct pvsub_guestlink_layout l;

	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tjmp helper\n"
	    "\t.data\n\t.quad helper\n");
	add("\t.text\n\t.byte 0x90\n\t.globl helper\nhelper:\n\tret\n");
	uint64_t v = linked_data_word(&l);

	/* helper: after a.o's 5-byte jmp, one nop into b.o's .text. */
	cr_assert_eq(v, BASE + l.code.offset + 6);
}

Test(guestlink, unknown_symbols_refuse_naming_symbol_and_object)
{
	struct pvsub_diag d = {""};
	struct pvsub_guestlink *gl = NULL;

	add(entry_src);
	add("\t.data\n\t.quad nosuch\n");
	expect_refused("b.o: unknown symbol 'nosuch' (not in the guest API)");
	/* Without names, the object's index. */
	cr_assert_eq(plan(NULL, &gl, &d), -EINVAL);
	check_line(&d, "object 1: unknown symbol 'nosuch'");
	/* A hostile name is quoted, and cut. */
	teardown();
	add(entry_src);
	size_t o = add("\t.data\n\t.quad evil_name_that_goes_on_and_on_and_on_for_ever\n");
	Elf64_Sym *s = symbol(o, "evil_name_that_goes_on_and_on_and_on_for_ever");
	Elf64_Shdr str = sh_get(o, sh_get(o, sec(o, ".symtab")).sh_link);
	data[o][str.sh_offset + s->st_name + 4] = '\n';
	expect_refused("unknown symbol 'evil\\x0aname_that_goes_on_and_on_an...'");
}

Test(guestlink, a_symbol_defined_twice_refuses)
{
	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n\t.globl "
	    "dup\ndup:\tret\n");
	add("\t.text\n\t.globl dup\ndup:\tret\n");
	expect_refused("b.o: symbol 'dup' is also defined in a.o");
}

Test(guestlink, a_strong_definition_beats_a_weak_one)
{
	struct pvsub_guestlink_layout l;

	/* a.o's own reference to its weak w goes to b.o's strong w. */
	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
	    "\t.weak w\nw:\tret\n\t.data\n\t.quad w\n");
	add("\t.text\n\t.globl w\nw:\tret\n");
	uint64_t v = linked_data_word(&l);

	cr_assert_eq(v, BASE + l.code.offset + 2);
}

/* The other order: b.o's own reference to its weak w, the definition
 * that loses to a.o's strong w (and sorts after it), goes to a.o's w; and
 * a.o's to its own.  The control is a.o's w being one byte into its code,
 * where b.o's own w could never be. */
Test(guestlink, a_weak_definition_after_a_strong_one_yields)
{
	struct pvsub_guestlink_layout l;

	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
	    "\t.globl w\nw:\tret\n");
	add("\t.text\n\t.weak w\nw:\tret\n\t.data\n\t.quad w\n");
	uint64_t v = linked_data_word(&l);

	cr_assert_eq(v, BASE + l.code.offset + 1, "w is at %#llx", (unsigned long long)v);
}

Test(guestlink, weak_undefined_refuses)
{
	add(entry_src);
	add("\t.weak wu\n\t.data\n\t.quad wu\n");
	expect_refused("b.o: weak undefined symbol 'wu' is not supported");
}

Test(guestlink, common_symbols_refuse)
{
	add(entry_src);
	add("\t.comm cm, 4, 4\n");
	expect_refused("b.o: common symbol 'cm' (build with -fno-common)");
}

Test(guestlink, thread_local_storage_refuses)
{
	add(entry_src);
	add("\t.section .tdata,\"awT\",@progbits\n\t.long 1\n");
	expect_refused("b.o: section .tdata: thread-local storage is not supported");
	teardown();
	add(entry_src);
	add("\t.data\n\t.type tv, @tls_object\ntv:\t.long 1\n");
	expect_refused("b.o: symbol 'tv': thread-local storage is not supported");
}

Test(guestlink, ifunc_refuses)
{
	add(entry_src);
	add("\t.text\n\t.type ifn, @gnu_indirect_function\nifn:\tret\n");
	expect_refused("b.o: symbol 'ifn': IFUNC symbols are not supported");
}

Test(guestlink, constructors_refuse)
{
	static const char *const sections[] = {
		"\t.section .init_array,\"aw\",@init_array\n",
		"\t.section .fini_array,\"aw\",@fini_array\n",
		"\t.section .ctors,\"aw\",@progbits\n",
		"\t.section .ctors.65535,\"aw\",@progbits\n",
		"\t.section .dtors,\"aw\",@progbits\n",
		"\t.section .preinit_array,\"aw\",@preinit_array\n",
	};
	char src[256];

	for (size_t i = 0; i < PVSUB_ARRAY_SIZE(sections); i++) {
		add(entry_src);
		snprintf(src, sizeof(src), "%s\t.quad 0\n", sections[i]);
		add(src);
		expect_refused("constructors and destructors are not run");
		teardown();
	}
	/* Negative control: a section whose name only starts the same way. */
	add(entry_src);
	add("\t.section .ctorsx,\"aw\",@progbits\n\t.quad 0\n");
	pvsub_guestlink_free(plan_ok());
}

Test(guestlink, sections_it_does_not_understand_refuse)
{
	size_t o;

	add(entry_src);
	add("\t.section .text.f,\"axG\",@progbits,f,comdat\nf:\tret\n");
	expect_refused("b.o: section .group: COMDAT groups are not supported");
	teardown();
	add(entry_src);
	add("\t.section .wx,\"awx\",@progbits\n\tret\n");
	expect_refused("b.o: section .wx: writable code");
	teardown();
	add(entry_src);
	add("\t.section .note.GNU-stack,\"x\",@progbits\n");
	expect_refused("b.o: asks for an executable stack");
	teardown();
	add(entry_src);
	add("\t.section .kept,\"aR\",@progbits\n\t.long 0\n");
	expect_refused("b.o: section .kept: flags 0x200000 are not understood");
	teardown();
	add(entry_src);
	o = add("\t.section .rodata\n\t.long 0\n");
	Elf64_Shdr sh = sh_get(o, sec(o, ".rodata"));
	sh.sh_type = SHT_HASH;
	sh_put(o, sec(o, ".rodata"), &sh);
	expect_refused("b.o: section .rodata: allocated section of type 0x5 is not understood");
	/* Negative control: the non-executable stack note and other
	 * metadata link. */
	teardown();
	add(entry_src);
	add("\t.section .note.GNU-stack,\"\",@progbits\n\t.section .debug_str,\"MS\",@progbits,1\n"
	    "\t.string \"x\"\n\t.section .note.x,\"a\",@note\n\t.long 0\n");
	pvsub_guestlink_free(plan_ok());
}

Test(guestlink, an_image_too_large_refuses)
{
	add(entry_src);
	add("\t.bss\n\t.skip 0x50000000\n");
	expect_refused("b.o: section .bss: 1342177280 bytes is too large");
	/* Each section fits, their sum does not. */
	teardown();
	add(entry_src);
	add("\t.bss\n\t.skip 0x30000000\n\t.section .bss.b,\"aw\",@nobits\n\t.skip 0x30000000\n");
	expect_refused("b.o: the image would pass 1073741824 bytes at section .bss.b");
}

/* --- the entry point
 * ------------------------------------------------------------------------------------ */

Test(guestlink, the_entry_point_must_be_defined_once_in_code)
{
	add("\t.data\n\t.quad 0\n");
	expect_refused("no object defines the entry point pvsub_guest_main");
	teardown();
	/* A local one does not count. */
	add("\t.text\npvsub_guest_main:\n\tret\n");
	expect_refused("no object defines the entry point");
	teardown();
	add("\t.text\n\t.weak pvsub_guest_main\npvsub_guest_main:\n\tret\n");
	add(entry_src);
	expect_refused("the entry point pvsub_guest_main is defined 2 times");
	teardown();
	add(entry_src);
	add(entry_src);
	expect_refused("b.o: symbol 'pvsub_guest_main' is also defined in a.o");
	teardown();
	add("\t.data\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\t.quad 0\n");
	expect_refused("a.o: the entry point pvsub_guest_main is not in a code section");
	/* Found by fuzz_guestlink: a label after the last byte of code. */
	teardown();
	add("\t.text\n\tret\n\t.globl pvsub_guest_main\npvsub_guest_main:\n");
	expect_refused("a.o: the entry point pvsub_guest_main lies at the end of its section");
}

/* --- the API table and the caller's arguments
 * ------------------------------------------------------------- */

Test(guestlink, the_api_table_is_checked)
{
	static struct pvsub_guestlink_api twice[] = {{"x", 1}, {"ext", 2}, {"x", 3}};
	struct pvsub_guestlink *gl = NULL;
	struct pvsub_diag d = {""};
	const struct pvsub_relobj *v;

	add(entry_src);
	cr_assert_eq(pvsub_relobj_view(data[0], size[0], &view[0], &d), 0);
	v = view[0];
	cr_assert_eq(pvsub_guestlink_plan(&v, names, 1, twice, 3, &gl, &d), -EINVAL);
	check_line(&d, "API table: symbol 'x' is listed twice");
	cr_assert_eq(pvsub_guestlink_plan(&v, names, 0, api, 2, &gl, &d), -EINVAL);
	check_line(&d, "no guest object to link");
	cr_assert_null(gl);
}

Test(guestlink, a_guest_may_not_define_an_api_name)
{
	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n\t.globl "
	    "ext\next:\tret\n");
	expect_refused("a.o: defines 'ext', a name the linker or the guest API defines");
	teardown();
	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
	    "\t.globl _GLOBAL_OFFSET_TABLE_\n_GLOBAL_OFFSET_TABLE_:\tret\n");
	expect_refused("defines '_GLOBAL_OFFSET_TABLE_'");
	/* several: the first in name order, whatever the API table's order */
	teardown();
	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
	    "\t.globl far\nfar:\tret\n\t.globl ext\next:\tret\n");
	expect_refused("a.o: defines 'ext', a name");
	teardown();
	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n\tret\n"
	    "\t.globl far\nfar:\tret\n"
	    "\t.globl _GLOBAL_OFFSET_TABLE_\n_GLOBAL_OFFSET_TABLE_:\tret\n");
	expect_refused("a.o: defines '_GLOBAL_OFFSET_TABLE_', a name");
}

Test(guestlink, global_offset_table_symbol_is_the_got)
{
	struct pvsub_guestlink_layout l;

	add("\t.text\n\t.globl pvsub_guest_main\npvsub_guest_main:\n"
	    "\tmovq ext@GOTPCREL(%rip), %rax\n\tret\n"
	    "\t.data\n\t.reloc ., R_X86_64_64, _GLOBAL_OFFSET_TABLE_\n\t.quad 0\n");
	uint64_t v = linked_data_word(&l);

	cr_assert_eq(v, BASE + l.got.offset);
}

Test(guestlink, apply_checks_base_and_buffer)
{
	struct pvsub_guestlink_layout l;
	struct pvsub_guestlink *gl;
	struct pvsub_diag d = {""};
	uint8_t *img;

	add(entry_src);
	gl = plan_ok();
	pvsub_guestlink_layout(gl, &l);
	img = malloc(l.size);
	cr_assert_eq(pvsub_guestlink_apply(gl, BASE + 16, img, l.size, &d), -EINVAL);
	check_line(&d, "is not page aligned");
	cr_assert_eq(pvsub_guestlink_apply(gl, BASE, img, l.size - 1, &d), -EINVAL);
	check_line(&d, "cannot hold the");
	cr_assert_eq(pvsub_guestlink_apply(gl, UINT64_MAX & ~0xfffull, img, l.size, &d), -EINVAL);
	check_line(&d, "pass the end of the address space");
	cr_assert_eq(pvsub_guestlink_apply(gl, BASE, img, l.size, &d), 0, "%s", d.msg);
	free(img);
	pvsub_guestlink_free(gl);
}
