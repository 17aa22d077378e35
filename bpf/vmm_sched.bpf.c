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
 * short at once where scx_bpf_kick_cpu() links (else at its next tick).
 *
 * Sharing: a VM's vtime grows with the core time its vCPUs use, scaled down by
 * its weight (the agent's share plan); a core goes to the runnable VM with the
 * lowest vtime that is under its cap, and the owner hands over after
 * core_slice_ns (also the agent's) when another VM is owed. A free core is
 * taken on the VM's home NUMA node first.
 */
#include "scx_kfuncs.bpf.h"
#include "vmm_sched_abi.h"
#include "vmm_sched_cpu_time.h"
#include "vmm_sched_hints.h"
#include "vmm_sched_smt.h"
#include "vmm_sched_txn.h"

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
/* How long an owner keeps a core while others wait, until the agent plans an enclave's. */
__u64 core_slice_ns = 10000000;
bool caps_in_use;		    /* some VM has a cap (vm_ctx.cap_cores), set by the agent */
__u64 vtime_floor[VS_MAX_ENCLAVES]; /* by enclave: vtime of the VM last granted a core there */
/*
 * A VM with queued vCPUs none of which ran for this long is owed a core
 * before any vtime: a tiny weight against a big one may make it wait for
 * longer than the kernel's watchdog (30 s), which would take the scheduler
 * down. Well above ordinary waits (up to ~1.5 s in the TCG test VM, where a
 * 1 s guard skewed weights 1:2:4 by 40%).
 */
#define STARVED_NS 5000000000ULL
__u64 starved_grants; /* cores given to a VM because it starved */
/* How far a VM with two vCPUs to run may trail and still win a core (vs_owed_pick). */
__u64 pair_window_ns;
/* Handovers in dispatch to a VM with two vCPUs to run over the VM owed most. */
__u64 pair_grants;
bool kick_supported; /* scx_bpf_kick_cpu() links on this kernel */
/* Set by the agent (--no-kick): siblings leave at their next tick, for comparison. */
bool kick_disabled;
__u64 kicks;	   /* scx_bpf_kick_cpu() calls made */
__u64 host_starts; /* vCPU switch-ins beside a host task (strict mode), cut at once */
/* Owner-change drains: from the decision to hand a core over to the handover. */
__u64 drains, drain_ns, drain_max_ns;
__u64 drain_since[VS_MAX_CPUS]; /* by the core's first CPU; 0: not draining */
/*
 * vCPU switch-ins onto a core owned by another VM or next to another VM's
 * vCPU, as this scheduler sees it: a diagnostic, not proof (tests use
 * tests/checker).
 */
__u64 self_check_overlaps;
__u64 switch_overlaps;	   /* vCPU switch-ins (hook) beside another VM's vCPU */
__u64 unrecorded_switches; /* vCPU switch-ins ops.running did not record */
__u64 unclaimed_runs;	   /* vCPUs that started without a claim (enrolment, kernel fallbacks) */
__u64 late_adoptions;	   /* tasks already in SCHED_EXT made vCPUs when vcpu_map listed them */
__u64 misplaced_runs;	   /* vCPUs that ran elsewhere than the CPU they were committed to */
__u64 txn_outcomes[VS_TXN_NR_OUTCOMES]; /* committed transactions by outcome */
__u64 txn_group_partial;		/* group members lost between the decision and the move */
/* Guest hints (vmm_sched_hints.h): set by the agent before load. */
__u64 cs_ext_ns = VS_CS_EXT_DEFAULT_NS;		/* slice extension for a critical section */
__u32 cs_budget_pct = VS_CS_BUDGET_DEFAULT_PCT; /* of a VM's vCPU time, per 1 s window */
/* yield_to() targets by CPU, taken by that CPU's next dispatch: tid, 0 if none. */
__u32 directed_tid[VS_MAX_CPUS];

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
	__uint(max_entries, VS_MAX_ENCLAVES);
	__type(key, u32);
	__type(value, struct vs_enclave_ctx);
} enclave_ctx SEC(".maps");

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

/* See vmm_sched_abi.h: written by the agent only; here so they are pinned with the maps. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct vs_abi_stamp);
} abi SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_VMS);
	__type(key, u32);
	__type(value, struct vs_agent_vm);
} agent_vms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_VCPUS);
	__type(key, u32);
	__type(value, struct vs_agent_vcpu);
} agent_vcpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_VCPUS);
	__type(key, u32);
	__type(value, struct vs_vcpu_hint);
} vcpu_hints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_ENCLAVES);
	__type(key, u32);
	__type(value, struct vs_agent_enclave);
} agent_enclaves SEC(".maps");

/* Per-task state, attached when a task enters SCHED_EXT. */
struct vs_task {
	bool is_vcpu;
	bool escaped; /* its affinity allows no enclave CPU: runs as a host task */
	u32 vm_id;
	u32 vcpu_index;
	u32 slot;
	u64 runnable_at; /* when it last became runnable */
	u64 started_at;	 /* when it last got a CPU */
	u64 ext_at;	 /* when its slice extension began; 0: none running */
	bool ext_done;	 /* it got its extension this run */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vs_task);
} task_ctx SEC(".maps");

/*
 * vcpu_claim[slot]: the CPU a vCPU is committed to. Indexed by vCPU slot
 * rather than kept in task storage so the syscall commit path, which has no
 * task storage, shares it. Set with a compare-and-swap from "none", so of two
 * CPUs racing for one queued vCPU only one commits it.
 */
struct vs_claim {
	s32 cpu1; /* the CPU + 1; 0 when none (so a zeroed map means no claims) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_VCPUS);
	__type(key, u32);
	__type(value, struct vs_claim);
} vcpu_claim SEC(".maps");

/* txns[cpu]: agent transactions (see vmm_sched_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, VS_MAX_CPUS);
	__type(key, u32);
	__type(value, struct vs_txn);
} txns SEC(".maps");

/* Why a CPU idles with vCPUs waiting, as dispatch decides it (bpf/vmm_sched_cpu_time.h). */
enum idle_reason { IDLE_FORCED = VS_TIME_FORCED_IDLE, IDLE_HOST = VS_TIME_HOST_IDLE };

/* The idle reason dispatch chose, until the CPU switches to idle. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_CPUS);
	__type(key, u32);
	__type(value, struct vs_idle_pending);
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

static void vcpu_attach(struct task_struct *p, struct vs_task *t);

/*
 * vcpu_of(), but a task that entered SCHED_EXT before the agent listed it
 * (its VMM chose SCHED_EXT itself, or a previous scheduler left it there)
 * and so was enabled as host work becomes a vCPU once vcpu_map lists it.
 * Without this a VMM could keep its vCPUs out of pairing, running wherever
 * they woke, by setting SCHED_EXT before enrolment.
 */
static struct vs_task *vcpu_of_adopting(struct task_struct *p)
{
	struct vs_task *t = bpf_task_storage_get(&task_ctx, p, NULL, 0);
	u32 tid = p->pid;

	if (!t || t->is_vcpu)
		return t && t->is_vcpu ? t : NULL;
	if (!bpf_map_lookup_elem(&vcpu_map, &tid))
		return NULL;
	vcpu_attach(p, t);
	if (t->is_vcpu)
		__sync_fetch_and_add(&late_adoptions, 1);
	return t->is_vcpu ? t : NULL;
}

static struct vs_vcpu_stats *stats_of(struct vs_task *t)
{
	u32 slot = t->slot;

	return bpf_map_lookup_elem(&vcpu_stats, &slot);
}

/* The guest's VS_HINT_* flags for vCPU @t (mirrored by the agent), 0 if none. */
static u32 hint_of(struct vs_task *t)
{
	u32 slot = t->slot;
	struct vs_vcpu_hint *h = bpf_map_lookup_elem(&vcpu_hints, &slot);

	return h ? h->flags : 0;
}

static struct vs_claim *claim_of_slot(u32 slot)
{
	return bpf_map_lookup_elem(&vcpu_claim, &slot);
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

static struct vs_vm_ctx *vm_ctx_of(s32 vm)
{
	u32 key = vm;

	if (vm < 0 || vm >= VS_MAX_VMS)
		return NULL;
	return bpf_map_lookup_elem(&vm_ctx, &key);
}

static struct vs_enclave_ctx *enclave_ctx_of(u32 enclave)
{
	return bpf_map_lookup_elem(&enclave_ctx, &enclave);
}

/* The enclave of @vm (the default one until the agent wrote its vm_ctx). */
static u32 vm_enclave(s32 vm)
{
	struct vs_vm_ctx *v = vm_ctx_of(vm);

	return v ? v->enclave : VS_ENCLAVE_DEFAULT;
}

/* The enclave of @cpu, or VS_MAX_ENCLAVES if it is in none. */
static u32 cpu_enclave(s32 cpu)
{
	struct vs_cpu_ctx *c = cpu_ctx_of(cpu);

	return c && (c->flags & VS_CPU_IN_ENCLAVE) ? c->enclave : VS_MAX_ENCLAVES;
}

/* Is @cpu a CPU of @vm's enclave? A hint: core_open_to() decides under the core's lock. */
static bool cpu_serves_vm(s32 cpu, s32 vm)
{
	return vm >= 0 && cpu_enclave(cpu) == vm_enclave(vm);
}

/* The vCPU time slice of @vm's enclave. */
static u64 vm_slice_ns(s32 vm)
{
	struct vs_enclave_ctx *e = enclave_ctx_of(vm_enclave(vm));

	return e && e->slice_ns ? e->slice_ns : slice_ns;
}

static u64 enclave_core_slice_ns(u32 enclave)
{
	struct vs_enclave_ctx *e = enclave_ctx_of(enclave);

	return e && e->core_slice_ns ? e->core_slice_ns : core_slice_ns;
}

static u64 enclave_pair_window_ns(u32 enclave)
{
	struct vs_enclave_ctx *e = enclave_ctx_of(enclave);

	return e ? e->pair_window_ns : pair_window_ns;
}

static u64 *vtime_floor_of(u32 enclave)
{
	return enclave < VS_MAX_ENCLAVES ? &vtime_floor[enclave & (VS_MAX_ENCLAVES - 1)] : NULL;
}

/* Is @cpu on @vm's home node (or is either node unknown)? */
static bool cpu_on_home(s32 cpu, s32 vm)
{
	struct vs_cpu_ctx *c = cpu_ctx_of(cpu);
	struct vs_vm_ctx *v = vm_ctx_of(vm);

	return !c || !v || v->home_node < 0 || c->node < 0 || c->node == v->home_node;
}

/*
 * Cores each VM owns, read without the cores' locks: caps are a policy limit,
 * not a safety rule, so two cores changing hands at once may overshoot a cap
 * by a core until the next handover.
 */
struct owned_cores {
	u8 n[VS_MAX_VMS];
};

/*
 * All zero while no VM has a cap: nothing reads the counts then, and a cap
 * that arrives between this and vm_within_cap() finds zeros, not stale stack.
 */
static void count_owned_cores(struct owned_cores *oc)
{
	u32 cpu;

	__builtin_memset(oc, 0, sizeof(*oc));
	if (!caps_in_use)
		return;
	bpf_for(cpu, 0, nr_cpus)
	{
		struct vs_cpu_ctx *c = cpu_ctx_of(cpu);
		struct vs_core_state *core;
		u32 th;
		s32 owner;

		if (!c || c->core_id != cpu || !(core = core_of(cpu, &th)))
			continue;
		owner = core->owner;
		if (owner >= 0 && owner < VS_MAX_VMS && oc->n[owner & (VS_MAX_VMS - 1)] < 255)
			oc->n[owner & (VS_MAX_VMS - 1)]++;
	}
}

/*
 * Is @vm within its cap with one more core, or (@owns_this) with the core in
 * question, which it owns already? @oc: from count_owned_cores, or NULL to
 * count now.
 */
static bool vm_within_cap(s32 vm, struct owned_cores *oc, bool owns_this)
{
	struct vs_vm_ctx *v = vm_ctx_of(vm);
	struct owned_cores mine;
	u32 n;

	if (!caps_in_use || !v || !v->cap_cores)
		return true;
	if (!oc) {
		count_owned_cores(&mine);
		oc = &mine;
	}
	n = oc->n[vm & (VS_MAX_VMS - 1)];
	return owns_this ? n <= v->cap_cores : n < v->cap_cores;
}

static s32 vm_queued(s32 vm)
{
	if (vm < 0 || vm >= VS_MAX_VMS)
		return 0;
	return scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm));
}

/*
 * The agent is off the critical path, so most messages wake nobody: it reads
 * the ring on a timer (VS_MSG_DRAIN_MS in the daemon). A vCPU's arrival or
 * departure wakes it at once, and so does a ring a quarter full, well before
 * a burst could overflow it.
 */
static u64 msg_wakeup(u16 type)
{
	if (type == VS_MSG_VCPU_NEW || type == VS_MSG_VCPU_DEPARTED || type == VS_MSG_VCPU_DEAD ||
	    type == VS_MSG_VCPU_ESCAPED)
		return BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_query(&messages, BPF_RB_AVAIL_DATA) >
	    bpf_ringbuf_query(&messages, BPF_RB_RING_SIZE) / 4)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static void send_msg(struct vs_task *t, struct vs_vcpu_stats *st, u16 type)
{
	struct vs_cpu_stats *cs = cpu_stats_of(bpf_get_smp_processor_id());
	struct vs_msg *m;
	u32 seq = __sync_add_and_fetch(&st->seqnum, 1);

	/* Kept even when the message is dropped: the agent resyncs from it. */
	st->last_msg = type;
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
	m->slot = t->slot;
	m->timestamp = bpf_ktime_get_ns();
	m->runtime = st->run_ns;
	bpf_ringbuf_submit(m, msg_wakeup(type));
}

/* A forced-idle stretch that ended is charged to the VM that owned the core. */
static __always_inline void charge_forced_idle(struct vs_stretch e)
{
	struct vs_vm_state *vs;

	if (e.kind == VS_TIME_FORCED_IDLE && e.len && (vs = vm_state_of(e.owner)))
		__sync_fetch_and_add(&vs->forced_idle_ns, e.len);
}

static struct vs_idle_pending *idle_pending_of(s32 cpu)
{
	u32 key = cpu;

	return bpf_map_lookup_elem(&cpu_idle, &key);
}

/* Dispatch starts deciding: the CPU's idle, if any, is no longer forced. */
static void end_idle_window(s32 cpu, u64 now)
{
	struct vs_cpu_stats *cs = cpu_stats_of(cpu);
	struct vs_idle_pending *p = idle_pending_of(cpu);

	if (cs && p)
		charge_forced_idle(vs_time_dispatch(cs, p, now));
}

/* Dispatch decided that the CPU idles for reason: now if idle, else from its switch to idle. */
static void start_idle_window(s32 cpu, u64 now, u32 reason, s32 owner)
{
	struct vs_cpu_stats *cs = cpu_stats_of(cpu);
	struct vs_idle_pending *p = idle_pending_of(cpu);

	if (cs && p)
		charge_forced_idle(vs_time_idle_for(cs, p, now, reason, owner));
}

/* A vCPU starts on the CPU (ops.running). */
static void cpu_time_vcpu_runs(s32 cpu, u64 now)
{
	struct vs_cpu_stats *cs = cpu_stats_of(cpu);
	struct vs_idle_pending *p = idle_pending_of(cpu);

	if (cs && p)
		charge_forced_idle(vs_time_vcpu_runs(cs, p, now));
}

/* The CPU switches to a host task or to idle (sched_switch). */
static void cpu_time_switch(s32 cpu, bool to_idle)
{
	struct vs_cpu_stats *cs = cpu_stats_of(cpu);
	struct vs_idle_pending *p = idle_pending_of(cpu);

	if (cs && p)
		charge_forced_idle(vs_time_switch(cs, p, bpf_ktime_get_ns(), to_idle));
}

static bool cpu_in_forced_idle(s32 cpu)
{
	struct vs_cpu_stats *cs = cpu_stats_of(cpu);
	struct vs_idle_pending *p = idle_pending_of(cpu);

	return (cs && cs->stretch_kind == VS_TIME_FORCED_IDLE) ||
	       (p && p->kind == VS_TIME_FORCED_IDLE);
}

#ifdef VS_TEST_BREAK_PAIRING
/* Test build only: switch-ins go unrecorded, so siblings start any VM. */
#define RECORDED_VM(vm) VS_VM_NONE
#else
#define RECORDED_VM(vm) (vm)
#endif

static bool host_blocks(struct vs_core_state *core, u32 sib)
{
	return core->strict && core->host[sib & 1];
}

/* May thread of @core start a vCPU of @vm (of enclave @enclave)? Core locked or a hint. */
static __always_inline bool core_open_to(struct vs_core_state *core, u32 enclave)
{
	return !core->closed && core->enclave == enclave;
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

/*
 * Does the sibling of @th run a vCPU of a VM other than @vm, or still show
 * the vCPU it is switching away from?
 */
static __always_inline bool sibling_runs_other(struct vs_core_state *core, u32 th, s32 vm)
{
	s32 other = core->running_vm[(th ^ 1) & 1], leaving = core->leaving_vm[(th ^ 1) & 1];

	return (other != VS_VM_NONE && other != vm) || (leaving != VS_VM_NONE && leaving != vm);
}

/*
 * May thread @th hand its core to @vm? Only if no thread runs a vCPU of
 * another VM (this thread's own vCPU excepted: @th is switching away from it)
 * and nothing is committed to either thread. Called with the core locked.
 */
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
 * Reserve @cpu for a vCPU of @vm if the pairing rules allow, handing the core
 * to @vm when @may_take_core and the core is free of other VMs. On success
 * the thread carries one more claim, to be attached to a vCPU (attach_claim)
 * or dropped (drop_claim).
 */
static bool reserve_cpu_for(s32 cpu, s32 vm, bool may_take_core)
{
	struct vs_core_state *core;
	u64 now = bpf_ktime_get_ns();
	u32 th, enclave;
	bool ok = false;

	core = core_of(cpu, &th);
	if (!core)
		return false;
	enclave = vm_enclave(vm);
	bpf_spin_lock(&core->lock);
	if (!core_open_to(core, enclave) || host_blocks(core, th ^ 1) ||
	    sibling_runs_other(core, th, vm)) {
		ok = false;
	} else if (core->owner == vm) {
		ok = !core->draining;
	} else if (may_take_core && core->running_vm[th & 1] == VS_VM_NONE &&
		   core_handover_ok(core, th, vm)) {
		set_owner(core, vm, now);
		ok = true;
	}
	if (ok)
		core->claims[th & 1]++;
	bpf_spin_unlock(&core->lock);
	return ok;
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

	if (vm < 0 || vm >= VS_MAX_VMS)
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

/*
 * The runnable VM of @enclave owed a core most: lowest vtime among VMs with queued vCPUs
 * (or whose vCPU @prev_vm is still runnable on this CPU) that are under their
 * cap (@oc: the caller's count_owned_cores()), unless they already own this
 * core (@this_owner). A starved VM comes first; a VM with two vCPUs to run
 * wins a near tie (vs_owed_pick).
 */
struct owed_pick {
	s32 vm;	       /* VS_VM_NONE: nobody is owed a core */
	u32 nr_queued; /* its queued vCPUs */
	bool starved;  /* chosen because it starved */
	bool for_pair; /* chosen over the VM owed most, for its two vCPUs */
};

/*
 * Global, so the verifier checks it once rather than at every call site
 * (checked as part of dispatch, it took dispatch past the 1M-instruction
 * limit).
 */
__noinline int pick_owed_vm(s32 prev_vm, s32 this_owner, u32 enclave, struct owned_cores *oc,
			    struct owed_pick *out)
{
	struct vs_owed best = {VS_VM_NONE, (u64)-1}, pair = {VS_VM_NONE, (u64)-1};
	u64 now = bpf_ktime_get_ns(), oldest = (u64)-1;
	s32 starved = VS_VM_NONE, chosen;
	u32 nr_starved = 0, nr_best = 0, nr_pair = 0;
	u32 vm;

	if (!oc || !out)
		return 0;
	bpf_for(vm, 0, VS_MAX_VMS)
	{
		struct vs_vm_state *vs;
		s32 queued = scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm)), runnable;

		if (queued <= 0 && (s32)vm != prev_vm)
			continue;
		if (vm_enclave(vm) != enclave)
			continue;
		if (caps_in_use && !vm_within_cap(vm, oc, (s32)vm == this_owner))
			continue;
		vs = vm_state_of(vm);
		if (!vs)
			continue;
		if (queued < 0)
			queued = 0;
		if (queued > 0 && vs->last_run_ns && now > vs->last_run_ns + STARVED_NS &&
		    vs->last_run_ns < oldest) {
			oldest = vs->last_run_ns;
			starved = vm;
			nr_starved = queued;
		}
		if (vs->vtime < best.vtime) {
			best = (struct vs_owed){vm, vs->vtime};
			nr_best = queued;
		}
		runnable = queued + ((s32)vm == prev_vm);
		if (runnable >= 2 && vs->vtime < pair.vtime) {
			pair = (struct vs_owed){vm, vs->vtime};
			nr_pair = queued;
		}
	}
	out->starved = starved >= 0;
	out->for_pair = false;
	if (starved >= 0) {
		out->vm = starved;
		out->nr_queued = nr_starved;
		return 0;
	}
	chosen = vs_owed_pick(&best, &pair, enclave_pair_window_ns(enclave));
	out->vm = chosen;
	out->for_pair = chosen != best.vm;
	out->nr_queued = out->for_pair ? nr_pair : nr_best;
	return 0;
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
	return core->running_vm[th & 1] == VS_VM_NONE && !core->host[th & 1] &&
	       !core->claims[th & 1];
}

/*
 * Placement sweep of one enclave: an idle CPU is not woken by anything while vCPUs wait on a
 * VM's DSQ (the kernel may idle a CPU without calling ops.dispatch, and the
 * kick kfunc may not link). This timer moves queued vCPUs onto idle enclave
 * threads where the pairing rules allow: the owner's vCPUs onto its cores,
 * the most owed VM onto wholly free cores. Moving into an idle CPU's local
 * DSQ wakes it. Runs outside any rq lock, as dsq_move to another CPU needs.
 */
static __noinline int sweep_enclave(u32 enclave)
{
	struct owed_pick pick = {.vm = VS_VM_NONE};
	struct owned_cores oc;
	bool more = false;
	s32 best;
	u32 i;

	count_owned_cores(&oc);
	pick_owed_vm(VS_VM_NONE, VS_VM_NONE, enclave, &oc, &pick);
	best = pick.vm;
	if (best < 0)
		return 0;
	/* Two passes: CPUs on the chosen VM's home node first, then the rest. */
	bpf_for(i, 0, 2 * nr_cpus)
	{
		u32 cpu = i % nr_cpus, th;
		bool home_pass = i < nr_cpus, take;
		struct vs_core_state *core;
		s32 vm;

		core = core_of(cpu, &th);
		if (!core || !core_open_to(core, enclave) || !thread_empty(core, th))
			continue;
		vm = core->owner;
		take = core->draining || vm_queued(vm) <= 0 || !cpu_serves_vm(cpu, vm) ||
		       (caps_in_use && !vm_within_cap(vm, &oc, true));
		if (take)
			vm = best;
		if (home_pass != cpu_on_home(cpu, vm))
			continue;
		if (vm_queued(vm) <= 0 || !cpu_is_idle(cpu))
			continue;
		if (!reserve_cpu_for(cpu, vm, true))
			continue;
		if (move_vcpu(vm, cpu, SCX_DSQ_LOCAL_ON | cpu, 0, NULL)) {
			__sync_fetch_and_add(&core->sibling_wakeups, 1);
			more = true;
			/* A free core taken: the next one goes to whoever is owed then. */
			if (take) {
				count_owned_cores(&oc);
				pick_owed_vm(VS_VM_NONE, VS_VM_NONE, enclave, &oc, &pick);
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
	bool may_take_core, prev_home;
	s32 prev, vm;
	u32 i, pass, enclave;
	u64 lag, *floor;

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
		vs_dsq_insert(p, VS_DSQ_VM(vm), vm_slice_ns(vm), enq_flags);
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
	lag = enclave_core_slice_ns(enclave) + enclave_pair_window_ns(enclave);
	floor = vtime_floor_of(enclave);
	if (vs && floor && vs->vtime + lag < *floor)
		vs->vtime = *floor - lag;

	may_take_core = vm_within_cap(vm, NULL, false);
	prev_home = cpu_on_home(prev, vm);
	if (prev_home && place_on_idle_cpu(p, t, prev, vm, may_take_core, enq_flags))
		return;
	/*
	 * On the home node: pass 0, cores this VM owns; 1, free cores. Then off
	 * it: the previous CPU, 2, owned cores; 3, free cores.
	 */
	bpf_for(pass, 0, 4)
	{
		bool home = pass < 2, take = pass & 1;

		if (take && !may_take_core)
			continue;
		if (pass == 2 && !prev_home &&
		    place_on_idle_cpu(p, t, prev, vm, may_take_core, enq_flags))
			return;
		bpf_for(i, 0, nr_cpus)
		{
			struct vs_core_state *core;
			u32 th;

			if ((s32)i == prev)
				continue;
			core = core_of(i, &th);
			if (!core || !core_open_to(core, enclave) || !thread_empty(core, th))
				continue;
			if (!take && (core->owner != vm || core->draining))
				continue;
			if (take && !thread_empty(core, th ^ 1))
				continue;
			if (cpu_on_home(i, vm) != home)
				continue;
			if (place_on_idle_cpu(p, t, i, vm, may_take_core, enq_flags))
				return;
		}
	}
	vs_dsq_insert(p, VS_DSQ_VM(vm), vm_slice_ns(vm), enq_flags);
	request_sweep(50 * 1000);
}

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
	/* A host task or the old owner's vCPU left: an idling sibling may run vCPUs now. */
	if (!host && (was_host || was_vm != VS_VM_NONE) &&
	    core->running_vm[(th ^ 1) & 1] == VS_VM_NONE)
		request_sweep(0);
	if (host && core->strict && core->running_vm[(th ^ 1) & 1] != VS_VM_NONE) {
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

	t->ext_at = 0;
	if (!vs)
		return;
	__sync_fetch_and_add(&vs->hint_win_ext_ns, ext);
	__sync_fetch_and_add(&vs->cs_extended_ns, ext);
}

void BPF_STRUCT_OPS(vs_tick, struct task_struct *p)
{
	struct vs_core_state *core;
	struct vs_task *t = vcpu_of(p);
	enum vs_cut cut = VS_CUT_NONE;
	struct vs_vm_state *vs;
	u64 now = bpf_ktime_get_ns();
	u32 th, hint;

	if (!t)
		return;
	if (t->ext_at)
		end_extension(t, now);
	core = core_of(bpf_get_smp_processor_id(), &th);
	if (!core)
		return;
	if (host_blocks(core, th ^ 1) || core->owner != (s32)t->vm_id ||
	    sibling_runs_other(core, th, t->vm_id) || !core_open_to(core, vm_enclave(t->vm_id)))
		cut = VS_CUT_PAIRING;
	else if (core->draining)
		cut = VS_CUT_HANDOVER;
	else if (!p->scx.slice)
		cut = VS_CUT_EXPIRED;
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
			       (to->scx.flags & SCX_TASK_QUEUED) != 0, to->on_cpu != 0))
		return false;
	if (cpu < 0 || cpu >= VS_MAX_CPUS)
		return false;
	directed_tid[cpu & (VS_MAX_CPUS - 1)] = to->pid;
	from->scx.slice = 0;
	if ((vs = vm_state_of(f->vm_id)))
		__sync_fetch_and_add(&vs->directed_yields, 1);
	return true;
}

void BPF_STRUCT_OPS(vs_runnable, struct task_struct *p, u64 enq_flags)
{
	struct vs_task *t = vcpu_of_adopting(p);
	struct vs_vcpu_stats *st;

	if (!t || !(st = stats_of(t)))
		return;
	st->wakeups++;
	t->runnable_at = bpf_ktime_get_ns();
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
void BPF_STRUCT_OPS(vs_running, struct task_struct *p)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_core_state *core;
	struct vs_vcpu_stats *st;
	struct vs_cpu_stats *cs;
	struct vs_vm_state *vs;
	/* Not the current CPU: a property change may re-run a remote CPU's current task. */
	u32 cpu = scx_bpf_task_cpu(p), th;
	u64 now = bpf_ktime_get_ns();
	bool bad = false, wake_sibling = false, beside_host = false, elsewhere = false;
	s32 vm, claimed;
	u32 enclave;

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
		/* Its VM moved, or the core is leaving the enclave: off at once. */
		elsewhere = !core_open_to(core, enclave);
		if (core->owner != vm && !elsewhere && core_handover_ok(core, th, vm))
			set_owner(core, vm, now);
		beside_host = host_blocks(core, th ^ 1);
		bad = core->owner != vm || sibling_runs_other(core, th, vm);
		wake_sibling = thread_empty(core, th ^ 1) && core->cpu[(th ^ 1) & 1] >= 0;
		bpf_spin_unlock(&core->lock);
	}
	claimed = release_claim(t->slot);
	if (claimed < 0)
		__sync_fetch_and_add(&unclaimed_runs, 1);
	else if (claimed != (s32)cpu)
		__sync_fetch_and_add(&misplaced_runs, 1);
	if (bad)
		__sync_fetch_and_add(&self_check_overlaps, 1);
	if (beside_host)
		__sync_fetch_and_add(&host_starts, 1);
	if (bad || beside_host || elsewhere) {
		p->scx.slice = 0;
		kick_cpu(cpu);
	} else if (wake_sibling && cpu_in_forced_idle(core->cpu[(th ^ 1) & 1]) &&
		   vm_queued(vm) > 0) {
		request_sweep(0);
	}

	cpu_time_vcpu_runs(cpu, now);
	t->started_at = now;
	t->ext_done = false;
	if (t->runnable_at && now > t->runnable_at)
		st->wait_ns += now - t->runnable_at;
	t->runnable_at = 0;
	if (st->runs && st->last_cpu != cpu)
		st->migrations++;
	st->runs++;
	st->last_cpu = cpu;
	vs = vm_state_of(vm);
	if (vs) {
		vs->last_run_ns = now;
		if (!cpu_on_home(cpu, vm))
			__sync_fetch_and_add(&vs->remote_runs, 1);
	}
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
	u32 cpu = scx_bpf_task_cpu(p), th;

	if (!c || !p->scx.slice || (p->flags & PF_EXITING))
		return;
	core = core_of(cpu, &th);
	if (!core)
		return;
	if (core->strict) {
		core->host[th & 1] = 1;
		p->scx.slice = 0;
		return;
	}
	/* Not to start there again if the core is leaving the enclave or its VM moved. */
	if (!core_open_to(core, vm_enclave(t->vm_id))) {
		p->scx.slice = 0;
		return;
	}
	release_claim(t->slot);
	bpf_spin_lock(&core->lock);
	core->claims[th & 1]++;
	bpf_spin_unlock(&core->lock);
	c->cpu1 = cpu + 1;
}

void BPF_STRUCT_OPS(vs_stopping, struct task_struct *p, bool runnable)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vcpu_stats *st;
	struct vs_cpu_stats *cs;
	struct vs_vm_state *vs;
	u64 now = bpf_ktime_get_ns(), ran;

	if (!t || t->escaped || !(st = stats_of(t)))
		return;
	ran = t->started_at && now > t->started_at ? now - t->started_at : 0;
	st->run_ns += ran;
	/* The vCPU's CPU: a property change may stop a remote CPU's current task. */
	cs = cpu_stats_of(scx_bpf_task_cpu(p));
	if (cs)
		vs_time_vcpu_stops(cs, now);
	vs = vm_state_of(t->vm_id);
	if (vs) {
		__sync_fetch_and_add(&vs->run_ns, ran);
		__sync_fetch_and_add(&vs->vtime, ran * VS_WEIGHT_SCALE / vm_weight(t->vm_id));
		vs_hint_window_roll(vs, now);
		__sync_fetch_and_add(&vs->hint_win_run_ns, ran);
	}
	if (t->ext_at)
		end_extension(t, now);
	if (runnable) {
		hold_preempted(p, t);
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
	/* Left the runqueue without running (moved to another class, killed): no commitment. */
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
	if (!id || id->vm_id >= VS_MAX_VMS || id->slot >= VS_MAX_VCPUS) {
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

/* Transactions: the agent's explicit placements (see vmm_sched_abi.h). */
struct txn_member {
	struct vs_txn_facts f;
	u32 cpu;
	u32 tid;
	u32 slot;
	u32 outcome;
	u32 enclave; /* of the vCPU's VM */
	int take_core;
};

/* Is vCPU @tid of @vm waiting, uncommitted, on its VM's DSQ? */
static bool vcpu_waiting(s32 vm, u32 tid)
{
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;
	bool found = false;

	if (vm < 0 || vm >= VS_MAX_VMS)
		return false;
	bpf_iter_scx_dsq_new(&it, VS_DSQ_VM(vm), 0);
	while ((p = bpf_iter_scx_dsq_next(&it))) {
		if (p->pid == tid) {
			found = true;
			break;
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	return found;
}

/* The facts about slot @cpu that need no lock. */
static void txn_gather(struct txn_member *m, u32 cpu, struct vs_txn *tx)
{
	struct vs_vcpu_stats *st;
	struct vs_vcpu_id *id;
	struct vs_claim *c;
	u32 tid = tx->tid, slot;

	m->cpu = cpu;
	m->tid = tid;
	m->f.seq_txn = tx->seqnum;
	m->f.vm = VS_VM_NONE;
	id = bpf_map_lookup_elem(&vcpu_map, &tid);
	if (!id || id->vm_id >= VS_MAX_VMS)
		return;
	slot = id->slot;
	m->slot = slot;
	st = bpf_map_lookup_elem(&vcpu_stats, &slot);
	c = claim_of_slot(slot);
	if (!st || !c)
		return;
	m->f.known_vcpu = 1;
	m->f.vm = id->vm_id;
	m->enclave = vm_enclave(id->vm_id);
	m->f.seq_now = st->seqnum;
	m->f.queued = !c->cpu1 && vcpu_waiting(m->f.vm, tid);
}

/* The facts about thread @th of @core; called with the core locked. */
static void txn_core_facts(struct txn_member *m, struct vs_core_state *core, u32 th)
{
	m->f.in_enclave = core_open_to(core, m->enclave);
	m->f.host_blocks = host_blocks(core, th ^ 1);
	m->f.owner = core->owner;
	m->f.draining = core->draining;
	m->f.this_running = core->running_vm[th & 1];
	m->f.sib_running = core->running_vm[(th ^ 1) & 1];
	m->f.claims = core->claims[0] + core->claims[1];
}

static void txn_finish(struct vs_txn *tx, u32 outcome)
{
	if (outcome >= VS_TXN_NR_OUTCOMES)
		outcome = VS_TXN_BAD_SLOT;
	tx->outcome = outcome;
	tx->committed_at = bpf_ktime_get_ns();
	__sync_fetch_and_add(&txn_outcomes[outcome], 1);
	__sync_lock_test_and_set(&tx->state, VS_TXN_DONE);
}

/*
 * Move a decided member's vCPU onto its CPU (@held: its claim, if the caller
 * took it); on a lost race the claims go back.
 */
static u32 txn_move(struct txn_member *m, struct vs_claim *held)
{
	if (move_vcpu(m->f.vm, m->cpu, SCX_DSQ_LOCAL_ON | m->cpu, m->tid, held))
		return VS_TXN_COMPLETE;
	return VS_TXN_NOT_RUNNABLE;
}

/*
 * Takes the claim of a decided member's vCPU for its CPU; NULL if another
 * path holds it.
 */
static struct vs_claim *claim_member(struct txn_member *m)
{
	struct vs_claim *c = claim_of_slot(m->slot);

	return c && __sync_val_compare_and_swap(&c->cpu1, 0, m->cpu + 1) == 0 ? c : NULL;
}

/*
 * A group member was taken by another path before the moves: neither moves.
 * @a_claim: member a's claim, taken before b's failed (unless a dequeue has
 * released it since, dropping a's CPU claim with it).
 */
static void txn_abort_group(struct txn_member *a, struct txn_member *b, struct vs_claim *a_claim,
			    struct vs_txn *tx0, struct vs_txn *tx1)
{
	if (!a_claim || claim_taken_back(a_claim, a->cpu))
		drop_claim(a->cpu);
	drop_claim(b->cpu);
	txn_finish(tx0, a_claim ? VS_TXN_GROUP_FAILED : VS_TXN_NOT_RUNNABLE);
	txn_finish(tx1, a_claim ? VS_TXN_NOT_RUNNABLE : VS_TXN_GROUP_FAILED);
}

static u32 txn_commit_single(u32 cpu, struct vs_txn *tx)
{
	struct txn_member m = {};
	struct vs_core_state *core;
	u64 now = bpf_ktime_get_ns();
	u32 th;

	txn_gather(&m, cpu, tx);
	m.f.owner = VS_VM_NONE;
	m.f.this_running = m.f.sib_running = VS_VM_NONE;
	core = core_of(cpu, &th);
	if (!core)
		return vs_txn_decide(&m.f, &m.take_core);
	bpf_spin_lock(&core->lock);
	txn_core_facts(&m, core, th);
	m.outcome = vs_txn_decide(&m.f, &m.take_core);
	if (m.outcome == VS_TXN_COMPLETE) {
		if (m.take_core)
			set_owner(core, m.f.vm, now);
		core->claims[th & 1]++;
	}
	bpf_spin_unlock(&core->lock);
	return m.outcome == VS_TXN_COMPLETE ? txn_move(&m, NULL) : m.outcome;
}

/*
 * A group commit: both threads of one core, vCPUs of one VM, decided on one
 * snapshot of the core under its lock: both commit or neither does.
 */
static void txn_commit_group(u32 cpu0, struct vs_txn *tx0, u32 cpu1, struct vs_txn *tx1)
{
	struct txn_member a = {}, b = {};
	struct vs_claim *a_claim, *b_claim;
	struct vs_core_state *core;
	u64 now = bpf_ktime_get_ns();
	u32 th;

	txn_gather(&a, cpu0, tx0);
	txn_gather(&b, cpu1, tx1);
	core = core_of(cpu0, &th);
	if (!core) {
		txn_finish(tx0, VS_TXN_NOT_IN_ENCLAVE);
		txn_finish(tx1, VS_TXN_GROUP_FAILED);
		return;
	}
	bpf_spin_lock(&core->lock);
	txn_core_facts(&a, core, th);
	txn_core_facts(&b, core, th ^ 1);
	a.outcome = vs_txn_decide(&a.f, &a.take_core);
	b.outcome = vs_txn_decide(&b.f, &b.take_core);
	if (a.outcome == VS_TXN_COMPLETE && b.outcome == VS_TXN_COMPLETE && a.f.vm != b.f.vm)
		a.outcome = b.outcome = VS_TXN_WRONG_VM;
	if (a.outcome == VS_TXN_COMPLETE && b.outcome == VS_TXN_COMPLETE) {
		if (a.take_core || b.take_core)
			set_owner(core, a.f.vm, now);
		core->claims[0]++;
		core->claims[1]++;
	}
	bpf_spin_unlock(&core->lock);
	if (a.outcome != VS_TXN_COMPLETE || b.outcome != VS_TXN_COMPLETE) {
		txn_finish(tx0, a.outcome != VS_TXN_COMPLETE ? a.outcome : VS_TXN_GROUP_FAILED);
		txn_finish(tx1, b.outcome != VS_TXN_COMPLETE ? b.outcome : VS_TXN_GROUP_FAILED);
		return;
	}
	/*
	 * Both claims before either move: a CPU dispatching meanwhile cannot take
	 * one member from its DSQ (it must win the same compare-and-swap).
	 */
	a_claim = claim_member(&a);
	if (!a_claim) {
		txn_abort_group(&a, &b, NULL, tx0, tx1);
		return;
	}
	b_claim = claim_member(&b);
	if (!b_claim) {
		txn_abort_group(&a, &b, a_claim, tx0, tx1);
		return;
	}
	a.outcome = txn_move(&a, a_claim);
	b.outcome = txn_move(&b, b_claim);
	if (a.outcome != b.outcome)
		__sync_fetch_and_add(&txn_group_partial, 1);
	txn_finish(tx0, a.outcome);
	txn_finish(tx1, b.outcome);
}

/*
 * The agent's gate for moving a core between enclaves (struct
 * vs_core_gate_args). Closing stops the core taking vCPUs (every claim path
 * checks `closed` under the lock) and kicks what runs there; the agent calls
 * again until it reports empty, then changes cpu_ctx and opens the core,
 * which takes its enclave and pairing from there, unowned.
 */
SEC("syscall")
int vs_core_gate(struct vs_core_gate_args *args)
{
	struct vs_core_state *core;
	struct vs_enclave_ctx *ec;
	s32 cpu0, kick0 = -1, kick1 = -1;
	u32 enclave = VS_MAX_ENCLAVES, strict = 1;
	struct vs_cpu_ctx *c;
	u64 now = bpf_ktime_get_ns();

	cpu0 = args->core_cpu;
	if (cpu0 < 0 || cpu0 >= VS_MAX_CPUS)
		return -1;
	c = cpu_ctx_of(cpu0);
	if (!c)
		return -1;
	/* Found whether or not the CPU is in an enclave now: core_of() needs that. */
	{
		u32 key = c->core_id;

		core = bpf_map_lookup_elem(&core_state, &key);
	}
	if (!core)
		return -1;
	if (c->flags & VS_CPU_IN_ENCLAVE)
		enclave = c->enclave;
	ec = enclave_ctx_of(enclave);
	if (ec && (ec->flags & VS_ENCLAVE_USED))
		strict = ec->pairing == VS_PAIRING_STRICT;
	bpf_spin_lock(&core->lock);
	if (args->open) {
		core->enclave = enclave;
		core->strict = strict;
		core->owner = VS_VM_NONE;
		core->owner_since = now;
		core->draining = 0;
		core->host[0] = core->host[1] = 0;
		core->closed = enclave >= VS_MAX_ENCLAVES;
		args->empty = 0;
	} else {
		core->closed = 1;
		args->empty =
		    core->running_vm[0] == VS_VM_NONE && core->running_vm[1] == VS_VM_NONE &&
		    core->leaving_vm[0] == VS_VM_NONE && core->leaving_vm[1] == VS_VM_NONE &&
		    !core->claims[0] && !core->claims[1];
		if (core->running_vm[0] != VS_VM_NONE || core->claims[0])
			kick0 = core->cpu[0];
		if (core->running_vm[1] != VS_VM_NONE || core->claims[1])
			kick1 = core->cpu[1];
	}
	bpf_spin_unlock(&core->lock);
	if (kick0 >= 0 && bpf_ksym_exists(scx_bpf_kick_cpu))
		scx_bpf_kick_cpu(kick0, SCX_KICK_PREEMPT);
	if (kick1 >= 0 && bpf_ksym_exists(scx_bpf_kick_cpu))
		scx_bpf_kick_cpu(kick1, SCX_KICK_PREEMPT);
	return 0;
}

/*
 * Commit every pending transaction slot. Run by the agent (BPF_PROG_RUN), like
 * ghOSt's commit syscall; outside any rq lock, so it may move vCPUs into any
 * CPU's local DSQ. A group slot is committed together with its sibling's.
 */
SEC("syscall")
int vs_commit(struct vs_commit_args *args)
{
	u32 cpu, committed = 0, complete = 0;

	/* The DSQ iterator needs RCU; struct_ops programs have it implicitly, syscall ones do not.
	 */
	bpf_rcu_read_lock();
	bpf_for(cpu, 0, nr_cpus)
	{
		struct vs_txn *tx = bpf_map_lookup_elem(&txns, &cpu), *sx;
		struct vs_cpu_ctx *c;
		u32 sib, outcome;

		if (!tx || tx->state != VS_TXN_PENDING)
			continue;
		if (tx->flags & ~VS_TXN_F_GROUP) {
			txn_finish(tx, VS_TXN_BAD_SLOT);
			committed++;
			continue;
		}
		if (!(tx->flags & VS_TXN_F_GROUP)) {
			outcome = txn_commit_single(cpu, tx);
			txn_finish(tx, outcome);
			committed++;
			complete += outcome == VS_TXN_COMPLETE;
			continue;
		}
		c = cpu_ctx_of(cpu);
		sib = c && c->sibling >= 0 ? c->sibling : cpu;
		sx = bpf_map_lookup_elem(&txns, &sib);
		if (!sx || sib == cpu || sx->state != VS_TXN_PENDING ||
		    !(sx->flags & VS_TXN_F_GROUP)) {
			txn_finish(tx, VS_TXN_BAD_SLOT);
			committed++;
			continue;
		}
		txn_commit_group(cpu, tx, sib, sx);
		committed += 2;
		complete += (tx->outcome == VS_TXN_COMPLETE) + (sx->outcome == VS_TXN_COMPLETE);
	}
	bpf_rcu_read_unlock();
	args->committed = committed;
	args->complete = complete;
	return 0;
}

/*
 * Sleepable (scx_bpf_create_dsq needs it): the loader sets BPF_F_SLEEPABLE,
 * because bookworm's bpftool 7.1 cannot open a "struct_ops.s/" section.
 */
s32 BPF_STRUCT_OPS(vs_init)
{
	struct sweep_timer *st;
	u32 vm, cpu, zero = 0;
	s32 err;

	kick_supported = bpf_ksym_exists(scx_bpf_kick_cpu);
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
	bpf_for(cpu, 0, nr_cpus)
	{
		struct ext_timer *et = bpf_map_lookup_elem(&ext_timers, &cpu);

		if (!et)
			return -ENOENT;
		bpf_timer_init(&et->timer, &ext_timers, CLOCK_MONOTONIC);
		bpf_timer_set_callback(&et->timer, ext_timer_fn);
	}
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
    .set_cpumask = (void *)vs_set_cpumask,
    .dispatch = (void *)vs_dispatch,
    .tick = (void *)vs_tick,
    .yield = (void *)vs_yield,
    .runnable = (void *)vs_runnable,
    .running = (void *)vs_running,
    .stopping = (void *)vs_stopping,
    .quiescent = (void *)vs_quiescent,
    .enable = (void *)vs_enable,
    .disable = (void *)vs_disable,
    .init = (void *)vs_init,
    .exit = (void *)vs_exit,
    .flags = SCX_OPS_SWITCH_PARTIAL | SCX_OPS_ENQ_LAST | SCX_OPS_ENQ_MIGRATION_DISABLED,
    .name = "vmm_sched",
};
