/* SPDX-License-Identifier: MIT */
/*
 * workq: an ordered work queue.  A producer submits jobs in sequence; N
 * worker threads run them in any order; a consumer callback sees the results
 * strictly in submission order, on the producer's thread.  This is what lets
 * `pvsub-scan -j N` scan in parallel with deterministic output.  The number
 * of jobs in flight is bounded, so memory stays bounded while an archive is
 * streamed.
 */
#ifndef PVSUB_WORKQ_H
#define PVSUB_WORKQ_H

#include <stddef.h>

#include "libpvsub/util.h"

/* Runs on a worker thread; @worker is 0..threads-1 (for per-thread state). */
typedef void (*pvsub_work_fn)(void *job, unsigned worker, void *data);
/* Runs on the submitting thread, in submission order, once per job. */
typedef void (*pvsub_done_fn)(void *job, void *data);

struct pvsub_workq;

/*
 * @threads workers (0 or 1: jobs run inline in pvsub_workq_submit, no thread
 * is created), at most @max_inflight jobs submitted but not yet consumed.
 */
int pvsub_workq_new(unsigned threads, size_t max_inflight, pvsub_work_fn work, pvsub_done_fn done,
		    void *data, struct pvsub_workq **out) _must_check_ _nonnull_(3, 4, 6);

/* Queue @job; may first consume finished jobs, and blocks while the queue is
 * full.  0 or -ENOMEM. */
int pvsub_workq_submit(struct pvsub_workq *q, void *job) _must_check_ _nonnull_(1);

/* Wait for every job, consume the rest in order, stop the workers, free. */
void pvsub_workq_free(struct pvsub_workq *q);

#endif
