/* SPDX-License-Identifier: MIT */
/*
 * ksyms FILE [NAME...]: the kernel's own symbol table (kallsyms) as
 * libpvsub finds it in the loadable segments of an ELF file (a vmlinux,
 * stripped or not), for the corpus tests to compare with System.map.
 * First one line per table, "table NAME ADDRESS" (hex), and "count N";
 * then, for each NAME, "NAME ADDRESS", or with no NAME every symbol,
 * "ADDRESS TYPE NAME" as System.map writes it.  Exit status 0; 1 with
 * one line on standard error when kallsyms is not found or a NAME is not
 * in it; 2 when FILE cannot be read.
 *
 * The program headers are read here, without libpvsub's image, so that
 * the runs are what the file says and nothing more.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/kallsyms.h"

static int print_one(const char *name, char type, uint64_t addr, void *arg)
{
	(void)arg;
	printf("%016" PRIx64 " %c %s\n", addr, type, name);
	return 0;
}

/* The file bytes of every PT_LOAD of the ELF64 file @d (@len bytes). */
static int load_runs(const uint8_t *d, size_t len, struct pvsub_kallsyms_run *runs, size_t *n)
{
	Elf64_Ehdr eh;

	*n = 0;
	if (len < sizeof(eh) || memcmp(d, ELFMAG, SELFMAG) != 0 || d[EI_CLASS] != ELFCLASS64)
		return -EINVAL;
	memcpy(&eh, d, sizeof(eh));
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 64 || eh.e_phoff > len ||
	    (size_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return -EINVAL;
	for (size_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, d + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			continue;
		runs[(*n)++] = (struct pvsub_kallsyms_run){ph.p_vaddr, d + ph.p_offset,
							   (size_t)ph.p_filesz};
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct pvsub_kallsyms_run runs[64];
	struct pvsub_kallsyms_layout lay;
	struct pvsub_kallsyms *ks = NULL;
	struct pvsub_diag d = {""};
	uint8_t *data = NULL;
	size_t len, n;
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: ksyms FILE [NAME...]\n");
		return 2;
	}
	if (pvsub_read_file(argv[1], (size_t)1 << 31, &data, &len, &d) < 0 ||
	    load_runs(data, len, runs, &n) < 0) {
		fprintf(stderr, "ksyms: %s: %s\n", argv[1], d.msg[0] ? d.msg : "not an ELF64 file");
		free(data);
		return 2;
	}
	if (pvsub_kallsyms_find(runs, n, &ks, &d) < 0) {
		fprintf(stderr, "ksyms: %s: %s\n", argv[1], d.msg);
		free(data);
		return 1;
	}
	pvsub_kallsyms_layout(ks, &lay);
	printf("table kallsyms_offsets %" PRIx64 "\n", lay.offsets);
	printf("table kallsyms_relative_base %" PRIx64 "\n", lay.relative_base);
	printf("table kallsyms_num_syms %" PRIx64 "\n", lay.num_syms);
	printf("table kallsyms_names %" PRIx64 "\n", lay.names);
	printf("table kallsyms_markers %" PRIx64 "\n", lay.markers);
	if (lay.seqs_of_names)
		printf("table kallsyms_seqs_of_names %" PRIx64 "\n", lay.seqs_of_names);
	printf("table kallsyms_token_table %" PRIx64 "\n", lay.token_table);
	printf("table kallsyms_token_index %" PRIx64 "\n", lay.token_index);
	printf("count %zu\n", lay.count);
	if (argc == 2 && pvsub_kallsyms_foreach(ks, print_one, NULL) < 0) {
		fprintf(stderr, "ksyms: %s: kallsyms changed while read\n", argv[1]);
		status = 1;
	}
	for (int i = 2; i < argc; i++) {
		uint64_t addr;

		if (pvsub_kallsyms_lookup(ks, argv[i], &addr, &d) < 0) {
			fprintf(stderr, "ksyms: %s: %s\n", argv[1], d.msg);
			status = 1;
			continue;
		}
		printf("%s %" PRIx64 "\n", argv[i], addr);
	}
	pvsub_kallsyms_free(ks);
	free(data);
	return status;
}
