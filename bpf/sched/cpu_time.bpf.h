/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where each enclave CPU's time goes: the map side of bpf/rules/cpu_time.h.
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

/* A forced-idle stretch that ended is charged to the VM that owned the core. */
static __always_inline void charge_forced_idle(struct vs_stretch e)
{
	struct vs_vm_state *vs;

	if (e.kind == VS_TIME_FORCED_IDLE && e.len && (vs = vm_state_of(e.owner)))
		__sync_fetch_and_add(&vs->forced_idle_ns, e.len);
}

static struct vs_idle_pending *idle_pending_of(s32 cpu)
{
	u32 key = cpu;

	return bpf_map_lookup_elem(&cpu_idle, &key);
}

/* Dispatch starts deciding: the CPU's idle, if any, is no longer forced. */
static void end_idle_window(s32 cpu, u64 now)
{
	struct vs_cpu_stats *cs = cpu_stats_of(cpu);
	struct vs_idle_pending *p = idle_pending_of(cpu);

	if (cs && p)
		charge_forced_idle(vs_time_dispatch(cs, p, now));
}

/* Dispatch decided that the CPU idles for reason: now if idle, else from its switch to idle. */
static void start_idle_window(s32 cpu, u64 now, u32 reason, s32 owner)
{
	struct vs_cpu_stats *cs = cpu_stats_of(cpu);
	struct vs_idle_pending *p = idle_pending_of(cpu);

	if (cs && p)
		charge_forced_idle(vs_time_idle_for(cs, p, now, reason, owner));
}

/* A vCPU starts on the CPU (ops.running). */
static void cpu_time_vcpu_runs(s32 cpu, u64 now)
{
	struct vs_cpu_stats *cs = cpu_stats_of(cpu);
	struct vs_idle_pending *p = idle_pending_of(cpu);

	if (cs && p)
		charge_forced_idle(vs_time_vcpu_runs(cs, p, now));
}

/* The CPU switches to a host task or to idle (sched_switch). */
static void cpu_time_switch(s32 cpu, bool to_idle)
{
	struct vs_cpu_stats *cs = cpu_stats_of(cpu);
	struct vs_idle_pending *p = idle_pending_of(cpu);

	if (cs && p)
		charge_forced_idle(vs_time_switch(cs, p, bpf_ktime_get_ns(), to_idle));
}

static bool cpu_in_forced_idle(s32 cpu)
{
	struct vs_cpu_stats *cs = cpu_stats_of(cpu);
	struct vs_idle_pending *p = idle_pending_of(cpu);

	return (cs && cs->stretch_kind == VS_TIME_FORCED_IDLE) ||
	       (p && p->kind == VS_TIME_FORCED_IDLE);
}
