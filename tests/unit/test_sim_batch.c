/*
 * Unit tests: the batch-pairing baseline in the simulator
 * (vmm-sched/sim/sim_policy_batch.c, policy (b) of make bench): 20 ms
 * batches, pairing kept, a batch holding its core while its VM runs on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>

#include "vmm-sched/sim/sim.h"
#include "vmm-sched/sim/sim_policy.h"
#include "tests/lib/sim_checks.h"

#define SECS 4

static void run(struct sim *s, const char *text, uint32_t cpus, uint64_t seed)
{
	struct sim_params p;

	sim_params_bench(&p, cpus, SECS * 1000, seed);
	p.policy = &sim_policy_batch;
	p.check_every_event = true;
	sim_run_workload(s, text, &p);
}

/*
 * Two busy 1-vCPU VMs on one core take it in turn for 20 ms batches: each
 * gets half the core, the other thread idles while the other VM waits.
 */
static void one_vcpu_vms_take_turns_in_batches(void **state)
{
	struct sim s;
	unsigned int i;

	(void)state;
	run(&s, "[vm one]\ncount = 2\nvcpus = 1\n", 2, 1);
	for (i = 0; i < 2; i++) {
		double share = (double)s.vms[i].m.run_ns / (SECS * 1000.0 * SIM_MS);

		print_message("VM %u: %.3f of the time, %llu batches\n", i, share,
			      (unsigned long long)s.vms[i].m.owner_changes);
		assert_true(share > 0.48 && share < 0.52);
		/* 4 s of 20 ms batches, two VMs: ~100 each */
		assert_true(s.vms[i].m.owner_changes >= 90 && s.vms[i].m.owner_changes <= 101);
	}
	/* One of the two threads idles all the time, while the other VM waits. */
	assert_true(s.t.forced_idle_ns > 0.98 * SECS * 1000 * SIM_MS);
	assert_int_equal(s.t.owner_mismatches, 0);
	sim_free(&s);
}

/* A 2-vCPU VM alone keeps its core: both threads busy, nothing forced idle. */
static void a_vm_alone_runs_on_both_threads(void **state)
{
	struct sim s;

	(void)state;
	run(&s, "[vm two]\nvcpus = 2\n", 2, 1);
	assert_true(s.vms[0].m.run_ns > 0.99 * 2 * SECS * 1000 * SIM_MS);
	assert_int_equal(s.t.forced_idle_ns, 0);
	sim_free(&s);
}

/* The benchmark's 4x mix: pairing holds, every VM runs, none waits past a few batches per VM. */
static void the_4x_mix_keeps_pairing_and_serves_every_vm(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 3; seed++) {
		struct sim s;
		unsigned int i;

		run(&s,
		    "[vm busy]\ncount = 5\nvcpus = 2\n"
		    "[vm latency]\ncount = 3\nvcpus = 2\nmodel = duty\ndist = fixed\nrun_us = 200\n"
		    "block_us = 800\n"
		    "[vm lock]\ncount = 2\nvcpus = 2\nmodel = lock\nhold_us = 40\nfree_us = 160\n"
		    "[vm single]\ncount = 4\nvcpus = 1\n",
		    6, seed);
		for (i = 0; i < s.nr_vms; i++) {
			assert_true(s.vms[i].m.run_ns > 0);
			/* 14 VMs round robin over 3 cores: a turn comes within 5 rounds of 20 ms */
			assert_true(s.vms[i].m.max_starve_ns < 14 * 20 * SIM_MS / 3 * 5);
		}
		sim_free(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(one_vcpu_vms_take_turns_in_batches),
	    cmocka_unit_test(a_vm_alone_runs_on_both_threads),
	    cmocka_unit_test(the_4x_mix_keeps_pairing_and_serves_every_vm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
