/* The agent's writes into a guest hint region (hint_host_part.c). */
#ifndef VS_HINT_HOST_PART_H
#define VS_HINT_HOST_PART_H

#include <stdbool.h>
#include <stdint.h>

#include "pvhint_h2g.h"

struct vs_daemon;

struct vs_hint_host_part {
	unsigned char *map;  /* the host part, PVHINT_H2G_MAP_LEN bytes; NULL: not written */
	const char *refusal; /* why not, if !map */
	uint32_t seq[PVHINT_MAX_VCPUS];
	struct pvhint_h2g_vals sent[PVHINT_MAX_VCPUS];
	bool sent_once[PVHINT_MAX_VCPUS];
};

/*
 * Maps the host part of the region open as @fd read-write if the file may be
 * written; else hp->refusal says why. Reopened through /proc/self/fd, so it is
 * the file that was checked, not whatever the path names by now.
 */
void host_part_map(struct vs_hint_host_part *hp, int fd, int vmm_pid);
/* Unmaps it; @why (if not NULL) becomes the reason it is no longer written. */
void host_part_unmap(struct vs_hint_host_part *hp, const char *why);
/* Every vCPU's counters into d->hint_vcpu_stats in one bpf() call; false if that failed (said
 * once). */
bool host_part_read_counters(struct vs_daemon *d);
/*
 * Stamps the host mark and, with @counters fresh, rewrites each vCPU's slot of
 * VM @vm_id whose values changed. Call under the SIGBUS guard of the scan.
 */
void host_part_publish(struct vs_daemon *d, int vm_id, struct vs_hint_host_part *hp,
		       uint64_t disabled, bool counters);

#endif
