/*
 * The agent's planner loop (planner_loop.h): view, plan, commit, re-plan once
 * from the refusals. Memory is allocated once at start; an epoch makes no
 * allocation and reads each enclave core's core_state once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "planner_loop.h"
#include "planner_txn.h"
#include "sched_maps.h"
#include "sched_messages.h"
#include "txn.h"

struct vs_planner_loop {
	struct vs_planner_stats stats;
	struct planner_limits lim;
	struct planner_state st[VS_MAX_ENCLAVES];
	void *mem[VS_MAX_ENCLAVES];
	uint64_t last_plan_ns[VS_MAX_ENCLAVES];
	int vm_pid[VS_MAX_VMS]; /* the VM each id's carried state is about; 0: none */
	bool view_error_logged;
	struct vs_ratelimit commit_log;
	/* one enclave's view, plan and transactions */
	struct planner_core cores[VS_MAX_CPUS];
	struct planner_vm vms[VS_MAX_VMS];
	struct planner_vcpu vcpus[VS_MAX_VCPUS];
	struct planner_core_plan core_plans[VS_MAX_CPUS];
	struct planner_txn txns[VS_MAX_CPUS];
	struct vs_txn_req reqs[VS_MAX_CPUS];
	/* each VM's runnable vCPU slots, grouped by VM once per epoch */
	uint32_t vm_first[VS_MAX_VMS + 1];
	uint32_t slots_by_vm[VS_MAX_VCPUS];
	uint64_t runnable_sig;		      /* of the runnable slots grouped last */
	uint32_t epoch_txns, epoch_completed; /* this epoch's commits, for the back-off */
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

const struct vs_planner_stats *planner_loop_stats(const struct vs_daemon *d)
{
	return d->planner ? &d->planner->stats : NULL;
}

static bool vcpu_runnable(const struct vs_vcpu_track *t)
{
	return vcpu_track_known_runnable(t);
}

bool planner_loop_wanted(struct vs_daemon *d)
{
	int slot;

	if (!d->planner)
		return false;
	registry_for_each_vcpu(slot, &d->reg) if (vcpu_runnable(&d->vcpu_track[slot])) return true;
	return false;
}

int planner_loop_start(struct vs_daemon *d, char *err, size_t errlen)
{
	struct vs_planner_loop *p;

	if (!d->opt.placement_agent)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "planner: out of memory");
		return -1;
	}
	p->lim = (struct planner_limits){
	    .max_cores = VS_MAX_CPUS,
	    .max_vms = VS_MAX_VMS,
	    .max_vcpus = VS_MAX_VCPUS,
	    .max_vm_id = VS_MAX_VMS,
	    .max_slots = VS_MAX_VCPUS,
	    .max_cpu = VS_MAX_CPUS,
	};
	d->planner = p;
	planner_backoff_init(&p->stats.backoff, d->opt.epoch_ms);
	/*
	 * Opt-in: the planner_agent case once saw a 0.3 ms cross-VM overlap
	 * with takes on, before the commit saw a sibling switching to another
	 * VM (docs/design.md, "Taking a busy core"); not enough runs since.
	 */
	p->stats.take_core = d->opt.planner_takes;
	vs_log("placement agent: planning every %u ms while a vCPU is runnable; core "
	       "handovers %s",
	       d->opt.epoch_ms,
	       p->stats.take_core ? "take busy cores at once (--planner-takes)"
				  : "wait for BPF (--planner-takes to take busy cores)");
	return 0;
}

void planner_loop_stop(struct vs_daemon *d)
{
	if (!d->planner)
		return;
	for (int i = 0; i < VS_MAX_ENCLAVES; i++)
		free(d->planner->mem[i]);
	free(d->planner);
	d->planner = NULL;
}

/* Enclave @id's carried state, allocated on first use; NULL if out of memory. */
static struct planner_state *enclave_state(struct vs_planner_loop *p, int id)
{
	size_t bytes = planner_state_bytes(&p->lim);
	char err[128];

	if (p->mem[id])
		return &p->st[id];
	p->mem[id] = aligned_alloc(sizeof(uint64_t), (bytes + 7) & ~(size_t)7);
	if (!p->mem[id] ||
	    planner_state_init(&p->st[id], &p->lim, p->mem[id], bytes, err, sizeof(err))) {
		free(p->mem[id]);
		p->mem[id] = NULL;
		return NULL;
	}
	return &p->st[id];
}

/* VM ids whose VM left (or was replaced): forget what the plans carried for them. */
static void forget_gone_vms(struct vs_daemon *d, struct vs_planner_loop *p)
{
	for (int id = 0; id < d->reg.vm_ids; id++) {
		int pid = d->reg.vms[id].used ? d->reg.vms[id].pid : 0;

		if (pid == p->vm_pid[id])
			continue;
		for (int e = 0; e < VS_MAX_ENCLAVES; e++)
			if (p->mem[e])
				planner_forget_vm(&p->st[e], (uint32_t)id);
		p->vm_pid[id] = pid;
	}
}

/* Runnable vCPU slots grouped by VM; returns how many. */
static unsigned int group_runnable(struct vs_daemon *d, struct vs_planner_loop *p)
{
	uint32_t fill[VS_MAX_VMS];
	int slot, vm;

	memset(p->vm_first, 0, sizeof(p->vm_first));
	registry_for_each_vcpu(slot, &d->reg)
	{
		vm = d->reg.vcpus[slot].vm_id;
		if (vm >= 0 && vm < VS_MAX_VMS && vcpu_runnable(&d->vcpu_track[slot]))
			p->vm_first[vm + 1]++;
	}
	for (vm = 0; vm < VS_MAX_VMS; vm++) {
		p->vm_first[vm + 1] += p->vm_first[vm];
		fill[vm] = p->vm_first[vm];
	}
	p->runnable_sig = 0;
	registry_for_each_vcpu(slot, &d->reg)
	{
		vm = d->reg.vcpus[slot].vm_id;
		if (vm >= 0 && vm < VS_MAX_VMS && vcpu_runnable(&d->vcpu_track[slot])) {
			p->slots_by_vm[fill[vm]++] = (uint32_t)slot;
			p->runnable_sig = planner_runnable_sig_add(p->runnable_sig, (uint32_t)slot);
		}
	}
	return p->vm_first[VS_MAX_VMS];
}

/* Enclave @id's cores from core_state; -1 if one cannot be read. */
static int view_cores(struct vs_daemon *d, int id, struct planner_view *v)
{
	struct vs_planner_loop *p = d->planner;
	const struct vs_enclave *enc = &d->enclaves.e[id].enc;
	int cpu;

	v->nr_cores = 0;
	cpuset_for_each(cpu, &enc->cpus)
	{
		struct planner_core *c = &p->cores[v->nr_cores];
		struct vs_core_state cs;

		if (d->topo.core_of[cpu] != cpu)
			continue;
		if (vs_maps_read_core_state(d, cpu, &cs))
			return -1;
		if (cs.closed)
			continue; /* leaving the enclave */
		*c = (struct planner_core){.node = d->topo.node_of[cpu], .owner = cs.owner};
		for (unsigned int t = 0; t < PLANNER_THREADS; t++) {
			c->cpu[t] = t < v->threads_per_core ? cs.cpu[t] : -1;
			c->host[t] = cs.host[t];
			c->running_tid[t] = cs.running_vm[t] != VS_VM_NONE ? cs.running_tid[t] : 0;
		}
		if (c->node >= PLANNER_MAX_NODES)
			c->node = -1;
		v->nr_cores++;
	}
	return 0;
}

/* Enclave @id's VMs with runnable vCPUs. */
static void view_vms(struct vs_daemon *d, int id, struct planner_view *v, uint64_t now)
{
	struct vs_planner_loop *p = d->planner;
	int vm_id;

	v->nr_vms = v->nr_vcpus = 0;
	registry_for_each_vm(vm_id, &d->reg)
	{
		const struct vs_vm_rec *r = &d->reg.vms[vm_id];
		struct planner_vm *m = &p->vms[v->nr_vms];

		if (r->enclave != id || p->vm_first[vm_id] == p->vm_first[vm_id + 1])
			continue;
		*m = (struct planner_vm){.id = (uint32_t)vm_id,
					 .share_mcores = d->share.plan.share_mcores[vm_id],
					 .reserve_cores = r->reserve_cores,
					 .cap_cores = r->cap_cores,
					 .home_node =
					     r->numa_node < PLANNER_MAX_NODES ? r->numa_node : -1,
					 .first_vcpu = v->nr_vcpus};
		if (m->cap_cores && m->reserve_cores > m->cap_cores)
			m->reserve_cores = m->cap_cores;
		for (uint32_t k = p->vm_first[vm_id]; k < p->vm_first[vm_id + 1]; k++) {
			uint32_t slot = p->slots_by_vm[k];
			const struct vs_vcpu_track *t = &d->vcpu_track[slot];

			p->vcpus[v->nr_vcpus++] = (struct planner_vcpu){
			    .slot = slot,
			    .tid = (uint32_t)d->reg.vcpus[slot].tid,
			    .seqnum = t->seqnum,
			    .wait_ns = t->state == VS_VCPU_RUNNABLE && now > t->last_event_ns
					   ? now - t->last_event_ns
					   : 0,
			    .last_cpu = t->cpu >= 0 && t->cpu < VS_MAX_CPUS ? t->cpu : -1,
			};
		}
		m->nr_vcpus = v->nr_vcpus - m->first_vcpu;
		v->nr_vms++;
	}
}

static void timed_plan(struct vs_planner_loop *p, const struct planner_view *v,
		       struct planner_state *st, struct planner_plan *plan)
{
	uint64_t t0 = monotonic_ns(), ns;

	planner_plan_epoch(v, st, plan);
	ns = monotonic_ns() - t0;
	p->stats.plan_ns += ns;
	if (ns > p->stats.plan_max_ns)
		p->stats.plan_max_ns = ns;
}

/* Commit @plan; returns true if anything was refused (worth a re-plan). */
static bool commit_plan(struct vs_daemon *d, const struct planner_view *v, struct planner_state *st,
			const struct planner_plan *plan)
{
	struct vs_planner_loop *p = d->planner;
	struct planner_txn_counts counts;
	unsigned int n = planner_txn_build(v, st, plan, p->txns, &counts), i;
	char err[200] = "";

	p->stats.latched += counts.latched;
	if (!n)
		return false;
	for (i = 0; i < n; i++) {
		const struct planner_core *c = &v->cores[p->txns[i].core];
		bool handover = c->owner != PLANNER_NONE && (uint32_t)c->owner != p->txns[i].vm_id;

		p->reqs[i] = (struct vs_txn_req){
		    .cpu = p->txns[i].cpu,
		    .tid = p->txns[i].tid,
		    .seqnum = p->txns[i].seqnum,
		    .flags = p->txns[i].flags |
			     (handover && p->stats.take_core ? VS_TXN_F_TAKE_CORE : 0),
		};
		p->stats.take_core_txns += !!(p->reqs[i].flags & VS_TXN_F_TAKE_CORE);
	}
	if (txn_commit_batch(d, p->reqs, (int)n, err, sizeof(err))) {
		p->stats.commit_errors++;
		vs_err_limited(&p->commit_log, "planner: %s", err);
	}
	for (i = 0; i < n; i++)
		p->txns[i].outcome = p->reqs[i].outcome;
	planner_txn_apply(v, st, p->txns, n, &counts);
	p->stats.txns += n;
	for (i = 0; i < VS_TXN_NR_OUTCOMES; i++)
		p->stats.outcomes[i] += counts.outcomes[i];
	p->stats.cores_refused += counts.cores_refused;
	p->epoch_txns += n;
	p->epoch_completed += counts.outcomes[VS_TXN_COMPLETE];
	return counts.cores_refused || counts.vcpus_refused;
}

static void count_bpf_threads(struct vs_planner_loop *p, const struct planner_view *v,
			      const struct planner_plan *plan)
{
	for (unsigned int i = 0; i < plan->nr_cores; i++)
		for (unsigned int t = 0; t < v->threads_per_core; t++)
			p->stats.bpf_threads += plan->cores[i].vcpu[t] == PLANNER_NONE;
}

static void plan_enclave(struct vs_daemon *d, int id, uint64_t now)
{
	struct vs_planner_loop *p = d->planner;
	const struct vs_enclave *enc = &d->enclaves.e[id].enc;
	struct planner_state *st = enclave_state(p, id);
	struct planner_view v = {
	    .cores = p->cores,
	    .vms = p->vms,
	    .vcpus = p->vcpus,
	    .threads_per_core =
		(unsigned int)topology_threads_per_core(&d->topo, cpuset_next(&enc->cpus, 0)),
	    .epoch_ns = (uint64_t)d->opt.epoch_ms * 1000000ULL,
	    .relaxed = d->enclaves.e[id].relaxed,
	};
	struct planner_plan plan = {.cores = p->core_plans};
	char err[200];

	if (!st)
		return;
	view_vms(d, id, &v, now);
	if (!v.nr_vcpus) {
		p->last_plan_ns[id] = 0;
		return;
	}
	if (view_cores(d, id, &v)) {
		p->stats.view_errors++;
		return;
	}
	v.elapsed_ns = p->last_plan_ns[id] ? now - p->last_plan_ns[id] : v.epoch_ns;
	p->last_plan_ns[id] = now;
	if (planner_check_view(&v, st, err, sizeof(err))) {
		if (!p->view_error_logged)
			vs_err("planner: enclave '%s': %s; BPF's rules place its vCPUs meanwhile",
			       d->enclaves.e[id].name, err);
		p->view_error_logged = true;
		p->stats.view_errors++;
		return;
	}
	timed_plan(p, &v, st, &plan);
	p->stats.epochs++;
	if (commit_plan(d, &v, st, &plan)) {
		v.elapsed_ns = 0; /* the same epoch, from the refusals */
		timed_plan(p, &v, st, &plan);
		p->stats.replans++;
		commit_plan(d, &v, st, &plan);
	}
	count_bpf_threads(p, &v, &plan);
}

bool planner_loop_epoch(struct vs_daemon *d)
{
	struct vs_planner_loop *p = d->planner;
	uint64_t t0, ns;

	if (!p)
		return false;
	t0 = monotonic_ns();
	p->epoch_txns = p->epoch_completed = 0;
	vs_msgs_poll(d); /* commit against the latest seqnums */
	forget_gone_vms(d, p);
	if (!group_runnable(d, p)) {
		p->stats.idle_epochs++;
		memset(p->last_plan_ns, 0, sizeof(p->last_plan_ns));
		/* The timer stops; it starts again at the base epoch. */
		planner_backoff_init(&p->stats.backoff, d->opt.epoch_ms);
		return false;
	}
	for (int id = 0; id < VS_MAX_ENCLAVES; id++)
		if (d->enclaves.e[id].used && d->enclaves.e[id].enc.nr_cores)
			plan_enclave(d, id, t0);
	ns = monotonic_ns() - t0;
	p->stats.epoch_ns += ns;
	if (ns > p->stats.epoch_max_ns)
		p->stats.epoch_max_ns = ns;
	planner_backoff_after_epoch(
	    &p->stats.backoff, &(struct planner_epoch_outcome){.runnable = p->runnable_sig,
							       .txns = p->epoch_txns,
							       .completed = p->epoch_completed});
	return true;
}

uint32_t planner_loop_epoch_ms(const struct vs_daemon *d)
{
	return d->planner ? d->planner->stats.backoff.epoch_ms : d->opt.epoch_ms;
}

bool planner_loop_runnable_changed(struct vs_daemon *d)
{
	struct vs_planner_loop *p = d->planner;
	uint64_t sig = 0;
	int slot;

	if (!p || p->stats.backoff.epoch_ms == p->stats.backoff.base_ms)
		return false;
	registry_for_each_vcpu(slot, &d->reg) if (vcpu_runnable(&d->vcpu_track[slot])) sig =
	    planner_runnable_sig_add(sig, (uint32_t)slot);
	return planner_backoff_runnable_now(&p->stats.backoff, sig);
}
