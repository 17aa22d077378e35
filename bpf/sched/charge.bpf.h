/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Charging a vCPU's run time to its counters and its VM's vtime
 * (bpf/rules/vtime.h). ops.stopping charges a vCPU that leaves its CPU; a
 * vCPU that runs on sees no ops.stopping (a slice refilled in dispatch keeps
 * it running, with neither ops.stopping nor ops.running), so ops.tick and the
 * refill charge it as it goes. Otherwise its VM's vtime lags, the VM stays the
 * one owed most and keeps its core until the starvation guard hands it over.
 *
 * The VM pays for core time (vs_core_ns): half the run while the sibling
 * thread runs a vCPU of the same VM, all of it otherwise, as the sibling is
 * found at the charge (each tick and stop; read without the core's lock). A
 * refill in dispatch charges what is left since the tick as unpaired: at
 * most a tick's worth, and no lookup in dispatch, which is near the
 * verifier's 1M-instruction limit.
 */

/* Does the sibling of @cpu run a vCPU of @vm? */
static bool sibling_runs_vm(s32 cpu, s32 vm)
{
	struct vs_core_state *core;
	u32 th = 0; /* core_of sets it only for an enclave CPU */

	core = core_of(cpu, &th);
	return core && core->running_vm[(th ^ 1) & 1] == vm;
}

static void charge_run(struct vs_task *t, struct vs_vcpu_stats *st, bool paired, u64 now)
{
	struct vs_vm_state *vs;
	u64 ran;

	if (!t->started_at || now <= t->started_at)
		return;
	ran = now - t->started_at;
	t->started_at = now;
	st->run_ns += ran;
	vs = vm_state_of(t->vm_id);
	if (!vs)
		return;
	__sync_fetch_and_add(&vs->run_ns, ran);
	__sync_fetch_and_add(&vs->vtime,
			     vs_vtime_charge(vs_core_ns(ran, paired), vm_weight(t->vm_id)));
	vs_hint_window_roll(vs, now);
	__sync_fetch_and_add(&vs->hint_win_run_ns, ran);
}

/* The same for the vCPU task @p if it is one (not escaped); @paired as for vs_core_ns. */
static void charge_running_task(struct task_struct *p, u64 now, bool paired)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vcpu_stats *st;

	if (t && !t->escaped && (st = stats_of(t)))
		charge_run(t, st, paired, now);
}
