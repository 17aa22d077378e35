#include "share.h"

#include <stdio.h>
#include <stdlib.h>

#define MCORES_PER_CORE 1000ULL

static const char *cores_word(unsigned int n)
{
	return n == 1 ? "core" : "cores";
}

/*
 * A VM's limits in the fill: floor and want normally (share.h, step 2); 0 and
 * the floor when the reservations are overcommitted (step 1).
 */
static void vm_bounds(const struct share_vm_in *v, uint64_t capacity, bool over, uint64_t *lo,
		      uint64_t *hi)
{
	uint64_t limit = capacity, want, floor_mc;

	if (v->cap_cores && v->cap_cores * MCORES_PER_CORE < limit)
		limit = v->cap_cores * MCORES_PER_CORE;
	want = v->demand_mcores < limit ? v->demand_mcores : limit;
	floor_mc = v->reserve_cores * MCORES_PER_CORE;
	if (floor_mc > want)
		floor_mc = want;
	*lo = over ? 0 : floor_mc;
	*hi = over ? floor_mc : want;
}

/* Points by level mcores / weight, compared exactly. */
static int by_level(const void *a, const void *b)
{
	const struct share_point *x = a, *y = b;
	uint64_t l = (uint64_t)x->mcores * y->weight, r = (uint64_t)y->mcores * x->weight;

	return l < r ? -1 : l > r;
}

/* Active VMs by rounding remainder, largest first, ties to the lower VM index. */
static int by_remainder(const void *a, const void *b)
{
	const struct share_point *x = a, *y = b;

	if (x->mcores != y->mcores)
		return x->mcores > y->mcores ? -1 : 1;
	return x->vm < y->vm ? -1 : x->vm > y->vm;
}

/*
 * The highest level *bp / *bq, among 0 and the @m points, at which
 * sum_i clamp(w_i * L, lo_i, hi_i) <= @cap. Between two consecutive levels the
 * sum is fixed + slope * L: fixed counts the floors of VMs not started yet and
 * the limits of those stopped, slope the weights of those in between. A sweep
 * over the sorted levels keeps both up to date, so each level costs O(1)
 * (per point) instead of a pass over every VM. @fixed and @slope are their
 * values at level 0, after the points at level 0 (left out of @pt).
 * Unsigned arithmetic wraps within a group of equal levels but is exact again
 * after it.
 */
static void highest_fitting_level(struct share_point *pt, int m, uint64_t fixed, uint64_t slope,
				  uint64_t cap, uint64_t *bp, uint64_t *bq)
{
	int k = 0, j;

	qsort(pt, (size_t)m, sizeof(*pt), by_level);
	*bp = 0;
	*bq = 1;
	while (k < m) {
		uint64_t p = pt[k].mcores, q = pt[k].weight;

		for (j = k; j < m && (uint64_t)pt[j].mcores * q == p * pt[j].weight; j++) {
			if (pt[j].limit) {
				fixed += pt[j].mcores;
				slope -= pt[j].weight;
			} else {
				fixed -= pt[j].mcores;
				slope += pt[j].weight;
			}
		}
		/* The sum only grows with the level: the first that does not fit ends it. */
		if (fixed * q + slope * p > cap * q)
			break;
		*bp = p;
		*bq = q;
		k = j;
	}
}

/*
 * Weighted water-filling: s_i = clamp(w_i * L, lo_i, hi_i) for the level L at
 * which the s_i add up to @cap, rounded to integers that add up exactly, into
 * out[].share_mcores. Needs sum(lo) <= cap; if sum(hi) <= cap every VM simply
 * gets hi_i.
 *
 * sum_i clamp(w_i * L, lo_i, hi_i) is continuous, piecewise linear and
 * non-decreasing in L, with kinks at the levels lo_i / w_i and hi_i / w_i.
 * The highest of them at which it is still <= cap fixes which VMs sit at
 * their floor, which at their limit and which in between ("active"); between
 * that level and the next the sum is linear, so L = (cap - fixed) / sum of
 * active weights, exactly, as a fraction.
 */
static void fill(const struct share_vm_in *in, int n, uint64_t cap, bool over,
		 struct share_point *pt, struct share_vm_out *out)
{
	uint64_t lo, hi, sum_lo = 0, sum_hi = 0, slope = 0, bp, bq;
	uint64_t fixed = 0, num, den = 0, given = 0, leftover;
	int i, m = 0, na = 0;

	for (i = 0; i < n; i++) {
		uint32_t w = in[i].weight;

		vm_bounds(&in[i], cap, over, &lo, &hi);
		out[i].share_mcores = (unsigned int)hi;
		sum_lo += lo;
		sum_hi += hi;
		if (lo)
			pt[m++] = (struct share_point){(uint32_t)lo, w, (uint32_t)i, false};
		else if (hi)
			slope += w; /* grows from level 0 on */
		if (hi)
			pt[m++] = (struct share_point){(uint32_t)hi, w, (uint32_t)i, true};
	}
	if (sum_hi <= cap)
		return;
	highest_fitting_level(pt, m, sum_lo, slope, cap, &bp, &bq);

	for (i = 0; i < n; i++) {
		uint64_t w = in[i].weight;

		vm_bounds(&in[i], cap, over, &lo, &hi);
		if (hi * bq <= w * bp) {
			out[i].share_mcores = (unsigned int)hi;
		} else if (lo * bq > w * bp) {
			out[i].share_mcores = (unsigned int)lo;
		} else {
			pt[na++] = (struct share_point){.weight = (uint32_t)w, .vm = (uint32_t)i};
			den += w;
			continue;
		}
		fixed += out[i].share_mcores;
	}
	/* fixed <= cap since the sum at the level fits; den > 0 since the sum grows past it. */
	num = cap - fixed;
	if (!den)
		return;

	for (i = 0; i < na; i++) {
		uint64_t part = pt[i].weight * num;

		out[pt[i].vm].share_mcores = (unsigned int)(part / den);
		pt[i].mcores = (uint32_t)(part % den);
		given += part / den;
	}
	/*
	 * The fractions add up to leftover < number of active VMs, so the
	 * leftover goes to VMs with a non-zero remainder: rounding them up
	 * keeps them within [lo, hi], which are integers.
	 */
	leftover = num - given;
	if (!leftover)
		return;
	qsort(pt, (size_t)na, sizeof(*pt), by_remainder);
	for (i = 0; i < na && (uint64_t)i < leftover; i++)
		out[pt[i].vm].share_mcores++;
}

int share_check_vm(const struct share_vm_in *vm, char *err, size_t errlen)
{
	if (vm->weight < VS_MIN_WEIGHT || vm->weight > VS_MAX_WEIGHT) {
		snprintf(err, errlen, "weight %u is outside %d..%d", vm->weight, VS_MIN_WEIGHT,
			 VS_MAX_WEIGHT);
		return -1;
	}
	if (vm->cap_cores && vm->reserve_cores && vm->cap_cores < vm->reserve_cores) {
		snprintf(err, errlen, "cap %u %s is below its reservation of %u %s", vm->cap_cores,
			 cores_word(vm->cap_cores), vm->reserve_cores,
			 cores_word(vm->reserve_cores));
		return -1;
	}
	return 0;
}

static int check_counts(int nr_vms, unsigned int nr_cores, int max_vms, unsigned int max_cores,
			char *err, size_t errlen)
{
	if (nr_vms < 0 || nr_vms > max_vms) {
		snprintf(err, errlen, "%d VMs: the count must be 0..%d", nr_vms, max_vms);
		return -1;
	}
	if (nr_cores == 0 || nr_cores > max_cores) {
		snprintf(err, errlen, "the enclave has %u cores: it must have 1..%u", nr_cores,
			 max_cores);
		return -1;
	}
	return 0;
}

static int validate(const struct share_vm_in *in, int nr_vms, unsigned int nr_cores,
		    const struct share_point *points, char *err, size_t errlen)
{
	int i;

	if (check_counts(nr_vms, nr_cores, SHARE_MAX_VMS, SHARE_MAX_CORES, err, errlen))
		return -1;
	if (nr_vms > 0 && !in) {
		snprintf(err, errlen, "no input for %d VMs", nr_vms);
		return -1;
	}
	if (nr_vms > 0 && !points) {
		snprintf(err, errlen, "no working memory for %d VMs", nr_vms);
		return -1;
	}
	for (i = 0; i < nr_vms; i++) {
		char why[128];

		if (share_check_vm(&in[i], why, sizeof(why))) {
			snprintf(err, errlen, "VM %d: %s", i, why);
			return -1;
		}
	}
	return 0;
}

int share_compute_n(const struct share_vm_in *in, struct share_vm_out *out, int nr_vms,
		    unsigned int nr_cores, struct share_point *points, struct share_result *res,
		    char *err, size_t errlen)
{
	uint64_t capacity = nr_cores * MCORES_PER_CORE;
	uint64_t sum_floor = 0, sum_want = 0, sum_w = 0, given = 0;
	bool over;
	int i;

	if (validate(in, nr_vms, nr_cores, points, err, errlen))
		return -1;

	for (i = 0; i < nr_vms; i++) {
		uint64_t floor_mc, want;

		vm_bounds(&in[i], capacity, false, &floor_mc, &want);
		sum_floor += floor_mc;
		sum_want += want;
		sum_w += in[i].weight;
	}
	over = sum_floor > capacity;
	fill(in, nr_vms, capacity, over, points, out);

	for (i = 0; i < nr_vms; i++) {
		out[i].effective_weight =
		    share_effective_weight(out[i].share_mcores, in[i].weight, nr_cores, sum_w);
		given += out[i].share_mcores;
	}
	if (res) {
		res->reservations_overcommitted = over;
		res->total_mcores_given = (unsigned int)given;
		res->total_want_mcores = sum_want;
	}
	return 0;
}

int share_compute(const struct share_vm_in *in, struct share_vm_out *out, int nr_vms,
		  unsigned int nr_cores, struct share_result *res, char *err, size_t errlen)
{
	struct share_point points[2 * VS_MAX_VMS];

	if (check_counts(nr_vms, nr_cores, VS_MAX_VMS, VS_MAX_CPUS, err, errlen))
		return -1;
	return share_compute_n(in, out, nr_vms, nr_cores, points, res, err, errlen);
}

unsigned int share_effective_weight(unsigned int share_mcores, unsigned int weight,
				    unsigned int nr_cores, uint64_t sum_weights)
{
	uint64_t ew;

	if (share_mcores)
		return share_mcores;
	if (!sum_weights || sum_weights < weight)
		sum_weights = weight ? weight : 1;
	ew = (uint64_t)weight * nr_cores * MCORES_PER_CORE / sum_weights;
	if (ew < 1)
		return 1;
	if (ew > UINT32_MAX)
		return UINT32_MAX;
	return (unsigned int)ew;
}

unsigned int share_demand_cores(unsigned int runnable_vcpus, unsigned int threads_per_core)
{
	if (!threads_per_core)
		threads_per_core = 1;
	return runnable_vcpus / threads_per_core + (runnable_vcpus % threads_per_core != 0);
}

uint64_t share_core_slice_ns(unsigned int nr_demanding_vms, unsigned int nr_cores,
			     uint64_t target_latency_ns, uint64_t min_ns, uint64_t max_ns)
{
	uint64_t t;

	if (nr_demanding_vms <= 1)
		return max_ns;
	if (!nr_cores)
		nr_cores = 1;
	if (target_latency_ns > UINT64_MAX / nr_cores)
		t = UINT64_MAX;
	else
		t = target_latency_ns * nr_cores / nr_demanding_vms;
	if (t < min_ns)
		t = min_ns;
	if (t > max_ns)
		t = max_ns;
	return t;
}
