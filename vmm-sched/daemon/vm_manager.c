/* Enrolment: a VMM process's vCPU threads into the registry, the BPF maps and SCHED_EXT. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_record.h"
#include "daemon.h"
#include "kvm_evidence.h"
#include "numa_home.h"
#include "vcpu_name.h"

/* Drops a vCPU from the maps, the pinned records and the registry (not its thread). */
static void forget_vcpu(struct vs_daemon *d, int slot)
{
	bpf_sched_unmap_vcpu(d, d->reg.vcpus[slot].tid);
	bpf_sched_forget_vcpu(d, slot);
	if (d->hint_flags[slot] && !bpf_sched_write_hint(d, slot, 0))
		d->hint_flags[slot] = 0;
	registry_remove_vcpu(&d->reg, slot);
}

/* The same for a VM and all its vCPUs. */
static void forget_vm(struct vs_daemon *d, int vm_id)
{
	int slot;

	hints_detach(d, vm_id);
	registry_for_each_vcpu(slot, &d->reg)
	{
		if (d->reg.vcpus[slot].vm_id == vm_id)
			forget_vcpu(d, slot);
	}
	bpf_sched_set_vm_active(d, vm_id, false);
	bpf_sched_forget_vm(d, vm_id);
	registry_remove_vm(&d->reg, vm_id);
}

/* Is the thread in @v still the one enrolled, not another that took its tid? */
static bool same_thread(struct vs_daemon *d, const struct vs_vcpu_rec *v)
{
	return v->start_time &&
	       thread_start_time(d->reg.vms[v->vm_id].pid, v->tid) == v->start_time;
}

static int enroll_thread(struct vs_daemon *d, int vm_id, int tid, int index, char *err,
			 size_t errlen)
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
	e = bpf_sched_map_vcpu(d, tid, vm_id, index, slot);
	if (e) {
		snprintf(err, errlen, "cannot add thread %d to the vCPU map: %s", tid,
			 strerror(-e));
		registry_remove_vcpu(&d->reg, slot);
		return -1;
	}
	/* Recorded before the thread moves: a restarted agent can then give it back. */
	e = bpf_sched_record_vcpu(d, slot);
	if (e) {
		snprintf(err, errlen, "cannot record thread %d in the agent_vcpus map: %s", tid,
			 strerror(-e));
		forget_vcpu(d, slot);
		return -1;
	}
	if (thread_enter_enclave(tid, vm_enclave(d, vm_id), err, errlen)) {
		if (thread_restore_sched(tid, &saved, why, sizeof(why)))
			vs_err("%s", why);
		forget_vcpu(d, slot);
		return -1;
	}
	return slot;
}

static void release_thread(struct vs_daemon *d, int slot)
{
	struct vs_vcpu_rec *v = &d->reg.vcpus[slot];
	char err[256];

	/* A saved policy goes back only to the thread it was saved from. */
	if (!same_thread(d, v))
		vs_log("vCPU %d of VM '%s' (thread %d) has exited: no policy to give back",
		       v->vcpu_index, d->reg.vms[v->vm_id].name, v->tid);
	else if (thread_restore_sched(v->tid, &v->saved, err, sizeof(err)) && errno != ESRCH)
		vs_err("%s", err);
	forget_vcpu(d, slot);
}

const struct vs_enclave *vm_enclave(struct vs_daemon *d, int vm_id)
{
	int id = d->reg.vms[vm_id].enclave;

	return &d->enclaves.e[id >= 0 && id < VS_MAX_ENCLAVES ? id : VS_ENCLAVE_DEFAULT].enc;
}

int vm_pin_vcpus(struct vs_daemon *d, int vm_id, const struct vs_cpuset *cpus)
{
	int slot, failed = 0;

	registry_for_each_vcpu(slot, &d->reg)
	{
		struct vs_vcpu_rec *v = &d->reg.vcpus[slot];

		if (v->vm_id != vm_id || !same_thread(d, v))
			continue;
		if (thread_pin(v->tid, cpus) && errno != ESRCH) {
			vs_err("VM '%s': cannot pin vCPU %d (thread %d) to its enclave's CPUs: %s",
			       d->reg.vms[vm_id].name, v->vcpu_index, v->tid, strerror(errno));
			failed++;
		}
	}
	return failed;
}

/* Does @aff allow a CPU of any enclave? */
static bool may_run_in_enclave(struct vs_daemon *d, const struct vs_cpuset *aff)
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
	forget_vcpu(d, slot);
}

void vm_release_escaped(struct vs_daemon *d)
{
	struct vs_cpuset aff;
	int slot;

	d->escapes_pending = false;
	registry_for_each_vcpu(slot, &d->reg)
	{
		struct vs_vcpu_rec *v = &d->reg.vcpus[slot];

		if (!same_thread(d, v) || thread_affinity(v->tid, &aff))
			continue; /* exited: the rescan forgets it */
		if (!may_run_in_enclave(d, &aff))
			release_escaped(d, slot, &aff);
	}
}

/*
 * Evidence the kernel gives that process @pid is a KVM VMM: it holds a KVM VM
 * file. Returns how many of its threads may be vCPUs (*ev), or -1 with err.
 */
static int kvm_vmm_check(struct vs_daemon *d, int pid, const char *comm, struct vs_kvm_evidence *ev,
			 char *err, size_t errlen)
{
	if (kvm_evidence_of_process(pid, ev)) {
		snprintf(err, errlen, "cannot read the open files of process %d (%s)", pid,
			 strerror(errno));
		return -1;
	}
	if (!ev->vm_fds) {
		snprintf(err, errlen,
			 "process %d ('%s') owns no KVM VM (none of its open files is %s): only "
			 "the vCPU threads of a KVM VMM are enrolled",
			 pid, comm, VS_KVM_VM_LINK);
		return -1;
	}
	return kvm_evidence_vcpu_limit(ev, d ? (int)d->opt.max_vcpus_per_vm : VS_MAX_VCPUS);
}

/* Why a VM may enrol no more vCPU threads, for the log. */
static void say_over_limit(struct vs_daemon *d, int vm_id, const struct vs_kvm_evidence *ev,
			   int refused, int tid, const char *comm)
{
	struct vs_vm_rec *vm = &d->reg.vms[vm_id];
	char why[160];

	if (ev->vcpu_fds > (int)d->opt.max_vcpus_per_vm)
		snprintf(why, sizeof(why), "the limit set by --max-vcpus-per-vm %u",
			 d->opt.max_vcpus_per_vm);
	else
		snprintf(why, sizeof(why),
			 "one per KVM vCPU the process created (it holds %d %sN files)",
			 ev->vcpu_fds, VS_KVM_VCPU_LINK_STEM);
	vs_err_limited(&d->vm_log[vm_id],
		       "VM '%s': %d more threads are named like vCPUs (e.g. thread %d '%s') but "
		       "are not enrolled: the VM has %d vCPU threads enrolled, %s",
		       vm->name, refused, tid, comm, vm->nr_vcpus, why);
}

/*
 * Enrols the vCPU threads of @vm_id not yet enrolled; returns how many, or -1.
 * A thread qualifies by its name (vcpu_name.h), up to one per vCPU the
 * process holds a KVM vCPU file of, and at most --max-vcpus-per-vm. After
 * the first enrolment (@first), a thread whose affinity allows no enclave CPU
 * is left alone: a vcpupin or a cpuset moved it away.
 */
static int enroll_new_threads(struct vs_daemon *d, int vm_id, bool first, char *err, size_t errlen)
{
	struct vs_vm_rec *vm = &d->reg.vms[vm_id];
	char path[64], comm[64], refused_comm[64] = "";
	struct vs_kvm_evidence ev;
	int pid = vm->pid, n = 0, limit, refused = 0, refused_tid = 0;
	struct vs_cpuset aff;
	struct dirent *de;
	DIR *dir;

	if (process_comm(pid, comm, sizeof(comm))) {
		snprintf(err, errlen, "no process %d", pid);
		return -1;
	}
	limit = kvm_vmm_check(d, pid, comm, &ev, err, errlen);
	if (limit < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir) {
		snprintf(err, errlen, "no process %d (%s)", pid, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir))) {
		int tid = atoi(de->d_name), index;

		if (tid <= 0 || registry_find_vcpu_by_tid(&d->reg, tid) >= 0)
			continue;
		if (process_comm(tid, comm, sizeof(comm)))
			continue; /* exited meanwhile */
		index = vcpu_index_from_thread_name(comm);
		if (index < 0)
			continue;
		if (vm->nr_vcpus >= limit) {
			if (!refused++) {
				refused_tid = tid;
				snprintf(refused_comm, sizeof(refused_comm), "%s", comm);
			}
			continue;
		}
		if (!first && (thread_affinity(tid, &aff) || !may_run_in_enclave(d, &aff)))
			continue; /* said when it left the enclave */
		if (enroll_thread(d, vm_id, tid, index, err, errlen) < 0) {
			closedir(dir);
			return -1;
		}
		if (first)
			vs_log("enrolled vCPU %d of VM '%s' (thread %d, '%s')", index, vm->name,
			       tid, comm);
		else
			vs_log_limited(&d->vm_log[vm_id],
				       "enrolled vCPU %d of VM '%s' (thread %d, '%s')", index,
				       vm->name, tid, comm);
		n++;
	}
	closedir(dir);
	if (refused)
		say_over_limit(d, vm_id, &ev, refused, refused_tid, refused_comm);
	return n;
}

int vm_check_enrollable(int pid, char *err, size_t errlen)
{
	char path[64], comm[32];
	struct vs_kvm_evidence ev;
	struct dirent *de;
	int found = 0;
	DIR *dir;

	if (process_comm(pid, comm, sizeof(comm))) {
		snprintf(err, errlen, "no process %d: check the VMM's pid", pid);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	while (dir && (de = readdir(dir)) && !found) {
		char tcomm[32];
		int tid = atoi(de->d_name);

		found = tid > 0 && !process_comm(tid, tcomm, sizeof(tcomm)) &&
			vcpu_index_from_thread_name(tcomm) >= 0;
	}
	if (dir)
		closedir(dir);
	if (!found) {
		snprintf(err, errlen,
			 "process %d ('%s') has no vCPU threads: expected thread names like "
			 "'CPU 0/KVM' (qemu), 'vcpu0' (cloud-hypervisor), 'fc_vcpu 0' "
			 "(firecracker) or 'crosvm_vcpu0'",
			 pid, comm);
		return -1;
	}
	/* A name is no evidence: the process must own a KVM VM. */
	if (kvm_vmm_check(NULL, pid, comm, &ev, err, errlen) < 0)
		return -1;
	return 0;
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
	bpf_sched_set_vm_active(d, vm_id, true);
	n = enroll_new_threads(d, vm_id, true, err, errlen);
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
	n = bpf_sched_record_vm(d, vm_id, d->reg.vms[vm_id].start_time);
	if (n)
		vs_err("VM '%s': cannot write its agent_vms record (%s): a restarted vmm-schedd "
		       "will not adopt it",
		       vmname, strerror(-n));
	return vm_id;
}

int vm_release(struct vs_daemon *d, int vm_id)
{
	int slot;

	if (vm_id < 0 || vm_id >= VS_MAX_VMS || !d->reg.vms[vm_id].used)
		return -1;
	registry_for_each_vcpu(slot, &d->reg)
	{
		if (d->reg.vcpus[slot].vm_id == vm_id)
			release_thread(d, slot);
	}
	forget_vm(d, vm_id);
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

void vm_rescan_all(struct vs_daemon *d)
{
	char err[512];
	int vm_id, slot;

	registry_for_each_vm(vm_id, &d->reg)
	{
		struct vs_vm_rec *vm = &d->reg.vms[vm_id];
		uint64_t start_time = process_start_time(vm->pid);

		/* A pid taken by another process is not the VM: its threads are left alone. */
		if (start_time != vm->start_time) {
			vs_log("VM '%s' (pid %d) exited%s; forgetting it", vm->name, vm->pid,
			       start_time ? " and its pid was reused by another process" : "");
			forget_vm(d, vm_id);
			continue;
		}
		registry_for_each_vcpu(slot, &d->reg)
		{
			struct vs_vcpu_rec *v = &d->reg.vcpus[slot];

			if (v->vm_id == vm_id && !same_thread(d, v))
				forget_vcpu(d, slot);
		}
		if (enroll_new_threads(d, vm_id, false, err, sizeof(err)) < 0)
			vs_err_limited(&d->vm_log[vm_id], "VM '%s': %s", vm->name, err);
	}
	/* Messages tell of an escape at once; this is the backstop. */
	vm_release_escaped(d);
}

/* A recorded VM is adopted if its record is sound and the same process still runs. */
static int adopt_vm(struct vs_daemon *d, int vm_id, const struct vs_agent_vm *r)
{
	char err[256];

	if (agent_vm_record_check(r, err, sizeof(err))) {
		vs_err("pinned record of VM id %d is corrupt (%s): not adopted", vm_id, err);
		return -1;
	}
	if (process_start_time(r->pid) != r->start_time) {
		vs_log("VM '%s' (pid %d) exited while no agent ran; forgetting it", r->name,
		       r->pid);
		return -1;
	}
	if (registry_adopt_vm(&d->reg, vm_id, r->pid, r->name, err, sizeof(err)) < 0) {
		vs_err("pinned record of VM '%s': %s: not adopted", r->name, err);
		return -1;
	}
	d->reg.vms[vm_id].start_time = r->start_time;
	d->vm_log[vm_id] = (struct vs_ratelimit){0};
	d->reg.vms[vm_id].weight = r->weight;
	d->reg.vms[vm_id].reserve_cores = r->reserve_cores;
	d->reg.vms[vm_id].cap_cores = r->cap_cores;
	d->reg.vms[vm_id].numa_node = r->numa_node;
	d->reg.vms[vm_id].enclave =
	    d->enclaves.e[r->enclave].used ? (int)r->enclave : VS_ENCLAVE_DEFAULT;
	return 0;
}

/* A recorded vCPU is adopted if its VM was and the scheduler still maps it to this slot. */
static int adopt_vcpu(struct vs_daemon *d, int slot, const struct vs_agent_vcpu *r)
{
	struct vs_saved_sched saved;
	struct vs_vcpu_id id;
	char err[256];

	if (agent_vcpu_record_check(r, err, sizeof(err))) {
		vs_err("pinned record of vCPU slot %d is corrupt (%s): not adopted", slot, err);
		return -1;
	}
	if (r->vm_id >= VS_MAX_VMS || !d->reg.vms[r->vm_id].used)
		return -1; /* its VM was not adopted: said above */
	if (thread_start_time(d->reg.vms[r->vm_id].pid, r->tid) != r->start_time) {
		vs_log("vCPU %u of VM '%s' (thread %d) exited while no agent ran; forgetting it",
		       r->vcpu_index, d->reg.vms[r->vm_id].name, r->tid);
		return -1;
	}
	if (bpf_sched_lookup_vcpu(d, r->tid, &id) || id.slot != (uint32_t)slot ||
	    id.vm_id != r->vm_id) {
		vs_err(
		    "vCPU thread %d of VM '%s' is recorded in slot %d but the scheduler does not "
		    "map it there: not adopted",
		    r->tid, d->reg.vms[r->vm_id].name, slot);
		return -1;
	}
	agent_vcpu_record_saved(r, &saved);
	if (registry_adopt_vcpu(&d->reg, slot, (int)r->vm_id, r->tid, (int)r->vcpu_index, &saved,
				err, sizeof(err)) < 0) {
		vs_err("pinned record of vCPU slot %d: %s: not adopted", slot, err);
		return -1;
	}
	d->reg.vcpus[slot].start_time = r->start_time;
	vcpu_track_init(&d->vcpu_track[slot]);
	return 0;
}

void vm_adopt_recorded(struct vs_daemon *d)
{
	struct vs_agent_vm vr;
	struct vs_agent_vcpu cr;
	int vm_id, slot;

	for (vm_id = 0; vm_id < VS_MAX_VMS; vm_id++) {
		if (bpf_sched_read_vm_record(d, vm_id, &vr) || !vr.used)
			continue;
		if (adopt_vm(d, vm_id, &vr)) {
			bpf_sched_set_vm_active(d, vm_id, false);
			bpf_sched_forget_vm(d, vm_id);
		}
	}
	for (slot = 0; slot < VS_MAX_VCPUS; slot++) {
		if (bpf_sched_read_vcpu_record(d, slot, &cr) || !cr.used)
			continue;
		if (adopt_vcpu(d, slot, &cr)) {
			if (cr.tid > 0)
				bpf_sched_unmap_vcpu(d, cr.tid);
			bpf_sched_forget_vcpu(d, slot);
		}
	}
	/* Messages sent while no agent ran may have been dropped. */
	bpf_sched_resync(d);
	d->msgs.drops_seen = bpf_sched_msg_drops(d);
	vs_log("adopted %d VMs (%d vCPU threads) from the pinned scheduler without moving them",
	       d->reg.nr_vms, d->reg.nr_vcpus);
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
	e = bpf_sched_record_vm(d, vm_id, vm->start_time);
	if (e)
		vs_err("VM '%s': cannot update its agent_vms record (%s): a restarted vmm-schedd "
		       "would adopt it with its old settings",
		       vm->name, strerror(-e));
	return 0;
}
