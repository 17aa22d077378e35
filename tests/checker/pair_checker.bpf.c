/* SPDX-License-Identifier: GPL-2.0 */
/* Over 400 lines: the checker is one self-contained BPF object, kept apart from the scheduler it
 * judges. */
/*
 * pair-checker: an independent witness of core scheduling by VM.
 *
 * On every sched_switch of a watched CPU we record what the CPU runs next (idle,
 * a vCPU of VM v, or a host task) in the state of its core, and re-evaluate the
 * core: a cross-VM overlap is open while the two hardware threads run vCPUs of
 * different VMs, a host overlap while one runs a vCPU and the other a host task.
 * Both siblings update the same core state under its spin lock, so the events
 * of a core are applied in one order; each opens or closes intervals at the
 * event's bpf_ktime_get_ns() time (clamped to be monotonic per core).
 *
 * Shares nothing with the scheduler (no vmm_sched_abi.h, no scheduler maps).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pair_checker.h"
#include "vcpu_name.h"

char _license[] SEC("license") = "GPL";

#define TASK_RUNNING_STATE 0	      /* prev_state of a preempted task */
#define PF_EXITING	   0x00000004 /* include/linux/sched.h, not in BTF */

const volatile __u32 self_tgid = 0; /* the checker's own threads are never counted */
const volatile __u32 track_all = 0; /* any vCPU-named thread is a vCPU of VM = its tgid */
const volatile __u64 grace_ns = 0;  /* intervals shorter than this are only counted as short */
const volatile __u64 gap_threshold_ns = 100000000;
/*
 * Set by the loader at SIGUSR1 (count_from_ns first, then mark_gen): counts
 * start afresh and intervals that opened before the mark are not counted, so
 * a case can start the checker first (its probe then runs before the
 * scheduler's at every switch) and count from a later point.
 */
volatile __u64 count_from_ns = 0;
volatile __u32 mark_gen = 0;

/* cpu -> sibling cpu, or -1 (filled by the loader from sysfs). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PC_MAX_CPUS);
	__type(key, __u32);
	__type(value, __s32);
} sibling SEC(".maps");

/* cpu -> 1 if watched. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PC_MAX_CPUS);
	__type(key, __u32);
	__type(value, __u32);
} enclave SEC(".maps");

/* vCPU tid -> VM id (filled and pruned by the loader's /proc scans). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PC_MAX_VCPUS);
	__type(key, __u32);
	__type(value, __u32);
} tracked SEC(".maps");

/*
 * VMM tgid -> VM id for --track-pid: a vCPU-named thread of such a process that
 * the loader has not scanned yet is already a vCPU of that VM.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PC_MAX_VMMS);
	__type(key, __u32);
	__type(value, __u32);
} vmm_tgid SEC(".maps");

/*
 * --track-all-vmms: tgids in which a vCPU-named thread that is not tracked yet
 * switched in. The loader drains it and scans those processes at once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PC_MAX_VMMS);
	__type(key, __u32);
	__type(value, __u32);
} candidates SEC(".maps");

/*
 * Every vCPU thread of the run, tid -> VM: those that switched in as vCPUs
 * (here) and those the loader tracked. tracked_vcpus counts it at the end, so
 * a thread judged a vCPU by its name before any /proc scan reached it counts.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PC_MAX_SEEN);
	__type(key, __u32);
	__type(value, __u32);
} seen_vcpus SEC(".maps");

/* Core state, indexed by the lower CPU id of the core. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PC_MAX_CPUS);
	__type(key, __u32);
	__type(value, struct pc_core);
} cores SEC(".maps");

/* Closed cross-VM intervals, for --verbose. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} overlap_log SEC(".maps");

/* vCPU tid -> when it last became runnable without running since. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PC_MAX_VCPUS);
	__type(key, __u32);
	__type(value, __u64);
} runnable_since SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_gaps);
} gaps SEC(".maps");

/* Timer interrupts (local_timer_entry) per watched CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PC_MAX_CPUS);
	__type(key, __u32);
	__type(value, __u64);
} timer_irqs SEC(".maps");

/* Switches seen per watched CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PC_MAX_CPUS);
	__type(key, __u32);
	__type(value, __u64);
} switches SEC(".maps");

static __always_inline void classify(struct task_struct *p, __u32 *kind, __u32 *vm)
{
	__u32 tid = p->pid, tgid = p->tgid;
	char comm[PC_COMM_LEN];
	__u32 *v;

	*vm = 0;
	if (tid == 0) {
		*kind = PC_IDLE;
		return;
	}
	if (tgid == self_tgid) {
		*kind = PC_SELF;
		return;
	}
	/* In do_exit() for good: kernel code only, it never enters the guest again. */
	if (p->flags & PF_EXITING) {
		*kind = PC_HOST;
		return;
	}
	v = bpf_map_lookup_elem(&tracked, &tid);
	if (v) {
		*kind = PC_VCPU;
		*vm = *v;
		return;
	}
	*kind = PC_HOST;
	/* Not scanned yet (the loader rescans every 200 ms): judge by name. */
	if (!track_all) {
		v = bpf_map_lookup_elem(&vmm_tgid, &tgid);
		if (!v)
			return;
		*vm = *v;
	} else {
		*vm = tgid;
	}
	if (bpf_probe_read_kernel(comm, sizeof(comm), p->comm))
		return;
	comm[PC_COMM_LEN - 1] = '\0';
	if (!pcn_is_vcpu_comm(comm)) {
		*vm = 0;
		return;
	}
	*kind = PC_VCPU;
	if (track_all)
		bpf_map_update_elem(&candidates, &tgid, &tid, BPF_ANY);
}

static __always_inline void reset_ovl(struct pc_ovl *o)
{
	o->count = 0;
	o->ns = 0;
	o->max_ns = 0;
	o->short_count = 0;
}

/* A new SIGUSR1 mark: what was counted before it is dropped (open intervals stay open). */
static __always_inline void reset_counts(struct pc_core *core)
{
	reset_ovl(&core->cross);
	reset_ovl(&core->host);
	reset_ovl(&core->vcpu_second);
	reset_ovl(&core->host_second);
	__builtin_memset(&core->vcpu_second_ticks, 0, sizeof(core->vcpu_second_ticks));
	__builtin_memset(&core->host_second_ticks, 0, sizeof(core->host_second_ticks));
}

/* Opens or closes the interval of st as `now_on` says, at time now. */
static __always_inline void step(struct pc_ovl *st, bool now_on, __u64 now)
{
	__u64 d;

	if (now_on && !st->open) {
		st->open = 1;
		st->start = now;
	} else if (!now_on && st->open) {
		st->open = 0;
		if (st->start < count_from_ns)
			return;
		d = now - st->start;
		if (d < grace_ns) {
			st->short_count++;
			return;
		}
		st->count++;
		st->ns += d;
		if (d > st->max_ns)
			st->max_ns = d;
	}
}

/*
 * Sorts a closed, counted exposure that ended because its vCPU left (@slot,
 * the thread switching, is the vCPU's: not the host task leaving first) by
 * the timer interrupts the vCPU's CPU took meanwhile.
 */
static __always_inline void count_ticks(struct pc_core *core, struct pc_ticks *t, __u64 start,
					__u64 now, int slot, const __u64 *timers)
{
	__u64 n = timers[core->second_vcpu_slot & 1] - core->second_timer0;

	if (slot != (int)core->second_vcpu_slot || start < count_from_ns || now - start < grace_ns)
		return;
	if (n == 0)
		t->none++;
	else if (n == 1)
		t->one++;
	else
		t->two_plus++;
}

/* Ends the open vCPU-beside-host exposure of core, if any; fills ev if it was vCPU-second. */
static __always_inline bool end_second(struct pc_core *core, __u64 now, int slot,
				       const __u64 *timers, struct pc_overlap_event *ev)
{
	__u32 was = core->second;

	if (was == PC_SECOND_HOST) {
		count_ticks(core, &core->host_second_ticks, core->host_second.start, now, slot,
			    timers);
		step(&core->host_second, false, now);
	}
	core->second = PC_SECOND_NONE;
	if (was != PC_SECOND_VCPU)
		return false;
	count_ticks(core, &core->vcpu_second_ticks, core->vcpu_second.start, now, slot, timers);
	ev->kind = PC_EV_VCPU_SECOND;
	ev->tid[0] = core->second_tid[0];
	ev->tid[1] = core->second_tid[1];
	ev->vm[0] = 0;
	ev->vm[1] = 0;
	ev->start = core->vcpu_second.start;
	ev->ns = now - core->vcpu_second.start;
	step(&core->vcpu_second, false, now);
	return true;
}

/*
 * Splits host exposures by the side that arrived second: a vCPU switching in
 * (kind PC_VCPU) beside a host task always begins a vCPU-second exposure; a
 * host task switching in beside a vCPU begins a host-second one unless one is
 * open (another host task took over beside the same vCPU). @slot is the
 * thread switching; @timers the timer interrupt counts of threads 0 and 1.
 */
static __always_inline bool split_host(struct pc_core *core, __u32 kind, bool host, __u64 now,
				       int slot, const __u64 *timers, struct pc_overlap_event *ev)
{
	bool logged = false;

	if (!host || kind == PC_VCPU)
		logged = end_second(core, now, slot, timers, ev);
	if (!host || core->second != PC_SECOND_NONE)
		return logged;
	core->second = kind == PC_VCPU ? PC_SECOND_VCPU : PC_SECOND_HOST;
	core->second_tid[0] = core->tid[0];
	core->second_tid[1] = core->tid[1];
	/* The vCPU is the thread switching in, or else its sibling. */
	core->second_vcpu_slot = kind == PC_VCPU ? slot : slot ^ 1;
	core->second_timer0 = timers[core->second_vcpu_slot & 1];
	step(kind == PC_VCPU ? &core->vcpu_second : &core->host_second, true, now);
	return logged;
}

/* A vCPU that waited since runnable_since[tid] runs at @now. */
static __always_inline void gap_close(__u32 tid, __u64 now)
{
	__u64 *since = bpf_map_lookup_elem(&runnable_since, &tid), d;
	struct pc_gaps *g;
	__u32 zero = 0;

	if (!since)
		return;
	d = now > *since ? now - *since : 0;
	bpf_map_delete_elem(&runnable_since, &tid);
	g = bpf_map_lookup_elem(&gaps, &zero);
	if (!g)
		return;
	bpf_spin_lock(&g->lock);
	g->count++;
	if (d > gap_threshold_ns)
		g->over++;
	if (d > g->max_ns) {
		g->max_ns = d;
		g->max_tid = tid;
	}
	bpf_spin_unlock(&g->lock);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(pc_sched_wakeup, struct task_struct *p)
{
	__u32 kind, vm, tid = p->pid;
	__u64 now = bpf_ktime_get_ns();

	classify(p, &kind, &vm);
	if (kind == PC_VCPU)
		bpf_map_update_elem(&runnable_since, &tid, &now, BPF_NOEXIST);
	return 0;
}

static __always_inline void timer_of(__u32 cpu, __u64 *out)
{
	__u64 *n = bpf_map_lookup_elem(&timer_irqs, &cpu);

	*out = n ? *n : 0;
}

SEC("tp_btf/local_timer_entry")
int BPF_PROG(pc_local_timer, int vector)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 *n = bpf_map_lookup_elem(&timer_irqs, &cpu);

	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(pc_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u32 cpu = bpf_get_smp_processor_id(), sib, core_id, kind, vm, tid;
	__u32 *watched;
	__s32 *s;
	__u64 *nsw, now;
	struct pc_overlap_event ev = {}, hev = {};
	struct pc_core *core;
	bool cross, host, closed, host_closed;
	__u64 timers[2];
	int slot;

	watched = bpf_map_lookup_elem(&enclave, &cpu);
	if (!watched || !*watched)
		return 0;
	nsw = bpf_map_lookup_elem(&switches, &cpu);
	if (nsw)
		__sync_fetch_and_add(nsw, 1);
	s = bpf_map_lookup_elem(&sibling, &cpu);
	if (!s || *s < 0 || *s >= PC_MAX_CPUS)
		return 0;
	sib = *s;
	core_id = cpu < sib ? cpu : sib;
	slot = cpu < sib ? 0 : 1;
	core = bpf_map_lookup_elem(&cores, &core_id);
	if (!core)
		return 0;
	classify(next, &kind, &vm);
	tid = next->pid;
	/* Read before the lock: no helper may be called while it is held. */
	timer_of(core_id, &timers[0]);
	timer_of(sib > cpu ? sib : cpu, &timers[1]);
	now = bpf_ktime_get_ns();

	bpf_spin_lock(&core->lock);
	if (core->mark_gen != mark_gen) {
		reset_counts(core);
		core->mark_gen = mark_gen;
	}
	/*
	 * The two siblings read the clock before taking the lock, so the later
	 * locker may hold the earlier time: apply it at the latest time seen.
	 */
	if (now < core->last_ts)
		now = core->last_ts;
	core->last_ts = now;
	if (slot == 0) {
		core->kind[0] = kind;
		core->vm[0] = vm;
		core->tid[0] = tid;
	} else {
		core->kind[1] = kind;
		core->vm[1] = vm;
		core->tid[1] = tid;
	}
	cross = core->kind[0] == PC_VCPU && core->kind[1] == PC_VCPU && core->vm[0] != core->vm[1];
	host = (core->kind[0] == PC_VCPU && core->kind[1] == PC_HOST) ||
	       (core->kind[0] == PC_HOST && core->kind[1] == PC_VCPU);
	if (cross && !core->cross.open) {
		core->cross_tid[0] = core->tid[0];
		core->cross_tid[1] = core->tid[1];
		core->cross_vm[0] = core->vm[0];
		core->cross_vm[1] = core->vm[1];
	}
	closed = !cross && core->cross.open;
	if (closed) {
		ev.kind = PC_EV_CROSS;
		ev.core = core_id;
		ev.closing_cpu = cpu;
		ev.tid[0] = core->cross_tid[0];
		ev.tid[1] = core->cross_tid[1];
		ev.vm[0] = core->cross_vm[0];
		ev.vm[1] = core->cross_vm[1];
		ev.start = core->cross.start;
		ev.ns = now - core->cross.start;
	}
	step(&core->cross, cross, now);
	step(&core->host, host, now);
	host_closed = split_host(core, kind, host, now, slot, timers, &hev);
	bpf_spin_unlock(&core->lock);
	if (closed)
		bpf_ringbuf_output(&overlap_log, &ev, sizeof(ev), 0);
	if (host_closed) {
		hev.core = core_id;
		hev.closing_cpu = cpu;
		bpf_ringbuf_output(&overlap_log, &hev, sizeof(hev), 0);
	}
	if (kind == PC_VCPU) {
		gap_close(tid, now);
		if (!bpf_map_lookup_elem(&seen_vcpus, &tid))
			bpf_map_update_elem(&seen_vcpus, &tid, &vm, BPF_NOEXIST);
	}
	/* Switched out still runnable (preempted): waiting from now. */
	if (prev_state == TASK_RUNNING_STATE) {
		__u32 pkind, pvm, ptid = prev->pid;

		classify(prev, &pkind, &pvm);
		if (pkind == PC_VCPU)
			bpf_map_update_elem(&runnable_since, &ptid, &now, BPF_ANY);
	}
	return 0;
}
