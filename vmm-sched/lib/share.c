#include "share.h"

#include <stdio.h>

#define MCORES_PER_CORE 1000ULL

static const char *cores_word(unsigned int n)
{
	return n == 1 ? "core" : "cores";
}

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return v;
}

/*
 * With the level L = p / q: is sum_i clamp(w_i * L, lo_i, hi_i) <= cap?
 * Everything is multiplied by q to stay in integers.
 */
static bool fill_fits(const uint64_t *lo, const uint64_t *hi, const unsigned int *w, int n,
		      uint64_t cap, uint64_t p, uint64_t q)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += clamp_u64(w[i] * p, lo[i] * q, hi[i] * q);
	return sum <= cap * q;
}

/*
 * Weighted water-filling: s_i = clamp(w_i * L, lo_i, hi_i) for the level L at
 * which the s_i add up to @cap, rounded to integers that add up exactly.
 * Needs sum(lo) <= cap; if sum(hi) <= cap every VM simply gets hi_i.
 *
 * sum_i clamp(w_i * L, lo_i, hi_i) is continuous, piecewise linear and
 * non-decreasing in L, with kinks at the breakpoints lo_i / w_i and hi_i / w_i.
 * The largest breakpoint at which it is still <= cap fixes which VMs sit at
 * their floor, which at their limit and which in between ("active"); between
 * that breakpoint and the next the sum is linear, so L = (cap - fixed) / sum of
 * active weights, exactly, as a fraction.
 */
static void fill(const uint64_t *lo, const uint64_t *hi, const unsigned int *w, int n, uint64_t cap,
		 uint64_t *s)
{
	uint64_t bp = 0, bq = 1; /* the level breakpoint bp / bq, starting at 0 */
	uint64_t sum_hi = 0, fixed = 0, num, den = 0, given = 0, leftover;
	uint64_t rem[VS_MAX_VMS];
	bool active[VS_MAX_VMS], bumped[VS_MAX_VMS];
	int i, k;

	for (i = 0; i < n; i++)
		sum_hi += hi[i];
	if (sum_hi <= cap) {
		for (i = 0; i < n; i++)
			s[i] = hi[i];
		return;
	}

	/* The largest breakpoint p / q (q = w_k) with the sum still <= cap. */
	for (k = 0; k < 2 * n; k++) {
		uint64_t p = k < n ? lo[k] : hi[k - n];
		uint64_t q = w[k < n ? k : k - n];

		if (p * bq > bp * q && fill_fits(lo, hi, w, n, cap, p, q)) {
			bp = p;
			bq = q;
		}
	}

	for (i = 0; i < n; i++) {
		active[i] = false;
		bumped[i] = false;
		if (hi[i] * bq <= w[i] * bp) {
			s[i] = hi[i];
		} else if (lo[i] * bq > w[i] * bp) {
			s[i] = lo[i];
		} else {
			active[i] = true;
			den += w[i];
			continue;
		}
		fixed += s[i];
	}
	/* fixed <= cap since the sum at the breakpoint fits; den > 0 since the sum grows past it.
	 */
	num = cap - fixed;
	if (!den)
		return;

	for (i = 0; i < n; i++) {
		if (!active[i])
			continue;
		s[i] = w[i] * num / den;
		rem[i] = w[i] * num % den;
		given += s[i];
	}
	/*
	 * The fractions add up to leftover < number of active VMs, so the
	 * leftover goes to VMs with a non-zero remainder: rounding them up
	 * keeps them within [lo, hi], which are integers.
	 */
	for (leftover = num - given; leftover; leftover--) {
		int best = -1;

		for (i = 0; i < n; i++) {
			if (active[i] && !bumped[i] && (best < 0 || rem[i] > rem[best]))
				best = i;
		}
		if (best < 0)
			break;
		bumped[best] = true;
		s[best]++;
	}
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

static int validate(const struct share_vm_in *in, int nr_vms, unsigned int nr_cores, char *err,
		    size_t errlen)
{
	int i;

	if (nr_vms < 0 || nr_vms > VS_MAX_VMS) {
		snprintf(err, errlen, "%d VMs: the count must be 0..%d", nr_vms, VS_MAX_VMS);
		return -1;
	}
	if (nr_cores == 0 || nr_cores > VS_MAX_CPUS) {
		snprintf(err, errlen, "the enclave has %u cores: it must have 1..%d", nr_cores,
			 VS_MAX_CPUS);
		return -1;
	}
	if (nr_vms > 0 && !in) {
		snprintf(err, errlen, "no input for %d VMs", nr_vms);
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

int share_compute(const struct share_vm_in *in, struct share_vm_out *out, int nr_vms,
		  unsigned int nr_cores, struct share_result *res, char *err, size_t errlen)
{
	uint64_t want[VS_MAX_VMS], floor_mc[VS_MAX_VMS], zero[VS_MAX_VMS], s[VS_MAX_VMS];
	unsigned int w[VS_MAX_VMS];
	uint64_t capacity = nr_cores * MCORES_PER_CORE;
	uint64_t sum_floor = 0, sum_want = 0, sum_w = 0, given = 0;
	bool over;
	int i;

	if (validate(in, nr_vms, nr_cores, err, errlen))
		return -1;

	for (i = 0; i < nr_vms; i++) {
		uint64_t limit = capacity;

		if (in[i].cap_cores && in[i].cap_cores * MCORES_PER_CORE < limit)
			limit = in[i].cap_cores * MCORES_PER_CORE;
		want[i] = in[i].demand_mcores < limit ? in[i].demand_mcores : limit;
		floor_mc[i] = in[i].reserve_cores * MCORES_PER_CORE;
		if (floor_mc[i] > want[i])
			floor_mc[i] = want[i];
		zero[i] = 0;
		w[i] = in[i].weight;
		sum_floor += floor_mc[i];
		sum_want += want[i];
		sum_w += w[i];
	}

	over = sum_floor > capacity;
	if (over)
		fill(zero, floor_mc, w, nr_vms, capacity, s);
	else
		fill(floor_mc, want, w, nr_vms, capacity, s);

	for (i = 0; i < nr_vms; i++) {
		out[i].share_mcores = (unsigned int)s[i];
		out[i].effective_weight =
		    share_effective_weight(out[i].share_mcores, w[i], nr_cores, sum_w);
		given += s[i];
	}
	if (res) {
		res->reservations_overcommitted = over;
		res->total_mcores_given = (unsigned int)given;
		res->total_want_mcores = (unsigned int)sum_want;
	}
	return 0;
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
