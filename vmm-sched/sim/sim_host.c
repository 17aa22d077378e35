/* Over 400 lines: the simulated host is one state machine that every policy drives. */
/*
 * The simulated host: builds CPUs, cores, VMs and vCPUs, and carries out
 * what a policy decides (start, preempt, queue, owner changes), keeping the
 * counts and integrals the metrics need and checking pairing at every start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/rules/owed_scan.h"
#include "bpf/rules/vtime.h"
#include "share.h"
#include "share_plan.h"
#include "sim.h"
#include "sim_plan.h"
#include "sim_policy.h"

/* The VMs' keys for the heaps: struct sim_vm holds 64-bit fields, so it is a whole number of them.
 */
#define VM_STRIDE ((uint32_t)(sizeof(struct sim_vm) / sizeof(uint64_t)))
_Static_assert(sizeof(struct sim_vm) % sizeof(uint64_t) == 0, "sim_vm keys as an array");

/* Keeps @vm in the heaps its queue length puts it in. */
static void heaps_follow_queue(struct sim *s, int32_t id)
{
	struct sim_vm *vm = &s->vms[id];

	if (!vm->queued) {
		sim_vmheap_remove(&s->by_vtime, id);
		sim_vmheap_remove(&s->pair_by_vtime, id);
		sim_vmheap_remove(&s->by_waiting, id);
		return;
	}
	sim_vmheap_add(&s->by_vtime, id);
	sim_vmheap_add(&s->by_waiting, id);
	if (vm->queued >= 2)
		sim_vmheap_add(&s->pair_by_vtime, id);
	else
		sim_vmheap_remove(&s->pair_by_vtime, id);
}

void sim_params_default(struct sim_params *p)
{
	memset(p, 0, sizeof(*p));
	p->seed = 1;
	p->cpus = 16;
	p->threads_per_core = 2;
	p->nodes = 1;
	p->duration_ns = 10000 * SIM_MS;
	p->tick_ns = 1 * SIM_MS;
	p->plan_ns = 100 * SIM_MS;	    /* the daemon's VS_SHARE_TICK_MS */
	p->vcpu_slice_ns = 5 * SIM_MS;	    /* bpf/vmm_sched.bpf.c slice_ns */
	p->target_latency_ns = 20 * SIM_MS; /* vmm-schedd --target-latency-ms */
	p->pair_window_ns = SHARE_PAIR_WINDOW_AUTO;
	p->epoch_ns = 10 * SIM_MS;
	p->policy = &sim_policy_bpf;
	p->charge_kept = true;
	p->cs_ext_ns = VS_CS_EXT_DEFAULT_NS;
	p->cs_budget_pct = VS_CS_BUDGET_DEFAULT_PCT;
}

static int check_params(const struct sim_params *p, char *err, size_t errlen)
{
	unsigned int cores;

	if (!p->cpus || p->cpus > 65536) {
		snprintf(err, errlen, "--cpus %u: must be 1..65536", p->cpus);
		return -1;
	}
	if (!p->threads_per_core || p->threads_per_core > SIM_MAX_TPC ||
	    p->cpus % p->threads_per_core) {
		snprintf(err, errlen,
			 "--threads-per-core %u: must be 1..%d (the rules' core view) and divide "
			 "--cpus (%u)",
			 p->threads_per_core, SIM_MAX_TPC, p->cpus);
		return -1;
	}
	if (p->cs_budget_pct > 100) {
		snprintf(err, errlen, "--cs-budget-pct %u: must be 0..100", p->cs_budget_pct);
		return -1;
	}
	cores = p->cpus / p->threads_per_core;
	if (!p->nodes || cores % p->nodes) {
		snprintf(err, errlen, "--nodes %u: must be at least 1 and divide the %u cores",
			 p->nodes, cores);
		return -1;
	}
	if (!p->epoch_ns) {
		snprintf(err, errlen, "--epoch-ms must be above 0");
		return -1;
	}
	if (!p->duration_ns || !p->tick_ns || !p->plan_ns) {
		snprintf(err, errlen, "--secs must be above 0");
		return -1;
	}
	return 0;
}

/* The fair-share reference's groups are the workload's kinds of VM. */
static int fair_ref_init(struct sim *s)
{
	uint32_t weight[SIM_MAX_KINDS], vcpus[SIM_MAX_KINDS], k;

	for (k = 0; k < s->w.nr_kinds; k++) {
		weight[k] = s->w.kinds[k].weight;
		vcpus[k] = s->w.kinds[k].vcpus;
	}
	return sim_fair_ref_init(&s->fair_ref, s->nr_cores, s->tpc, s->w.nr_kinds, weight, vcpus);
}

int sim_init(struct sim *s, const struct sim_params *p, const struct sim_workload *w, char *err,
	     size_t errlen)
{
	uint32_t i, v, vc;

	memset(s, 0, sizeof(*s));
	if (check_params(p, err, errlen))
		return -1;
	if (!w->nr_kinds) {
		snprintf(err, errlen, "the workload has no kind of VM");
		return -1;
	}
	s->p = *p;
	s->w = *w;
	s->rng.s = p->seed;
	s->policy = p->policy ? p->policy : &sim_policy_bpf;
	s->tpc = p->threads_per_core;
	s->nr_cpus = p->cpus;
	s->nr_cores = p->cpus / s->tpc;
	s->nr_vms = p->nr_vms ? p->nr_vms : sim_workload_count(w);
	if (!s->nr_vms || s->nr_vms > SHARE_MAX_VMS) {
		snprintf(err, errlen, "%u VMs: must be 1..%d", s->nr_vms, SHARE_MAX_VMS);
		return -1;
	}
	for (i = 0; i < s->nr_vms; i++) {
		const struct sim_vm_kind *k = sim_workload_kind_of(&s->w, i, p->nr_vms);

		if (k->node >= (int)p->nodes) {
			snprintf(err, errlen, "[vm %s]: node %d, but the host has %u nodes",
				 k->name, k->node, p->nodes);
			return -1;
		}
		s->nr_vcpus += k->vcpus;
	}
	s->cpus = calloc(s->nr_cpus, sizeof(*s->cpus));
	s->cores = calloc(s->nr_cores, sizeof(*s->cores));
	s->vms = calloc(s->nr_vms, sizeof(*s->vms));
	s->vcpus = calloc(s->nr_vcpus, sizeof(*s->vcpus));
	s->mask_words = (s->nr_vms + 63) / 64;
	s->core_words = (s->nr_cores + 63) / 64;
	s->owned_mask = calloc((size_t)s->core_words * s->nr_vms, sizeof(*s->owned_mask));
	s->empty_cores = calloc(s->core_words, sizeof(*s->empty_cores));
	s->queued_mask = calloc(s->mask_words, sizeof(*s->queued_mask));
	if (!s->cpus || !s->cores || !s->vms || !s->vcpus || !s->queued_mask || !s->owned_mask ||
	    !s->empty_cores || sim_eventq_init(&s->q, 2 * s->nr_vcpus + 64) || sim_plan_init(s))
		goto oom;
	/* CPUs numbered core by core: core c has CPUs c*T .. c*T+T-1; nodes split the cores. */
	for (i = 0; i < s->nr_cpus; i++)
		s->cpus[i] =
		    (struct sim_cpu){.running = SIM_NONE, .core = i / s->tpc, .thread = i % s->tpc};
	for (i = 0; i < s->nr_cores; i++)
		s->empty_cores[i / 64] |= 1ULL << (i % 64);
	for (i = 0; i < s->nr_cores; i++)
		s->cores[i] = (struct sim_core){.owner = SIM_NONE,
						.first_cpu = i * s->tpc,
						.node = i / (s->nr_cores / p->nodes),
						.idle_threads = s->tpc};
	s->t.idle_threads = s->nr_cpus;
	for (i = 0, vc = 0; i < s->nr_vms; i++) {
		struct sim_vm *vm = &s->vms[i];

		vm->kind = sim_workload_kind_of(&s->w, i, p->nr_vms);
		vm->first_vcpu = vc;
		vm->nr_vcpus = vm->kind->vcpus;
		vm->qhead = vm->qtail = SIM_NONE;
		vm->lock_phase_left = vm->kind->free_ns;
		for (v = 0; v < vm->nr_vcpus; v++, vc++)
			s->vcpus[vc] = (struct sim_vcpu){.vm = i,
							 .idx = v,
							 .state = SIM_BLOCKED,
							 .cpu = SIM_NONE,
							 .last_cpu = (int32_t)(vc % s->nr_cpus),
							 .qnext = SIM_NONE,
							 .qprev = SIM_NONE,
							 .active = true};
	}
	if (sim_vmheap_init(&s->by_vtime, s->nr_vms, &s->vms[0].vtime, VM_STRIDE) ||
	    sim_vmheap_init(&s->pair_by_vtime, s->nr_vms, &s->vms[0].vtime, VM_STRIDE) ||
	    sim_vmheap_init(&s->by_waiting, s->nr_vms, &s->vms[0].waiting_since, VM_STRIDE))
		goto oom;
	sim_bound_init(&s->bound, s->nr_cores, s->tpc);
	if (fair_ref_init(s))
		goto oom;
	s->core_slice_ns = 10 * SIM_MS; /* BPF core_slice_ns until the agent plans */
	if (s->policy->init && s->policy->init(s))
		goto oom;
	return 0;
oom:
	snprintf(err, errlen, "out of memory for %u CPUs and %u vCPUs", s->nr_cpus, s->nr_vcpus);
	sim_free(s);
	return -1;
}

void sim_free(struct sim *s)
{
	if (s->policy && s->policy->free)
		s->policy->free(s);
	sim_plan_free(s);
	sim_eventq_free(&s->q);
	sim_vmheap_free(&s->by_vtime);
	sim_vmheap_free(&s->pair_by_vtime);
	sim_vmheap_free(&s->by_waiting);
	sim_fair_ref_free(&s->fair_ref);
	free(s->cpus);
	free(s->cores);
	free(s->vms);
	free(s->vcpus);
	free(s->queued_mask);
	free(s->owned_mask);
	free(s->empty_cores);
	memset(s, 0, sizeof(*s));
}

int32_t sim_running_vm(const struct sim *s, uint32_t cpu)
{
	int32_t v = s->cpus[cpu].running;

	return v == SIM_NONE ? SIM_NONE : (int32_t)s->vcpus[v].vm;
}

/*
 * Brings @vm's integrals up to now: call before its owned cores, idle
 * threads, share, running vCPUs or lock change. A lock VM spins: its other
 * running vCPUs, while the holder is off a CPU with the lock.
 */
static void vm_account(struct sim *s, struct sim_vm *vm)
{
	struct sim_vm_metrics *m = &vm->m;
	uint64_t dt = s->now - m->last_at;

	if (vm->kind->model == SIM_LOCK && vm->locked &&
	    s->vcpus[vm->first_vcpu].state != SIM_RUNNING)
		m->spin_ns += vm->running * dt;
	m->owned_core_ns += vm->owned_cores * dt;
	m->planned_core_ns += vm->share_mcores * dt / 1000;
	m->forced_idle_ns += m->idle_owned * (s->t.waiting_ns - m->last_waiting);
	m->last_at = s->now;
	m->last_waiting = s->t.waiting_ns;
}

void sim_vm_account(struct sim *s, struct sim_vm *vm)
{
	vm_account(s, vm);
}

void sim_integrate(struct sim *s)
{
	uint64_t dt = s->now - s->t.last_at;

	if (s->t.queued) {
		s->t.forced_idle_ns += s->t.idle_threads * dt;
		s->t.waiting_ns += dt;
	}
	s->t.busy_thread_ns += (s->nr_cpus - s->t.idle_threads) * dt;
	s->t.last_at = s->now;
	sim_bound_advance(&s->bound, s->now);
	sim_fair_ref_advance(&s->fair_ref, s->now);
}

void sim_enqueue(struct sim *s, struct sim_vcpu *v)
{
	struct sim_vm *vm = &s->vms[v->vm];
	int32_t id = (int32_t)(v - s->vcpus);

	v->state = SIM_QUEUED;
	v->qnext = SIM_NONE;
	v->qprev = vm->qtail;
	if (vm->qtail != SIM_NONE)
		s->vcpus[vm->qtail].qnext = id;
	else
		vm->qhead = id;
	vm->qtail = id;
	if (!vm->m.waiting_since)
		vm->m.waiting_since = s->now ? s->now : 1;
	/* As BPF's ops.enqueue, before the insert (its clock is never 0) */
	vm->waiting_since =
	    vs_queued_stamp(vm->waiting_since, (int32_t)vm->queued, s->now ? s->now : 1);
	sim_vmheap_update(&s->by_waiting, (int32_t)v->vm);
	if (!vm->queued++)
		s->queued_mask[v->vm / 64] |= 1ULL << (v->vm % 64);
	heaps_follow_queue(s, (int32_t)v->vm);
	s->t.queued++;
}

static void dequeue(struct sim *s, struct sim_vcpu *v)
{
	struct sim_vm *vm = &s->vms[v->vm];

	if (v->qprev != SIM_NONE)
		s->vcpus[v->qprev].qnext = v->qnext;
	else
		vm->qhead = v->qnext;
	if (v->qnext != SIM_NONE)
		s->vcpus[v->qnext].qprev = v->qprev;
	else
		vm->qtail = v->qprev;
	v->qnext = v->qprev = SIM_NONE;
	v->state = SIM_READY;
	if (!--vm->queued)
		s->queued_mask[v->vm / 64] &= ~(1ULL << (v->vm % 64));
	heaps_follow_queue(s, (int32_t)v->vm);
	s->t.queued--;
}

struct sim_vcpu *sim_queue_first(struct sim *s, int32_t vm)
{
	if (vm < 0 || s->vms[vm].qhead == SIM_NONE)
		return NULL;
	return &s->vcpus[s->vms[vm].qhead];
}

/* Ends @vm's stretch without a start at now (the first one is kept apart). */
void sim_end_starve(struct sim *s, struct sim_vm *vm)
{
	uint64_t len = s->now - vm->m.waiting_since;

	if (!vm->m.waiting_since)
		return;
	if (!vm->last_run_ns) {
		if (len > vm->m.first_wait_ns)
			vm->m.first_wait_ns = len;
	} else if (len > vm->m.max_starve_ns) {
		vm->m.max_starve_ns = len;
	}
	vm->m.waiting_since = 0;
}

/* One of @vm's vCPUs starts: its stretch without a start ends, another begins if it has more. */
static void note_start(struct sim *s, struct sim_vm *vm)
{
	sim_end_starve(s, vm);
	vm->m.waiting_since = vm->queued ? s->now : 0;
}

static uint32_t core_index(const struct sim *s, const struct sim_core *core)
{
	return (uint32_t)(core - s->cores);
}

static void thread_busy(struct sim *s, struct sim_core *core, int delta)
{
	if (core->owner != SIM_NONE) {
		vm_account(s, &s->vms[core->owner]);
		s->vms[core->owner].m.idle_owned -= delta;
	}
	core->idle_threads -= delta;
	s->t.idle_threads -= delta;
	if (core->idle_threads == s->tpc)
		s->empty_cores[core_index(s, core) / 64] |= 1ULL << (core_index(s, core) % 64);
	else
		s->empty_cores[core_index(s, core) / 64] &= ~(1ULL << (core_index(s, core) % 64));
}

static void charge_core(struct sim *s, uint32_t cpu);

void sim_start(struct sim *s, uint32_t cpu, struct sim_vcpu *v)
{
	struct sim_core *core = sim_core_of(s, cpu);
	struct sim_vm *vm = &s->vms[v->vm];
	int32_t id = (int32_t)(v - s->vcpus);
	uint32_t th;

	charge_core(s, cpu);
	for (th = 0; th < s->tpc; th++) {
		int32_t other = sim_running_vm(s, core->first_cpu + th);

		if (other != SIM_NONE && other != (int32_t)v->vm) {
			s->t.overlaps++;
			vm->m.overlaps++;
		}
	}
	if (core->owner != (int32_t)v->vm)
		s->t.owner_mismatches++;
	if (v->state == SIM_QUEUED)
		dequeue(s, v);
	vm_account(s, vm);
	thread_busy(s, core, 1);
	s->cpus[cpu].running = id;
	v->state = SIM_RUNNING;
	v->cpu = (int32_t)cpu;
	v->last_cpu = (int32_t)cpu;
	v->started_at = s->now;
	v->charged_at = s->now;
	v->slice_end = s->now + s->p.vcpu_slice_ns;
	v->active = true;
	v->ext_done = false;
	sim_hist_add(&vm->m.wait, s->now - v->runnable_at);
	note_start(s, vm);
	vm->last_run_ns = s->now;
	/* As BPF's ops.running: the head of the VM's queue waits longest. */
	vm->waiting_since = vs_run_stamp(
	    vm->waiting_since, vm->qhead != SIM_NONE ? s->vcpus[vm->qhead].runnable_at : 0,
	    (int32_t)vm->queued, s->now);
	sim_vmheap_update(&s->by_waiting, (int32_t)v->vm);
	heaps_follow_queue(s, (int32_t)v->vm);
	vm->running++;
	if (v->work_left != UINT64_MAX)
		sim_eventq_post(&s->q, s->now + v->work_left, SIM_EV_BLOCK, (uint32_t)id, v->gen);
	if (vm->kind->model == SIM_LOCK && v->idx == 0) {
		vm->lock_since = s->now;
		sim_eventq_post(&s->q, s->now + vm->lock_phase_left, SIM_EV_LOCK, (uint32_t)id,
				v->gen);
	}
}

void sim_set_vtime(struct sim *s, struct sim_vm *vm, uint64_t vtime)
{
	if (vtime < vm->vtime)
		s->t.vtime_regressions++;
	if (vtime == vm->vtime)
		return;
	vm->vtime = vtime;
	sim_vmheap_update(&s->by_vtime, (int32_t)(vm - s->vms));
	sim_vmheap_update(&s->pair_by_vtime, (int32_t)(vm - s->vms));
}

void sim_charge(struct sim *s, struct sim_vcpu *v)
{
	struct sim_vm *vm = &s->vms[v->vm];
	uint32_t cpu = (uint32_t)v->cpu;
	bool paired =
	    s->tpc > 1 && v->cpu != SIM_NONE &&
	    sim_running_vm(s, sim_sibling(s, cpu, s->cpus[cpu].thread ^ 1)) == (int32_t)v->vm;

	sim_set_vtime(s, vm,
		      vm->vtime + vs_vtime_charge(vs_core_ns(s->now - v->charged_at, paired),
						  vm->bpf_weight));
	sim_hint_charge_run(s, v, s->now - v->charged_at);
	v->charged_at = s->now;
}

/*
 * Charges what runs on @cpu's core up to now, before a start or a stop there
 * changes whether its vCPUs run paired (BPF samples that at each tick).
 */
static void charge_core(struct sim *s, uint32_t cpu)
{
	struct sim_core *core = sim_core_of(s, cpu);
	uint32_t th;

	for (th = 0; th < s->tpc; th++) {
		int32_t id = s->cpus[core->first_cpu + th].running;

		if (id != SIM_NONE && s->p.charge_kept)
			sim_charge(s, &s->vcpus[id]);
	}
}

struct sim_vcpu *sim_preempt(struct sim *s, uint32_t cpu)
{
	int32_t id = s->cpus[cpu].running;
	struct sim_vcpu *v;
	struct sim_vm *vm;
	uint64_t ran;

	if (id == SIM_NONE)
		return NULL;
	charge_core(s, cpu);
	v = &s->vcpus[id];
	vm = &s->vms[v->vm];
	vm_account(s, vm);
	ran = s->now - v->started_at;
	/* vs_stopping: the VM pays for its core time (vs_core_ns), in vtime by its weight. */
	vm->m.run_ns += ran;
	sim_charge(s, v);
	sim_hint_end_extension(s, v);
	if (v->work_left != UINT64_MAX)
		v->work_left -= ran < v->work_left ? ran : v->work_left;
	if (vm->kind->model == SIM_LOCK && v->idx == 0) {
		uint64_t phase = s->now - vm->lock_since;

		vm->lock_phase_left -= phase < vm->lock_phase_left ? phase : vm->lock_phase_left;
	}
	v->gen++;
	v->state = SIM_READY;
	v->runnable_at = s->now;
	v->cpu = SIM_NONE;
	vm->running--;
	s->cpus[cpu].running = SIM_NONE;
	thread_busy(s, sim_core_of(s, cpu), -1);
	return v;
}

void sim_set_owner(struct sim *s, struct sim_core *core, int32_t vm)
{
	int32_t old = core->owner;

	core->owner_since = s->now;
	core->draining = false;
	if (old == vm)
		return;
	if (old != SIM_NONE) {
		struct sim_vm *o = &s->vms[old];

		vm_account(s, o);
		o->owned_cores--;
		sim_owned_mask(s, old)[core_index(s, core) / 64] &=
		    ~(1ULL << (core_index(s, core) % 64));
		o->m.idle_owned -= core->idle_threads;
	}
	core->owner = vm;
	if (vm != SIM_NONE) {
		struct sim_vm *n = &s->vms[vm];

		if (n->m.idle_owned)
			s->t.split_grants++;
		n->last_core = core_index(s, core);
		vm_account(s, n);
		n->owned_cores++;
		sim_owned_mask(s, vm)[core_index(s, core) / 64] |= 1ULL
								   << (core_index(s, core) % 64);
		n->m.idle_owned += core->idle_threads;
		n->m.owner_changes++;
		if (n->owned_cores > n->m.max_owned)
			n->m.max_owned = n->owned_cores;
		if (n->kind->cap && n->owned_cores > n->kind->cap &&
		    n->owned_cores - n->kind->cap > s->t.cap_overshoot_max)
			s->t.cap_overshoot_max = n->owned_cores - n->kind->cap;
	}
}

void sim_request_sweep(struct sim *s, uint64_t delay)
{
	sim_eventq_post(&s->q, s->now + delay, SIM_EV_SWEEP, 0, ++s->sweep_gen);
}

void sim_kick(struct sim *s, uint32_t cpu)
{
	sim_eventq_post(&s->q, s->now, SIM_EV_KICK, cpu, 0);
}
