/*
 * Property tests of the agent policy in the simulator (vmm-sched-sim
 * --policy agent: the core planner commits each epoch through
 * vs_txn_decide, BPF's rules decide wherever no commit is live), one random
 * host and workload per seed:
 *   - pairing is never violated (checked on every core after every event),
 *     no vCPU starts on a core its VM does not own, caps hold within BPF's
 *     documented overshoot of one core, forced idle is never below its bound;
 *   - no VM that has run waits past the starvation guard plus two slices and
 *     ticks (as for the BPF rules) plus one epoch and the agent's delay;
 *   - with every VM busy (2 or 4 vCPUs, 4-8 SMT cores, 2 s), no VM owns
 *     cores for more than SHARE_SHORT_PCT less than its planned share (the
 *     worst seen is about 30% short since running vCPUs are charged as they
 *     run, 19% before: handovers leave cores briefly without an owner, and
 *     the fallback's handovers come more often; an open gap); owning more is not bounded: a VM that
 * cannot use its share (an undercommitted host) leaves cores to others;
 *   - the same seed gives the same CSV.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/rules/owed_scan.h"
#include "tests/lib/sim_checks.h"
#include "tests/lib/xorshift.h"
#include "vmm-sched/sim/sim.h"
#include "vmm-sched/sim/sim_policy.h"
#include "vmm-sched/sim/sim_report.h"

#define MS		SIM_MS
#define SHARE_SHORT_PCT 10.0

static uint64_t rng_state;

static uint64_t below(uint64_t n)
{
	return xorshift64_next(&rng_state) % n;
}

/*
 * A random host (2-16 CPUs, SMT or not, 1-2 nodes), 1-6 kinds of VM of
 * every model (@all_busy: busy VMs of 2 or 4 vCPUs, no caps, 8-16 CPUs with
 * SMT), weights 1-1,000, caps on
 * some, an epoch of 1-20 ms and an agent delay of 0-500 us.
 */
static void random_world(struct sim_params *p, struct sim_workload *w, uint64_t seed, bool all_busy)
{
	static const unsigned int cpus[] = {2, 4, 8, 16};
	unsigned int k, cores;

	rng_state = seed * 0x9e3779b97f4a7c15ULL + 7;
	sim_params_default(p);
	p->policy = &sim_policy_agent;
	p->seed = seed;
	p->cpus = all_busy ? cpus[2 + below(2)] : cpus[below(4)];
	p->threads_per_core = all_busy || below(4) ? 2 : 1;
	cores = p->cpus / p->threads_per_core;
	p->nodes = cores % 2 == 0 && below(2) ? 2 : 1;
	p->epoch_ns = (1 + below(20)) * MS;
	p->agent_delay_ns = below(3) ? below(500) * 1000 : 0;
	p->check_every_event = true;
	memset(w, 0, sizeof(*w));
	w->nr_kinds = 1 + (unsigned int)below(6);
	for (k = 0; k < w->nr_kinds; k++) {
		struct sim_vm_kind *vk = &w->kinds[k];

		snprintf(vk->name, sizeof(vk->name), "k%u", k);
		vk->count = 1 + (unsigned int)below(3);
		vk->vcpus =
		    all_busy ? 2 * (1 + (unsigned int)below(2)) : 1 + (unsigned int)below(4);
		vk->weight = 1 + (unsigned int)below(1000);
		vk->node = p->nodes > 1 && below(2) ? (int)below(p->nodes) : -1;
		vk->model = all_busy ? SIM_BUSY : (enum sim_model)below(4);
		vk->exp_dist = (int)below(2);
		vk->run_ns = (1 + below(5000)) * 1000;
		vk->block_ns = (1 + below(5000)) * 1000;
		vk->hold_ns = (1 + below(500)) * 1000;
		vk->free_ns = (1 + below(2000)) * 1000;
		if (!all_busy && below(5) == 0)
			vk->cap = 1 + (unsigned int)below(2);
	}
}

/* The first safety or starvation property @s breaks, in @why; false if none. */
static bool broken(const struct sim *s, char *why, size_t len)
{
	uint64_t starve = VS_STARVED_NS + 2 * (s->p.vcpu_slice_ns + s->p.tick_ns) + s->p.epoch_ns +
			  s->p.agent_delay_ns;

	return sim_safety_broken(s, why, len) || sim_starved_past(s, starve, why, len);
}

static void run_seeds(uint64_t first, uint64_t n, uint64_t ms)
{
	static struct sim s;
	struct sim_workload w;
	struct sim_params p;
	char why[256];
	uint64_t seed;
	bool bad;

	for (seed = first; seed < first + n; seed++) {
		random_world(&p, &w, seed, false);
		p.duration_ns = ms * MS;
		if (sim_init(&s, &p, &w, why, sizeof(why)))
			fail_msg("seed %llu: %s", (unsigned long long)seed, why);
		assert_int_equal(sim_run(&s), 0);
		bad = broken(&s, why, sizeof(why));
		sim_free(&s);
		if (bad)
			fail_msg("seed %llu: %s", (unsigned long long)seed, why);
	}
}

static void short_runs_keep_every_property(void **state)
{
	(void)state;
	run_seeds(1, 300, 200);
}

static void long_runs_never_starve_past_the_guard(void **state)
{
	(void)state;
	run_seeds(50000, 8, 6000); /* past VS_STARVED_NS */
}

/* Busy VMs only: each VM owns cores for about its planned share, or more. */
static void busy_vms_get_their_shares(void **state)
{
	static struct sim s;
	struct sim_workload w;
	struct sim_params p;
	char err[256];
	uint64_t seed;
	double worst = 0;

	(void)state;
	for (seed = 1; seed <= 200; seed++) {
		uint32_t i;

		random_world(&p, &w, seed, true);
		p.duration_ns = 2000 * MS;
		p.check_every_event = false;
		assert_int_equal(sim_init(&s, &p, &w, err, sizeof(err)), 0);
		assert_int_equal(sim_run(&s), 0);
		assert_int_equal(s.t.overlaps, 0);
		for (i = 0; i < s.nr_vms; i++) {
			double e = sim_fairness_err_pct(&s, i);

			if (e < worst)
				worst = e;
			if (e < -SHARE_SHORT_PCT)
				fail_msg("seed %llu: VM %u owned %.1f%% less than its share "
					 "(tolerance %.0f%%)",
					 (unsigned long long)seed, i, -e, SHARE_SHORT_PCT);
		}
		sim_free(&s);
	}
	print_message("least owned against share over 200 busy hosts: %.1f%%\n", worst);
}

static char *csv_of_seed(uint64_t seed)
{
	static struct sim s;
	struct sim_workload w;
	struct sim_params p;
	char err[256];

	random_world(&p, &w, seed, false);
	p.duration_ns = 300 * MS;
	p.check_every_event = false;
	assert_int_equal(sim_init(&s, &p, &w, err, sizeof(err)), 0);
	assert_int_equal(sim_run(&s), 0);
	return sim_csv_then_free(&s);
}

static void same_seed_same_csv(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 900; seed < 950; seed++) {
		char *a = csv_of_seed(seed), *b = csv_of_seed(seed);

		if (strcmp(a, b))
			fail_msg("seed %llu: two runs differ", (unsigned long long)seed);
		free(a);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(short_runs_keep_every_property),
	    cmocka_unit_test(long_runs_never_starve_past_the_guard),
	    cmocka_unit_test(busy_vms_get_their_shares),
	    cmocka_unit_test(same_seed_same_csv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
