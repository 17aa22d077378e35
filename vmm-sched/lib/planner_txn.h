/*
 * The commit side of the planner, pure: turn a plan (planner.h) into the
 * transactions the agent writes into the per-CPU slots (struct vs_txn in
 * bpf/vmm_sched_abi.h), and take their outcomes back into the planner's
 * state so the next plan starts from what the scheduler refused.
 *
 * One transaction per thread that should run a vCPU, unless its decision is
 * already latched there: the vCPU runs on that CPU now, or the agent
 * committed it there and its seqnum has not moved since (it waits in the
 * CPU's local DSQ). Both threads of a core in one plan go as a group commit
 * (VS_TXN_F_GROUP: both or neither). Threads the plan leaves empty get no
 * transaction: BPF's local rules decide there, as everywhere no latched
 * decision is live.
 *
 * Outcomes (enum vs_txn_outcome) are read back as:
 *  - complete: latched; the next epoch does not commit it again.
 *  - stale: the vCPU changed state since the view; the next view has it.
 *  - not_runnable, unknown_vcpu: the vCPU is not runnable for the rest of
 *    the epoch (a re-plan with elapsed_ns 0 leaves it out).
 *  - wrong_vm, host_busy, not_in_enclave, bad_slot: the core is left to
 *    BPF for the rest of the epoch and counts as not delivered to its VM.
 *  - group_failed: the partner's outcome says why; nothing to learn here.
 */
#ifndef VS_PLANNER_TXN_H
#define VS_PLANNER_TXN_H

#include <stdint.h>

#include "bpf/vmm_sched_abi.h"
#include "planner.h"

struct planner_txn {
	int cpu;	  /* the slot: txns[cpu] */
	uint32_t tid;	  /* vs_txn.tid */
	uint32_t seqnum;  /* vs_txn.seqnum */
	uint32_t flags;	  /* vs_txn.flags: VS_TXN_F_GROUP for a sibling pair */
	uint32_t core;	  /* index of the core in the view */
	uint32_t vcpu;	  /* index of the vCPU in the view */
	uint32_t vm_id;	  /* the VM the plan gave the core to */
	uint32_t outcome; /* enum vs_txn_outcome, filled in by the caller after the commit */
};

struct planner_txn_counts {
	unsigned int built;   /* transactions to commit */
	unsigned int latched; /* threads skipped: their decision is latched already */
	unsigned int outcomes[VS_TXN_NR_OUTCOMES];
	unsigned int vcpus_refused; /* vCPUs left out for the rest of the epoch */
	unsigned int cores_refused; /* cores left to BPF for the rest of the epoch */
};

/*
 * The transactions for @plan of @v into @out (room for v->nr_cores *
 * v->threads_per_core), outcomes VS_TXN_NONE. Returns how many; counts the
 * built and latched ones in @counts (zeroed first).
 */
unsigned int planner_txn_build(const struct planner_view *v, const struct planner_state *st,
			       const struct planner_plan *plan, struct planner_txn *out,
			       struct planner_txn_counts *counts);

/*
 * Take the outcomes of @txns[0..n) (from planner_txn_build() for @v) into
 * @st and @counts (outcomes, refusals added).
 */
void planner_txn_apply(const struct planner_view *v, struct planner_state *st,
		       const struct planner_txn *txns, unsigned int n,
		       struct planner_txn_counts *counts);

#endif
