/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VM waits for the sibling thread of the core it was last given rather
 * than take a second core (pick_owed_vm's candidates).
 *
 * The dispatch that gives a VM with two vCPUs queued a core starts one and
 * asks the sweep to start the other on the sibling thread. Until the sweep
 * runs, the VM still has a vCPU queued, and a dispatch on another core would
 * give it that core too: two cores, each running one of its vCPUs beside a
 * forced-idle thread (the simulator's split_grants). In the simulator this
 * split was 5 points of the 4x mix's 22.8% forced idle.
 */
#ifndef VS_RULES_SIBLING_WAIT_H
#define VS_RULES_SIBLING_WAIT_H

#include "core.h"

/*
 * How long a VM's longest-waiting vCPU may wait on the sibling before the VM
 * is a candidate again: a vCPU whose affinity keeps it off that thread must
 * not wait on it for long. Well above a sweep's delay, even in a TCG test VM.
 */
#define VS_SIBLING_WAIT_NS (20ULL * 1000 * 1000)

/* Enough queued vCPUs to fill the open sibling and a whole new core. */
#define VS_SIBLING_WAIT_FILLS 3

/*
 * May a VM's offer for a core be held back at all? @own: the core is the
 * VM's, or its vCPU leaving this CPU is still runnable; @queued: its queued
 * vCPUs. Cheap: the caller reads the VM's last core only if it may.
 */
VS_RULE bool vs_sibling_wait_applies(bool own, __s32 queued)
{
	return !own && queued > 0 && queued < VS_SIBLING_WAIT_FILLS;
}

/*
 * Is an offer it applies to held back? @last_core_open: the core the VM was
 * last given is still its and has a thread with nothing on it;
 * @waiting_since: vm_state.waiting_since.
 */
VS_RULE bool vs_waits_for_sibling(bool last_core_open, __u64 waiting_since, __u64 now)
{
	return last_core_open && waiting_since && now < waiting_since + VS_SIBLING_WAIT_NS;
}

#endif /* VS_RULES_SIBLING_WAIT_H */
