#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_name.h"

static int clamp_limit(unsigned int v, int ceiling)
{
	return v < 1 ? 1 : v > (unsigned int)ceiling ? ceiling : (int)v;
}

int registry_init(struct vs_registry *reg, unsigned int vm_ids, unsigned int vcpu_slots)
{
	memset(reg, 0, sizeof(*reg));
	reg->vm_ids = clamp_limit(vm_ids, VS_MAX_VMS);
	reg->vcpu_slots = clamp_limit(vcpu_slots, VS_MAX_VCPUS);
	reg->vms = calloc((size_t)reg->vm_ids, sizeof(*reg->vms));
	reg->vcpus = calloc((size_t)reg->vcpu_slots, sizeof(*reg->vcpus));
	if (!reg->vms || !reg->vcpus ||
	    pid_index_init(&reg->vm_by_pid, (unsigned int)reg->vm_ids) ||
	    pid_index_init(&reg->vcpu_by_tid, (unsigned int)reg->vcpu_slots)) {
		registry_free(reg);
		return -1;
	}
	return 0;
}

void registry_free(struct vs_registry *reg)
{
	free(reg->vms);
	free(reg->vcpus);
	pid_index_free(&reg->vm_by_pid);
	pid_index_free(&reg->vcpu_by_tid);
	memset(reg, 0, sizeof(*reg));
}

int registry_find_vm_by_pid(const struct vs_registry *reg, int pid)
{
	return pid_index_find(&reg->vm_by_pid, pid);
}

int registry_find_vm_by_name(const struct vs_registry *reg, const char *name)
{
	int id;

	registry_for_each_vm(id, reg)
	{
		if (strcmp(reg->vms[id].name, name) == 0)
			return id;
	}
	return -1;
}

static void fill_vm(struct vs_registry *reg, int id, int pid, const char *name)
{
	struct vs_vm_rec *vm = &reg->vms[id];

	memset(vm, 0, sizeof(*vm));
	vm->used = true;
	vm->pid = pid;
	vm->weight = VS_DEFAULT_WEIGHT;
	vm->numa_node = -1;
	/* Made from a comm or read from a pinned record: never a control character. */
	vm_name_sanitize(name ? name : "", vm->name, sizeof(vm->name));
	if (!vm->name[0])
		snprintf(vm->name, sizeof(vm->name), "pid%d", pid);
	reg->nr_vms++;
	/* Cannot fail: pid > 0 (check_new_vm) and the index has room for every VM id. */
	(void)pid_index_set(&reg->vm_by_pid, pid, id);
}

static int check_new_vm(const struct vs_registry *reg, int pid, char *err, size_t errlen)
{
	if (pid <= 0) {
		snprintf(err, errlen, "invalid pid %d", pid);
		return -1;
	}
	if (registry_find_vm_by_pid(reg, pid) >= 0) {
		snprintf(err, errlen, "process %d is already enrolled", pid);
		return -1;
	}
	return 0;
}

int registry_check_vm_limit(const struct vs_registry *reg, unsigned int max_vms, char *err,
			    size_t errlen)
{
	if (reg->nr_vms < 0 || (unsigned int)reg->nr_vms < max_vms)
		return 0;
	snprintf(err, errlen,
		 "VM limit reached: %d of %u VMs enrolled (--max-vms / max-vms in vmm-sched.conf); "
		 "release one or raise the limit",
		 reg->nr_vms, max_vms);
	return -1;
}

int registry_add_vm(struct vs_registry *reg, int pid, const char *name, char *err, size_t errlen)
{
	int id;

	if (check_new_vm(reg, pid, err, errlen))
		return -1;
	for (id = 0; id < reg->vm_ids; id++) {
		if (!reg->vms[id].used) {
			fill_vm(reg, id, pid, name);
			return id;
		}
	}
	snprintf(err, errlen, "too many VMs (at most %d)", reg->vm_ids);
	return -1;
}

int registry_adopt_vm(struct vs_registry *reg, int vm_id, int pid, const char *name, char *err,
		      size_t errlen)
{
	if (vm_id < 0 || vm_id >= reg->vm_ids || reg->vms[vm_id].used) {
		snprintf(err, errlen, "VM id %d is out of range or taken", vm_id);
		return -1;
	}
	if (check_new_vm(reg, pid, err, errlen))
		return -1;
	fill_vm(reg, vm_id, pid, name);
	return vm_id;
}

void registry_remove_vm(struct vs_registry *reg, int vm_id)
{
	int slot;

	if (vm_id < 0 || vm_id >= reg->vm_ids || !reg->vms[vm_id].used)
		return;
	registry_for_each_vcpu(slot, reg)
	{
		if (reg->vcpus[slot].vm_id == vm_id)
			registry_remove_vcpu(reg, slot);
	}
	reg->vms[vm_id].used = false;
	reg->nr_vms--;
	pid_index_remove(&reg->vm_by_pid, reg->vms[vm_id].pid);
}

int registry_find_vcpu_by_tid(const struct vs_registry *reg, int tid)
{
	return pid_index_find(&reg->vcpu_by_tid, tid);
}

static int check_new_vcpu(const struct vs_registry *reg, int vm_id, int tid, int vcpu_index,
			  char *err, size_t errlen)
{
	if (vm_id < 0 || vm_id >= reg->vm_ids || !reg->vms[vm_id].used) {
		snprintf(err, errlen, "unknown VM id %d", vm_id);
		return -1;
	}
	if (tid <= 0 || vcpu_index < 0) {
		snprintf(err, errlen, "invalid vCPU thread %d (index %d)", tid, vcpu_index);
		return -1;
	}
	if (registry_find_vcpu_by_tid(reg, tid) >= 0) {
		snprintf(err, errlen, "thread %d is already enrolled", tid);
		return -1;
	}
	return 0;
}

static void fill_vcpu(struct vs_registry *reg, int slot, int vm_id, int tid, int vcpu_index,
		      const struct vs_saved_sched *saved)
{
	struct vs_vcpu_rec *v = &reg->vcpus[slot];

	memset(v, 0, sizeof(*v));
	v->used = true;
	v->tid = tid;
	v->vm_id = vm_id;
	v->vcpu_index = vcpu_index;
	if (saved)
		v->saved = *saved;
	reg->vms[vm_id].nr_vcpus++;
	reg->nr_vcpus++;
	/* Cannot fail: tid > 0 (check_new_vcpu) and the index has room for every slot. */
	(void)pid_index_set(&reg->vcpu_by_tid, tid, slot);
}

int registry_add_vcpu(struct vs_registry *reg, int vm_id, int tid, int vcpu_index,
		      const struct vs_saved_sched *saved, char *err, size_t errlen)
{
	int slot;

	if (check_new_vcpu(reg, vm_id, tid, vcpu_index, err, errlen))
		return -1;
	for (slot = 0; slot < reg->vcpu_slots; slot++) {
		if (!reg->vcpus[slot].used) {
			fill_vcpu(reg, slot, vm_id, tid, vcpu_index, saved);
			return slot;
		}
	}
	snprintf(err, errlen,
		 "vCPU limit reached: %d of %d vCPU slots in use (--max-vcpus / max-vcpus in "
		 "vmm-sched.conf); release a VM or raise the limit",
		 reg->nr_vcpus, reg->vcpu_slots);
	return -1;
}

int registry_adopt_vcpu(struct vs_registry *reg, int slot, int vm_id, int tid, int vcpu_index,
			const struct vs_saved_sched *saved, char *err, size_t errlen)
{
	if (slot < 0 || slot >= reg->vcpu_slots || reg->vcpus[slot].used) {
		snprintf(err, errlen, "vCPU slot %d is out of range or taken", slot);
		return -1;
	}
	if (check_new_vcpu(reg, vm_id, tid, vcpu_index, err, errlen))
		return -1;
	fill_vcpu(reg, slot, vm_id, tid, vcpu_index, saved);
	return slot;
}

void registry_remove_vcpu(struct vs_registry *reg, int slot)
{
	struct vs_vcpu_rec *v;

	if (slot < 0 || slot >= reg->vcpu_slots || !reg->vcpus[slot].used)
		return;
	v = &reg->vcpus[slot];
	reg->vms[v->vm_id].nr_vcpus--;
	v->used = false;
	reg->nr_vcpus--;
	pid_index_remove(&reg->vcpu_by_tid, v->tid);
}

int registry_set_share(struct vs_vm_rec *vm, const struct vs_share_settings *s,
		       unsigned int nr_cores, char *err, size_t errlen)
{
	long weight = s->weight >= 0 ? s->weight : (long)vm->weight;
	long reserve = s->reserve_cores >= 0 ? s->reserve_cores : (long)vm->reserve_cores;
	long cap = s->cap_cores >= 0 ? s->cap_cores : (long)vm->cap_cores;

	if (weight < VS_MIN_WEIGHT || weight > VS_MAX_WEIGHT) {
		snprintf(err, errlen, "weight %ld is outside %d..%d", weight, VS_MIN_WEIGHT,
			 VS_MAX_WEIGHT);
		return -1;
	}
	if (reserve > (long)nr_cores) {
		snprintf(err, errlen, "a reservation of %ld cores is more than the enclave's %u",
			 reserve, nr_cores);
		return -1;
	}
	if (cap > VS_MAX_CPUS) {
		snprintf(err, errlen, "a cap of %ld cores is more than %d", cap, VS_MAX_CPUS);
		return -1;
	}
	if (cap && cap < reserve) {
		snprintf(err, errlen, "a cap of %ld cores is below the reservation of %ld", cap,
			 reserve);
		return -1;
	}
	vm->weight = (unsigned int)weight;
	vm->reserve_cores = (unsigned int)reserve;
	vm->cap_cores = (unsigned int)cap;
	return 0;
}
