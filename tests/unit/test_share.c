/* Over 400 lines: one case per share rule, plus the randomized checks. */
/* Unit tests: weighted fair share of enclave cores (vmm-sched/lib/share.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "share.h"
#include "tests/lib/xorshift.h"

#define BUSY 1000000U /* more demand than any enclave */

static char err[256];

static struct share_vm_in vm(unsigned int weight, unsigned int reserve, unsigned int cap,
			     unsigned int demand_mcores)
{
	struct share_vm_in v = {
	    .weight = weight,
	    .reserve_cores = reserve,
	    .cap_cores = cap,
	    .demand_mcores = demand_mcores,
	};

	return v;
}

/* Compute, expecting success; checks the result's totals against the shares. */
static struct share_result compute_ok(const struct share_vm_in *in, struct share_vm_out *out, int n,
				      unsigned int cores)
{
	struct share_result res;
	unsigned int sum = 0;
	int i;

	err[0] = '\0';
	memset(&res, 0xa5, sizeof(res));
	if (share_compute(in, out, n, cores, &res, err, sizeof(err)))
		fail_msg("share_compute failed: %s", err);
	for (i = 0; i < n; i++)
		sum += out[i].share_mcores;
	assert_int_equal(res.total_mcores_given, sum);
	return res;
}

static void expect_shares(const struct share_vm_out *out, const unsigned int *want, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (out[i].share_mcores != want[i])
			fail_msg("VM %d: share %u mcores, expected %u", i, out[i].share_mcores,
				 want[i]);
	}
}

/* Compute, expecting failure with a message that contains @needle. */
static void compute_bad(const struct share_vm_in *in, int n, unsigned int cores, const char *needle)
{
	struct share_vm_out out[VS_MAX_VMS + 1];
	struct share_result res, res_before;
	int i;

	memset(err, 0, sizeof(err));
	memset(out, 0x5a, sizeof(out));
	memset(&res, 0x5a, sizeof(res));
	res_before = res;
	assert_int_equal(share_compute(in, out, n, cores, &res, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("error is '%s', expected it to contain '%s'", err, needle);
	/* Nothing written on failure. */
	assert_memory_equal(&res, &res_before, sizeof(res));
	for (i = 0; i < VS_MAX_VMS + 1; i++)
		assert_int_equal(out[i].share_mcores, 0x5a5a5a5aU);
}

static void test_weights_on_busy_cores(void **state)
{
	struct share_vm_in in[] = {vm(1, 0, 0, BUSY), vm(2, 0, 0, BUSY), vm(4, 0, 0, BUSY)};
	const unsigned int want[] = {1000, 2000, 4000};
	struct share_vm_out out[3];
	struct share_result res = compute_ok(in, out, 3, 7);

	expect_shares(out, want, 3);
	assert_false(res.reservations_overcommitted);
	assert_int_equal(res.total_mcores_given, 7000);
	assert_int_equal(res.total_want_mcores, 3 * 7000);
}

static void test_weights_with_rounding(void **state)
{
	struct share_vm_in in[] = {vm(1, 0, 0, BUSY), vm(2, 0, 0, BUSY), vm(4, 0, 0, BUSY)};
	const double ideal[] = {4000.0 / 7, 8000.0 / 7, 16000.0 / 7};
	struct share_vm_out out[3];
	struct share_result res = compute_ok(in, out, 3, 4);
	int i;

	for (i = 0; i < 3; i++) {
		double d = out[i].share_mcores - ideal[i];

		if (d > 1.0 || d < -1.0)
			fail_msg("VM %d: share %u, ideal %.2f", i, out[i].share_mcores, ideal[i]);
	}
	assert_int_equal(res.total_mcores_given, 4000);
}

static void test_rounding_is_largest_remainder(void **state)
{
	/* 571.43, 1142.86, 2285.71: the two leftover mcores go to VM 1 and VM 2. */
	struct share_vm_in in[] = {vm(1, 0, 0, BUSY), vm(2, 0, 0, BUSY), vm(4, 0, 0, BUSY)};
	const unsigned int want[] = {571, 1143, 2286};
	/* Three equal thirds of 1000: the leftover mcore goes to the lowest index. */
	struct share_vm_in eq[] = {vm(5, 0, 0, BUSY), vm(5, 0, 0, BUSY), vm(5, 0, 0, BUSY)};
	const unsigned int want_eq[] = {334, 333, 333};
	struct share_vm_out out[3];

	compute_ok(in, out, 3, 4);
	expect_shares(out, want, 3);
	compute_ok(eq, out, 3, 1);
	expect_shares(out, want_eq, 3);
}

static void test_low_demand_gives_excess_away(void **state)
{
	/* Equal weights on 3 cores; VM 0 only wants half a core. */
	struct share_vm_in in[] = {vm(1, 0, 0, 500), vm(1, 0, 0, BUSY), vm(1, 0, 0, BUSY)};
	const unsigned int want[] = {500, 1250, 1250};
	/* Excess handed on by weight: VM 1 (weight 2) takes what VM 0 leaves, twice VM 2. */
	struct share_vm_in in2[] = {vm(4, 0, 0, 1000), vm(2, 0, 0, BUSY), vm(1, 0, 0, BUSY)};
	const unsigned int want2[] = {1000, 4000, 2000};
	struct share_vm_out out[3];

	compute_ok(in, out, 3, 3);
	expect_shares(out, want, 3);
	compute_ok(in2, out, 3, 7);
	expect_shares(out, want2, 3);
}

static void test_caps_respected_and_excess_redistributed(void **state)
{
	/* Weight 4 would get 4 of 6 cores, but is capped at 2. */
	struct share_vm_in in[] = {vm(4, 0, 2, BUSY), vm(1, 0, 0, BUSY), vm(1, 0, 0, BUSY)};
	const unsigned int want[] = {2000, 2000, 2000};
	/* Two VMs capped, the cap below their weighted share; the rest goes to VM 2. */
	struct share_vm_in in2[] = {vm(1, 0, 1, BUSY), vm(1, 0, 1, BUSY), vm(1, 0, 0, BUSY)};
	const unsigned int want2[] = {1000, 1000, 6000};
	/* A cap above the weighted share changes nothing. */
	struct share_vm_in in3[] = {vm(1, 0, 5, BUSY), vm(1, 0, 0, BUSY)};
	const unsigned int want3[] = {2000, 2000};
	struct share_vm_out out[3];
	struct share_result res;

	compute_ok(in, out, 3, 6);
	expect_shares(out, want, 3);
	compute_ok(in2, out, 3, 8);
	expect_shares(out, want2, 3);
	compute_ok(in3, out, 2, 4);
	expect_shares(out, want3, 2);

	/* Everyone capped below the enclave: not work-conserving beyond the caps. */
	in[0] = vm(1, 0, 1, BUSY);
	in[1] = vm(1, 0, 2, BUSY);
	res = compute_ok(in, out, 2, 8);
	assert_int_equal(out[0].share_mcores, 1000);
	assert_int_equal(out[1].share_mcores, 2000);
	assert_int_equal(res.total_want_mcores, 3000);
}

static void test_reservations_honoured(void **state)
{
	/* The weight 1 VM gets its 2 reserved cores against a weight 100 VM. */
	struct share_vm_in in[] = {vm(1, 2, 0, BUSY), vm(100, 0, 0, BUSY)};
	const unsigned int want[] = {2000, 2000};
	/* Demanding less than the reservation: it gets its demand, the rest goes on. */
	struct share_vm_in in2[] = {vm(1, 2, 0, 1000), vm(100, 0, 0, BUSY)};
	const unsigned int want2[] = {1000, 3000};
	/* A reservation below the weighted share is a floor, not a bonus. */
	struct share_vm_in in3[] = {vm(100, 1, 0, BUSY), vm(100, 0, 0, BUSY)};
	const unsigned int want3[] = {2000, 2000};
	/* Reservation and cap equal: pinned at exactly that. */
	struct share_vm_in in4[] = {vm(1, 3, 3, BUSY), vm(10000, 0, 0, BUSY)};
	const unsigned int want4[] = {3000, 1000};
	struct share_vm_out out[2];
	struct share_result res;

	res = compute_ok(in, out, 2, 4);
	expect_shares(out, want, 2);
	assert_false(res.reservations_overcommitted);
	compute_ok(in2, out, 2, 4);
	expect_shares(out, want2, 2);
	compute_ok(in3, out, 2, 4);
	expect_shares(out, want3, 2);
	compute_ok(in4, out, 2, 4);
	expect_shares(out, want4, 2);
}

static void test_reservations_overcommitted(void **state)
{
	/* 3 + 3 reserved on 4 cores, weights 1:3: 1000 + 3000; the unreserved VM gets none. */
	struct share_vm_in in[] = {vm(1, 3, 0, BUSY), vm(3, 3, 0, BUSY), vm(1, 0, 0, BUSY)};
	const unsigned int want[] = {1000, 3000, 0};
	/* 3 + 1 reserved on 3 cores, equal weights: VM 1 keeps its 1, VM 0 gets the other 2. */
	struct share_vm_in in2[] = {vm(1, 3, 0, BUSY), vm(1, 1, 0, BUSY)};
	const unsigned int want2[] = {2000, 1000};
	/* Reservations only count up to demand: 3 + 3 reserved but VM 1 wants 1. */
	struct share_vm_in in3[] = {vm(1, 3, 0, BUSY), vm(1, 3, 0, 1000)};
	const unsigned int want3[] = {3000, 1000};
	struct share_vm_out out[3];
	struct share_result res;

	res = compute_ok(in, out, 3, 4);
	expect_shares(out, want, 3);
	assert_true(res.reservations_overcommitted);
	assert_int_equal(res.total_mcores_given, 4000);

	res = compute_ok(in2, out, 2, 3);
	expect_shares(out, want2, 2);
	assert_true(res.reservations_overcommitted);

	res = compute_ok(in3, out, 2, 4);
	expect_shares(out, want3, 2);
	assert_false(res.reservations_overcommitted);
}

static void test_zero_demand_gets_nothing(void **state)
{
	struct share_vm_in in[] = {vm(1, 0, 0, 0), vm(1, 2, 0, 0), vm(1, 0, 0, BUSY)};
	struct share_vm_out out[3];
	struct share_result res = compute_ok(in, out, 3, 4);

	assert_int_equal(out[0].share_mcores, 0);
	assert_int_equal(out[1].share_mcores, 0); /* its reservation does not matter */
	assert_int_equal(out[2].share_mcores, 4000);
	assert_int_equal(res.total_mcores_given, 4000);
	/* Still a usable weight for the BPF side: its plain weighted part, 4000 / 3. */
	assert_int_equal(out[0].effective_weight, 1333);
	assert_int_equal(out[1].effective_weight, 1333);
	assert_int_equal(out[2].effective_weight, 4000);
}

static void test_demand_below_capacity_all_get_demand(void **state)
{
	struct share_vm_in in[] = {vm(1, 0, 0, 1500), vm(10000, 0, 0, 250), vm(7, 1, 3, 2000),
				   vm(3, 0, 0, 1000)};
	const unsigned int want[] = {1500, 250, 2000, 1000};
	struct share_vm_out out[4];
	struct share_result res = compute_ok(in, out, 4, 8);

	expect_shares(out, want, 4);
	assert_int_equal(res.total_mcores_given, 4750);
	assert_int_equal(res.total_want_mcores, 4750);
	assert_false(res.reservations_overcommitted);
}

static void test_no_vms(void **state)
{
	struct share_result res = compute_ok(NULL, NULL, 0, 4);

	assert_int_equal(res.total_mcores_given, 0);
	assert_int_equal(res.total_want_mcores, 0);
	assert_false(res.reservations_overcommitted);
}

static void test_invalid_inputs(void **state)
{
	struct share_vm_in in[VS_MAX_VMS + 1];
	int i;

	for (i = 0; i < VS_MAX_VMS + 1; i++)
		in[i] = vm(100, 0, 0, 1000);

	in[3] = vm(0, 0, 0, 1000);
	compute_bad(in, 5, 4, "VM 3: weight 0 is outside 1..10000");
	in[3] = vm(10001, 0, 0, 1000);
	compute_bad(in, 5, 4, "VM 3: weight 10001 is outside 1..10000");
	in[3] = vm(100, 2, 1, 1000);
	compute_bad(in, 5, 4, "VM 3: cap 1 core is below its reservation of 2 cores");
	in[3] = vm(100, 1, 0, 1000);
	in[4] = vm(100, 5, 3, 1000);
	compute_bad(in, 5, 4, "VM 4: cap 3 cores is below its reservation of 5 cores");
	in[4] = vm(100, 0, 0, 1000);
	compute_bad(in, VS_MAX_VMS + 1, 4, "4097 VMs: the count must be 0..4096");
	compute_bad(in, -1, 4, "-1 VMs");
	compute_bad(in, 5, 0, "the enclave has 0 cores");
	compute_bad(in, 5, VS_MAX_CPUS + 1, "the enclave has 1025 cores");
}

static void test_boundary_inputs_accepted(void **state)
{
	struct share_vm_in in[VS_MAX_VMS];
	struct share_vm_out out[VS_MAX_VMS];
	struct share_result res;
	int i;

	in[0] = vm(1, 2, 2, BUSY);	    /* min weight, cap == reservation */
	in[1] = vm(10000, 0, 1, BUSY);	    /* max weight, cap without reservation */
	in[2] = vm(5000, 9, 0, UINT32_MAX); /* reservation above the enclave, huge demand */
	res = compute_ok(in, out, 3, VS_MAX_CPUS);
	assert_int_equal(out[0].share_mcores, 2000);
	assert_int_equal(out[1].share_mcores, 1000);
	assert_int_equal(out[2].share_mcores, VS_MAX_CPUS * 1000 - 3000);
	assert_false(res.reservations_overcommitted);

	/* A one-core enclave split 64 ways. */
	for (i = 0; i < VS_MAX_VMS; i++)
		in[i] = vm(10, 0, 0, BUSY);
	res = compute_ok(in, out, 64, 1);
	assert_int_equal(res.total_mcores_given, 1000);
	for (i = 0; i < 64; i++) /* 1000 / 64 = 15.625: 40 get 16, 24 get 15 */
		assert_int_equal(out[i].share_mcores, i < 40 ? 16 : 15);
	/* VS_MAX_VMS VMs are fine: 1000 / 4096 = 0.244, the first 1000 get 1. */
	res = compute_ok(in, out, VS_MAX_VMS, 1);
	assert_int_equal(res.total_mcores_given, 1000);
	for (i = 0; i < VS_MAX_VMS; i++)
		assert_int_equal(out[i].share_mcores, i < 1000 ? 1 : 0);
}

static void test_null_err_and_res_allowed(void **state)
{
	struct share_vm_in in[] = {vm(1, 0, 0, BUSY), vm(0, 0, 0, BUSY)};
	struct share_vm_out out[2];

	assert_int_equal(share_compute(in, out, 1, 2, NULL, NULL, 0), 0);
	assert_int_equal(out[0].share_mcores, 2000);
	assert_int_equal(share_compute(in, out, 2, 2, NULL, NULL, 0), -1);
}

static void test_demand_cores(void **state)
{
	assert_int_equal(share_demand_cores(0, 2), 0);
	assert_int_equal(share_demand_cores(1, 2), 1);
	assert_int_equal(share_demand_cores(2, 2), 1);
	assert_int_equal(share_demand_cores(3, 2), 2);
	assert_int_equal(share_demand_cores(5, 1), 5);
	assert_int_equal(share_demand_cores(7, 4), 2);
	assert_int_equal(share_demand_cores(8, 4), 2);
	assert_int_equal(share_demand_cores(3, 0), 3);
	assert_int_equal(share_demand_cores(UINT32_MAX, 2), 1U << 31);
}

static void test_core_slice(void **state)
{
	const uint64_t ms = 1000000;

	/* Nobody waits: the longest slice. */
	assert_int_equal(share_core_slice_ns(0, 4, 20 * ms, ms, 50 * ms), 50 * ms);
	assert_int_equal(share_core_slice_ns(1, 4, 20 * ms, ms, 50 * ms), 50 * ms);
	/* 8 VMs on 4 cores, 20 ms target: 10 ms each. */
	assert_int_equal(share_core_slice_ns(8, 4, 20 * ms, ms, 50 * ms), 10 * ms);
	/* 3 VMs on 1 core: 20 / 3 ms. */
	assert_int_equal(share_core_slice_ns(3, 1, 20 * ms, ms, 50 * ms), 20 * ms / 3);
	/* Many VMs: clamped to the minimum. */
	assert_int_equal(share_core_slice_ns(64, 1, 20 * ms, ms, 50 * ms), ms);
	/* Fewer VMs than cores: clamped to the maximum. */
	assert_int_equal(share_core_slice_ns(2, 16, 20 * ms, ms, 50 * ms), 50 * ms);
	/* min > max: max wins. */
	assert_int_equal(share_core_slice_ns(8, 4, 20 * ms, 30 * ms, 5 * ms), 5 * ms);
	/* No overflow with a huge target; nr_cores 0 counts as 1. */
	assert_int_equal(share_core_slice_ns(2, 256, UINT64_MAX / 2, ms, 50 * ms), 50 * ms);
	assert_int_equal(share_core_slice_ns(2, 0, 20 * ms, ms, 50 * ms), 10 * ms);
}

static void test_effective_weight_rule(void **state)
{
	assert_int_equal(share_effective_weight(1234, 7, 4, 100), 1234);
	/* No share: its plain weighted part, 25 of 100 weight on 4 cores. */
	assert_int_equal(share_effective_weight(0, 25, 4, 100), 1000);
	/* Never 0 (BPF divides by it). */
	assert_int_equal(share_effective_weight(0, 1, 1, 64 * 10000), 1);
	assert_int_equal(share_effective_weight(0, 1, 1, 0), 1000);
}

/*
 * Simulate the BPF rule: each tick every core goes to the VM with the lowest
 * vtime that can still use another core this tick (ties to the lower index),
 * which is charged tick * SCALE / effective_weight. Core time should then
 * split like the shares.
 */
#define SIM_SCALE 1024ULL
static void simulate(const struct share_vm_in *in, int n, unsigned int cores)
{
	struct share_vm_out out[8];
	uint64_t vtime[8] = {0}, ran[8] = {0};
	const uint64_t tick = 100000, ticks = 20000;
	uint64_t t;
	unsigned int c;
	int i;

	compute_ok(in, out, n, cores);
	for (t = 0; t < ticks; t++) {
		unsigned int used[8] = {0};

		for (c = 0; c < cores; c++) {
			int best = -1;

			for (i = 0; i < n; i++) {
				if (used[i] * 1000 >= in[i].demand_mcores)
					continue;
				if (best < 0 || vtime[i] < vtime[best])
					best = i;
			}
			if (best < 0)
				break;
			used[best]++;
			ran[best] += tick;
			vtime[best] += tick * SIM_SCALE / out[best].effective_weight;
		}
	}
	for (i = 0; i < n; i++) {
		/* Core time in mcores, against the share: within 0.5% of the enclave. */
		double got = (double)ran[i] * 1000 / (double)(tick * ticks);
		double d = got - out[i].share_mcores;

		if (d > cores * 5.0 || d < -(cores * 5.0))
			fail_msg("VM %d: ran %.1f mcores under the vtime rule, share %u", i, got,
				 out[i].share_mcores);
	}
}

static void test_effective_weight_matches_shares_under_vtime(void **state)
{
	struct share_vm_in plain[] = {vm(1, 0, 0, BUSY), vm(2, 0, 0, BUSY), vm(4, 0, 0, BUSY)};
	struct share_vm_in capped[] = {vm(4, 0, 1, 4000), vm(1, 0, 0, 4000)};
	struct share_vm_in reserved[] = {vm(1, 2, 0, 4000), vm(100, 0, 0, 4000)};
	struct share_vm_in low_demand[] = {vm(10, 0, 0, 1000), vm(1, 0, 0, 8000),
					   vm(1, 0, 0, 8000)};

	simulate(plain, 3, 7);
	simulate(capped, 2, 4);
	simulate(reserved, 2, 4);
	simulate(low_demand, 3, 4);
}

/* Randomized invariants, against a floating-point water-filling oracle. */
static uint64_t rng_state = 0x5eed5eedULL;

static uint64_t rnd(void)
{
	return xorshift64_next(&rng_state);
}

static unsigned int rnd_range(unsigned int lo, unsigned int hi)
{
	return lo + (unsigned int)(rnd() % (hi - lo + 1));
}

static void oracle(const double *lo, const double *hi, const unsigned int *w, int n, double cap,
		   double *s)
{
	double sum_hi = 0, a = 0, b = 0, l;
	int i, it;

	for (i = 0; i < n; i++) {
		sum_hi += hi[i];
		if (hi[i] / w[i] > b)
			b = hi[i] / w[i];
	}
	if (sum_hi <= cap) {
		for (i = 0; i < n; i++)
			s[i] = hi[i];
		return;
	}
	for (it = 0; it < 200; it++) {
		double sum = 0;

		l = (a + b) / 2;
		for (i = 0; i < n; i++) {
			double v = w[i] * l;

			sum += v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;
		}
		if (sum > cap)
			b = l;
		else
			a = l;
	}
	for (i = 0; i < n; i++) {
		double v = w[i] * a;

		s[i] = v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;
	}
}

static void check_random_case(int iter)
{
	struct share_vm_in in[VS_MAX_VMS];
	struct share_vm_out out[VS_MAX_VMS], out2[VS_MAX_VMS];
	struct share_result res;
	uint64_t lo[VS_MAX_VMS], hi[VS_MAX_VMS], sum_lo = 0, sum_hi = 0, sum = 0, sum_w = 0, cm,
						 expect;
	double dlo[VS_MAX_VMS], dhi[VS_MAX_VMS], ref[VS_MAX_VMS];
	unsigned int w[VS_MAX_VMS], cores;
	bool over;
	int n, i, j;

	n = rnd() % 4 == 0 ? (int)rnd_range(1, VS_MAX_VMS) : (int)rnd_range(1, 8);
	cores = rnd() % 8 == 0 ? rnd_range(1, VS_MAX_CPUS) : rnd_range(1, 16);
	cm = cores * 1000ULL;
	for (i = 0; i < n; i++) {
		struct share_vm_in *v = &in[i];

		v->weight = rnd() % 3 == 0 ? rnd_range(1, 4) * 100 : rnd_range(1, 10000);
		v->reserve_cores = rnd() % 3 == 0 ? rnd_range(1, cores / 2 + 1) : 0;
		v->cap_cores = rnd() % 3 == 0
				   ? rnd_range(v->reserve_cores ? v->reserve_cores : 1, cores + 2)
				   : 0;
		switch (rnd() % 4) {
		case 0:
			v->demand_mcores = 0;
			break;
		case 1:
			v->demand_mcores = rnd_range(0, cores * 1500);
			break;
		case 2:
			v->demand_mcores = share_demand_cores(rnd_range(0, 64), 2) * 1000;
			break;
		default:
			v->demand_mcores = BUSY;
		}
		hi[i] = v->demand_mcores < cm ? v->demand_mcores : cm;
		if (v->cap_cores && v->cap_cores * 1000ULL < hi[i])
			hi[i] = v->cap_cores * 1000ULL;
		lo[i] = v->reserve_cores * 1000ULL < hi[i] ? v->reserve_cores * 1000ULL : hi[i];
		w[i] = v->weight;
		sum_lo += lo[i];
		sum_hi += hi[i];
		sum_w += w[i];
	}
	over = sum_lo > cm;

	err[0] = '\0';
	if (share_compute(in, out, n, cores, &res, err, sizeof(err)))
		fail_msg("case %d: share_compute failed: %s", iter, err);
	assert_int_equal(share_compute(in, out2, n, cores, NULL, NULL, 0), 0);
	assert_memory_equal(out, out2, n * sizeof(out[0])); /* deterministic */

	for (i = 0; i < n; i++) {
		sum += out[i].share_mcores;
		if (out[i].share_mcores > hi[i])
			fail_msg("case %d VM %d: share %u above min(demand, cap) %llu", iter, i,
				 out[i].share_mcores, (unsigned long long)hi[i]);
		if (!over && out[i].share_mcores < lo[i])
			fail_msg("case %d VM %d: share %u below reservation %llu", iter, i,
				 out[i].share_mcores, (unsigned long long)lo[i]);
		if (over && out[i].share_mcores > lo[i])
			fail_msg(
			    "case %d VM %d: share %u above reservation %llu when overcommitted",
			    iter, i, out[i].share_mcores, (unsigned long long)lo[i]);
		/* The BPF weight: the share, or the plain weighted part when it is 0. */
		assert_int_equal(out[i].effective_weight,
				 out[i].share_mcores
				     ? out[i].share_mcores
				     : share_effective_weight(0, w[i], cores, sum_w));
		assert_true(out[i].effective_weight >= 1);
	}
	/* Work-conserving, exactly. */
	expect = over ? cm : (sum_hi < cm ? sum_hi : cm);
	assert_int_equal(sum, expect);
	assert_int_equal(res.total_mcores_given, sum);
	assert_int_equal(res.total_want_mcores, sum_hi);
	assert_int_equal(res.reservations_overcommitted, over);

	/*
	 * Water-filling: a VM that wants more (below its limit) never has a lower
	 * share per weight than a VM above its floor, to within rounding. For two
	 * VMs strictly between floor and limit this is proportionality to weight.
	 */
	for (i = 0; i < n; i++) {
		uint64_t si = out[i].share_mcores, ilim = over ? lo[i] : hi[i];
		uint64_t ifloor = over ? 0 : lo[i];

		if (si >= ilim)
			continue;
		for (j = 0; j < n; j++) {
			uint64_t sj = out[j].share_mcores, jfloor = over ? 0 : lo[j];
			uint64_t jlim = over ? lo[j] : hi[j];

			if (sj <= jfloor || i == j)
				continue;
			if ((sj - 1) * w[i] >= (si + 1) * w[j])
				fail_msg(
				    "case %d: VM %d (share %llu weight %u, wants %llu) vs VM %d "
				    "(share %llu weight %u)",
				    iter, i, (unsigned long long)si, w[i], (unsigned long long)ilim,
				    j, (unsigned long long)sj, w[j]);
			if (si > ifloor && sj < jlim) {
				int64_t d = (int64_t)(si * w[j]) - (int64_t)(sj * w[i]);

				if (d >= (int64_t)(w[i] + w[j]) || -d >= (int64_t)(w[i] + w[j]))
					fail_msg(
					    "case %d: VMs %d and %d not proportional to weight",
					    iter, i, j);
			}
		}
	}

	/* Within 1 mcore of the real-valued answer. */
	for (i = 0; i < n; i++) {
		dlo[i] = over ? 0 : (double)lo[i];
		dhi[i] = over ? (double)lo[i] : (double)hi[i];
	}
	oracle(dlo, dhi, w, n, (double)cm, ref);
	for (i = 0; i < n; i++) {
		double d = out[i].share_mcores - ref[i];

		if (d > 1.0 + 1e-6 || d < -1.0 - 1e-6)
			fail_msg("case %d VM %d: share %u, real-valued %.3f", iter, i,
				 out[i].share_mcores, ref[i]);
	}
}

static void test_random_invariants(void **state)
{
	int iter;

	rng_state = 0x5eed5eedULL;
	for (iter = 0; iter < 5000; iter++)
		check_random_case(iter);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_weights_on_busy_cores),
	    cmocka_unit_test(test_weights_with_rounding),
	    cmocka_unit_test(test_rounding_is_largest_remainder),
	    cmocka_unit_test(test_low_demand_gives_excess_away),
	    cmocka_unit_test(test_caps_respected_and_excess_redistributed),
	    cmocka_unit_test(test_reservations_honoured),
	    cmocka_unit_test(test_reservations_overcommitted),
	    cmocka_unit_test(test_zero_demand_gets_nothing),
	    cmocka_unit_test(test_demand_below_capacity_all_get_demand),
	    cmocka_unit_test(test_no_vms),
	    cmocka_unit_test(test_invalid_inputs),
	    cmocka_unit_test(test_boundary_inputs_accepted),
	    cmocka_unit_test(test_null_err_and_res_allowed),
	    cmocka_unit_test(test_demand_cores),
	    cmocka_unit_test(test_core_slice),
	    cmocka_unit_test(test_effective_weight_rule),
	    cmocka_unit_test(test_effective_weight_matches_shares_under_vtime),
	    cmocka_unit_test(test_random_invariants),
	};

	return cmocka_run_group_tests_name("share", tests, NULL, NULL);
}
