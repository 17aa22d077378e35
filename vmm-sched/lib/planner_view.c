/*
 * The planner's memory and its input check (see planner.h): carving the
 * caller's buffer into the state's arrays, and refusing a bad view with a
 * message that names the core, VM or vCPU.
 */
#include "planner.h"

#include <string.h>

#include "err_msg.h"

/* The working arrays, in the order they are carved: element size and count. */
#define STATE_ARRAYS(X, lim)                                                                       \
	X(vm, sizeof(struct planner_vm_state), (lim)->max_vm_id)                                   \
	X(vcpu, sizeof(struct planner_vcpu_state), (lim)->max_slots)                               \
	X(cpu, sizeof(struct planner_cpu_state), (lim)->max_cpu)                                   \
	X(key, sizeof(int64_t), (lim)->max_vms)                                                    \
	X(vm_order, sizeof(uint32_t), (lim)->max_vms)                                              \
	X(heap, sizeof(uint32_t), (lim)->max_vms)                                                  \
	X(want, sizeof(uint32_t), (lim)->max_vms)                                                  \
	X(got, sizeof(uint32_t), (lim)->max_vms)                                                   \
	X(placed, sizeof(uint32_t), (lim)->max_vms)                                                \
	X(core_start, sizeof(uint32_t), (lim)->max_vms)                                            \
	X(vm_cores, sizeof(uint32_t), (lim)->max_cores)                                            \
	X(vcpu_order, sizeof(uint32_t), (lim)->max_vcpus)                                          \
	X(runnable, sizeof(uint32_t), (lim)->max_vms)                                              \
	X(free_cores, sizeof(uint32_t), (lim)->max_cores)                                          \
	X(vm_index, sizeof(int32_t), (lim)->max_vm_id)                                             \
	X(cpu_core, sizeof(int32_t), (lim)->max_cpu)                                               \
	X(core_usable, sizeof(uint8_t), (lim)->max_cores)

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

size_t planner_state_bytes(const struct planner_limits *lim)
{
	size_t n = 0;

#define ADD(name, size, count) n += round8((size) * (size_t)(count));
	STATE_ARRAYS(ADD, lim)
#undef ADD
	return n;
}

int planner_state_init(struct planner_state *st, const struct planner_limits *lim, void *mem,
		       size_t bytes, char *err, size_t errlen)
{
	char *p = mem;

	if (!lim->max_cores || !lim->max_vms || !lim->max_vcpus || !lim->max_vm_id ||
	    !lim->max_slots || !lim->max_cpu)
		return err_msg(err, errlen, "planner limits must all be at least 1");
	if (bytes < planner_state_bytes(lim))
		return err_msg(err, errlen, "planner memory: %zu bytes given, %zu needed", bytes,
			       planner_state_bytes(lim));
	memset(st, 0, sizeof(*st));
	memset(mem, 0, planner_state_bytes(lim));
	st->lim = *lim;
#define CARVE(name, size, count)                                                                   \
	st->name = (void *)p;                                                                      \
	p += round8((size) * (size_t)(count));
	STATE_ARRAYS(CARVE, lim)
#undef CARVE
	memset(st->vm_index, 0xff, sizeof(*st->vm_index) * lim->max_vm_id);
	memset(st->cpu_core, 0xff, sizeof(*st->cpu_core) * lim->max_cpu);
	return 0;
}

void planner_forget_vm(struct planner_state *st, uint32_t id)
{
	if (id < st->lim.max_vm_id)
		memset(&st->vm[id], 0, sizeof(st->vm[id]));
}

/*
 * No CPU in two places, no VM id twice, no vCPU in two VMs' ranges: each
 * would let the plan put two VMs, or one vCPU twice, on a core. Uses the
 * plan's lookups as scratch and leaves them clean.
 */
static int check_unique(const struct planner_view *v, struct planner_state *st, char *err,
			size_t errlen)
{
	unsigned int i, k, t;
	int rc = 0;

	for (i = 0; i < v->nr_cores && !rc; i++) {
		for (t = 0; t < v->threads_per_core && !rc; t++) {
			int cpu = v->cores[i].cpu[t];

			if (st->cpu_core[cpu] >= 0)
				rc = err_msg(err, errlen, "CPU %d is in core %d and core %u", cpu,
					     st->cpu_core[cpu] / PLANNER_THREADS, i);
			else
				st->cpu_core[cpu] = (int32_t)(i * PLANNER_THREADS + t);
		}
	}
	for (i = 0; i < v->nr_vms && !rc; i++) {
		if (st->vm_index[v->vms[i].id] >= 0)
			rc = err_msg(err, errlen, "VM id %u is in the view twice", v->vms[i].id);
		else
			st->vm_index[v->vms[i].id] = (int32_t)i;
	}
	for (k = 0; k < v->nr_vcpus; k++)
		st->vcpu_order[k] = UINT32_MAX;
	for (i = 0; i < v->nr_vms && !rc; i++) {
		for (k = v->vms[i].first_vcpu; k < v->vms[i].first_vcpu + v->vms[i].nr_vcpus; k++) {
			if (st->vcpu_order[k] != UINT32_MAX) {
				rc = err_msg(err, errlen, "vCPU %u is in VM id %u and VM id %u", k,
					     v->vms[st->vcpu_order[k]].id, v->vms[i].id);
				break;
			}
			st->vcpu_order[k] = i;
		}
	}
	for (i = 0; i < v->nr_vms; i++)
		st->vm_index[v->vms[i].id] = -1;
	for (i = 0; i < v->nr_cores; i++)
		for (t = 0; t < v->threads_per_core; t++)
			st->cpu_core[v->cores[i].cpu[t]] = -1;
	return rc;
}

int planner_check_view(const struct planner_view *v, struct planner_state *st, char *err,
		       size_t errlen)
{
	const struct planner_limits *lim = &st->lim;
	unsigned int i, t;

	if (v->threads_per_core < 1 || v->threads_per_core > PLANNER_THREADS)
		return err_msg(err, errlen, "threads per core %u: must be 1 or 2",
			       v->threads_per_core);
	if (!v->epoch_ns)
		return err_msg(err, errlen, "the epoch length must be above 0 ns");
	if (v->nr_cores > lim->max_cores || v->nr_vms > lim->max_vms ||
	    v->nr_vcpus > lim->max_vcpus)
		return err_msg(err, errlen,
			       "view of %u cores, %u VMs, %u vCPUs exceeds the planner's "
			       "limits of %u, %u, %u",
			       v->nr_cores, v->nr_vms, v->nr_vcpus, lim->max_cores, lim->max_vms,
			       lim->max_vcpus);
	for (i = 0; i < v->nr_cores; i++) {
		const struct planner_core *c = &v->cores[i];

		for (t = 0; t < PLANNER_THREADS; t++) {
			bool want = t < v->threads_per_core;

			if (want && (c->cpu[t] < 0 || (unsigned int)c->cpu[t] >= lim->max_cpu))
				return err_msg(err, errlen,
					       "core %u: CPU %d of thread %u is not in 0..%u", i,
					       c->cpu[t], t, lim->max_cpu - 1);
			if (!want && c->cpu[t] >= 0)
				return err_msg(
				    err, errlen,
				    "core %u: CPU %d on thread %u, but cores have %u thread(s)", i,
				    c->cpu[t], t, v->threads_per_core);
		}
		if (c->node < -1 || c->node >= PLANNER_MAX_NODES)
			return err_msg(err, errlen, "core %u: NUMA node %d is not in -1..%d", i,
				       c->node, PLANNER_MAX_NODES - 1);
		if (c->owner != PLANNER_NONE &&
		    (c->owner < 0 || (unsigned int)c->owner >= lim->max_vm_id))
			return err_msg(err, errlen, "core %u: owner VM id %d is out of range", i,
				       c->owner);
	}
	for (i = 0; i < v->nr_vms; i++) {
		const struct planner_vm *m = &v->vms[i];

		if (m->id >= lim->max_vm_id)
			return err_msg(err, errlen, "VM id %u is not below %u", m->id,
				       lim->max_vm_id);
		if (m->home_node < -1 || m->home_node >= PLANNER_MAX_NODES)
			return err_msg(err, errlen, "VM id %u: home node %d is not in -1..%d",
				       m->id, m->home_node, PLANNER_MAX_NODES - 1);
		if (m->cap_cores && m->reserve_cores > m->cap_cores)
			return err_msg(err, errlen,
				       "VM id %u: reserve %u cores above its cap of %u", m->id,
				       m->reserve_cores, m->cap_cores);
		if (m->first_vcpu > v->nr_vcpus || m->nr_vcpus > v->nr_vcpus - m->first_vcpu)
			return err_msg(err, errlen,
				       "VM id %u: vCPUs %u..%u are not in the view's %u", m->id,
				       m->first_vcpu, m->first_vcpu + m->nr_vcpus, v->nr_vcpus);
	}
	for (i = 0; i < v->nr_vcpus; i++) {
		if (v->vcpus[i].slot >= lim->max_slots)
			return err_msg(err, errlen, "vCPU %u: slot %u is not below %u", i,
				       v->vcpus[i].slot, lim->max_slots);
		if (v->vcpus[i].last_cpu < -1 || v->vcpus[i].last_cpu >= (int)lim->max_cpu)
			return err_msg(err, errlen, "vCPU slot %u: last CPU %d is out of range",
				       v->vcpus[i].slot, v->vcpus[i].last_cpu);
	}
	return check_unique(v, st, err, errlen);
}
