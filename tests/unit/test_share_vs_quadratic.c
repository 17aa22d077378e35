/*
 * Unit tests: the O(n log n) share computation (vmm-sched/lib/share.c) gives
 * exactly the shares of the quadratic one it replaced (tests/lib), on random
 * inputs of every kind: weights with and without ties, reservations that fit
 * and that are overcommitted, caps, demands above and below the enclave.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Above the ABI's first VM ceiling, where the quadratic reference was the limit. */
#define MANY_VMS 64

#include "share.h"
#include "tests/lib/share_quadratic.h"
#include "tests/lib/xorshift.h"

#define MAX_N 4096

static struct share_vm_in in[MAX_N];
static struct share_vm_out out[MAX_N], ref[MAX_N];
static struct share_point points[2 * MAX_N];
static char err[256];

static uint64_t rng_state;

static uint64_t rnd(void)
{
	return xorshift64_next(&rng_state);
}

static unsigned int rnd_range(unsigned int lo, unsigned int hi)
{
	return lo + (unsigned int)(rnd() % ((uint64_t)hi - lo + 1));
}

/* The kinds of input a case draws its VMs from. */
enum mix { MIX_ANY, MIX_TIES, MIX_OVERCOMMIT, MIX_UNDERCOMMIT, MIX_IDLE_MOSTLY, NR_MIX };

static unsigned int draw_weight(enum mix mix)
{
	static const unsigned int common[] = {1, 100, 100, 200, 400, 10000};

	if (mix == MIX_TIES || rnd() % 3 == 0)
		return common[rnd() % (sizeof(common) / sizeof(common[0]))];
	return rnd_range(VS_MIN_WEIGHT, VS_MAX_WEIGHT);
}

static unsigned int draw_demand(enum mix mix, unsigned int cores, int n)
{
	unsigned int per_vm = cores * 1000 / (unsigned int)n + 1;

	if (mix == MIX_IDLE_MOSTLY && rnd() % 8)
		return 0;
	if (mix == MIX_UNDERCOMMIT)
		return rnd_range(0, per_vm);
	if (mix == MIX_TIES)
		return rnd() % 2 ? 2000 : 1000000;
	switch (rnd() % 6) {
	case 0:
		return 0;
	case 1:
		return rnd_range(0, cores * 1500); /* any milli-core count */
	case 2:
		return share_demand_cores(rnd_range(0, 64), 2) * 1000;
	case 3:
		return rnd_range(0, 3 * per_vm);
	case 4:
		return UINT32_MAX;
	default:
		return 1000000;
	}
}

static void draw_case(int *n_out, unsigned int *cores_out)
{
	enum mix mix = (enum mix)(rnd() % NR_MIX);
	unsigned int cores, r = (unsigned int)(rnd() % 100);
	int n, i;

	if (r < 60)
		n = (int)rnd_range(1, 12);
	else if (r < 90)
		n = (int)rnd_range(1, MANY_VMS);
	else if (r < 99)
		n = (int)rnd_range(MANY_VMS, 600);
	else
		n = (int)rnd_range(600, MAX_N);
	r = (unsigned int)(rnd() % 100);
	if (r < 60)
		cores = rnd_range(1, 16);
	else if (r < 95)
		cores = rnd_range(1, 1024);
	else
		cores = rnd_range(1, SHARE_MAX_CORES);

	for (i = 0; i < n; i++) {
		struct share_vm_in *v = &in[i];
		unsigned int max_reserve = mix == MIX_OVERCOMMIT ? cores : cores / 2 + 1;

		v->weight = draw_weight(mix);
		v->reserve_cores = rnd() % 3 == 0 || mix == MIX_OVERCOMMIT
				       ? rnd_range(mix == MIX_OVERCOMMIT, max_reserve)
				       : 0;
		v->cap_cores = rnd() % 3 == 0
				   ? rnd_range(v->reserve_cores ? v->reserve_cores : 1, cores + 2)
				   : 0;
		v->demand_mcores = draw_demand(mix, cores, n);
	}
	*n_out = n;
	*cores_out = cores;
}

/* What the random cases covered, so the test cannot quietly check only easy ones. */
static struct {
	int cases, overcommitted, filled, big, big_filled;
} seen;

static void check_same(int iter, int n, unsigned int cores)
{
	struct share_result res, res_ref;
	int i;

	memset(&res, 0, sizeof(res));
	memset(&res_ref, 0, sizeof(res_ref));
	if (share_compute_n(in, out, n, cores, points, &res, err, sizeof(err)))
		fail_msg("case %d (%d VMs, %u cores): %s", iter, n, cores, err);
	share_compute_quadratic(in, ref, n, cores, &res_ref);
	for (i = 0; i < n; i++) {
		if (out[i].share_mcores != ref[i].share_mcores ||
		    out[i].effective_weight != ref[i].effective_weight)
			fail_msg("case %d (%d VMs, %u cores) VM %d (weight %u reserve %u cap %u "
				 "demand %u): share %u weight %u, the quadratic one %u weight %u",
				 iter, n, cores, i, in[i].weight, in[i].reserve_cores,
				 in[i].cap_cores, in[i].demand_mcores, out[i].share_mcores,
				 out[i].effective_weight, ref[i].share_mcores,
				 ref[i].effective_weight);
	}
	assert_int_equal(res.reservations_overcommitted, res_ref.reservations_overcommitted);
	assert_int_equal(res.total_mcores_given, res_ref.total_mcores_given);
	assert_int_equal(res.total_want_mcores, res_ref.total_want_mcores);
	seen.cases++;
	seen.overcommitted += res.reservations_overcommitted;
	seen.filled += !res.reservations_overcommitted && res.total_want_mcores > cores * 1000ULL;
	seen.big += n > MANY_VMS;
	seen.big_filled += n > MANY_VMS && res.total_want_mcores > cores * 1000ULL;
}

/* Thousands of random inputs, both ways of computing, the same shares. */
static void test_random_inputs_same_shares(void **state)
{
	unsigned int cores;
	int iter, n;

	rng_state = 0x9e3779b97f4a7c15ULL;
	memset(&seen, 0, sizeof(seen));
	for (iter = 0; iter < 10000; iter++) {
		draw_case(&n, &cores);
		check_same(iter, n, cores);
	}
	print_message("%d cases: %d overcommitted, %d water-filled, %d above %d VMs (%d of them "
		      "with more demand than cores)\n",
		      seen.cases, seen.overcommitted, seen.filled, seen.big, MANY_VMS,
		      seen.big_filled);
	assert_true(seen.overcommitted > seen.cases / 10);
	assert_true(seen.filled > seen.cases / 10);
	assert_true(seen.big_filled > 100);
}

/*
 * Many VMs at equal levels and equal remainders: every tie the sort has to
 * break the way the quadratic scan did (lowest VM index first).
 */
static void test_ties_same_shares(void **state)
{
	int n, i, iter;

	for (iter = 0; iter < 200; iter++) {
		n = 3 + iter % 61;
		for (i = 0; i < n; i++) {
			in[i] = (struct share_vm_in){
			    .weight = (unsigned int)(100 * (1 + (i + iter) % 3)),
			    .reserve_cores = (unsigned int)((i % 4 == 0) * (1 + iter % 2)),
			    .cap_cores = (unsigned int)((i % 5 == 0) * 3),
			    .demand_mcores = (unsigned int)((i % 7) * 1000),
			};
		}
		check_same(iter, n, (unsigned int)(1 + iter % 17));
	}
}

/*
 * Levels that differ by the least they can (9998/9999 and 9999/10000 differ by
 * about 1e-8): the sweep must keep them apart, or a VM would be given more than
 * its demand. Both VM orders, and with the busy VM first and last.
 */
static void test_nearly_equal_levels_same_shares(void **state)
{
	const struct share_vm_in a = {.weight = 10000, .demand_mcores = 9999};
	const struct share_vm_in b = {.weight = 9999, .demand_mcores = 9998};
	const struct share_vm_in busy = {.weight = 100, .demand_mcores = UINT32_MAX};
	int order;

	for (order = 0; order < 6; order++) {
		const struct share_vm_in *perm[6][3] = {{&a, &b, &busy}, {&b, &a, &busy},
							{&busy, &a, &b}, {&busy, &b, &a},
							{&a, &busy, &b}, {&b, &busy, &a}};
		int i;

		for (i = 0; i < 3; i++)
			in[i] = *perm[order][i];
		check_same(order, 3, 21);
		for (i = 0; i < 3; i++)
			assert_true(out[i].share_mcores <= in[i].demand_mcores);
	}
}

/* At the bounds share_compute_n() promises exact arithmetic for. */
static void test_bounds_same_shares(void **state)
{
	int i;

	for (i = 0; i < MAX_N; i++)
		in[i] = (struct share_vm_in){.weight = i % 2 ? VS_MAX_WEIGHT : VS_MIN_WEIGHT,
					     .reserve_cores = i % 3 == 0,
					     .demand_mcores = UINT32_MAX};
	check_same(0, MAX_N, SHARE_MAX_CORES);
	check_same(1, MAX_N, 1000);
	check_same(2, MAX_N, 1); /* reservations overcommitted */
}

static void test_compute_n_checks_its_input(void **state)
{
	in[0] = (struct share_vm_in){.weight = 100, .demand_mcores = 1000};
	assert_int_equal(share_compute_n(in, out, 1, 4, NULL, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no working memory for 1 VMs"));
	assert_int_equal(
	    share_compute_n(in, out, SHARE_MAX_VMS + 1, 4, points, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the count must be 0..65536"));
	assert_int_equal(
	    share_compute_n(in, out, 1, SHARE_MAX_CORES + 1, points, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "it must have 1..16384"));
	assert_int_equal(share_compute_n(NULL, NULL, 0, 4, NULL, NULL, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_inputs_same_shares),
	    cmocka_unit_test(test_ties_same_shares),
	    cmocka_unit_test(test_nearly_equal_levels_same_shares),
	    cmocka_unit_test(test_bounds_same_shares),
	    cmocka_unit_test(test_compute_n_checks_its_input),
	};

	return cmocka_run_group_tests_name("share_vs_quadratic", tests, NULL, NULL);
}
