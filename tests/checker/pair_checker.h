/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pair-checker: the types shared by the checker's BPF program and its loader.
 * Deliberately independent of the scheduler (bpf/vmm_sched_abi.h is not used):
 * the checker must not trust the code it checks.
 */
#ifndef PAIR_CHECKER_H
#define PAIR_CHECKER_H

#ifndef __bpf__
#include <linux/types.h>
#include <linux/bpf.h>
#endif

#define PC_MAX_CPUS  1024
#define PC_MAX_VCPUS 8192
#define PC_MAX_VMMS  1024
#define PC_MAX_SEEN  65536 /* distinct vCPU threads counted in one run */
#define PC_COMM_LEN  16

/* What a hardware thread runs, as last seen by sched_switch on it. */
enum pc_kind {
	PC_UNKNOWN = 0, /* no switch seen yet on this CPU */
	PC_IDLE = 1,	/* the idle task (pid 0) */
	PC_HOST = 2,	/* any task that is not a tracked vCPU */
	PC_VCPU = 3,	/* a vCPU thread of VM vm[] */
	PC_SELF = 4,	/* a thread of the checker itself: never counted */
};

/* One interval statistic (cross-VM or host/vCPU). */
struct pc_ovl {
	__u64 open;  /* 1 while an overlap interval is open */
	__u64 start; /* ktime when it opened */
	__u64 count; /* closed intervals of at least grace_ns */
	__u64 ns;    /* their total length */
	__u64 max_ns;
	__u64 short_count; /* closed intervals shorter than grace_ns (not in count/ns) */
};

/* Which side of a vCPU-beside-host exposure arrived second. */
enum pc_second {
	PC_SECOND_NONE = 0,
	PC_SECOND_VCPU = 1, /* a vCPU started beside a running host task */
	PC_SECOND_HOST = 2, /* a host task started beside a running vCPU */
};

/*
 * Exposures of at least grace_ns (counted ones) by the timer interrupts the
 * vCPU's CPU took while they lasted.
 */
struct pc_ticks {
	__u64 none;	/* ended before its CPU took a timer interrupt */
	__u64 one;	/* lasted through one (a tick, if nothing else fired) */
	__u64 two_plus; /* lasted through two or more of them */
};

/* Per core, indexed by the lower CPU id of the core; slot 0 is that CPU. */
struct pc_core {
	struct bpf_spin_lock lock;
	__u32 kind[2];
	__u32 vm[2];
	__u32 tid[2];
	__u64 last_ts;	    /* latest event time applied: events are applied in order */
	__u32 cross_tid[2]; /* the vCPUs that opened the current cross-VM interval */
	__u32 cross_vm[2];
	struct pc_ovl cross;
	struct pc_ovl host;
	/*
	 * The host exposures split by which side arrived second (pc_second).
	 * A vCPU switching in beside a host task always begins a new one, even
	 * inside a longer host interval; another host task taking over beside
	 * the same vCPU continues the one open.
	 */
	__u32 second; /* pc_second of the open exposure */
	__u32 second_tid[2];
	struct pc_ovl vcpu_second;
	struct pc_ovl host_second;
	/*
	 * Timer interrupts the vCPU's CPU took during the open exposure tell a
	 * vCPU that left at its CPU's first interrupt (a reschedule IPI: an
	 * exposure as long as the interrupt took to arrive, however long an
	 * emulator made that) from one that stayed past its CPU's tick.
	 */
	__u32 second_vcpu_slot; /* the thread (0/1) running the vCPU */
	__u64 second_timer0;	/* its timer interrupt count when it opened */
	struct pc_ticks vcpu_second_ticks;
	struct pc_ticks host_second_ticks;
	__u32 mark_gen; /* the SIGUSR1 mark the counts above start from */
};

/*
 * How long vCPUs waited to run: from a wakeup or a preemption (switched out
 * still runnable) to the next switch-in. One entry, under its lock.
 */
struct pc_gaps {
	struct bpf_spin_lock lock;
	__u32 max_tid;
	__u64 count;
	__u64 over; /* longer than gap_threshold_ns */
	__u64 max_ns;
};

/* What a pc_overlap_event reports. */
enum pc_event_kind {
	PC_EV_CROSS = 0,       /* a cross-VM interval */
	PC_EV_VCPU_SECOND = 1, /* a vCPU started beside a running host task */
};

/* A closed interval, reported through the `overlap_log` ring buffer. */
struct pc_overlap_event {
	__u32 kind; /* pc_event_kind */
	__u32 core;
	__u32 closing_cpu; /* the CPU whose switch closed it */
	__u32 tid[2];	   /* the tasks on thread 0 and 1 when it opened */
	__u32 vm[2];
	__u64 start;
	__u64 ns;
};

#endif
