/*
 * The simulated kernel's event loop: vCPUs wake and block as their workload
 * says, the tick ends slices, kicks reschedule, timers fire; at each such
 * point the policy's hooks decide, as sched_ext's ops do.
 */
#include <stdio.h>

#include "sim.h"
#include "sim_plan.h"
#include "sim_policy.h"

/* The VM's runnable vCPUs change by @delta (for the lower bound and the fair-share reference). */
static void runnable_change(struct sim *s, struct sim_vm *vm, int delta)
{
	uint32_t r = 0, v;

	/* running + queued + ready before the change: count it from the states. */
	for (v = 0; v < vm->nr_vcpus; v++)
		r += s->vcpus[vm->first_vcpu + v].state != SIM_BLOCKED;
	sim_bound_change(&s->bound, r, (uint32_t)((int)r + delta));
	sim_fair_ref_change(&s->fair_ref, (uint32_t)(vm->kind - s->w.kinds), r,
			    (uint32_t)((int)r + delta));
}

static void wake(struct sim *s, struct sim_vcpu *v, uint64_t work)
{
	struct sim_vm *vm = &s->vms[v->vm];

	if (v->state != SIM_BLOCKED) {
		/* A bursty VM's vCPU still at work gets more to do. */
		if (v->work_left == UINT64_MAX || work == UINT64_MAX)
			return;
		v->work_left += work;
		if (v->state == SIM_RUNNING) {
			/* Its block comes later: the pending one is stale. */
			v->gen++;
			sim_eventq_post(&s->q, v->started_at + v->work_left, SIM_EV_BLOCK,
					(uint32_t)(v - s->vcpus), v->gen);
		}
		return;
	}
	runnable_change(s, vm, 1);
	v->state = SIM_READY;
	v->runnable_at = s->now;
	v->work_left = work;
	v->active = true;
	s->policy->enqueue(s, v, false);
}

static uint64_t work_of(struct sim *s, const struct sim_vm_kind *k)
{
	switch (k->model) {
	case SIM_DUTY:
	case SIM_BURSTY:
		return sim_workload_run_len(k, &s->rng);
	default:
		return UINT64_MAX;
	}
}

/*
 * A vCPU kept by dispatch (its slice refilled) runs on without ops.stopping;
 * BPF charges it at the refill and at each tick (bpf/sched/charge.bpf.h),
 * here at the refill. --what-if no-charge-kept leaves it uncharged until it
 * stops, as the scheduler did before.
 */
static void sim_model_charge_kept(struct sim *s, struct sim_vcpu *prev)
{
	if (s->p.charge_kept)
		sim_charge(s, prev);
}

/* @cpu must choose again: its vCPU's slice ended, it was kicked, or it blocked. */
static void reschedule(struct sim *s, uint32_t cpu)
{
	struct sim_vcpu *prev = NULL, *next = NULL;
	enum sim_decision d;

	if (s->cpus[cpu].running != SIM_NONE)
		prev = &s->vcpus[s->cpus[cpu].running];
	d = s->policy->dispatch(s, cpu, prev, &next);
	if (s->p.trace)
		fprintf(stderr, "%llu cpu %u dispatch prev=%d/%d -> %s %d/%d owner=%d\n",
			(unsigned long long)s->now, cpu, prev ? (int)prev->vm : -1,
			prev ? (int)prev->idx : -1,
			d == SIM_IDLE	     ? "idle"
			: d == SIM_KEEP_PREV ? "keep"
					     : "run",
			next ? (int)next->vm : -1, next ? (int)next->idx : -1,
			sim_core_of(s, cpu)->owner);
	if (d == SIM_KEEP_PREV || (d == SIM_RUN && !next)) {
		if (prev) {
			prev->slice_end = s->now + s->p.vcpu_slice_ns;
			sim_model_charge_kept(s, prev);
		}
		return;
	}
	if (prev)
		sim_preempt(s, cpu);
	if (d == SIM_RUN)
		sim_start(s, cpu, next);
	/* prev goes back through enqueue; SCX_ENQ_LAST if its CPU idles. */
	if (prev)
		s->policy->enqueue(s, prev, d != SIM_RUN);
}

static void block(struct sim *s, struct sim_vcpu *v)
{
	struct sim_vm *vm = &s->vms[v->vm];
	uint32_t cpu = (uint32_t)v->cpu;

	sim_preempt(s, cpu);
	runnable_change(s, vm, -1);
	v->state = SIM_BLOCKED;
	if (vm->kind->model == SIM_DUTY)
		sim_eventq_post(&s->q, s->now + sim_workload_block_len(vm->kind, &s->rng),
				SIM_EV_WAKE, (uint32_t)(v - s->vcpus), 0);
	reschedule(s, cpu);
}

static void tick(struct sim *s)
{
	uint32_t cpu;

	for (cpu = 0; cpu < s->nr_cpus; cpu++)
		if (s->cpus[cpu].running != SIM_NONE && s->policy->tick(s, cpu))
			reschedule(s, cpu);
	sim_eventq_post(&s->q, s->now + s->p.tick_ns, SIM_EV_TICK, 0, 0);
}

static void lock_phase(struct sim *s, struct sim_vcpu *holder)
{
	struct sim_vm *vm = &s->vms[holder->vm];

	/* Phases are counted in the holder's run time: this runs only while it runs. */
	sim_vm_account(s, vm);
	vm->locked = !vm->locked;
	vm->lock_phase_left = vm->locked ? vm->kind->hold_ns : vm->kind->free_ns;
	vm->lock_since = s->now;
	sim_eventq_post(&s->q, s->now + vm->lock_phase_left, SIM_EV_LOCK,
			(uint32_t)(holder - s->vcpus), holder->gen);
}

/* Re-checks every core: no two VMs on a core, no VM past its cap by more than a core. */
static void check_all(struct sim *s)
{
	uint32_t c, th;

	for (c = 0; c < s->nr_cores; c++) {
		int32_t seen = SIM_NONE;

		for (th = 0; th < s->tpc; th++) {
			int32_t vm = sim_running_vm(s, s->cores[c].first_cpu + th);

			if (vm == SIM_NONE)
				continue;
			if (seen != SIM_NONE && seen != vm)
				s->t.overlaps++;
			seen = vm;
		}
	}
}

static void start_world(struct sim *s)
{
	uint32_t i, v;

	for (i = 0; i < s->nr_vms; i++) {
		struct sim_vm *vm = &s->vms[i];

		if (vm->kind->model == SIM_BURSTY) {
			sim_eventq_post(&s->q, sim_workload_block_len(vm->kind, &s->rng),
					SIM_EV_BURST, i, 0);
			continue;
		}
		/* Everything else wakes within the first millisecond, in random order. */
		for (v = 0; v < vm->nr_vcpus; v++)
			sim_eventq_post(&s->q, sim_rng_below(&s->rng, SIM_MS), SIM_EV_WAKE,
					vm->first_vcpu + v, 0);
	}
	sim_eventq_post(&s->q, s->p.tick_ns, SIM_EV_TICK, 0, 0);
	sim_eventq_post(&s->q, 0, SIM_EV_PLAN, 0, 0);
	if (s->policy->agent)
		sim_eventq_post(&s->q, s->p.epoch_ns, SIM_EV_AGENT, 0, 0);
}

static void handle(struct sim *s, const struct sim_event *ev)
{
	struct sim_vcpu *v;
	char err[256];
	uint32_t i;

	switch (ev->kind) {
	case SIM_EV_WAKE:
		v = &s->vcpus[ev->arg];
		wake(s, v, work_of(s, s->vms[v->vm].kind));
		break;
	case SIM_EV_BLOCK:
		v = &s->vcpus[ev->arg];
		if (v->gen == ev->gen && v->state == SIM_RUNNING)
			block(s, v);
		break;
	case SIM_EV_TICK:
		tick(s);
		break;
	case SIM_EV_KICK:
		reschedule(s, ev->arg);
		break;
	case SIM_EV_SWEEP:
		if (ev->gen == s->sweep_gen)
			s->policy->sweep(s);
		break;
	case SIM_EV_PLAN:
		if (sim_plan_round(s, err, sizeof(err)) && s->t.plan_rounds <= 1)
			fprintf(stderr, "vmm-sched-sim: share plan: %s\n", err);
		if (s->policy->plan)
			s->policy->plan(s);
		sim_eventq_post(&s->q, s->now + s->p.plan_ns, SIM_EV_PLAN, 0, 0);
		break;
	case SIM_EV_LOCK:
		v = &s->vcpus[ev->arg];
		if (v->gen == ev->gen && v->state == SIM_RUNNING)
			lock_phase(s, v);
		break;
	case SIM_EV_EXT_END:
		/* Its extension's timer: a kick, if it still runs (a stop or tick ends it). */
		v = &s->vcpus[ev->arg];
		if (v->gen == ev->gen && v->state == SIM_RUNNING && v->ext_at)
			reschedule(s, (uint32_t)v->cpu);
		break;
	case SIM_EV_AGENT:
		if (s->policy->agent)
			s->policy->agent(s, ev->arg);
		break;
	case SIM_EV_BURST: {
		struct sim_vm *vm = &s->vms[ev->arg];

		for (i = 0; i < vm->nr_vcpus; i++)
			wake(s, &s->vcpus[vm->first_vcpu + i], work_of(s, vm->kind));
		sim_eventq_post(&s->q, s->now + sim_workload_block_len(vm->kind, &s->rng),
				SIM_EV_BURST, ev->arg, 0);
		break;
	}
	}
}

/* Closes the integrals at the end; vCPUs still running are counted up to here. */
static void finish(struct sim *s)
{
	uint32_t i;

	s->now = s->p.duration_ns;
	sim_integrate(s);
	for (i = 0; i < s->nr_vms; i++)
		sim_vm_account(s, &s->vms[i]);
	for (i = 0; i < s->nr_vcpus; i++) {
		struct sim_vcpu *v = &s->vcpus[i];

		if (v->state == SIM_RUNNING)
			s->vms[v->vm].m.run_ns += s->now - v->started_at;
	}
	for (i = 0; i < s->nr_vms; i++) {
		struct sim_vm_metrics *m = &s->vms[i].m;

		sim_end_starve(s, &s->vms[i]);
		m->work_ns = m->run_ns > m->spin_ns ? m->run_ns - m->spin_ns : 0;
	}
}

int sim_run(struct sim *s)
{
	struct sim_event ev;

	start_world(s);
	while (sim_eventq_pop(&s->q, &ev) && ev.at <= s->p.duration_ns) {
		s->now = ev.at;
		s->t.events++;
		sim_integrate(s);
		handle(s, &ev);
		if (s->p.check_every_event)
			check_all(s);
	}
	finish(s);
	return 0;
}
