/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The commit rule for agent transactions ("run vCPU T on CPU c if its seqnum
 * is still S"), as a pure function shared by the BPF scheduler and the unit
 * tests: the scheduler gathers the facts under the core's lock, this decides.
 */
#ifndef VS_RULES_TXN_DECIDE_H
#define VS_RULES_TXN_DECIDE_H

#include "../vmm_sched_abi.h"

/* What the commit path knows about one slot when it decides. */
struct vs_txn_facts {
	__u8 in_enclave;    /* the slot's CPU belongs to the enclave */
	__u8 known_vcpu;    /* the tid is an enrolled vCPU */
	__u8 queued;	    /* the vCPU waits on its VM's queue (runnable, not running) */
	__u8 host_blocks;   /* strict pairing and a host task runs on the sibling */
	__u32 seq_txn;	    /* the seqnum the agent saw */
	__u32 seq_now;	    /* the vCPU's seqnum now */
	__s32 vm;	    /* the vCPU's VM */
	__s32 owner;	    /* the core's owner VM, or VS_VM_NONE */
	__u32 draining;	    /* the owner is handing the core over */
	__s32 this_running; /* VM whose vCPU runs on the slot's CPU, or VS_VM_NONE */
	__s32 sib_running;  /* same for the sibling */
	/*
	 * VM the sibling is switching away from (ops.running recorded its next
	 * VM, the switch has not happened), or VS_VM_NONE: until the switch it
	 * still runs that VM, and what it switches to is already sib_running.
	 */
	__s32 sib_leaving;
	__u32 claims;	    /* vCPUs committed to either thread of the core, not yet running */
	__u8 may_take_core; /* VS_TXN_F_TAKE_CORE: the core may be taken from another VM */
	__u8 at_cap;	    /* the vCPU's VM owns as many cores as its cap allows */
};

/* How a completed commit gets its core (vs_txn_decide's *take_core). */
enum vs_txn_take {
	VS_TXN_TAKE_NONE, /* the vCPU's VM owns the core already */
	VS_TXN_TAKE_FREE, /* nothing of another VM is there: hand it over now */
	/*
	 * VS_TXN_F_TAKE_CORE: another VM runs or owns it. The core is handed
	 * over now (the commit's claims keep the old VM from starting there
	 * again), its threads running the old VM are kicked, and the vCPU
	 * moves once its sibling no longer runs the old VM.
	 */
	VS_TXN_TAKE_BUSY,
};

/*
 * Where a commit without VS_TXN_F_TAKE_CORE is refused VS_TXN_WRONG_VM: may
 * one with it take the core? Not over its VM's cap, and not while vCPUs are
 * committed there (claims: they would start beside the taker's).
 */
static inline __u32 vs_txn_take_or_refuse(const struct vs_txn_facts *f, int *take_core)
{
	if (!f->may_take_core || f->at_cap || f->claims)
		return VS_TXN_WRONG_VM;
	*take_core = VS_TXN_TAKE_BUSY;
	return VS_TXN_COMPLETE;
}

/*
 * The outcome of committing one slot; on VS_TXN_COMPLETE, *take_core (enum
 * vs_txn_take) says how the core is handed to the vCPU's VM first. The order
 * of the checks is the order of the outcomes' precedence: a stale transaction
 * is stale whatever the core looks like now.
 */
static inline __u32 vs_txn_decide(const struct vs_txn_facts *f, int *take_core)
{
	*take_core = VS_TXN_TAKE_NONE;
	if (!f->in_enclave)
		return VS_TXN_NOT_IN_ENCLAVE;
	if (!f->known_vcpu)
		return VS_TXN_UNKNOWN_VCPU;
	if (f->seq_txn != f->seq_now)
		return VS_TXN_STALE;
	if (!f->queued)
		return VS_TXN_NOT_RUNNABLE;
	if (f->host_blocks)
		return VS_TXN_HOST_BUSY;
	if (f->this_running != VS_VM_NONE && f->this_running != f->vm)
		return vs_txn_take_or_refuse(f, take_core);
	if (f->sib_running != VS_VM_NONE && f->sib_running != f->vm)
		return vs_txn_take_or_refuse(f, take_core);
	if (f->sib_leaving != VS_VM_NONE && f->sib_leaving != f->vm)
		return vs_txn_take_or_refuse(f, take_core);
	if (f->owner == f->vm) {
		if (!f->draining)
			return VS_TXN_COMPLETE;
		/* Taking back a core it is handing over: nothing of another VM runs. */
		if (!f->may_take_core || f->claims)
			return VS_TXN_WRONG_VM;
		*take_core = VS_TXN_TAKE_FREE;
		return VS_TXN_COMPLETE;
	}
	/* Another VM owns the core: it may change hands only with nothing committed. */
	if (f->claims || (f->may_take_core && f->at_cap))
		return VS_TXN_WRONG_VM;
	*take_core = VS_TXN_TAKE_FREE;
	return VS_TXN_COMPLETE;
}

/*
 * A group commit (both threads of a core) from its members' decisions: both
 * complete, for one VM, or neither does. *take: the stronger of the two takes.
 * Returns 1 if the group commits; *out0 and *out1 are the slots' outcomes.
 */
static inline int vs_txn_decide_group(__u32 o0, int take0, __s32 vm0, __u32 o1, int take1,
				      __s32 vm1, __u32 *out0, __u32 *out1, int *take)
{
	*take = take0 > take1 ? take0 : take1;
	if (o0 == VS_TXN_COMPLETE && o1 == VS_TXN_COMPLETE && vm0 != vm1)
		o0 = o1 = VS_TXN_WRONG_VM;
	*out0 = o0 == VS_TXN_COMPLETE ? (o1 == VS_TXN_COMPLETE ? o0 : VS_TXN_GROUP_FAILED) : o0;
	*out1 = o1 == VS_TXN_COMPLETE ? (o0 == VS_TXN_COMPLETE ? o1 : VS_TXN_GROUP_FAILED) : o1;
	if (*out0 != VS_TXN_COMPLETE)
		*take = VS_TXN_TAKE_NONE;
	return *out0 == VS_TXN_COMPLETE;
}

#endif /* VS_RULES_TXN_DECIDE_H */
