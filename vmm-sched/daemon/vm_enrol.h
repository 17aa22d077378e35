/* Enrolling a VM and its vCPU threads: registry, BPF maps, SCHED_EXT. */
#ifndef VS_VM_ENROL_H
#define VS_VM_ENROL_H

#include <stddef.h>

#include "registry.h"

struct vs_daemon;

/* Enrols VMM process @pid in @enclave; its VM id, or -1 with err. */
int vm_enroll(struct vs_daemon *d, int pid, const char *name, const struct vs_share_settings *share,
	      int enclave, char *err, size_t errlen);
/* Enrols thread @tid as vCPU @index of @vm_id; its slot, or -1 with err (nothing left behind). */
int vm_enroll_thread(struct vs_daemon *d, int vm_id, int tid, int index, char *err, size_t errlen);
/* Changes an enrolled VM's weight, reservation or cap (VS_SHARE_KEEP fields stay). */
int vm_set_share(struct vs_daemon *d, int vm_id, const struct vs_share_settings *share, char *err,
		 size_t errlen);

#endif
