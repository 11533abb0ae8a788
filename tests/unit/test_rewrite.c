/* SPDX-License-Identifier: MIT */
/*
 * relobj, kmeta and the rewriter's bookkeeping on small objects assembled
 * at test time.  What rewritten code does is tested by running it
 * (tests/rewrite/, tests/qemu/rewrite-crypto.sh); here: that the object
 * around it stays right.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/kmeta.h"
#include "libpvsub/relobj.h"
#include "libpvsub/rewrite.h"
#include "libpvsub/rewrite_internal.h"
#include "libpvsub/scan.h"
#include "tests/unit/elfgen.h"

static struct pvsub_policy *policy;
static struct pvsub_matcher *matcher;
static struct pvsub_decoder *decoder;
static uint8_t *data;
static size_t size;

static void use_policy(const char *patterns)
{
	char xml[1024];
	const struct pvsub_pattern *p;
	size_t n;
	struct pvsub_diag d = {""};

	snprintf(xml, sizeof(xml),
		 "<?xml version=\"1.0\"?><policy xmlns=\"urn:pvsub:policy:1\" id=\"t\" "
		 "version=\"1\">%s</policy>",
		 patterns);
	pvsub_matcher_free(matcher);
	pvsub_policy_free(policy);
	cr_assert_eq(pvsub_policy_new_from_memory(xml, strlen(xml), "t", &policy, &d), 0, "%s",
		     d.msg);
	p = pvsub_policy_patterns(policy, &n);
	cr_assert_eq(pvsub_matcher_new(p, n, &matcher), 0);
}

static void setup(void)
{
	cr_assert_eq(pvsub_decoder_new(&decoder), 0);
}

static void teardown(void)
{
	pvsub_decoder_free(decoder);
	pvsub_matcher_free(matcher);
	pvsub_policy_free(policy);
	matcher = NULL;
	policy = NULL;
	free(data);
	data = NULL;
}

TestSuite(rewrite, .init = setup, .fini = teardown);

static void assemble(const char *src)
{
	free(data);
	cr_assert_eq(elfgen_assemble(src, NULL, &data, &size), 0);
}

static struct pvsub_rewrite_result *rewrite(void)
{
	struct pvsub_rewrite_opts o = {policy, matcher, decoder};
	struct pvsub_rewrite_result *r = NULL;
	struct pvsub_diag d = {""};

	cr_assert_eq(pvsub_rewrite_buffer(&o, data, size, &r, &d), 0, "%s", d.msg);
	return r;
}

static const Elf64_Sym *symbol(struct pvsub_relobj *o, const char *name)
{
	size_t n;
	Elf64_Sym *s = pvsub_relobj_symbols(o, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(pvsub_relobj_symbol_name(o, &s[i]), name) == 0)
			return &s[i];
	cr_assert_fail("no symbol %s", name);
	return NULL;
}

Test(rewrite, relobj_writes_back_what_it_read)
{
	struct pvsub_relobj *a = NULL, *b = NULL;
	struct pvsub_buf out = {0};

	assemble("\t.text\n\t.globl f\nf:\tcall g\n\tlea d(%rip), %rax\n\tret\n"
		 "\t.data\nd:\t.quad f\n\t.section .rodata\n\t.asciz \"x\"\n");
	cr_assert_eq(pvsub_relobj_load(data, size, &a, NULL), 0);
	cr_assert_eq(pvsub_relobj_write(a, &out), 0);
	cr_assert_eq(pvsub_relobj_load((uint8_t *)out.data, out.len, &b, NULL), 0);
	cr_assert_eq(a->n_sec, b->n_sec);
	for (size_t i = 1; i < a->n_sec; i++) {
		cr_assert_str_eq(a->sec[i].name, b->sec[i].name);
		cr_assert_eq(a->sec[i].sh.sh_type, b->sec[i].sh.sh_type);
		cr_assert_eq(a->sec[i].sh.sh_flags, b->sec[i].sh.sh_flags);
		cr_assert_eq(a->sec[i].size, b->sec[i].size);
		cr_assert(a->sec[i].size == 0 ||
				  memcmp(a->sec[i].data, b->sec[i].data, a->sec[i].size) == 0,
			  "section %s differs", a->sec[i].name);
		cr_assert_eq(b->sec[i].sh.sh_offset % (b->sec[i].sh.sh_addralign ?: 1), 0);
	}
	pvsub_relobj_free(a);
	pvsub_relobj_free(b);
	pvsub_buf_release(&out);
}

Test(rewrite, relobj_refuses_a_shared_object)
{
	struct pvsub_relobj *o = NULL;
	struct pvsub_diag d = {""};

	free(data);
	cr_assert_eq(elfgen_compile_c("int f(void) { return 1; }\n", "-shared -fPIC", &data, &size),
		     0);
	cr_assert_eq(pvsub_relobj_load(data, size, &o, &d), -EINVAL);
	cr_assert(strstr(d.msg, "ET_REL"), "%s", d.msg);
}

/* The tables of a module, written as the kernel's macros write them. */
static const char kernel_tables[] =
	"\t.text\n"
	"f:\tnop\n"
	"1:\tcall g\n"			 /* ftrace site */
	"2:\tlock incl (%rdi)\n"	 /* smp lock */
	"3:\t.byte 0x0f,0x1f,0x44,0,0\n" /* jump label nop5 */
	"4:\tret\n"
	"661:\tmovl $1, %eax\n662:\n" /* alternative original */
	"\tret\n"
	"\t.section __mcount_loc,\"a\"\n\t.quad 1b\n"
	"\t.section .smp_locks,\"a\"\n\t.long 2b - .\n"
	"\t.section __jump_table,\"aw\"\n\t.long 3b - ., 4b - .\n\t.quad 0\n"
	"\t.section .altinstr_replacement,\"ax\"\n663:\txorl %eax, %eax\n664:\n"
	"\t.section .altinstructions,\"a\"\n"
	"\t.long 661b - ., 663b - .\n\t.word 42\n\t.byte 662b-661b, 664b-663b\n";

Test(rewrite, kmeta_reads_the_mutable_windows)
{
	struct pvsub_relobj *o = NULL;
	struct pvsub_mwindow *w = NULL;
	size_t n = 0;
	struct pvsub_diag d = {""};

	assemble(kernel_tables);
	cr_assert_eq(pvsub_relobj_load(data, size, &o, NULL), 0);
	cr_assert_eq(pvsub_kmeta_windows(o, &w, &n, &d), 0, "%s", d.msg);
	cr_assert_eq(n, 5);
	size_t text = pvsub_relobj_find(o, ".text");
	/* sorted by section, then offset: f=0 nop, 1: call (5), 2: lock incl
	 * (3), 3: nop5, 4: ret, 661: mov (5) */
	cr_assert_eq(w[0].section, text);
	cr_assert_eq(w[0].kind, PVSUB_WINDOW_FTRACE);
	cr_assert_eq(w[0].offset, 1);
	cr_assert_eq(w[0].len, 5);
	cr_assert_eq(w[1].kind, PVSUB_WINDOW_SMP_LOCK);
	cr_assert_eq(w[1].offset, 6);
	cr_assert_eq(w[1].len, 1);
	cr_assert_eq(w[2].kind, PVSUB_WINDOW_JUMP_LABEL);
	cr_assert_eq(w[2].offset, 9);
	cr_assert_eq(w[2].len, 5);
	cr_assert_eq(w[3].kind, PVSUB_WINDOW_ALTERNATIVE);
	cr_assert_eq(w[3].offset, 15);
	cr_assert_eq(w[3].len, 5);
	cr_assert_eq(w[4].kind, PVSUB_WINDOW_ALT_REPLACEMENT);
	cr_assert_eq(w[4].len, 2);
	free(w);
	pvsub_relobj_free(o);
}

Test(rewrite, kmeta_refuses_a_table_of_the_wrong_shape)
{
	struct pvsub_relobj *o = NULL;
	struct pvsub_mwindow *w = NULL;
	size_t n = 0;
	struct pvsub_diag d = {""};

	assemble("\t.text\nf:\tret\n\t.section .smp_locks,\"a\"\n\t.long f - .\n\t.byte 0\n");
	cr_assert_eq(pvsub_relobj_load(data, size, &o, NULL), 0);
	cr_assert_eq(pvsub_kmeta_windows(o, &w, &n, &d), -EINVAL);
	cr_assert(strstr(d.msg, ".smp_locks"), "%s", d.msg);
	pvsub_relobj_free(o);
}

Test(rewrite, an_occurrence_in_a_window_is_a_patch_site)
{
	struct pvsub_scan_opts so = {0};
	struct pvsub_scan_result *r = NULL;

	use_policy("<pattern id=\"nop5\" bytes=\"1f 44 00\"/>");
	assemble(kernel_tables);
	so = (struct pvsub_scan_opts){policy, matcher, decoder, false, false};
	cr_assert_eq(pvsub_scan_buffer(&so, data, size, &r, NULL), 0);
	/* The ftrace site's NOP (0f 1f 44 00 00) forms it too, once the
	 * kernel writes it there (wverdict.h); the jump label holds it. */
	cr_assert_eq(r->n_findings, 2);
	cr_assert_eq(r->findings[0].cls.cls, PVSUB_CLASS_PATCH_SITE);
	cr_assert_str_eq(r->findings[0].cls.field, "ftrace, only when patched");
	cr_assert_eq(r->findings[0].offset, 2);
	cr_assert_eq(r->findings[1].cls.cls, PVSUB_CLASS_PATCH_SITE);
	cr_assert_str_eq(r->findings[1].cls.field, "jump-label");
	cr_assert_eq(r->findings[1].offset, 10);
	pvsub_scan_result_free(r);
}

Test(rewrite, symbols_relocations_and_tables_follow_the_code)
{
	struct pvsub_relobj *o = NULL;

	/* c3 55 48: the ret of f and the start of g; padding goes in front of
	 * g, and everything after it moves by the same amount. */
	use_policy("<pattern id=\"p\" bytes=\"c3 55 48\"/>");
	assemble("\t.text\n\t.globl f, g, h\n\t.type f,@function\n\t.type g,@function\n"
		 "f:\tmovl $1, %eax\n\tret\n\t.size f, .-f\n"
		 "g:\tpush %rbp\n\tmov %rsp, %rbp\n1:\tcall h\n\tpop %rbp\n\tret\n\t.size g, .-g\n"
		 "h:\tret\n"
		 "\t.section __ex_table,\"a\"\n\t.long 1b - ., h - ., 0\n"
		 "\t.data\n\t.quad g\n\t.quad 1b\n");
	struct pvsub_rewrite_result *r = rewrite();
	cr_assert_eq(r->n_refusals, 0, "%s", r->n_refusals ? r->refusals[0].reason : "");
	cr_assert_eq(r->n_sites, 1);
	cr_assert_str_eq(r->sites[0].rule, "nop-split");
	cr_assert_eq(r->sites[0].cls, PVSUB_CLASS_SPANNING);
	cr_assert_not_null(r->data);

	cr_assert_eq(pvsub_relobj_load(r->data, r->size, &o, NULL), 0);
	size_t text = pvsub_relobj_find(o, ".text");
	const uint8_t *t = o->sec[text].data;
	unsigned pad = (unsigned)(o->sec[text].size - 18);
	cr_assert(pad >= 1, "no padding");
	cr_assert_eq(symbol(o, "f")->st_value, 0);
	cr_assert_eq(symbol(o, "f")->st_size, 6);
	cr_assert_eq(symbol(o, "g")->st_value, 6 + pad);
	cr_assert_eq(t[6 + pad], 0x55, "g does not start with its push");
	cr_assert_eq(symbol(o, "g")->st_size, 11);
	cr_assert_eq(symbol(o, "h")->st_value, 17 + pad);
	/* the call's relocation moved with it, and so did the table and the
	 * data pointing into .text */
	size_t rt = 0, rd = 0, rx = 0;
	for (size_t i = 1; i < o->n_sec; i++) {
		if (o->sec[i].sh.sh_type != SHT_RELA)
			continue;
		if (o->sec[i].sh.sh_info == text)
			rt = i;
		else if (strcmp(o->sec[o->sec[i].sh.sh_info].name, ".data") == 0)
			rd = i;
		else if (strcmp(o->sec[o->sec[i].sh.sh_info].name, "__ex_table") == 0)
			rx = i;
	}
	size_t n;
	Elf64_Rela *ra = pvsub_relobj_relas(o, rt, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(ra[0].r_offset, 6 + pad + 5, "the call's field is at g+5");
	ra = pvsub_relobj_relas(o, rd, &n);
	cr_assert_eq(n, 2);
	Elf64_Sym s;
	pvsub_relobj_sym_get(o, ELF64_R_SYM(ra[1].r_info), &s);
	cr_assert_eq(s.st_value + (uint64_t)ra[1].r_addend, 6 + pad + 4, "1b is g+4");
	ra = pvsub_relobj_relas(o, rx, &n);
	cr_assert_eq(n, 2);
	pvsub_relobj_sym_get(o, ELF64_R_SYM(ra[0].r_info), &s);
	cr_assert_eq(s.st_value + (uint64_t)ra[0].r_addend, 6 + pad + 4);
	pvsub_relobj_free(o);
	pvsub_rewrite_result_free(r);
}

Test(rewrite, undecodable_code_is_refused_and_nothing_is_written)
{
	use_policy("<pattern id=\"p\" bytes=\"aa bb cc\"/>");
	assemble("\t.text\nf:\tret\n\t.byte 0x0f, 0xff, 0xaa, 0xbb, 0xcc\n");
	struct pvsub_rewrite_result *r = rewrite();
	cr_assert_null(r->data);
	cr_assert_eq(r->n_sites, 0);
	cr_assert_geq(r->n_refusals, 1);
	cr_assert_str_eq(r->refusals[0].section, ".text");
	cr_assert(strstr(r->refusals[0].reason, "decode"), "%s", r->refusals[0].reason);
	pvsub_rewrite_result_free(r);
}

Test(rewrite, a_gate_instruction_is_refused_or_trapped)
{
	use_policy("<pattern id=\"wrpkru\" bytes=\"0f 01 ef\"/>");
	assemble("\t.text\nf:\txor %ecx, %ecx\n\t.byte 0x0f, 0x01, 0xef\n\tret\n");
	struct pvsub_rewrite_result *r = rewrite();
	cr_assert_null(r->data);
	cr_assert(strstr(r->refusals[0].reason, "policy rejects"), "%s", r->refusals[0].reason);
	pvsub_rewrite_result_free(r);

	pvsub_matcher_free(matcher);
	pvsub_policy_free(policy);
	const char *xml = "<?xml version=\"1.0\"?><policy xmlns=\"urn:pvsub:policy:1\" id=\"t\" "
			  "version=\"1\" on-instruction=\"trap\"><pattern id=\"wrpkru\" "
			  "bytes=\"0f 01 ef\"/></policy>";
	const struct pvsub_pattern *p;
	size_t n;
	cr_assert_eq(pvsub_policy_new_from_memory(xml, strlen(xml), "t", &policy, NULL), 0);
	p = pvsub_policy_patterns(policy, &n);
	cr_assert_eq(pvsub_matcher_new(p, n, &matcher), 0);
	r = rewrite();
	cr_assert_not_null(r->data);
	cr_assert_str_eq(r->sites[0].rule, "trap");
	cr_assert_eq(r->sites[0].new_len, 3);
	cr_assert_eq(memcmp(r->sites[0].new_insn, "\x0f\x0b\xcc", 3), 0);
	pvsub_rewrite_result_free(r);
}

Test(rewrite, an_object_without_occurrences_is_unchanged)
{
	use_policy("<pattern id=\"p\" bytes=\"aa bb cc\"/>");
	assemble("\t.text\nf:\tret\n");
	struct pvsub_rewrite_result *r = rewrite();
	cr_assert_eq(r->n_sites, 0);
	cr_assert_eq(r->n_refusals, 0);
	pvsub_rewrite_result_free(r);
}

Test(rewrite, windows_keep_their_bytes_and_tables_follow)
{
	struct pvsub_relobj *a = NULL, *b = NULL;
	struct pvsub_mwindow *wa = NULL, *wb = NULL;
	size_t na = 0, nb = 0;

	/* c3 b8 01: the ret before the alternative and its first bytes; the
	 * padding goes in front of the window, never into it. */
	use_policy("<pattern id=\"p\" bytes=\"c3 b8 01\"/>");
	assemble(kernel_tables);
	struct pvsub_rewrite_result *r = rewrite();
	cr_assert_eq(r->n_refusals, 0, "%s", r->n_refusals ? r->refusals[0].reason : "");
	cr_assert_not_null(r->data);
	cr_assert_eq(pvsub_relobj_load(data, size, &a, NULL), 0);
	cr_assert_eq(pvsub_relobj_load(r->data, r->size, &b, NULL), 0);
	cr_assert_eq(pvsub_kmeta_windows(a, &wa, &na, NULL), 0);
	cr_assert_eq(pvsub_kmeta_windows(b, &wb, &nb, NULL), 0);
	cr_assert_eq(na, nb);
	size_t text = pvsub_relobj_find(a, ".text");
	unsigned pad = (unsigned)(b->sec[text].size - a->sec[text].size);
	cr_assert_geq(pad, 1);
	for (size_t i = 0; i < na; i++) {
		cr_assert_eq(wa[i].kind, wb[i].kind);
		cr_assert_eq(wa[i].len, wb[i].len);
		/* before the padding nothing moved; after it, everything by pad */
		uint64_t want = wa[i].section == text && wa[i].offset >= 15 ? wa[i].offset + pad
									    : wa[i].offset;
		cr_assert_eq(wb[i].offset, want, "window %zu", i);
		cr_assert_eq(memcmp(a->sec[wa[i].section].data + wa[i].offset,
				    b->sec[wb[i].section].data + wb[i].offset, wa[i].len),
			     0, "window %zu changed", i);
	}
	free(wa);
	free(wb);
	pvsub_relobj_free(a);
	pvsub_relobj_free(b);
	pvsub_rewrite_result_free(r);
}

/*
 * A jump label at 0 (nop5) whose target, the last ret, is 11 bytes after
 * its end: the kernel writes e9 0b 00 00 00.  c3 55 48 (ret; push %rbp;
 * mov) gets one byte of NOP padding in front of g (nop-split), which makes
 * that jmp e9 0c 00 00 00: the pattern e9 0c 00 forms only when patched,
 * and only in the rewritten code.
 */
static const char steered_jump_label[] = "\t.text\n"
					 "f:\n"
					 "1:\t.byte 0x0f,0x1f,0x44,0,0\n"
					 "\tmovl $1, %eax\n"
					 "\tret\n"
					 "g:\tpush %rbp\n"
					 "\tmov %rsp, %rbp\n"
					 "\tpop %rbp\n"
					 "2:\tret\n"
					 "\t.section __jump_table,\"aw\"\n"
					 "\t.long 1b - ., 2b - .\n\t.quad 0\n";

static struct pvsub_rewrite_result *rewrite_steered(bool steer)
{
	struct pvsub_rewrite_opts o = {policy, matcher, decoder};
	struct pvsub_rewrite_result *r = NULL;
	struct pvsub_diag d = {""};

	o.no_steer = !steer;
	cr_assert_eq(pvsub_rewrite_buffer(&o, data, size, &r, &d), 0, "%s", d.msg);
	return r;
}

/* The one refusal of @r, which must be an occurrence that forms only when
 * the kernel patches a window of @kind. */
static void assert_refused_when_patched(const struct pvsub_rewrite_result *r, const char *kind)
{
	char want[64];

	snprintf(want, sizeof(want), "(%s, only when patched)", kind);
	cr_assert_eq(r->n_refusals, 1, "%zu refusals", r->n_refusals);
	cr_assert(strstr(r->refusals[0].reason, want), "%s", r->refusals[0].reason);
	cr_assert_null(r->data);
}

Test(rewrite, a_jump_label_is_steered_off_a_pattern_its_jmp_would_form)
{
	struct pvsub_relobj *o = NULL;
	struct pvsub_mwindow *w = NULL;
	size_t n = 0;

	use_policy("<pattern id=\"split\" bytes=\"c3 55 48\"/>"
		   "<pattern id=\"jmp\" bytes=\"e9 0c 00\"/>");
	assemble(steered_jump_label);
	struct pvsub_rewrite_result *r = rewrite_steered(true);
	cr_assert_eq(r->n_refusals, 0, "%s", r->n_refusals ? r->refusals[0].reason : "");
	cr_assert_not_null(r->data);
	cr_assert_eq(pvsub_verdict_of_file(r->scan, r), PVSUB_VERDICT_CERTIFIED);
	bool steered = false;
	for (size_t i = 0; i < r->n_sites; i++)
		if (strcmp(r->sites[i].field, "jump-label, only when patched") == 0) {
			cr_assert_str_eq(r->sites[i].rule, "rel-adjust");
			cr_assert_str_eq(r->sites[i].pattern, "jmp");
			cr_assert_eq(r->sites[i].offset, 0);
			steered = true;
		}
	cr_assert(steered, "no steering recorded");

	/* The jmp the kernel now writes: clean, to the same ret. */
	cr_assert_eq(pvsub_relobj_load(r->data, r->size, &o, NULL), 0);
	cr_assert_eq(pvsub_kmeta_windows(o, &w, &n, NULL), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(w[0].kind, PVSUB_WINDOW_JUMP_LABEL);
	cr_assert(w[0].has_target);
	size_t text = pvsub_relobj_find(o, ".text");
	const uint8_t *t = o->sec[text].data;
	cr_assert_eq(w[0].target_offset, o->sec[text].size - 1);
	cr_assert_eq(t[w[0].target_offset], 0xc3);
	uint64_t d = w[0].target_offset - (w[0].offset + 5);
	cr_assert_geq(d, 0x0d, "the jmp's displacement is %#" PRIx64, d);
	free(w);
	pvsub_relobj_free(o);
	pvsub_rewrite_result_free(r);
}

Test(rewrite, without_steering_the_jump_label_is_refused)
{
	/* The negative control: the same object, steering off. */
	use_policy("<pattern id=\"split\" bytes=\"c3 55 48\"/>"
		   "<pattern id=\"jmp\" bytes=\"e9 0c 00\"/>");
	assemble(steered_jump_label);
	struct pvsub_rewrite_result *r = rewrite_steered(false);
	assert_refused_when_patched(r, "jump-label");
	cr_assert_eq(r->refusals[0].offset, 0);
	pvsub_rewrite_result_free(r);
}

/*
 * A retpoline site after `mov $0x11223344, %ecx`: the kernel may write
 * call *%rax (ff d0) there, and 11 ff d0 forms with the byte in front of it.
 * Padding in front of the site (another attempt) moves the 11 away.
 */
static const char steered_retpoline[] = "\t.text\n"
					"f:\tmovl $0x11223344, %ecx\n"
					"1:\tcall __x86_indirect_thunk_rax\n"
					"\tret\n"
					"g:\tpush %rbp\n"
					"\tmov %rsp, %rbp\n"
					"\tpop %rbp\n"
					"\tret\n"
					"\t.section .retpoline_sites,\"a\"\n"
					"\t.long 1b - .\n";

Test(rewrite, padding_beside_a_retpoline_site_breaks_what_its_patch_forms)
{
	struct pvsub_relobj *o = NULL;

	use_policy("<pattern id=\"split\" bytes=\"c3 55 48\"/>"
		   "<pattern id=\"call\" bytes=\"11 ff d0\"/>");
	assemble(steered_retpoline);
	struct pvsub_rewrite_result *r = rewrite_steered(true);
	cr_assert_eq(r->n_refusals, 0, "%s", r->n_refusals ? r->refusals[0].reason : "");
	cr_assert_eq(pvsub_verdict_of_file(r->scan, r), PVSUB_VERDICT_CERTIFIED);
	bool steered = false;
	for (size_t i = 0; i < r->n_sites; i++)
		if (strcmp(r->sites[i].field, "retpoline, only when patched") == 0) {
			cr_assert_str_eq(r->sites[i].rule, "nop-split");
			cr_assert_eq(r->sites[i].offset, 5);
			cr_assert_geq(r->sites[i].padding, 1);
			steered = true;
		}
	cr_assert(steered, "no steering recorded");
	cr_assert_eq(pvsub_relobj_load(r->data, r->size, &o, NULL), 0);
	const uint8_t *t = o->sec[pvsub_relobj_find(o, ".text")].data;
	cr_assert_eq(t[4], 0x11);
	cr_assert_eq(t[5], 0x90, "no NOP in front of the site");
	pvsub_relobj_free(o);
	pvsub_rewrite_result_free(r);

	use_policy("<pattern id=\"split\" bytes=\"c3 55 48\"/>"
		   "<pattern id=\"call\" bytes=\"11 ff d0\"/>");
	r = rewrite_steered(false);
	assert_refused_when_patched(r, "retpoline");
	pvsub_rewrite_result_free(r);
}

/*
 * A 2-byte jump label (66 90) whose target lies @reach bytes after its end,
 * with c3 55 48 (ret; push %rbp; mov) in between: the NOP that splits the
 * occurrence lies in the jmp rel8's reach.
 */
static void assemble_short_label(unsigned reach)
{
	char src[512];

	snprintf(src, sizeof(src),
		 "\t.text\nf:\n1:\t.byte 0x66,0x90\n\t.fill %u, 1, 0x90\n\tret\n\tpush %%rbp\n"
		 "\tmov %%rsp, %%rbp\n\tpop %%rbp\n\tnop\n2:\tret\n"
		 "\t.section __jump_table,\"aw\"\n\t.long 1b - ., 2b - .\n\t.quad 0\n",
		 reach - 7);
	assemble(src);
}

Test(rewrite, a_2_byte_jump_label_keeps_its_target_in_reach)
{
	struct pvsub_relobj *o = NULL;
	struct pvsub_mwindow *w = NULL;
	size_t n = 0;

	use_policy("<pattern id=\"split\" bytes=\"c3 55 48\"/>");
	/* One byte to spare: the NOP goes in, the rel8 reaches 127. */
	assemble_short_label(126);
	struct pvsub_rewrite_result *r = rewrite();
	cr_assert_eq(r->n_refusals, 0, "%s", r->n_refusals ? r->refusals[0].reason : "");
	cr_assert_eq(pvsub_relobj_load(r->data, r->size, &o, NULL), 0);
	cr_assert_eq(pvsub_kmeta_windows(o, &w, &n, NULL), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(w[0].len, 2);
	cr_assert_eq(w[0].target_offset - (w[0].offset + 2), 127);
	free(w);
	pvsub_relobj_free(o);
	pvsub_rewrite_result_free(r);

	/* None to spare: refused, naming the short jump, never written with
	 * a jump label the kernel cannot patch. */
	assemble_short_label(127);
	r = rewrite();
	cr_assert_eq(r->n_refusals, 1);
	cr_assert(strstr(r->refusals[0].reason, "short jump out of its reach"), "%s",
		  r->refusals[0].reason);
	cr_assert_null(r->data);
	pvsub_rewrite_result_free(r);
}

/* The names a report and a manifest show, in the order they are listed. */
Test(rewrite, rule_names)
{
	static const char *const names[] = {
		"nop-split", "rel-adjust", "imm-lea",	"trap",		"alu-split", "disp-rebase",
		"sp-rebase", "scratch",	   "lea-arith", "scratch-disp", "call-r11",  "int3-tail",
		"load-dest", "bp-rebase",  "push-imm",	"push-mem",	"and-btr",   "jump-island",
	};
	for (size_t k = 0; k < PVSUB_ARRAY_SIZE(names); k++)
		cr_expect_str_eq(pvsub_rewrite_rules[k], names[k]);
	cr_expect_null(pvsub_rewrite_rules[PVSUB_ARRAY_SIZE(names)]);
	cr_expect_eq(RULE_NONE, PVSUB_ARRAY_SIZE(names));
}

/* The rules for a displacement or an immediate are tried cheapest first:
 * this order is part of what the rewriter outputs. */
Test(rewrite, rule_table)
{
	static const char *const order[] = {
		"imm-lea",   "alu-split", "load-dest",	  "disp-rebase", "sp-rebase",
		"bp-rebase", "call-r11",  "scratch-disp", "lea-arith",	 "scratch",
		"push-imm",  "and-btr",	  "push-mem",
	};
	cr_assert_eq(rw_rule_count, PVSUB_ARRAY_SIZE(order));
	for (size_t k = 0; k < rw_rule_count; k++) {
		const struct rw_rule_entry *r = &rw_rule_table[k];
		cr_expect_str_eq(pvsub_rewrite_rules[r->rule], order[k]);
		cr_expect_eq(rw_rule_find(r->rule), r, "%s", order[k]);
		cr_expect_not_null(r->fix);
	}
	/* not replacements of one instruction by a rule of the table */
	static const enum rw_rule other[] = {RULE_NOP_SPLIT, RULE_REL_ADJUST,  RULE_TRAP,
					     RULE_INT3_TAIL, RULE_JUMP_ISLAND, RULE_NONE};
	for (size_t k = 0; k < PVSUB_ARRAY_SIZE(other); k++)
		cr_expect_null(rw_rule_find(other[k]), "%d", other[k]);
}

/* The conditions of the table, at the edges of the fields. */
Test(rewrite, rule_applies)
{
	/* `add $imm32, 0x10(%rbx)`: 81 43 10 imm32 (disp at 2, imm at 3) */
	struct rw_unit u = {.reloc_at = -1};
	u.in.len = 7;
	u.in.disp_offset = 2;
	u.in.disp_size = 1;
	u.in.imm_offset = 3;
	u.in.imm_size = 4;
	struct rw_rule_entry in_imm = {RULE_IMM_LEA, RW_IN_IMM, NULL};
	struct rw_rule_entry has_imm = {RULE_SCRATCH, RW_HAS_IMM, NULL};
	struct rw_rule_entry in_disp = {RULE_LOAD_DEST, RW_IN_DISP, NULL};
	struct rw_rule_entry has_disp = {RULE_PUSH_MEM, RW_HAS_DISP, NULL};
	struct rw_rule_entry no_reloc = {RULE_IMM_LEA, RW_NO_RELOC, NULL};
	struct rw_rule_entry sequence = {RULE_SCRATCH, RW_SEQUENCE, NULL};

	cr_expect(!rw_rule_applies(&in_imm, &u, 0, 3), "ends where the immediate starts");
	cr_expect(rw_rule_applies(&in_imm, &u, 1, 3), "its last byte in the immediate");
	cr_expect(rw_rule_applies(&has_imm, &u, 0, 3));
	cr_expect(rw_rule_applies(&in_disp, &u, 2, 3), "starts in the displacement");
	cr_expect(!rw_rule_applies(&in_disp, &u, 3, 3), "starts after the displacement");
	cr_expect(rw_rule_applies(&in_disp, &u, 0, 3), "starts before the displacement");
	cr_expect(rw_rule_applies(&has_disp, &u, 4, 3));
	cr_expect(rw_rule_applies(&no_reloc, &u, 0, 3));
	cr_expect(rw_rule_applies(&sequence, &u, 0, 3));
	u.has_reloc = true;
	u.one_insn = true;
	cr_expect(!rw_rule_applies(&no_reloc, &u, 0, 3));
	cr_expect(!rw_rule_applies(&sequence, &u, 0, 3));
	u.in.imm_offset = -1;
	u.in.disp_offset = -1;
	cr_expect(!rw_rule_applies(&has_imm, &u, 0, 3));
	cr_expect(!rw_rule_applies(&in_imm, &u, 0, 3));
	cr_expect(!rw_rule_applies(&has_disp, &u, 0, 3));
	cr_expect(!rw_rule_applies(&in_disp, &u, 0, 3));
}
