/*
 * The fair-share reference for forced idle (docs/simulator.md).
 *
 * The lower bound (sim_bound.h) lets a schedule starve VMs whose vCPUs fill
 * a core only partly, so above 1x overcommit it is about 0. FR is the idle
 * of a fluid scheduler that gives every VM its weighted max-min fair share
 * of core time at every instant and respects pairing (a core runs one VM's
 * vCPUs at a time).
 *
 * At an instant, VM v has R_v runnable vCPUs (running or waiting) and
 * weight w_v; C cores, T threads per core. Its demand in cores is d_v = 0 if
 * R_v = 0, 1 if 0 < R_v < T (it fills a core only partly: each core-second
 * it gets idles T - R_v threads), R_v / T if R_v >= T (its vCPUs rotate over
 * fractional cores with no thread idle). x_v is the weighted water-filling
 * of the C cores: raise a level L, x_v = min(d_v, w_v * L), until the x_v
 * sum to C or every demand is met. Then
 *
 *   FR = integral over time of (sum d_v > C ? sum over 0 < R_v < T of
 *                                (T - R_v) * x_v : 0)
 *
 * (when all demand fits nobody waits, so no idle counts as forced). FR is a
 * reference, not a bound: a policy fair only over windows (vmm-sched is fair
 * by vtime, core time, over time) may idle less than FR on some runs. Like
 * the bound it is taken on the run's own trajectory of runnable sets and
 * ignores reservations, caps, NUMA homes and handover delays.
 *
 * VMs come in groups of one weight (the simulator's VM kinds); the VMs of a
 * group with the same R_v form a class, and the water-filling walks the
 * classes in order of demand per weight, which is fixed at init. So a change
 * costs O(1), and the level is found again, in O(classes), only when the
 * rate is next needed after a change.
 */
#ifndef VS_SIM_FAIR_REF_H
#define VS_SIM_FAIR_REF_H

#include <stdbool.h>
#include <stdint.h>

struct sim_fair_class {
	uint32_t runnable, weight;
	uint64_t vms; /* VMs of the class now */
};

struct sim_fair_ref {
	uint32_t cores, tpc;
	struct sim_fair_class *classes; /* ascending demand / weight */
	uint32_t nr_classes;
	uint32_t *group_first; /* by group: its first slot */
	uint32_t *class_at;    /* by slot, group_first[g] + R - 1 for R >= 1: its class */
	bool stale;	       /* a class changed since the rate was computed */
	/* The level L = level_threads / level_weight threads per weight; weight 0: all met */
	uint64_t level_threads, level_weight;
	uint64_t rate_q32; /* threads idle now, times 2^32 */
	uint64_t fr_ns;	   /* thread-ns so far ... */
	uint64_t fr_frac;  /* ... and 2^-32 thread-ns */
	uint64_t last_at;
};

/*
 * For @nr_groups groups of VMs: group g's VMs have weight @weight[g] and at
 * most @max_runnable[g] vCPUs. 0, or -1 (out of memory).
 */
int sim_fair_ref_init(struct sim_fair_ref *f, uint32_t cores, uint32_t tpc, uint32_t nr_groups,
		      const uint32_t *weight, const uint32_t *max_runnable);
void sim_fair_ref_free(struct sim_fair_ref *f);
/* A VM of @group: its runnable vCPUs go from @from to @to. */
void sim_fair_ref_change(struct sim_fair_ref *f, uint32_t group, uint32_t from, uint32_t to);
/* Integrates up to @now; then a VM's runnable count may change. */
void sim_fair_ref_advance(struct sim_fair_ref *f, uint64_t now);
/* Threads a fair fluid scheduler idles now (FR's rate). */
double sim_fair_ref_idle_now(struct sim_fair_ref *f);
/* x_v in cores of a VM of @runnable vCPUs and @weight now (it must have such a VM). */
double sim_fair_ref_share(struct sim_fair_ref *f, uint32_t runnable, uint32_t weight);

#endif
