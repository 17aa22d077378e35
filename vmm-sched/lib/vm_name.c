#include "vm_name.h"

#include <stdbool.h>
#include <stdio.h>

static bool name_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

int vm_name_check(const char *name, size_t len, char *err, size_t errlen)
{
	if (len == 0) {
		snprintf(err, errlen, "the VM name is empty");
		return -1;
	}
	if (len > VS_VM_NAME_MAX) {
		snprintf(err, errlen, "the VM name has %zu characters: at most %d of %s", len,
			 VS_VM_NAME_MAX, VS_VM_NAME_CHARSET);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (!name_char_ok((unsigned char)name[i])) {
			snprintf(err, errlen,
				 "the VM name has character 0x%02x at position %zu: only %s are "
				 "allowed",
				 (unsigned char)name[i], i + 1, VS_VM_NAME_CHARSET);
			return -1;
		}
	}
	return 0;
}

void vm_name_sanitize(const char *in, char *out, size_t outlen)
{
	size_t i;

	if (!outlen)
		return;
	for (i = 0; in[i] && i + 1 < outlen; i++)
		out[i] = name_char_ok((unsigned char)in[i]) ? in[i] : '_';
	out[i] = '\0';
}
