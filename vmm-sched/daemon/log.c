#include <stdarg.h>
#include <stdio.h>

#include "daemon.h"
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
