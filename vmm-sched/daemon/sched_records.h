/* The agent's records in the pinned maps (agent_vms, agent_vcpus): what a restarted agent adopts.
 */
#ifndef VS_SCHED_RECORDS_H
#define VS_SCHED_RECORDS_H

#include <stdint.h>

#include "bpf/vmm_sched_abi.h"

struct vs_daemon;

int vs_records_write_vm(struct vs_daemon *d, int vm_id, uint64_t start_time);
int vs_records_write_vcpu(struct vs_daemon *d, int slot);
int vs_records_clear_vm(struct vs_daemon *d, int vm_id);
int vs_records_clear_vcpu(struct vs_daemon *d, int slot);
int vs_records_read_vm(struct vs_daemon *d, int vm_id, struct vs_agent_vm *out);
int vs_records_read_vcpu(struct vs_daemon *d, int slot, struct vs_agent_vcpu *out);

#endif
