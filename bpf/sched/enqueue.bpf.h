/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ops.select_cpu, ops.set_cpumask and ops.enqueue: placing a runnable vCPU.
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

/* Put @p on @cpu if @cpu is idle and the pairing rules allow. */
static __always_inline bool place_on_idle_cpu(struct task_struct *p, struct vs_task *t, s32 cpu,
					      s32 vm, bool may_take_core, u64 enq_flags)
{
	struct vs_claim *c = claim_of_slot(t->slot);

	if (!c || !bpf_cpumask_test_cpu(cpu, p->cpus_ptr) || !cpu_is_idle(cpu) ||
	    !reserve_cpu_for(cpu, vm, may_take_core))
		return false;
	/* The insertion is carried out after enqueue returns: the claim is in place first. */
	c->cpu1 = cpu + 1;
	vs_dsq_insert(p, SCX_DSQ_LOCAL_ON | cpu, vm_slice_ns(vm), enq_flags | SCX_ENQ_PREEMPT);
	return true;
}

/*
 * @vm's vCPU goes on its queue: the starvation guard counts from the oldest
 * vCPU in it (vs_queued_stamp). Stamped before the insert, so a queued vCPU
 * always has a stamp; unlocked (a race costs a later stamp, as before the
 * guard counted per vCPU).
 */
static __always_inline void vm_queue_insert(struct task_struct *p, struct vs_task *t, s32 vm,
					    u64 enq_flags)
{
	struct vs_vm_state *vs = vm_state_of(vm);

	if (vs)
		vs->waiting_since =
		    vs_queued_stamp(vs->waiting_since, vm_queued(vm), bpf_ktime_get_ns());
	vcpu_into_vm_queue(t, vm);
	mark_vm_queued(vm);
	vs_dsq_insert(p, VS_DSQ_VM(vm), vm_slice_ns(vm), enq_flags);
}

/* May a task with affinity @mask run on some enclave CPU? */
static bool mask_has_enclave_cpu(const struct cpumask *mask)
{
	u32 cpu;

	bpf_for(cpu, 0, nr_cpus)
	{
		struct vs_cpu_ctx *c = cpu_ctx_of(cpu);

		if (c && (c->flags & VS_CPU_IN_ENCLAVE) && bpf_cpumask_test_cpu(cpu, mask))
			return true;
	}
	return false;
}

/*
 * A vCPU's affinity changed (taskset, vcpupin, cpuset). With no enclave CPU
 * left it is run as a host task from its next enqueue (the kernel dequeues
 * and re-enqueues it around the change) and the agent is told at once.
 */
void BPF_STRUCT_OPS(vs_set_cpumask, struct task_struct *p, const struct cpumask *cpumask)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vcpu_stats *st;
	bool escaped;

	if (!t)
		return;
	escaped = !mask_has_enclave_cpu(cpumask);
	if (escaped && !t->escaped && (st = stats_of(t)))
		send_msg(t, st, VS_MSG_VCPU_ESCAPED);
	t->escaped = escaped;
}

/* Where a vCPU runs is decided in enqueue and dispatch. */
s32 BPF_STRUCT_OPS(vs_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return prev_cpu;
}

/*
 * Place a runnable vCPU on an idle CPU where the pairing rules allow it (on
 * its VM's home node first: its previous CPU, cores its VM owns, free cores;
 * then the same off the node; no free core for a VM at its cap), else on its
 * VM's DSQ for dispatch or the sweep to pick up. Inserting into an idle CPU's
 * local DSQ wakes that CPU, so no kick is needed.
 */
void BPF_STRUCT_OPS(vs_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct vs_task *t = vcpu_of_adopting(p);
	struct vs_vm_state *vs;
	bool may_take_core, prev_home, idle;
	s32 prev, vm;
	u32 i, pass, enclave;
	u64 vtime, lifted, *floor;

	/*
	 * A SCHED_EXT task that is no vCPU (e.g. a KVM worker a vCPU thread
	 * forked, which inherits its policy) is host work: it runs where it woke,
	 * like a fair task; the sibling treats it as a host task. So does a vCPU
	 * no enclave CPU may run (vs_set_cpumask): on its VM's DSQ it would wait
	 * until the kernel's watchdog took the scheduler down for every VM.
	 */
	if (!t || t->escaped) {
		if (t)
			release_claim(t->slot);
		__sync_fetch_and_add(&stray_enqueues, 1);
		vs_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, enq_flags);
		return;
	}
	/* Back through enqueue without having run (migrated, restored): the old commitment ends. */
	release_claim(t->slot);
	vm = t->vm_id;
	prev = scx_bpf_task_cpu(p);
	/*
	 * SCX_ENQ_LAST: the CPU is already on its way to idle, so a task put on
	 * its local DSQ would wait there for an unrelated interrupt (this kernel
	 * may not link the kick). Queue it and let the sweep move it to an idle
	 * CPU, which wakes that CPU: usually this one, a moment later.
	 */
	if (enq_flags & SCX_ENQ_LAST) {
		vm_queue_insert(p, t, vm, enq_flags);
		request_sweep(0);
		return;
	}
	/*
	 * A VM coming back from idle does not bring banked credit. The floor is
	 * the vtime of the VM granted a core last, which may lead the others by
	 * the pair window (vs_owed_pick): credit within that is not banked.
	 */
	vs = vm_state_of(vm);
	enclave = vm_enclave(vm);
	floor = vtime_floor_of(enclave);
	if (vs && floor) {
		vtime = vs->vtime;
		lifted = vs_vtime_lift(vtime, *floor, enclave_core_slice_ns(enclave),
				       enclave_pair_window_ns(enclave));
		if (lifted != vtime)
			vs->vtime = lifted;
	}

	/* Guest-idle and still runnable: behind its VM's vCPUs with work, no free core. */
	idle = vs_hint_idle_defers(hint_of(t), enq_flags & SCX_ENQ_WAKEUP);
	idle_queued[t->slot & (VS_MAX_VCPUS - 1)] = idle;
	idle_passes[t->slot & (VS_MAX_VCPUS - 1)] = 0;
	may_take_core = vs_hint_may_take_core(vm_within_cap(vm, false), idle);
	prev_home = cpu_on_home(prev, vm);
	if (prev_home && place_on_idle_cpu(p, t, prev, vm, may_take_core, enq_flags))
		return;
	/* The passes of bpf/rules/enqueue.h: owned then free cores, on the home node first. */
	bpf_for(pass, 0, VS_ENQUEUE_PASSES)
	{
		struct vs_enqueue_pass ep = vs_enqueue_pass(pass, may_take_core, prev_home);

		if (!ep.open)
			continue;
		if (ep.prev && place_on_idle_cpu(p, t, prev, vm, may_take_core, enq_flags))
			return;
		bpf_for(i, 0, nr_cpus)
		{
			struct vs_core_state *core;
			struct vs_core_view view;
			u32 th;

			if ((s32)i == prev)
				continue;
			core = core_of(i, &th);
			if (!core)
				continue;
			core_view_read(core, &view);
			if (!vs_enqueue_fits(&view, th, vm, enclave, ep.take))
				continue;
			if (cpu_on_home(i, vm) != ep.home)
				continue;
			if (place_on_idle_cpu(p, t, i, vm, may_take_core, enq_flags))
				return;
		}
	}
	vm_queue_insert(p, t, vm, enq_flags);
	request_sweep(50 * 1000);
}
