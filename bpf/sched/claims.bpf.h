/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Core ownership and claims: who may start a vCPU on which hardware thread.
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

#ifdef VS_TEST_BREAK_PAIRING
/* Test build only: switch-ins go unrecorded, so siblings start any VM. */
#define RECORDED_VM(vm) VS_VM_NONE
#else
#define RECORDED_VM(vm) (vm)
#endif

/* The pairing predicates of bpf/rules/core.h on core_state; core locked, or a hint. */
static __always_inline bool host_blocks(struct vs_core_state *core, u32 sib)
{
	return vs_host_blocks(core->strict, core->host[sib & 1]);
}

static __always_inline bool core_open_to(struct vs_core_state *core, u32 enclave)
{
	return vs_core_open_to(core->closed, core->enclave, enclave);
}

/* Copies @core's fields the rules read (bpf/rules/core.h). */
static __always_inline void core_view_read(struct vs_core_state *core, struct vs_core_view *v)
{
	v->owner = core->owner;
	v->draining = core->draining;
	v->closed = core->closed;
	v->enclave = core->enclave;
	v->strict = core->strict;
	v->owner_since = core->owner_since;
	v->running_vm[0] = core->running_vm[0];
	v->running_vm[1] = core->running_vm[1];
	v->leaving_vm[0] = core->leaving_vm[0];
	v->leaving_vm[1] = core->leaving_vm[1];
	v->claims[0] = core->claims[0];
	v->claims[1] = core->claims[1];
	v->host[0] = core->host[0];
	v->host[1] = core->host[1];
	v->cpu[0] = core->cpu[0];
	v->cpu[1] = core->cpu[1];
}

/*
 * Make @cpu reschedule now, its vCPU's slice zeroed, rather than at its next
 * tick (ops.tick does the same there, the path without a kick).
 */
static void kick_cpu(s32 cpu)
{
	if (cpu < 0 || kick_disabled || !bpf_ksym_exists(scx_bpf_kick_cpu))
		return;
	scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
	__sync_fetch_and_add(&kicks, 1);
}

static __always_inline bool sibling_runs_other(struct vs_core_state *core, u32 th, s32 vm)
{
	return vs_sibling_runs_other(core->running_vm[(th ^ 1) & 1], core->leaving_vm[(th ^ 1) & 1],
				     vm);
}

/* vs_view_handover_ok() on core_state; core locked. */
static __always_inline bool core_handover_ok(struct vs_core_state *core, u32 th, s32 vm)
{
	return !sibling_runs_other(core, th, vm) && !core->claims[0] && !core->claims[1];
}

/* The owner must hand @core over once its sibling's vCPU is off; core locked. */
static void start_drain(struct vs_core_state *core, u64 now)
{
	u32 c = core->cpu[0];

	if (!core->draining && c < VS_MAX_CPUS)
		drain_since[c] = now;
	core->draining = 1;
}

static void end_drain(struct vs_core_state *core, u64 now)
{
	u32 c = core->cpu[0];
	u64 len;

	if (!core->draining || c >= VS_MAX_CPUS || !drain_since[c] || now < drain_since[c])
		return;
	len = now - drain_since[c];
	drain_since[c] = 0;
	__sync_fetch_and_add(&drains, 1);
	__sync_fetch_and_add(&drain_ns, len);
	if (len > drain_max_ns)
		drain_max_ns = len;
}

static void set_owner(struct vs_core_state *core, s32 vm, u64 now)
{
	end_drain(core, now);
	count_owner_change(core->owner, vm);
	if (vm >= 0)
		vm_last_core[vm & (VS_MAX_VMS - 1)] = core->cpu[0];
	core->owner = vm;
	core->owner_since = now;
	core->draining = 0;
}

/* Drops one claim on @cpu (the vCPU it was for ran, left or was re-queued). */
static void drop_claim(s32 cpu)
{
	struct vs_core_state *core;
	u32 th;

	core = core_of(cpu, &th);
	if (!core)
		return;
	bpf_spin_lock(&core->lock);
	if (core->claims[th & 1])
		core->claims[th & 1]--;
	bpf_spin_unlock(&core->lock);
}

/* Ends the claim the vCPU in @slot holds, if any; returns the CPU it was on, or -1. */
static s32 release_claim(u32 slot)
{
	struct vs_claim *c = claim_of_slot(slot);
	s32 cpu1;

	if (!c)
		return -1;
	cpu1 = __sync_lock_test_and_set(&c->cpu1, 0);
	if (cpu1 > 0)
		drop_claim(cpu1 - 1);
	return cpu1 - 1;
}

/*
 * Takes back a vCPU claim @c made for @cpu. False if a dequeue released it
 * meanwhile: that path dropped @cpu's claim with it (release_claim).
 */
static bool claim_taken_back(struct vs_claim *c, s32 cpu)
{
	return __sync_val_compare_and_swap(&c->cpu1, cpu + 1, 0) == cpu + 1;
}

/*
 * Reserve @cpu for a vCPU of @vm if the pairing rules allow (vs_reserve_decide),
 * handing the core to @vm when @may_take_core and the core is free of other
 * VMs. On success the thread carries one more claim, to be attached to a vCPU
 * (attach_claim) or dropped (drop_claim).
 */
static bool reserve_cpu_for(s32 cpu, s32 vm, bool may_take_core)
{
	struct vs_core_state *core;
	struct vs_core_view v;
	u64 now = bpf_ktime_get_ns();
	enum vs_reserve r;
	u32 th, enclave;

	core = core_of(cpu, &th);
	if (!core)
		return false;
	enclave = vm_enclave(vm);
	bpf_spin_lock(&core->lock);
	core_view_read(core, &v);
	r = vs_reserve_decide(&v, th, vm, enclave, may_take_core);
	if (r == VS_RESERVE_TAKE)
		set_owner(core, vm, now);
	if (r != VS_RESERVE_NO)
		core->claims[th & 1]++;
	bpf_spin_unlock(&core->lock);
	return r != VS_RESERVE_NO;
}

/*
 * Move the first vCPU of @vm that may run on @cpu from its VM's DSQ to
 * @dsq_id (this CPU's SCX_DSQ_LOCAL or SCX_DSQ_LOCAL_ON | cpu), attaching the
 * claim reserved on @cpu to it. The claim is attached before the move, so the
 * vCPU cannot run before it holds it; a vCPU another path is committing is
 * skipped. @tid, if non-zero, restricts the search to that thread. With @held
 * the caller already holds that vCPU's claim for @cpu.
 *
 * On failure the claim reserved on @cpu is gone: dropped here, or already
 * dropped by the path that took the vCPU off the DSQ meanwhile (a dequeue
 * releases the vCPU's claim, and the CPU's claim with it). Dropping it here
 * as well would take away another vCPU's claim on that CPU.
 */
static bool move_vcpu(s32 vm, s32 cpu, u64 dsq_id, u32 tid, struct vs_claim *held)
{
	/* Into another CPU's local DSQ: preempt what it runs, do not wait for its tick. */
	u64 enq_flags = dsq_id == SCX_DSQ_LOCAL ? 0 : SCX_ENQ_PREEMPT;
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;
	bool moved = false, cpu_claimed = true, tried = false;

	if (vm < 0 || vm >= vs_max_vms)
		goto out;
	bpf_iter_scx_dsq_new(&it, VS_DSQ_VM(vm), 0);
	while ((p = bpf_iter_scx_dsq_next(&it))) {
		u32 ptid = p->pid;
		struct vs_vcpu_id *id;
		struct vs_claim *c;

		if (tid && ptid != tid)
			continue;
		if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			continue;
		id = bpf_map_lookup_elem(&vcpu_map, &ptid);
		if (!id || !(c = claim_of_slot(id->slot)))
			continue;
		if (!held && __sync_val_compare_and_swap(&c->cpu1, 0, cpu + 1) != 0)
			continue;
		tried = true;
		if (vs_dsq_move(&it, p, dsq_id, enq_flags)) {
			moved = true;
			break;
		}
		if (!claim_taken_back(c, cpu)) {
			cpu_claimed = false;
			break;
		}
		if (held)
			break;
	}
	bpf_iter_scx_dsq_destroy(&it);
out:
	if (!moved && held && !tried && !claim_taken_back(held, cpu))
		cpu_claimed = false;
	if (!moved && cpu_claimed)
		drop_claim(cpu);
	return moved;
}
