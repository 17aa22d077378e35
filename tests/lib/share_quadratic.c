/* The quadratic share computation, kept as a reference (see share_quadratic.h). */
#include "share_quadratic.h"

#include <stdio.h>
#include <stdlib.h>

#define MCORES_PER_CORE 1000ULL

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return v;
}

static bool fill_fits(const uint64_t *lo, const uint64_t *hi, const unsigned int *w, int n,
		      uint64_t cap, uint64_t p, uint64_t q)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += clamp_u64(w[i] * p, lo[i] * q, hi[i] * q);
	return sum <= cap * q;
}

static void *alloc_or_die(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fprintf(stderr, "share_compute_quadratic: out of memory for %zu VMs\n", n);
		abort();
	}
	return p;
}

static void fill(const uint64_t *lo, const uint64_t *hi, const unsigned int *w, int n, uint64_t cap,
		 uint64_t *s)
{
	uint64_t bp = 0, bq = 1;
	uint64_t sum_hi = 0, fixed = 0, num, den = 0, given = 0, leftover;
	uint64_t *rem;
	bool *active, *bumped;
	int i, k;

	for (i = 0; i < n; i++)
		sum_hi += hi[i];
	if (sum_hi <= cap) {
		for (i = 0; i < n; i++)
			s[i] = hi[i];
		return;
	}
	rem = alloc_or_die(n, sizeof(*rem));
	active = alloc_or_die(n, sizeof(*active));
	bumped = alloc_or_die(n, sizeof(*bumped));

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
	num = cap - fixed;
	if (!den)
		goto out;

	for (i = 0; i < n; i++) {
		if (!active[i])
			continue;
		s[i] = w[i] * num / den;
		rem[i] = w[i] * num % den;
		given += s[i];
	}
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
out:
	free(rem);
	free(active);
	free(bumped);
}

void share_compute_quadratic(const struct share_vm_in *in, struct share_vm_out *out, int nr_vms,
			     unsigned int nr_cores, struct share_result *res)
{
	uint64_t *want = alloc_or_die(nr_vms, sizeof(*want));
	uint64_t *floor_mc = alloc_or_die(nr_vms, sizeof(*floor_mc));
	uint64_t *zero = alloc_or_die(nr_vms, sizeof(*zero));
	uint64_t *s = alloc_or_die(nr_vms, sizeof(*s));
	unsigned int *w = alloc_or_die(nr_vms, sizeof(*w));
	uint64_t capacity = nr_cores * MCORES_PER_CORE;
	uint64_t sum_floor = 0, sum_want = 0, sum_w = 0, given = 0;
	bool over;
	int i;

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
		res->total_want_mcores = sum_want;
	}
	free(want);
	free(floor_mc);
	free(zero);
	free(s);
	free(w);
}
