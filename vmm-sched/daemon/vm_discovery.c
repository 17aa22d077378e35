/*
 * Process discovery: a VMM's vCPU threads found in /proc, and exited threads and
 * VMs noticed. When each VM is rescanned is discovery_events.c's decision.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "kvm_evidence.h"
#include "kvm_fds.h"
#include "log.h"
#include "vcpu_name.h"
#include "vcpu_threads.h"
#include "vm_discovery.h"
#include "vm_enrol.h"
#include "vm_release.h"

/*
 * Evidence the kernel gives that process @pid is a KVM VMM: it holds a KVM VM
 * file. Returns how many of its threads may be vCPUs (*ev), or -1 with err.
 */
static int kvm_vmm_check(struct vs_daemon *d, int pid, const char *comm, struct vs_kvm_evidence *ev,
			 char *err, size_t errlen)
{
	int e = kvm_evidence_of_process(pid, ev);

	if (e) {
		snprintf(err, errlen, "cannot read the open files of process %d (%s)", pid,
			 strerror(-e));
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
int vm_enroll_new_threads(struct vs_daemon *d, int vm_id, bool first, char *err, size_t errlen)
{
	struct vs_vm_rec *vm = &d->reg.vms[vm_id];
	char path[64], comm[64], refused_comm[64] = "";
	struct vs_kvm_evidence ev;
	int pid = vm->pid, n = 0, limit, refused = 0, refused_tid = 0;
	int held = 0;
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
			/* qemu names a vCPU thread before it creates its KVM vCPU. */
			if (limit < (int)d->opt.max_vcpus_per_vm)
				held++;
			if (!refused++) {
				refused_tid = tid;
				snprintf(refused_comm, sizeof(refused_comm), "%s", comm);
			}
			continue;
		}
		if (!first && (thread_affinity(tid, &aff) || !vm_may_run_in_enclave(d, &aff))) {
			held++;
			continue; /* said when it left the enclave */
		}
		if (vm_enroll_thread(d, vm_id, tid, index, err, errlen) < 0) {
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
	d->disc.held[vm_id] = (uint16_t)(held < UINT16_MAX ? held : UINT16_MAX);
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

/*
 * A process whose threads have all exited, its leader a zombie its parent
 * has not reaped yet: gone for the agent (no event follows the reaping).
 */
static bool process_is_zombie(int pid)
{
	char path[64];
	struct dirent *de;
	int tasks = 0;
	DIR *dir;

	char state = process_state(pid);

	if (state != 'Z' && state != 'X')
		return false;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return true;
	while ((de = readdir(dir)))
		tasks += atoi(de->d_name) > 0;
	closedir(dir);
	return tasks <= 1;
}

int vm_rescan(struct vs_daemon *d, int vm_id)
{
	struct vs_vm_rec *vm = &d->reg.vms[vm_id];
	uint64_t start_time = process_start_time(vm->pid);
	char err[512];
	int slot;

	/* A pid taken by another process is not the VM: its threads are left alone. */
	if (start_time != vm->start_time || process_is_zombie(vm->pid)) {
		vs_log("VM '%s' (pid %d) exited%s; forgetting it", vm->name, vm->pid,
		       start_time != vm->start_time && start_time
			   ? " and its pid was reused by another process"
			   : "");
		vm_forget(d, vm_id);
		d->disc.held[vm_id] = 0;
		return -1;
	}
	registry_for_each_vcpu(slot, &d->reg)
	{
		struct vs_vcpu_rec *v = &d->reg.vcpus[slot];

		if (v->vm_id == vm_id && !vm_same_thread(d, v))
			vm_forget_vcpu(d, slot);
	}
	if (vm_enroll_new_threads(d, vm_id, false, err, sizeof(err)) < 0)
		vs_err_limited(&d->vm_log[vm_id], "VM '%s': %s", vm->name, err);
	return 0;
}

void vm_rescan_all(struct vs_daemon *d)
{
	int vm_id;

	registry_for_each_vm(vm_id, &d->reg) vm_rescan(d, vm_id);
	/* Messages tell of an escape at once; this is the backstop. */
	vm_release_escaped(d);
}
