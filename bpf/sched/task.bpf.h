/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A vCPU's life: ops.runnable, running, stopping, quiescent, enable, disable.
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

void BPF_STRUCT_OPS(vs_runnable, struct task_struct *p, u64 enq_flags)
{
	struct vs_task *t = vcpu_of_adopting(p);
	struct vs_vcpu_stats *st;

	if (!t || !(st = stats_of(t)))
		return;
	st->wakeups++;
	t->runnable_at = bpf_ktime_get_ns();
	vcpu_wait_since[t->slot & (VS_MAX_VCPUS - 1)] = t->runnable_at;
	send_msg(t, st, VS_MSG_VCPU_WAKEUP);
}

/*
 * Switch-in half of what each hardware thread runs: running_vm is set under
 * the core's lock before the vCPU's claim ends, so a sibling deciding under
 * the lock always sees one or the other. A vCPU that got here without a claim
 * (enrolled while running, a kernel fallback) takes a free core or, if the
 * core is another VM's, is counted and cut at once (the kick; else at the
 * next tick). So is one that starts beside a host task in strict mode: it was
 * committed to this thread before the host task started on the sibling.
 */
/*
 * The vCPU in @slot runs: if a core take committed it, count how long it
 * waited, provided it runs on the CPU it was committed to (@on_taken_cpu).
 */
static void end_take_wait(u32 slot, bool on_taken_cpu, u64 now)
{
	u64 at, ns;
	u32 b;

	if (slot >= VS_MAX_VCPUS)
		return;
	at = take_started[slot & (VS_MAX_VCPUS - 1)];
	if (!at)
		return;
	take_started[slot & (VS_MAX_VCPUS - 1)] = 0;
	if (!on_taken_cpu || now < at)
		return;
	ns = now - at;
	__sync_fetch_and_add(&take_waits, 1);
	__sync_fetch_and_add(&take_wait_ns, ns);
	b = vs_take_wait_bucket(ns);
	if (b < VS_TAKE_WAIT_BUCKETS)
		__sync_fetch_and_add(&take_wait_hist[b], 1);
	if (ns > take_wait_max_ns)
		take_wait_max_ns = ns;
}

void BPF_STRUCT_OPS(vs_running, struct task_struct *p)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_core_state *core;
	struct vs_vcpu_stats *st;
	struct vs_cpu_stats *cs;
	struct vs_vm_state *vs;
	/* Not the current CPU: a property change may re-run a remote CPU's current task. */
	u32 cpu = scx_bpf_task_cpu(p), th;
	u64 now = bpf_ktime_get_ns(), since;
	struct vs_running_out ro = {0};
	struct vs_core_view view;
	s32 vm, claimed, queued;
	u32 enclave;

	vcpu_out_of_vm_queue(t);
	/* An escaped vCPU runs off the enclave as a host task: no core, no VM time. */
	if (!t || t->escaped) {
		if ((cs = cpu_stats_of(cpu)))
			cs->stray_runs++;
		return;
	}
	if (!(st = stats_of(t)))
		return;
	vm = t->vm_id;
	enclave = vm_enclave(vm);
	core = core_of(cpu, &th);
	/* An exiting thread runs no guest code: the sched_switch hook sees it as a host task. */
	if (core && !(p->flags & PF_EXITING)) {
		bpf_spin_lock(&core->lock);
		/*
		 * The task this CPU is leaving is still current until the switch:
		 * until the hook sees it, the thread counts as running both.
		 */
		if (core->running_vm[th & 1] != VS_VM_NONE && core->running_vm[th & 1] != vm)
			core->leaving_vm[th & 1] = core->running_vm[th & 1];
		core->running_vm[th & 1] = RECORDED_VM(vm);
		core->running_tid[th & 1] = p->pid;
		/* vs_stopping may have expected a host task here; a vCPU came (back). */
		core->host[th & 1] = 0;
		core_view_read(core, &view);
		ro = vs_running_decide(&view, th, vm, enclave);
		if (ro.take_core)
			set_owner(core, vm, now);
		bpf_spin_unlock(&core->lock);
	}
	claimed = release_claim(t->slot);
	end_take_wait(t->slot, claimed == (s32)cpu, now);
	if (claimed < 0)
		__sync_fetch_and_add(&unclaimed_runs, 1);
	else if (claimed != (s32)cpu)
		__sync_fetch_and_add(&misplaced_runs, 1);
	if (ro.bad)
		__sync_fetch_and_add(&self_check_overlaps, 1);
	if (ro.beside_host)
		__sync_fetch_and_add(&host_starts, 1);
	if (vs_running_cut(&ro)) {
		p->scx.slice = 0;
		kick_cpu(cpu);
	} else if (ro.wake_sibling && cpu_in_forced_idle(core->cpu[(th ^ 1) & 1]) &&
		   vm_queued(vm) > 0) {
		request_sweep(0);
	}

	cpu_time_vcpu_runs(cpu, now);
	t->started_at = now;
	t->ext_done = false;
	vs = vm_state_of(vm);
	if (vs) {
		queued = vm_queued(vm);
		since = vs->waiting_since;
		vs->waiting_since =
		    vs_run_stamp(since, queued > 0 ? vm_head_wait_since(vm) : 0, queued, now);
		/* Back to an older vCPU's wait: the waiting heap's lazy key must follow. */
		if (queued > 0 && vs->waiting_since < since)
			vm_heaps_sync(vm);
		if (!cpu_on_home(cpu, vm))
			__sync_fetch_and_add(&vs->remote_runs, 1);
	}
	if (t->runnable_at && now > t->runnable_at)
		st->wait_ns += now - t->runnable_at;
	t->runnable_at = 0;
	vcpu_wait_since[t->slot & (VS_MAX_VCPUS - 1)] = 0;
	if (st->runs && st->last_cpu != cpu)
		st->migrations++;
	st->runs++;
	st->last_cpu = cpu;
	cs = cpu_stats_of(cpu);
	if (cs)
		cs->vcpu_runs++;
	send_msg(t, st, VS_MSG_VCPU_ON_CPU);
}

/*
 * A vCPU preempted with slice left (a host task took the CPU) would wait at
 * the head of this CPU's local DSQ and start again there, without any check,
 * once the host task leaves. In relaxed mode it does: it keeps a claim on
 * this thread until it runs again, so the core stays its VM's meanwhile.
 *
 * In strict mode it must not start beside a host task the sibling may be
 * running by then: its slice is zeroed so it goes through ops.enqueue
 * instead, and this thread is marked as running a host task from now, not
 * from the switch a moment later, so that enqueue does not place it on the
 * sibling (the sched_switch hook or vs_running corrects the mark).
 */
static void hold_preempted(struct task_struct *p, struct vs_task *t)
{
	struct vs_claim *c = claim_of_slot(t->slot);
	struct vs_core_state *core;
	struct vs_core_view view;
	enum vs_preempted hold;
	u32 cpu = scx_bpf_task_cpu(p), th, enclave;

	if (!c || !p->scx.slice || (p->flags & PF_EXITING))
		return;
	core = core_of(cpu, &th);
	if (!core)
		return;
	enclave = vm_enclave(t->vm_id);
	release_claim(t->slot);
	/* Under the lock: a take changes the owner there, and sees the claim taken here. */
	bpf_spin_lock(&core->lock);
	core_view_read(core, &view);
	hold = vs_preempted_hold(&view, t->vm_id, enclave);
	if (hold == VS_PREEMPTED_REQUEUE_HOST)
		core->host[th & 1] = 1;
	else if (hold == VS_PREEMPTED_HOLD)
		core->claims[th & 1]++;
	bpf_spin_unlock(&core->lock);
	if (hold != VS_PREEMPTED_HOLD) {
		p->scx.slice = 0;
		if (hold == VS_PREEMPTED_REQUEUE && view.owner != t->vm_id)
			__sync_fetch_and_add(&preempt_holds_refused, 1);
		return;
	}
	c->cpu1 = cpu + 1;
}

void BPF_STRUCT_OPS(vs_stopping, struct task_struct *p, bool runnable)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vcpu_stats *st;
	struct vs_cpu_stats *cs;
	u64 now = bpf_ktime_get_ns();

	if (!t || t->escaped || !(st = stats_of(t)))
		return;
	charge_run(t, st, sibling_runs_vm(scx_bpf_task_cpu(p), t->vm_id), now);
	/* The vCPU's CPU: a property change may stop a remote CPU's current task. */
	cs = cpu_stats_of(scx_bpf_task_cpu(p));
	if (cs)
		vs_time_vcpu_stops(cs, now);
	if (t->ext_at)
		end_extension(t, now);
	if (runnable) {
		hold_preempted(p, t);
		st->preempts++;
		t->runnable_at = now;
		vcpu_wait_since[t->slot & (VS_MAX_VCPUS - 1)] = now;
		send_msg(t, st, VS_MSG_VCPU_PREEMPTED);
	}
}

void BPF_STRUCT_OPS(vs_quiescent, struct task_struct *p, u64 deq_flags)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vcpu_stats *st;

	if (!t || !(st = stats_of(t)))
		return;
	/* Left the runqueue without running (moved to another class, killed): no commitment. */
	vcpu_out_of_vm_queue(t);
	release_claim(t->slot);
	if (deq_flags & SCX_DEQ_SLEEP)
		send_msg(t, st, VS_MSG_VCPU_BLOCKED);
}

void BPF_STRUCT_OPS(vs_enable, struct task_struct *p)
{
	struct vs_task *t;

	t = bpf_task_storage_get(&task_ctx, p, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		scx_bpf_error("vmm_sched: no task storage for tid %d", p->pid);
		return;
	}
	vcpu_attach(p, t);
}

/*
 * Makes @p a vCPU if the agent lists it in vcpu_map, else host work. Called
 * when it enters SCHED_EXT, and again at a wakeup or enqueue of host work.
 */
static void vcpu_attach(struct task_struct *p, struct vs_task *t)
{
	struct vs_vcpu_id *id;
	struct vs_vcpu_stats *st;
	u32 tid = p->pid;

	id = bpf_map_lookup_elem(&vcpu_map, &tid);
	if (!id || id->vm_id >= vs_max_vms || id->slot >= vs_max_vcpus) {
		t->is_vcpu = false;
		return;
	}
	t->is_vcpu = true;
	t->escaped = false;
	release_claim(id->slot);
	t->vm_id = id->vm_id;
	t->vcpu_index = id->vcpu_index;
	t->slot = id->slot;
	t->runnable_at = 0;
	vcpu_wait_since[id->slot & (VS_MAX_VCPUS - 1)] = 0;
	t->started_at = 0;
	t->ext_at = 0;
	t->ext_done = false;
	st = stats_of(t);
	if (!st)
		return;
	st->tid = tid;
	send_msg(t, st, VS_MSG_VCPU_NEW);
	/* Its affinity may have been changed between the agent's pinning and now. */
	if (!mask_has_enclave_cpu(p->cpus_ptr)) {
		t->escaped = true;
		send_msg(t, st, VS_MSG_VCPU_ESCAPED);
	}
}

void BPF_STRUCT_OPS(vs_disable, struct task_struct *p)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vcpu_stats *st;

	if (!t || !(st = stats_of(t)))
		return;
	vcpu_out_of_vm_queue(t);
	release_claim(t->slot);
	send_msg(t, st, (p->flags & PF_EXITING) ? VS_MSG_VCPU_DEAD : VS_MSG_VCPU_DEPARTED);
	t->is_vcpu = false;
	/*
	 * An exited thread's entry goes with it, whether or not an agent runs:
	 * its tid may be reused, and nobody must be taken for the old vCPU.
	 */
	if (p->flags & PF_EXITING) {
		u32 tid = p->pid;

		bpf_map_delete_elem(&vcpu_map, &tid);
	}
}
