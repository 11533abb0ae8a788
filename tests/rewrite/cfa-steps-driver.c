/*
 * cfa-steps driver: calls cs_work and cs_frame (cfa-steps.S) with the trap
 * flag set, so that every instruction of theirs raises SIGTRAP, and from
 * the handler walks the stack with _Unwind_Backtrace (libgcc finds the
 * signal frame through its x86-64 rt_sigreturn fallback).  At every
 * instruction of the two functions the walk must give the interrupted
 * address, then the caller's return address, then main's: the frames
 * seen at each function's first instruction, where no rewritten sequence
 * has run yet.  Prints the results of the functions, the instructions
 * checked, and "unwound at every instruction", or the first walk that
 * went wrong (and exits 1).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unwind.h>

void cs_work(long *out);
void cs_frame(long *out);
extern char cs_end[];

#define TF 0x100
#define MAX_FRAMES 16

static uintptr_t lo, hi;	/* the function being stepped */
static volatile int stepping;
static uintptr_t want_caller, want_main; /* the frames after lo..hi's */
static unsigned long checked, bad;

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
	struct sigaction sa;
	long out[3] = {0, 0, 0};
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, NULL) != 0)
		return 2;
	step(cs_work, (uintptr_t)cs_frame, out);
	step(cs_frame, (uintptr_t)cs_end, out);
	printf("results %ld %ld %ld\n", out[0] - (long)(uintptr_t)out, out[1],
	       out[2] - (long)(uintptr_t)out);
	printf("checked %lu instructions\n", checked);
	if (bad) {
		printf("%lu wrong walks\n", bad);
		return 1;
	}
	printf("unwound at every instruction\n");
	return 0;
}
