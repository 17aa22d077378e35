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
	if (!id || id->vm_id >= vs_max_vms || !vcpu_waiting(id->vm_id, tid))
		return 0;
	return ((u64)id->vm_id << 32) | tid;
}

/*
 * The vCPU of @vm's queue that @cpu should run rather than the first: one
 * with work behind a guest-idle one (vs_idle_pick), a guest-idle one passed
 * over at most VS_IDLE_MAX_PASSES times; 0 for the first. Global,
 * so the verifier checks its loop apart from dispatch.
 */
__noinline u32 pick_past_idle(s32 vm, s32 cpu)
{
	struct vs_idle_pick ip = {};
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;
	struct vs_vm_state *vs;

	if (vm < 0 || vm >= VS_MAX_VMS || cpu < 0 || cpu >= VS_MAX_CPUS)
		return 0;
	/*
	 * The DSQ iterator needs RCU. Dispatch has it implicitly, but the sweep
	 * (a timer set up by the sleepable ops.init) calls this too, and 7.2's
	 * verifier checks a global function in that program's context.
	 */
	bpf_rcu_read_lock();
	bpf_iter_scx_dsq_new(&it, VS_DSQ_VM(vm), 0);
	while ((p = bpf_iter_scx_dsq_next(&it))) {
		u32 tid = p->pid;
		struct vs_vcpu_id *id;
		bool defers;
		u32 slot;

		if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			continue;
		id = bpf_map_lookup_elem(&vcpu_map, &tid);
		if (!id)
			continue;
		slot = id->slot & (VS_MAX_VCPUS - 1);
		defers = vs_idle_still_defers(idle_queued[slot], idle_passes[slot]);
		if (vs_idle_pick_add(&ip, tid, defers))
			break;
		if (defers) /* looked past; counted even where no vCPU with work follows */
			idle_passes[slot]++;
	}
	bpf_iter_scx_dsq_destroy(&it);
	bpf_rcu_read_unlock();
	if (ip.passed && (vs = vm_state_of(vm)))
		__sync_fetch_and_add(&vs->idle_deferrals, 1);
	return ip.tid;
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

/*
 * Choose what this thread runs next: gather (unlocked), decide on the core's
 * view under its lock (vs_dispatch_decide, bpf/rules/dispatch.h), apply.
 */
void BPF_STRUCT_OPS(vs_dispatch, s32 cpu, struct task_struct *prev)
{
	struct vs_dispatch_in in = {.prev_vm = VS_VM_NONE};
	struct vs_dispatch_out out;
	struct vs_core_state *core;
	struct vs_core_view view;
	struct vs_task *pt;
	struct vs_vm_state *bvs, *tvs;
	struct vs_cpu_stats *cs;
	u32 th, decision;
	s32 owner, target, prev_vm = VS_VM_NONE;
	u64 now = bpf_ktime_get_ns();
	bool owner_changed, wake_sibling;
	s32 drain_cpu = -1;
	struct owed_pick pick = {.vm = VS_VM_NONE};
	u64 directed;
	u32 run_tid;
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
	in.th = th;
	in.enclave = enclave;
	in.now = now;
	in.prev_vm = prev_vm;
	in.owner_seen = owner;
	in.owner_queued = vm_queued(owner);
	/* An owner that moved to another enclave has no work here. */
	in.owner_has_work = (in.owner_queued > 0 || (owner >= 0 && owner == prev_vm)) &&
			    vm_enclave(owner) == enclave;
	pick_owed_vm(prev_vm, owner, enclave, &pick);
	in.best = pick.vm;
	in.nr_best = pick.nr_queued;
	bvs = vm_state_of(in.best);
	/* prev runs off its home node while a home core is free: let it move there. */
	in.prev_goes_home = prev_vm >= 0 && !cpu_on_home(cpu, prev_vm) && home_core_free(prev_vm);
	/* An owner above its cap (lowered, or not yet known when it took cores) gives cores up. */
	in.owner_over_cap = caps_in_use && owner >= 0 && !vm_within_cap(owner, true);
	in.core_slice = enclave_core_slice_ns(enclave);

	bpf_spin_lock(&core->lock);
	core_view_read(core, &view);
	vs_dispatch_decide(&view, &in, &out);
	if (out.set_owner)
		set_owner(core, out.new_owner, now);
	if (out.start_drain)
		start_drain(core, now);
	if (out.clear_draining)
		core->draining = 0;
	if (out.claim)
		core->claims[th & 1]++;
	if (out.kick_sibling)
		drain_cpu = core->cpu[(th ^ 1) & 1];
	bpf_spin_unlock(&core->lock);
	decision = out.decision;
	target = out.target;
	owner = out.owner_after;
	owner_changed = out.granted;
	wake_sibling = out.wake_sibling;

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
	case VS_DISPATCH_RUN:
		/*
		 * The vCPU a yield_to() here asked for, if it is of this VM; else
		 * one with work before a guest-idle one.
		 */
		run_tid = directed && (s32)(directed >> 32) == target ? (u32)directed : 0;
		if (!run_tid && vs_idle_pick_worth(vm_queued(target)))
			run_tid = pick_past_idle(target, cpu);
		if (move_vcpu(target, cpu, SCX_DSQ_LOCAL, run_tid, NULL)) {
			if (run_tid && run_tid == (u32)directed && (tvs = vm_state_of(target)))
				__sync_fetch_and_add(&tvs->directed_runs, 1);
			if (wake_sibling && vm_queued(target) > 0)
				request_sweep(0);
			return;
		}
		if (prev && target == prev_vm) {
			prev->scx.slice = vm_slice_ns(prev_vm);
			return;
		}
		break;
	case VS_DISPATCH_KEEP_PREV:
		/* A refilled slice makes the kernel keep prev running after dispatch. */
		if (prev) {
			charge_running_task(prev, now, false);
			prev->scx.slice = vm_slice_ns(prev_vm);
		}
		return;
	case VS_DISPATCH_WAIT_CLAIM:
		return;
	case VS_DISPATCH_FORCED_IDLE:
		start_idle_window(cpu, now, IDLE_FORCED, owner);
		return;
	case VS_DISPATCH_HOST_IDLE:
		start_idle_window(cpu, now, IDLE_HOST, owner);
		return;
	}
	if (cs)
		cs->empty_dispatch++;
}
