/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the scheduler does with a guest's hints (docs/guest-abi.md), as pure
 * functions shared with the unit tests (tests/unit/test_hint_rules.c).
 *
 * Hints only move time within a VM; the VM pays for its core time in vtime
 * as always. A slice extension lets a vCPU in a critical section run past the
 * end of its slice, once per run, while the VM's extension time in the current
 * 1 s window stays under budget_pct of its vCPU time (this window's or the
 * last's, whichever is larger). A guest lying about critical sections thus
 * delays other VMs by at most that much, and is charged for it.
 */
#ifndef VS_RULES_HINTS_H
#define VS_RULES_HINTS_H

#ifndef __VMLINUX_H__
#include <stdbool.h>
#endif

#include "../vmm_sched_abi.h"

#define VS_HINT_WINDOW_NS	 1000000000ULL
#define VS_CS_EXT_DEFAULT_NS	 50000ULL /* --cs-extension-us */
#define VS_CS_BUDGET_DEFAULT_PCT 3	  /* --cs-budget-pct */

/* Why a running vCPU's slice would end now (vs_tick), weakest last. */
enum vs_cut {
	VS_CUT_NONE,	 /* it keeps running */
	VS_CUT_PAIRING,	 /* a host task or another VM beside it: never delayed */
	VS_CUT_HANDOVER, /* its core goes to a VM owed more */
	VS_CUT_EXPIRED,	 /* its slice ran out */
};

/* The 1 s window as of @now: a new window keeps the last one's vCPU time as the base. */
static inline void vs_hint_window_roll(struct vs_vm_state *vs, __u64 now)
{
	if (now - vs->hint_win_start < VS_HINT_WINDOW_NS)
		return;
	/* A window with no time of its own passes on nothing. */
	vs->hint_prev_run_ns =
	    now - vs->hint_win_start < 2 * VS_HINT_WINDOW_NS ? vs->hint_win_run_ns : 0;
	vs->hint_win_start = now;
	vs->hint_win_run_ns = 0;
	vs->hint_win_ext_ns = 0;
}

/*
 * May a vCPU whose slice would end for @cut run @ext_ns longer? @hint: its
 * VS_HINT_* flags; @extended: it already got its extension this run.
 * @win_ext_ns, @win_run_ns, @prev_run_ns: its VM's budget window.
 */
static inline bool vs_hint_may_extend(__u32 hint, enum vs_cut cut, bool extended, __u64 ext_ns,
				      __u64 win_ext_ns, __u64 win_run_ns, __u64 prev_run_ns,
				      __u32 budget_pct)
{
	__u64 base = win_run_ns > prev_run_ns ? win_run_ns : prev_run_ns;

	if (!(hint & VS_HINT_CS) || extended || !ext_ns)
		return false;
	if (cut != VS_CUT_HANDOVER && cut != VS_CUT_EXPIRED)
		return false;
	if (budget_pct > 100 || base > (~0ULL >> 8)) /* keeps base * pct from overflowing */
		return false;
	__u64 budget = base * budget_pct / 100;

	return ext_ns <= budget && win_ext_ns <= budget - ext_ns;
}

/*
 * Should a running vCPU make way for another vCPU of its own VM? Yes if the
 * guest says it is idle and the VM has vCPUs waiting: the core stays the
 * VM's, the time goes to a vCPU with work.
 */
static inline bool vs_hint_hand_on(__u32 hint, __s32 vm_queued)
{
	return (hint & VS_HINT_IDLE) && vm_queued > 0;
}

/*
 * Is a vCPU entering its VM's queue with @hint guest-idle work to put off?
 * Only when it comes back still runnable (its slice ended, it was preempted):
 * a vCPU woken from HLT has an interrupt to handle, and its idle hint is the
 * one it went to sleep with.
 */
static inline bool vs_hint_idle_defers(__u32 hint, bool wakeup)
{
	return (hint & VS_HINT_IDLE) && !wakeup;
}

/*
 * May a vCPU entering its VM's queue take a free core? Not one that is idle
 * in the guest (@defers): it runs on cores its VM holds already, or waits to
 * be granted one like any other; a free core stays for a VM with work.
 */
static inline bool vs_hint_may_take_core(bool may_take_core, bool defers)
{
	return may_take_core && !defers;
}

/*
 * Which waiting vCPU of a VM runs next: the first in its queue, unless that
 * one was put off as guest-idle (vs_hint_idle_defers) and a vCPU with work
 * waits behind it. Fed the queue in order until it says it is done; the VM's
 * share is untouched, only the order within the VM changes.
 */
struct vs_idle_pick {
	bool seen;   /* a vCPU was looked at (a flag: a count would stop the verifier pruning) */
	__u32 tid;   /* the one to run: 0 for the queue's first */
	bool passed; /* a guest-idle vCPU was passed over for it */
};

/*
 * Does a CPU about to take one of its VM's @vm_queued waiting vCPUs look past
 * guest-idle ones (vs_idle_pick)? Dispatch and the placement sweep alike, so a
 * free thread the sweep fills runs work first: only when more than one waits.
 */
static inline bool vs_idle_pick_worth(__s32 vm_queued)
{
	return vm_queued > 1;
}

/*
 * Is a vCPU queued guest-idle (@queued_idle) still put off after @passes picks
 * went past it? Its hint cannot change while it does not run (the guest writes
 * it from that vCPU), and an interrupt for it does not queue it again: without
 * a bound a VM whose other vCPUs always have work would never run it.
 */
#define VS_IDLE_MAX_PASSES 8

static inline bool vs_idle_still_defers(bool queued_idle, __u8 passes)
{
	return queued_idle && passes < VS_IDLE_MAX_PASSES;
}

/* Looks at the next queued vCPU (@tid, put off as idle: @deferred); true when done. */
static inline bool vs_idle_pick_add(struct vs_idle_pick *ip, __u32 tid, bool deferred)
{
	bool first = !ip->seen;

	ip->seen = true;
	if (deferred)
		return false;
	if (!first) {
		ip->tid = tid;
		ip->passed = true;
	}
	return true;
}

/*
 * Directed yield (ops.yield, KVM's yield_to on a pause-loop exit or a PV
 * spinlock kick): run @to next on the yielding CPU if it is a vCPU of the
 * same VM waiting for a CPU. Another VM's vCPU would break pairing and share;
 * a running or blocked one cannot be helped here.
 */
static inline bool vs_yield_directed(bool from_vcpu, __s32 from_vm, bool to_vcpu, __s32 to_vm,
				     bool to_queued, bool to_running)
{
	return from_vcpu && to_vcpu && from_vm >= 0 && from_vm == to_vm && to_queued && !to_running;
}

#endif /* VS_RULES_HINTS_H */
