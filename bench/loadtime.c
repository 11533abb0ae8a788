/* SPDX-License-Identifier: MIT */
/*
 * loadtime REPEAT COMMAND [ARG...]: run COMMAND REPEAT times (after one
 * warm-up run) and print, in nanoseconds,
 *
 *   total MIN MEDIAN first MIN MEDIAN status S
 *
 * total: from just before the spawn to the end of the wait; first: from
 * just before the spawn to the CLOCK_MONOTONIC time that the command
 * printed after "t0 " on its standard error (the bench guest prints its
 * first pvsub_clock_ns() reading there: the guest's first instruction),
 * "-" when it printed none.  S is the last run's exit status.  For
 * bench/loader.sh; a benchmark, never a test.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One run: its times, and its status (-1 if it could not run). */
static int run_once(char **argv, uint64_t *total, uint64_t *first)
{
	posix_spawn_file_actions_t fa;
	char buf[65536];
	size_t len = 0;
	ssize_t n;
	int pipefd[2], st;
	uint64_t t0;
	pid_t pid;
	char *p;

	if (pipe(pipefd) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	t0 = now_ns();
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	while ((n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(pipefd[0]);
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	*total = now_ns() - t0;
	buf[len] = '\0';
	p = strstr(buf, "t0 ");
	*first = p ? strtoull(p + 3, NULL, 10) - t0 : 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	uint64_t *tot, *fst;
	int repeat, st = 0;

	if (argc < 3 || (repeat = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: loadtime REPEAT COMMAND [ARG...]\n");
		return 2;
	}
	tot = calloc((size_t)repeat, sizeof(*tot));
	fst = calloc((size_t)repeat, sizeof(*fst));
	if (!tot || !fst)
		return 1;
	for (int i = -1; i < repeat; i++) {
		uint64_t t, f;

		st = run_once(argv + 2, &t, &f);
		if (st < 0) {
			perror(argv[2]);
			return 1;
		}
		if (i >= 0) {
			tot[i] = t;
			fst[i] = f;
		}
	}
	qsort(tot, (size_t)repeat, sizeof(*tot), cmp_u64);
	qsort(fst, (size_t)repeat, sizeof(*fst), cmp_u64);
	printf("total %llu %llu first ", (unsigned long long)tot[0],
	       (unsigned long long)tot[repeat / 2]);
	if (fst[0])
		printf("%llu %llu", (unsigned long long)fst[0],
		       (unsigned long long)fst[repeat / 2]);
	else
		printf("- -");
	printf(" status %d\n", st);
	free(tot);
	free(fst);
	return 0;
}
