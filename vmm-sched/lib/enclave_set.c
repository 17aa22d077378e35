#include "enclave_set.h"

#include <stdio.h>
#include <string.h>

#include "err_msg.h"

void enclave_set_init(struct vs_enclave_set *set)
{
	memset(set, 0, sizeof(*set));
	for (int i = 0; i < VS_MAX_ENCLAVES; i++)
		enclave_init(&set->e[i].enc);
}

int enclave_set_find(const struct vs_enclave_set *set, const char *name)
{
	for (int i = 0; i < VS_MAX_ENCLAVES; i++)
		if (set->e[i].used && strcmp(set->e[i].name, name) == 0)
			return i;
	return -1;
}

int enclave_set_of_cpu(const struct vs_enclave_set *set, int cpu)
{
	for (int i = 0; i < VS_MAX_ENCLAVES; i++)
		if (set->e[i].used && enclave_has_cpu(&set->e[i].enc, cpu))
			return i;
	return -1;
}

void enclave_set_all_cpus(const struct vs_enclave_set *set, struct vs_cpuset *out)
{
	int cpu;

	cpuset_clear(out);
	for (int i = 0; i < VS_MAX_ENCLAVES; i++)
		if (set->e[i].used)
			cpuset_for_each(cpu, &set->e[i].enc.cpus) cpuset_add(out, cpu);
}

int enclave_name_check(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);

	if (len < 1 || len >= VS_ENCLAVE_NAME_LEN)
		return err_msg(err, errlen, "an enclave name has 1..%d characters, not %zu",
			       VS_ENCLAVE_NAME_LEN - 1, len);
	for (size_t i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    name[i]))
			return err_msg(
			    err, errlen,
			    "the enclave name has character 0x%02x at position %zu: only "
			    "A-Z a-z 0-9 . _ - are allowed",
			    (unsigned char)name[i], i + 1);
	return 0;
}

int enclave_check_create(const struct vs_enclave_set *set, const char *name, char *err,
			 size_t errlen)
{
	if (enclave_name_check(name, err, errlen))
		return -1;
	if (enclave_set_find(set, name) >= 0)
		return err_msg(err, errlen, "enclave '%s' exists already", name);
	for (int i = 0; i < VS_MAX_ENCLAVES; i++)
		if (!set->e[i].used)
			return i;
	return err_msg(err, errlen, "no room for enclave '%s': at most %d enclaves", name,
		       VS_MAX_ENCLAVES);
}

/* Is every CPU of @cpus listed with all its SMT siblings? */
static int check_whole_cores(const struct vs_topology *topo, const struct vs_cpuset *cpus,
			     char *err, size_t errlen)
{
	struct vs_cpuset core;
	int cpu, c;

	cpuset_for_each(cpu, cpus)
	{
		if (cpu >= topo->nr_cpus)
			return err_msg(err, errlen, "CPU %d does not exist on this host", cpu);
		topology_core_cpus(topo, cpu, &core);
		cpuset_for_each(c, &core) if (!cpuset_has(cpus, c)) return err_msg(
		    err, errlen,
		    "CPU %d is listed without its SMT sibling %d: enclaves take whole cores "
		    "(list both)",
		    cpu, c);
	}
	return 0;
}

int enclave_check_add(const struct vs_enclave_set *set, const struct vs_topology *topo, int id,
		      const struct vs_cpuset *cpus, char *err, size_t errlen)
{
	int cpu, other;

	if (cpuset_next(cpus, 0) < 0)
		return err_msg(err, errlen, "no CPUs given");
	cpuset_for_each(cpu, cpus)
	{
		if (cpu >= topo->nr_cpus || !cpuset_has(&topo->online, cpu))
			return err_msg(err, errlen, "CPU %d is not online on this host", cpu);
	}
	if (check_whole_cores(topo, cpus, err, errlen))
		return -1;
	cpuset_for_each(cpu, cpus)
	{
		other = enclave_set_of_cpu(set, cpu);
		if (other == id)
			return err_msg(err, errlen, "CPU %d is in enclave '%s' already", cpu,
				       set->e[id].name);
		if (other >= 0)
			return err_msg(err, errlen,
				       "CPU %d belongs to enclave '%s': remove it there first", cpu,
				       set->e[other].name);
	}
	return 0;
}

/* Cores of @enc in @cpus. */
static int cores_in(const struct vs_topology *topo, const struct vs_cpuset *cpus)
{
	int cpu, n = 0;

	cpuset_for_each(cpu, cpus) n += topo->core_of[cpu] == cpu;
	return n;
}

int enclave_check_remove(const struct vs_enclave_set *set, const struct vs_topology *topo, int id,
			 const struct vs_cpuset *cpus, const struct vs_enclave_load *load,
			 char *err, size_t errlen)
{
	const struct vs_enclave_def *e = &set->e[id];
	int cpu, left;

	if (cpuset_next(cpus, 0) < 0)
		return err_msg(err, errlen, "no CPUs given");
	cpuset_for_each(cpu, cpus)
	{
		if (!enclave_has_cpu(&e->enc, cpu))
			return err_msg(err, errlen, "CPU %d is not in enclave '%s'", cpu, e->name);
	}
	if (check_whole_cores(topo, cpus, err, errlen))
		return -1;
	left = e->enc.nr_cores - cores_in(topo, cpus);
	if (left <= 0 && load->nr_vms > 0)
		return err_msg(err, errlen,
			       "enclave '%s' would have no core left for its %d VM(s): move them "
			       "out first (vmm-schedctl vm move)",
			       e->name, load->nr_vms);
	if (load->reserve_cores > left)
		return err_msg(
		    err, errlen,
		    "enclave '%s' would keep %d core(s), fewer than its VMs' "
		    "reservations (%d): lower them first (vmm-schedctl set PID --reserve N)",
		    e->name, left, load->reserve_cores);
	return 0;
}

int enclave_check_destroy(const struct vs_enclave_set *set, int id,
			  const struct vs_enclave_load *load, bool force, char *err, size_t errlen)
{
	if (id == VS_ENCLAVE_DEFAULT)
		return err_msg(err, errlen, "the default enclave cannot be destroyed");
	if (load->nr_vms > 0 && !force)
		return err_msg(err, errlen,
			       "enclave '%s' has %d VM(s): move them out first, or --force moves "
			       "them to the default enclave",
			       set->e[id].name, load->nr_vms);
	return 0;
}

int enclave_check_vm_move(const struct vs_enclave_set *set, int to, int reserve_cores,
			  const struct vs_enclave_load *load_to, char *err, size_t errlen)
{
	const struct vs_enclave_def *e = &set->e[to];

	if (!e->enc.nr_cores)
		return err_msg(err, errlen, "enclave '%s' has no cores: add some first", e->name);
	if (load_to->reserve_cores + reserve_cores > e->enc.nr_cores)
		return err_msg(err, errlen,
			       "enclave '%s' has %d core(s): its VMs reserve %d, this VM %d more",
			       e->name, e->enc.nr_cores, load_to->reserve_cores, reserve_cores);
	return 0;
}

/* The highest core of enclave @e (its first CPU), or -1. */
static int last_core(const struct vs_topology *topo, const struct vs_cpuset *cpus)
{
	int cpu, last = -1;

	cpuset_for_each(cpu, cpus) if (topo->core_of[cpu] == cpu) last = cpu;
	return last;
}

int enclave_rebalance_plan(const struct vs_enclave_set *set, const struct vs_topology *topo,
			   const struct vs_enclave_load load[VS_MAX_ENCLAVES],
			   struct vs_enclave_move *moves, int max, int *nr, char *err,
			   size_t errlen)
{
	int have[VS_MAX_ENCLAVES] = {0}, target[VS_MAX_ENCLAVES] = {0}, want[VS_MAX_ENCLAVES];
	struct vs_cpuset cpus[VS_MAX_ENCLAVES];
	int total = 0, floors = 0, spare, i, n = 0;

	for (i = 0; i < VS_MAX_ENCLAVES; i++) {
		want[i] = 0;
		cpus[i] = set->e[i].enc.cpus;
		if (!set->e[i].used)
			continue;
		have[i] = set->e[i].enc.nr_cores;
		total += have[i];
		target[i] = load[i].reserve_cores;
		if (load[i].nr_vms > 0 && target[i] < 1)
			target[i] = 1;
		floors += target[i];
		want[i] = load[i].demand_cores > target[i] ? load[i].demand_cores : target[i];
	}
	if (floors > total)
		return err_msg(err, errlen,
			       "the enclaves' VMs need %d cores (reservations, and one core per "
			       "enclave with VMs), the enclaves hold %d",
			       floors, total);
	spare = total - floors;
	/* Demand: one core at a time to the enclave whose demand is least met. */
	while (spare > 0) {
		int best = -1;

		for (i = 0; i < VS_MAX_ENCLAVES; i++)
			if (want[i] > target[i] &&
			    (best < 0 || want[i] - target[i] > want[best] - target[best]))
				best = i;
		if (best < 0)
			break;
		target[best]++;
		spare--;
	}
	/* The rest stays where it is. */
	for (i = 0; i < VS_MAX_ENCLAVES && spare > 0; i++) {
		int keep = have[i] - target[i];

		if (keep > spare)
			keep = spare;
		if (keep > 0) {
			target[i] += keep;
			spare -= keep;
		}
	}
	for (int to = 0; to < VS_MAX_ENCLAVES; to++) {
		for (int from = 0; from < VS_MAX_ENCLAVES && have[to] < target[to]; from++) {
			while (have[to] < target[to] && have[from] > target[from]) {
				struct vs_cpuset core;
				int c = last_core(topo, &cpus[from]), t;

				if (c < 0 || n >= max)
					return err_msg(err, errlen,
						       "the plan needs more than %d moves", max);
				topology_core_cpus(topo, c, &core);
				cpuset_for_each(t, &core) cpuset_del(&cpus[from], t);
				moves[n++] = (struct vs_enclave_move){c, from, to};
				have[from]--;
				have[to]++;
			}
		}
	}
	*nr = n;
	return 0;
}
