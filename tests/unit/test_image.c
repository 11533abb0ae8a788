/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/image.h"
#include "tests/unit/elfgen.h"

static uint8_t *data;
static size_t size;

static void build_asm(const char *src)
{
	free(data);
	data = NULL;
	cr_assert_eq(elfgen_assemble(src, NULL, &data, &size), 0, "assembling failed");
}

static void build_so(const char *src, const char *flags)
{
	free(data);
	data = NULL;
	cr_assert_eq(elfgen_compile_c(src, flags, &data, &size), 0, "linking failed");
}

static void teardown(void)
{
	free(data);
	data = NULL;
}

TestSuite(image, .fini = teardown);

static struct pvsub_image *open_ok(void)
{
	struct pvsub_diag diag = {""};
	struct pvsub_image *img = NULL;

	cr_assert_eq(pvsub_image_new(data, size, &img, &diag), 0, "%s", diag.msg);
	return img;
}

static void expect_error(const char *needle)
{
	struct pvsub_diag diag = {""};
	struct pvsub_image *img = NULL;

	cr_assert_eq(pvsub_image_new(data, size, &img, &diag), -EINVAL);
	cr_assert_null(img);
	cr_assert_not_null(strstr(diag.msg, needle), "diag '%s' lacks '%s'", diag.msg, needle);
	cr_assert_null(strchr(diag.msg, '\n'));
}

static bool has_violation(const struct pvsub_image *img, const char *kind)
{
	for (size_t i = 0; i < pvsub_image_violation_count(img); i++)
		if (strcmp(pvsub_image_violation(img, i)->kind, kind) == 0)
			return true;
	return false;
}

static Elf64_Shdr *section(const char *name)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)data;
	Elf64_Shdr *sh = (Elf64_Shdr *)(data + eh->e_shoff);
	const char *strtab = (const char *)data + sh[eh->e_shstrndx].sh_offset;

	for (unsigned i = 0; i < eh->e_shnum; i++)
		if (strcmp(strtab + sh[i].sh_name, name) == 0)
			return &sh[i];
	cr_assert_fail("no section %s", name);
	return NULL;
}

static const char two_texts[] =
	"\t.text\n"
	"\t.globl f\n\t.type f,@function\nf:\n\tnop\n\tcall ext\n\tret\n\t.size f,.-f\n"
	"\t.globl g\n\t.type g,@function\ng:\n\tret\n\t.size g,.-g\n"
	"\t.section .text.unlikely,\"ax\",@progbits\n\t.p2align 4\n\tud2\n"
	"\t.data\n\t.quad 1\n";

Test(image, relocatable_regions_are_exec_sections)
{
	struct pvsub_image *img;
	const struct pvsub_region *r0, *r1;
	size_t pad;

	build_asm(two_texts);
	img = open_ok();
	cr_assert_eq(pvsub_image_kind(img), PVSUB_ELF_REL);
	cr_assert_eq(pvsub_image_machine(img), EM_X86_64);
	cr_assert_eq(pvsub_image_region_count(img), 2);
	r0 = pvsub_image_region(img, 0);
	r1 = pvsub_image_region(img, 1);
	cr_assert_str_eq(r0->name, ".text");
	cr_assert_str_eq(r1->name, ".text.unlikely");
	cr_assert_eq(r0->size, 8); /* nop, call rel32, ret, ret */
	cr_assert_eq(r0->origin, 0);
	cr_assert_eq(r0->bytes, data + section(".text")->sh_offset);
	cr_assert_eq(r1->align, 16);
	cr_assert(pvsub_image_may_adjoin(img, 0, 1, &pad));
	cr_assert_eq(pad, 15);
	cr_assert(pvsub_image_may_adjoin(img, 1, 0, &pad));
	cr_assert_eq(pad, 0, "text is aligned to 1 by the assembler's default here");
	cr_assert_not(pvsub_image_may_adjoin(img, 0, 0, &pad));
	cr_assert_eq(pvsub_image_violation_count(img), 0);
	cr_assert_not(pvsub_image_modsig(img)->present);
	pvsub_image_free(img);
}

Test(image, code_starts_are_function_symbols)
{
	const struct pvsub_code_start *st;
	struct pvsub_image *img;
	size_t n;

	build_asm(two_texts);
	img = open_ok();
	cr_assert_eq(pvsub_image_code_starts(img, 0, &st, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(st[0].pos, 0);
	cr_assert_str_eq(st[0].name, "f");
	cr_assert_eq(st[0].size, 7);
	cr_assert_eq(st[1].pos, 7);
	cr_assert_str_eq(st[1].name, "g");
	cr_assert_eq(pvsub_image_code_starts(img, 1, &st, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(st[0].pos, 0);
	cr_assert_null(st[0].name);
	pvsub_image_free(img);
}

Test(image, relocation_windows)
{
	const struct pvsub_reloc_window *w;
	struct pvsub_image *img;
	size_t n;

	build_asm(two_texts);
	img = open_ok();
	cr_assert_eq(pvsub_image_reloc_window_count(img, 0), 1);
	cr_assert_eq(pvsub_image_reloc_windows(img, 0, &w, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(w[0].pos, 2); /* after nop and the call opcode */
	cr_assert_eq(w[0].size, 4);
	cr_assert_eq(w[0].type, R_X86_64_PLT32);
	cr_assert_str_eq(w[0].symbol, "ext");
	cr_assert_eq(w[0].addend, -4);
	cr_assert_eq(pvsub_image_reloc_windows(img, 1, &w, &n), 0);
	cr_assert_eq(n, 0);
	pvsub_image_free(img);
}

Test(image, relocation_outside_its_section_is_a_violation)
{
	struct pvsub_image *img;
	Elf64_Rela *rela;

	build_asm(two_texts);
	rela = (Elf64_Rela *)(data + section(".rela.text")->sh_offset);
	rela->r_offset = 6; /* a 4-byte field at 6 ends past the 8-byte .text */
	img = open_ok();
	cr_assert(has_violation(img, "relocation-out-of-section"));
	cr_assert_eq(pvsub_image_reloc_window_count(img, 0), 0);
	pvsub_image_free(img);
}

Test(image, exec_nobits_and_wx_sections)
{
	struct pvsub_image *img;

	build_asm("\t.section .xbss,\"awx\",@nobits\n\t.zero 64\n"
		  "\t.section .wxtext,\"awx\",@progbits\n\tret\n");
	img = open_ok();
	cr_assert(has_violation(img, "exec-nobits"));
	cr_assert(has_violation(img, "wx-section"));
	cr_assert_eq(pvsub_image_region_count(img), 1, "the W+X section is still scanned");
	pvsub_image_free(img);
}

Test(image, section_out_of_file_and_overlap)
{
	struct pvsub_image *img;

	build_asm(two_texts);
	section(".text.unlikely")->sh_offset = size - 1;
	section(".data")->sh_offset = section(".text")->sh_offset + 2;
	img = open_ok();
	cr_assert(has_violation(img, "section-out-of-file"));
	cr_assert(has_violation(img, "overlapping-sections"));
	cr_assert_eq(pvsub_image_region_count(img), 1,
		     "a section outside the file is not a region");
	pvsub_image_free(img);
}

Test(image, shared_object_segments_are_page_extended)
{
	struct pvsub_image *img;
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;
	bool found = false;

	build_so("int f(int x) { return x * 3; }", "-shared -fPIC -O2");
	img = open_ok();
	cr_assert_eq(pvsub_image_kind(img), PVSUB_ELF_DYN);
	cr_assert_geq(pvsub_image_region_count(img), 1);
	eh = (Elf64_Ehdr *)data;
	ph = (Elf64_Phdr *)(data + eh->e_phoff);
	for (size_t i = 0; i < pvsub_image_region_count(img); i++) {
		const struct pvsub_region *r = pvsub_image_region(img, i);
		const Elf64_Phdr *p = &ph[r->index];

		cr_assert(r->is_segment);
		cr_assert(p->p_flags & PF_X);
		cr_assert_eq(r->file_offset % PVSUB_PAGE_SIZE, 0);
		cr_assert_eq((int64_t)r->file_offset - (int64_t)p->p_offset, r->origin);
		cr_assert_geq(r->file_offset + r->size, p->p_offset + p->p_filesz);
		cr_assert(r->size % PVSUB_PAGE_SIZE == 0 || r->file_offset + r->size == size);
		found = true;
	}
	cr_assert(found);
	cr_assert_not(has_violation(img, "exec-stack"));
	pvsub_image_free(img);
}

Test(image, exec_stack_is_a_violation)
{
	struct pvsub_image *img;

	build_so("int f(int x) { return x; }", "-shared -fPIC -Wl,-z,execstack");
	img = open_ok();
	cr_assert(has_violation(img, "exec-stack"));
	pvsub_image_free(img);
}

Test(image, text_relocations_are_a_violation)
{
	struct pvsub_image *img;

	/* An absolute address in code makes the linker emit DT_TEXTREL. */
	build_so("extern int v; __asm__(\".text\\n.globl g\\ng: movabs $v, %rax\\nret\\n\");",
		 "-shared -fPIC -Wl,-z,notext");
	img = open_ok();
	cr_assert(has_violation(img, "textrel"));
	pvsub_image_free(img);
}

static void append_modsig(uint32_t sig_len, uint32_t claimed)
{
	static const char marker[] = "~Module signature appended~\n";
	uint8_t *p = realloc(data, size + sig_len + 12 + 28);

	cr_assert_not_null(p);
	data = p;
	memset(data + size, 0x0f, sig_len);
	memset(data + size + sig_len, 0, 12);
	data[size + sig_len + 2] = 2; /* PKEY_ID_PKCS7 */
	data[size + sig_len + 8] = (uint8_t)(claimed >> 24);
	data[size + sig_len + 9] = (uint8_t)(claimed >> 16);
	data[size + sig_len + 10] = (uint8_t)(claimed >> 8);
	data[size + sig_len + 11] = (uint8_t)claimed;
	memcpy(data + size + sig_len + 12, marker, 28);
	size += sig_len + 12 + 28;
}

Test(image, module_signature_trailer)
{
	const struct pvsub_modsig *ms;
	struct pvsub_image *img;
	size_t elf_size;

	build_asm(two_texts);
	elf_size = size;
	append_modsig(100, 100);
	img = open_ok();
	ms = pvsub_image_modsig(img);
	cr_assert(ms->present);
	cr_assert_eq(ms->offset, elf_size);
	cr_assert_eq(ms->size, 140);
	cr_assert_eq(ms->sig_len, 100);
	cr_assert_eq(ms->id_type, 2);
	pvsub_image_free(img);
}

Test(image, module_signature_that_does_not_fit)
{
	build_asm(two_texts);
	append_modsig(10, 0x7fffffff);
	expect_error("module signature");
}

/* Append struct module_signature @info and the marker: the bytes it
 * claims as signature are whatever the file ends in. */
static void append_trailer(const uint8_t info[12])
{
	static const char marker[] = "~Module signature appended~\n";
	uint8_t *p = realloc(data, size + 12 + 28);

	cr_assert_not_null(p);
	data = p;
	memcpy(data + size, info, 12);
	memcpy(data + size + 12, marker, 28);
	size += 12 + 28;
}

/* A real signature of the format before Linux 4.3 (X.509 id, signer name
 * and key id before the signature) is a signature, not an input error. */
Test(image, module_signature_of_the_older_format)
{
	static const uint8_t info[12] = {1, 4, 1, 5, 6, 0, 0, 0, 0, 0, 0, 100};
	const struct pvsub_modsig *ms;
	struct pvsub_image *img;
	size_t elf_size;
	uint8_t *p;

	build_asm(two_texts);
	elf_size = size;
	p = realloc(data, size + 5 + 6 + 100);
	cr_assert_not_null(p);
	data = p;
	memset(data + size, 0x0f, 5 + 6 + 100);
	size += 5 + 6 + 100;
	append_trailer(info);
	img = open_ok();
	ms = pvsub_image_modsig(img);
	cr_assert(ms->present);
	cr_assert_eq(ms->offset, elf_size);
	cr_assert_eq(ms->size, 5 + 6 + 100 + 40);
	cr_assert_eq(ms->sig_offset, elf_size + 5 + 6);
	cr_assert_eq(ms->id_type, 1);
	cr_assert_eq(pvsub_image_violation_count(img), 0);
	pvsub_image_free(img);
}

/*
 * A trailer whose "signature" is the bytes of an executable section cannot
 * take them out of the scan: the section then lies outside the ELF file,
 * a violation.  The control, the same file without the trailer, has the
 * section as a region.
 */
Test(image, forged_trailer_cannot_hide_code)
{
	static const uint8_t gate[] = {0x0f, 0x01, 0xd4, 0xc3}; /* vmfunc; ret */
	static const uint8_t info[12] = {0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, sizeof(gate)};
	struct pvsub_image *img;
	uint64_t at;
	uint8_t *p;

	build_asm("\t.text\n\tnop\n\tnop\n\tnop\n\tret\n");
	/* move .text to the end of the file, after the section headers */
	at = size;
	p = realloc(data, size + sizeof(gate));
	cr_assert_not_null(p);
	data = p;
	memcpy(data + at, gate, sizeof(gate));
	size += sizeof(gate);
	section(".text")->sh_offset = at;

	img = open_ok();
	cr_assert_not(pvsub_image_modsig(img)->present);
	cr_assert_not(has_violation(img, "section-out-of-file"));
	cr_assert_eq(pvsub_image_region_count(img), 1);
	cr_assert_eq(pvsub_image_region(img, 0)->bytes, data + at);
	pvsub_image_free(img);

	append_trailer(info);
	img = open_ok();
	cr_assert(pvsub_image_modsig(img)->present);
	cr_assert_eq(pvsub_image_modsig(img)->offset, at);
	cr_assert(has_violation(img, "section-out-of-file"));
	cr_assert_eq(pvsub_image_region_count(img), 0);
	pvsub_image_free(img);
}

Test(image, bad_files_are_one_line_errors)
{
	static const uint8_t text[] = "hello, world";
	uint8_t *copy;

	build_asm(two_texts);
	copy = malloc(size);
	memcpy(copy, data, size);

	memcpy(data, text, sizeof(text));
	expect_error("not an ELF file");

	memcpy(data, copy, size);
	data[EI_CLASS] = ELFCLASS32;
	expect_error("class");

	memcpy(data, copy, size);
	data[EI_DATA] = ELFDATA2MSB;
	expect_error("byte order");

	memcpy(data, copy, size);
	((Elf64_Ehdr *)data)->e_machine = EM_AARCH64;
	expect_error("machine 183");

	memcpy(data, copy, size);
	((Elf64_Ehdr *)data)->e_type = ET_CORE;
	expect_error("ELF type 4");

	memcpy(data, copy, size);
	((Elf64_Ehdr *)data)->e_shoff = size - 10;
	expect_error("truncated");

	memcpy(data, copy, size);
	((Elf64_Ehdr *)data)->e_shentsize = 10;
	expect_error("section header size");

	/* Every truncation of a real object is an error or an image, never
	 * a crash; a cut through the section header table is an error. */
	for (size_t cut = 0; cut < size; cut++) {
		struct pvsub_image *img = NULL;
		int r = pvsub_image_new(copy, cut, &img, NULL);

		if (cut >= ((Elf64_Ehdr *)copy)->e_shoff)
			cr_assert_eq(r, -EINVAL, "cut at %zu", cut);
		cr_assert(r == 0 || r == -EINVAL);
		pvsub_image_free(img);
	}
	free(copy);
}
