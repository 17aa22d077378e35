/*
 * The agent's records of its VMs and vCPUs as kept in the pinned maps
 * agent_vms and agent_vcpus (bpf/vmm_sched_abi.h): made from the registry at
 * enrolment, checked and read back by a restarted agent. The maps outlive the
 * agent, so a record is checked like any input before it is believed.
 */
#ifndef VS_AGENT_RECORD_H
#define VS_AGENT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/vmm_sched_abi.h"
#include "registry.h"

void agent_vm_record_make(const struct vs_vm_rec *vm, uint64_t start_time, struct vs_agent_vm *out);
void agent_vcpu_record_make(const struct vs_vcpu_rec *v, struct vs_agent_vcpu *out);

/* 0 if the record of VM @vm_id is well formed, else -1 with err saying what is wrong. */
int agent_vm_record_check(const struct vs_agent_vm *r, char *err, size_t errlen);
int agent_vcpu_record_check(const struct vs_agent_vcpu *r, char *err, size_t errlen);

/* The thread's scheduling before enrolment, from a checked record. */
void agent_vcpu_record_saved(const struct vs_agent_vcpu *r, struct vs_saved_sched *out);

#endif
