/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Charging a vCPU's run time to its counters and its VM's vtime
 * (bpf/rules/vtime.h). ops.stopping charges a vCPU that leaves its CPU; a
 * vCPU that runs on sees no ops.stopping (a slice refilled in dispatch keeps
 * it running, with neither ops.stopping nor ops.running), so ops.tick and the
 * refill charge it as it goes. Otherwise its VM's vtime lags, the VM stays the
 * one owed most and keeps its core until the starvation guard hands it over.
 */

static void charge_run(struct vs_task *t, struct vs_vcpu_stats *st, u64 now)
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
	__sync_fetch_and_add(&vs->vtime, vs_vtime_charge(ran, vm_weight(t->vm_id)));
	vs_hint_window_roll(vs, now);
	__sync_fetch_and_add(&vs->hint_win_run_ns, ran);
}

/* The same for the vCPU task @p if it is one (not escaped). */
static void charge_running_task(struct task_struct *p, u64 now)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vcpu_stats *st;

	if (t && !t->escaped && (st = stats_of(t)))
		charge_run(t, st, now);
}
