/* Giving VMs and vCPU threads back: their previous policy, out of the maps and the registry. */
#ifndef VS_VM_RELEASE_H
#define VS_VM_RELEASE_H

#include <stdbool.h>

#include "cpuset.h"
#include "enclave.h"
#include "registry.h"

struct vs_daemon;

/* Drops a vCPU from the maps, the pinned records and the registry (not its thread). */
void vm_forget_vcpu(struct vs_daemon *d, int slot);
/* The same for a VM and all its vCPUs. */
void vm_forget(struct vs_daemon *d, int vm_id);
/* Is the thread in @v still the one enrolled, not another that took its tid? */
bool vm_same_thread(struct vs_daemon *d, const struct vs_vcpu_rec *v);
/* The enclave of @vm_id. */
const struct vs_enclave *vm_enclave(struct vs_daemon *d, int vm_id);
/*
 * Pins every vCPU thread of @vm_id to @cpus (its enclave's CPUs, or fewer
 * while a core leaves): a vCPU on a CPU outside them is moved off at once.
 * Returns how many threads could not be pinned (logged).
 */
int vm_pin_vcpus(struct vs_daemon *d, int vm_id, const struct vs_cpuset *cpus);
/* Does @aff allow a CPU of any enclave? */
bool vm_may_run_in_enclave(struct vs_daemon *d, const struct vs_cpuset *aff);
/* Takes out of SCHED_EXT every vCPU whose affinity allows no enclave CPU. */
void vm_release_escaped(struct vs_daemon *d);
/* Gives every vCPU thread of @vm_id its policy back and forgets the VM; -1 if no such VM. */
int vm_release(struct vs_daemon *d, int vm_id);
void vm_release_all(struct vs_daemon *d);

#endif
