/*
 * A VM's NUMA home: the node that holds most of its VMM process's memory, as
 * /proc/PID/numa_maps counts it, and the enclave cores on that node. The
 * daemon feeds the text in; no I/O here.
 */
#ifndef VS_NUMA_HOME_H
#define VS_NUMA_HOME_H

#include <stddef.h>
#include <stdint.h>

#include "topology.h"

#define VS_MAX_NODES	     64
#define VS_NUMA_NODE_UNKNOWN (-1)

struct vs_numa_usage {
	uint64_t kb[VS_MAX_NODES]; /* memory on each node in KiB, saturating */
	unsigned int mappings;	   /* lines counted */
	unsigned int malformed;	   /* lines and N fields that were not understood */
};

void numa_usage_init(struct vs_numa_usage *u);
/*
 * Adds one numa_maps line ("7f00.. default anon=3 N0=2 N1=1 kernelpagesize_kB=4"),
 * with or without its newline: each N<node>=<pages> times the line's page size
 * (kernelpagesize_kB, 4 if absent), so a huge page weighs what it holds. A line
 * that does not start with a hex address is skipped, a bad N field alone is
 * skipped; both are counted as malformed.
 */
void numa_usage_add_line(struct vs_numa_usage *u, const char *line, size_t len);
/* Adds every line of @text (@len bytes; the last line needs no newline). */
void numa_usage_add_text(struct vs_numa_usage *u, const char *text, size_t len);
/* The node with the most memory (the lowest of equals), or VS_NUMA_NODE_UNKNOWN if none. */
int numa_home_node(const struct vs_numa_usage *u);
/*
 * The cores of @enclave_cpus (as core ids: the lowest CPU of each core) whose
 * CPUs are on @node, into @local. Returns how many; 0 means the VM's vCPUs
 * can only run remote from its memory.
 */
int numa_local_cores(const struct vs_topology *topo, const struct vs_cpuset *enclave_cpus, int node,
		     struct vs_cpuset *local);

#endif
