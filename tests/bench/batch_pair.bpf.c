/* SPDX-License-Identifier: GPL-2.0 */
/*
 * batch-pair: the benchmark's batch-pairing baseline, a sched_ext scheduler in
 * the style of the kernel's scx_pair example (written here, not copied). Each
 * core belongs to one VM at a time for a fixed batch (20 ms by default); both
 * of its threads run only that VM's vCPUs, first in first out from one queue
 * per VM. When the batch ends, or the owner has nothing left to run, the core
 * goes to the next VM with runnable vCPUs in turn; if the sibling still runs
 * the old owner's vCPU it is preempted and this thread waits (forced idle).
 *
 * Forced idle is counted as vmm_sched counts it: a thread that dispatch left
 * with nothing to run while some vCPU waited, from the moment it is idle
 * (now, or its later switch to idle) until its next dispatch or switch to a
 * task, so a host task that runs meanwhile is not counted.
 */
#include "scx_kfuncs.bpf.h"
#include "batch_pair.h"

char _license[] SEC("license") = "GPL";

bool scx_bpf_dsq_move_to_local(u64 dsq_id) __ksym;
u32 scx_bpf_reenqueue_local(void) __ksym;

#define BP_DSQ(vm)   ((u64)(vm) + 1)
#define SCHED_EXT    7
#define MIN_SLICE_NS 100000ULL

const volatile __u32 nr_cpus = 1;
const volatile __u64 batch_ns = 20000000ULL;
/* Filled by the loader from sysfs: the core of each CPU, its thread index (0/1), its sibling. */
const volatile __u32 core_of[BP_MAX_CPUS];
const volatile __u32 thread_of[BP_MAX_CPUS];
const volatile __s32 sibling_of[BP_MAX_CPUS];

struct bp_stats stats;
__u64 forced_idle_ns[BP_MAX_CPUS];
/*
 * Per CPU: idle as of its last switch; the open forced-idle window's start
 * (0: none); a window that opens at the CPU's next switch to idle.
 */
static bool cpu_idle_now[BP_MAX_CPUS];
static u64 forced_since[BP_MAX_CPUS];
static bool forced_pending[BP_MAX_CPUS];
int exit_kind;
char exit_msg[256];

/* tgid -> VM index (0..BP_MAX_VMS-1), written by the loader before attaching. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BP_MAX_VMS);
	__type(key, s32);
	__type(value, s32);
} vm_of_tgid SEC(".maps");

struct core {
	struct bpf_spin_lock lock;
	s32 owner;     /* VM that owns the core, BP_NO_VM for none */
	s32 on_cpu[2]; /* VM whose vCPU each thread runs as of its last switch, BP_NO_VM for none */
	s32 pending[2]; /* VM a thread was handed and will switch to */
	u64 batch_end;	/* the owner's batch ends here (ns) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BP_MAX_CPUS);
	__type(key, u32);
	__type(value, struct core);
} cores SEC(".maps");

static s32 vm_of(const struct task_struct *p)
{
	s32 tgid = p->tgid, *vm = bpf_map_lookup_elem(&vm_of_tgid, &tgid);

	return vm && *vm >= 0 && *vm < BP_MAX_VMS ? *vm : BP_NO_VM;
}

/*
 * The VM of a vCPU thread this scheduler runs; BP_NO_VM for any other task,
 * the VMM's own threads among them (the loader moves only the vCPU threads
 * into SCHED_EXT: the others run in the fair class, wherever it puts them).
 */
static s32 vm_of_vcpu(const struct task_struct *p)
{
	return p->policy == SCHED_EXT ? vm_of(p) : BP_NO_VM;
}

static struct core *core_of_cpu(s32 cpu)
{
	u32 i = (u32)cpu, c;

	if (i >= BP_MAX_CPUS)
		return NULL;
	c = core_of[i];
	return bpf_map_lookup_elem(&cores, &c);
}

static u32 thread_index(s32 cpu)
{
	u32 i = (u32)cpu;

	return i < BP_MAX_CPUS ? thread_of[i] & 1 : 0;
}

static s32 sibling(s32 cpu)
{
	u32 i = (u32)cpu;

	return i < BP_MAX_CPUS ? sibling_of[i] : -1;
}

/* Close the CPU's open forced-idle window, if any. */
static void forced_idle_end(s32 cpu, u64 now)
{
	u32 i = (u32)cpu;
	u64 since;

	if (i >= BP_MAX_CPUS)
		return;
	since = forced_since[i];
	forced_since[i] = 0;
	forced_pending[i] = false;
	if (since && now > since)
		__sync_fetch_and_add(&forced_idle_ns[i], now - since);
}

/* Dispatch left the CPU with nothing while vCPUs waited: forced idle from now or its next idle. */
static void forced_idle_begin(s32 cpu, u64 now)
{
	u32 i = (u32)cpu;

	if (i >= BP_MAX_CPUS)
		return;
	if (cpu_idle_now[i])
		forced_since[i] = now;
	else
		forced_pending[i] = true;
}

/* The CPU switches: to idle opens a pending window, to any task closes it. */
static void forced_idle_switch(s32 cpu, bool to_idle, u64 now)
{
	u32 i = (u32)cpu;

	if (i >= BP_MAX_CPUS)
		return;
	cpu_idle_now[i] = to_idle;
	if (!to_idle) {
		forced_idle_end(cpu, now);
		return;
	}
	if (forced_pending[i] && !forced_since[i])
		forced_since[i] = now;
	forced_pending[i] = false;
}

s32 BPF_STRUCT_OPS(bp_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return prev_cpu; /* no direct dispatch: every vCPU goes through its VM's queue */
}

/* Queue the vCPU on its VM's queue and wake idle CPUs of cores it may take. */
void BPF_STRUCT_OPS(bp_enqueue, struct task_struct *p, u64 enq_flags)
{
	s32 vm = vm_of(p), cpu;
	u64 now = bpf_ktime_get_ns();

	if (vm == BP_NO_VM) {
		__sync_fetch_and_add(&stats.unknown, 1);
		scx_bpf_dsq_insert(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
		return;
	}
	scx_bpf_dsq_insert(p, BP_DSQ(vm), batch_ns, enq_flags);
	bpf_for(cpu, 0, nr_cpus)
	{
		struct core *c = core_of_cpu(cpu);

		/* A hint read without the lock; dispatch decides under it. */
		if (c && (c->owner == vm || c->owner == BP_NO_VM || now >= c->batch_end))
			scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	}
}

enum decision { RUN_NOTHING, RUN_QUEUED, KEEP_PREV, PREEMPT_SIBLING };

/* May this thread run VM vm beside what its sibling runs or was handed? */
static __always_inline bool fits_sibling(const struct core *c, u32 sib, s32 vm)
{
	s32 a = c->on_cpu[sib], b = c->pending[sib];

	return (a == BP_NO_VM || a == vm) && (b == BP_NO_VM || b == vm);
}

/*
 * The batch rule, under the core's lock. queued: VMs with vCPUs waiting;
 * prev_vm: the VM of the vCPU whose slice ran out here and may go on, else
 * BP_NO_VM. Sets *run to the VM this thread runs, *new_batch when the core
 * starts a batch.
 */
static __always_inline enum decision decide(struct core *c, u32 me, u64 now, u32 queued,
					    s32 prev_vm, s32 *run, bool *new_batch)
{
	s32 owner = c->owner, next = BP_NO_VM;
	u32 sib = me ^ 1, i;

	/* Dispatch runs only with this thread's local DSQ empty: no claim is left to keep. */
	c->pending[me] = BP_NO_VM;
	if (owner >= 0 && owner < BP_MAX_VMS && now < c->batch_end) {
		*run = owner;
		if (!fits_sibling(c, sib, owner))
			return RUN_NOTHING; /* the sibling is still draining the old owner */
		if (queued & (1u << owner))
			return RUN_QUEUED;
		if (prev_vm == owner)
			return KEEP_PREV;
		if (c->on_cpu[sib] != BP_NO_VM || c->pending[sib] != BP_NO_VM)
			return RUN_NOTHING; /* the batch holds the core: this thread idles */
	}
	/* The batch is over, or its VM has nothing left here: the next VM in turn. */
	for (i = 1; i <= BP_MAX_VMS; i++) {
		s32 vm = (s32)((u32)(owner + (s32)i + BP_MAX_VMS) % BP_MAX_VMS);

		if ((queued & (1u << vm)) || vm == prev_vm) {
			next = vm;
			break;
		}
	}
	if (next == BP_NO_VM)
		return RUN_NOTHING;
	c->owner = next;
	c->batch_end = now + batch_ns;
	*run = next;
	*new_batch = true;
	if (!fits_sibling(c, sib, next))
		return PREEMPT_SIBLING;
	return queued & (1u << next) ? RUN_QUEUED : KEEP_PREV;
}

/*
 * on_cpu[] changes only at sched_switch, after the pair checker's probe (and
 * on hardware, after the old vCPU has left the CPU); what dispatch hands a
 * thread waits in pending[] until then, and the sibling must fit both.
 */
void BPF_STRUCT_OPS(bp_dispatch, s32 cpu, struct task_struct *prev)
{
	struct core *c = core_of_cpu(cpu);
	u32 me = thread_index(cpu), queued = 0, vm;
	s32 prev_vm = BP_NO_VM, run = BP_NO_VM, sib = sibling(cpu);
	u64 now = bpf_ktime_get_ns(), end;
	bool new_batch = false, moved;
	enum decision d;

	if (!c)
		return;
	bpf_for(vm, 0, BP_MAX_VMS)
	{
		if (scx_bpf_dsq_nr_queued(BP_DSQ(vm)) > 0)
			queued |= 1u << vm;
	}
	if (prev && (prev->scx.flags & SCX_TASK_QUEUED))
		prev_vm = vm_of(prev);
	forced_idle_end(cpu, now);

	bpf_spin_lock(&c->lock);
	d = decide(c, me, now, queued, prev_vm, &run, &new_batch);
	if (d == KEEP_PREV || d == RUN_QUEUED)
		c->pending[me] = run;
	end = c->batch_end;
	bpf_spin_unlock(&c->lock);

	if (new_batch)
		__sync_fetch_and_add(&stats.batches, 1);
	if ((d == RUN_NOTHING || d == PREEMPT_SIBLING) && queued)
		forced_idle_begin(cpu, now);
	switch (d) {
	case RUN_NOTHING:
		return;
	case PREEMPT_SIBLING:
		__sync_fetch_and_add(&stats.drains, 1);
		if (sib >= 0)
			scx_bpf_kick_cpu(sib, SCX_KICK_PREEMPT);
		return;
	case KEEP_PREV:
		if (prev) {
			prev->scx.slice = end > now + MIN_SLICE_NS ? end - now : MIN_SLICE_NS;
			__sync_fetch_and_add(&stats.extended, 1);
		}
		return;
	case RUN_QUEUED:
		moved = run >= 0 && run < BP_MAX_VMS && scx_bpf_dsq_move_to_local(BP_DSQ(run));
		if (moved)
			return;
		/* Taken meanwhile by the sibling (or not allowed here): give the claim back. */
		bpf_spin_lock(&c->lock);
		if (c->pending[me] == run)
			c->pending[me] = BP_NO_VM;
		bpf_spin_unlock(&c->lock);
		return;
	}
}

/* The slice a vCPU starts with ends with its VM's batch. */
void BPF_STRUCT_OPS(bp_running, struct task_struct *p)
{
	s32 cpu = bpf_get_smp_processor_id(), vm = vm_of(p);
	struct core *c = core_of_cpu(cpu);
	u32 me = thread_index(cpu);
	u64 now = bpf_ktime_get_ns(), end;
	bool fits;

	if (!c || vm == BP_NO_VM)
		return;
	bpf_spin_lock(&c->lock);
	c->pending[me] = vm;
	fits = fits_sibling(c, me ^ 1, vm);
	end = c->batch_end;
	bpf_spin_unlock(&c->lock);
	if (!fits) {
		/* E.g. a thread that was running when it was moved into SCHED_EXT: cut it short. */
		__sync_fetch_and_add(&stats.overlaps, 1);
		p->scx.slice = 0;
		scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
		return;
	}
	if (end > now && p->scx.slice > end - now)
		p->scx.slice = end - now > MIN_SLICE_NS ? end - now : MIN_SLICE_NS;
}

/*
 * The switch itself: this thread now runs next (a vCPU of a VM, or not), and
 * a sibling waiting for the old vCPU to leave may start.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(bp_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	s32 cpu = bpf_get_smp_processor_id(), sib = sibling(cpu), vm = vm_of_vcpu(next);
	struct core *c = core_of_cpu(cpu);
	u32 me = thread_index(cpu);
	bool fits;

	if (!c)
		return 0;
	bpf_spin_lock(&c->lock);
	c->on_cpu[me] = vm;
	/*
	 * A switch to a host task may leave a vCPU that dispatch handed this
	 * thread in its local DSQ, without ops.cpu_release: the kernel calls
	 * that only when the thread leaves a sched_ext task, not idle or a host
	 * task (a host task can arrive while dispatch drops the run queue lock
	 * to move a vCPU from another CPU). That vCPU starts here without a
	 * dispatch once the host task leaves, so its claim stays until then.
	 */
	if (vm != BP_NO_VM || next->pid == 0)
		c->pending[me] = BP_NO_VM;
	fits = vm == BP_NO_VM || fits_sibling(c, me ^ 1, vm);
	bpf_spin_unlock(&c->lock);
	if (!fits)
		__sync_fetch_and_add(&stats.switch_overlaps, 1);
	if (sib >= 0 && vm_of_vcpu(prev) != BP_NO_VM)
		scx_bpf_kick_cpu(sib, SCX_KICK_IDLE);
	/* Last, so that the pairing state above changes as early in the switch as before. */
	forced_idle_switch(cpu, next->pid == 0, bpf_ktime_get_ns());
	return 0;
}

/*
 * A host task takes the CPU: vCPUs waiting in its local queue (the preempted
 * one among them) go back to their VMs' queues, so none resumes here after
 * the core has changed owner.
 */
void BPF_STRUCT_OPS(bp_cpu_release, s32 cpu, struct scx_cpu_release_args *args)
{
	struct core *c = core_of_cpu(cpu);

	scx_bpf_reenqueue_local();
	if (!c)
		return;
	/* Nothing handed to this thread is left here: its claim goes with it. */
	bpf_spin_lock(&c->lock);
	c->pending[thread_index(cpu)] = BP_NO_VM;
	bpf_spin_unlock(&c->lock);
}

s32 BPF_STRUCT_OPS(bp_init)
{
	u32 vm, i;
	s32 err;

	bpf_for(i, 0, BP_MAX_CPUS)
	{
		struct core *c = bpf_map_lookup_elem(&cores, &i);

		if (!c)
			return -1;
		c->owner = BP_NO_VM;
		c->on_cpu[0] = BP_NO_VM;
		c->on_cpu[1] = BP_NO_VM;
		c->pending[0] = BP_NO_VM;
		c->pending[1] = BP_NO_VM;
	}
	bpf_for(vm, 0, BP_MAX_VMS)
	{
		err = scx_bpf_create_dsq(BP_DSQ(vm), -1);
		if (err)
			return err;
	}
	return 0;
}

void BPF_STRUCT_OPS(bp_exit, struct scx_exit_info *ei)
{
	bpf_probe_read_kernel_str(exit_msg, sizeof(exit_msg), ei->msg);
	__sync_lock_test_and_set(&exit_kind, ei->kind);
}

SEC(".struct_ops")
struct sched_ext_ops batch_pair_ops = {
    .select_cpu = (void *)bp_select_cpu,
    .enqueue = (void *)bp_enqueue,
    .dispatch = (void *)bp_dispatch,
    .running = (void *)bp_running,
    .cpu_release = (void *)bp_cpu_release,
    .init = (void *)bp_init,
    .exit = (void *)bp_exit,
    .flags = SCX_OPS_SWITCH_PARTIAL | SCX_OPS_ENQ_LAST | SCX_OPS_ENQ_MIGRATION_DISABLED,
    .name = "batch_pair",
};
