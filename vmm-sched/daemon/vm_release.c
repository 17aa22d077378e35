/* Releasing VMs and vCPU threads: their saved policy back, their entries out of the maps. */
#include <errno.h>
#include <string.h>

#include "daemon.h"
#include "hint_regions.h"
#include "log.h"
#include "sched_maps.h"
#include "sched_records.h"
#include "vcpu_threads.h"
#include "vm_release.h"

/* Drops a vCPU from the maps, the pinned records and the registry (not its thread). */
void vm_forget_vcpu(struct vs_daemon *d, int slot)
{
	vs_maps_unmap_vcpu(d, d->reg.vcpus[slot].tid);
	vs_err_if(vs_records_clear_vcpu(d, slot), "cannot clear the record of vCPU slot %d", slot);
	if (d->hint_flags[slot] &&
	    !vs_err_if(vs_maps_write_hint(d, slot, 0), "cannot write vcpu_hints[%d]", slot))
		d->hint_flags[slot] = 0;
	registry_remove_vcpu(&d->reg, slot);
}

/* The same for a VM and all its vCPUs. */
void vm_forget(struct vs_daemon *d, int vm_id)
{
	int slot;

	hints_detach(d, vm_id);
	registry_for_each_vcpu(slot, &d->reg)
	{
		if (d->reg.vcpus[slot].vm_id == vm_id)
			vm_forget_vcpu(d, slot);
	}
	vs_err_if(vs_maps_set_vm_active(d, vm_id, false), "cannot mark VM id %d inactive", vm_id);
	vs_err_if(vs_records_clear_vm(d, vm_id), "cannot clear the record of VM id %d", vm_id);
	registry_remove_vm(&d->reg, vm_id);
}

/* Is the thread in @v still the one enrolled, not another that took its tid? */
bool vm_same_thread(struct vs_daemon *d, const struct vs_vcpu_rec *v)
{
	return v->start_time &&
	       thread_start_time(d->reg.vms[v->vm_id].pid, v->tid) == v->start_time;
}

static void release_thread(struct vs_daemon *d, int slot)
{
	struct vs_vcpu_rec *v = &d->reg.vcpus[slot];
	char err[256];

	/* A saved policy goes back only to the thread it was saved from. */
	if (!vm_same_thread(d, v))
		vs_log("vCPU %d of VM '%s' (thread %d) has exited: no policy to give back",
		       v->vcpu_index, d->reg.vms[v->vm_id].name, v->tid);
	else if (thread_restore_sched(v->tid, &v->saved, err, sizeof(err)) && errno != ESRCH)
		vs_err("%s", err);
	vm_forget_vcpu(d, slot);
}

const struct vs_enclave *vm_enclave(struct vs_daemon *d, int vm_id)
{
	int id = d->reg.vms[vm_id].enclave;

	return &d->enclaves.e[id >= 0 && id < VS_MAX_ENCLAVES ? id : VS_ENCLAVE_DEFAULT].enc;
}

int vm_pin_vcpus(struct vs_daemon *d, int vm_id, const struct vs_cpuset *cpus)
{
	int slot, failed = 0, e;

	registry_for_each_vcpu(slot, &d->reg)
	{
		struct vs_vcpu_rec *v = &d->reg.vcpus[slot];

		if (v->vm_id != vm_id || !vm_same_thread(d, v))
			continue;
		e = thread_pin(v->tid, cpus);
		if (e && e != -ESRCH) {
			vs_err("VM '%s': cannot pin vCPU %d (thread %d) to its enclave's CPUs: %s",
			       d->reg.vms[vm_id].name, v->vcpu_index, v->tid, strerror(-e));
			failed++;
		}
	}
	return failed;
}

/* Does @aff allow a CPU of any enclave? */
bool vm_may_run_in_enclave(struct vs_daemon *d, const struct vs_cpuset *aff)
{
	int cpu;

	cpuset_for_each(cpu, aff)
	{
		if (enclave_set_of_cpu(&d->enclaves, cpu) >= 0)
			return true;
	}
	return false;
}

/*
 * A vCPU whose affinity no longer allows an enclave CPU (taskset by the VMM's
 * user, a vcpupin, a cpuset change) leaves SCHED_EXT for its previous policy
 * and keeps the affinity it was given. Restoring the enclave affinity instead
 * would overrule the operator (and a cpuset cannot be overruled), and a VMM
 * changing it in a loop would keep the agent busy; this way a loop costs one
 * release and one enrolment a second at most, and only that VM's vCPU.
 */
static void release_escaped(struct vs_daemon *d, int slot, const struct vs_cpuset *aff)
{
	struct vs_vcpu_rec *v = &d->reg.vcpus[slot];
	struct vs_saved_sched policy_only = v->saved;
	char err[256], list[256];

	cpuset_clear(&policy_only.affinity);
	cpuset_format(aff, list, sizeof(list));
	if (thread_restore_sched(v->tid, &policy_only, err, sizeof(err)) && errno != ESRCH)
		vs_err("%s", err);
	vs_log_limited(&d->vm_log[v->vm_id],
		       "VM '%s': vCPU %d (thread %d) may no longer run on an enclave CPU (its "
		       "affinity is now %s: taskset, a vcpupin or a cpuset change): it is out of "
		       "SCHED_EXT, back to policy %d on those CPUs, and is scheduled as a vCPU "
		       "again once its affinity includes an enclave CPU",
		       d->reg.vms[v->vm_id].name, v->vcpu_index, v->tid, list, v->saved.policy);
	/* Held out by its affinity, which no process event tells of: polled until it is back. */
	if (d->disc.held[v->vm_id] < UINT16_MAX)
		d->disc.held[v->vm_id]++;
	vm_forget_vcpu(d, slot);
}

void vm_release_escaped(struct vs_daemon *d)
{
	struct vs_cpuset aff;
	int slot;

	d->escapes_pending = false;
	registry_for_each_vcpu(slot, &d->reg)
	{
		struct vs_vcpu_rec *v = &d->reg.vcpus[slot];

		if (!vm_same_thread(d, v) || thread_affinity(v->tid, &aff))
			continue; /* exited: the rescan forgets it */
		if (!vm_may_run_in_enclave(d, &aff))
			release_escaped(d, slot, &aff);
	}
}

int vm_release(struct vs_daemon *d, int vm_id)
{
	int slot;

	if (vm_id < 0 || vm_id >= d->reg.vm_ids || !d->reg.vms[vm_id].used)
		return -1;
	registry_for_each_vcpu(slot, &d->reg)
	{
		if (d->reg.vcpus[slot].vm_id == vm_id)
			release_thread(d, slot);
	}
	vm_forget(d, vm_id);
	return 0;
}

void vm_release_all(struct vs_daemon *d)
{
	int vm_id, n = 0, threads = d->reg.nr_vcpus;

	registry_for_each_vm(vm_id, &d->reg)
	{
		vm_release(d, vm_id);
		n++;
	}
	if (n)
		vs_log("released %d VMs (%d vCPU threads) to their previous scheduling policy", n,
		       threads);
}
