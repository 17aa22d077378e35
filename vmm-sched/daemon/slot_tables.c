/*
 * The agent's tables by VM id and vCPU slot. Allocated from the settings,
 * not sized by the ABI's ceilings: the agent mlocks its memory, and at the
 * ceilings (4,096 VMs, 16,384 vCPUs) these tables alone would be 5 MB.
 */
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "slot_tables.h"

void slot_tables_free(struct vs_daemon *d)
{
	registry_free(&d->reg);
	free(d->vcpu_track);
	free(d->hint_flags);
	free(d->hint_vcpu_stats);
	d->vcpu_track = NULL;
	d->hint_flags = NULL;
	d->hint_vcpu_stats = NULL;
}

int slot_tables_size(struct vs_daemon *d, unsigned int vm_ids, unsigned int vcpu_slots, char *err,
		     size_t errlen)
{
	size_t n;

	slot_tables_free(d);
	if (registry_init(&d->reg, vm_ids, vcpu_slots))
		goto fail;
	n = (size_t)d->reg.vcpu_slots;
	d->vcpu_track = calloc(n, sizeof(*d->vcpu_track));
	d->hint_flags = calloc(n, sizeof(*d->hint_flags));
	d->hint_vcpu_stats = calloc(n, sizeof(*d->hint_vcpu_stats));
	if (d->vcpu_track && d->hint_flags && d->hint_vcpu_stats)
		return 0;
fail:
	slot_tables_free(d);
	snprintf(err, errlen, "out of memory for the tables of %u VMs and %u vCPUs", vm_ids,
		 vcpu_slots);
	return -1;
}
