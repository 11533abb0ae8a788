/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/classify.h"
#include "libpvsub/image.h"
#include "libpvsub/kmeta.h"
#include "tests/unit/elfgen.h"

static struct pvsub_decoder *dec;
static struct pvsub_image *img;
static uint8_t *obj;

static void setup(void)
{
	cr_assert_eq(pvsub_decoder_new(&dec), 0);
}

static void teardown(void)
{
	pvsub_image_free(img);
	img = NULL;
	free(obj);
	obj = NULL;
	pvsub_decoder_free(dec);
	dec = NULL;
}

TestSuite(classify, .init = setup, .fini = teardown);

/* Assemble @src and return the index of its .text region. */
static size_t build(const char *src)
{
	struct pvsub_diag diag = {{0}};
	size_t len;

	cr_assert_eq(elfgen_assemble(src, NULL, &obj, &len), 0, "assembling failed");
	cr_assert_eq(pvsub_image_new(obj, len, &img, &diag), 0, "%s", diag.msg);
	for (size_t i = 0; i < pvsub_image_region_count(img); i++)
		if (!strcmp(pvsub_image_region(img, i)->name, ".text"))
			return i;
	cr_assert_fail("no .text region");
	return 0;
}

/* Position of the first occurrence of @pat in region @r. */
static size_t find(size_t r, const char *pat, size_t n)
{
	const struct pvsub_region *reg = pvsub_image_region(img, r);
	const uint8_t *p = memmem(reg->bytes, reg->size, pat, n);

	cr_assert_not_null(p, "pattern not in region");
	return (size_t)(p - reg->bytes);
}

static struct pvsub_classification classify_at(size_t r, size_t pos, size_t len)
{
	struct pvsub_classification c;

	cr_assert_eq(pvsub_classify_at(dec, img, r, pos, len, &c), 0);
	return c;
}

#define FUNC(name) ".globl " name "\n.type " name ", @function\n" name ":\n"

Test(classify, real_instruction)
{
	size_t r = build(".text\n" FUNC("f") "nop\n.byte 0x0f,0x01,0xef\nret\n");
	size_t pos = find(r, "\x0f\x01\xef", 3);
	struct pvsub_classification c = classify_at(r, pos, 3);

	cr_expect_eq(pos, 1);
	cr_expect_eq(c.cls, PVSUB_CLASS_INSTRUCTION);
	cr_expect_str_eq(c.field, "");
	cr_expect_eq(c.insn_pos, 1);
	cr_expect_eq(c.insn_len, 3);
	cr_expect_str_eq(c.insn_text, "wrpkru");
	cr_expect_str_eq(pvsub_class_name(c.cls), "instruction");
}

Test(classify, embedded_immediate)
{
	size_t r = build(".text\n" FUNC("f") "nop\nmov $0xef010f00, %eax\nret\n");
	size_t pos = find(r, "\x0f\x01\xef", 3);
	struct pvsub_classification c = classify_at(r, pos, 3);

	cr_expect_eq(c.cls, PVSUB_CLASS_EMBEDDED);
	cr_expect_str_eq(c.field, "immediate");
	cr_expect_eq(c.insn_pos, 1);
	cr_expect_eq(c.insn_len, 5);
	cr_expect_str_eq(c.insn_text, "mov eax, 0xef010f00");
}

Test(classify, embedded_displacement)
{
	size_t r = build(".text\n" FUNC("f") "mov 0xef010f(%rax), %eax\nret\n");
	size_t pos = find(r, "\x0f\x01\xef", 3);
	struct pvsub_classification c = classify_at(r, pos, 3);

	cr_expect_eq(pos, 2);
	cr_expect_eq(c.cls, PVSUB_CLASS_EMBEDDED);
	cr_expect_str_eq(c.field, "displacement");
	cr_expect_eq(c.insn_pos, 0);
	cr_expect_eq(c.insn_len, 6);
}

Test(classify, embedded_displacement_and_immediate)
{
	/* c7 80 <00 00 00 0f> <01 ef cc cc> */
	size_t r = build(".text\n" FUNC("f") "movl $0xccccef01, 0x0f000000(%rax)\nret\n");
	size_t pos = find(r, "\x0f\x01\xef", 3);
	struct pvsub_classification c = classify_at(r, pos, 3);

	cr_expect_eq(pos, 5);
	cr_expect_eq(c.cls, PVSUB_CLASS_EMBEDDED);
	cr_expect_str_eq(c.field, "displacement+immediate");
}

Test(classify, spanning_two_instructions)
{
	/* b8 00 00 0f 01 | ef (out %eax,(%dx)) */
	size_t r = build(".text\n" FUNC("f") "mov $0x010f0000, %eax\nout %eax, (%dx)\nret\n");
	size_t pos = find(r, "\x0f\x01\xef", 3);
	struct pvsub_classification c = classify_at(r, pos, 3);

	cr_expect_eq(pos, 3);
	cr_expect_eq(c.cls, PVSUB_CLASS_SPANNING);
	cr_expect_eq(c.insn_pos, 0);
	cr_expect_eq(c.insn_len, 5);
	cr_expect_str_eq(c.field, "");
}

Test(classify, spanning_past_region_end)
{
	size_t r = build(".text\n" FUNC("f") "ret\nmov $0x010f0000, %eax\n");
	const struct pvsub_region *reg = pvsub_image_region(img, r);
	struct pvsub_classification c;

	cr_assert_eq(reg->size, 6);
	/* what would follow the region in memory is not known here: 0f 01 + ?? */
	c = classify_at(r, 4, 3);
	cr_expect_eq(c.cls, PVSUB_CLASS_SPANNING);
	cr_expect_eq(c.insn_pos, 1);
}

Test(classify, relocation_window)
{
	size_t r = build(".text\n" FUNC("f") "nop\ncall ext\nret\n");
	struct pvsub_classification c;

	/* the rel32 of the call is at 2..5 */
	c = classify_at(r, 1, 2);
	cr_expect_eq(c.cls, PVSUB_CLASS_RELOCATION);
	cr_expect_str_eq(pvsub_class_name(c.cls), "relocation");
	c = classify_at(r, 5, 2);
	cr_expect_eq(c.cls, PVSUB_CLASS_RELOCATION);
	/* bytes right before and right after the window are decoded */
	c = classify_at(r, 0, 2);
	cr_expect_eq(c.cls, PVSUB_CLASS_SPANNING);
	c = classify_at(r, 6, 1);
	cr_expect_eq(c.cls, PVSUB_CLASS_INSTRUCTION);
	cr_expect_str_eq(c.insn_text, "ret");
}

/*
 * A vmlinux (ET_EXEC) linked without page alignment (-n), so that its one
 * PT_LOAD starts 0x78 bytes into a page: its region begins at the page,
 * origin -0x78, and a window's offset (from p_offset) is not its position.
 * The alternative covers the first WRPKRU; the second, right after the
 * window, is an instruction.
 */
static const char kernel_src[] = "\t.text\n"
				 "\t.globl _start\n"
				 "_start:\n"
				 "\tnop\n"
				 "1:\t.byte 0x0f, 0x01, 0xef\n"
				 "2:\t.byte 0x0f, 0x01, 0xef\n"
				 "\tret\n"
				 "\t.section .altinstr_replacement, \"ax\"\n"
				 "3:\t.byte 0x90, 0x90, 0x90\n"
				 "4:\n"
				 "\t.section .altinstructions, \"a\"\n"
				 "\t.long 1b - ., 3b - .\n"
				 "\t.word 0\n"
				 "\t.byte 2b - 1b, 4b - 3b\n";

Test(classify, patch_site_in_a_segment)
{
	static const char wrpkru[] = {0x0f, 0x01, 0xef};
	struct pvsub_diag diag = {{0}};
	struct pvsub_classification c;
	const struct pvsub_mwindow *mw;
	size_t len, n;

	cr_assert_eq(elfgen_link_exec(kernel_src, "-Wl,-n", &obj, &len), 0, "linking failed");
	cr_assert_eq(pvsub_image_new(obj, len, &img, &diag), 0, "%s", diag.msg);
	cr_assert_eq(pvsub_image_region_count(img), 1);
	const struct pvsub_region *reg = pvsub_image_region(img, 0);
	cr_assert(reg->is_segment);
	cr_assert_lt(reg->origin, 0, "the fixture must not start on a page");
	cr_assert_eq(pvsub_image_mutable_windows(img, 0, &mw, &n), 0);
	cr_assert_eq(n, 2, "%zu windows", n); /* the alternative, its replacement */
	size_t at = find(0, wrpkru, sizeof(wrpkru));
	cr_assert_eq(mw[0].offset, (uint64_t)((int64_t)at + reg->origin));

	c = classify_at(0, at, 3);
	cr_expect_eq(c.cls, PVSUB_CLASS_PATCH_SITE, "%s", pvsub_class_name(c.cls));
	cr_expect_str_eq(c.field, "alternative");
	/* The negative control: the same bytes just after the window. */
	c = classify_at(0, at + 3, 3);
	cr_expect_eq(c.cls, PVSUB_CLASS_INSTRUCTION, "%s", pvsub_class_name(c.cls));
	cr_expect_str_eq(c.insn_text, "wrpkru");
	/* Overlapping the window by its last byte is enough. */
	c = classify_at(0, at + 2, 3);
	cr_expect_eq(c.cls, PVSUB_CLASS_PATCH_SITE);
}

Test(classify, undecoded_after_garbage)
{
	size_t r = build(".text\n" FUNC("f") ".byte 0xff,0xff\n.byte 0x0f,0x01,0xef\nret\n");
	size_t pos = find(r, "\x0f\x01\xef", 3);
	struct pvsub_classification c = classify_at(r, pos, 3);

	cr_expect_eq(c.cls, PVSUB_CLASS_UNDECODED);
	cr_expect_str_eq(c.insn_text, "");
	cr_expect_eq(c.insn_len, 0);
}

Test(classify, decoding_starts_at_function_symbol)
{
	/* From the section start, b8 swallows the next four bytes as an
	 * immediate; from g's symbol the gate opcode is an instruction. */
	size_t r = build(".text\n.byte 0xb8\n" FUNC("g") ".byte 0x0f,0x01,0xef\nnop\nret\n");
	struct pvsub_classification c = classify_at(r, 1, 3);

	cr_expect_eq(c.cls, PVSUB_CLASS_INSTRUCTION);
	cr_expect_eq(c.insn_pos, 1);
	c = classify_at(r, 0, 1);
	cr_expect_eq(c.cls, PVSUB_CLASS_INSTRUCTION);
	cr_expect_str_eq(c.insn_text, "mov eax, 0x90ef010f");
}

Test(classify, function_after_undecodable_data)
{
	size_t r = build(".text\n.byte 0x06,0x06\n" FUNC("g") "nop\n.byte 0x0f,0x01,0xef\n");
	struct pvsub_classification c = classify_at(r, 3, 3);

	cr_expect_eq(c.cls, PVSUB_CLASS_INSTRUCTION);
	c = classify_at(r, 1, 1);
	cr_expect_eq(c.cls, PVSUB_CLASS_UNDECODED);
}

Test(classify, prefix_and_opcode)
{
	/* 66 90: xchg %ax,%ax */
	size_t r = build(".text\n" FUNC("f") "xchg %ax, %ax\nret\n");
	struct pvsub_classification c = classify_at(r, 0, 2);

	cr_expect_eq(c.cls, PVSUB_CLASS_EMBEDDED);
	cr_expect_str_eq(c.field, "prefix+opcode");
	c = classify_at(r, 0, 1);
	cr_expect_eq(c.cls, PVSUB_CLASS_EMBEDDED);
	cr_expect_str_eq(c.field, "prefix");
	/* the opcode byte alone: at the opcode, so an instruction */
	c = classify_at(r, 1, 1);
	cr_expect_eq(c.cls, PVSUB_CLASS_INSTRUCTION);
}

Test(classify, modrm_and_sib_fields)
{
	/* 8b 44 24 08: mov 8(%rsp),%eax */
	size_t r = build(".text\n" FUNC("f") "mov 8(%rsp), %eax\n");
	struct pvsub_classification c = classify_at(r, 1, 2);

	cr_expect_eq(c.cls, PVSUB_CLASS_EMBEDDED);
	cr_expect_str_eq(c.field, "modrm+sib");
	c = classify_at(r, 2, 2);
	cr_expect_str_eq(c.field, "sib+displacement");
}

Test(classify, bad_arguments)
{
	size_t r = build(".text\n" FUNC("f") "ret\n");
	struct pvsub_classification c;

	cr_expect_eq(pvsub_classify_at(dec, img, r, 1, 1, &c), -EINVAL);
	cr_expect_eq(pvsub_classify_at(dec, img, r, 0, 0, &c), -EINVAL);
	/* an absurd length is not an overflow: it just runs past the region */
	cr_expect_eq(pvsub_classify_at(dec, img, r, 0, SIZE_MAX, &c), 0);
	cr_expect_eq(c.cls, PVSUB_CLASS_SPANNING);
	cr_expect_eq(pvsub_classify_at(dec, img, pvsub_image_region_count(img), 0, 1, &c), -EINVAL);
}

Test(classify, deep_sweep_statistics)
{
	size_t r =
		build(".text\n" FUNC("f") "nop\n.byte 0x0f,0x01,0xef\nret\n.byte 0x06,0x06\n" FUNC(
			"g") "nop\nret\n.byte 0x06\n");
	struct pvsub_deep_stats st = {0};

	cr_assert_eq(pvsub_classify_sweep(dec, img, r, &st), 0);
	cr_expect_eq(st.bytes, 10);
	cr_expect_eq(st.instructions, 4);
	cr_expect_eq(st.table_hits, 1);
	cr_expect_eq(st.undecoded_bytes, 3);
	cr_expect_eq(st.undecoded_runs, 2);
	/* statistics accumulate */
	cr_assert_eq(pvsub_classify_sweep(dec, img, r, &st), 0);
	cr_expect_eq(st.bytes, 20);
	cr_expect_eq(st.instructions, 8);
}

Test(classify, class_names)
{
	cr_expect_str_eq(pvsub_class_name(PVSUB_CLASS_EMBEDDED), "embedded");
	cr_expect_str_eq(pvsub_class_name(PVSUB_CLASS_SPANNING), "spanning");
	cr_expect_str_eq(pvsub_class_name(PVSUB_CLASS_PATCH_SITE), "patch-site");
	cr_expect_str_eq(pvsub_class_name(PVSUB_CLASS_UNDECODED), "undecoded");
}
