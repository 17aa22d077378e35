#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <numa.h>

#include "host_topology.h"

/* Fill the policy's topology from sysfs: online CPUs and their thread siblings. */
int host_read_topology(struct vs_topology *topo, char *err, size_t errlen)
{
	struct vs_cpuset online;
	char buf[512], why[160], path[128];
	FILE *f;
	int cpu, last = -1;

	f = fopen("/sys/devices/system/cpu/online", "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		snprintf(err, errlen, "cannot read /sys/devices/system/cpu/online");
		return -1;
	}
	fclose(f);
	if (cpuset_parse(&online, buf, why, sizeof(why))) {
		snprintf(err, errlen, "/sys/devices/system/cpu/online: %s", why);
		return -1;
	}
	cpuset_for_each(cpu, &online)
	{
		last = cpu;
	}
	topology_init(topo, last + 1);
	cpuset_for_each(cpu, &online)
	{
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", cpu);
		f = fopen(path, "r");
		if (!f || !fgets(buf, sizeof(buf), f)) {
			if (f)
				fclose(f);
			snprintf(err, errlen, "cannot read %s", path);
			return -1;
		}
		fclose(f);
		if (topology_set_siblings(topo, cpu, buf, err, errlen))
			return -1;
		if (numa_available() >= 0)
			topo->node_of[cpu] = numa_node_of_cpu(cpu) < 0 ? 0 : numa_node_of_cpu(cpu);
	}
	return 0;
}
