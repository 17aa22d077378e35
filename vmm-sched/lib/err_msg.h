/*
 * The library's error convention: a function that refuses fills the caller's
 * err buffer with what was wrong, in words an operator can act on, and
 * returns -1. err_msg() does both in one call.
 */
#ifndef VS_ERR_MSG_H
#define VS_ERR_MSG_H

#include <stddef.h>

/* Formats into @err (at most @errlen bytes, always terminated) and returns -1. */
int err_msg(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
