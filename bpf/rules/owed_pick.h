/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SMT efficiency rule of the BPF scheduler, a pure function shared with the
 * unit tests: a core does the most work when both of its threads run vCPUs,
 * and pairing allows only vCPUs of one VM on a core.
 */
#ifndef VS_RULES_OWED_PICK_H
#define VS_RULES_OWED_PICK_H

#include "../vmm_sched_abi.h"

/* A VM in the running for a core, by its vtime (lowest is owed most). */
struct vs_owed {
	__s32 vm; /* VS_VM_NONE: none */
	__u64 vtime;
};

/*
 * Who gets a core: @best, the VM owed most, or @pair, the VM owed most among
 * those with two vCPUs to run on it. The pair wins while its vtime trails
 * best's by at most @window (the agent's plan: one core slice on SMT cores, 0
 * without SMT): it puts both threads to work, and vtime still charges the
 * core time used, so the VM passed over is owed the next core all the more.
 * Fairness over time is unchanged; only near ties move.
 */
static inline __s32 vs_owed_pick(const struct vs_owed *best, const struct vs_owed *pair,
				 __u64 window)
{
	if (pair->vm == VS_VM_NONE || best->vm == VS_VM_NONE)
		return best->vm;
	if (pair->vtime <= best->vtime || pair->vtime - best->vtime <= window)
		return pair->vm;
	return best->vm;
}

#endif /* VS_RULES_OWED_PICK_H */
