/*
 * Shared part of the rewriter test drivers.  A driver calls each fixture
 * function through pvsub_probe() (probe.S) with chosen registers and flags
 * and prints every register, the arithmetic flags, the change of %rsp and a
 * digest of the memory the fixtures may write.  The test runs the driver
 * linked with the original fixture object and again with the rewritten one;
 * the two outputs must be identical.
 *
 * Values are printed so that they do not depend on where the program was
 * loaded: a register that kept its value is printed as "in", a value that
 * points near mem[] as mem+N.
 */
#ifndef PVSUB_REWRITE_DRIVER_H
#define PVSUB_REWRITE_DRIVER_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum {
	RAX, RBX, RCX, RDX, RSI, RDI, RBP, R8, R9, R10, R11, R12, R13, R14, R15,
	RFLAGS, RSP_CHANGE, NREG
};

static const char *const reg_name[NREG] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8",  "r9",
	"r10", "r11", "r12", "r13", "r14", "r15", "flags", "rsp"};

/* CF PF AF ZF SF OF: what a rewrite must keep. */
#define ARITH_FLAGS 0x8d5u
/* Bit 1 is always set; IF cannot change in user mode. */
#define BASE_FLAGS 0x202u

void pvsub_probe(void (*fn)(void), const uint64_t *in, uint64_t *out);

/* Memory the fixtures read and write through pointers in registers. */
static unsigned char mem[4096] __attribute__((aligned(64)));

static inline void mem_reset(void)
{
	for (size_t i = 0; i < sizeof mem; i++)
		mem[i] = (unsigned char)(i * 7 + 3);
}

static inline uint64_t mem_digest(void)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < sizeof mem; i++)
		h = (h ^ mem[i]) * 0x100000001b3u;
	return h;
}

/* The address of mem[@off] as a register value. */
static inline uint64_t mem_at(int64_t off)
{
	return (uint64_t)(uintptr_t)mem + (uint64_t)off;
}

/* Every register a distinct value with no zero byte; @flags are the
 * arithmetic flags to start with. */
static inline void regs_init(uint64_t in[NREG], unsigned flags)
{
	for (int i = 0; i < RFLAGS; i++)
		in[i] = 0x0101010101010101u * (uint64_t)(i + 1) + 0x1020304050607080u;
	in[RFLAGS] = BASE_FLAGS | (flags & ARITH_FLAGS);
	in[RSP_CHANGE] = 0;
}

static inline void print_value(uint64_t v)
{
	int64_t d = (int64_t)(v - (uintptr_t)mem);

	/* Addresses in or right around mem[] are printed relative to it; the
	 * fixtures' other values do not come that close, wherever the program
	 * is loaded. */
	if (d > -65536 && d < 65536)
		printf("mem%+" PRId64, d);
	else
		printf("%" PRIx64, v);
}

/* Print @label and the registers @out left, "in" for one that kept its
 * value from @in (the inputs may be addresses). */
static inline void print_regs(const char *label, const uint64_t in[NREG], const uint64_t out[NREG])
{
	printf("%s:", label);
	for (int i = 0; i < RFLAGS; i++) {
		printf(" %s=", reg_name[i]);
		if (out[i] == in[i])
			printf("in");
		else
			print_value(out[i]);
	}
}

/* Call @fn with @in and print the state it leaves. */
static inline void probe(const char *label, void (*fn)(void), const uint64_t in[NREG])
{
	uint64_t out[NREG] = {0};

	pvsub_probe(fn, in, out);
	print_regs(label, in, out);
	printf(" flags=%03" PRIx64 " rsp=%" PRId64 " mem=%016" PRIx64 "\n",
	       out[RFLAGS] & ARITH_FLAGS, (int64_t)out[RSP_CHANGE], mem_digest());
}

/* Call @fn, whose arithmetic flags are dead when it returns (lea-arith may
 * change them), and print the state it leaves without them. */
static inline void probe_dead_flags(const char *label, void (*fn)(void), const uint64_t in[NREG])
{
	uint64_t out[NREG] = {0};

	pvsub_probe(fn, in, out);
	print_regs(label, in, out);
	printf(" rsp=%" PRId64 " mem=%016" PRIx64 "\n", (int64_t)out[RSP_CHANGE], mem_digest());
}

/* Call @fn twice, with all arithmetic flags clear and with all set, so that
 * a rewrite that changes any flag shows whichever way it changes it. */
static inline void probe_flags(const char *label, void (*fn)(void), uint64_t in[NREG])
{
	in[RFLAGS] = BASE_FLAGS;
	probe(label, fn, in);
	in[RFLAGS] = BASE_FLAGS | ARITH_FLAGS;
	probe(label, fn, in);
}

/* A function under test, by name. */
struct probe_fn {
	const char *name;
	void (*fn)(void);
};

/* Each of the @n functions at @fns under probe_flags(), with rdi and rsi
 * from each of the @nargs pairs at @args in turn (memory reset once). */
static inline void probe_each(const struct probe_fn *fns, size_t n, const uint64_t (*args)[2],
			      size_t nargs)
{
	uint64_t in[NREG];

	mem_reset();
	for (size_t i = 0; i < nargs; i++) {
		regs_init(in, 0);
		in[RDI] = args[i][0];
		in[RSI] = args[i][1];
		for (size_t k = 0; k < n; k++)
			probe_flags(fns[k].name, fns[k].fn, in);
	}
}

#endif
