#include "vcpu_name.h"

#include <string.h>

/* Parse a decimal index at s that must end the string or be followed by @tail. */
static int index_before(const char *s, const char *tail)
{
	long v = 0;
	int digits = 0;

	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (*s++ - '0');
		if (++digits > 6)
			return -1;
	}
	if (!digits || strcmp(s, tail) != 0)
		return -1;
	return (int)v;
}

int vcpu_index_from_thread_name(const char *comm)
{
	static const struct {
		const char *prefix, *suffix;
	} forms[] = {
	    {"CPU ", "/KVM"}, {"CPU ", "/TCG"}, {"vcpu", ""}, {"fc_vcpu ", ""}, {"crosvm_vcpu", ""},
	};

	if (!comm)
		return -1;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t n = strlen(forms[i].prefix);
		int idx;

		if (strncmp(comm, forms[i].prefix, n) != 0)
			continue;
		idx = index_before(comm + n, forms[i].suffix);
		if (idx >= 0)
			return idx;
	}
	return -1;
}
