/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host tasks beside vCPUs. In strict pairing a thread starts no vCPU while
 * its sibling runs a host task (vs_host_blocks, core.h); these rules decide
 * what a switch on a thread does to its sibling (the sched_switch hook) and
 * where a vCPU preempted by a host task may run again (ops.stopping).
 */
#ifndef VS_RULES_HOST_BLOCK_H
#define VS_RULES_HOST_BLOCK_H

#include "core.h"

struct vs_switch_effect {
	bool sweep;	    /* the sibling may run vCPUs now: run the placement sweep */
	bool evict_sibling; /* a host task starts beside the sibling's vCPU: kick it off */
};

/*
 * A thread switches to a host task (@to_host) or to idle, away from a host
 * task (@was_host) or a vCPU of @was_vm (VS_VM_NONE if none); the sibling
 * runs a vCPU of @sib_running (VS_VM_NONE if none). @strict: the core pairs
 * strictly.
 */
VS_RULE struct vs_switch_effect vs_switch_effect(bool to_host, bool was_host, __s32 was_vm,
						 __u32 strict, __s32 sib_running)
{
	struct vs_switch_effect e;

	e.sweep = !to_host && (was_host || was_vm != VS_VM_NONE) && sib_running == VS_VM_NONE;
	e.evict_sibling = to_host && strict && sib_running != VS_VM_NONE;
	return e;
}

enum vs_preempted {
	/* strict: requeue through ops.enqueue, the thread marked as running a host task */
	VS_PREEMPTED_REQUEUE_HOST,
	/* the core left the vCPU's enclave or VM: requeue through ops.enqueue */
	VS_PREEMPTED_REQUEUE,
	/* relaxed: it keeps a claim on the thread and starts there again */
	VS_PREEMPTED_HOLD,
};

/*
 * A vCPU of @vm (of @enclave) preempted with slice left would start again on
 * this thread, without any check, once the host task leaves. In relaxed mode
 * it may while the core is still its VM's: its claim then keeps the core so
 * (no handover or take while claims are held). Decided under the core's lock:
 * a core taken by another VM (a VS_TXN_F_TAKE_CORE commit, which changes the
 * owner while this vCPU still runs) must not be held, or it would start
 * beside the taker's vCPUs. In strict mode the sibling may run a host task by
 * then, so it goes back through enqueue.
 */
VS_RULE enum vs_preempted vs_preempted_hold(const struct vs_core_view *c, __s32 vm, __u32 enclave)
{
	if (c->strict)
		return VS_PREEMPTED_REQUEUE_HOST;
	if (!vs_view_open_to(c, enclave) || c->owner != vm)
		return VS_PREEMPTED_REQUEUE;
	return VS_PREEMPTED_HOLD;
}

#endif /* VS_RULES_HOST_BLOCK_H */
