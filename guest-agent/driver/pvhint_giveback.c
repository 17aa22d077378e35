// SPDX-License-Identifier: GPL-2.0-only
/*
 * Yield on exit (PVHINT_IOC_YIELD, docs/guest-abi.md): a thread ended its
 * outermost critical section on a vCPU whose slice the host extended for it.
 * Acknowledged once per extension count per vCPU (however many threads ask),
 * then the vCPU gives its CPU back with KVM's PV yield hypercall naming a
 * sibling vCPU with work: KVM turns that into yield_to(), which the host
 * scheduler sees (ops.yield) and answers by ending this vCPU's slice. User
 * space cannot make the hypercall itself (KVM refuses it outside ring 0).
 */
#include <linux/atomic.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/kvm_para.h>
#include "pvhint_drv.h"

#define H2G_SEQ_TRIES 4

static DEFINE_PER_CPU(u64, acked_extensions);
static atomic_long_t yield_acks, yield_hypercalls;

static int get_count(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(kp->arg));
}

static const struct kernel_param_ops count_ops = {.get = get_count};
module_param_cb(yield_acks, &count_ops, &yield_acks, 0444);
MODULE_PARM_DESC(yield_acks, "yield-on-exit requests acknowledged (read-only)");
module_param_cb(yield_hypercalls, &count_ops, &yield_hypercalls, 0444);
MODULE_PARM_DESC(yield_hypercalls, "of those, given back by KVM_HC_SCHED_YIELD (read-only)");

/* The host's request for @cpu: its extension count, or 0 for none (or garbage). */
static u64 h2g_request(unsigned int cpu)
{
	const struct pvhint_h2g_slot *s = pvhint->region + PVHINT_H2G_SLOT_OFF(cpu);
	u32 seq, flags;
	u64 ext, disabled;
	int i;

	for (i = 0; i < H2G_SEQ_TRIES; i++) {
		seq = READ_ONCE(s->seq);
		if (seq & 1)
			continue;
		smp_rmb();
		flags = READ_ONCE(s->flags);
		ext = READ_ONCE(s->extensions);
		disabled = READ_ONCE(s->disabled);
		smp_rmb();
		if (READ_ONCE(s->seq) != seq)
			continue;
		return flags == PVHINT_H2G_YIELD_ON_EXIT && !disabled ? ext : 0;
	}
	return 0;
}

/* The next vCPU after @cpu that the guest runs something on (not idle), or -1. */
static int sibling_with_work(unsigned int cpu)
{
	unsigned int i, c;

	for (i = 1; i < pvhint->nr_vcpus; i++) {
		c = (cpu + i) % pvhint->nr_vcpus;
		if (cpu_online(c) &&
		    (READ_ONCE(pvhint_vcpu(c)->flags) & (PVHINT_VCPU_ONLINE | PVHINT_VCPU_IDLE)) ==
			PVHINT_VCPU_ONLINE)
			return c;
	}
	return -1;
}

static void give_back(unsigned int cpu)
{
#ifdef CONFIG_KVM_GUEST
	int target;

	/* Not on KVM (TCG, another hypervisor): no hypercall to make. */
	if (!kvm_para_available())
		return;
	/* KVM yields only to a vCPU that is preempted; one with work may be. */
	target = sibling_with_work(cpu);
	if (target < 0)
		return;
	kvm_hypercall1(KVM_HC_SCHED_YIELD, per_cpu(x86_cpu_to_apicid, target));
	atomic_long_inc(&yield_hypercalls);
#endif
}

long pvhint_yield_on_exit(void)
{
	unsigned int cpu;
	long ret = 0;
	u64 ext;

	preempt_disable();
	cpu = smp_processor_id();
	if (cpu < pvhint->nr_vcpus) {
		ext = h2g_request(cpu);
		if (ext && ext != this_cpu_read(acked_extensions)) {
			this_cpu_write(acked_extensions, ext);
			atomic_long_inc(&yield_acks);
			give_back(cpu);
			ret = 1;
		}
	}
	preempt_enable();
	return ret;
}
