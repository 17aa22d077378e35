/* The agent's log lines on stderr (journald adds the time). */
#ifndef VS_LOG_H
#define VS_LOG_H

#include "ratelimit.h"

void vs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vs_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vs_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * For a -errno from inside (e.g. a map write) where nobody waits for it:
 * logs "@fmt: strerror(-e)" if @e < 0. Returns @e.
 */
int vs_err_if(int e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, at most a few lines a minute per @rl; then says how many were held back. */
void vs_log_limited(struct vs_ratelimit *rl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vs_err_limited(struct vs_ratelimit *rl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
