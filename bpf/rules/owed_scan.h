/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM owed a core most, as a fold over the candidates (pick_owed_vm):
 * the caller offers each VM of the enclave that has vCPUs to run and is
 * under its cap; the scan keeps the lowest vtime, the lowest vtime among VMs
 * with two vCPUs to run (vs_owed_pick's pair) and the VM starved longest.
 * A starved VM comes first (the guard must hold even if reservations
 * overcommit the enclave), then what the reservations claim
 * (vs_reserve_scan, a separate fold); else vs_owed_pick decides.
 */
#ifndef VS_RULES_OWED_SCAN_H
#define VS_RULES_OWED_SCAN_H

#include "core.h"
#include "owed_pick.h"
#include "reserve.h"

/*
 * A VM whose longest-waiting queued vCPU has waited this long
 * (vm_state.waiting_since) is owed a core before any vtime: a tiny weight
 * against a big one may make a vCPU wait for longer than the kernel's
 * watchdog (30 s), which would take the scheduler down. Well above ordinary
 * waits (up to ~1.5 s in the TCG test VM, where a 1 s guard skewed weights
 * 1:2:4 by 40%).
 */
#define VS_STARVED_NS 5000000000ULL

/*
 * vm_state.waiting_since: since when the VM's longest-waiting queued vCPU
 * waits. A vCPU queued at @now while none of the VM's is (@others_queued 0)
 * starts it at @now; one queued behind others keeps it. So a VM that never
 * ran, or that comes back from a long sleep, waits from its queueing, not
 * from its last run.
 */
VS_RULE __u64 vs_queued_stamp(__u64 waiting_since, __s32 others_queued, __u64 now)
{
	return others_queued > 0 && waiting_since ? waiting_since : now;
}

/*
 * The same when one of its vCPUs starts at @now, with @others_queued still
 * queued: the stamp becomes the wait start of the vCPU now at the head of
 * the VM's queue (@head_since; the queue is FIFO, so the head waits
 * longest), kept if that is not known. A start must not restart the clock
 * of the others: with one vCPU per turn, the last of many would wait past
 * the watchdog while its VM never looked starved.
 */
VS_RULE __u64 vs_run_stamp(__u64 waiting_since, __u64 head_since, __s32 others_queued, __u64 now)
{
	if (others_queued <= 0)
		return now;
	if (head_since && head_since <= now)
		return head_since;
	return waiting_since ? waiting_since : now;
}

struct vs_owed_scan {
	struct vs_owed best, pair;
	__u32 nr_best, nr_pair; /* their queued vCPUs */
	__s32 starved;		/* the VM waiting longest, past VS_STARVED_NS */
	__u32 nr_starved;
	__u64 oldest; /* since when it waits */
};

struct vs_owed_choice {
	__s32 vm;	 /* VS_VM_NONE: nobody is owed a core */
	__u32 nr_queued; /* its queued vCPUs */
	bool starved;	 /* chosen because it starved */
	bool reserved;	 /* chosen for its reservation (vs_reserve_scan) */
	bool for_pair;	 /* chosen over the VM owed most, for its two vCPUs */
};

VS_RULE void vs_owed_scan_init(struct vs_owed_scan *s)
{
	*s = (struct vs_owed_scan){
	    .best = {VS_VM_NONE, (__u64)-1},
	    .pair = {VS_VM_NONE, (__u64)-1},
	    .starved = VS_VM_NONE,
	    .oldest = (__u64)-1,
	};
}

/*
 * Offer @vm: @queued vCPUs wait on its queue; @is_prev: its vCPU leaving
 * this CPU is still runnable (one more to run); @vtime and @waiting_since
 * (0: never queued nor run) from its vm_state; @now the clock.
 */
VS_RULE void vs_owed_scan_add(struct vs_owed_scan *s, __s32 vm, __s32 queued, bool is_prev,
			      __u64 vtime, __u64 waiting_since, __u64 now)
{
	__s32 runnable;

	if (queued < 0)
		queued = 0;
	if (queued > 0 && waiting_since && now > waiting_since + VS_STARVED_NS &&
	    waiting_since < s->oldest) {
		s->oldest = waiting_since;
		s->starved = vm;
		s->nr_starved = queued;
	}
	if (vtime < s->best.vtime) {
		s->best = (struct vs_owed){vm, vtime};
		s->nr_best = queued;
	}
	runnable = queued + is_prev;
	if (runnable >= 2 && vtime < s->pair.vtime) {
		s->pair = (struct vs_owed){vm, vtime};
		s->nr_pair = queued;
	}
}

/*
 * The choice once every candidate was offered: a starved VM, then what the
 * reservations claim (@r, from vs_reserve_scan_add), then vs_owed_pick with
 * @pair_window.
 */
VS_RULE struct vs_owed_choice vs_owed_scan_choose(const struct vs_owed_scan *s,
						  const struct vs_reserve_scan *r,
						  __u64 pair_window)
{
	struct vs_owed_choice c = {.vm = VS_VM_NONE};

	if (s->starved >= 0) {
		c.vm = s->starved;
		c.nr_queued = s->nr_starved;
		c.starved = true;
		return c;
	}
	if (r->keeper >= 0 || r->short_vm >= 0) {
		c.vm = r->keeper >= 0 ? r->keeper : r->short_vm;
		c.nr_queued = r->keeper >= 0 ? r->nr_keeper : r->nr_short;
		c.reserved = true;
		return c;
	}
	c.vm = vs_owed_pick(&s->best, &s->pair, pair_window);
	c.for_pair = c.vm != s->best.vm;
	c.nr_queued = c.for_pair ? s->nr_pair : s->nr_best;
	return c;
}

#endif /* VS_RULES_OWED_SCAN_H */
