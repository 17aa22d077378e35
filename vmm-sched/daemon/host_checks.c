#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host_checks.h"

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int host_check_sched_ext(bool *ours_running, char *err, size_t errlen)
{
	char state[64], ops[128];

	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(err, errlen,
			 "this kernel exposes no BTF (/sys/kernel/btf/vmlinux): boot a kernel "
			 "built with CONFIG_DEBUG_INFO_BTF=y");
		return -1;
	}
	if (read_line("/sys/kernel/sched_ext/state", state, sizeof(state))) {
		snprintf(err, errlen,
			 "this kernel has no sched_ext (/sys/kernel/sched_ext missing): boot a "
			 "kernel >= 6.12 with CONFIG_SCHED_CLASS_EXT=y, or try it in the test VM "
			 "with 'tests/vm/run -- ...'");
		return -1;
	}
	*ours_running = false;
	if (strcmp(state, "disabled") != 0) {
		if (read_line("/sys/kernel/sched_ext/root/ops", ops, sizeof(ops)))
			snprintf(ops, sizeof(ops), "unknown");
		if (strcmp(state, "enabled") == 0 && strcmp(ops, "vmm_sched") == 0) {
			*ours_running = true;
			return 0;
		}
		snprintf(err, errlen,
			 "another sched_ext scheduler ('%s', state %s) is loaded: stop it first",
			 ops, state);
		return -1;
	}
	return 0;
}
