#include "agent_record.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/*
 * Policies a thread can be given back: SCHED_OTHER, FIFO, RR, BATCH, IDLE, and
 * SCHED_EXT (it was in sched_ext before enrolment; released to SCHED_OTHER).
 */
static bool policy_restorable(int policy)
{
	return policy == 0 || policy == 1 || policy == 2 || policy == 3 || policy == 5 ||
	       policy == 7;
}

void agent_vm_record_make(const struct vs_vm_rec *vm, uint64_t start_time, struct vs_agent_vm *out)
{
	memset(out, 0, sizeof(*out));
	out->used = 1;
	out->pid = vm->pid;
	out->start_time = start_time;
	out->weight = vm->weight;
	out->reserve_cores = vm->reserve_cores;
	out->cap_cores = vm->cap_cores;
	out->enclave = (uint32_t)vm->enclave;
	out->numa_node = vm->numa_node;
	snprintf(out->name, sizeof(out->name), "%s", vm->name);
}

void agent_vcpu_record_make(const struct vs_vcpu_rec *v, struct vs_agent_vcpu *out)
{
	memset(out, 0, sizeof(*out));
	out->used = 1;
	out->tid = v->tid;
	out->vm_id = (uint32_t)v->vm_id;
	out->vcpu_index = (uint32_t)v->vcpu_index;
	out->start_time = v->start_time;
	out->policy = v->saved.policy;
	out->nice = v->saved.nice;
	out->rt_priority = v->saved.rt_priority;
	for (int cpu = 0; cpu < VS_MAX_CPUS; cpu++)
		if (cpuset_has(&v->saved.affinity, cpu))
			out->affinity[cpu / 64] |= 1ULL << (cpu % 64);
}

int agent_vm_record_check(const struct vs_agent_vm *r, char *err, size_t errlen)
{
	if (r->used != 1) {
		snprintf(err, errlen, "used flag is %u", r->used);
		return -1;
	}
	if (r->pid <= 0) {
		snprintf(err, errlen, "pid %d", r->pid);
		return -1;
	}
	if (r->weight < VS_MIN_WEIGHT || r->weight > VS_MAX_WEIGHT) {
		snprintf(err, errlen, "weight %u is outside %d..%d", r->weight, VS_MIN_WEIGHT,
			 VS_MAX_WEIGHT);
		return -1;
	}
	if (r->reserve_cores > VS_MAX_CPUS || r->cap_cores > VS_MAX_CPUS ||
	    (r->cap_cores && r->cap_cores < r->reserve_cores)) {
		snprintf(err, errlen,
			 "reservation %u and cap %u are not 0..%d with cap >= reservation",
			 r->reserve_cores, r->cap_cores, VS_MAX_CPUS);
		return -1;
	}
	if (r->enclave >= VS_MAX_ENCLAVES) {
		snprintf(err, errlen, "enclave %u is not below %d", r->enclave, VS_MAX_ENCLAVES);
		return -1;
	}
	if (!memchr(r->name, '\0', sizeof(r->name)) || !r->name[0]) {
		snprintf(err, errlen, "the name is empty or not terminated");
		return -1;
	}
	return 0;
}

int agent_vcpu_record_check(const struct vs_agent_vcpu *r, char *err, size_t errlen)
{
	bool any_cpu = false;

	if (r->used != 1) {
		snprintf(err, errlen, "used flag is %u", r->used);
		return -1;
	}
	if (r->tid <= 0 || r->vm_id >= VS_MAX_VMS || r->vcpu_index > 0x7fffffff) {
		snprintf(err, errlen, "thread %d, VM id %u, vCPU %u", r->tid, r->vm_id,
			 r->vcpu_index);
		return -1;
	}
	if (!r->start_time) {
		snprintf(err, errlen,
			 "thread %d has no start time: it cannot be told from a "
			 "thread that reused its tid",
			 r->tid);
		return -1;
	}
	if (!policy_restorable(r->policy)) {
		snprintf(err, errlen, "saved policy %d is not one a thread can be given back",
			 r->policy);
		return -1;
	}
	if (r->nice < -20 || r->nice > 19 || r->rt_priority < 0 || r->rt_priority > 99) {
		snprintf(err, errlen, "saved nice %d / priority %d", r->nice, r->rt_priority);
		return -1;
	}
	for (size_t i = 0; i < sizeof(r->affinity) / sizeof(r->affinity[0]); i++)
		any_cpu |= r->affinity[i] != 0;
	if (!any_cpu) {
		snprintf(err, errlen, "saved affinity is empty");
		return -1;
	}
	return 0;
}

void agent_vcpu_record_saved(const struct vs_agent_vcpu *r, struct vs_saved_sched *out)
{
	out->policy = r->policy;
	out->nice = r->nice;
	out->rt_priority = r->rt_priority;
	cpuset_clear(&out->affinity);
	for (int cpu = 0; cpu < VS_MAX_CPUS; cpu++)
		if (r->affinity[cpu / 64] & (1ULL << (cpu % 64)))
			cpuset_add(&out->affinity, cpu);
}
