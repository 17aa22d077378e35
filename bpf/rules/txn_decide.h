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
	__u32 claims;	    /* vCPUs committed to either thread of the core, not yet running */
};

/*
 * The outcome of committing one slot; on VS_TXN_COMPLETE, *take_core says the
 * core must first be handed to the vCPU's VM. The order of the checks is the
 * order of the outcomes' precedence: a stale transaction is stale whatever
 * the core looks like now.
 */
static inline __u32 vs_txn_decide(const struct vs_txn_facts *f, int *take_core)
{
	*take_core = 0;
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
		return VS_TXN_WRONG_VM;
	if (f->sib_running != VS_VM_NONE && f->sib_running != f->vm)
		return VS_TXN_WRONG_VM;
	if (f->owner == f->vm)
		return f->draining ? VS_TXN_WRONG_VM : VS_TXN_COMPLETE;
	/* Another VM owns the core: it may change hands only with nothing committed. */
	if (f->claims)
		return VS_TXN_WRONG_VM;
	*take_core = 1;
	return VS_TXN_COMPLETE;
}

#endif /* VS_RULES_TXN_DECIDE_H */
