/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmm_sched: a sched_ext scheduler for the vCPU threads of KVM guests.
 *
 * Partial mode: only threads the agent moved to SCHED_EXT are ours. A thread the
 * agent enrolled (vcpu_map) is a vCPU: it is queued on its VM's DSQ and runs only
 * on enclave CPUs, which consume nothing but VM DSQs. Any other SCHED_EXT task is
 * a stray: it is queued on the stray DSQ and run by non-enclave CPUs (enclave
 * CPUs take it only when they have no vCPU at all, and count it). The global DSQ
 * is never used, so no CPU outside the enclave can pick up a vCPU.
 */
#include "scx_kfuncs.bpf.h"
#include "vmm_sched_abi.h"

char _license[] SEC("license") = "GPL";

#define PF_EXITING 0x00000004 /* include/linux/sched.h, not in BTF */

const volatile __u32 abi_version = VS_ABI_VERSION;
const volatile __u64 slice_ns = 5000000;
const volatile __u32 nr_cpus = 1;

struct vs_exit_info exit_info;
__u64 msg_drops; /* messages lost because the ring buffer was full */
__u64 stray_enqueues;
bool kick_supported; /* scx_bpf_kick_cpu() links on this kernel */

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
	__uint(max_entries, VS_MAX_VMS);
	__type(key, u32);
	__type(value, struct vs_vm_ctx);
} vm_ctx SEC(".maps");

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
	u64 runnable_at; /* when it last became runnable and queued */
	u64 started_at;	 /* when it last got a CPU */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vs_task);
} task_ctx SEC(".maps");

/* The next VM each CPU looks at first, so VMs share a CPU round-robin. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u32);
} vm_cursor SEC(".maps");

static bool cpu_in_enclave(s32 cpu)
{
	u32 key = cpu;
	struct vs_cpu_ctx *c = bpf_map_lookup_elem(&cpu_ctx, &key);

	return c && (c->flags & VS_CPU_IN_ENCLAVE);
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

static struct vs_cpu_stats *this_cpu_stats(void)
{
	u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&cpu_stats, &cpu);
}

static void send_msg(struct vs_task *t, struct vs_vcpu_stats *st, u16 type)
{
	struct vs_cpu_stats *cs = this_cpu_stats();
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

/*
 * A waking vCPU goes to an idle enclave CPU if there is one (its previous CPU
 * first, for warm caches): the kernel wakes that CPU, whose dispatch then
 * consumes the VM's DSQ. The daemon pins vCPUs to the enclave, so cpus_ptr
 * holds only enclave CPUs.
 */
s32 BPF_STRUCT_OPS(vs_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	s32 cpu;

	if (!vcpu_of(p))
		return prev_cpu;
	if (cpu_in_enclave(prev_cpu) && scx_bpf_test_and_clear_cpu_idle(prev_cpu))
		return prev_cpu;
	cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
	return cpu >= 0 ? cpu : prev_cpu;
}

/*
 * A vCPU that becomes runnable other than by a wakeup (preempted, slice
 * over, affinity change) should not wait for a tick while an enclave CPU
 * idles: put it straight on that CPU's local DSQ, which wakes the CPU without
 * needing scx_bpf_kick_cpu(). Otherwise it queues on its VM's DSQ.
 */
void BPF_STRUCT_OPS(vs_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct vs_task *t = vcpu_of(p);
	s32 cpu;

	if (!t) {
		__sync_fetch_and_add(&stray_enqueues, 1);
		vs_dsq_insert(p, VS_DSQ_STRAY, slice_ns, enq_flags);
		return;
	}
	t->runnable_at = bpf_ktime_get_ns();
	cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
	if (cpu >= 0 && cpu_in_enclave(cpu)) {
		vs_dsq_insert(p, SCX_DSQ_LOCAL_ON | cpu, slice_ns, enq_flags);
		return;
	}
	vs_dsq_insert(p, VS_DSQ_VM(t->vm_id), slice_ns, enq_flags);
}

void BPF_STRUCT_OPS(vs_dispatch, s32 cpu, struct task_struct *prev)
{
	struct vs_cpu_stats *cs;
	u32 zero = 0, *cursor, start, i;

	if (!cpu_in_enclave(cpu)) {
		vs_dsq_move_to_local(VS_DSQ_STRAY);
		return;
	}
	cursor = bpf_map_lookup_elem(&vm_cursor, &zero);
	if (!cursor)
		return;
	start = *cursor;
	bpf_for(i, 0, VS_MAX_VMS)
	{
		u32 vm = (start + i) % VS_MAX_VMS;

		if (scx_bpf_dsq_nr_queued(VS_DSQ_VM(vm)) <= 0)
			continue;
		if (vs_dsq_move_to_local(VS_DSQ_VM(vm))) {
			*cursor = vm + 1;
			return;
		}
	}
	/* The previous vCPU keeps the CPU if nothing else wants it. */
	if (prev && vcpu_of(prev) && (prev->scx.flags & SCX_TASK_QUEUED))
		return;
	if (vs_dsq_move_to_local(VS_DSQ_STRAY)) {
		cs = this_cpu_stats();
		if (cs)
			cs->stray_runs++;
		return;
	}
	cs = this_cpu_stats();
	if (cs)
		cs->empty_dispatch++;
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
	t->started_at = now;
	if (t->runnable_at && now > t->runnable_at)
		st->wait_ns += now - t->runnable_at;
	t->runnable_at = 0;
	if (st->runs && st->last_cpu != cpu)
		st->migrations++;
	st->runs++;
	st->last_cpu = cpu;
	cs = this_cpu_stats();
	if (cs)
		cs->vcpu_runs++;
	send_msg(t, st, VS_MSG_VCPU_ON_CPU);
}

void BPF_STRUCT_OPS(vs_stopping, struct task_struct *p, bool runnable)
{
	struct vs_task *t = vcpu_of(p);
	struct vs_vcpu_stats *st;
	struct vs_cpu_stats *cs;
	u64 now = bpf_ktime_get_ns(), ran;

	if (!t || !(st = stats_of(t)))
		return;
	ran = t->started_at && now > t->started_at ? now - t->started_at : 0;
	st->run_ns += ran;
	cs = this_cpu_stats();
	if (cs)
		cs->vcpu_ns += ran;
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
	u32 vm;
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
    .runnable = (void *)vs_runnable,
    .running = (void *)vs_running,
    .stopping = (void *)vs_stopping,
    .quiescent = (void *)vs_quiescent,
    .enable = (void *)vs_enable,
    .disable = (void *)vs_disable,
    .init = (void *)vs_init,
    .exit = (void *)vs_exit,
    .flags = SCX_OPS_SWITCH_PARTIAL,
    .name = "vmm_sched",
};
