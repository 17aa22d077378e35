/* Text that came from outside (thread names, clients) made safe for a log line or a terminal. */
#ifndef VS_TEXT_ESCAPE_H
#define VS_TEXT_ESCAPE_H

#include <stddef.h>

/*
 * Copies @in to @out with each control byte (below 0x20, and 0x7f) written
 * as \xNN, so it can neither end a log line nor start an escape sequence.
 * Cut short (never mid-escape) to fit @outlen.
 */
void escape_control_chars(const char *in, char *out, size_t outlen);

#endif
