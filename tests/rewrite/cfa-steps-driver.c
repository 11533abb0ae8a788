/*
 * cfa-steps driver: calls cs_work and cs_frame (cfa-steps.S) with the trap
 * flag set, so that every instruction of theirs raises SIGTRAP, and from
 * the handler walks the stack with _Unwind_Backtrace (libgcc finds the
 * signal frame through its x86-64 rt_sigreturn fallback).  At every
 * instruction of the two functions the walk must give the interrupted
 * address, then the caller's return address, then main's: the frames
 * seen at each function's first instruction, where no rewritten sequence
 * has run yet.
 *
 * Built with -DUNWIND_WORK it steps uw_level1 (unwind-work.c, compiler
 * output) instead, for a few arguments: at every instruction of the three
 * uw_level functions the walk must name (_Unwind_FindEnclosingFunction)
 * the interrupted function, its callers down to uw_level1, the stepping
 * function and main, in a row.
 *
 * Prints the results of the functions, the instructions checked, and
 * "unwound at every instruction", or the first walk that went wrong (and
 * exits 1).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unwind.h>

#ifdef UNWIND_WORK
typedef uint64_t (*uw_cb)(uint64_t);
uint64_t uw_level1(uw_cb cb, uint64_t x);
uint64_t uw_level2(uw_cb cb, void *r, uint64_t x);
uint64_t uw_level3(uw_cb cb, void *r, uint64_t x);
#else
void cs_work(long *out);
void cs_frame(long *out);
extern char cs_end[];
#endif

#define TF 0x100
#define MAX_FRAMES 16

static volatile int stepping;
static unsigned long checked, bad;
#ifndef UNWIND_WORK
static uintptr_t lo, hi;		 /* the function being stepped */
static uintptr_t want_caller, want_main; /* the frames after lo..hi's */
#endif

struct walk {
	uintptr_t ip[MAX_FRAMES];
	unsigned n;
};

static _Unwind_Reason_Code one_frame(struct _Unwind_Context *ctx, void *arg)
{
	struct walk *w = arg;
	int before = 0;
	if (w->n == MAX_FRAMES)
		return _URC_END_OF_STACK;
	w->ip[w->n++] = _Unwind_GetIPInfo(ctx, &before) - (before ? 0 : 1);
	return _URC_NO_REASON;
}

/* SIGTRAP (each single step) goes to @handler; 0, or -1. */
static int catch_traps(void (*handler)(int, siginfo_t *, void *))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGTRAP, &sa, NULL);
}

/* The instructions checked and the verdict; the exit status. */
static int report(void)
{
	printf("checked %lu instructions\n", checked);
	if (bad) {
		printf("%lu wrong walks\n", bad);
		return 1;
	}
	printf("unwound at every instruction\n");
	return 0;
}

#ifdef UNWIND_WORK
static uint64_t run_uw(uint64_t x);
int main(void);

/* 1-3 for uw_level1-3, 4 for run_uw, 5 for main, 0 for anything else. */
static int level_of(uintptr_t ip)
{
	void *f = _Unwind_FindEnclosingFunction((void *)ip);
	if (f == (void *)uw_level1)
		return 1;
	if (f == (void *)uw_level2)
		return 2;
	if (f == (void *)uw_level3)
		return 3;
	if (f == (void *)run_uw)
		return 4;
	if (f == (void *)main)
		return 5;
	return 0;
}

/* The walk from uw_level@top: uw_level@top ... uw_level1, run_uw, main. */
static int walk_ok(const struct walk *w, unsigned k, int top)
{
	int want = top;
	for (; k < w->n && want <= 5; k++, want = want == 1 ? 4 : want < 4 ? want - 1 : want + 1)
		if (level_of(w->ip[k]) != want)
			return 0;
	return want > 5;
}

static void on_trap(int sig, siginfo_t *si, void *arg)
{
	ucontext_t *uc = arg;
	uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	struct walk w = {.n = 0};
	unsigned k;
	int top;
	(void)sig;
	(void)si;
	if (!stepping) {
		uc->uc_mcontext.gregs[REG_EFL] &= ~TF;
		return;
	}
	top = level_of(ip);
	if (top < 1 || top > 3)
		return;
	_Unwind_Backtrace(one_frame, &w);
	for (k = 0; k < w.n && w.ip[k] != ip; k++)
		;
	checked++;
	if (!walk_ok(&w, k, top) && bad++ == 0) {
		printf("wrong walk at uw_level%d+%#lx:", top,
		       (unsigned long)(ip - (uintptr_t)_Unwind_FindEnclosingFunction((void *)ip)));
		for (unsigned j = k; j < w.n; j++)
			printf(" %d", level_of(w.ip[j]));
		printf("\n");
	}
}

static uint64_t cb(uint64_t x)
{
	return x * 3 + 1;
}

static __attribute__((noinline)) uint64_t run_uw(uint64_t x)
{
	uint64_t v;
	stepping = 1;
	__asm__ volatile("pushfq; orq %0, (%%rsp); popfq" : : "i"(TF) : "memory", "cc");
	v = uw_level1(cb, x);
	stepping = 0;
	__asm__ volatile("" ::: "memory");
	return v;
}

int main(void)
{
	if (catch_traps(on_trap) != 0)
		return 2;
	for (uint64_t x = 0; x < 7; x++)
		printf("x=%llu v=%016llx\n", (unsigned long long)x,
		       (unsigned long long)run_uw(x * 0x10001 + 5));
	return report();
}
#else
static void on_trap(int sig, siginfo_t *si, void *arg)
{
	ucontext_t *uc = arg;
	uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	struct walk w = {.n = 0};
	unsigned k;
	(void)sig;
	(void)si;
	if (!stepping) {
		uc->uc_mcontext.gregs[REG_EFL] &= ~TF;
		return;
	}
	if (ip < lo || ip >= hi)
		return;
	_Unwind_Backtrace(one_frame, &w);
	for (k = 0; k < w.n && w.ip[k] != ip; k++)
		;
	if (ip == lo && k + 2 < w.n) {
		want_caller = w.ip[k + 1];
		want_main = w.ip[k + 2];
	}
	checked++;
	if (k + 2 >= w.n || w.ip[k + 1] != want_caller || w.ip[k + 2] != want_main ||
	    !want_caller) {
		if (bad++ == 0) {
			printf("wrong walk at function+%#lx:", (unsigned long)(ip - lo));
			for (unsigned j = 0; j < w.n; j++)
				printf(" %#lx", (unsigned long)w.ip[j]);
			printf(" (want %#lx %#lx after the interrupted address)\n",
			       (unsigned long)want_caller, (unsigned long)want_main);
		}
	}
}

/* Step through @fn, whose code ends at @end. */
static __attribute__((noinline)) void step(void (*fn)(long *), uintptr_t end, long *out)
{
	lo = (uintptr_t)fn;
	hi = end;
	want_caller = want_main = 0;
	stepping = 1;
	__asm__ volatile("pushfq; orq %0, (%%rsp); popfq" : : "i"(TF) : "memory", "cc");
	fn(out);
	stepping = 0;
	__asm__ volatile("" ::: "memory");
}

int main(void)
{
	long out[3] = {0, 0, 0};
	if (catch_traps(on_trap) != 0)
		return 2;
	step(cs_work, (uintptr_t)cs_frame, out);
	step(cs_frame, (uintptr_t)cs_end, out);
	printf("results %ld %ld %ld\n", out[0] - (long)(uintptr_t)out, out[1],
	       out[2] - (long)(uintptr_t)out);
	return report();
}
#endif
