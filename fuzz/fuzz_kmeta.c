/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the object reader (relobj) and the kernel metadata
 * (kmeta) over arbitrary bytes, as the scan and the rewriter use them.
 * Besides the sanitizers, it checks what the reader promises: whatever it
 * accepts has every section inside the input, names that end inside the
 * name table, relocations whose symbols exist; a view and a load agree; the
 * writer's output reads back; and every window kmeta reports lies inside
 * an executable section, in order.
 */
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libpvsub/kmeta.h"
#include "libpvsub/relobj.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static void check_one_line(const struct pvsub_diag *d)
{
	CHECK(memchr(d->msg, '\0', sizeof(d->msg)) != NULL);
	CHECK(strchr(d->msg, '\n') == NULL);
}

/* Every promise of an accepted object, over @size input bytes at @data. */
static void check_object(const struct pvsub_relobj *o, const uint8_t *data, size_t size)
{
	volatile uint8_t sink = 0;
	size_t nsym = pvsub_relobj_sym_count(o);

	CHECK(o->elf_size <= size);
	for (size_t i = 0; i < o->n_sec; i++) {
		const struct pvsub_relobj_section *s = &o->sec[i];

		CHECK(s->name >= o->shstr && s->name < o->shstr + o->shstr_size);
		CHECK(memchr(s->name, '\0', (size_t)(o->shstr + o->shstr_size - s->name)) != NULL);
		if (!s->bytes) {
			CHECK(s->size == 0);
			continue;
		}
		/* A view reads in place, inside the ELF bytes; a load owns copies. */
		if (!s->data)
			CHECK(s->bytes >= data && s->size <= o->elf_size &&
			      (size_t)(s->bytes - data) <= o->elf_size - s->size);
		sink ^= s->bytes[0];
		sink ^= s->bytes[s->size - 1];
		if (s->sh.sh_type == SHT_RELA) {
			CHECK(s->sh.sh_link == o->symtab);
			CHECK(s->sh.sh_info > 0 && s->sh.sh_info < o->n_sec);
			CHECK(pvsub_relobj_rela_for(o, s->sh.sh_info) != 0);
			for (size_t k = 0; k < pvsub_relobj_rela_count(o, i); k++) {
				Elf64_Rela ra;
				pvsub_relobj_rela_get(o, i, k, &ra);
				CHECK(ELF64_R_SYM(ra.r_info) == 0 || ELF64_R_SYM(ra.r_info) < nsym);
			}
		}
	}
	for (size_t k = 0; k < nsym; k++) {
		Elf64_Sym sym;
		pvsub_relobj_sym_get(o, k, &sym);
		CHECK(sym.st_shndx < o->n_sec || sym.st_shndx >= SHN_LORESERVE);
		sink ^= (uint8_t)strlen(pvsub_relobj_symbol_name(o, &sym));
	}
	(void)sink;
}

static void check_windows(const struct pvsub_relobj *o)
{
	struct pvsub_diag diag = {0};
	struct pvsub_mwindow *w = NULL;
	size_t n = 0;

	if (pvsub_kmeta_windows(o, &w, &n, &diag) < 0) {
		check_one_line(&diag);
		CHECK(w == NULL || n == 0);
		free(w);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct pvsub_relobj_section *code;

		CHECK(w[i].section > 0 && w[i].section < o->n_sec);
		CHECK(w[i].table > 0 && w[i].table < o->n_sec);
		code = &o->sec[w[i].section];
		CHECK(code->sh.sh_flags & SHF_EXECINSTR);
		CHECK(w[i].len > 0 && w[i].offset < code->size && w[i].len <= code->size - w[i].offset);
		CHECK(w[i].table_off < o->sec[w[i].table].size);
		CHECK(pvsub_window_kind_name(w[i].kind)[0] != '?');
		if (i)
			CHECK(w[i - 1].section < w[i].section ||
			      (w[i - 1].section == w[i].section && w[i - 1].offset <= w[i].offset));
	}
	free(w);
}

/* The writer's output must read back, with the same sections. */
static void check_round_trip(const struct pvsub_relobj *o)
{
	struct pvsub_buf out = {0};
	struct pvsub_relobj *b = NULL;
	struct pvsub_diag diag = {0};

	if (pvsub_relobj_write(o, &out) < 0)
		abort(); /* only -ENOMEM, and the fuzzer's inputs are small */
	if (pvsub_relobj_load((const uint8_t *)out.data, out.len, &b, &diag) < 0)
		abort();
	CHECK(b->n_sec == o->n_sec);
	for (size_t i = 1; i < o->n_sec; i++) {
		CHECK(strcmp(b->sec[i].name, o->sec[i].name) == 0);
		CHECK(b->sec[i].size == o->sec[i].size);
		CHECK(b->sec[i].size == 0 ||
		      memcmp(b->sec[i].bytes, o->sec[i].bytes, o->sec[i].size) == 0);
	}
	pvsub_relobj_free(b);
	pvsub_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvsub_diag diag = {0};
	struct pvsub_relobj *o = NULL, *v = NULL;
	int r;

	r = pvsub_relobj_load(data, size, &o, &diag);
	if (r < 0) {
		check_one_line(&diag);
		CHECK(o == NULL);
	} else {
		check_object(o, data, size);
		check_windows(o);
		check_round_trip(o);
	}
	/* A view of the same ELF bytes says the same. */
	r = pvsub_relobj_view(data, o ? (size_t)o->elf_size : size, &v, &diag);
	if (o)
		CHECK(r == 0);
	if (r == 0) {
		check_object(v, data, size);
		check_windows(v);
		for (size_t i = 0; i < v->n_sec; i++)
			CHECK(v->sec[i].data == NULL);
	} else {
		check_one_line(&diag);
	}
	pvsub_relobj_free(v);
	pvsub_relobj_free(o);
	return 0;
}
