/* The KVM VM and vCPU files a process holds (kvm_evidence.h). */
#ifndef VS_KVM_FDS_H
#define VS_KVM_FDS_H

#include "kvm_evidence.h"

/* -errno if /proc/@pid/fd is unreadable. */
int kvm_evidence_of_process(int pid, struct vs_kvm_evidence *ev);

#endif
