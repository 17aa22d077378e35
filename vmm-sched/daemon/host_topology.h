/* The host's CPUs, cores and NUMA nodes from sysfs. */
#ifndef VS_HOST_TOPOLOGY_H
#define VS_HOST_TOPOLOGY_H

#include <stddef.h>

#include "topology.h"

int host_read_topology(struct vs_topology *topo, char *err, size_t errlen);

#endif
