#include "topology.h"

#include <stdio.h>

void topology_init(struct vs_topology *topo, int nr_cpus)
{
	if (nr_cpus > VS_MAX_CPUS)
		nr_cpus = VS_MAX_CPUS;
	topo->nr_cpus = nr_cpus;
	cpuset_clear(&topo->online);
	for (int cpu = 0; cpu < VS_MAX_CPUS; cpu++) {
		topo->core_of[cpu] = cpu;
		topo->node_of[cpu] = 0;
	}
}

int topology_set_siblings(struct vs_topology *topo, int cpu, const char *siblings_list, char *err,
			  size_t errlen)
{
	struct vs_cpuset sib;
	char why[128];

	if (cpu < 0 || cpu >= topo->nr_cpus) {
		snprintf(err, errlen, "CPU %d is outside the topology's %d CPUs", cpu,
			 topo->nr_cpus);
		return -1;
	}
	if (cpuset_parse(&sib, siblings_list, why, sizeof(why))) {
		snprintf(err, errlen, "thread siblings of CPU %d: %s", cpu, why);
		return -1;
	}
	if (!cpuset_has(&sib, cpu)) {
		snprintf(err, errlen, "thread siblings of CPU %d ('%s') do not include it", cpu,
			 siblings_list);
		return -1;
	}
	topo->core_of[cpu] = cpuset_next(&sib, 0);
	cpuset_add(&topo->online, cpu);
	return 0;
}

void topology_core_cpus(const struct vs_topology *topo, int cpu, struct vs_cpuset *out)
{
	int c;

	cpuset_clear(out);
	cpuset_for_each(c, &topo->online)
	{
		if (topo->core_of[c] == topo->core_of[cpu])
			cpuset_add(out, c);
	}
}

int topology_threads_per_core(const struct vs_topology *topo, int cpu)
{
	struct vs_cpuset core;

	topology_core_cpus(topo, cpu, &core);
	return cpuset_count(&core);
}

int topology_sibling(const struct vs_topology *topo, int cpu)
{
	struct vs_cpuset core;
	int c;

	topology_core_cpus(topo, cpu, &core);
	if (cpuset_count(&core) != 2)
		return -1;
	cpuset_for_each(c, &core)
	{
		if (c != cpu)
			return c;
	}
	return -1;
}
