#include "enclave.h"

#include <stdio.h>

void enclave_init(struct vs_enclave *enc)
{
	cpuset_clear(&enc->cpus);
	enc->nr_cores = 0;
}

int enclave_add_core(struct vs_enclave *enc, const struct vs_topology *topo, int cpu, char *err,
		     size_t errlen)
{
	struct vs_cpuset core;
	int c;

	if (!cpuset_has(&topo->online, cpu)) {
		snprintf(err, errlen, "CPU %d is not online", cpu);
		return -1;
	}
	if (cpuset_has(&enc->cpus, cpu))
		return 0;
	topology_core_cpus(topo, cpu, &core);
	cpuset_for_each(c, &core)
	{
		cpuset_add(&enc->cpus, c);
	}
	enc->nr_cores++;
	return 0;
}

int enclave_from_cpus(struct vs_enclave *enc, const struct vs_topology *topo,
		      const struct vs_cpuset *cpus, char *err, size_t errlen)
{
	struct vs_cpuset core;
	int cpu, c;

	enclave_init(enc);
	cpuset_for_each(cpu, cpus)
	{
		if (!cpuset_has(&topo->online, cpu)) {
			snprintf(err, errlen, "CPU %d is not online on this host", cpu);
			return -1;
		}
		topology_core_cpus(topo, cpu, &core);
		cpuset_for_each(c, &core)
		{
			if (!cpuset_has(cpus, c)) {
				snprintf(err, errlen,
					 "CPU %d is listed without its SMT sibling %d: an enclave "
					 "takes whole cores (add %d or drop %d)",
					 cpu, c, c, cpu);
				return -1;
			}
		}
		if (enclave_add_core(enc, topo, cpu, err, errlen))
			return -1;
	}
	if (!enc->nr_cores) {
		snprintf(err, errlen, "the enclave has no CPUs");
		return -1;
	}
	return 0;
}

bool enclave_has_cpu(const struct vs_enclave *enc, int cpu)
{
	return cpuset_has(&enc->cpus, cpu);
}
