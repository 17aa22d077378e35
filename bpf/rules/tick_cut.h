/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Why a running vCPU's slice ends at this tick (ops.tick), decided on its
 * core's view read without the lock (a tick is a late check; claims and
 * running_vm keep pairing safe). A pairing cut is never delayed; a handover
 * or an expired slice may be, by a guest hint (vs_hint_may_extend).
 */
#ifndef VS_RULES_TICK_CUT_H
#define VS_RULES_TICK_CUT_H

#include "core.h"
#include "hints.h"

/*
 * @th: the vCPU's thread in the core; @vm, @enclave: its VM and the VM's
 * enclave; @slice_left: its slice has not run out.
 */
VS_RULE enum vs_cut vs_tick_cut(const struct vs_core_view *c, __u32 th, __s32 vm, __u32 enclave,
				bool slice_left)
{
	if (vs_view_host_blocks(c, th) || c->owner != vm || vs_view_sibling_runs_other(c, th, vm) ||
	    !vs_view_open_to(c, enclave))
		return VS_CUT_PAIRING;
	if (c->draining)
		return VS_CUT_HANDOVER;
	if (!slice_left)
		return VS_CUT_EXPIRED;
	return VS_CUT_NONE;
}

#endif /* VS_RULES_TICK_CUT_H */
