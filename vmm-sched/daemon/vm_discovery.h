/* Finding a VMM's vCPU threads in /proc and noticing exited ones. */
#ifndef VS_VM_DISCOVERY_H
#define VS_VM_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>

struct vs_daemon;

/* Does @pid exist, own a KVM VM and have vCPU threads? Checked before loading anything. */
int vm_check_enrollable(int pid, char *err, size_t errlen);
/*
 * Enrols the vCPU threads of @vm_id not yet enrolled; returns how many, or -1
 * with err. A thread qualifies by its name (vcpu_name.h), up to one per vCPU
 * the process holds a KVM vCPU file of, and at most --max-vcpus-per-vm.
 * After the first enrolment (@first), a thread whose affinity allows no
 * enclave CPU is left alone: a vcpupin or a cpuset moved it away.
 */
int vm_enroll_new_threads(struct vs_daemon *d, int vm_id, bool first, char *err, size_t errlen);
/*
 * Rescans one VM from /proc: forgets it if it exited (its pid gone, reused,
 * or a zombie with no thread left), forgets its exited vCPU threads and
 * enrols new ones. Returns 0, or -1 if the VM was forgotten.
 */
int vm_rescan(struct vs_daemon *d, int vm_id);
/* The same for every VM, then the backstop for vCPUs that left the enclave. */
void vm_rescan_all(struct vs_daemon *d);

#endif
