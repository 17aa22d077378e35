/* The agent's share plan in the simulator (see sim_plan.h). */
#include "sim_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "share.h"
#include "share_plan.h"
#include "sim.h"

#define CORE_SLICE_MIN_NS 2000000ULL  /* the daemon's VS_CORE_SLICE_MIN_NS */
#define CORE_SLICE_MAX_NS 50000000ULL /* the daemon's VS_CORE_SLICE_MAX_NS */

struct plan_work {
	struct share_plan_vm vms[VS_MAX_VMS];
	struct share_plan plan;
	/* Past the BPF ABI's limits (sim_model_share_plan_large) */
	struct share_vm_in *in;
	struct share_vm_out *out;
	struct share_point *points;
	unsigned int *active;
};

int sim_plan_init(struct sim *s)
{
	struct plan_work *w = calloc(1, sizeof(*w));

	s->plan_work = w;
	if (!w)
		return -1;
	w->in = calloc(s->nr_vms, sizeof(*w->in));
	w->out = calloc(s->nr_vms, sizeof(*w->out));
	w->points = calloc(2 * (size_t)s->nr_vms, sizeof(*w->points));
	w->active = calloc(s->nr_vms, sizeof(*w->active));
	return w->in && w->out && w->points && w->active ? 0 : -1;
}

void sim_plan_free(struct sim *s)
{
	struct plan_work *w = s->plan_work;

	if (!w)
		return;
	free(w->in);
	free(w->out);
	free(w->points);
	free(w->active);
	free(w);
	s->plan_work = NULL;
}

static struct share_plan_params params_of(const struct sim *s)
{
	return (struct share_plan_params){
	    .nr_cores = s->nr_cores,
	    .threads_per_core = s->tpc,
	    .target_latency_ns = s->p.target_latency_ns,
	    .min_slice_ns = CORE_SLICE_MIN_NS,
	    .max_slice_ns = CORE_SLICE_MAX_NS,
	    .pair_window_ns = s->p.pair_window_ns,
	};
}

/*
 * TODO: replace with lib/share_plan.c once it plans past VS_MAX_VMS VMs and
 * VS_MAX_CPUS cores (issue 15, item 6). share_plan_compute() on
 * share_compute_n(): the same steps, past the BPF ABI's limits.
 */
static int sim_model_share_plan_large(struct sim *s, struct plan_work *w, char *err, size_t errlen)
{
	struct share_plan_params pp = params_of(s);
	struct share_result res;
	unsigned int i, nr_demanding = 0;
	uint64_t slice;

	for (i = 0; i < s->nr_vms; i++) {
		const struct sim_vm_kind *k = s->vms[i].kind;

		w->in[i] = (struct share_vm_in){
		    .weight = k->weight,
		    .reserve_cores = k->reserve,
		    .cap_cores = k->cap,
		    .demand_mcores = share_demand_cores(w->active[i], pp.threads_per_core) * 1000,
		};
		nr_demanding += w->in[i].demand_mcores > 0;
	}
	if (share_compute_n(w->in, w->out, (int)s->nr_vms, s->nr_cores, w->points, &res, err,
			    errlen))
		return -1;
	slice = share_core_slice_ns(nr_demanding, pp.nr_cores, pp.target_latency_ns,
				    pp.min_slice_ns, pp.max_slice_ns);
	for (i = 0; i < s->nr_vms; i++) {
		unsigned int wt = w->out[i].effective_weight / 10;

		sim_vm_account(s, &s->vms[i]);
		s->vms[i].share_mcores = w->out[i].share_mcores;
		s->vms[i].bpf_weight = wt ? wt : 1;
	}
	s->core_slice_ns = slice;
	if (slice > s->t.core_slice_max)
		s->t.core_slice_max = slice;
	if (pp.threads_per_core < 2)
		s->pair_window_ns = 0;
	else if (pp.pair_window_ns == SHARE_PAIR_WINDOW_AUTO)
		s->pair_window_ns = slice;
	else
		s->pair_window_ns = pp.pair_window_ns > 0 ? (uint64_t)pp.pair_window_ns : 0;
	return 0;
}

/* vcpu_active() of the daemon: it ran or woke since the last round, or is runnable now. */
static void count_active(struct sim *s, struct plan_work *w)
{
	uint32_t i;

	memset(w->active, 0, sizeof(*w->active) * s->nr_vms);
	for (i = 0; i < s->nr_vcpus; i++) {
		struct sim_vcpu *v = &s->vcpus[i];

		if (v->active || v->state != SIM_BLOCKED)
			w->active[v->vm]++;
		v->active = false;
	}
}

int sim_plan_round(struct sim *s, char *err, size_t errlen)
{
	struct plan_work *w = s->plan_work;
	struct share_plan_params pp = params_of(s);
	uint32_t i;

	s->t.plan_rounds++;
	count_active(s, w);
	s->caps_in_use = s->reserves_in_use = false;
	for (i = 0; i < s->nr_vms; i++) {
		s->caps_in_use |= s->vms[i].kind->cap > 0;
		s->reserves_in_use |= s->vms[i].kind->reserve > 0;
	}
	if (s->nr_vms > VS_MAX_VMS || s->nr_cores > VS_MAX_CPUS)
		return sim_model_share_plan_large(s, w, err, errlen);
	memset(w->vms, 0, sizeof(w->vms));
	for (i = 0; i < s->nr_vms; i++) {
		const struct sim_vm_kind *k = s->vms[i].kind;

		w->vms[i] = (struct share_plan_vm){.used = true,
						   .weight = k->weight,
						   .reserve_cores = k->reserve,
						   .cap_cores = k->cap,
						   .active_vcpus = w->active[i]};
	}
	if (share_plan_compute(w->vms, &pp, &w->plan, err, errlen))
		return -1;
	for (i = 0; i < s->nr_vms; i++) {
		sim_vm_account(s, &s->vms[i]);
		s->vms[i].share_mcores = w->plan.share_mcores[i];
		s->vms[i].bpf_weight = w->plan.bpf_weight[i];
	}
	s->core_slice_ns = w->plan.core_slice_ns;
	if (s->core_slice_ns > s->t.core_slice_max)
		s->t.core_slice_max = s->core_slice_ns;
	s->pair_window_ns = w->plan.pair_window_ns;
	return 0;
}
