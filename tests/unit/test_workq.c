/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "libpvsub/workq.h"

struct job {
	size_t seq;
	size_t result;
	unsigned worker;
};

struct state {
	size_t next_expected;
	atomic_size_t running;
	atomic_size_t max_running;
	unsigned threads;
};

static void work(void *p, unsigned worker, void *data)
{
	struct job *j = p;
	struct state *st = data;
	size_t now = atomic_fetch_add(&st->running, 1) + 1, max;

	while ((max = atomic_load(&st->max_running)) < now &&
	       !atomic_compare_exchange_weak(&st->max_running, &max, now))
		;
	/* Later jobs finish sooner, so completion order differs from
	 * submission order. */
	usleep((useconds_t)(200 * ((7 - j->seq % 8))));
	j->result = j->seq * j->seq;
	j->worker = worker;
	atomic_fetch_sub(&st->running, 1);
}

static void done(void *p, void *data)
{
	struct job *j = p;
	struct state *st = data;

	cr_assert_eq(j->seq, st->next_expected, "consumed %zu, expected %zu", j->seq,
		     st->next_expected);
	cr_assert_eq(j->result, j->seq * j->seq);
	cr_assert_lt(j->worker, st->threads ? st->threads : 1);
	st->next_expected++;
	free(j);
}

static void run(unsigned threads, size_t njobs, size_t inflight)
{
	struct state st = {.threads = threads};
	struct pvsub_workq *q;

	cr_assert_eq(pvsub_workq_new(threads, inflight, work, done, &st, &q), 0);
	for (size_t i = 0; i < njobs; i++) {
		struct job *j = calloc(1, sizeof(*j));

		cr_assert_not_null(j);
		j->seq = i;
		cr_assert_eq(pvsub_workq_submit(q, j), 0);
	}
	pvsub_workq_free(q);
	cr_assert_eq(st.next_expected, njobs);
	if (threads > 1)
		cr_assert_leq(atomic_load(&st.max_running), threads);
}

Test(workq, inline_when_single_threaded)
{
	run(1, 100, 4);
	run(0, 10, 0);
}

Test(workq, results_in_submission_order)
{
	run(2, 500, 8);
	run(4, 1000, 16);
	run(8, 300, 8);
}

Test(workq, empty_queue_finishes)
{
	run(4, 0, 8);
}
