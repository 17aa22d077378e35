/*
 * Unit tests of the fair-share reference (vmm-sched/sim/sim_fair_ref.h):
 * the weighted water-filling on hand-computed states (equal and unequal
 * weights, demands below the level, all demand fitting), against a per-VM
 * water-filling on random states, its integral over time, the worked
 * example of docs/simulator.md through the functions and a run, and a run at
 * 2x overcommit where the lower bound is about 0 and the reference is not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/xorshift.h"
#include "vmm-sched/sim/sim.h"
#include "tests/lib/sim_checks.h"
#include "vmm-sched/sim/sim_report.h"

#define MS     SIM_MS
#define EPS    1e-6
#define MAX_VM 32

/* A state of @n VMs, VM i alone in group i with weight @w[i] and @r[i] runnable vCPUs. */
static void state_of(struct sim_fair_ref *f, uint32_t cores, uint32_t tpc, const uint32_t *w,
		     const uint32_t *r, uint32_t n)
{
	uint32_t i;

	assert_int_equal(sim_fair_ref_init(f, cores, tpc, n, w, r), 0);
	for (i = 0; i < n; i++)
		sim_fair_ref_change(f, i, 0, r[i]);
}

static void water_fill_equal_weights(void **state)
{
	struct sim_fair_ref f;

	(void)state;
	/* 2 cores of 2: demands 2, 1, 1 cores; the level gives each 2/3 of a core. */
	state_of(&f, 2, 2, (uint32_t[]){100, 100, 100}, (uint32_t[]){4, 1, 1}, 3);
	assert_float_equal(sim_fair_ref_share(&f, 4, 100), 2.0 / 3, EPS);
	assert_float_equal(sim_fair_ref_share(&f, 1, 100), 2.0 / 3, EPS);
	/* The two 1-vCPU VMs idle one thread each over their 2/3 core. */
	assert_float_equal(sim_fair_ref_idle_now(&f), 4.0 / 3, EPS);
	sim_fair_ref_free(&f);
	/* 4 threads a core, 2 cores: 3, 2 and 1 vCPUs each demand a core, get 2/3. */
	state_of(&f, 2, 4, (uint32_t[]){100, 100, 100}, (uint32_t[]){3, 2, 1}, 3);
	assert_float_equal(sim_fair_ref_idle_now(&f), (1 + 2 + 3) * 2.0 / 3, EPS);
	sim_fair_ref_free(&f);
}

static void water_fill_unequal_weights(void **state)
{
	struct sim_fair_ref f;

	(void)state;
	/* 2 cores of 2: weight 200 demanding 2 cores gets 1, the two of weight 100 half each. */
	state_of(&f, 2, 2, (uint32_t[]){200, 100, 100}, (uint32_t[]){4, 1, 1}, 3);
	assert_float_equal(sim_fair_ref_share(&f, 4, 200), 1.0, EPS);
	assert_float_equal(sim_fair_ref_share(&f, 1, 100), 0.5, EPS);
	assert_float_equal(sim_fair_ref_idle_now(&f), 1.0, EPS);
	sim_fair_ref_free(&f);
	/*
	 * 3 and 1 vCPUs, weights 3:1: 1.5 cores and 0.5. The 3-vCPU VM is taken to
	 * rotate over its 1.5 cores with no thread idle, so FR (0.5) is below LB (1)
	 * here (docs/simulator.md); with equal weights both are 1.
	 */
	state_of(&f, 2, 2, (uint32_t[]){300, 100}, (uint32_t[]){3, 1}, 2);
	assert_float_equal(sim_fair_ref_share(&f, 3, 300), 1.5, EPS);
	assert_float_equal(sim_fair_ref_idle_now(&f), 0.5, EPS);
	sim_fair_ref_free(&f);
	state_of(&f, 2, 2, (uint32_t[]){100, 100}, (uint32_t[]){3, 1}, 2);
	assert_float_equal(sim_fair_ref_idle_now(&f), 1.0, EPS);
	sim_fair_ref_free(&f);
}

static void demands_below_the_level_are_met(void **state)
{
	struct sim_fair_ref f;

	(void)state;
	/* 4 cores: demands 4, 1, 1; the level 4/3 meets both 1s, the 8-vCPU VM gets 2. */
	state_of(&f, 4, 2, (uint32_t[]){100, 100, 100}, (uint32_t[]){8, 1, 1}, 3);
	assert_float_equal(sim_fair_ref_share(&f, 1, 100), 1.0, EPS);
	assert_float_equal(sim_fair_ref_share(&f, 8, 100), 2.0, EPS);
	assert_float_equal(sim_fair_ref_idle_now(&f), 2.0, EPS);
	sim_fair_ref_free(&f);
	/* Weight 300 for the 1-vCPU VM: its 3 cores' worth is more than its demand of 1. */
	state_of(&f, 4, 2, (uint32_t[]){100, 300}, (uint32_t[]){8, 1}, 2);
	assert_float_equal(sim_fair_ref_share(&f, 1, 300), 1.0, EPS);
	assert_float_equal(sim_fair_ref_share(&f, 8, 100), 3.0, EPS);
	assert_float_equal(sim_fair_ref_idle_now(&f), 1.0, EPS);
	sim_fair_ref_free(&f);
}

static void all_demand_fitting_forces_nothing(void **state)
{
	struct sim_fair_ref f;

	(void)state;
	/* 2 cores: 2 + 1 vCPUs demand 1 + 1 cores: both met, a thread idles, nobody waits. */
	state_of(&f, 2, 2, (uint32_t[]){100, 100}, (uint32_t[]){2, 1}, 2);
	assert_float_equal(sim_fair_ref_share(&f, 1, 100), 1.0, EPS);
	assert_float_equal(sim_fair_ref_idle_now(&f), 0.0, EPS);
	sim_fair_ref_free(&f);
	/* Nothing runnable. */
	state_of(&f, 2, 2, (uint32_t[]){100}, (uint32_t[]){0}, 1);
	assert_float_equal(sim_fair_ref_idle_now(&f), 0.0, EPS);
	sim_fair_ref_free(&f);
}

/* docs/simulator.md: one core of 2, a busy 2-vCPU and a busy 1-vCPU VM, equal weights. */
static void worked_example(void **state)
{
	struct sim_fair_ref f;
	struct sim_bound b;

	(void)state;
	state_of(&f, 1, 2, (uint32_t[]){100, 100}, (uint32_t[]){2, 1}, 2);
	assert_float_equal(sim_fair_ref_share(&f, 2, 100), 0.5, EPS);
	assert_float_equal(sim_fair_ref_share(&f, 1, 100), 0.5, EPS);
	assert_float_equal(sim_fair_ref_idle_now(&f), 0.5, EPS);
	sim_fair_ref_free(&f);
	/* The lower bound: the 2-vCPU VM alone fills the core. */
	sim_bound_init(&b, 1, 2);
	sim_bound_change(&b, 0, 2);
	sim_bound_change(&b, 0, 1);
	assert_int_equal(sim_bound_idle_now(&b), 0);
}

/* Classes move as runnable counts change; the rate is recomputed only when needed. */
static void integrates_over_time(void **state)
{
	struct sim_fair_ref f;

	(void)state;
	/* One group of weight 100 and up to 2 vCPUs; one core of 2. */
	assert_int_equal(sim_fair_ref_init(&f, 1, 2, 1, (uint32_t[]){100}, (uint32_t[]){2}), 0);
	sim_fair_ref_change(&f, 0, 0, 1);
	sim_fair_ref_advance(&f, 10 * MS); /* one VM alone: nothing forced */
	sim_fair_ref_change(&f, 0, 0, 1);
	sim_fair_ref_advance(&f, 30 * MS); /* 1 + 1: half a core each, 1 thread for 20 ms */
	sim_fair_ref_change(&f, 0, 1, 2);
	sim_fair_ref_advance(&f, 50 * MS); /* 2 + 1: half a thread for 20 ms */
	sim_fair_ref_change(&f, 0, 2, 0);
	sim_fair_ref_advance(&f, 60 * MS); /* 1 alone again */
	assert_int_equal(f.fr_ns, 30 * MS);
	sim_fair_ref_free(&f);
}

/* x_v by raising the level VM by VM, without classes: the reference the classes are held to. */
static double idle_per_vm(uint32_t cores, uint32_t tpc, const uint32_t *w, const uint32_t *r,
			  uint32_t n)
{
	double d[MAX_VM], x[MAX_VM], left = cores, sum = 0, idle = 0;
	bool met[MAX_VM];
	uint32_t i;

	for (i = 0; i < n; i++) {
		d[i] = !r[i] ? 0 : r[i] < tpc ? 1 : (double)r[i] / tpc;
		met[i] = !r[i];
		x[i] = 0;
		sum += d[i];
	}
	if (sum <= cores)
		return 0;
	for (;;) {
		double weight = 0, level;
		bool changed = false;

		for (i = 0; i < n; i++)
			weight += met[i] ? 0 : w[i];
		level = left / weight;
		for (i = 0; i < n; i++)
			if (!met[i] && d[i] <= w[i] * level) {
				met[i] = changed = true;
				x[i] = d[i];
				left -= d[i];
			}
		if (changed)
			continue;
		for (i = 0; i < n; i++)
			if (!met[i])
				x[i] = w[i] * level;
		break;
	}
	for (i = 0; i < n; i++)
		if (r[i] && r[i] < tpc)
			idle += (tpc - r[i]) * x[i];
	return idle;
}

/* Random states, VMs in a few groups of one weight: classes and the per-VM filling agree. */
static void classes_agree_with_per_vm_filling(void **state)
{
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	int run;

	(void)state;
	for (run = 0; run < 2000; run++) {
		uint32_t cores = 1 + xorshift64_next(&rng) % 8, tpc = 1 + xorshift64_next(&rng) % 4;
		uint32_t groups = 1 + xorshift64_next(&rng) % 4, n = 1 + xorshift64_next(&rng) % 20;
		uint32_t gw[4], gmax[4], w[MAX_VM], r[MAX_VM], i;
		struct sim_fair_ref f;

		for (i = 0; i < groups; i++) {
			gw[i] = 1 + xorshift64_next(&rng) % 3 * 150; /* ties on purpose */
			gmax[i] = 1 + xorshift64_next(&rng) % 6;
		}
		assert_int_equal(sim_fair_ref_init(&f, cores, tpc, groups, gw, gmax), 0);
		for (i = 0; i < n; i++) {
			uint32_t g = xorshift64_next(&rng) % groups;

			w[i] = gw[g];
			r[i] = xorshift64_next(&rng) % (gmax[g] + 1);
			/* Through an intermediate count, so classes are left as well as entered. */
			sim_fair_ref_change(&f, g, 0, gmax[g]);
			sim_fair_ref_change(&f, g, gmax[g], r[i]);
		}
		assert_float_equal(sim_fair_ref_idle_now(&f), idle_per_vm(cores, tpc, w, r, n),
				   1e-4);
		sim_fair_ref_free(&f);
	}
}

static void run(struct sim *s, const char *text, unsigned int cpus, uint64_t ms)
{
	struct sim_params p;

	sim_params_default(&p);
	p.cpus = cpus;
	p.threads_per_core = 2;
	p.duration_ns = ms * MS;
	p.seed = 1;
	sim_run_workload(s, text, &p);
}

/* The worked example as a run: every vCPU wakes within the first millisecond. */
static void worked_example_run(void **state)
{
	static struct sim s;

	(void)state;
	run(&s, "[vm pair]\nvcpus = 2\n[vm single]\nvcpus = 1\n", 2, 1000);
	assert_in_range(s.fair_ref.fr_ns, 499 * MS, 500 * MS);
	assert_in_range(s.bound.lb_ns, 0, 1 * MS);
	sim_free(&s);
}

/* The new fields: after the bound's (in the CSV, before the hints' columns). */
static void reported_beside_the_bound(void **state)
{
	static struct sim s;
	char *buf = NULL, expect[128];
	size_t len = 0;
	FILE *f;

	(void)state;
	run(&s, "[vm pair]\nvcpus = 2\n[vm single]\nvcpus = 1\n", 2, 100);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	sim_report_summary(&s, f, 0);
	sim_report_csv(&s, f);
	fclose(f);
	snprintf(expect, sizeof(expect), " fair_ref_ms=%.3f ratio_fair=%.3f ",
		 s.fair_ref.fr_ns / 1e6, sim_fair_ref_ratio(&s));
	assert_non_null(strstr(buf, expect));
	assert_true(strstr(buf, " ratio=") < strstr(buf, expect));
	assert_true(strstr(expect, "fair_ref_ms=49."));
	assert_non_null(strstr(buf, ",lower_bound_ms,forced_idle_over_bound,fair_ref_ms,"));
	snprintf(expect, sizeof(expect), ",%.3f,", s.fair_ref.fr_ns / 1e6);
	assert_non_null(strstr(strstr(buf, "\nall,"), expect));
	free(buf);
	sim_free(&s);
}

/*
 * 2x on 3 cores of 2: four busy 2-vCPU VMs and four busy 1-vCPU VMs. The
 * pairs can fill every core (LB about 0); fairly, each VM gets 3/8 of a core
 * and the singles idle a thread over theirs: 1.5 threads, 25% of the host.
 */
static void fair_ref_above_bound_at_2x(void **state)
{
	static struct sim s;

	(void)state;
	run(&s, "[vm pair]\ncount = 4\nvcpus = 2\n[vm single]\ncount = 4\nvcpus = 1\n", 6, 1000);
	assert_in_range(s.fair_ref.fr_ns, 1497 * MS, 1503 * MS);
	assert_in_range(s.bound.lb_ns, 0, 3 * MS);
	assert_true(sim_fair_ref_ratio(&s) > 0);
	sim_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(water_fill_equal_weights),
	    cmocka_unit_test(water_fill_unequal_weights),
	    cmocka_unit_test(demands_below_the_level_are_met),
	    cmocka_unit_test(all_demand_fitting_forces_nothing),
	    cmocka_unit_test(worked_example),
	    cmocka_unit_test(integrates_over_time),
	    cmocka_unit_test(classes_agree_with_per_vm_filling),
	    cmocka_unit_test(worked_example_run),
	    cmocka_unit_test(reported_beside_the_bound),
	    cmocka_unit_test(fair_ref_above_bound_at_2x),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
