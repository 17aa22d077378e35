/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel/agent ABI of vmm-sched: maps, messages and limits shared by the
 * sched_ext scheduler (bpf/vmm_sched.bpf.c) and the host agent (vmm-schedd).
 * Bump VS_ABI_VERSION on any change to a struct, a map or a constant here.
 */
#ifndef VMM_SCHED_ABI_H
#define VMM_SCHED_ABI_H

#ifndef __VMLINUX_H__
#include <linux/bpf.h> /* struct bpf_spin_lock, struct bpf_timer */
#include <linux/types.h>
#endif

#define VS_ABI_VERSION 2

#define VS_MAX_CPUS  256
#define VS_MAX_VMS   64
#define VS_MAX_VCPUS 1024 /* vCPU slots, over all VMs */
#define VS_VM_NONE   (-1)

/* Dispatch queues: one per VM, one for SCHED_EXT tasks that are not vCPUs. */
#define VS_DSQ_STRAY	 0x100ULL
#define VS_DSQ_VM_BASE	 0x1000ULL
#define VS_DSQ_VM(vm_id) (VS_DSQ_VM_BASE + (__u64)(vm_id))

/* vcpu_map: key __u32 tid -> struct vs_vcpu_id, written by the agent at enrolment. */
struct vs_vcpu_id {
	__u32 vm_id;	  /* < VS_MAX_VMS */
	__u32 vcpu_index; /* the guest's vCPU number */
	__u32 slot;	  /* < VS_MAX_VCPUS: index into vcpu_stats */
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
	__u32 pad;
} __attribute__((aligned(64)));

/* cpu_ctx[cpu]: the enclave, written by the agent. */
#define VS_CPU_IN_ENCLAVE (1U << 0)
struct vs_cpu_ctx {
	__u32 flags;
	__u32 core_id;
	__s32 sibling; /* the other hardware thread of the core, or -1 */
	__u32 pad;
};

/* cpu_stats[cpu]: written by BPF on that CPU. */
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
	__u32 pad;
} __attribute__((aligned(64)));

/*
 * core_state[core_id] (core_id = lowest CPU of the core): who owns the core.
 * Invariant: a hardware thread runs, or is committed to run, only vCPUs of
 * `owner`, and `owner` changes only while no thread of the core runs or is
 * committed to a vCPU of another VM. running_vm and host are written by the
 * scheduler's sched_switch hook (what each thread really runs); claims count
 * vCPUs committed to a thread's local DSQ that have not switched in yet.
 */
#define VS_THREADS_PER_CORE 2
/*
 * A claimed vCPU switches in within microseconds unless the CPU is stalled;
 * a claim whose task vanished (killed, moved) must not pin the core forever.
 */
#define VS_CLAIM_TTL_NS (1000ULL * 1000 * 1000)
struct vs_core_state {
	struct bpf_spin_lock lock;
	__s32 owner;	/* VM id or VS_VM_NONE */
	__u32 draining; /* the owner must hand over: start no more of its vCPUs */
	__u32 pad;
	__u64 owner_since;
	__s32 running_vm[VS_THREADS_PER_CORE]; /* VM whose vCPU runs there, or VS_VM_NONE */
	__u32 claims[VS_THREADS_PER_CORE];
	__u64 claim_at[VS_THREADS_PER_CORE]; /* claims older than VS_CLAIM_TTL_NS are void */
	__u32 held[VS_THREADS_PER_CORE];     /* a vCPU preempted by a host task waits there */
	__u32 host[VS_THREADS_PER_CORE];     /* a host (non-vCPU) task runs there */
	__s32 cpu[VS_THREADS_PER_CORE];	     /* the CPUs of the core, -1 if absent */
	__u64 sibling_wakeups;		     /* vCPUs the placement sweep put on an idle thread */
};

/* vm_state[vm_id]: written by BPF. */
#define VS_WEIGHT_SCALE 100
struct vs_vm_state {
	__u64 vtime;	      /* core time charged as ns * VS_WEIGHT_SCALE / weight */
	__u64 run_ns;	      /* vCPU time */
	__u64 forced_idle_ns; /* sibling time idled while this VM owned the core */
	__u64 core_grants;    /* times a core was handed to this VM */
};

/* vm_ctx[vm_id]: written by the agent. weight 0 means VS_WEIGHT_SCALE. */
#define VS_VM_ACTIVE (1U << 0)
struct vs_vm_ctx {
	__u32 flags;
	__u32 weight;
};

/* Pairing modes (rodata `pairing_mode`). */
#define VS_PAIRING_STRICT  0 /* a sibling idles while a host task runs on its twin */
#define VS_PAIRING_RELAXED 1 /* host tasks may share a core with a vCPU */

/* Messages kernel -> agent through the `messages` ring buffer (ghOSt-style). */
enum vs_msg_type {
	VS_MSG_VCPU_NEW = 1,   /* the vCPU entered SCHED_EXT */
	VS_MSG_VCPU_WAKEUP,    /* became runnable */
	VS_MSG_VCPU_BLOCKED,   /* went to sleep (e.g. guest HLT) */
	VS_MSG_VCPU_PREEMPTED, /* left a CPU while still runnable */
	VS_MSG_VCPU_YIELD,
	VS_MSG_VCPU_DEPARTED, /* left SCHED_EXT but lives on */
	VS_MSG_VCPU_DEAD,     /* the thread exited */
	VS_MSG_VCPU_ON_CPU,   /* started running on `cpu` */
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
	__u32 pad;
	__u64 timestamp; /* bpf_ktime_get_ns() */
	__u64 runtime;	 /* total run_ns of the vCPU at the event */
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
