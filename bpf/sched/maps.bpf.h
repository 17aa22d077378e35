/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Constants, globals set by the agent or read by it, and the maps.
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

#define PF_EXITING	0x00000004 /* include/linux/sched.h, not in BTF */
#define SCHED_EXT	7
#define TASK_RUNNING	0
#define CLOCK_MONOTONIC 1
#define ENOENT		2

const volatile __u32 abi_version = VS_ABI_VERSION;
const volatile __u64 slice_ns = 5000000;
const volatile __u32 nr_cpus = 1;
/* The sizes of the VM and vCPU maps, set by the agent at load (<= VS_MAX_VMS, VS_MAX_VCPUS). */
const volatile __u32 vs_max_vms = VS_MAX_VMS;
const volatile __u32 vs_max_vcpus = VS_MAX_VCPUS;
const volatile __u32 pairing_mode = VS_PAIRING_STRICT;

struct vs_exit_info exit_info;
__u64 msg_drops; /* messages lost because the ring buffer was full */
__u64 stray_enqueues;
/* How long an owner keeps a core while others wait, until the agent plans an enclave's. */
__u64 core_slice_ns = 10000000;
bool caps_in_use;		    /* some VM has a cap (vm_ctx.cap_cores), set by the agent */
bool reserves_in_use;		    /* some VM has a reservation (vm_ctx.reserve_cores), too */
__u64 vtime_floor[VS_MAX_ENCLAVES]; /* by enclave: vtime of the VM last granted a core there */
__u64 starved_grants;		    /* cores given to a VM because it starved (VS_STARVED_NS) */
/* How far a VM with two vCPUs to run may trail and still win a core (vs_owed_pick). */
__u64 pair_window_ns;
/* Handovers in dispatch to a VM with two vCPUs to run over the VM owed most. */
__u64 pair_grants;
/* VMs held back from a pick while their last core had an open thread (vs_waits_for_sibling). */
__u64 sibling_waits;
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
/* vCPUs preempted on a core whose owner changed meanwhile (a take): requeued, not held */
__u64 preempt_holds_refused;
/*
 * The bitmap's safety net (repair_vm_bit): bits found missing. Its cursor and
 * the pick counters are per CPU (vs_cpu_stats): every dispatch touches them.
 */
__u64 vm_bit_repairs;
/* Core takes: from the commit to the vCPU running there (bpf/rules/take_wait.h). */
__u64 take_started[VS_MAX_VCPUS]; /* by vCPU slot; 0: no take pending */
__u64 take_waits, take_wait_ns, take_wait_max_ns;
__u64 take_wait_hist[VS_TAKE_WAIT_BUCKETS];
/* Guest hints (bpf/rules/hints.h): set by the agent before load. */
__u64 cs_ext_ns = VS_CS_EXT_DEFAULT_NS;		/* slice extension for a critical section */
__u32 cs_budget_pct = VS_CS_BUDGET_DEFAULT_PCT; /* of a VM's vCPU time, per 1 s window */
/* yield_to() targets by CPU, taken by that CPU's next dispatch: tid, 0 if none. */
__u32 directed_tid[VS_MAX_CPUS];
/*
 * Cores each VM owns (core_state.owner), kept by set_core_owner() under the
 * core's lock so that a cap check costs the same at 1 or 4,096 VMs. Read
 * without the locks: caps are a policy limit, so two cores changing hands at
 * once may overshoot a cap by a core until the next handover.
 */
__s32 vm_owned_cores[VS_MAX_VMS];
/*
 * The first CPU of the core each VM was last given (set_owner), for
 * vs_waits_for_sibling; read with the core's owner, so a stale one is harmless.
 */
__s32 vm_last_core[VS_MAX_VMS];
/* The VMs that may have queued vCPUs, a bitmap (bpf/rules/vm_bits.h), and its summary word. */
__u64 queued_vms[VS_VM_WORDS];
__u64 queued_words;
__u64 vm_enqueued_at[VS_MAX_VMS]; /* when a vCPU of the VM last went into its queue */
/*
 * The VMs with a reservation, the same two levels: the heaps' pick offers
 * them all to the reservations' fold, which needs every VM short of its
 * cores. Set at enqueue and by the pick's rotating check (repair_vm_bit),
 * cleared by the walk that finds the reservation gone.
 */
__u64 reserving_vms[VS_VM_WORDS];
__u64 reserving_words;
/* vCPUs of the VM inserted into its queue that have not run or left since (vs_task.in_vm_queue). */
__s32 vm_in_flight[VS_MAX_VMS];
/* VMs found missing from their enclave's heaps by the pick's rotating check; should stay 0. */
__u64 vm_heap_repairs;
/* By vCPU slot: since when it waits (vs_task.runnable_at), for the head of its VM's queue. */
__u64 vcpu_wait_since[VS_MAX_VCPUS];
/* By vCPU slot: it entered its VM's queue guest-idle (vs_hint_idle_defers). */
__u8 idle_queued[VS_MAX_VCPUS];
/* By vCPU slot: picks that passed it over since then (vs_idle_still_defers). */
__u8 idle_passes[VS_MAX_VCPUS];

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
	u64 runnable_at;  /* when it last became runnable */
	u64 started_at;	  /* when it last got a CPU */
	u64 ext_at;	  /* when its slice extension began; 0: none running */
	bool ext_done;	  /* it got its extension this run */
	bool in_vm_queue; /* inserted into its VM's queue, not run or left since */
	u32 queued_vm;	  /* the VM whose vm_in_flight counts it */
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

/*
 * vm_heaps[enclave]: the enclave's VMs with vCPUs to run, by vtime and by
 * waiting_since (bpf/rules/vm_heap.h); pick_owed_vm reads the first entries
 * instead of every queued VM. Internal to the scheduler: the agent never
 * reads it.
 */
struct vm_heaps {
	struct bpf_spin_lock lock;
	struct vs_vm_heap vt;
	struct vs_vm_heap wait;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_ENCLAVES);
	__type(key, u32);
	__type(value, struct vm_heaps);
} vm_heaps SEC(".maps");

/* A pick's copies of its enclave's heaps and the VMs it offers: too big for the BPF stack. */
struct pick_snaps {
	struct vs_heap_snap vt;
	struct vs_heap_snap wait;
	__u16 vms_vt[VS_HEAP_TOP_VT], vms_w[VS_HEAP_TOP_VT];
	__u64 keys_vt[VS_HEAP_TOP_VT], keys_w[VS_HEAP_TOP_VT];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct pick_snaps);
} pick_snaps SEC(".maps");

/* Why a CPU idles with vCPUs waiting, as dispatch decides it (bpf/rules/cpu_time.h). */
enum idle_reason { IDLE_FORCED = VS_TIME_FORCED_IDLE, IDLE_HOST = VS_TIME_HOST_IDLE };

/* The idle reason dispatch chose, until the CPU switches to idle. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_CPUS);
	__type(key, u32);
	__type(value, struct vs_idle_pending);
} cpu_idle SEC(".maps");
