/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmm_sched: a sched_ext scheduler for the vCPU threads of KVM guests, with
 * core scheduling by VM.
 *
 * Partial mode: only threads the agent moved to SCHED_EXT are ours. A thread
 * the agent enrolled (vcpu_map) is a vCPU; any other SCHED_EXT task is a stray.
 * vCPUs queue on their VM's DSQ and run only on enclave CPUs; the global DSQ is
 * never used.
 *
 * Core pairing: each enclave core has an owner VM (core_state). A hardware
 * thread starts a vCPU only of the owner, and only after *claiming* that under
 * the core's lock; the owner changes only while no thread of the core runs or
 * has claimed a vCPU of another VM. What a thread runs is recorded by our own
 * sched_switch hook, at the same point an independent tracer sees it, so a
 * sibling never starts a new VM before the old VM's vCPU has switched out.
 * Fair, RT and other host tasks outrank SCHED_EXT; in strict mode a thread
 * starts no vCPU while its sibling runs a host task, and a running vCPU is cut
 * short at the next tick (at once where scx_bpf_kick_cpu() links).
 *
 * Sharing: a VM's vtime grows with the core time its vCPUs use, scaled down by
 * its weight; a core goes to the runnable VM with the lowest vtime, and the
 * owner hands over after core_slice_ns when another VM is owed.
 */
#include "scx_kfuncs.bpf.h"
#include "vmm_sched_abi.h"

char _license[] SEC("license") = "GPL";

#define PF_EXITING	0x00000004 /* include/linux/sched.h, not in BTF */
#define SCHED_EXT	7
#define TASK_RUNNING	0
#define CLOCK_MONOTONIC 1
#define ENOENT		2

const volatile __u32 abi_version = VS_ABI_VERSION;
const volatile __u64 slice_ns = 5000000;
const volatile __u32 nr_cpus = 1;
const volatile __u32 pairing_mode = VS_PAIRING_STRICT;

struct vs_exit_info exit_info;
__u64 msg_drops; /* messages lost because the ring buffer was full */
__u64 stray_enqueues;
__u64 core_slice_ns = 10000000; /* how long an owner keeps a core while others wait */
__u64 vtime_floor;		/* vtime of the VM last granted a core */
bool kick_supported;		/* scx_bpf_kick_cpu() links on this kernel */
/*
 * Switch-ins that found the sibling running another VM, as this scheduler's
 * own hook sees it: a diagnostic, not proof (tests use tests/checker).
 */
__u64 self_check_overlaps;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VS_MAX_VCPUS);
	__type(key, u32);
	__type(value, struct vs_vcpu_id);
} vcpu_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_VCPUS);
	__type(key, u32);
	__type(value, struct vs_vcpu_stats);
} vcpu_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_CPUS);
	__type(key, u32);
	__type(value, struct vs_cpu_ctx);
} cpu_ctx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_CPUS);
	__type(key, u32);
	__type(value, struct vs_cpu_stats);
} cpu_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_CPUS);
	__type(key, u32);
	__type(value, struct vs_core_state);
} core_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_VMS);
	__type(key, u32);
	__type(value, struct vs_vm_ctx);
} vm_ctx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_VMS);
	__type(key, u32);
	__type(value, struct vs_vm_state);
} vm_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} messages SEC(".maps");

/* Per-task state, attached when a task enters SCHED_EXT. */
struct vs_task {
	bool is_vcpu;
	u32 vm_id;
	u32 vcpu_index;
	u32 slot;
	u64 runnable_at; /* when it last became runnable */
	u64 started_at;	 /* when it last got a CPU */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vs_task);
} task_ctx SEC(".maps");

/* Why a CPU idles with vCPUs waiting, for forced-idle accounting. */
enum idle_reason { IDLE_NONE, IDLE_FORCED, IDLE_HOST };
struct cpu_idle {
	u64 since;
	u32 reason;
	s32 owner; /* the core's owner when the idle window began */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_CPUS);
	__type(key, u32);
	__type(value, struct cpu_idle);
} cpu_idle SEC(".maps");

static struct vs_cpu_ctx *cpu_ctx_of(s32 cpu)
{
	u32 key = cpu;

	return bpf_map_lookup_elem(&cpu_ctx, &key);
}

/* The core of an enclave CPU and the CPU's thread index in it; NULL outside the enclave. */
static struct vs_core_state *core_of(s32 cpu, u32 *thread)
{
	struct vs_cpu_ctx *c = cpu_ctx_of(cpu);
	u32 key;

	if (!c || !(c->flags & VS_CPU_IN_ENCLAVE))
		return NULL;
	key = c->core_id;
	*thread = (u32)cpu == c->core_id ? 0 : 1;
	return bpf_map_lookup_elem(&core_state, &key);
}

static struct vs_task *vcpu_of(struct task_struct *p)
{
	struct vs_task *t = bpf_task_storage_get(&task_ctx, p, NULL, 0);

	return t && t->is_vcpu ? t : NULL;
}

static struct vs_vcpu_stats *stats_of(struct vs_task *t)
{
	u32 slot = t->slot;

	return bpf_map_lookup_elem(&vcpu_stats, &slot);
}

static struct vs_cpu_stats *cpu_stats_of(s32 cpu)
{
	u32 key = cpu;

	return bpf_map_lookup_elem(&cpu_stats, &key);
}

static struct vs_vm_state *vm_state_of(s32 vm)
{
	u32 key = vm;

	if (vm < 0 || vm >= VS_MAX_VMS)
		return NULL;
	return bpf_map_lookup_elem(&vm_state, &key);
}

static u32 vm_weight(u32 vm)
{
	struct vs_vm_ctx *v = bpf_map_lookup_elem(&vm_ctx, &vm);

	return v && v->weight ? v->weight : VS_WEIGHT_SCALE;
}

static void send_msg(struct vs_task *t, struct vs_vcpu_stats *st, u16 type)
{
	struct vs_cpu_stats *cs = cpu_stats_of(bpf_get_smp_processor_id());
	struct vs_msg *m;
	u32 seq = __sync_add_and_fetch(&st->seqnum, 1);

	m = bpf_ringbuf_reserve(&messages, sizeof(*m), 0);
	if (!m) {
		__sync_fetch_and_add(&msg_drops, 1);
		return;
	}
	m->type = type;
	m->length = sizeof(*m);
	m->seqnum = seq;
	m->tid = st->tid;
	m->vm_id = t->vm_id;
	m->vcpu_index = t->vcpu_index;
	m->cpu = bpf_get_smp_processor_id();
	m->cpu_seqnum = cs ? __sync_add_and_fetch(&cs->cpu_seqnum, 1) : 0;
	m->pad = 0;
	m->timestamp = bpf_ktime_get_ns();
	m->runtime = st->run_ns;
	bpf_ringbuf_submit(m, 0);
}

/* Closes the CPU's idle window, if any, charging it as forced or host idle. */
static void end_idle_window(s32 cpu, u64 now)
{
	u32 key = cpu;
	struct cpu_idle *ci = bpf_map_lookup_elem(&cpu_idle, &key);
	struct vs_cpu_stats *cs;
	struct vs_vm_state *vs;
	u64 len;

	if (!ci || !ci->since || ci->reason == IDLE_NONE)
		return;
	len = now > ci->since ? now - ci->since : 0;
	cs = cpu_stats_of(cpu);
	if (cs && ci->reason == IDLE_HOST)
		__sync_fetch_and_add(&cs->host_idle_ns, len);
	if (cs && ci->reason == IDLE_FORCED)
		__sync_fetch_and_add(&cs->forced_idle_ns, len);
	if (ci->reason == IDLE_FORCED && (vs = vm_state_of(ci->owner)))
		__sync_fetch_and_add(&vs->forced_idle_ns, len);
	ci->since = 0;
	ci->reason = IDLE_NONE;
}

static void start_idle_window(s32 cpu, u64 now, u32 reason, s32 owner)
{
	u32 key = cpu;
	struct cpu_idle *ci = bpf_map_lookup_elem(&cpu_idle, &key);

	if (!ci)
		return;
	ci->since = now;
	ci->reason = reason;
	ci->owner = owner;
}

static bool host_blocks(struct vs_core_state *core, u32 sib)
{
	return pairing_mode == VS_PAIRING_STRICT && core->host[sib & 1];
}

static bool claim_live(struct vs_core_state *core, u32 th, u64 now)
{
	return core->claims[th & 1] && now - core->claim_at[th & 1] < VS_CLAIM_TTL_NS;
}

/*
 * Safe to commit thread @th to a vCPU of @vm: no other thread of the core
 * runs, holds or has claimed a vCPU of another VM. Called with the core locked.
 */
static bool core_free_for(struct vs_core_state *core, u32 th, s32 vm, u64 now)
{
	u32 sib = (th ^ 1) & 1;
	s32 other = core->running_vm[sib];

	if (other != VS_VM_NONE && other != vm)
		return false;
	if ((claim_live(core, sib, now) || core->held[sib]) && core->owner != vm)
		return false;
	return true;
}

static void claim_thread(struct vs_core_state *core, u32 th, u64 now)
{
	if (!claim_live(core, th, now))
		core->claims[th & 1] = 0;
	core->claims[th & 1]++;
	core->claim_at[th & 1] = now;
}

/*
 * The runnable VM owed a core most: lowest vtime among VMs with queued vCPUs
 * (or whose vCPU @prev_vm is still runnable on this CPU).
 */
static s32 pick_owed_vm(s32 prev_vm, u32 *nr_queued_out)
{
	u64 best_vtime = (u64)-1;
	s32 best = VS_VM_NONE;
	u32 vm;

	bpf_for(vm, 0, VS_MAX_VMS)
	{
		struct vs_vm_state *vs;
		s32 queued = scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm));

		if (queued <= 0 && (s32)vm != prev_vm)
			continue;
		vs = vm_state_of(vm);
		if (vs && vs->vtime < best_vtime) {
			best_vtime = vs->vtime;
			best = vm;
			*nr_queued_out = queued > 0 ? queued : 0;
		}
	}
	return best;
}

struct sweep_timer {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct sweep_timer);
} sweep SEC(".maps");

static bool claim_cpu_for(s32 cpu, s32 vm, bool may_take_core, bool claim);
static void unclaim_cpu(s32 cpu);

/* Run the placement sweep soon (it runs once however often it is asked). */
static void request_sweep(u64 delay_ns)
{
	u32 zero = 0;
	struct sweep_timer *st = bpf_map_lookup_elem(&sweep, &zero);

	if (st)
		bpf_timer_start(&st->timer, delay_ns, 0);
}

/* Move the first vCPU of @vm that may run on @cpu into @cpu's local DSQ. */
static bool move_vcpu_to(s32 vm, s32 cpu)
{
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;
	bool moved = false;

	bpf_iter_scx_dsq_new(&it, VS_DSQ_VM(vm), 0);
	while ((p = bpf_iter_scx_dsq_next(&it))) {
		if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			continue;
		if (vs_dsq_move(&it, p, SCX_DSQ_LOCAL_ON | cpu, 0)) {
			moved = true;
			break;
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	return moved;
}

/*
 * Placement sweep: an idle CPU is not woken by anything while vCPUs wait on a
 * VM's DSQ (the kernel may idle a CPU without calling ops.dispatch, and the
 * kick kfunc may not link). This timer moves queued vCPUs onto idle enclave
 * threads where the pairing rules allow: the owner's vCPUs onto its cores,
 * the most owed VM onto wholly free cores. Moving into an idle CPU's local
 * DSQ wakes it. Runs outside any rq lock, as dsq_move to another CPU needs.
 */
static int sweep_timer_fn(void *map, int *key, struct sweep_timer *st)
{
	u32 cpu, nr_best = 0;
	s32 best = pick_owed_vm(VS_VM_NONE, &nr_best);
	bool more = false;

	if (best < 0)
		return 0;
	bpf_for(cpu, 0, nr_cpus)
	{
		struct vs_core_state *core;
		s32 vm;
		u32 th;

		core = core_of(cpu, &th);
		if (!core || core->running_vm[th & 1] != VS_VM_NONE || core->held[th & 1] ||
		    core->host[th & 1])
			continue;
		vm = core->owner;
		if (vm < 0 || vm >= VS_MAX_VMS || core->draining ||
		    scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm)) <= 0)
			vm = best;
		if (scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm)) <= 0)
			continue;
		if (!claim_cpu_for(cpu, vm, true, true))
			continue;
		if (!scx_bpf_test_and_clear_cpu_idle(cpu)) {
			unclaim_cpu(cpu);
			continue;
		}
		if (move_vcpu_to(vm, cpu)) {
			__sync_fetch_and_add(&core->sibling_wakeups, 1);
			more = true;
		} else {
			unclaim_cpu(cpu);
		}
	}
	/* Threads still showing the previous owner may free up shortly. */
	if (more)
		request_sweep(200 * 1000);
	return 0;
}

/*
 * Commit @cpu to a vCPU of @vm if the pairing rules allow, taking ownership
 * of a core that runs nothing when @may_take_core. With @claim false it only
 * checks (a CPU keeping its current vCPU needs no claim). True if allowed.
 */
static bool claim_cpu_for(s32 cpu, s32 vm, bool may_take_core, bool claim)
{
	struct vs_core_state *core;
	u64 now = bpf_ktime_get_ns();
	u32 th;
	bool ok;

	core = core_of(cpu, &th);
	if (!core)
		return false;
	bpf_spin_lock(&core->lock);
	ok = !host_blocks(core, th ^ 1) && core_free_for(core, th, vm, now);
	if (ok && core->owner != vm) {
		ok = may_take_core && core->running_vm[th & 1] == VS_VM_NONE &&
		     core->running_vm[(th ^ 1) & 1] == VS_VM_NONE && !claim_live(core, 0, now) &&
		     !claim_live(core, 1, now) && !core->held[0] && !core->held[1];
		if (ok) {
			core->owner = vm;
			core->owner_since = now;
			core->draining = 0;
		}
	} else if (ok && core->draining) {
		ok = false;
	}
	if (ok && claim)
		claim_thread(core, th, now);
	bpf_spin_unlock(&core->lock);
	return ok;
}

static void unclaim_cpu(s32 cpu)
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

/*
 * Put @p on @cpu if the pairing rules allow and @cpu is idle. The claim comes
 * first and the idle bit second: clearing the idle bit of a CPU we then do not
 * use would hide an idle CPU from every later search.
 */
static bool place_on_idle_cpu(struct task_struct *p, s32 cpu, s32 vm, u64 enq_flags)
{
	if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr) || !claim_cpu_for(cpu, vm, true, true))
		return false;
	if (!scx_bpf_test_and_clear_cpu_idle(cpu)) {
		unclaim_cpu(cpu);
		return false;
	}
	vs_dsq_insert(p, SCX_DSQ_LOCAL_ON | cpu, slice_ns, enq_flags);
	return true;
}

/* Where a vCPU runs is decided in enqueue and dispatch. */
s32 BPF_STRUCT_OPS(vs_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return prev_cpu;
}

/*
 * Place a runnable vCPU on an idle CPU where the pairing rules allow it (its
 * previous CPU first, then cores its VM owns, then free cores), else on its
 * VM's DSQ for dispatch to pick up. Inserting into an idle CPU's local DSQ
 * wakes that CPU, so no kick is needed. SCX_ENQ_LAST asks whether the CPU
 * keeps its last task: yes if the core is still this VM's and not handed over.
 */
void BPF_STRUCT_OPS(vs_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vm_state *vs;
	s32 prev, vm;
	u32 i, pass;

	if (!t) {
		__sync_fetch_and_add(&stray_enqueues, 1);
		vs_dsq_insert(p, VS_DSQ_STRAY, slice_ns, enq_flags);
		return;
	}
	vm = t->vm_id;
	prev = scx_bpf_task_cpu(p);
	/*
	 * SCX_ENQ_LAST: the CPU is already on its way to idle, so a task put on
	 * its local DSQ would wait there for an unrelated interrupt (this kernel
	 * may not link the kick). Queue it and let the sweep move it to an idle
	 * CPU, which wakes that CPU: usually this one, a moment later.
	 */
	if (enq_flags & SCX_ENQ_LAST) {
		vs_dsq_insert(p, VS_DSQ_VM(vm), slice_ns, enq_flags);
		request_sweep(0);
		return;
	}
	/* A VM coming back from idle does not bring banked credit. */
	vs = vm_state_of(vm);
	if (vs && vs->vtime + core_slice_ns < vtime_floor)
		vs->vtime = vtime_floor - core_slice_ns;

	if (place_on_idle_cpu(p, prev, vm, enq_flags))
		return;
	/* Pass 0: threads of cores this VM owns; pass 1: cores nobody uses. */
	bpf_for(pass, 0, 2)
	{
		bpf_for(i, 0, nr_cpus)
		{
			struct vs_core_state *core;
			u32 th;

			if ((s32)i == prev)
				continue;
			core = core_of(i, &th);
			if (!core || core->running_vm[th & 1] != VS_VM_NONE || core->host[th & 1])
				continue;
			if (pass == 0 && (core->owner != vm || core->draining))
				continue;
			if (pass == 1 && (core->running_vm[(th ^ 1) & 1] != VS_VM_NONE ||
					  core->held[0] || core->held[1]))
				continue;
			if (place_on_idle_cpu(p, i, vm, enq_flags))
				return;
		}
	}
	vs_dsq_insert(p, VS_DSQ_VM(vm), slice_ns, enq_flags);
	request_sweep(50 * 1000);
}

enum dispatch_decision {
	DECIDE_NONE,
	DECIDE_RUN,
	DECIDE_KEEP_PREV,
	DECIDE_FORCED_IDLE,
	DECIDE_HOST_IDLE
};

void BPF_STRUCT_OPS(vs_dispatch, s32 cpu, struct task_struct *prev)
{
	struct vs_core_state *core;
	struct vs_task *pt;
	struct vs_vm_state *bvs;
	struct vs_cpu_stats *cs;
	u32 th, nr_best = 0, decision = DECIDE_NONE;
	s32 owner, best, prev_vm = VS_VM_NONE, run_vm = VS_VM_NONE;
	u64 now = bpf_ktime_get_ns();
	bool owner_changed = false, wake_sibling = false, owner_has_work;
	s32 owner_queued;

	core = core_of(cpu, &th);
	if (!core) {
		vs_dsq_move_to_local(VS_DSQ_STRAY);
		return;
	}
	end_idle_window(cpu, now);
	if (prev && (prev->scx.flags & SCX_TASK_QUEUED) && (pt = vcpu_of(prev)))
		prev_vm = pt->vm_id;
	owner = core->owner;
	owner_queued =
	    owner >= 0 && owner < VS_MAX_VMS ? scx_bpf_dsq_nr_queued(VS_DSQ_VM(owner)) : 0;
	owner_has_work = owner_queued > 0 || (owner >= 0 && owner == prev_vm);
	best = pick_owed_vm(prev_vm, &nr_best);
	bvs = vm_state_of(best);

	bpf_spin_lock(&core->lock);
	/*
	 * Claims on this thread are not reset here: another CPU may have claimed
	 * it and be inserting a vCPU into its local DSQ right now. Switch-ins
	 * consume claims, and a claim that never turns into one lapses.
	 */
	if (host_blocks(core, th ^ 1)) {
		decision = DECIDE_HOST_IDLE;
	} else if (best >= 0 && core->owner == best && !core->draining) {
		decision = best == prev_vm && nr_best == 0 ? DECIDE_KEEP_PREV : DECIDE_RUN;
	} else if (best >= 0 && core->owner == owner && owner_has_work && !core->draining &&
		   now - core->owner_since < core_slice_ns) {
		/* Another VM is owed more, but the owner's turn on this core is not over. */
		decision = owner == prev_vm && !owner_queued ? DECIDE_KEEP_PREV : DECIDE_RUN;
		best = owner;
	}
	if (decision == DECIDE_NONE && best >= 0) {
		if (core_free_for(core, th, best, now)) {
			if (core->owner != best) {
				core->owner = best;
				core->owner_since = now;
				owner_changed = true;
			}
			core->draining = 0;
			decision = best == prev_vm && nr_best == 0 ? DECIDE_KEEP_PREV : DECIDE_RUN;
			wake_sibling = nr_best >= 2;
		} else {
			/* The sibling still runs the owner: hand over once it stops. */
			core->draining = 1;
			decision = DECIDE_FORCED_IDLE;
		}
	}
	if (decision == DECIDE_RUN)
		claim_thread(core, th, now);
	/* An idle sibling may take another vCPU of the owner. */
	if (decision == DECIDE_RUN && core->cpu[(th ^ 1) & 1] >= 0 &&
	    core->running_vm[(th ^ 1) & 1] == VS_VM_NONE && !claim_live(core, th ^ 1, now))
		wake_sibling = true;
	run_vm = best;
	owner = core->owner;
	bpf_spin_unlock(&core->lock);

	cs = cpu_stats_of(cpu);
	if (owner_changed) {
		if (cs)
			__sync_fetch_and_add(&cs->owner_changes, 1);
		if (bvs) {
			__sync_fetch_and_add(&bvs->core_grants, 1);
			vtime_floor = bvs->vtime;
		}
	}
	switch (decision) {
	case DECIDE_RUN:
		if (vs_dsq_move_to_local(VS_DSQ_VM(run_vm))) {
			if (wake_sibling && scx_bpf_dsq_nr_queued(VS_DSQ_VM(run_vm)) > 0)
				request_sweep(0);
			return;
		}
		bpf_spin_lock(&core->lock);
		if (core->claims[th & 1])
			core->claims[th & 1]--;
		bpf_spin_unlock(&core->lock);
		break;
	case DECIDE_KEEP_PREV:
		/* prev comes back through SCX_ENQ_LAST in vs_enqueue and the sweep. */
		return;
	case DECIDE_FORCED_IDLE:
		start_idle_window(cpu, now, IDLE_FORCED, owner);
		return;
	case DECIDE_HOST_IDLE:
		start_idle_window(cpu, now, IDLE_HOST, owner);
		return;
	}
	/* Nothing of ours to run: strays, but only on a core free of vCPUs. */
	if (core->running_vm[0] == VS_VM_NONE && core->running_vm[1] == VS_VM_NONE &&
	    !claim_live(core, 0, now) && !claim_live(core, 1, now) && !core->held[0] &&
	    !core->held[1] && vs_dsq_move_to_local(VS_DSQ_STRAY)) {
		if (cs)
			cs->stray_runs++;
		return;
	}
	if (cs)
		cs->empty_dispatch++;
}

/*
 * What each hardware thread really runs, from the same event an independent
 * tracer sees. running_vm is stored before a claim is consumed so a sibling
 * reading claims then running_vm under its lock never misses both.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(vs_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	s32 cpu = bpf_get_smp_processor_id(), sib_cpu;
	struct vs_core_state *core;
	struct vs_task *tn, *tp;
	struct vs_cpu_stats *cs;
	u32 th;
	bool host;

	core = core_of(cpu, &th);
	if (!core)
		return 0;
	tn = vcpu_of(next);
	tp = vcpu_of(prev);
	host = !tn && next->pid != 0;
	/*
	 * A vCPU preempted by a higher class waits at the head of this CPU's local
	 * DSQ (if it had slice left): held until the host task leaves.
	 */
	if (tp && prev_state == TASK_RUNNING && host)
		core->held[th & 1] = 1;
	if (tn) {
		s32 other = core->running_vm[(th ^ 1) & 1];

		if (other != VS_VM_NONE && other != (s32)tn->vm_id)
			__sync_fetch_and_add(&self_check_overlaps, 1);
	}
	__sync_lock_test_and_set(&core->running_vm[th & 1], tn ? (s32)tn->vm_id : VS_VM_NONE);
	core->host[th & 1] = host;
	if (!host)
		core->held[th & 1] = 0;
	if (tn && core->claims[th & 1])
		__sync_fetch_and_sub(&core->claims[th & 1], 1);
	sib_cpu = core->cpu[(th ^ 1) & 1];
	/* A host task left: a sibling that idled for it may run vCPUs again. */
	if (!host && !vcpu_of(prev) && prev->pid != 0 && sib_cpu >= 0 && core->owner >= 0 &&
	    core->running_vm[(th ^ 1) & 1] == VS_VM_NONE)
		request_sweep(0);
	if (host && pairing_mode == VS_PAIRING_STRICT && sib_cpu >= 0 &&
	    core->running_vm[(th ^ 1) & 1] != VS_VM_NONE) {
		cs = cpu_stats_of(sib_cpu);
		if (cs)
			__sync_fetch_and_add(&cs->host_evictions, 1);
	}
	return 0;
}

/*
 * Per tick on a CPU running a vCPU: cut the slice short if a host task runs on
 * the sibling (strict mode) or the core is being handed to another VM.
 */
void BPF_STRUCT_OPS(vs_tick, struct task_struct *p)
{
	struct vs_core_state *core;
	struct vs_task *t = vcpu_of(p);
	u32 th;

	if (!t)
		return;
	core = core_of(bpf_get_smp_processor_id(), &th);
	if (!core)
		return;
	if (host_blocks(core, th ^ 1) || core->draining || core->owner != (s32)t->vm_id)
		p->scx.slice = 0;
}

void BPF_STRUCT_OPS(vs_runnable, struct task_struct *p, u64 enq_flags)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vcpu_stats *st;

	if (!t || !(st = stats_of(t)))
		return;
	st->wakeups++;
	t->runnable_at = bpf_ktime_get_ns();
	send_msg(t, st, VS_MSG_VCPU_WAKEUP);
}

void BPF_STRUCT_OPS(vs_running, struct task_struct *p)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vcpu_stats *st;
	struct vs_cpu_stats *cs;
	u32 cpu = bpf_get_smp_processor_id();
	u64 now = bpf_ktime_get_ns();

	if (!t || !(st = stats_of(t)))
		return;
	end_idle_window(cpu, now);
	t->started_at = now;
	if (t->runnable_at && now > t->runnable_at)
		st->wait_ns += now - t->runnable_at;
	t->runnable_at = 0;
	if (st->runs && st->last_cpu != cpu)
		st->migrations++;
	st->runs++;
	st->last_cpu = cpu;
	cs = cpu_stats_of(cpu);
	if (cs)
		cs->vcpu_runs++;
	send_msg(t, st, VS_MSG_VCPU_ON_CPU);
}

void BPF_STRUCT_OPS(vs_stopping, struct task_struct *p, bool runnable)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vcpu_stats *st;
	struct vs_cpu_stats *cs;
	struct vs_vm_state *vs;
	u64 now = bpf_ktime_get_ns(), ran;

	if (!t || !(st = stats_of(t)))
		return;
	ran = t->started_at && now > t->started_at ? now - t->started_at : 0;
	st->run_ns += ran;
	cs = cpu_stats_of(bpf_get_smp_processor_id());
	if (cs)
		cs->vcpu_ns += ran;
	vs = vm_state_of(t->vm_id);
	if (vs) {
		__sync_fetch_and_add(&vs->run_ns, ran);
		__sync_fetch_and_add(&vs->vtime, ran * VS_WEIGHT_SCALE / vm_weight(t->vm_id));
	}
	if (runnable) {
		st->preempts++;
		t->runnable_at = now;
		send_msg(t, st, VS_MSG_VCPU_PREEMPTED);
	}
}

void BPF_STRUCT_OPS(vs_quiescent, struct task_struct *p, u64 deq_flags)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vcpu_stats *st;

	if (!t || !(st = stats_of(t)))
		return;
	if (deq_flags & SCX_DEQ_SLEEP)
		send_msg(t, st, VS_MSG_VCPU_BLOCKED);
}

void BPF_STRUCT_OPS(vs_enable, struct task_struct *p)
{
	struct vs_vcpu_id *id;
	struct vs_vcpu_stats *st;
	struct vs_task *t;
	u32 tid = p->pid;

	t = bpf_task_storage_get(&task_ctx, p, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		scx_bpf_error("vmm_sched: no task storage for tid %d", tid);
		return;
	}
	id = bpf_map_lookup_elem(&vcpu_map, &tid);
	if (!id || id->vm_id >= VS_MAX_VMS || id->slot >= VS_MAX_VCPUS) {
		t->is_vcpu = false;
		return;
	}
	t->is_vcpu = true;
	t->vm_id = id->vm_id;
	t->vcpu_index = id->vcpu_index;
	t->slot = id->slot;
	t->runnable_at = 0;
	t->started_at = 0;
	st = stats_of(t);
	if (!st)
		return;
	st->tid = tid;
	send_msg(t, st, VS_MSG_VCPU_NEW);
}

void BPF_STRUCT_OPS(vs_disable, struct task_struct *p)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vcpu_stats *st;

	if (!t || !(st = stats_of(t)))
		return;
	send_msg(t, st, (p->flags & PF_EXITING) ? VS_MSG_VCPU_DEAD : VS_MSG_VCPU_DEPARTED);
	t->is_vcpu = false;
}

/*
 * Sleepable (scx_bpf_create_dsq needs it): the loader sets BPF_F_SLEEPABLE,
 * because bookworm's bpftool 7.1 cannot open a "struct_ops.s/" section.
 */
s32 BPF_STRUCT_OPS(vs_init)
{
	struct sweep_timer *st;
	u32 vm, zero = 0;
	s32 err;

	kick_supported = bpf_ksym_exists(scx_bpf_kick_cpu);
	err = scx_bpf_create_dsq(VS_DSQ_STRAY, -1);
	if (err)
		return err;
	bpf_for(vm, 0, VS_MAX_VMS)
	{
		err = scx_bpf_create_dsq(VS_DSQ_VM(vm), -1);
		if (err)
			return err;
	}
	st = bpf_map_lookup_elem(&sweep, &zero);
	if (!st)
		return -ENOENT;
	bpf_timer_init(&st->timer, &sweep, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&st->timer, sweep_timer_fn);
	return 0;
}

void BPF_STRUCT_OPS(vs_exit, struct scx_exit_info *ei)
{
	exit_info.exit_code = ei->exit_code;
	bpf_probe_read_kernel_str(exit_info.reason, sizeof(exit_info.reason), ei->reason);
	bpf_probe_read_kernel_str(exit_info.msg, sizeof(exit_info.msg), ei->msg);
	/* Written last: the agent reads the strings once it sees a kind. */
	__sync_lock_test_and_set(&exit_info.kind, ei->kind);
}

SEC(".struct_ops")
struct sched_ext_ops vmm_sched_ops = {
    .select_cpu = (void *)vs_select_cpu,
    .enqueue = (void *)vs_enqueue,
    .dispatch = (void *)vs_dispatch,
    .tick = (void *)vs_tick,
    .runnable = (void *)vs_runnable,
    .running = (void *)vs_running,
    .stopping = (void *)vs_stopping,
    .quiescent = (void *)vs_quiescent,
    .enable = (void *)vs_enable,
    .disable = (void *)vs_disable,
    .init = (void *)vs_init,
    .exit = (void *)vs_exit,
    .flags = SCX_OPS_SWITCH_PARTIAL | SCX_OPS_ENQ_LAST,
    .name = "vmm_sched",
};
