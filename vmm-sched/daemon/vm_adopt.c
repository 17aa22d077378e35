/* Adoption: a restarted agent takes over the VMs and vCPUs its predecessor recorded. */
#include "agent_record.h"
#include "daemon.h"
#include "log.h"
#include "sched_maps.h"
#include "sched_messages.h"
#include "sched_records.h"
#include "vcpu_threads.h"
#include "vm_adopt.h"

/* A recorded VM is adopted if its record is sound and the same process still runs. */
static int adopt_vm(struct vs_daemon *d, int vm_id, const struct vs_agent_vm *r)
{
	char err[256];

	if (agent_vm_record_check(r, err, sizeof(err))) {
		vs_err("pinned record of VM id %d is corrupt (%s): not adopted", vm_id, err);
		return -1;
	}
	if (process_start_time(r->pid) != r->start_time) {
		vs_log("VM '%s' (pid %d) exited while no agent ran; forgetting it", r->name,
		       r->pid);
		return -1;
	}
	if (registry_adopt_vm(&d->reg, vm_id, r->pid, r->name, err, sizeof(err)) < 0) {
		vs_err("pinned record of VM '%s': %s: not adopted", r->name, err);
		return -1;
	}
	d->reg.vms[vm_id].start_time = r->start_time;
	d->vm_log[vm_id] = (struct vs_ratelimit){0};
	d->reg.vms[vm_id].weight = r->weight;
	d->reg.vms[vm_id].reserve_cores = r->reserve_cores;
	d->reg.vms[vm_id].cap_cores = r->cap_cores;
	d->reg.vms[vm_id].numa_node = r->numa_node;
	d->reg.vms[vm_id].enclave =
	    d->enclaves.e[r->enclave].used ? (int)r->enclave : VS_ENCLAVE_DEFAULT;
	return 0;
}

/* A recorded vCPU is adopted if its VM was and the scheduler still maps it to this slot. */
static int adopt_vcpu(struct vs_daemon *d, int slot, const struct vs_agent_vcpu *r)
{
	struct vs_saved_sched saved;
	struct vs_vcpu_id id;
	char err[256];

	if (agent_vcpu_record_check(r, err, sizeof(err))) {
		vs_err("pinned record of vCPU slot %d is corrupt (%s): not adopted", slot, err);
		return -1;
	}
	if (r->vm_id >= (uint32_t)d->reg.vm_ids || !d->reg.vms[r->vm_id].used)
		return -1; /* its VM was not adopted: said above */
	if (thread_start_time(d->reg.vms[r->vm_id].pid, r->tid) != r->start_time) {
		vs_log("vCPU %u of VM '%s' (thread %d) exited while no agent ran; forgetting it",
		       r->vcpu_index, d->reg.vms[r->vm_id].name, r->tid);
		return -1;
	}
	if (vs_maps_lookup_vcpu(d, r->tid, &id) || id.slot != (uint32_t)slot ||
	    id.vm_id != r->vm_id) {
		vs_err(
		    "vCPU thread %d of VM '%s' is recorded in slot %d but the scheduler does not "
		    "map it there: not adopted",
		    r->tid, d->reg.vms[r->vm_id].name, slot);
		return -1;
	}
	agent_vcpu_record_saved(r, &saved);
	if (registry_adopt_vcpu(&d->reg, slot, (int)r->vm_id, r->tid, (int)r->vcpu_index, &saved,
				err, sizeof(err)) < 0) {
		vs_err("pinned record of vCPU slot %d: %s: not adopted", slot, err);
		return -1;
	}
	d->reg.vcpus[slot].start_time = r->start_time;
	vcpu_track_init(&d->vcpu_track[slot]);
	return 0;
}

void vm_adopt_recorded(struct vs_daemon *d)
{
	struct vs_agent_vm vr;
	struct vs_agent_vcpu cr;
	int vm_id, slot;

	for (vm_id = 0; vm_id < d->reg.vm_ids; vm_id++) {
		if (vs_records_read_vm(d, vm_id, &vr) || !vr.used)
			continue;
		if (adopt_vm(d, vm_id, &vr)) {
			vs_err_if(vs_maps_set_vm_active(d, vm_id, false),
				  "cannot mark VM id %d inactive", vm_id);
			vs_err_if(vs_records_clear_vm(d, vm_id),
				  "cannot clear the record of VM id %d", vm_id);
		}
	}
	for (slot = 0; slot < d->reg.vcpu_slots; slot++) {
		if (vs_records_read_vcpu(d, slot, &cr) || !cr.used)
			continue;
		if (adopt_vcpu(d, slot, &cr)) {
			if (cr.tid > 0)
				vs_maps_unmap_vcpu(d, cr.tid);
			vs_err_if(vs_records_clear_vcpu(d, slot),
				  "cannot clear the record of vCPU slot %d", slot);
		}
	}
	/* Messages sent while no agent ran may have been dropped. */
	vs_msgs_resync(d);
	d->msgs.drops_seen = vs_maps_msg_drops(d);
	vs_log("adopted %d VMs (%d vCPU threads) from the pinned scheduler without moving them",
	       d->reg.nr_vms, d->reg.nr_vcpus);
}
