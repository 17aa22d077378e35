#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "text_escape.h"

/* One line each: names from threads or clients cannot end it or colour the terminal. */
static void vlog(const char *level, const char *fmt, va_list ap)
{
	char msg[2048], safe[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	escape_control_chars(msg, safe, sizeof(safe));
	fprintf(stderr, "vmm-schedd: %s%s\n", level, safe);
}

void vs_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void vs_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error: ", fmt, ap);
	va_end(ap);
}

void vs_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

int vs_err_if(int e, const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	if (e >= 0)
		return e;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	vs_err("%s: %s", what, strerror(-e));
	return e;
}

#define LIMITED_INTERVAL_NS (60 * 1000000000ULL)
#define LIMITED_BURST	    5

static void vlog_limited(struct vs_ratelimit *rl, const char *level, const char *fmt, va_list ap)
{
	struct timespec ts;
	uint64_t suppressed;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (!ratelimit_allow(rl, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec,
			     LIMITED_INTERVAL_NS, LIMITED_BURST, &suppressed))
		return;
	if (suppressed)
		fprintf(stderr,
			"vmm-schedd: %s%llu similar lines suppressed (at most %d a minute)\n",
			level, (unsigned long long)suppressed, LIMITED_BURST);
	vlog(level, fmt, ap);
}

void vs_log_limited(struct vs_ratelimit *rl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_limited(rl, "", fmt, ap);
	va_end(ap);
}

void vs_err_limited(struct vs_ratelimit *rl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_limited(rl, "error: ", fmt, ap);
	va_end(ap);
}
