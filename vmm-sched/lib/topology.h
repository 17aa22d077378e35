/*
 * The host's CPU topology as the policy sees it: which hardware threads share a
 * core, and which NUMA node a CPU belongs to. Filled from sysfs text by the
 * daemon (topology_set_siblings) or by tests; no I/O here.
 */
#ifndef VS_TOPOLOGY_H
#define VS_TOPOLOGY_H

#include "cpuset.h"

struct vs_topology {
	int nr_cpus;		  /* CPUs 0..nr_cpus-1 exist */
	int core_of[VS_MAX_CPUS]; /* a core id: the lowest CPU of the core */
	int node_of[VS_MAX_CPUS];
	struct vs_cpuset online;
};

void topology_init(struct vs_topology *topo, int nr_cpus);
/*
 * Record that @cpu's core holds the CPUs in @siblings_list (sysfs
 * thread_siblings_list). Returns -1 with err set if the list is malformed or
 * does not contain @cpu.
 */
int topology_set_siblings(struct vs_topology *topo, int cpu, const char *siblings_list, char *err,
			  size_t errlen);
/* The set of hardware threads that share @cpu's core, @cpu included. */
void topology_core_cpus(const struct vs_topology *topo, int cpu, struct vs_cpuset *out);
/* The other hardware thread of @cpu's core, or -1 (no SMT, or more than 2 threads). */
int topology_sibling(const struct vs_topology *topo, int cpu);
int topology_threads_per_core(const struct vs_topology *topo, int cpu);

#endif
