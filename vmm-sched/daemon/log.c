#include <stdarg.h>
#include <stdio.h>

#include "daemon.h"

static void vlog(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "vmm-schedd: %s", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
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
