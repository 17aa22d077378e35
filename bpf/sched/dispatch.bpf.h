/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ops.dispatch: what a hardware thread runs next.
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

static bool vcpu_waiting(s32 vm, u32 tid);

/*
 * The vCPU a yield_to() on @cpu asked for (vs_yield), taken once: its tid in
 * the low 32 bits and its VM above, or 0 if none or no longer waiting.
 * Global, so the verifier checks it apart from dispatch.
 */
__noinline u64 take_directed_yield(s32 cpu)
{
	struct vs_vcpu_id *id;
	u32 tid;

	if (cpu < 0 || cpu >= VS_MAX_CPUS)
		return 0;
	tid = directed_tid[cpu & (VS_MAX_CPUS - 1)];
	if (!tid)
		return 0;
	directed_tid[cpu & (VS_MAX_CPUS - 1)] = 0;
	id = bpf_map_lookup_elem(&vcpu_map, &tid);
	if (!id || id->vm_id >= VS_MAX_VMS || !vcpu_waiting(id->vm_id, tid))
		return 0;
	return ((u64)id->vm_id << 32) | tid;
}

/*
 * Is a whole core on @vm's home node free (both threads idle, nothing on its
 * way)? Unlocked, a hint: the placement that follows decides under the lock.
 */
static bool home_core_free(s32 vm)
{
	u32 cpu;

	bpf_for(cpu, 0, nr_cpus)
	{
		struct vs_cpu_ctx *c = cpu_ctx_of(cpu);
		struct vs_core_state *core;
		u32 th;

		if (!c || c->core_id != cpu || !(core = core_of(cpu, &th)))
			continue;
		if (!core_open_to(core, vm_enclave(vm)))
			continue;
		if (thread_empty(core, 0) && thread_empty(core, 1) && cpu_on_home(cpu, vm) &&
		    cpu_is_idle(cpu) && (core->cpu[1] < 0 || cpu_is_idle(core->cpu[1])))
			return true;
	}
	return false;
}

enum dispatch_decision {
	DECIDE_NONE,
	DECIDE_RUN,
	DECIDE_KEEP_PREV,
	DECIDE_WAIT_CLAIM,
	DECIDE_FORCED_IDLE,
	DECIDE_HOST_IDLE
};

/*
 * Choose what this thread runs next. The owner keeps the core while it has
 * runnable vCPUs and its turn (core_slice_ns) lasts or it is still the most
 * owed VM; otherwise the core goes to the most owed VM once the sibling no
 * longer runs the old owner (until then the owner drains and this thread
 * idles, counted as forced idle).
 */
void BPF_STRUCT_OPS(vs_dispatch, s32 cpu, struct task_struct *prev)
{
	struct vs_core_state *core;
	struct vs_task *pt;
	struct vs_vm_state *bvs;
	struct vs_cpu_stats *cs;
	u32 th, nr_best, decision = DECIDE_NONE;
	s32 owner, best, target = VS_VM_NONE, prev_vm = VS_VM_NONE;
	u64 now = bpf_ktime_get_ns();
	bool owner_changed = false, owner_has_work, owner_over_cap, wake_sibling = false;
	bool prev_goes_home;
	s32 drain_cpu = -1;
	u64 core_slice;
	struct owed_pick pick = {.vm = VS_VM_NONE};
	struct owned_cores oc;
	s32 owner_queued;
	u64 directed;
	u64 *floor;
	u32 enclave;

	core = core_of(cpu, &th);
	if (!core)
		return; /* no vCPU runs outside the enclave; host work uses local DSQs */
	directed = take_directed_yield(cpu);
	end_idle_window(cpu, now);
	enclave = cpu_enclave(cpu);
	/* A vCPU of another enclave (its VM moved) is not kept; a closed core keeps none. */
	if (prev && (prev->scx.flags & SCX_TASK_QUEUED) && (pt = vcpu_of(prev)) &&
	    vm_enclave(pt->vm_id) == enclave && !core->closed)
		prev_vm = pt->vm_id;
	owner = core->owner;
	owner_queued = vm_queued(owner);
	/* An owner that moved to another enclave has no work here. */
	owner_has_work =
	    (owner_queued > 0 || (owner >= 0 && owner == prev_vm)) && vm_enclave(owner) == enclave;
	count_owned_cores(&oc);
	pick_owed_vm(prev_vm, owner, enclave, &oc, &pick);
	best = pick.vm;
	nr_best = pick.nr_queued;
	bvs = vm_state_of(best);
	/* prev runs off its home node while a home core is free: let it move there. */
	prev_goes_home = prev_vm >= 0 && !cpu_on_home(cpu, prev_vm) && home_core_free(prev_vm);
	/* An owner above its cap (lowered, or not yet known when it took cores) gives cores up. */
	owner_over_cap = caps_in_use && owner >= 0 && !vm_within_cap(owner, &oc, true);
	core_slice = enclave_core_slice_ns(enclave);

	bpf_spin_lock(&core->lock);
	if (core->owner != owner)
		owner_queued = 1; /* changed meanwhile: do not assume it has nothing queued */
	owner = core->owner;
	if (!core_open_to(core, enclave)) {
		decision = DECIDE_NONE; /* leaving its enclave (or moved meanwhile): no vCPU */
	} else if (host_blocks(core, th ^ 1)) {
		decision = DECIDE_HOST_IDLE;
	} else if (core->claims[th & 1]) {
		/* A vCPU committed to this thread is on its way into the local DSQ. */
		decision = DECIDE_WAIT_CLAIM;
	} else if (owner >= 0 && owner_has_work && !owner_over_cap &&
		   (owner == best || (!core->draining && now - core->owner_since < core_slice))) {
		target = owner;
		if (owner == best)
			core->draining = 0;
	} else if (best >= 0 && core_handover_ok(core, th, best)) {
		set_owner(core, best, now);
		owner_changed = true;
		target = best;
	} else if (best >= 0) {
		/* The sibling still runs the owner: hand over once it stops. */
		start_drain(core, now);
		decision = DECIDE_FORCED_IDLE;
	} else if (owner_over_cap) {
		/* Nobody else wants it: free the core once the sibling is off it. */
		if (core_handover_ok(core, th, VS_VM_NONE))
			set_owner(core, VS_VM_NONE, now);
		else
			start_drain(core, now);
	}
	if (target >= 0) {
		if (sibling_runs_other(core, th, target)) {
			/* The sibling is still switching away from the previous owner. */
			decision = DECIDE_FORCED_IDLE;
		} else if (target == prev_vm && !(target == best ? nr_best : owner_queued)) {
			/* Not kept: through enqueue (or the sweep) it goes to a home core. */
			decision = prev_goes_home ? DECIDE_NONE : DECIDE_KEEP_PREV;
		} else {
			decision = DECIDE_RUN;
			core->claims[th & 1]++;
		}
		wake_sibling = decision != DECIDE_FORCED_IDLE && thread_empty(core, th ^ 1) &&
			       core->cpu[(th ^ 1) & 1] >= 0;
	}
	/* The sibling's vCPU holds up a handover: make it leave now. */
	if (core->draining && core->running_vm[(th ^ 1) & 1] != VS_VM_NONE)
		drain_cpu = core->cpu[(th ^ 1) & 1];
	owner = core->owner;
	bpf_spin_unlock(&core->lock);

	kick_cpu(drain_cpu);
	cs = cpu_stats_of(cpu);
	if (owner_changed) {
		if (cs)
			__sync_fetch_and_add(&cs->owner_changes, 1);
		floor = vtime_floor_of(enclave);
		if (bvs) {
			__sync_fetch_and_add(&bvs->core_grants, 1);
			if (floor)
				*floor = bvs->vtime;
		}
		if (pick.starved)
			__sync_fetch_and_add(&starved_grants, 1);
		if (pick.for_pair)
			__sync_fetch_and_add(&pair_grants, 1);
	}
	switch (decision) {
	case DECIDE_RUN:
		/* The vCPU a yield_to() here asked for, if it is of this VM. */
		if (move_vcpu(target, cpu, SCX_DSQ_LOCAL,
			      directed && (s32)(directed >> 32) == target ? (u32)directed : 0,
			      NULL)) {
			if (wake_sibling && vm_queued(target) > 0)
				request_sweep(0);
			return;
		}
		if (prev && target == prev_vm) {
			prev->scx.slice = vm_slice_ns(prev_vm);
			return;
		}
		break;
	case DECIDE_KEEP_PREV:
		/* A refilled slice makes the kernel keep prev running after dispatch. */
		if (prev)
			prev->scx.slice = vm_slice_ns(prev_vm);
		return;
	case DECIDE_WAIT_CLAIM:
		return;
	case DECIDE_FORCED_IDLE:
		start_idle_window(cpu, now, IDLE_FORCED, owner);
		return;
	case DECIDE_HOST_IDLE:
		start_idle_window(cpu, now, IDLE_HOST, owner);
		return;
	}
	if (cs)
		cs->empty_dispatch++;
}
