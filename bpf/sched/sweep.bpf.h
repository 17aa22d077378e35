/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The placement sweep: queued vCPUs onto idle enclave threads.
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

__noinline u32 pick_past_idle(s32 vm, s32 cpu); /* dispatch.bpf.h */

struct sweep_timer {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct sweep_timer);
} sweep SEC(".maps");

/* Run the placement sweep soon (it runs once however often it is asked). */
static void request_sweep(u64 delay_ns)
{
	u32 zero = 0;
	struct sweep_timer *st = bpf_map_lookup_elem(&sweep, &zero);

	if (st)
		bpf_timer_start(&st->timer, delay_ns, 0);
}

/*
 * Is @cpu running its idle task? Only a placement hint (safety comes from
 * claims): inserting into an idle CPU's local DSQ wakes it, while a busy CPU
 * would leave the vCPU waiting. Unlike the idle mask this consumes nothing.
 */
static bool cpu_is_idle(s32 cpu)
{
	struct task_struct *curr = scx_bpf_cpu_curr(cpu);

	return curr && curr->pid == 0;
}

/*
 * A thread with nothing of a VM on it: no vCPU running or committed, no host
 * task. A cheap unlocked filter; reserve_cpu_for() decides under the lock.
 */
static bool thread_empty(struct vs_core_state *core, u32 th)
{
	return vs_thread_empty(core->running_vm[th & 1], core->host[th & 1], core->claims[th & 1]);
}

/*
 * Placement sweep of one enclave: an idle CPU is not woken by anything while vCPUs wait on a
 * VM's DSQ (the kernel may idle a CPU without calling ops.dispatch, and the
 * kick kfunc may not link). This timer moves queued vCPUs onto idle enclave
 * threads where the pairing rules allow: the owner's vCPUs onto its cores,
 * the most owed VM onto wholly free cores, vCPUs with work before guest-idle
 * ones (pick_past_idle). Moving into an idle CPU's local
 * DSQ wakes it. Runs outside any rq lock, as dsq_move to another CPU needs.
 */
static __noinline int sweep_enclave(u32 enclave)
{
	struct owed_pick pick = {.vm = VS_VM_NONE};
	bool more = false;
	s32 best;
	u32 i;

	pick_owed_vm(VS_VM_NONE, VS_VM_NONE, enclave, &pick);
	best = pick.vm;
	if (best < 0)
		return 0;
	/* Two passes: CPUs on the chosen VM's home node first, then the rest. */
	bpf_for(i, 0, 2 * nr_cpus)
	{
		u32 cpu = i % nr_cpus, th;
		bool home_pass = i < nr_cpus, take;
		struct vs_sweep_owner owner;
		struct vs_core_state *core;
		u32 run_tid;
		s32 vm;

		core = core_of(cpu, &th);
		if (!core || !core_open_to(core, enclave) || !thread_empty(core, th))
			continue;
		owner.vm = core->owner;
		owner.draining = core->draining;
		owner.queued = vm_queued(owner.vm);
		owner.serves = cpu_serves_vm(cpu, owner.vm);
		owner.within_cap = vm_within_cap(owner.vm, true);
		vm = vs_sweep_target(&owner, best, &take);
		if (home_pass != cpu_on_home(cpu, vm))
			continue;
		if (vm_queued(vm) <= 0 || !cpu_is_idle(cpu))
			continue;
		if (!reserve_cpu_for(cpu, vm, true))
			continue;
		/* As dispatch: a vCPU with work before a guest-idle one. */
		run_tid = vs_idle_pick_worth(vm_queued(vm)) ? pick_past_idle(vm, cpu) : 0;
		if (move_vcpu(vm, cpu, SCX_DSQ_LOCAL_ON | cpu, run_tid, NULL)) {
			__sync_fetch_and_add(&core->sibling_wakeups, 1);
			more = true;
			/* A free core taken: the next one goes to whoever is owed then. */
			if (take) {
				pick_owed_vm(VS_VM_NONE, VS_VM_NONE, enclave, &pick);
				best = pick.vm;
			}
			if (best < 0)
				break;
		}
	}
	return more;
}

/* The placement sweep of every enclave (see sweep_enclave). */
static int sweep_timer_fn(void *map, int *key, struct sweep_timer *st)
{
	bool more = false;
	u32 e;

	bpf_for(e, 0, VS_MAX_ENCLAVES)
	{
		struct vs_enclave_ctx *ec = enclave_ctx_of(e);

		if (ec && (ec->flags & VS_ENCLAVE_USED) && sweep_enclave(e))
			more = true;
	}
	/* Threads still showing the previous owner may free up shortly. */
	if (more)
		request_sweep(200 * 1000);
	return 0;
}
