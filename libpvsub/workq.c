/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "libpvsub/workq.h"

struct slot {
	void *job;
	bool done;
};

struct pvsub_workq {
	pvsub_work_fn work;
	pvsub_done_fn done;
	void *data;

	unsigned nthreads;
	pthread_t *threads;
	pthread_mutex_t lock;
	pthread_cond_t have_work; /* workers wait for a job */
	pthread_cond_t have_done; /* the producer waits for the oldest job */

	/* A ring of jobs by sequence number: [head, next_run) are running or
	 * done, [next_run, tail) wait for a worker. */
	struct slot *ring;
	size_t cap;
	size_t head, next_run, tail;
	bool stopping;
};

struct worker_arg {
	struct pvsub_workq *q;
	unsigned id;
};

static void *worker_main(void *p)
{
	struct worker_arg *arg = p;
	struct pvsub_workq *q = arg->q;
	unsigned id = arg->id;

	free(arg);
	pthread_mutex_lock(&q->lock);
	for (;;) {
		size_t seq;
		void *job;

		while (q->next_run == q->tail && !q->stopping)
			pthread_cond_wait(&q->have_work, &q->lock);
		if (q->next_run == q->tail)
			break;
		seq = q->next_run++;
		job = q->ring[seq % q->cap].job;
		pthread_mutex_unlock(&q->lock);
		q->work(job, id, q->data);
		pthread_mutex_lock(&q->lock);
		q->ring[seq % q->cap].done = true;
		if (seq == q->head)
			pthread_cond_signal(&q->have_done);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int pvsub_workq_new(unsigned threads, size_t max_inflight, pvsub_work_fn work, pvsub_done_fn done,
		    void *data, struct pvsub_workq **out)
{
	struct pvsub_workq *q;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->work = work;
	q->done = done;
	q->data = data;
	if (threads <= 1) {
		*out = q;
		return 0;
	}
	q->cap = max_inflight > threads ? max_inflight : 2 * (size_t)threads;
	q->ring = calloc(q->cap, sizeof(*q->ring));
	q->threads = calloc(threads, sizeof(*q->threads));
	if (!q->ring || !q->threads)
		goto fail;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->have_work, NULL);
	pthread_cond_init(&q->have_done, NULL);
	for (unsigned i = 0; i < threads; i++) {
		struct worker_arg *arg = malloc(sizeof(*arg));

		if (!arg)
			break;
		arg->q = q;
		arg->id = i;
		if (pthread_create(&q->threads[i], NULL, worker_main, arg) != 0) {
			free(arg);
			break;
		}
		q->nthreads++;
	}
	if (q->nthreads == 0) {
		pthread_cond_destroy(&q->have_done);
		pthread_cond_destroy(&q->have_work);
		pthread_mutex_destroy(&q->lock);
		goto fail;
	}
	*out = q;
	return 0;
fail:
	free(q->threads);
	free(q->ring);
	free(q);
	return -ENOMEM;
}

/* Hand every finished job at the head to the consumer, in order.  Called
 * with the lock held; drops it around the callback. */
static void consume_ready(struct pvsub_workq *q)
{
	while (q->head < q->next_run && q->ring[q->head % q->cap].done) {
		void *job = q->ring[q->head % q->cap].job;

		q->head++;
		pthread_mutex_unlock(&q->lock);
		q->done(job, q->data);
		pthread_mutex_lock(&q->lock);
	}
}

int pvsub_workq_submit(struct pvsub_workq *q, void *job)
{
	if (q->nthreads == 0) {
		q->work(job, 0, q->data);
		q->done(job, q->data);
		return 0;
	}
	pthread_mutex_lock(&q->lock);
	consume_ready(q);
	while (q->tail - q->head == q->cap) {
		pthread_cond_wait(&q->have_done, &q->lock);
		consume_ready(q);
	}
	q->ring[q->tail % q->cap] = (struct slot){job, false};
	q->tail++;
	pthread_cond_signal(&q->have_work);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void pvsub_workq_free(struct pvsub_workq *q)
{
	if (!q)
		return;
	if (q->nthreads) {
		pthread_mutex_lock(&q->lock);
		for (;;) {
			consume_ready(q);
			if (q->head == q->tail)
				break;
			pthread_cond_wait(&q->have_done, &q->lock);
		}
		q->stopping = true;
		pthread_cond_broadcast(&q->have_work);
		pthread_mutex_unlock(&q->lock);
		for (unsigned i = 0; i < q->nthreads; i++)
			pthread_join(q->threads[i], NULL);
		pthread_cond_destroy(&q->have_done);
		pthread_cond_destroy(&q->have_work);
		pthread_mutex_destroy(&q->lock);
	}
	free(q->threads);
	free(q->ring);
	free(q);
}
