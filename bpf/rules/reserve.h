/* SPDX-License-Identifier: GPL-2.0 */
/*
 * May a hardware thread be reserved for a vCPU of VM @vm (reserve_cpu_for)?
 * Decided on the core's view under its lock: the thread then carries one
 * more claim, and with VS_RESERVE_TAKE the core is first handed to @vm.
 */
#ifndef VS_RULES_RESERVE_H
#define VS_RULES_RESERVE_H

#include "core.h"

enum vs_reserve {
	VS_RESERVE_NO,	  /* pairing, its enclave or a host task forbids it */
	VS_RESERVE_OWNED, /* @vm owns the core and is not draining */
	VS_RESERVE_TAKE,  /* the core is free of other VMs: it becomes @vm's */
};

/*
 * @enclave: @vm's enclave. @may_take_core: @vm is under its cap with one more
 * core, and the caller wants a free core too.
 */
VS_RULE enum vs_reserve vs_reserve_decide(const struct vs_core_view *c, __u32 th, __s32 vm,
					  __u32 enclave, bool may_take_core)
{
	if (!vs_view_open_to(c, enclave) || vs_view_host_blocks(c, th) ||
	    vs_view_sibling_runs_other(c, th, vm))
		return VS_RESERVE_NO;
	if (c->owner == vm)
		return c->draining ? VS_RESERVE_NO : VS_RESERVE_OWNED;
	if (may_take_core && c->running_vm[th & 1] == VS_VM_NONE && vs_view_handover_ok(c, th, vm))
		return VS_RESERVE_TAKE;
	return VS_RESERVE_NO;
}

/*
 * A VM's reservation (vm_ctx.reserve_cores, 0: none) is a number of cores it
 * gets within one core slice of wanting them. Short of it: it has vCPUs
 * queued and owns fewer cores than it reserves (@owned counted as for caps).
 * The VM owed a core picks it before any vtime (vs_owed_scan), and an owner
 * within its reservation keeps its core (vs_dispatch_decide).
 */
VS_RULE bool vs_reserve_short(__u32 owned, __u32 reserve_cores, __s32 queued)
{
	return queued > 0 && owned < reserve_cores;
}

/* Does an owner of @owned cores, the one in question among them, hold only what it reserves? */
VS_RULE bool vs_reserve_holds(__u32 owned, __u32 reserve_cores)
{
	return reserve_cores && owned <= reserve_cores;
}

#endif /* VS_RULES_RESERVE_H */
