/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libpvsub/scan.h"
#include "libpvsub/certify.h"
#include "tests/unit/elfgen.h"

static struct pvsub_policy *policy;
static struct pvsub_matcher *matcher;
static struct pvsub_decoder *decoder;
static uint8_t *data;
static size_t size;

static void setup(void)
{
	const struct pvsub_pattern *p;
	size_t n;

	cr_assert_eq(pvsub_policy_new_builtin("default", &policy, NULL), 0);
	p = pvsub_policy_patterns(policy, &n);
	cr_assert_eq(pvsub_matcher_new(p, n, &matcher), 0);
	cr_assert_eq(pvsub_decoder_new(&decoder), 0);
}

static void teardown(void)
{
	pvsub_decoder_free(decoder);
	pvsub_matcher_free(matcher);
	pvsub_policy_free(policy);
	free(data);
	data = NULL;
}

TestSuite(scan, .init = setup, .fini = teardown);

static struct pvsub_scan_result *scan_asm(const char *src, bool hashes)
{
	struct pvsub_scan_opts o = {policy, matcher, decoder, false, hashes};
	struct pvsub_scan_result *res = NULL;
	struct pvsub_diag diag = {""};

	free(data);
	cr_assert_eq(elfgen_assemble(src, NULL, &data, &size), 0);
	cr_assert_eq(pvsub_scan_buffer(&o, data, size, &res, &diag), 0, "%s", diag.msg);
	return res;
}

Test(scan, chain_through_a_one_byte_section)
{
	/* 0f | 01 | d4: VMFUNC only if three sections are laid end to end. */
	struct pvsub_scan_result *r =
		scan_asm("\t.section .a,\"ax\",@progbits\n\tret\n\t.byte 0x0f\n"
			 "\t.section .b,\"ax\",@progbits\n\t.byte 0x01\n"
			 "\t.section .c,\"ax\",@progbits\n\t.byte 0xd4\n\tret\n",
			 false);

	cr_assert_eq(r->n_findings, 1);
	cr_assert_str_eq(r->findings[0].section, ".a|.b|.c");
	cr_assert(r->findings[0].junction);
	cr_assert_eq(r->findings[0].offset, 1);
	cr_assert_eq(r->findings[0].pad, 0);
	cr_assert_eq(r->findings[0].cls.cls, PVSUB_CLASS_SPANNING);
	cr_assert_str_eq(r->findings[0].pattern->id, "vmfunc");
	cr_assert_eq(r->sha256[0], '\0', "no hashes unless asked");
	pvsub_scan_result_free(r);
}

Test(scan, junction_in_both_orders_and_with_padding)
{
	/* .y ends in 0f 01, .x starts with d4 and is aligned to 2: the pair
	 * (.y, .x) forms VMFUNC with no padding only; (.x, .y) never. */
	struct pvsub_scan_result *r =
		scan_asm("\t.section .x,\"ax\",@progbits\n\t.p2align 1\n"
			 "\t.byte 0xd4\n\tret\n"
			 "\t.section .y,\"ax\",@progbits\n\tret\n\t.byte 0x0f, 0x01\n",
			 true);

	cr_assert_eq(r->n_findings, 1);
	cr_assert_str_eq(r->findings[0].section, ".y|.x");
	cr_assert_eq(r->findings[0].offset, 1);
	cr_assert_eq(strlen(r->sha256), 64);
	cr_assert_eq(r->n_regions, 2);
	cr_assert_eq(strlen(r->regions[0].sha256), 64);
	pvsub_scan_result_free(r);
}

Test(scan, findings_inside_sections_come_first_in_order)
{
	struct pvsub_scan_result *r =
		scan_asm("\t.text\n\t.byte 0x0f,0x01,0xef\n\tnop\n\t.byte 0x0f,0x01,0xd4\n"
			 "\t.section .t2,\"ax\",@progbits\n\t.byte 0x0f,0xae,0x28\n",
			 false);

	cr_assert_eq(r->n_findings, 3);
	cr_assert_str_eq(r->findings[0].section, ".text");
	cr_assert_eq(r->findings[0].offset, 0);
	cr_assert_str_eq(r->findings[0].pattern->id, "wrpkru");
	cr_assert_eq(r->findings[0].cls.cls, PVSUB_CLASS_INSTRUCTION);
	cr_assert_eq(r->findings[1].offset, 4);
	cr_assert_str_eq(r->findings[1].pattern->id, "vmfunc");
	cr_assert_str_eq(r->findings[2].section, ".t2");
	cr_assert_str_eq(r->findings[2].pattern->id, "xrstor");
	cr_assert_eq(r->findings[2].file_offset, r->regions[1].file_offset,
		     "file offset of the first byte");
	pvsub_scan_result_free(r);
}

Test(scan, junction_over_a_relocation_is_class_relocation)
{
	/* .b starts with a 32-bit relocated field whose bytes on disk are
	 * d4 00 00 00 (the addend): after .a's 0f 01 they form VMFUNC, but
	 * only until the loader writes the field. */
	struct pvsub_scan_result *r =
		scan_asm("\t.section .a,\"ax\",@progbits\n\tret\n\t.byte 0x0f, 0x01\n"
			 "\t.section .b,\"ax\",@progbits\n\t.reloc ., R_X86_64_32, ext\n"
			 "\t.long 0xd4\n",
			 false);
	size_t rel = 0;

	for (size_t i = 0; i < r->n_findings; i++)
		if (r->findings[i].cls.cls == PVSUB_CLASS_RELOCATION)
			rel++;
	cr_assert_geq(r->n_findings, 1);
	cr_assert_eq(rel, r->n_findings);
	cr_assert_eq(r->reloc_windows, 1);
	/* Only the loader's rescan after relocation can judge it. */
	cr_assert_eq(pvsub_verdict_of(r), PVSUB_VERDICT_LOAD_TIME);
	pvsub_scan_result_free(r);
}

Test(scan, clean_object_is_clean)
{
	struct pvsub_scan_result *r = scan_asm("\t.text\n\tret\n", false);

	cr_assert_eq(r->n_findings, 0);
	cr_assert_eq(r->n_violations, 0);
	cr_assert_eq(pvsub_verdict_of(r), PVSUB_VERDICT_CERTIFIED);
	cr_assert_eq(r->kind, PVSUB_ELF_REL);
	pvsub_scan_result_free(r);
}

/* Each finding of @r (region 0 of the scanned file) classified as a decode
 * from its code start says, without the scan's resumed cursor. */
static void matches_fresh_decoding(const struct pvsub_scan_result *r)
{
	struct pvsub_image *img;

	cr_assert_eq(pvsub_image_new(data, size, &img, NULL), 0);
	for (size_t i = 0; i < r->n_findings; i++) {
		struct pvsub_classification fresh;

		cr_assert_eq(pvsub_classify_at(decoder, img, 0, (size_t)r->findings[i].offset,
					    r->findings[i].len, &fresh),
			     0);
		cr_assert_eq(fresh.cls, r->findings[i].cls.cls, "finding %zu", i);
		cr_assert_eq(fresh.insn_pos, r->findings[i].cls.insn_pos, "finding %zu", i);
		cr_assert_str_eq(fresh.field, r->findings[i].cls.field, "finding %zu", i);
	}
	pvsub_image_free(img);
}

Test(scan, resumed_decoding_matches_fresh_decoding)
{
	/* Many occurrences under one symbol: the scan resumes its decode
	 * from the previous occurrence; each answer must equal a decode from
	 * the function start. */
	struct pvsub_buf src = {0};
	struct pvsub_scan_result *r;

	cr_assert_eq(pvsub_buf_puts(&src, "\t.text\n\t.globl f\n\t.type f,@function\nf:\n"), 0);
	for (int i = 0; i < 300; i++)
		cr_assert_eq(
			pvsub_buf_printf(&src, i % 3 ? "\tmovl $0x00ef010f, %%eax\n"
						     : "\tmovl 0x00d4010f(%%rdi), %%ecx\n\tnop\n"),
			0);
	cr_assert_eq(pvsub_buf_puts(&src, "\tret\n\t.size f,.-f\n"), 0);
	r = scan_asm(src.data, false);
	pvsub_buf_release(&src);
	cr_assert_eq(r->n_findings, 300);
	matches_fresh_decoding(r);
	pvsub_scan_result_free(r);
}

/* After a decode failure, the occurrences further on under the same start
 * are undecoded from the cached failure, exactly as a fresh decode says
 * (the stripped kernel's half-million occurrences of a stress policy took
 * minutes before the cursor kept the failure). */
Test(scan, resumed_decoding_after_a_failure_matches_fresh_decoding)
{
	struct pvsub_buf src = {0};
	struct pvsub_scan_result *r;
	size_t undecoded = 0;

	cr_assert_eq(pvsub_buf_puts(&src, "\t.text\n\t.globl f\n\t.type f,@function\nf:\n"), 0);
	for (int i = 0; i < 100; i++) {
		/* 0x06 (push %es) does not decode in 64-bit mode. */
		if (i == 50)
			cr_assert_eq(pvsub_buf_puts(&src, "\t.byte 0x06\n"), 0);
		cr_assert_eq(pvsub_buf_puts(&src, "\tmovl $0x00ef010f, %eax\n"), 0);
	}
	cr_assert_eq(pvsub_buf_puts(&src, "\tret\n\t.size f,.-f\n"), 0);
	r = scan_asm(src.data, false);
	pvsub_buf_release(&src);
	cr_assert_eq(r->n_findings, 100);
	matches_fresh_decoding(r);
	for (size_t i = 0; i < r->n_findings; i++)
		undecoded += r->findings[i].cls.cls == PVSUB_CLASS_UNDECODED;
	/* The control: the first half decodes, the second does not. */
	cr_assert_eq(undecoded, 50);
	pvsub_scan_result_free(r);
}

/* Found by the mutation tests (issue 5): once the junction budget was
 * spent, the search still walked every pair of executable sections, so
 * 20000 one-byte sections took seconds and 65000 over a minute.  The search
 * now stops at the budget (and counts pairs that never meet too). */
Test(scan, many_tiny_sections_stop_at_the_budget)
{
	struct pvsub_buf src = {0};
	struct pvsub_scan_result *r;
	bool limit = false;
	clock_t t0;
	double cpu;

	for (int i = 0; i < 2000; i++)
		cr_assert_eq(pvsub_buf_printf(&src,
					      "\t.section .text.t%d,\"ax\",@progbits\n\t.byte %d\n",
					      i, (i * 37) & 0xff),
			     0);
	t0 = clock();
	r = scan_asm(src.data, false);
	pvsub_buf_release(&src);
	for (size_t i = 0; i < r->n_violations; i++)
		limit |= !strcmp(r->violations[i].kind, "junction-limit");
	cr_assert(limit, "no junction-limit violation");
	pvsub_scan_result_free(r);
	/* Assembling is in a child process, not counted.  (With 20000
	 * sections the scan took 6 s before the fix, 0.3 s after; but building
	 * the image is slow under ASan at that size, so keep it small here.) */
	cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	cr_assert_lt(cpu, 20.0, "scan took %.1f s of CPU", cpu);
}

Test(scan, findings_carry_the_bytes_around_them)
{
	/* 10 bytes before the WRPKRU, 2 after it, in .text; at a section edge
	 * the context is shorter, never taken from elsewhere in the file. */
	static const uint8_t before[8] = {0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a};
	static const uint8_t after[2] = {0x90, 0xc3};
	struct pvsub_scan_result *r =
		scan_asm("\t.text\n\t.byte 0x91,0x92,0x93,0x94,0x95,0x96,0x97,0x98,0x99,0x9a\n"
			 "\t.byte 0x0f,0x01,0xef\n\tnop\n\tret\n"
			 "\t.section .t2,\"ax\",@progbits\n\t.byte 0x0f,0x01,0xd4,0xc3\n"
			 "\t.section .y,\"ax\",@progbits\n\t.byte 0x55,0x0f,0x01\n"
			 "\t.section .z,\"ax\",@progbits\n\t.byte 0xd4,0x5d,0xc3\n",
			 false);
	const struct pvsub_finding *f = &r->findings[0];

	cr_assert_geq(r->n_findings, 3);
	cr_assert_str_eq(f->section, ".text");
	cr_assert_eq(f->n_before, 8);
	cr_assert_eq(memcmp(f->before, before, 8), 0);
	cr_assert_eq(f->n_after, 2);
	cr_assert_eq(memcmp(f->after, after, 2), 0);
	f = &r->findings[1];
	cr_assert_str_eq(f->section, ".t2");
	cr_assert_eq(f->n_before, 0);
	cr_assert_eq(f->n_after, 1);
	cr_assert_eq(f->after[0], 0xc3);
	/* the junction .y|.z: the byte before it in .y, the two after in .z */
	for (size_t i = 2; i < r->n_findings; i++) {
		f = &r->findings[i];
		if (strcmp(f->section, ".y|.z") == 0)
			break;
	}
	cr_assert_str_eq(f->section, ".y|.z");
	cr_assert_eq(f->n_before, 1);
	cr_assert_eq(f->before[0], 0x55);
	cr_assert_eq(f->n_after, 2);
	cr_assert_eq(f->after[0], 0x5d);
	cr_assert_eq(f->after[1], 0xc3);
	pvsub_scan_result_free(r);
}

Test(scan, segment_findings_carry_their_address)
{
	/* The linker puts .text at 0x7654000 and .text2 right after it, in
	 * two executable segments adjacent in memory: WRPKRU at .text+1, and
	 * a VMFUNC whose 0f 01 end .text and whose d4 starts .text2. */
	static const char src[] =
		"__asm__(\".text\\n nop\\n .byte 0x0f,0x01,0xef\\n .fill 4090,1,0x90\\n"
		" .byte 0x0f,0x01\\n .section .text2,\\\"ax\\\",@progbits\\n .byte 0xd4\\n"
		" .fill 15,1,0xc3\\n\");\n";
	struct pvsub_scan_opts o = {policy, matcher, decoder, false, false};
	struct pvsub_scan_result *r = NULL;
	struct pvsub_diag diag = {""};
	const struct pvsub_finding *f;

	free(data);
	cr_assert_eq(elfgen_compile_c(src,
				      "-shared -fPIC -nostdlib -Wl,-Ttext=0x7654000 "
				      "-Wl,--section-start=.text2=0x7655000 "
				      "-Wl,--section-start=.dynamic=0x7670000",
				      &data, &size),
		     0);
	cr_assert_eq(pvsub_scan_buffer(&o, data, size, &r, &diag), 0, "%s", diag.msg);
	cr_assert_eq(r->kind, PVSUB_ELF_DYN);
	cr_assert_eq(r->n_findings, 2);
	f = &r->findings[0];
	cr_assert_str_eq(f->pattern->id, "wrpkru");
	cr_assert_eq(f->offset, 1);
	cr_assert_eq(f->vaddr, 0x7654001, "vaddr 0x%" PRIx64, f->vaddr);
	f = &r->findings[1];
	cr_assert_str_eq(f->pattern->id, "vmfunc");
	cr_assert(f->junction);
	cr_assert_eq(f->vaddr, 0x7654ffe, "vaddr 0x%" PRIx64, f->vaddr);
	pvsub_scan_result_free(r);
}
