/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM owed a core most, as a fold over the candidates (pick_owed_vm):
 * the caller offers each VM of the enclave that has vCPUs to run and is
 * under its cap; the scan keeps the lowest vtime, the lowest vtime among VMs
 * with two vCPUs to run (vs_owed_pick's pair), the lowest among VMs short of
 * their reservation, the core's owner if it holds no more than it reserves
 * (vs_reserve_claim) and the VM starved longest. A starved VM comes first
 * (the guard must hold even if reservations overcommit the enclave), then
 * the owner keeping its reserved core, then a VM short of its reservation;
 * else vs_owed_pick decides.
 */
#ifndef VS_RULES_OWED_SCAN_H
#define VS_RULES_OWED_SCAN_H

#include "core.h"
#include "owed_pick.h"
#include "reserve.h"

/*
 * A VM that has waited this long (vs_waiting_since: queued vCPUs and no
 * start) is owed a core before any vtime: a tiny weight against a big one
 * may make it wait for longer than the kernel's watchdog (30 s), which would
 * take the scheduler down. Well above ordinary waits (up to ~1.5 s in the
 * TCG test VM, where a 1 s guard skewed weights 1:2:4 by 40%).
 */
#define VS_STARVED_NS 5000000000ULL

/*
 * What a VM's queued_since becomes when a vCPU of it is queued at @now: the
 * first queueing since its last run (@last_run_ns) is kept, an older one is
 * replaced.
 */
VS_RULE __u64 vs_queued_stamp(__u64 queued_since, __u64 last_run_ns, __u64 now)
{
	return queued_since > last_run_ns ? queued_since : now;
}

/*
 * Since when a VM with queued vCPUs has waited for a start: its last run, or
 * its first queueing since then if later (a VM that never ran, or that comes
 * back from idle, waits from its queueing, not from its last run).
 */
VS_RULE __u64 vs_waiting_since(__u64 last_run_ns, __u64 queued_since)
{
	return queued_since > last_run_ns ? queued_since : last_run_ns;
}

struct vs_owed_scan {
	struct vs_owed best, pair, reserved;
	__u32 nr_best, nr_pair, nr_reserved; /* their queued vCPUs */
	__s32 keeper; /* the core's owner holding its reservation, with work */
	__u32 nr_keeper;
	__s32 starved; /* the VM waiting longest, past VS_STARVED_NS */
	__u32 nr_starved;
	__u64 oldest; /* since when it waits */
};

struct vs_owed_choice {
	__s32 vm;	 /* VS_VM_NONE: nobody is owed a core */
	__u32 nr_queued; /* its queued vCPUs */
	bool starved;	 /* chosen because it starved */
	bool reserved;	 /* chosen for its reservation (keeps the core, or is short) */
	bool for_pair;	 /* chosen over the VM owed most, for its two vCPUs */
};

VS_RULE void vs_owed_scan_init(struct vs_owed_scan *s)
{
	*s = (struct vs_owed_scan){
	    .best = {VS_VM_NONE, (__u64)-1},
	    .pair = {VS_VM_NONE, (__u64)-1},
	    .reserved = {VS_VM_NONE, (__u64)-1},
	    .starved = VS_VM_NONE,
	    .keeper = VS_VM_NONE,
	    .oldest = (__u64)-1,
	};
}

/*
 * Offer @vm: @queued vCPUs wait on its queue; @is_prev: its vCPU leaving
 * this CPU is still runnable (one more to run); @vtime, @last_run_ns (0:
 * never ran) and @queued_since (vs_queued_stamp; 0: never queued) from its
 * vm_state; @now the clock; @claim: vs_reserve_claim.
 */
VS_RULE void vs_owed_scan_add(struct vs_owed_scan *s, __s32 vm, __s32 queued, bool is_prev,
			      __u64 vtime, __u64 last_run_ns, __u64 queued_since, __u64 now,
			      enum vs_reserve_claim claim)
{
	__u64 since = vs_waiting_since(last_run_ns, queued_since);
	__s32 runnable;

	if (queued < 0)
		queued = 0;
	if (queued > 0 && since && now > since + VS_STARVED_NS && since < s->oldest) {
		s->oldest = since;
		s->starved = vm;
		s->nr_starved = queued;
	}
	if (claim == VS_RES_HOLDS && queued + is_prev > 0) {
		s->keeper = vm;
		s->nr_keeper = queued;
	}
	if (claim == VS_RES_SHORT && queued > 0 && vtime < s->reserved.vtime) {
		s->reserved = (struct vs_owed){vm, vtime};
		s->nr_reserved = queued;
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

/* The choice once every candidate was offered; @pair_window as for vs_owed_pick. */
VS_RULE struct vs_owed_choice vs_owed_scan_choose(const struct vs_owed_scan *s, __u64 pair_window)
{
	struct vs_owed_choice c = {.vm = VS_VM_NONE};

	if (s->starved >= 0) {
		c.vm = s->starved;
		c.nr_queued = s->nr_starved;
		c.starved = true;
		return c;
	}
	if (s->keeper >= 0) {
		c.vm = s->keeper;
		c.nr_queued = s->nr_keeper;
		c.reserved = true;
		return c;
	}
	if (s->reserved.vm >= 0) {
		c.vm = s->reserved.vm;
		c.nr_queued = s->nr_reserved;
		c.reserved = true;
		return c;
	}
	c.vm = vs_owed_pick(&s->best, &s->pair, pair_window);
	c.for_pair = c.vm != s->best.vm;
	c.nr_queued = c.for_pair ? s->nr_pair : s->nr_best;
	return c;
}

#endif /* VS_RULES_OWED_SCAN_H */
