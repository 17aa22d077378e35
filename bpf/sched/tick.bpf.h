/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sched_switch hook, ops.tick with its slice extensions, and ops.yield.
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

/*
 * Switch-out half of what each hardware thread runs (ops.running is the
 * switch-in half): any switch to a task other than the vCPU that ops.running
 * just put on this CPU clears running_vm, at the same event an independent
 * tracer sees. No task storage here: tracing programs may find it busy and
 * get NULL, which would misread a vCPU as a host task.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(vs_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	s32 cpu = bpf_get_smp_processor_id(), sib_cpu;
	struct vs_core_state *core;
	struct vs_cpu_stats *cs;
	u32 th, next_tid = next->pid, was_host;
	struct vs_switch_effect fx;
	s32 was_vm;
	bool host;

	core = core_of(cpu, &th);
	if (!core)
		return 0;
	core->leaving_vm[th & 1] = VS_VM_NONE;
	if (next_tid && next_tid == core->running_tid[th & 1]) {
		core->host[th & 1] = 0;
		if (sibling_runs_other(core, th, core->running_vm[th & 1]))
			__sync_fetch_and_add(&switch_overlaps, 1);
		return 0;
	}
	if (next_tid && bpf_map_lookup_elem(&vcpu_map, &next_tid) && !(next->flags & PF_EXITING))
		__sync_fetch_and_add(&unrecorded_switches, 1);
	cpu_time_switch(cpu, next_tid == 0);
	was_vm = __sync_lock_test_and_set(&core->running_vm[th & 1], VS_VM_NONE);
	core->running_tid[th & 1] = 0;
	was_host = core->host[th & 1];
	host = next_tid != 0;
	core->host[th & 1] = host;
	sib_cpu = core->cpu[(th ^ 1) & 1];
	if (sib_cpu < 0)
		return 0;
	/*
	 * A host task or the old owner's vCPU left: an idling sibling may run
	 * vCPUs now. A host task arrived: the sibling's vCPU leaves (strict).
	 */
	fx = vs_switch_effect(host, was_host, was_vm, core->strict, core->running_vm[(th ^ 1) & 1]);
	if (fx.sweep)
		request_sweep(0);
	if (fx.evict_sibling) {
		cs = cpu_stats_of(sib_cpu);
		if (cs)
			__sync_fetch_and_add(&cs->host_evictions, 1);
		kick_cpu(sib_cpu);
	}
	return 0;
}

/*
 * Per tick on a CPU running a vCPU: cut the slice short if a host task runs on
 * the sibling (strict mode), the core is being handed to another VM, or the
 * vCPU got here outside the pairing rules.
 */
/*
 * The kernel checks slices at ticks, so an extension would last a whole tick
 * (1-4 ms); where the kick links, a per-CPU timer ends it after cs_ext_ns.
 * The callback kicks only if the extended vCPU still runs there.
 */
struct ext_timer {
	struct bpf_timer timer;
	u32 tid; /* the extended vCPU; 0: none */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_CPUS);
	__type(key, u32);
	__type(value, struct ext_timer);
} ext_timers SEC(".maps");

static int ext_timer_fn(void *map, int *key, struct ext_timer *et)
{
	s32 cpu = *key;
	struct vs_core_state *core;
	u32 th, tid = et->tid;

	et->tid = 0;
	core = core_of(cpu, &th);
	if (tid && core && core->running_tid[th & 1] == tid)
		kick_cpu(cpu);
	return 0;
}

static void end_extension_at_timer(s32 cpu, u32 tid)
{
	struct ext_timer *et;
	u32 key = cpu;

	if (kick_disabled || !kick_supported)
		return;
	et = bpf_map_lookup_elem(&ext_timers, &key);
	if (!et)
		return;
	et->tid = tid;
	bpf_timer_start(&et->timer, cs_ext_ns, 0);
}

/*
 * A vCPU in a critical section whose slice would end here (ran out, or its
 * core goes to a VM owed more) may run on for cs_ext_ns, once per run, within
 * its VM's budget (vs_hint_may_extend). Never past a pairing cut.
 */
static bool extend_slice(struct task_struct *p, struct vs_task *t, u32 hint, enum vs_cut cut,
			 u64 now)
{
	struct vs_vm_state *vs = vm_state_of(t->vm_id);
	struct vs_vcpu_stats *st;

	if (!vs)
		return false;
	vs_hint_window_roll(vs, now);
	if (!vs_hint_may_extend(hint, cut, t->ext_done, cs_ext_ns, vs->hint_win_ext_ns,
				vs->hint_win_run_ns, vs->hint_prev_run_ns, cs_budget_pct))
		return false;
	t->ext_at = now;
	t->ext_done = true;
	end_extension_at_timer(bpf_get_smp_processor_id(), p->pid);
	p->scx.slice = cs_ext_ns; /* the kernel checks it at the next tick */
	__sync_fetch_and_add(&vs->cs_extensions, 1);
	if ((st = stats_of(t)))
		__sync_fetch_and_add(&st->cs_extensions, 1);
	return true;
}

/*
 * An extension ends at the first tick or stop after it began (the kernel
 * checks slices at ticks): its length is charged to the VM's budget then.
 */
static void end_extension(struct vs_task *t, u64 now)
{
	struct vs_vm_state *vs = vm_state_of(t->vm_id);
	u64 ext = now > t->ext_at ? now - t->ext_at : 0;
	struct vs_vcpu_stats *st;

	t->ext_at = 0;
	if ((st = stats_of(t)))
		__sync_fetch_and_add(&st->cs_extended_ns, ext);
	if (!vs)
		return;
	__sync_fetch_and_add(&vs->hint_win_ext_ns, ext);
	__sync_fetch_and_add(&vs->cs_extended_ns, ext);
}

void BPF_STRUCT_OPS(vs_tick, struct task_struct *p)
{
	struct vs_core_state *core;
	struct vs_core_view view;
	struct vs_task *t = vcpu_of(p);
	enum vs_cut cut;
	struct vs_vm_state *vs;
	u64 now = bpf_ktime_get_ns();
	u32 th = 0, hint; /* core_of sets th only for an enclave CPU */

	if (!t)
		return;
	core = core_of(bpf_get_smp_processor_id(), &th);
	charge_running_task(p, now, core && core->running_vm[(th ^ 1) & 1] == t->vm_id);
	if (t->ext_at)
		end_extension(t, now);
	if (!core)
		return;
	core_view_read(core, &view); /* unlocked: a late check, claims keep pairing safe */
	cut = vs_tick_cut(&view, th, t->vm_id, vm_enclave(t->vm_id), p->scx.slice != 0);
	hint = hint_of(t);
	if (cut == VS_CUT_NONE) {
		/* Idle in the guest while its VM has vCPUs waiting: make way for one. */
		if (vs_hint_hand_on(hint, vm_queued(t->vm_id))) {
			p->scx.slice = 0;
			if ((vs = vm_state_of(t->vm_id)))
				__sync_fetch_and_add(&vs->idle_handoffs, 1);
		}
		return;
	}
	if (cut != VS_CUT_PAIRING && hint && extend_slice(p, t, hint, cut, now))
		return;
	p->scx.slice = 0;
}

/*
 * Directed yield: KVM's yield_to() from a vCPU spinning on a lock (a
 * pause-loop exit, a PV spinlock kick) names the vCPU it waits for. If that
 * is a vCPU of the same VM waiting for a CPU, this CPU's next dispatch runs
 * it (the core is already the VM's). Plain sched_yield() (@to NULL) ends the
 * slice, as the kernel does without ops.yield.
 */
bool BPF_STRUCT_OPS(vs_yield, struct task_struct *from, struct task_struct *to)
{
	struct vs_task *f = vcpu_of(from), *t;
	struct vs_vm_state *vs;
	s32 cpu = bpf_get_smp_processor_id();

	if (!to) {
		from->scx.slice = 0;
		return false;
	}
	/* Not ours to direct: as without ops.yield, nothing happens and KVM tries another. */
	t = vcpu_of(to);
	if (!f || !t || f->escaped || t->escaped ||
	    !vs_yield_directed(true, f->vm_id, true, t->vm_id,
			       (to->scx.flags & SCX_TASK_QUEUED) != 0, to->on_cpu != 0)) {
		if (f && (vs = vm_state_of(f->vm_id)))
			__sync_fetch_and_add(&vs->yields_ignored, 1);
		return false;
	}
	if (cpu < 0 || cpu >= VS_MAX_CPUS)
		return false;
	directed_tid[cpu & (VS_MAX_CPUS - 1)] = to->pid;
	from->scx.slice = 0;
	if ((vs = vm_state_of(f->vm_id)))
		__sync_fetch_and_add(&vs->directed_yields, 1);
	return true;
}
