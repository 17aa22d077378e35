/*
 * Is a process a KVM VMM, and how many vCPUs does it have? Told by its open
 * files (/proc/PID/fd): KVM names the files it creates itself, and no other
 * code can give a file those names. A process cannot forge them; at most it
 * can be handed a real VM's files, and then it can run that VM.
 */
#ifndef VS_KVM_EVIDENCE_H
#define VS_KVM_EVIDENCE_H

#include <stdbool.h>

/* The link texts of a KVM VM fd and of the fd of vCPU N (KVM_CREATE_VM, KVM_CREATE_VCPU). */
#define VS_KVM_VM_LINK	      "anon_inode:kvm-vm"
#define VS_KVM_VCPU_LINK_STEM "anon_inode:kvm-vcpu:"

struct vs_kvm_evidence {
	int vm_fds;   /* files that are a KVM VM */
	int vcpu_fds; /* files that are a KVM vCPU */
};

/* Counts the fd whose /proc/PID/fd link reads @link. */
void kvm_evidence_add(struct vs_kvm_evidence *ev, const char *link);

/*
 * How many of the process's threads may be enrolled as vCPUs: one per vCPU it
 * created, at most @max_per_vm; 0 if it owns no KVM VM.
 */
int kvm_evidence_vcpu_limit(const struct vs_kvm_evidence *ev, int max_per_vm);

#endif
