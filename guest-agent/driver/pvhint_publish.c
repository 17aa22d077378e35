// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vCPU slots: each CPU writes only its own slot, with interrupts off (the
 * idle and context-switch probes run so; the heartbeat turns them off), under
 * the slot's seqcount. Idle comes from the power:cpu_idle tracepoint, the
 * running thread's slot from sched:sched_switch.
 */
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>
#include "pvhint_drv.h"

static unsigned int heartbeat_ms = 100;
module_param(heartbeat_ms, uint, 0444);
MODULE_PARM_DESC(heartbeat_ms, "heartbeat period of each vCPU slot in ms (10..1000, default 100)");

#define PWR_EVENT_EXIT_STATE ((unsigned int)-1) /* cpu_idle's "leaving idle" */

struct heartbeat {
	struct delayed_work work;
	unsigned int cpu;
};

static DEFINE_PER_CPU(struct heartbeat, heartbeats);
static bool stopping;
static struct cpumask beating; /* CPUs whose heartbeat was started */
static struct tracepoint *tp_idle, *tp_switch;

u64 pvhint_now_ns(void)
{
	return ktime_get_mono_fast_ns(); /* CLOCK_MONOTONIC, safe in the idle path */
}

static void slot_begin(struct pvhint_vcpu_slot *s)
{
	WRITE_ONCE(s->seq, READ_ONCE(s->seq) | 1);
	smp_wmb();
}

static void slot_end(struct pvhint_vcpu_slot *s)
{
	smp_wmb();
	WRITE_ONCE(s->seq, READ_ONCE(s->seq) + 1);
}

static void probe_idle(void *data, unsigned int state, unsigned int cpu)
{
	struct pvhint_vcpu_slot *s;
	bool idle = state != PWR_EVENT_EXIT_STATE;
	u32 flags;
	u64 now;

	if (cpu >= pvhint->nr_vcpus)
		return;
	s = pvhint_vcpu(cpu);
	flags = READ_ONCE(s->flags);
	if (!!(flags & PVHINT_VCPU_IDLE) == idle)
		return;
	now = pvhint_now_ns();
	slot_begin(s);
	WRITE_ONCE(s->flags, idle ? flags | PVHINT_VCPU_IDLE : flags & ~PVHINT_VCPU_IDLE);
	WRITE_ONCE(s->idle_since_ns, now);
	WRITE_ONCE(s->idle_transitions, s->idle_transitions + 1);
	WRITE_ONCE(s->now_ns, now);
	slot_end(s);
}

/* Names the thread slot of the task now running on this vCPU. Interrupts off. */
static void set_cur_thread(unsigned int cpu, u32 thread)
{
	struct pvhint_vcpu_slot *s;

	if (cpu >= pvhint->nr_vcpus)
		return;
	s = pvhint_vcpu(cpu);
	if (READ_ONCE(s->cur_thread) == thread)
		return;
	slot_begin(s);
	WRITE_ONCE(s->cur_thread, thread);
	WRITE_ONCE(s->now_ns, pvhint_now_ns());
	slot_end(s);
}

static void probe_switch(void *data, bool preempt, struct task_struct *prev,
			 struct task_struct *next, unsigned int prev_state)
{
	set_cur_thread(smp_processor_id(), pvhint_thread_of(next));
}

void pvhint_note_current(u32 thread)
{
	unsigned long irqflags;

	local_irq_save(irqflags);
	set_cur_thread(smp_processor_id(), thread);
	local_irq_restore(irqflags);
}

static void heartbeat_fn(struct work_struct *work)
{
	struct heartbeat *hb = container_of(to_delayed_work(work), struct heartbeat, work);
	struct pvhint_vcpu_slot *s = pvhint_vcpu(hb->cpu);
	unsigned long irqflags;

	local_irq_save(irqflags);
	if (smp_processor_id() == hb->cpu) { /* not if the CPU went offline */
		slot_begin(s);
		WRITE_ONCE(s->heartbeat, s->heartbeat + 1);
		WRITE_ONCE(s->now_ns, pvhint_now_ns());
		slot_end(s);
	}
	local_irq_restore(irqflags);
	if (!READ_ONCE(stopping))
		queue_delayed_work_on(hb->cpu, system_wq, &hb->work,
				      msecs_to_jiffies(heartbeat_ms));
}

/* Every slot in use starts clean: online CPUs ONLINE, nothing running, not idle. */
static void slots_start(void)
{
	unsigned int cpu;
	u64 now = pvhint_now_ns();

	for (cpu = 0; cpu < pvhint->nr_vcpus; cpu++) {
		struct pvhint_vcpu_slot *s = pvhint_vcpu(cpu);

		slot_begin(s);
		s->flags = cpu_online(cpu) ? PVHINT_VCPU_ONLINE : 0;
		s->idle_since_ns = now;
		s->cs_depth = 0;
		s->cur_thread = PVHINT_NO_THREAD;
		s->cs_since_ns = 0;
		s->now_ns = now;
		s->reserved0 = 0;
		s->reserved1 = 0;
		slot_end(s);
	}
}

int pvhint_publish_start(void)
{
	unsigned int cpu;
	int err;

	if (heartbeat_ms < 10 || heartbeat_ms > 1000) {
		pr_err("vmm_pvhint: heartbeat_ms=%u is outside 10..1000\n", heartbeat_ms);
		return -EINVAL;
	}
	tp_idle = pvhint_find_tracepoint("cpu_idle");
	tp_switch = pvhint_find_tracepoint("sched_switch");
	if (!tp_idle || !tp_switch) {
		pr_err("vmm_pvhint: this kernel lacks the cpu_idle or sched_switch tracepoint\n");
		return -ENOENT;
	}
	slots_start();
	WRITE_ONCE(stopping, false);
	err = tracepoint_probe_register(tp_idle, probe_idle, NULL);
	if (err)
		return err;
	err = tracepoint_probe_register(tp_switch, probe_switch, NULL);
	if (err) {
		tracepoint_probe_unregister(tp_idle, probe_idle, NULL);
		tracepoint_synchronize_unregister();
		return err;
	}
	for_each_online_cpu(cpu)
	{
		struct heartbeat *hb = per_cpu_ptr(&heartbeats, cpu);

		if (cpu >= pvhint->nr_vcpus)
			break;
		hb->cpu = cpu;
		cpumask_set_cpu(cpu, &beating);
		INIT_DELAYED_WORK(&hb->work, heartbeat_fn);
		queue_delayed_work_on(cpu, system_wq, &hb->work, 0);
	}
	return 0;
}

/* Stops every writer, then leaves each slot offline, not idle, nothing running. */
void pvhint_publish_stop(void)
{
	unsigned int cpu;

	WRITE_ONCE(stopping, true);
	for_each_cpu(cpu, &beating) cancel_delayed_work_sync(&per_cpu_ptr(&heartbeats, cpu)->work);
	cpumask_clear(&beating);
	tracepoint_probe_unregister(tp_switch, probe_switch, NULL);
	tracepoint_probe_unregister(tp_idle, probe_idle, NULL);
	tracepoint_synchronize_unregister();
	for (cpu = 0; cpu < pvhint->nr_vcpus; cpu++) {
		struct pvhint_vcpu_slot *s = pvhint_vcpu(cpu);

		slot_begin(s);
		s->flags = 0;
		s->cur_thread = PVHINT_NO_THREAD;
		s->cs_depth = 0;
		s->now_ns = pvhint_now_ns();
		slot_end(s);
	}
}
