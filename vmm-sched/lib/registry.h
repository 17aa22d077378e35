/*
 * The VMs and vCPUs the agent manages: VM ids (which pick the VM's DSQ) and
 * vCPU slots (which index the BPF vcpu_stats map). Tables allocated once at
 * init; a pid or tid finds its VM or vCPU through an index, not a walk.
 */
#ifndef VS_REGISTRY_H
#define VS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpuset.h"
#include "pid_index.h"
#include "share.h"

#define VS_VM_NAME_LEN 64

/* How a thread was scheduled before enrolment, to give it back on release. */
struct vs_saved_sched {
	int policy;
	int nice;
	int rt_priority;
	struct vs_cpuset affinity;
};

struct vs_vcpu_rec {
	bool used;
	int tid;
	int vm_id;
	int vcpu_index;
	uint64_t start_time; /* field 22 of /proc/TID/stat: the thread, not just its tid */
	struct vs_saved_sched saved;
};

struct vs_vm_rec {
	bool used;
	int pid;
	uint64_t start_time; /* field 22 of /proc/PID/stat: the process, not just its pid */
	char name[VS_VM_NAME_LEN];
	int nr_vcpus;
	unsigned int weight;
	unsigned int reserve_cores; /* cores it is guaranteed when it wants them; 0: none */
	unsigned int cap_cores;	    /* cores it may own at most; 0: no cap */
	int numa_node; /* holds most of the VM's memory; -1 (VS_NUMA_NODE_UNKNOWN): unknown */
	int enclave;   /* its vCPUs run on this enclave's cores (0: the default one) */
};

/*
 * Share settings given on enrolment or changed later; a negative field is
 * left as it is (a new VM has weight VS_DEFAULT_WEIGHT, no reservation, no cap).
 */
struct vs_share_settings {
	int weight;
	int reserve_cores;
	int cap_cores;
};
#define VS_SHARE_KEEP (-1)

/* Sized by the settings (the BPF maps' sizes), not by the ABI's ceilings. */
struct vs_registry {
	struct vs_vm_rec *vms;	   /* vm_ids entries, index = VM id */
	struct vs_vcpu_rec *vcpus; /* vcpu_slots entries, index = slot */
	int nr_vms;
	int nr_vcpus;
	int vm_ids;
	int vcpu_slots;
	struct vs_pid_index vm_by_pid;	 /* pid -> VM id of every used VM */
	struct vs_pid_index vcpu_by_tid; /* tid -> slot of every used vCPU */
};

/*
 * Empty, for VM ids below @vm_ids and vCPU slots below @vcpu_slots (each
 * clamped to 1..VS_MAX_VMS or VS_MAX_VCPUS). 0, or -1 if out of memory.
 */
int registry_init(struct vs_registry *reg, unsigned int vm_ids, unsigned int vcpu_slots);
void registry_free(struct vs_registry *reg);
/*
 * May one more VM be enrolled under --max-vms @max_vms? 0, or -1 with err
 * naming the limit and the setting.
 */
int registry_check_vm_limit(const struct vs_registry *reg, unsigned int max_vms, char *err,
			    size_t errlen);
/* A new VM for process @pid; returns its vm_id, or -1 with err (full, or pid enrolled). */
int registry_add_vm(struct vs_registry *reg, int pid, const char *name, char *err, size_t errlen);
/*
 * The same at a given id or slot, for an agent re-adopting what a previous one
 * recorded: -1 with err if it is out of range or taken.
 */
int registry_adopt_vm(struct vs_registry *reg, int vm_id, int pid, const char *name, char *err,
		      size_t errlen);
int registry_adopt_vcpu(struct vs_registry *reg, int slot, int vm_id, int tid, int vcpu_index,
			const struct vs_saved_sched *saved, char *err, size_t errlen);
int registry_find_vm_by_pid(const struct vs_registry *reg, int pid);
int registry_find_vm_by_name(const struct vs_registry *reg, const char *name);
/* Removes the VM and all its vCPUs. */
void registry_remove_vm(struct vs_registry *reg, int vm_id);
/* A new vCPU slot; returns the slot, or -1 with err (unknown VM, tid taken, full). */
int registry_add_vcpu(struct vs_registry *reg, int vm_id, int tid, int vcpu_index,
		      const struct vs_saved_sched *saved, char *err, size_t errlen);
int registry_find_vcpu_by_tid(const struct vs_registry *reg, int tid);
/*
 * Applies @s to @vm if the result is sound: weight VS_MIN_WEIGHT..VS_MAX_WEIGHT,
 * a reservation of at most the enclave's @nr_cores, a cap of at most
 * VS_MAX_CPUS and not below the reservation. Else -1 with err naming the
 * setting, and @vm unchanged.
 */
int registry_set_share(struct vs_vm_rec *vm, const struct vs_share_settings *s,
		       unsigned int nr_cores, char *err, size_t errlen);
void registry_remove_vcpu(struct vs_registry *reg, int slot);

#define registry_for_each_vcpu(slot, reg)                                                          \
	for ((slot) = 0; (slot) < (reg)->vcpu_slots; (slot)++)                                     \
		if ((reg)->vcpus[(slot)].used)
#define registry_for_each_vm(id, reg)                                                              \
	for ((id) = 0; (id) < (reg)->vm_ids; (id)++)                                               \
		if ((reg)->vms[(id)].used)

#endif
