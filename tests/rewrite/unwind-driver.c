/*
 * unwind-driver: calls uw_level1 (unwind-work.c), whose callback walks the
 * stack with _Unwind_Backtrace and names each frame by the start of the
 * function its unwind entry (FDE) says it is in
 * (_Unwind_FindEnclosingFunction): the walk must go through the three
 * levels and main, with the FDEs giving the functions' starts.  It
 * prints the frames it found and the results; unwind.sh compares that
 * output before and after rewriting unwind-work.o.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unwind.h>

typedef uint64_t (*uw_cb)(uint64_t);
uint64_t uw_level1(uw_cb cb, uint64_t x);
uint64_t uw_level2(uw_cb cb, void *r, uint64_t x);
uint64_t uw_level3(uw_cb cb, void *r, uint64_t x);

int main(void);

#define MAX_FRAMES 32

struct walk {
	const char *names[MAX_FRAMES];
	unsigned n;
};

static uint64_t callback(uint64_t x);

static const char *name_of(void *start)
{
	if (start == (void *)callback)
		return "callback";
	if (start == (void *)main)
		return "main";
	if (start == (void *)uw_level1)
		return "uw_level1";
	if (start == (void *)uw_level2)
		return "uw_level2";
	if (start == (void *)uw_level3)
		return "uw_level3";
	return NULL;
}

static _Unwind_Reason_Code step(struct _Unwind_Context *ctx, void *arg)
{
	struct walk *wk = arg;
	void *ip = (void *)_Unwind_GetIP(ctx);
	void *start = _Unwind_FindEnclosingFunction(ip);
	const char *name = name_of(start);
	if (wk->n < MAX_FRAMES)
		wk->names[wk->n++] = name ? name : "other";
	return _URC_NO_REASON;
}

static struct walk last;

__attribute__((noinline)) static uint64_t callback(uint64_t x)
{
	memset(&last, 0, sizeof(last));
	_Unwind_Backtrace(step, &last);
	return x * 3 + last.n;
}

int main(void)
{
	int bad = 0;
	for (uint64_t x = 0; x < 14; x++) {
		uint64_t v = uw_level1(callback, x * 0x10001 + 5);
		printf("x=%llu v=%016llx frames:", (unsigned long long)x, (unsigned long long)v);
		/* uw_level3, uw_level2, uw_level1, main in a row */
		int found = 0;
		for (unsigned i = 0; i < last.n; i++) {
			if (strcmp(last.names[i], "other") != 0)
				printf(" %s", last.names[i]);
			if (i + 3 < last.n && strcmp(last.names[i], "uw_level3") == 0 &&
			    strcmp(last.names[i + 1], "uw_level2") == 0 &&
			    strcmp(last.names[i + 2], "uw_level1") == 0 &&
			    strcmp(last.names[i + 3], "main") == 0)
				found = 1;
		}
		printf("\n");
		if (!found) {
			printf("the walk did not go through uw_level3, uw_level2, uw_level1, "
			       "main\n");
			bad = 1;
		}
	}
	return bad;
}
