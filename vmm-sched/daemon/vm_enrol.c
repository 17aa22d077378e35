/* Enrolment: a VMM process's vCPU threads into the registry, the BPF maps and SCHED_EXT. */
#include <stdio.h>
#include <string.h>

#include "core_cookie_prepare.h"
#include "daemon.h"
#include "kvm_evidence.h"
#include "log.h"
#include "numa_home.h"
#include "numa_home_read.h"
#include "sched_maps.h"
#include "sched_records.h"
#include "vcpu_threads.h"
#include "vm_discovery.h"
#include "vm_enrol.h"
#include "vm_release.h"

int vm_enroll_thread(struct vs_daemon *d, int vm_id, int tid, int index, char *err, size_t errlen)
{
	uint64_t start_time = thread_start_time(d->reg.vms[vm_id].pid, tid);
	struct vs_saved_sched saved;
	char why[256];
	int slot, e;

	if (!start_time) {
		snprintf(err, errlen, "thread %d exited while it was being enrolled", tid);
		return -1;
	}
	/* Core scheduling cookies and sched_ext together hang SMT hosts. */
	if (core_cookie_prepare(d, vm_id, tid, err, errlen))
		return -1;
	if (thread_save_sched(tid, &saved, err, errlen))
		return -1;
	slot = registry_add_vcpu(&d->reg, vm_id, tid, index, &saved, err, errlen);
	if (slot < 0)
		return -1;
	d->reg.vcpus[slot].start_time = start_time;
	vcpu_track_init(&d->vcpu_track[slot]);
	/* The map entry first: the scheduler classifies the thread when it enters. */
	e = vs_maps_map_vcpu(d, tid, vm_id, index, slot);
	if (e) {
		snprintf(err, errlen, "cannot add thread %d to the vCPU map: %s", tid,
			 strerror(-e));
		registry_remove_vcpu(&d->reg, slot);
		return -1;
	}
	/* Recorded before the thread moves: a restarted agent can then give it back. */
	e = vs_records_write_vcpu(d, slot);
	if (e) {
		snprintf(err, errlen, "cannot record thread %d in the agent_vcpus map: %s", tid,
			 strerror(-e));
		vm_forget_vcpu(d, slot);
		return -1;
	}
	if (thread_enter_enclave(tid, vm_enclave(d, vm_id), err, errlen)) {
		if (thread_restore_sched(tid, &saved, why, sizeof(why)))
			vs_err("%s", why);
		vm_forget_vcpu(d, slot);
		return -1;
	}
	return slot;
}

/* Where the VM's memory is, and whether the enclave has cores there. */
static void find_numa_home(struct vs_daemon *d, int vm_id)
{
	struct vs_vm_rec *vm = &d->reg.vms[vm_id];
	struct vs_cpuset local;
	char why[256];

	vm->numa_node = numa_home_of_process(vm->pid, why, sizeof(why));
	if (vm->numa_node == VS_NUMA_NODE_UNKNOWN) {
		if (why[0])
			vs_log("VM '%s': NUMA home unknown: %s", vm->name, why);
		return;
	}
	if (!numa_local_cores(&d->topo, &vm_enclave(d, vm_id)->cpus, vm->numa_node, &local))
		vs_log("VM '%s': memory on node %d, enclave has no core there; vCPUs will run "
		       "remote",
		       vm->name, vm->numa_node);
}

int vm_enroll(struct vs_daemon *d, int pid, const char *name, const struct vs_share_settings *share,
	      int enclave, char *err, size_t errlen)
{
	struct vs_vm_rec probe = {.weight = d->opt.default_weight};
	char comm[32], vmname[VS_VM_NAME_LEN];
	int vm_id, n;

	if (registry_check_vm_limit(&d->reg, (unsigned int)d->reg.vm_ids, err, errlen))
		return -1;
	if (vm_check_enrollable(pid, err, errlen))
		return -1;
	if (process_comm(pid, comm, sizeof(comm))) {
		snprintf(err, errlen, "no process %d: check the VMM's pid", pid);
		return -1;
	}
	if (name && *name)
		snprintf(vmname, sizeof(vmname), "%s", name);
	else
		snprintf(vmname, sizeof(vmname), "%s-%d", comm, pid);
	if (registry_find_vm_by_name(&d->reg, vmname) >= 0) {
		snprintf(err, errlen, "a VM named '%s' is already enrolled", vmname);
		return -1;
	}
	if (!d->enclaves.e[enclave].enc.nr_cores) {
		snprintf(err, errlen, "enclave '%s' has no cores: add some first",
			 d->enclaves.e[enclave].name);
		return -1;
	}
	if (registry_set_share(&probe, share, (unsigned int)d->enclaves.e[enclave].enc.nr_cores,
			       err, errlen))
		return -1;
	vm_id = registry_add_vm(&d->reg, pid, vmname, err, errlen);
	if (vm_id < 0)
		return -1;
	d->reg.vms[vm_id].enclave = enclave;
	d->reg.vms[vm_id].weight = probe.weight;
	d->reg.vms[vm_id].reserve_cores = probe.reserve_cores;
	d->reg.vms[vm_id].cap_cores = probe.cap_cores;
	d->reg.vms[vm_id].start_time = process_start_time(pid);
	d->vm_log[vm_id] = (struct vs_ratelimit){0};
	vs_err_if(vs_maps_set_vm_active(d, vm_id, true), "cannot mark VM id %d active", vm_id);
	n = vm_enroll_new_threads(d, vm_id, true, err, errlen);
	if (n == 0)
		snprintf(err, errlen,
			 "process %d ('%s') has no vCPU threads: expected thread names like "
			 "'CPU 0/KVM' (qemu), 'vcpu0' (cloud-hypervisor), 'fc_vcpu 0' "
			 "(firecracker) or 'crosvm_vcpu0', one per KVM vCPU it created (%sN)",
			 pid, comm, VS_KVM_VCPU_LINK_STEM);
	if (n <= 0) {
		vm_release(d, vm_id);
		return -1;
	}
	vs_log("enrolled VM '%s' (pid %d, enclave '%s', weight %u, reservation %u cores, cap %u "
	       "cores) with %d vCPUs",
	       vmname, pid, d->enclaves.e[enclave].name, d->reg.vms[vm_id].weight,
	       d->reg.vms[vm_id].reserve_cores, d->reg.vms[vm_id].cap_cores, n);
	find_numa_home(d, vm_id);
	n = vs_records_write_vm(d, vm_id, d->reg.vms[vm_id].start_time);
	if (n)
		vs_err("VM '%s': cannot write its agent_vms record (%s): a restarted vmm-schedd "
		       "will not adopt it",
		       vmname, strerror(-n));
	return vm_id;
}

int vm_set_share(struct vs_daemon *d, int vm_id, const struct vs_share_settings *share, char *err,
		 size_t errlen)
{
	struct vs_vm_rec *vm = &d->reg.vms[vm_id];
	int e;

	if (registry_set_share(vm, share, (unsigned int)vm_enclave(d, vm_id)->nr_cores, err,
			       errlen))
		return -1;
	vs_log("VM '%s': weight %u, reservation %u cores, cap %u cores (from the next share plan)",
	       vm->name, vm->weight, vm->reserve_cores, vm->cap_cores);
	e = vs_records_write_vm(d, vm_id, vm->start_time);
	if (e)
		vs_err("VM '%s': cannot update its agent_vms record (%s): a restarted vmm-schedd "
		       "would adopt it with its old settings",
		       vm->name, strerror(-e));
	return 0;
}
