/*
 * The host's half of a guest hint region (docs/guest-abi.md): the mark that
 * tells the guest driver a region is meant for hints, and the per-vCPU
 * host-to-guest slots. Pure: the caller maps the memory and gathers the facts.
 *
 * The agent runs as root and the backing file belongs to the VMM, which may be
 * compromised: before writing through it, the agent checks that it is a file a
 * VMM could only have made for shared memory (pvhint_h2g_refusal()).
 */
#ifndef VS_PVHINT_H2G_H
#define VS_PVHINT_H2G_H

#include <stdbool.h>
#include <stdint.h>

#include "pvhint_host_mark.h"
#include "vmm_pvhint_abi.h"

/* The host-written part as the agent maps it: from PVHINT_H2G_OFF to past the mark. */
#define PVHINT_H2G_MAP_LEN                                                                         \
	((PVHINT_MIN_REGION_SIZE - PVHINT_H2G_OFF + PVHINT_PAGE_SIZE - 1) & ~(PVHINT_PAGE_SIZE - 1))

/* What the agent learnt of the backing file (fstat, fstatfs, the VMM's uid). */
struct pvhint_file_facts {
	bool regular;
	bool on_shared_memory_fs; /* tmpfs or hugetlbfs: no file of the system lives there */
	uint64_t links;
	uint64_t size;
	uint32_t owner_uid;
	uint32_t vmm_uid; /* the VM process's real uid */
};

/*
 * NULL if the agent may write the host part of this file, else why not: a
 * hard link or a file outside tmpfs/hugetlbfs could be one of the system's
 * files that a VMM pointed the agent at.
 */
const char *pvhint_h2g_refusal(const struct pvhint_file_facts *f);

/* Writes the host mark into @h2g (the PVHINT_H2G_MAP_LEN bytes at PVHINT_H2G_OFF). */
void pvhint_h2g_stamp(void *h2g, uint32_t nr_vcpus);

/* What the host tells one vCPU. */
struct pvhint_h2g_vals {
	uint32_t flags; /* PVHINT_H2G_* */
	uint64_t preemptions;
	uint64_t extensions;
	uint64_t extended_ns;
	uint64_t disabled;
};

/* What the scheduler counted for one vCPU (its vcpu_stats), read in one batch. */
struct pvhint_h2g_counts {
	uint64_t preempts;
	uint64_t cs_extensions;
	uint64_t cs_extended_ns;
};

/*
 * What to tell a vCPU now, from the scheduler's counts @c and what it was
 * told last (@last, NULL before the first write). PVHINT_H2G_YIELD_ON_EXIT
 * while it got extensions since the last counts (the agent reads them in
 * batches: "lately", not "right now"); never while its VM's hints are off.
 */
struct pvhint_h2g_vals pvhint_h2g_vals_of(const struct pvhint_h2g_counts *c,
					  const struct pvhint_h2g_vals *last, uint64_t disabled);

/*
 * Writes vCPU @vcpu's slot under its seqcount. The guest can write that
 * memory too, so the count is the agent's own (@seq, kept by the caller),
 * never read back from the region.
 */
void pvhint_h2g_publish(void *h2g, uint32_t vcpu, uint32_t *seq, const struct pvhint_h2g_vals *v);

#endif
