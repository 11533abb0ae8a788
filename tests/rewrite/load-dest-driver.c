/* Driver for load-dest.S: see driver.h. */
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "driver.h"

void ld_mov64(void), ld_mov32(void), ld_movzb(void), ld_movzw(void), ld_movsb(void), ld_movsw(void),
	ld_movsxd(void), ld_lea64(void), ld_lea32(void), ld_base(void), ld_index(void),
	ld_rex(void), ld_r12(void), ld_r13(void), ld_b12(void), ld_b13(void), ld_fs(void),
	ld_gs(void), ld_rsp(void);

/* How a site's address is formed: from mem[], from mem[] through fs: or
 * gs: (whose base the registers must then leave out), or not at all (lea:
 * the registers hold plain numbers, so that the result does not depend on
 * where the program was loaded). */
enum kind { MEM, FS, GS, LEA };

/* The displacement and the registers of each site's memory operand (index
 * -1: none). */
static const struct site {
	const char *name;
	void (*fn)(void);
	uint32_t disp;
	int base, index, scale;
	enum kind kind;
} sites[] = {
	{"ld_mov64", ld_mov64, 0x11c1b1a1, RDI, -1, 0, MEM},
	{"ld_mov32", ld_mov32, 0x22c2b2a2, RDI, -1, 0, MEM},
	{"ld_movzb", ld_movzb, 0x33c3b3a3, RDI, -1, 0, MEM},
	{"ld_movzw", ld_movzw, 0x44c4b4a4, RDI, -1, 0, MEM},
	{"ld_movsb", ld_movsb, 0x55c5b5a5, RDI, -1, 0, MEM},
	{"ld_movsw", ld_movsw, 0x66c6b6a6, RDI, -1, 0, MEM},
	{"ld_movsxd", ld_movsxd, 0x77c7b7a7, RDI, -1, 0, MEM},
	{"ld_lea64", ld_lea64, 0x11c8b8a8, RDI, RSI, 4, LEA},
	{"ld_lea32", ld_lea32, 0x22c9b9a9, RDI, -1, 0, LEA},
	{"ld_base", ld_base, 0x33cabaaa, RAX, -1, 0, MEM},
	{"ld_index", ld_index, 0x44cbbbab, RDI, RCX, 8, MEM},
	{"ld_rex", ld_rex, 0x55ccbcac, R14, R15, 2, MEM},
	{"ld_r12", ld_r12, 0x66cdbdad, RDI, -1, 0, MEM},
	{"ld_r13", ld_r13, 0x77cebeae, RDI, -1, 0, MEM},
	{"ld_b12", ld_b12, 0x11cfbfaf, R12, -1, 0, MEM},
	{"ld_b13", ld_b13, 0x22d0c0b0, R13, -1, 0, MEM},
	{"ld_fs", ld_fs, 0x33d1c1b1, RDI, -1, 0, FS},
	{"ld_gs", ld_gs, 0x44d2c2b2, RSI, RDI, 1, GS},
};

static uint64_t segment_base(int code)
{
	unsigned long base = 0;

	if (syscall(SYS_arch_prctl, code, &base) != 0) {
		perror("arch_prctl");
		return 0;
	}
	return base;
}

int main(void)
{
	uint64_t fs = segment_base(ARCH_GET_FS), gs = segment_base(ARCH_GET_GS);
	uint64_t in[NREG];

	mem_reset();
	for (int set = 0; set < 3; set++) {
		for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++) {
			const struct site *s = &sites[i];
			/* Odd offsets too: the loads must read the same bytes. */
			uint64_t target = mem_at(512 + 67 * set);
			uint64_t idx = (uint64_t)set + 1;

			regs_init(in, 0);
			for (int r = 0; set > 0 && r < RFLAGS; r++)
				in[r] = set == 1 ? ~UINT64_C(0) : 0;
			if (s->kind == LEA) {
				/* Carries into the upper half, and a truncation. */
				target = UINT64_C(0x0123456789abcdef) +
					 UINT64_C(0xfedcba987) * (uint64_t)set;
			} else if (s->kind == FS) {
				target -= fs;
			} else if (s->kind == GS) {
				target -= gs;
			}
			if (s->index >= 0)
				in[s->index] = idx;
			in[s->base] =
				target - s->disp - (s->index >= 0 ? idx * (uint64_t)s->scale : 0);
			probe_flags(s->name, s->fn, in);
		}
		regs_init(in, 0);
		in[RDI] = UINT64_C(0x1122334455667788) + (uint64_t)set;
		probe_flags("ld_rsp", ld_rsp, in);
	}
	return 0;
}
