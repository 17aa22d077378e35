/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where each enclave CPU's time goes, as pure functions shared by the BPF
 * scheduler and the unit tests. A CPU is in one stretch at a time (a vCPU, a
 * host task, true idle, forced idle, host idle; enum vs_cpu_time); a stretch
 * is charged to its counter in vs_cpu_stats when the next one begins, so the
 * five counters add up to the CPU's time. All events of a CPU happen under
 * its runqueue lock (ops on its tasks, its dispatch, its sched_switch), so a
 * CPU's stretch needs no lock of its own.
 *
 * Dispatch decides why the CPU will idle before the switch to idle happens:
 * that decision waits in `pending` until the switch, and is dropped if a task
 * runs instead; a dispatch on a CPU already idle relabels the idle at once.
 */
#ifndef VS_RULES_CPU_TIME_H
#define VS_RULES_CPU_TIME_H

#include "../vmm_sched_abi.h"

/* The idle reason dispatch chose for the idle that follows (not yet begun). */
struct vs_idle_pending {
	__u32 kind; /* VS_TIME_FORCED_IDLE, VS_TIME_HOST_IDLE, or VS_TIME_NONE */
	__s32 owner;
};

/* A stretch that ended: what it was and how long it lasted. */
struct vs_stretch {
	__u64 len;
	__u32 kind;
	__s32 owner;
};

static inline int vs_time_is_idle(__u32 kind)
{
	return kind == VS_TIME_IDLE || kind == VS_TIME_FORCED_IDLE || kind == VS_TIME_HOST_IDLE;
}

/* Ends the current stretch at now and charges it; returns it (len 0 if none). */
static inline struct vs_stretch vs_stretch_end(struct vs_cpu_stats *cs, __u64 now)
{
	struct vs_stretch e = {.kind = cs->stretch_kind, .owner = cs->stretch_owner};

	if (!cs->stretch_since)
		return e;
	e.len = now > cs->stretch_since ? now - cs->stretch_since : 0;
	switch (e.kind) {
	case VS_TIME_VCPU:
		cs->vcpu_ns += e.len;
		break;
	case VS_TIME_HOST:
		cs->host_ns += e.len;
		break;
	case VS_TIME_IDLE:
		cs->idle_ns += e.len;
		break;
	case VS_TIME_FORCED_IDLE:
		cs->forced_idle_ns += e.len;
		break;
	case VS_TIME_HOST_IDLE:
		cs->host_idle_ns += e.len;
		break;
	}
	cs->stretch_since = 0;
	cs->stretch_kind = VS_TIME_NONE;
	return e;
}

static inline struct vs_stretch vs_stretch_begin(struct vs_cpu_stats *cs, __u64 now, __u32 kind,
						 __s32 owner)
{
	struct vs_stretch e = vs_stretch_end(cs, now);

	cs->stretch_since = now ? now : 1;
	cs->stretch_kind = kind;
	cs->stretch_owner = owner;
	return e;
}

/* ops.running: a vCPU starts on the CPU. */
static inline struct vs_stretch vs_time_vcpu_runs(struct vs_cpu_stats *cs,
						  struct vs_idle_pending *p, __u64 now)
{
	p->kind = VS_TIME_NONE;
	return vs_stretch_begin(cs, now, VS_TIME_VCPU, VS_VM_NONE);
}

/* ops.stopping: the vCPU leaves the CPU (what follows begins at the switch). */
static inline struct vs_stretch vs_time_vcpu_stops(struct vs_cpu_stats *cs, __u64 now)
{
	struct vs_stretch none = {.kind = VS_TIME_NONE};

	return cs->stretch_kind == VS_TIME_VCPU ? vs_stretch_end(cs, now) : none;
}

/* sched_switch to a task that is not the vCPU ops.running just started. */
static inline struct vs_stretch vs_time_switch(struct vs_cpu_stats *cs, struct vs_idle_pending *p,
					       __u64 now, int to_idle)
{
	__u32 kind = VS_TIME_HOST;
	__s32 owner = VS_VM_NONE;

	if (to_idle) {
		kind = p->kind != VS_TIME_NONE ? p->kind : VS_TIME_IDLE;
		owner = p->owner;
	}
	p->kind = VS_TIME_NONE;
	return vs_stretch_begin(cs, now, kind, owner);
}

/* ops.dispatch starts deciding: an idle CPU is plainly idle until it decides otherwise. */
static inline struct vs_stretch vs_time_dispatch(struct vs_cpu_stats *cs, struct vs_idle_pending *p,
						 __u64 now)
{
	struct vs_stretch none = {.kind = VS_TIME_NONE};

	p->kind = VS_TIME_NONE;
	if (!vs_time_is_idle(cs->stretch_kind) || cs->stretch_kind == VS_TIME_IDLE)
		return none;
	return vs_stretch_begin(cs, now, VS_TIME_IDLE, VS_VM_NONE);
}

/* ops.dispatch decided the CPU idles for kind (forced or host idle), the core owned by owner. */
static inline struct vs_stretch vs_time_idle_for(struct vs_cpu_stats *cs, struct vs_idle_pending *p,
						 __u64 now, __u32 kind, __s32 owner)
{
	struct vs_stretch none = {.kind = VS_TIME_NONE};

	if (!vs_time_is_idle(cs->stretch_kind)) {
		p->kind = kind;
		p->owner = owner;
		return none;
	}
	return vs_stretch_begin(cs, now, kind, owner);
}

#endif
