/* The fair-share reference for forced idle (see sim_fair_ref.h). */
#include "sim_fair_ref.h"

#include <stdlib.h>
#include <string.h>

/*
 * Demands and shares are counted in threads (cores times T) so that they
 * are integers: a VM of 0 < R < T runnable vCPUs demands a whole core.
 */
static uint64_t demand_threads(const struct sim_fair_ref *f, uint32_t runnable)
{
	return runnable < f->tpc ? f->tpc : runnable;
}

struct class_key {
	uint64_t demand;
	uint32_t runnable, weight, slot;
};

/* By demand / weight, then runnable, weight and slot: a total order, so qsort is deterministic. */
static int class_key_cmp(const void *pa, const void *pb)
{
	const struct class_key *a = pa, *b = pb;
	uint64_t l = a->demand * b->weight, r = b->demand * a->weight;

	if (l != r)
		return l < r ? -1 : 1;
	if (a->runnable != b->runnable)
		return a->runnable < b->runnable ? -1 : 1;
	if (a->weight != b->weight)
		return a->weight < b->weight ? -1 : 1;
	return a->slot < b->slot ? -1 : a->slot > b->slot;
}

/* One slot per (group, R >= 1); the classes are the slots sorted. */
static int build_classes(struct sim_fair_ref *f, uint32_t nr_groups, const uint32_t *weight,
			 const uint32_t *max_runnable)
{
	struct class_key *keys;
	uint32_t g, r, n = 0;

	for (g = 0; g < nr_groups; g++) {
		f->group_first[g] = n;
		n += max_runnable[g];
	}
	keys = calloc(n ? n : 1, sizeof(*keys));
	f->classes = calloc(n ? n : 1, sizeof(*f->classes));
	f->class_at = calloc(n ? n : 1, sizeof(*f->class_at));
	if (!keys || !f->classes || !f->class_at) {
		free(keys);
		return -1;
	}
	for (g = 0; g < nr_groups; g++)
		for (r = 1; r <= max_runnable[g]; r++) {
			uint32_t slot = f->group_first[g] + r - 1;

			keys[slot] = (struct class_key){.demand = demand_threads(f, r),
							.runnable = r,
							.weight = weight[g],
							.slot = slot};
		}
	qsort(keys, n, sizeof(*keys), class_key_cmp);
	for (r = 0; r < n; r++) {
		f->classes[r] =
		    (struct sim_fair_class){.runnable = keys[r].runnable, .weight = keys[r].weight};
		f->class_at[keys[r].slot] = r;
	}
	f->nr_classes = n;
	free(keys);
	return 0;
}

int sim_fair_ref_init(struct sim_fair_ref *f, uint32_t cores, uint32_t tpc, uint32_t nr_groups,
		      const uint32_t *weight, const uint32_t *max_runnable)
{
	memset(f, 0, sizeof(*f));
	f->cores = cores;
	f->tpc = tpc ? tpc : 1;
	f->group_first = calloc(nr_groups ? nr_groups : 1, sizeof(*f->group_first));
	if (!f->group_first || build_classes(f, nr_groups, weight, max_runnable)) {
		sim_fair_ref_free(f);
		return -1;
	}
	return 0;
}

void sim_fair_ref_free(struct sim_fair_ref *f)
{
	free(f->classes);
	free(f->class_at);
	free(f->group_first);
	memset(f, 0, sizeof(*f));
}

void sim_fair_ref_change(struct sim_fair_ref *f, uint32_t group, uint32_t from, uint32_t to)
{
	if (from)
		f->classes[f->class_at[f->group_first[group] + from - 1]].vms--;
	if (to)
		f->classes[f->class_at[f->group_first[group] + to - 1]].vms++;
	f->stale = true;
}

/* Idle threads of the classes held at the level, times the level's weight and T. */
static uint64_t idle_at_level(const struct sim_fair_ref *f, uint32_t from)
{
	uint64_t idle = 0;
	uint32_t i;

	for (i = from; i < f->nr_classes; i++) {
		const struct sim_fair_class *c = &f->classes[i];

		if (c->runnable < f->tpc)
			idle += c->vms * (f->tpc - c->runnable) * c->weight;
	}
	return idle;
}

/*
 * The water-filling: in order of demand per weight, a class whose demand is
 * below the level the rest would share (threads left / weight left) is met
 * and leaves; the first that is not, and all after it, get the level.
 */
static void fill_water(struct sim_fair_ref *f)
{
	uint64_t threads = (uint64_t)f->cores * f->tpc, weight = 0, demand = 0, met_idle = 0;
	unsigned __int128 held;
	uint32_t i;

	for (i = 0; i < f->nr_classes; i++) {
		weight += f->classes[i].vms * f->classes[i].weight;
		demand += f->classes[i].vms * demand_threads(f, f->classes[i].runnable);
	}
	f->rate_q32 = 0;
	f->level_threads = threads;
	f->level_weight = 0;
	if (demand <= threads)
		return; /* nobody waits */
	for (i = 0; i < f->nr_classes; i++) {
		const struct sim_fair_class *c = &f->classes[i];
		uint64_t d = demand_threads(f, c->runnable);

		if (!c->vms)
			continue;
		if (d * weight > threads * c->weight)
			break;
		threads -= c->vms * d;
		weight -= c->vms * c->weight;
		if (c->runnable < f->tpc)
			met_idle += c->vms * (f->tpc - c->runnable);
	}
	if (!weight)
		return; /* cannot be: the demand exceeds the threads */
	f->level_threads = threads;
	f->level_weight = weight;
	/* Each held class's VM gets weight * threads / weight_left threads, a core over T. */
	held = (unsigned __int128)idle_at_level(f, i) * threads << 32;
	f->rate_q32 = (met_idle << 32) + (uint64_t)(held / ((unsigned __int128)weight * f->tpc));
}

static void update(struct sim_fair_ref *f)
{
	if (f->stale)
		fill_water(f);
	f->stale = false;
}

void sim_fair_ref_advance(struct sim_fair_ref *f, uint64_t now)
{
	if (now > f->last_at) {
		unsigned __int128 sum;

		update(f);
		sum = (unsigned __int128)f->rate_q32 * (now - f->last_at) + f->fr_frac;
		f->fr_ns += (uint64_t)(sum >> 32);
		f->fr_frac = (uint64_t)(sum & 0xffffffffu);
	}
	f->last_at = now;
}

double sim_fair_ref_idle_now(struct sim_fair_ref *f)
{
	update(f);
	return (double)f->rate_q32 / 4294967296.0;
}

double sim_fair_ref_share(struct sim_fair_ref *f, uint32_t runnable, uint32_t weight)
{
	uint64_t d = runnable ? demand_threads(f, runnable) : 0;

	update(f);
	if (f->level_weight && d * f->level_weight > weight * f->level_threads)
		return (double)weight * (double)f->level_threads /
		       ((double)f->level_weight * f->tpc);
	return (double)d / f->tpc;
}
