/* SPDX-License-Identifier: MIT */
/*
 * log: the library context and its log callback.  libpvsub never writes to
 * stdout or stderr; whatever it has to say beyond a return code goes through
 * the callback installed here (none by default: messages are dropped).
 */
#ifndef PVSUB_LOG_H
#define PVSUB_LOG_H

#include <stdarg.h>

#include "libpvsub/util.h"

enum pvsub_log_priority {
	PVSUB_LOG_ERR = 3,
	PVSUB_LOG_WARNING = 4,
	PVSUB_LOG_INFO = 6,
	PVSUB_LOG_DEBUG = 7,
};

typedef void (*pvsub_log_fn)(void *data, int priority, const char *fmt, va_list ap);

struct pvsub_ctx;

/* A new context with refcount 1, no log function and priority WARNING. */
int pvsub_ctx_new(struct pvsub_ctx **out) _must_check_ _nonnull_(1);
struct pvsub_ctx *pvsub_ctx_ref(struct pvsub_ctx *ctx);
/* Drop a reference; NULL is a no-op. */
void pvsub_ctx_unref(struct pvsub_ctx *ctx);

/* Install @fn (called with @data); messages above @priority are dropped.
 * The callback may be called from several threads at once. */
void pvsub_ctx_set_log_fn(struct pvsub_ctx *ctx, pvsub_log_fn fn, void *data) _nonnull_(1);
void pvsub_ctx_set_log_priority(struct pvsub_ctx *ctx, int priority) _nonnull_(1);
int pvsub_ctx_get_log_priority(const struct pvsub_ctx *ctx) _nonnull_(1);

/* Log through @ctx; a NULL @ctx drops the message. */
void pvsub_log(struct pvsub_ctx *ctx, int priority, const char *fmt, ...) _printf_format_(3, 4);

#define pvsub_warn(ctx, ...) pvsub_log((ctx), PVSUB_LOG_WARNING, __VA_ARGS__)
#define pvsub_info(ctx, ...) pvsub_log((ctx), PVSUB_LOG_INFO, __VA_ARGS__)
#define pvsub_dbg(ctx, ...) pvsub_log((ctx), PVSUB_LOG_DEBUG, __VA_ARGS__)

#endif
