/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel/agent ABI of vmm-sched: maps, messages and limits shared by the
 * sched_ext scheduler (bpf/vmm_sched.bpf.c) and the host agent (vmm-schedd).
 * Bump VS_ABI_VERSION on any change to a struct, a map or a constant here,
 * and on a change to the scheduler's global variables (its .bss, pinned with
 * the maps: a restarted agent adopts it). 13: vcpu_wait_since. 14: the VM heaps
 * (vm_heaps, pick_scans, vm_heap_repairs); vm_state lost last_run_ns.
 */
#ifndef VMM_SCHED_ABI_H
#define VMM_SCHED_ABI_H

#ifndef __VMLINUX_H__
#include <linux/bpf.h> /* struct bpf_spin_lock, struct bpf_timer */
#include <linux/types.h>
#endif

#define VS_ABI_VERSION 14

/*
 * Pinned state. vmm-schedd pins every map and both links under VS_PIN_DIR
 * (default /sys/fs/bpf/vmm-sched), so the scheduler outlives the agent and a
 * restarted agent re-adopts it. The `abi` map holds one struct vs_abi_stamp,
 * written last at start-up; its layout never changes, so an agent of any ABI
 * can read it before touching anything else.
 */
#define VS_PIN_DIR_DEFAULT "/sys/fs/bpf/vmm-sched"
#define VS_ABI_MAGIC	   0x564d4d53 /* "VMMS" */
struct vs_abi_stamp {
	__u32 magic;	   /* VS_ABI_MAGIC once the state is complete, else 0 */
	__u32 abi_version; /* VS_ABI_VERSION of the agent that loaded the scheduler */
};

/*
 * Ceilings (powers of two: BPF masks indices with them). The maps are sized
 * at load from the host's possible CPUs and the agent's --max-vms and
 * --max-vcpus, which the scheduler also gets as rodata (vs_max_vms,
 * vs_max_vcpus); a restarted agent takes the sizes of the pinned maps.
 */
#define VS_MAX_CPUS  1024
#define VS_MAX_VMS   4096
#define VS_MAX_VCPUS 16384 /* vCPU slots, over all VMs */
#define VS_VM_NONE   (-1)
/* Enclaves: id 0 is the default one (--cpus); the agent creates the others live. */
#define VS_MAX_ENCLAVES	   8
#define VS_ENCLAVE_DEFAULT 0

/* Dispatch queues: one per VM (SCHED_EXT tasks that are not vCPUs use local DSQs). */
#define VS_DSQ_VM_BASE	 0x1000ULL
#define VS_DSQ_VM(vm_id) (VS_DSQ_VM_BASE + (__u64)(vm_id))

/* vcpu_map: key __u32 tid -> struct vs_vcpu_id, written by the agent at enrolment. */
struct vs_vcpu_id {
	__u32 vm_id;	  /* < vs_max_vms */
	__u32 vcpu_index; /* the guest's vCPU number */
	__u32 slot;	  /* < vs_max_vcpus: index into vcpu_stats */
	__u32 flags;
};

/* vcpu_stats[slot]: written by BPF on the CPU that runs the vCPU. */
struct vs_vcpu_stats {
	__u64 runs;    /* times put on a CPU */
	__u64 run_ns;  /* time on CPU */
	__u64 wait_ns; /* runnable but not running (shown to the guest as steal) */
	__u64 wakeups;
	__u64 preempts;	  /* left the CPU while still runnable */
	__u64 migrations; /* ran on a different CPU than the time before */
	__u32 last_cpu;
	__u32 seqnum; /* per-vCPU message sequence number */
	__u32 tid;
	__u32 last_msg; /* type of the latest message about it, sent or dropped */
	/* Guest hints (bpf/rules/hints.h), told back to the guest in its host-to-guest slot: */
	__u64 cs_extensions;  /* slices extended for a critical section */
	__u64 cs_extended_ns; /* time run on them past the slice's end */
} __attribute__((aligned(64)));

/*
 * cpu_ctx[cpu]: the CPU's enclave, written by the agent. A CPU changes
 * enclave only while its core is closed (vs_core_gate): nothing of a VM on it.
 */
#define VS_CPU_IN_ENCLAVE (1U << 0)
struct vs_cpu_ctx {
	__u32 flags;
	__u32 core_id;
	__s32 sibling; /* the other hardware thread of the core, or -1 */
	__s32 node;    /* NUMA node, or -1 if unknown */
	__u32 enclave; /* < VS_MAX_ENCLAVES, if VS_CPU_IN_ENCLAVE */
	__u32 pad;
};

/*
 * enclave_ctx[enclave]: each enclave's settings, written by the agent. A VM's
 * vCPUs run only on CPUs of its VM's enclave (vm_ctx.enclave). core_slice_ns
 * and pair_window_ns are the agent's share plan for the enclave.
 */
#define VS_ENCLAVE_USED (1U << 0)
struct vs_enclave_ctx {
	__u32 flags;
	__u32 pairing;	/* VS_PAIRING_* */
	__u64 slice_ns; /* vCPU time slice */
	__u64 core_slice_ns;
	__u64 pair_window_ns;
};

/*
 * What an enclave CPU spends its time on, one stretch at a time
 * (bpf/rules/cpu_time.h): vcpu_ns + host_ns + idle_ns + forced_idle_ns +
 * host_idle_ns is the CPU's time since its first stretch, once the open
 * stretch (stretch_since..now) is added to its kind's counter.
 */
enum vs_cpu_time {
	VS_TIME_NONE = 0,
	VS_TIME_VCPU,	     /* a vCPU runs: vcpu_ns */
	VS_TIME_HOST,	     /* a host (non-vCPU) task runs: host_ns */
	VS_TIME_IDLE,	     /* idle, no vCPU kept from it: idle_ns */
	VS_TIME_FORCED_IDLE, /* idle while another VM's vCPUs waited: forced_idle_ns */
	VS_TIME_HOST_IDLE,   /* idle because a host task ran on the sibling: host_idle_ns */
};

/* cpu_stats[cpu]: written by BPF under that CPU's runqueue lock. */
struct vs_cpu_stats {
	__u64 vcpu_runs;
	__u64 vcpu_ns;	      /* time this CPU ran vCPUs */
	__u64 empty_dispatch; /* dispatch found no vCPU to run */
	__u64 stray_runs;     /* a non-vCPU SCHED_EXT task ran here */
	__u64 forced_idle_ns; /* idled while another VM's vCPUs waited (core owned) */
	__u64 host_idle_ns;   /* idled because a host task ran on the sibling (strict) */
	__u64 owner_changes;  /* this CPU handed its core to another VM */
	__u64 host_evictions; /* a host task took the sibling while a vCPU ran here */
	__u32 cpu_seqnum;     /* per-CPU message sequence number */
	__u32 vm_bit_cursor;  /* the queued-VM bitmap's safety net: this CPU's next VM id */
	__u64 host_ns;	      /* time this CPU ran host (non-vCPU) tasks */
	__u64 idle_ns;	      /* idle with no vCPU kept from it (true idle) */
	__u64 stretch_since;  /* when the current stretch began (ktime), 0 if none */
	__u32 stretch_kind;   /* enum vs_cpu_time of the current stretch */
	__s32 stretch_owner;  /* the core's owner when a forced-idle stretch began */
	__u64 pick_calls;     /* VM picks this CPU made (dispatch, sweep); the agent sums them */
	__u64 pick_visits;    /* the VMs those picks visited */
	__u64 pick_scans;     /* picks that scanned the queued VMs instead of reading the heaps */
	__u64 pick_mends;     /* heap entries those picks removed or re-keyed */
} __attribute__((aligned(64)));

/*
 * core_state[core_id] (core_id = lowest CPU of the core): who owns the core.
 * Invariant: a hardware thread runs, or is committed to run, only vCPUs of
 * `owner`; `owner` changes only while no thread of the core runs a vCPU of
 * another VM and no vCPU is committed to either thread. running_vm is set
 * under the lock when a vCPU is put on the CPU (ops.running) and cleared by
 * the scheduler's sched_switch hook when the CPU switches to anything else, so
 * it covers at least the interval an independent sched_switch tracer sees.
 * claims count vCPUs committed to a thread (in or on their way to its local
 * DSQ, or preempted there by a host task) that have not run yet; each belongs
 * to one vCPU (vcpu_claim) and ends when it runs, leaves or is re-queued.
 */
#define VS_THREADS_PER_CORE 2
struct vs_core_state {
	struct bpf_spin_lock lock;
	__s32 owner;	/* VM id or VS_VM_NONE */
	__u32 draining; /* the owner must hand over: start no more of its vCPUs */
	/*
	 * Closed by the agent (vs_core_gate) to take the core out of its
	 * enclave: no claim is taken on it and no owner set; its vCPUs are
	 * kicked off. Empty once closed: no vCPU runs or is committed there.
	 */
	__u32 closed;
	__u64 owner_since;
	__s32 running_vm[VS_THREADS_PER_CORE];	/* VM whose vCPU runs there, or VS_VM_NONE */
	__u32 running_tid[VS_THREADS_PER_CORE]; /* that vCPU's tid */
	/* VM of the vCPU a thread is switching away from, until the switch happens */
	__s32 leaving_vm[VS_THREADS_PER_CORE];
	__u32 claims[VS_THREADS_PER_CORE];
	__u32 host[VS_THREADS_PER_CORE]; /* a host (non-vCPU) task runs there */
	__s32 cpu[VS_THREADS_PER_CORE];	 /* the CPUs of the core, -1 if absent */
	__u64 sibling_wakeups;		 /* vCPUs the placement sweep put on an idle thread */
	/* Copied from cpu_ctx and enclave_ctx when the core opens, so the lock covers them: */
	__u32 enclave; /* the enclave it serves */
	__u32 strict;  /* its enclave pairs strictly (VS_PAIRING_STRICT) */
};

/* vm_state[vm_id]: written by BPF. */
#define VS_WEIGHT_SCALE 100
struct vs_vm_state {
	__u64 vtime;	      /* core time charged as ns * VS_WEIGHT_SCALE / weight */
	__u64 run_ns;	      /* vCPU time */
	__u64 forced_idle_ns; /* sibling time idled while this VM owned the core */
	__u64 core_grants;    /* times a core was handed to this VM */
	__u64 remote_runs;    /* vCPU runs on a CPU off the VM's home node */
	__u64 waiting_since;  /* its oldest queued vCPU waits since (vs_queued_stamp) */
	/* Guest hints (bpf/rules/hints.h): the extension budget's 1 s windows ... */
	__u64 hint_win_start;	/* when the current window began */
	__u64 hint_win_run_ns;	/* vCPU time in it */
	__u64 hint_prev_run_ns; /* vCPU time in the previous one */
	__u64 hint_win_ext_ns;	/* slice extension time used in it */
	/* ... and what the hints did, since enrolment. */
	__u64 cs_extensions;   /* slices extended for a critical section */
	__u64 cs_extended_ns;  /* time run on them past the slice's end */
	__u64 idle_handoffs;   /* guest-idle vCPUs cut for a queued vCPU of the same VM */
	__u64 directed_yields; /* yield_to() a waiting vCPU of the same VM: accepted */
	__u64 directed_runs;   /* ... and that vCPU was the one run next on that CPU */
	__u64 yields_ignored;  /* yield_to() another VM's vCPU, or one not waiting: nothing done */
	__u64 idle_deferrals;  /* a vCPU with work run before a guest-idle one queued ahead of it */
};

/*
 * vcpu_hints[slot]: the guest's hints for the vCPU in that slot, mirrored by
 * the agent from the VM's hint region once validated (docs/guest-abi.md); 0
 * when the VM publishes none or its hints are off.
 */
#define VS_HINT_IDLE (1U << 0) /* idle in the guest */
#define VS_HINT_CS   (1U << 1) /* in a critical section, or preemption-sensitive */
struct vs_vcpu_hint {
	__u32 flags;
	__u32 pad;
};

/*
 * vm_ctx[vm_id]: written by the agent. weight is the agent's share plan for
 * the VM in hundredths of a core (vmm-sched/lib/share_plan.h); 0 means
 * VS_WEIGHT_SCALE. cap_cores: the VM takes no further core while it owns
 * this many (0: no cap). reserve_cores: cores it gets within a core slice
 * of wanting them (0: none; bpf/rules/reserve.h). home_node: where its
 * memory is, -1 if unknown.
 */
#define VS_VM_ACTIVE (1U << 0)
struct vs_vm_ctx {
	__u32 flags;
	__u32 weight;
	__u32 cap_cores;
	__s32 home_node;
	__u32 enclave; /* its vCPUs run only on this enclave's CPUs */
	__u32 reserve_cores;
};

/* Pairing modes (enclave_ctx.pairing; rodata `pairing_mode` until the agent set one). */
#define VS_PAIRING_STRICT  0 /* a sibling idles while a host task runs on its twin */
#define VS_PAIRING_RELAXED 1 /* host tasks may share a core with a vCPU */

/*
 * Messages kernel -> agent through the `messages` ring buffer (ghOSt-style).
 * Only VCPU_NEW, DEPARTED and DEAD wake the agent, and any message once the
 * ring is a quarter full; the agent must read the ring on a timer as well.
 */
enum vs_msg_type {
	VS_MSG_VCPU_NEW = 1,   /* the vCPU entered SCHED_EXT */
	VS_MSG_VCPU_WAKEUP,    /* became runnable */
	VS_MSG_VCPU_BLOCKED,   /* went to sleep (e.g. guest HLT) */
	VS_MSG_VCPU_PREEMPTED, /* left a CPU while still runnable */
	VS_MSG_VCPU_YIELD,
	VS_MSG_VCPU_DEPARTED, /* left SCHED_EXT but lives on */
	VS_MSG_VCPU_DEAD,     /* the thread exited */
	VS_MSG_VCPU_ON_CPU,   /* started running on `cpu` */
	/*
	 * Its CPU affinity no longer allows an enclave CPU (taskset, vcpupin, a
	 * cpuset change): it now runs where it may, as a host task would, until
	 * the agent takes it out of SCHED_EXT.
	 */
	VS_MSG_VCPU_ESCAPED,
	VS_MSG_CPU_FIRST = 64,
};

struct vs_msg {
	__u16 type;   /* enum vs_msg_type */
	__u16 length; /* sizeof(struct vs_msg) */
	__u32 seqnum; /* the vCPU's, incremented per message about it */
	__u32 tid;
	__u32 vm_id;
	__u32 vcpu_index;
	__s32 cpu;	  /* the CPU the event happened on */
	__u32 cpu_seqnum; /* that CPU's, to order messages about one CPU */
	__u32 slot;	  /* the vCPU's slot (vcpu_map), so the agent needs no tid lookup */
	__u64 timestamp;  /* bpf_ktime_get_ns() */
	__u64 runtime;	  /* total run_ns of the vCPU at the event */
};

/*
 * Transactions agent -> kernel (ghOSt-style): txns[cpu] is one slot per CPU in
 * a mmapable array. The agent fills tid, seqnum, flags and gen, then sets
 * state = VS_TXN_PENDING last and runs the `vs_commit` syscall program. The
 * scheduler commits every pending slot ("run vCPU tid on this CPU if its
 * seqnum is still seqnum"), writes outcome and committed_at, then state =
 * VS_TXN_DONE. Slots with VS_TXN_F_GROUP on both threads of a core commit
 * together: both or neither (outcome VS_TXN_GROUP_FAILED on the one that was
 * fine). A committed vCPU waits in the CPU's local DSQ if the CPU is busy.
 */
enum vs_txn_state { VS_TXN_FREE = 0, VS_TXN_PENDING = 1, VS_TXN_DONE = 2 };
enum vs_txn_outcome {
	VS_TXN_NONE = 0,
	VS_TXN_COMPLETE,       /* committed: the vCPU runs there next */
	VS_TXN_STALE,	       /* the vCPU's seqnum moved on since the agent looked */
	VS_TXN_NOT_RUNNABLE,   /* the vCPU is running, blocked or already committed */
	VS_TXN_WRONG_VM,       /* the core runs or is committed to another VM */
	VS_TXN_NOT_IN_ENCLAVE, /* the CPU is not an enclave CPU */
	VS_TXN_UNKNOWN_VCPU,   /* the tid is not an enrolled vCPU */
	VS_TXN_HOST_BUSY,      /* strict pairing: a host task runs on the sibling */
	VS_TXN_GROUP_FAILED,   /* the other slot of the group failed */
	VS_TXN_BAD_SLOT,       /* malformed slot (group without a partner, bad flags) */
	VS_TXN_NR_OUTCOMES,
};
#define VS_TXN_F_GROUP (1U << 0)
/*
 * The commit may take the core from the VM that owns or runs it: the core is
 * handed to this vCPU's VM (the other VM's vCPUs drained off both threads)
 * instead of the commit being refused with VS_TXN_WRONG_VM.
 */
#define VS_TXN_F_TAKE_CORE (1U << 1)
struct vs_txn {
	__u32 state;   /* enum vs_txn_state */
	__u32 outcome; /* enum vs_txn_outcome */
	__u32 tid;
	__u32 seqnum;
	__u32 flags;
	__u32 gen; /* the agent's, echoed untouched */
	__u64 committed_at;
};

/*
 * The context of the `vs_core_gate` syscall program: close the core of
 * core_cpu (no new vCPU there, the running ones kicked) and report whether it
 * is empty, or (open) open it again for the enclave its cpu_ctx now names.
 */
struct vs_core_gate_args {
	__s32 core_cpu; /* the core's first CPU */
	__u32 open;	/* in: 1 to open, 0 to close */
	__u32 empty;	/* out: closed and no vCPU runs or is committed there */
	__u32 pad;
};

/* The context of the `vs_commit` syscall program. */
struct vs_commit_args {
	__u32 committed; /* out: slots that reached VS_TXN_DONE */
	__u32 complete;	 /* out: of which VS_TXN_COMPLETE */
};

/*
 * The agent's own records, kept in maps BPF never touches so that they are
 * pinned with the scheduler: what a restarted agent needs to re-adopt each VM
 * and to give each thread its policy back at a clean stop.
 * agent_vms[vm_id] and agent_vcpus[slot] (the slot of vcpu_map and vcpu_stats).
 */
#define VS_AGENT_NAME_LEN 64
struct vs_agent_vm {
	__u32 used;
	__s32 pid;
	__u64 start_time; /* field 22 of /proc/PID/stat: tells a reused pid apart */
	__u32 weight;
	__s32 numa_node;
	__u32 reserve_cores;
	__u32 cap_cores;
	char name[VS_AGENT_NAME_LEN];
	__u32 enclave;
	__u32 pad;
};

/* agent_enclaves[enclave]: the enclave's name, for a restarted agent. */
#define VS_ENCLAVE_NAME_LEN 32
struct vs_agent_enclave {
	__u32 used;
	__u32 pad;
	char name[VS_ENCLAVE_NAME_LEN];
};

struct vs_agent_vcpu {
	__u32 used;
	__s32 tid;
	__u32 vm_id;
	__u32 vcpu_index;
	/* the thread's scheduling before enrolment */
	__s32 policy;
	__s32 nice;
	__s32 rt_priority;
	__u32 pad;
	__u64 start_time; /* field 22 of /proc/TID/stat: tells a reused tid apart */
	__u64 affinity[VS_MAX_CPUS / 64];
};

/* Why the BPF scheduler left, copied from ops.exit for the agent to report. */
#define VS_EXIT_REASON_LEN 128
#define VS_EXIT_MSG_LEN	   1024
struct vs_exit_info {
	__s32 kind; /* enum scx_exit_kind; 0 while running */
	__s32 pad;
	__s64 exit_code;
	char reason[VS_EXIT_REASON_LEN];
	char msg[VS_EXIT_MSG_LEN];
};

#endif /* VMM_SCHED_ABI_H */
