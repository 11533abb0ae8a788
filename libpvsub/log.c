/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "libpvsub/log.h"

struct pvsub_ctx {
	atomic_int refcount;
	pvsub_log_fn log_fn;
	void *log_data;
	int log_priority;
};

int pvsub_ctx_new(struct pvsub_ctx **out)
{
	struct pvsub_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -ENOMEM;
	atomic_init(&ctx->refcount, 1);
	ctx->log_priority = PVSUB_LOG_WARNING;
	*out = ctx;
	return 0;
}

struct pvsub_ctx *pvsub_ctx_ref(struct pvsub_ctx *ctx)
{
	if (ctx)
		atomic_fetch_add(&ctx->refcount, 1);
	return ctx;
}

void pvsub_ctx_unref(struct pvsub_ctx *ctx)
{
	if (ctx && atomic_fetch_sub(&ctx->refcount, 1) == 1)
		free(ctx);
}

void pvsub_ctx_set_log_fn(struct pvsub_ctx *ctx, pvsub_log_fn fn, void *data)
{
	ctx->log_fn = fn;
	ctx->log_data = data;
}

void pvsub_ctx_set_log_priority(struct pvsub_ctx *ctx, int priority)
{
	ctx->log_priority = priority;
}

int pvsub_ctx_get_log_priority(const struct pvsub_ctx *ctx)
{
	return ctx->log_priority;
}

void pvsub_log(struct pvsub_ctx *ctx, int priority, const char *fmt, ...)
{
	va_list ap;

	if (!ctx || !ctx->log_fn || priority > ctx->log_priority)
		return;
	va_start(ap, fmt);
	ctx->log_fn(ctx->log_data, priority, fmt, ap);
	va_end(ap);
}
