/* The agent's tables by VM id and vCPU slot, sized like the scheduler's maps. */
#ifndef VS_SLOT_TABLES_H
#define VS_SLOT_TABLES_H

#include <stddef.h>

struct vs_daemon;

/*
 * (Re)allocates the registry, vcpu_track, hint_flags and hint_vcpu_stats
 * for @vm_ids VM ids and @vcpu_slots vCPU slots, all empty; nothing may be
 * enrolled. 0, or -1 with err if out of memory.
 */
int slot_tables_size(struct vs_daemon *d, unsigned int vm_ids, unsigned int vcpu_slots, char *err,
		     size_t errlen);
void slot_tables_free(struct vs_daemon *d);

#endif
