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
 * gets within one core slice of wanting them. As the VM owed a core
 * (vs_owed_scan) it is, before any vtime:
 */
enum vs_reserve_claim {
	VS_RES_NONE,  /* no reservation, or it has more than it reserves */
	VS_RES_SHORT, /* vCPUs queued, fewer cores than it reserves: owed one */
	VS_RES_HOLDS, /* owns the core in question and no more than it reserves: keeps it */
};

/*
 * @owned: its cores (counted as for caps); @queued: its vCPUs on its queue;
 * @owns_this: the core in question is its.
 */
VS_RULE enum vs_reserve_claim vs_reserve_claim(__u32 owned, __u32 reserve_cores, __s32 queued,
					       bool owns_this)
{
	if (!reserve_cores)
		return VS_RES_NONE;
	if (owns_this)
		return owned <= reserve_cores ? VS_RES_HOLDS : VS_RES_NONE;
	return queued > 0 && owned < reserve_cores ? VS_RES_SHORT : VS_RES_NONE;
}

/*
 * What the reservations claim of a core, as a fold over the candidates (a
 * separate scan, so that BPF's main scan carries no more state): the core's
 * owner holding its reservation keeps it while it has work; else the first
 * VM offered that is short of its reservation is owed it.
 */
struct vs_reserve_scan {
	__s32 keeper; /* VS_VM_NONE or the owner keeping its core */
	__u32 nr_keeper;
	__s32 short_vm; /* VS_VM_NONE or the first VM short of its reservation */
	__u32 nr_short;
};

VS_RULE void vs_reserve_scan_init(struct vs_reserve_scan *r)
{
	*r = (struct vs_reserve_scan){.keeper = VS_VM_NONE, .short_vm = VS_VM_NONE};
}

/* Offer @vm with @queued vCPUs on its queue; @is_prev, its vCPU runs on here; @claim. */
VS_RULE void vs_reserve_scan_add(struct vs_reserve_scan *r, __s32 vm, __s32 queued, bool is_prev,
				 enum vs_reserve_claim claim)
{
	if (claim == VS_RES_HOLDS && queued + is_prev > 0) {
		r->keeper = vm;
		r->nr_keeper = queued > 0 ? queued : 0;
	} else if (claim == VS_RES_SHORT && queued > 0 && r->short_vm < 0) {
		r->short_vm = vm;
		r->nr_short = queued;
	}
}

#endif /* VS_RULES_RESERVE_H */
