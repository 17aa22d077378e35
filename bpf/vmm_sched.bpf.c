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
#include "rules/cap.h"
#include "rules/core.h"
#include "rules/cpu_time.h"
#include "rules/dispatch.h"
#include "rules/enqueue.h"
#include "rules/gate.h"
#include "rules/hints.h"
#include "rules/host_block.h"
#include "rules/owed_pick.h"
#include "rules/owed_scan.h"
#include "rules/reserve.h"
#include "rules/running.h"
#include "rules/sibling_wait.h"
#include "rules/sweep.h"
#include "rules/take_wait.h"
#include "rules/tick_cut.h"
#include "rules/txn_decide.h"
#include "rules/vm_bits.h"
#include "rules/vm_heap.h"
#include "rules/vtime.h"

#include "sched/maps.bpf.h"
#include "sched/lookup.bpf.h"
#include "sched/messages.bpf.h"
#include "sched/charge.bpf.h"
#include "sched/cpu_time.bpf.h"
#include "sched/claims.bpf.h"
#include "sched/pick.bpf.h"
#include "sched/sweep.bpf.h"
#include "sched/enqueue.bpf.h"
#include "sched/dispatch.bpf.h"
#include "sched/tick.bpf.h"
#include "sched/task.bpf.h"
#include "sched/txn.bpf.h"
#include "sched/core_gate.bpf.h"

char _license[] SEC("license") = "GPL";

/*
 * Sleepable (scx_bpf_create_dsq needs it): the loader sets BPF_F_SLEEPABLE,
 * because bookworm's bpftool 7.1 cannot open a "struct_ops.s/" section.
 */
s32 BPF_STRUCT_OPS(vs_init)
{
	struct sweep_timer *st;
	struct take_timer *tt;
	u32 vm, cpu, zero = 0;
	s32 err;

	kick_supported = bpf_ksym_exists(scx_bpf_kick_cpu);
	bpf_for(vm, 0, vs_max_vms)
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
	tt = bpf_map_lookup_elem(&take_timer, &zero);
	if (!tt)
		return -ENOENT;
	bpf_timer_init(&tt->timer, &take_timer, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&tt->timer, txn_take_timer_fn);
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
