/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whose vCPU the placement sweep moves onto an empty, idle enclave thread:
 * the core owner's while it has vCPUs queued, serves this CPU's enclave, is
 * within its cap and is not draining; otherwise the core is taken for the VM
 * owed most (pick_owed_vm).
 */
#ifndef VS_RULES_SWEEP_H
#define VS_RULES_SWEEP_H

#include "core.h"

/* What the sweep knows about the core's owner (VS_VM_NONE: unowned). */
struct vs_sweep_owner {
	__s32 vm;
	bool draining;
	__s32 queued;	 /* its vCPUs waiting on its DSQ */
	bool serves;	 /* this CPU is in its enclave */
	bool within_cap; /* it may keep this core under its cap */
};

/* The VM to place, or VS_VM_NONE; *take: the core changes hands for it. */
VS_RULE __s32 vs_sweep_target(const struct vs_sweep_owner *o, __s32 best, bool *take)
{
	*take = o->draining || o->queued <= 0 || !o->serves || !o->within_cap;
	return *take ? best : o->vm;
}

#endif /* VS_RULES_SWEEP_H */
