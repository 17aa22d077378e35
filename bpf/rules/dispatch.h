/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a hardware thread runs next (ops.dispatch), decided on its core's view
 * under the core's lock. The owner keeps the core while it has runnable
 * vCPUs and its turn (core_slice) lasts or it is still the most owed VM;
 * otherwise the core goes to the most owed VM once the sibling no longer runs
 * the old owner (until then the owner drains and this thread idles, counted
 * as forced idle). An owner over its cap gives the core up.
 */
#ifndef VS_RULES_DISPATCH_H
#define VS_RULES_DISPATCH_H

#include "core.h"

enum vs_dispatch_decision {
	VS_DISPATCH_NONE,	 /* nothing to run: the CPU idles plainly */
	VS_DISPATCH_RUN,	 /* move a vCPU of target here (one claim taken) */
	VS_DISPATCH_KEEP_PREV,	 /* refill prev's slice: it keeps running */
	VS_DISPATCH_WAIT_CLAIM,	 /* a vCPU committed here is on its way */
	VS_DISPATCH_FORCED_IDLE, /* idle for pairing: the core is changing hands */
	VS_DISPATCH_HOST_IDLE,	 /* idle beside a host task (strict pairing) */
};

/* What dispatch gathered before taking the lock. */
struct vs_dispatch_in {
	__u32 th;	     /* this thread's index in the core */
	__u32 enclave;	     /* this CPU's enclave */
	__s32 owner_seen;    /* the owner as read before the lock */
	__s32 owner_queued;  /* owner_seen's queued vCPUs */
	bool owner_has_work; /* owner_seen has queued vCPUs here or is prev's VM */
	bool owner_over_cap; /* owner_seen owns more cores than its cap */
	__s32 best;	     /* the VM owed a core most (pick_owed_vm), or VS_VM_NONE */
	__u32 nr_best;	     /* its queued vCPUs */
	__s32 prev_vm;	     /* VM of the vCPU leaving this CPU still runnable, or VS_VM_NONE */
	bool prev_goes_home; /* prev runs off its home node while a home core is free */
	__u64 now;
	__u64 core_slice; /* how long an owner keeps the core while others are owed */
};

/* The decision and what to write to the core before unlocking it. */
struct vs_dispatch_out {
	enum vs_dispatch_decision decision;
	__s32 target;	     /* VS_DISPATCH_RUN/KEEP_PREV: the VM whose vCPU runs */
	bool set_owner;	     /* hand the core to new_owner (ends a drain) */
	__s32 new_owner;     /* best, or VS_VM_NONE when an over-cap owner frees it */
	bool granted;	     /* set_owner is a grant to best (counted as an owner change) */
	bool start_drain;    /* the owner must hand over once the sibling is off */
	bool clear_draining; /* the owner is owed most again: its drain is off */
	bool claim;	     /* take a claim on this thread (VS_DISPATCH_RUN) */
	bool wake_sibling;   /* the sibling is empty: the sweep may fill it */
	bool kick_sibling;   /* the sibling's vCPU holds up a handover: make it leave */
	__s32 owner_after;   /* the core's owner once applied */
};

VS_RULE void vs_dispatch_decide(const struct vs_core_view *c, const struct vs_dispatch_in *in,
				struct vs_dispatch_out *out)
{
	__u32 th = in->th, sib = (in->th ^ 1) & 1;
	__s32 owner = c->owner, target = VS_VM_NONE;
	__s32 owner_queued = c->owner != in->owner_seen ? 1 : in->owner_queued;
	__u32 draining = c->draining;

	*out = (struct vs_dispatch_out){.decision = VS_DISPATCH_NONE, .target = VS_VM_NONE};
	if (!vs_view_open_to(c, in->enclave)) {
		out->decision = VS_DISPATCH_NONE; /* leaving its enclave: no vCPU */
	} else if (vs_view_host_blocks(c, th)) {
		out->decision = VS_DISPATCH_HOST_IDLE;
	} else if (c->claims[th & 1]) {
		out->decision = VS_DISPATCH_WAIT_CLAIM;
	} else if (owner >= 0 && in->owner_has_work && !in->owner_over_cap &&
		   (owner == in->best ||
		    (!c->draining && in->now - c->owner_since < in->core_slice))) {
		target = owner;
		if (owner == in->best) {
			out->clear_draining = true;
			draining = 0;
		}
	} else if (in->best >= 0 && vs_view_handover_ok(c, th, in->best)) {
		out->set_owner = out->granted = true;
		out->new_owner = in->best;
		owner = in->best;
		draining = 0;
		target = in->best;
	} else if (in->best >= 0) {
		/* The sibling still runs the owner: hand over once it stops. */
		out->start_drain = true;
		draining = 1;
		out->decision = VS_DISPATCH_FORCED_IDLE;
	} else if (in->owner_over_cap) {
		/* Nobody else wants it: free the core once the sibling is off it. */
		if (vs_view_handover_ok(c, th, VS_VM_NONE)) {
			out->set_owner = true;
			out->new_owner = VS_VM_NONE;
			owner = VS_VM_NONE;
			draining = 0;
		} else {
			out->start_drain = true;
			draining = 1;
		}
	}
	if (target >= 0) {
		if (vs_view_sibling_runs_other(c, th, target)) {
			/* The sibling is still switching away from the previous owner. */
			out->decision = VS_DISPATCH_FORCED_IDLE;
		} else if (target == in->prev_vm &&
			   !(target == in->best ? in->nr_best : (__u32)owner_queued)) {
			/* Not kept: through enqueue (or the sweep) it goes to a home core. */
			out->decision =
			    in->prev_goes_home ? VS_DISPATCH_NONE : VS_DISPATCH_KEEP_PREV;
		} else {
			out->decision = VS_DISPATCH_RUN;
			out->claim = true;
		}
		out->wake_sibling = out->decision != VS_DISPATCH_FORCED_IDLE &&
				    vs_view_thread_empty(c, sib) && c->cpu[sib] >= 0;
	}
	out->target = target;
	out->kick_sibling = draining && c->running_vm[sib] != VS_VM_NONE;
	out->owner_after = owner;
}

#endif /* VS_RULES_DISPATCH_H */
