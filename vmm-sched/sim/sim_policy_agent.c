/* Over 400 lines: the agent policy's view, epoch and latching belong together. */
/*
 * The agent's core planner in the simulator (policy "agent", issue 14):
 * every epoch the simulated agent builds the planner's view from what the
 * real agent would know (runnable vCPUs and their wait so far, core owners,
 * what runs on each thread, the share plan), plans, and commits the
 * transactions after --agent-delay-us through vs_txn_decide(), the commit
 * rule the BPF scheduler runs. Outcomes go back to the planner, which
 * re-plans the epoch once from the refusals.
 *
 * A committed vCPU starts at once on an idle CPU; on a CPU running another
 * vCPU of its VM it is latched: that CPU is kicked and runs it next, while
 * it is still queued with the seqnum it was committed with.
 * Everywhere else, and whenever a latch is dead, the BPF rules decide
 * (sim_policy_bpf.c): the fallback.
 *
 * VS_TXN_F_TAKE_CORE is modelled as: the core's owner becomes the
 * committing VM once both threads are free of the old VM's vCPUs. The
 * commit rule only completes a take with both threads free of other VMs,
 * so the owner changes at the commit; if BPF gave the core away before the
 * latched vCPU ran, the CPU takes it back under the same condition, or the
 * latch dies.
 *
 * A vCPU's seqnum is derived from its state: (stops << 2) | state, which
 * changes at every wake, start and stop, as the messages' seqnums do.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpf/rules/txn_decide.h"
#include "planner.h"
#include "planner_txn.h"
#include "sim.h"
#include "sim_policy.h"
#include "txn_outcome.h"

struct agent {
	struct planner_state st;
	void *mem;
	struct planner_core *cores;
	struct planner_vm *vms;
	struct planner_vcpu *vcpus;
	struct planner_core_plan *core_plans;
	struct planner_plan plan;
	struct planner_view view;
	struct planner_txn *txns;
	unsigned int nr_txns;
	bool commit_pending;
	int32_t *latch;		/* per CPU: vCPU latched there, SIM_NONE */
	int32_t *latched_on;	/* per vCPU: the CPU of its last latch, SIM_NONE */
	uint32_t *latch_seq;	/* its seqnum at the commit */
	uint64_t *delivered_at; /* per VM: owned_core_ns at the last plan */
	uint64_t last_plan_at;
	/* counts */
	uint64_t epochs, plans, plan_wall_ns, plan_wall_max_ns;
	uint64_t outcomes[VS_TXN_NR_OUTCOMES];
	uint64_t latched_runs, takes, drained;
};

static uint32_t seq_of(const struct sim_vcpu *v)
{
	return (uint32_t)((v->gen << 2) | (uint64_t)v->state);
}

static uint32_t tid_of(const struct sim *s, const struct sim_vcpu *v)
{
	return (uint32_t)(v - s->vcpus) + 1;
}

static int agent_init(struct sim *s)
{
	struct agent *a = calloc(1, sizeof(*a));
	struct planner_limits lim = {
	    .max_cores = s->nr_cores,
	    .max_vms = s->nr_vms,
	    .max_vcpus = s->nr_vcpus,
	    .max_vm_id = s->nr_vms,
	    .max_slots = s->nr_vcpus,
	    .max_cpu = s->nr_cpus,
	};
	char err[256];
	size_t bytes;
	uint32_t i;

	s->policy_data = a;
	if (!a)
		return -1;
	bytes = planner_state_bytes(&lim);
	a->mem = aligned_alloc(8, (bytes + 7) & ~(size_t)7);
	a->cores = calloc(s->nr_cores, sizeof(*a->cores));
	a->vms = calloc(s->nr_vms, sizeof(*a->vms));
	a->vcpus = calloc(s->nr_vcpus, sizeof(*a->vcpus));
	a->core_plans = calloc(s->nr_cores, sizeof(*a->core_plans));
	a->txns = calloc((size_t)s->nr_cores * s->tpc, sizeof(*a->txns));
	a->latch = malloc(s->nr_cpus * sizeof(*a->latch));
	a->latched_on = malloc(s->nr_vcpus * sizeof(*a->latched_on));
	a->latch_seq = calloc(s->nr_cpus, sizeof(*a->latch_seq));
	a->delivered_at = calloc(s->nr_vms, sizeof(*a->delivered_at));
	if (!a->mem || !a->cores || !a->vms || !a->vcpus || !a->core_plans || !a->txns ||
	    !a->latch || !a->latched_on || !a->latch_seq || !a->delivered_at ||
	    planner_state_init(&a->st, &lim, a->mem, (bytes + 7) & ~(size_t)7, err, sizeof(err)))
		return -1;
	for (i = 0; i < s->nr_cpus; i++)
		a->latch[i] = SIM_NONE;
	for (i = 0; i < s->nr_vcpus; i++)
		a->latched_on[i] = SIM_NONE;
	a->plan.cores = a->core_plans;
	return 0;
}

static void agent_free(struct sim *s)
{
	struct agent *a = s->policy_data;

	if (!a)
		return;
	free(a->mem);
	free(a->cores);
	free(a->vms);
	free(a->vcpus);
	free(a->core_plans);
	free(a->txns);
	free(a->latch);
	free(a->latched_on);
	free(a->latch_seq);
	free(a->delivered_at);
	free(a);
	s->policy_data = NULL;
}

/* The vCPU latched on @cpu if the latch is live (still queued, seqnum unchanged), else NULL. */
static struct sim_vcpu *live_latch(struct sim *s, struct agent *a, uint32_t cpu)
{
	struct sim_vcpu *v;

	if (a->latch[cpu] == SIM_NONE)
		return NULL;
	v = &s->vcpus[a->latch[cpu]];
	if (v->state != SIM_QUEUED || seq_of(v) != a->latch_seq[cpu]) {
		a->latch[cpu] = SIM_NONE;
		return NULL;
	}
	return v;
}

/* @v is latched live on a CPU other than @cpu. */
static bool latched_elsewhere(struct sim *s, struct agent *a, const struct sim_vcpu *v,
			      uint32_t cpu)
{
	int32_t at = a->latched_on[v - s->vcpus];

	if (at == SIM_NONE || (uint32_t)at == cpu || a->latch[at] != (int32_t)(v - s->vcpus))
		return false;
	return live_latch(s, a, (uint32_t)at) != NULL;
}

/* Latch vCPU @id (@seq) on @cpu, or nothing (SIM_NONE). */
static void set_latch(struct agent *a, uint32_t cpu, int32_t id, uint32_t seq)
{
	a->latch[cpu] = id;
	a->latch_seq[cpu] = seq;
	if (id != SIM_NONE)
		a->latched_on[id] = (int32_t)cpu;
}

/* The agent's view of the simulated host now. */
static void build_view(struct sim *s, struct agent *a, uint64_t elapsed)
{
	uint32_t c, th, i, k, n = 0;

	for (c = 0; c < s->nr_cores; c++) {
		struct sim_core *core = &s->cores[c];
		struct planner_core *pc = &a->cores[c];

		memset(pc, 0, sizeof(*pc));
		pc->node = (int)core->node;
		pc->owner = core->owner;
		pc->cpu[1] = -1;
		for (th = 0; th < s->tpc; th++) {
			int32_t r = s->cpus[core->first_cpu + th].running;

			pc->cpu[th] = (int)(core->first_cpu + th);
			pc->running_tid[th] = r == SIM_NONE ? 0 : tid_of(s, &s->vcpus[r]);
		}
	}
	for (i = 0; i < s->nr_vms; i++) {
		struct sim_vm *vm = &s->vms[i];
		struct planner_vm *pv = &a->vms[i];

		sim_vm_account(s, vm);
		*pv = (struct planner_vm){
		    .id = i,
		    .share_mcores = vm->share_mcores,
		    .reserve_cores = vm->kind->reserve,
		    .cap_cores = vm->kind->cap,
		    .home_node = vm->kind->node,
		    .first_vcpu = n,
		    .delivered_ns = vm->m.owned_core_ns - a->delivered_at[i],
		};
		if (elapsed)
			a->delivered_at[i] = vm->m.owned_core_ns;
		for (k = 0; k < vm->nr_vcpus; k++) {
			struct sim_vcpu *v = &s->vcpus[vm->first_vcpu + k];

			if (v->state != SIM_QUEUED && v->state != SIM_RUNNING)
				continue;
			a->vcpus[n++] = (struct planner_vcpu){
			    .slot = vm->first_vcpu + k,
			    .tid = tid_of(s, v),
			    .seqnum = seq_of(v),
			    .wait_ns = v->state == SIM_QUEUED ? s->now - v->runnable_at : 0,
			    .last_cpu = v->last_cpu,
			};
		}
		pv->nr_vcpus = n - pv->first_vcpu;
	}
	a->view = (struct planner_view){
	    .cores = a->cores,
	    .nr_cores = s->nr_cores,
	    .vms = a->vms,
	    .nr_vms = s->nr_vms,
	    .vcpus = a->vcpus,
	    .nr_vcpus = n,
	    .threads_per_core = s->tpc,
	    .epoch_ns = s->p.epoch_ns,
	    .elapsed_ns = elapsed,
	    .measured = true,
	};
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Plan (the timed part: check and plan) and build the transactions. */
static void plan(struct sim *s, struct agent *a, uint64_t elapsed)
{
	struct planner_txn_counts counts;
	char err[256];
	uint64_t t0, dt;

	build_view(s, a, elapsed);
	t0 = wall_ns();
	if (planner_check_view(&a->view, &a->st, err, sizeof(err))) {
		fprintf(stderr, "vmm-sched-sim: agent: bad planner view: %s\n", err);
		abort(); /* the simulator built it: a bug here */
	}
	planner_plan_epoch(&a->view, &a->st, &a->plan);
	dt = wall_ns() - t0;
	a->plans++;
	a->plan_wall_ns += dt;
	if (dt > a->plan_wall_max_ns)
		a->plan_wall_max_ns = dt;
	a->nr_txns = planner_txn_build(&a->view, &a->st, &a->plan, a->txns, &counts);
}

static int32_t vm_on(struct sim *s, uint32_t cpu)
{
	return sim_running_vm(s, cpu);
}

/* Live latches on @core's threads (vCPUs committed, not yet running). */
static uint32_t claims_of(struct sim *s, struct agent *a, const struct sim_core *core)
{
	uint32_t th, n = 0;

	for (th = 0; th < s->tpc; th++)
		n += live_latch(s, a, core->first_cpu + th) != NULL;
	return n;
}

/* The VM running on @cpu, or none if it is @vm's own or @take says it will be drained. */
static int32_t running_for(struct sim *s, uint32_t cpu, int32_t vm, bool take)
{
	int32_t r = vm_on(s, cpu);

	return take && r != vm ? VS_VM_NONE : r;
}

/*
 * vs_txn_decide() on the facts of the simulated host now. With
 * VS_TXN_F_TAKE_CORE another VM's vCPUs on the core do not refuse the commit:
 * they are drained (drain_for()).
 */
static uint32_t decide(struct sim *s, struct agent *a, const struct planner_txn *x, int *take)
{
	struct sim_vcpu *v = &s->vcpus[x->tid - 1];
	struct sim_core *core = sim_core_of(s, (uint32_t)x->cpu);
	uint32_t th = s->cpus[x->cpu].thread;
	bool may_take = x->flags & VS_TXN_F_TAKE_CORE;
	struct vs_txn_facts f = {
	    .in_enclave = 1,
	    .known_vcpu = 1,
	    .queued = v->state == SIM_QUEUED && !latched_elsewhere(s, a, v, (uint32_t)x->cpu),
	    .seq_txn = x->seqnum,
	    .seq_now = seq_of(v),
	    .vm = (int32_t)v->vm,
	    .owner = core->owner,
	    .draining = may_take ? 0 : core->draining,
	    .this_running = running_for(s, (uint32_t)x->cpu, (int32_t)v->vm, may_take),
	    .sib_running =
		s->tpc > 1 ? running_for(s, core->first_cpu + (th ^ 1), (int32_t)v->vm, may_take)
			   : VS_VM_NONE,
	    .sib_leaving = VS_VM_NONE, /* the simulator's switches are instant */
	    .claims = claims_of(s, a, core),
	};

	return vs_txn_decide(&f, take);
}

/*
 * VS_TXN_F_TAKE_CORE carried out: the other VM's vCPUs leave both threads
 * (preempted, back through enqueue as when their CPU idles), then the core
 * is @vm's. The simulated drain takes no time; a real one takes a kick.
 */
static void drain_for(struct sim *s, struct agent *a, struct sim_core *core, int32_t vm)
{
	uint32_t th;

	for (th = 0; th < s->tpc; th++) {
		uint32_t cpu = core->first_cpu + th;
		int32_t r = vm_on(s, cpu);
		struct sim_vcpu *v;

		if (r == SIM_NONE || r == vm)
			continue;
		v = sim_preempt(s, cpu);
		s->policy->enqueue(s, v, true);
		a->drained++;
	}
	if (core->owner != vm) {
		sim_set_owner(s, core, vm);
		a->takes++;
	}
}

/* --trace: each transaction and its outcome. */
static void trace_txn(const struct sim *s, const struct planner_txn *x)
{
	const struct sim_vcpu *v = &s->vcpus[x->tid - 1];

	fprintf(stderr, "%llu txn cpu %d vcpu %u/%u (running on %d) vm %u flags %u -> %s\n",
		(unsigned long long)s->now, x->cpu, v->vm, v->idx, v->cpu, x->vm_id, x->flags,
		txn_outcome_name(x->outcome));
}

/* Commit the built transactions: a core's group both or neither; latch the complete ones. */
static void commit(struct sim *s, struct agent *a)
{
	struct planner_txn_counts counts = {0};
	unsigned int i, j, k;

	for (i = 0; i < a->nr_txns; i++) {
		struct planner_txn *x = &a->txns[i];
		struct sim_core *core = sim_core_of(s, (uint32_t)x->cpu);
		uint32_t th;

		/* The agent asks to take a core another VM owns or runs on. */
		if (core->owner != (int32_t)x->vm_id)
			x->flags |= VS_TXN_F_TAKE_CORE;
		for (th = 0; th < s->tpc; th++) {
			int32_t r = vm_on(s, core->first_cpu + th);

			if (r != SIM_NONE && r != (int32_t)x->vm_id)
				x->flags |= VS_TXN_F_TAKE_CORE;
		}
	}
	for (i = 0; i < a->nr_txns; i = j) {
		int take[PLANNER_THREADS] = {0, 0};
		unsigned int failed = 0;

		for (j = i + 1; j < a->nr_txns && a->txns[j].core == a->txns[i].core &&
				(a->txns[i].flags & VS_TXN_F_GROUP);
		     j++)
			;
		for (k = i; k < j; k++) {
			a->txns[k].outcome = decide(s, a, &a->txns[k], &take[k - i]);
			failed += a->txns[k].outcome != VS_TXN_COMPLETE;
		}
		for (k = i; k < j; k++) {
			struct planner_txn *x = &a->txns[k];

			if (failed && x->outcome == VS_TXN_COMPLETE)
				x->outcome = VS_TXN_GROUP_FAILED;
			if (s->p.trace)
				trace_txn(s, x);
			a->outcomes[x->outcome]++;
			if (x->outcome != VS_TXN_COMPLETE)
				continue;
			if (x->flags & VS_TXN_F_TAKE_CORE)
				drain_for(s, a, sim_core_of(s, (uint32_t)x->cpu),
					  (int32_t)x->vm_id);
			/* An idle CPU runs it at once, a busy one (its own VM's) next. */
			if (s->cpus[x->cpu].running == SIM_NONE) {
				sim_start(s, (uint32_t)x->cpu, &s->vcpus[x->tid - 1]);
				a->latched_runs++;
				continue;
			}
			set_latch(a, (uint32_t)x->cpu, (int32_t)(x->tid - 1), x->seqnum);
			sim_kick(s, (uint32_t)x->cpu);
		}
	}
	planner_txn_apply(&a->view, &a->st, a->txns, a->nr_txns, &counts);
}

/* A commit round: commit, and if anything was refused re-plan the epoch once and commit. */
static void commit_round(struct sim *s, struct agent *a)
{
	unsigned int i, refused = 0;

	commit(s, a);
	for (i = 0; i < a->nr_txns; i++)
		refused += a->txns[i].outcome != VS_TXN_COMPLETE;
	if (!refused)
		return;
	plan(s, a, 0);
	commit(s, a);
}

static void agent_epoch(struct sim *s, uint32_t arg)
{
	struct agent *a = s->policy_data;

	if (arg == 1) {
		a->commit_pending = false;
		commit_round(s, a);
		return;
	}
	a->epochs++;
	sim_eventq_post(&s->q, s->now + s->p.epoch_ns, SIM_EV_AGENT, 0, 0);
	if (a->commit_pending) /* the agent is still busy with the last one */
		return;
	plan(s, a, a->last_plan_at ? s->now - a->last_plan_at : s->p.epoch_ns);
	a->last_plan_at = s->now;
	if (!s->p.agent_delay_ns) {
		commit_round(s, a);
		return;
	}
	a->commit_pending = true;
	sim_eventq_post(&s->q, s->now + s->p.agent_delay_ns, SIM_EV_AGENT, 1, 0);
}

/*
 * ops.dispatch: a live latch runs, on a core its VM owns or can take (both
 * threads free of other VMs: the drain of VS_TXN_F_TAKE_CORE); else BPF.
 */
static enum sim_decision agent_dispatch(struct sim *s, uint32_t cpu, struct sim_vcpu *prev,
					struct sim_vcpu **next)
{
	struct agent *a = s->policy_data;
	struct sim_vcpu *l = live_latch(s, a, cpu);
	enum sim_decision d;

	if (l) {
		struct sim_core *core = sim_core_of(s, cpu);
		int32_t vm = (int32_t)l->vm, sib = SIM_NONE;

		if (s->tpc > 1)
			sib = vm_on(s, core->first_cpu + (s->cpus[cpu].thread ^ 1));
		if (core->owner != vm && (sib == SIM_NONE || sib == vm) && !core->draining) {
			sim_set_owner(s, core, vm);
			a->takes++;
		}
		set_latch(a, cpu, SIM_NONE, 0);
		if (core->owner == vm && (sib == SIM_NONE || sib == vm)) {
			a->latched_runs++;
			*next = l;
			return SIM_RUN;
		}
	}
	d = sim_bpf_dispatch(s, cpu, prev, next);
	/*
	 * BPF takes its VM's queue head, but a vCPU latched on another CPU waits
	 * in that CPU's local DSQ: take the next one, or keep prev, or idle.
	 */
	if (d == SIM_RUN && *next && latched_elsewhere(s, a, *next, cpu)) {
		int32_t q = (*next)->qnext;

		while (q != SIM_NONE && latched_elsewhere(s, a, &s->vcpus[q], cpu))
			q = s->vcpus[q].qnext;
		if (q != SIM_NONE) {
			*next = &s->vcpus[q];
			return d;
		}
		d = prev && prev->vm == (*next)->vm ? SIM_KEEP_PREV : SIM_IDLE;
		*next = NULL;
	}
	return d;
}

static void agent_report(const struct sim *s, FILE *f)
{
	const struct agent *a = s->policy_data;
	unsigned int o;

	fprintf(f, " epochs=%llu plans=%llu plan_ns_avg=%llu plan_ns_max=%llu",
		(unsigned long long)a->epochs, (unsigned long long)a->plans,
		(unsigned long long)(a->plans ? a->plan_wall_ns / a->plans : 0),
		(unsigned long long)a->plan_wall_max_ns);
	for (o = VS_TXN_COMPLETE; o < VS_TXN_NR_OUTCOMES; o++)
		if (a->outcomes[o])
			fprintf(f, " txn_%s=%llu", txn_outcome_name(o),
				(unsigned long long)a->outcomes[o]);
	fprintf(f, " latched_runs=%llu takes=%llu drained=%llu",
		(unsigned long long)a->latched_runs, (unsigned long long)a->takes,
		(unsigned long long)a->drained);
}

const struct sim_policy_ops sim_policy_agent = {
    .name = "agent",
    .init = agent_init,
    .free = agent_free,
    .enqueue = sim_bpf_enqueue,
    .dispatch = agent_dispatch,
    .tick = sim_bpf_tick,
    .sweep = sim_bpf_sweep,
    .agent = agent_epoch,
    .report = agent_report,
};
