/* The agent's records of its VMs and vCPUs, kept in pinned maps so a restarted agent adopts them.
 */
#include <errno.h>

#include <bpf/libbpf.h>

#include "agent_record.h"
#include "daemon.h"
#include "sched_records.h"
#include "vmm_sched.skel.h"

int vs_records_write_vm(struct vs_daemon *d, int vm_id, uint64_t start_time)
{
	struct vs_agent_vm r;
	uint32_t key = (uint32_t)vm_id;

	agent_vm_record_make(&d->reg.vms[vm_id], start_time, &r);
	if (bpf_map__update_elem(d->skel->maps.agent_vms, &key, sizeof(key), &r, sizeof(r), 0))
		return -errno;
	return 0;
}

int vs_records_write_vcpu(struct vs_daemon *d, int slot)
{
	struct vs_agent_vcpu r;
	uint32_t key = (uint32_t)slot;

	agent_vcpu_record_make(&d->reg.vcpus[slot], &r);
	if (bpf_map__update_elem(d->skel->maps.agent_vcpus, &key, sizeof(key), &r, sizeof(r), 0))
		return -errno;
	return 0;
}

int vs_records_clear_vm(struct vs_daemon *d, int vm_id)
{
	struct vs_agent_vm zero = {0};
	uint32_t key = (uint32_t)vm_id;

	if (bpf_map__update_elem(d->skel->maps.agent_vms, &key, sizeof(key), &zero, sizeof(zero),
				 0))
		return -errno;
	return 0;
}

int vs_records_clear_vcpu(struct vs_daemon *d, int slot)
{
	struct vs_agent_vcpu zero = {0};
	uint32_t key = (uint32_t)slot;

	if (bpf_map__update_elem(d->skel->maps.agent_vcpus, &key, sizeof(key), &zero, sizeof(zero),
				 0))
		return -errno;
	return 0;
}

int vs_records_read_vm(struct vs_daemon *d, int vm_id, struct vs_agent_vm *out)
{
	uint32_t key = (uint32_t)vm_id;

	return bpf_map__lookup_elem(d->skel->maps.agent_vms, &key, sizeof(key), out, sizeof(*out),
				    0);
}

int vs_records_read_vcpu(struct vs_daemon *d, int slot, struct vs_agent_vcpu *out)
{
	uint32_t key = (uint32_t)slot;

	return bpf_map__lookup_elem(d->skel->maps.agent_vcpus, &key, sizeof(key), out, sizeof(*out),
				    0);
}
