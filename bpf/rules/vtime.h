/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VM's vtime grows with the core time its vCPUs use (vs_core_ns), scaled
 * down by its weight (vs_vtime_charge; at each tick and ops.stopping); the VM
 * with the lowest vtime is owed a core most.
 *
 * The vtime floor (ops.enqueue): a VM coming back from idle does not bring
 * banked credit. The floor is the vtime of the VM granted a core last in the
 * enclave, which may lead the others by the pair window (vs_owed_pick), so a
 * VM may trail it by one core slice plus the pair window and no more.
 */
#ifndef VS_RULES_VTIME_H
#define VS_RULES_VTIME_H

#include "core.h"

/* The vtime @ran_ns of vCPU time costs a VM of @weight (VS_WEIGHT_SCALE: one core's share). */
VS_RULE __u64 vs_vtime_charge(__u64 ran_ns, __u32 weight)
{
	return ran_ns * VS_WEIGHT_SCALE / (weight ? weight : VS_WEIGHT_SCALE);
}

/*
 * The core time @ran_ns of one vCPU's run stands for. Pairing gives a core
 * to one VM, so a vCPU alone on its core holds all of it, and two vCPUs of a
 * VM on one core hold half each: a VM pays for the cores it holds, as the
 * share plan hands them out, not for the threads it fills. (Charged per
 * thread, a VM of one vCPU paid half as much for a core as a VM filling both
 * threads, and got up to twice its planned share from them.)
 */
VS_RULE __u64 vs_core_ns(__u64 ran_ns, bool sibling_runs_same_vm)
{
	return sibling_runs_same_vm ? ran_ns / 2 : ran_ns;
}

/* @vtime lifted to at most core_slice + pair_window behind @floor; never lowered. */
VS_RULE __u64 vs_vtime_lift(__u64 vtime, __u64 floor, __u64 core_slice, __u64 pair_window)
{
	__u64 lag = core_slice + pair_window;

	return vtime + lag < floor ? floor - lag : vtime;
}

#endif /* VS_RULES_VTIME_H */
