/*
 * VM names: what the agent accepts, so that nothing a client or a process
 * chose can forge a log line or an escape sequence in the status table.
 */
#ifndef VS_VM_NAME_H
#define VS_VM_NAME_H

#include <stddef.h>

#include "registry.h"

#define VS_VM_NAME_MAX	   (VS_VM_NAME_LEN - 1)
#define VS_VM_NAME_CHARSET "letters, digits, '.', '_' and '-'"

/*
 * 0 if @name (of @len bytes, which may hold a NUL) is 1..VS_VM_NAME_MAX
 * characters of [A-Za-z0-9._-]; else -1 with err saying what is wrong,
 * without echoing the name.
 */
int vm_name_check(const char *name, size_t len, char *err, size_t errlen);

/*
 * Copies @in to @out (at most @outlen - 1 characters), each character outside
 * the set replaced by '_', for names the agent makes itself (from a process's
 * comm) or reads from a pinned record.
 */
void vm_name_sanitize(const char *in, char *out, size_t outlen);

#endif
