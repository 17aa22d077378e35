/*
 * An enclave: whole physical cores dedicated to vCPUs. A CPU belongs to at most
 * one enclave; a core is never split (both SMT siblings or neither).
 */
#ifndef VS_ENCLAVE_H
#define VS_ENCLAVE_H

#include "topology.h"

struct vs_enclave {
	struct vs_cpuset cpus;
	int nr_cores;
};

void enclave_init(struct vs_enclave *enc);
/* Add the core of @cpu (all its hardware threads). -1 with err if @cpu is offline. */
int enclave_add_core(struct vs_enclave *enc, const struct vs_topology *topo, int cpu, char *err,
		     size_t errlen);
/*
 * Build an enclave from an operator's CPU list. Every listed CPU must be online
 * and come with all its SMT siblings; otherwise -1 and err says which CPU lacks
 * which sibling and how to fix the list.
 */
int enclave_from_cpus(struct vs_enclave *enc, const struct vs_topology *topo,
		      const struct vs_cpuset *cpus, char *err, size_t errlen);
bool enclave_has_cpu(const struct vs_enclave *enc, int cpu);

#endif
