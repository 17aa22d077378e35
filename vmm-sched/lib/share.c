/* Over 400 lines: one algorithm, the O(n log n) water-filling and its remainders. */
#include "share.h"

#include <stdio.h>

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

/*
 * A point's level mcores / weight as a key that orders levels exactly and is
 * equal only for equal levels: mcores < 2^24 and weight < 2^14, so two
 * different levels differ by at least 2^-28, i.e. by more than 1 once scaled
 * by 2^40.
 */
static uint64_t level_key(uint64_t mcores, uint64_t weight)
{
	return (mcores << 40) / weight;
}

/*
 * A min-heap of points by key, in place: the sweep takes only the lowest
 * points, often few of them, so heaping (O(n)) then popping (O(log n) each)
 * beats a full sort, needs no memory and is deterministic.
 */
static void sift_down(struct share_point *h, int n, int i)
{
	struct share_point x = h[i];

	for (;;) {
		int c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1].key < h[c].key)
			c++;
		if (h[c].key >= x.key)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

static void heapify(struct share_point *h, int n)
{
	int i;

	for (i = n / 2 - 1; i >= 0; i--)
		sift_down(h, n, i);
}

static struct share_point heap_pop(struct share_point *h, int *n)
{
	struct share_point top = h[0];

	h[0] = h[--*n];
	sift_down(h, *n, 0);
	return top;
}

static void swap_points(struct share_point *a, struct share_point *b)
{
	struct share_point t = *a;

	*a = *b;
	*b = t;
}

/* Sorts h[0..n) by key, ascending, in place: O(n log n) always. */
static void heap_sort(struct share_point *h, int n)
{
	int m = n, i;

	heapify(h, m);
	while (m > 1) {
		struct share_point top = heap_pop(h, &m);

		h[m] = top; /* descending from the end */
	}
	for (i = 0; i < n / 2; i++)
		swap_points(&h[i], &h[n - 1 - i]);
}

/*
 * Partitions h[lo..hi) (at least 2 points, keys all different) around the
 * median of its first, middle and last key; returns where that pivot lands,
 * with the smaller keys before it and the larger after.
 */
static int partition(struct share_point *h, int lo, int hi)
{
	int mid = lo + (hi - lo) / 2, last = hi - 1, store = lo, i;
	uint64_t a = h[lo].key, b = h[mid].key, c = h[last].key;
	int piv = (a < b) == (b < c) ? mid : (b < a) == (a < c) ? lo : last;

	swap_points(&h[piv], &h[last]);
	for (i = lo; i < last; i++) {
		if (h[i].key < h[last].key)
			swap_points(&h[i], &h[store++]);
	}
	swap_points(&h[store], &h[last]);
	return store;
}

/*
 * Moves the @k smallest keys of h[0..n) (all different) to h[0..k), in any
 * order: quickselect, O(n) expected; past 2 log2(n) + 4 rounds it sorts what
 * is left instead, so never worse than O(n log n).
 */
static void smallest_first(struct share_point *h, int n, int k)
{
	int lo = 0, hi = n, rounds = 4, m;

	for (m = n; m > 1; m /= 2)
		rounds += 2;
	/* h[0..lo) < h[lo..hi) < h[hi..n) by key, and lo <= k <= hi. */
	while (hi - lo > 1) {
		int p;

		if (rounds-- == 0) {
			heap_sort(h + lo, hi - lo);
			return;
		}
		p = partition(h, lo, hi);
		if (k <= p)
			hi = p;
		else
			lo = p + 1;
	}
}

/*
 * The highest level *bp / *bq, among 0 and the @m points, at which
 * sum_i clamp(w_i * L, lo_i, hi_i) <= @cap. Between two consecutive levels the
 * sum is fixed + slope * L: fixed counts the floors of VMs not started yet and
 * the limits of those stopped, slope the weights of those in between. A sweep
 * up the levels keeps both up to date, so each level costs O(log n) instead
 * of a pass over every VM. @fixed and @slope are their values at level 0,
 * after the points at level 0 (left out of @pt). Unsigned arithmetic wraps
 * within a group of equal levels but is exact again after it.
 */
static void highest_fitting_level(struct share_point *pt, int m, uint64_t fixed, uint64_t slope,
				  uint64_t cap, uint64_t *bp, uint64_t *bq)
{
	*bp = 0;
	*bq = 1;
	heapify(pt, m);
	while (m > 0) {
		uint64_t key = pt[0].key, p = pt[0].mcores, q = pt[0].weight;

		while (m > 0 && pt[0].key == key) {
			struct share_point x = heap_pop(pt, &m);

			if (x.limit) {
				fixed += x.mcores;
				slope -= x.weight;
			} else {
				fixed -= x.mcores;
				slope += x.weight;
			}
		}
		/* The sum only grows with the level: the first that does not fit ends it. */
		if (fixed * q + slope * p > cap * q)
			break;
		*bp = p;
		*bq = q;
	}
}

/*
 * Weighted water-filling: s_i = clamp(w_i * L, lo_i, hi_i) for the level L at
 * which the s_i add up to @cap, rounded to integers that add up exactly, into
 * out[].share_mcores. Needs @sum_lo <= cap; if @sum_hi <= cap every VM simply
 * gets hi_i.
 *
 * sum_i clamp(w_i * L, lo_i, hi_i) is continuous, piecewise linear and
 * non-decreasing in L, with kinks at the levels lo_i / w_i and hi_i / w_i.
 * The highest of them at which it is still <= cap fixes which VMs sit at
 * their floor, which at their limit and which in between ("active"); between
 * that level and the next the sum is linear, so L = (cap - fixed) / sum of
 * active weights, exactly, as a fraction.
 */
static void fill(const struct share_vm_in *in, int n, uint64_t cap, bool over, uint64_t sum_lo,
		 uint64_t sum_hi, struct share_point *pt, struct share_vm_out *out)
{
	uint64_t lo, hi, slope = 0, bp, bq, fixed = 0, num, den = 0, given = 0, leftover;
	int i, m = 0, na = 0;

	if (sum_hi <= cap) {
		for (i = 0; i < n; i++) {
			vm_bounds(&in[i], cap, over, &lo, &hi);
			out[i].share_mcores = (unsigned int)hi;
		}
		return;
	}
	for (i = 0; i < n; i++) {
		uint64_t w = in[i].weight;

		vm_bounds(&in[i], cap, over, &lo, &hi);
		if (lo)
			pt[m++] = (struct share_point){level_key(lo, w), (uint32_t)lo, (uint16_t)w,
						       false};
		else if (hi)
			slope += w; /* grows from level 0 on */
		if (hi)
			pt[m++] =
			    (struct share_point){level_key(hi, w), (uint32_t)hi, (uint16_t)w, true};
	}
	highest_fitting_level(pt, m, sum_lo, slope, cap, &bp, &bq);

	for (i = 0; i < n; i++) {
		uint64_t w = in[i].weight;

		vm_bounds(&in[i], cap, over, &lo, &hi);
		if (hi * bq <= w * bp) {
			out[i].share_mcores = (unsigned int)hi;
		} else if (lo * bq > w * bp) {
			out[i].share_mcores = (unsigned int)lo;
		} else {
			pt[na++].mcores = (uint32_t)i; /* the VM, until it has a remainder */
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
		uint32_t vm = pt[i].mcores;
		uint64_t part = in[vm].weight * num;
		uint32_t rem = (uint32_t)(part % den);

		out[vm].share_mcores = (unsigned int)(part / den);
		given += part / den;
		/* Largest remainder first, ties to the lower VM index. */
		pt[i].key = (uint64_t)(UINT32_MAX - rem) << 32 | vm;
	}
	/*
	 * The fractions add up to leftover < number of active VMs, so the
	 * leftover goes to VMs with a non-zero remainder: rounding them up
	 * keeps them within [lo, hi], which are integers.
	 */
	leftover = num - given;
	if (!leftover)
		return;
	if (leftover > (uint64_t)na)
		leftover = (uint64_t)na;
	smallest_first(pt, na, (int)leftover);
	for (i = 0; i < (int)leftover; i++)
		out[(uint32_t)pt[i].key].share_mcores++;
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
	if (over)
		fill(in, nr_vms, capacity, true, 0, sum_floor, points, out);
	else
		fill(in, nr_vms, capacity, false, sum_floor, sum_want, points, out);

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
