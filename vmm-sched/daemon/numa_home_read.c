/* A VMM process's NUMA home node, from /proc/PID/numa_maps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numa.h>

#include "log.h"
#include "numa_home.h"
#include "numa_home_read.h"

int numa_home_of_process(int pid, char *err, size_t errlen)
{
	struct vs_numa_usage usage;
	char path[64], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	err[0] = '\0';
	if (numa_available() < 0)
		return VS_NUMA_NODE_UNKNOWN;
	snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
	f = fopen(path, "re");
	if (!f) {
		/* No numa_maps at all: a kernel without CONFIG_NUMA. */
		if (errno != ENOENT)
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return VS_NUMA_NODE_UNKNOWN;
	}
	numa_usage_init(&usage);
	while ((n = getline(&line, &cap, f)) > 0)
		numa_usage_add_line(&usage, line, (size_t)n);
	if (ferror(f))
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	return err[0] ? VS_NUMA_NODE_UNKNOWN : numa_home_node(&usage);
}
