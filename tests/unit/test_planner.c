/* Over 400 lines: one hand-built enclave per planner rule. */
/*
 * Unit tests: the agent's core planner (vmm-sched/lib/planner.c) on
 * hand-built enclaves.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "planner.h"
#include "tests/lib/planner_fixture.h"

static struct fixture fx;

/* Cores of the plan owned by @id. */
static unsigned int cores_of(const struct fixture *f, int id)
{
	unsigned int i, n = 0;

	for (i = 0; i < f->view.nr_cores; i++)
		n += fx_owner(f, i) == id;
	return n;
}

static void test_packs_two_vcpus_into_one_core(void **state)
{
	fx_init(&fx, 2);
	fx_vm(&fx, 1, 2000, 2);
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx_owner(&fx, 0), 1);
	assert_int_equal(fx_slot(&fx, 0, 0), 8);
	assert_int_equal(fx_slot(&fx, 0, 1), 9);
	assert_int_equal(fx_owner(&fx, 1), PLANNER_NONE); /* not one thread on each core */
	assert_int_equal(fx.plan.cores_given, 1);
	assert_int_equal(fx.plan.idle_siblings, 0);
}

static void test_odd_vcpus_leave_one_sibling_idle(void **state)
{
	fx_init(&fx, 4);
	fx_vm(&fx, 1, 4000, 3);
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(cores_of(&fx, 1), 2);
	assert_int_equal(fx.plan.vcpus_placed, 3);
	assert_int_equal(fx.plan.idle_siblings, 1);
}

static void test_cap_is_never_exceeded(void **state)
{
	fx_init(&fx, 4);
	fx_vm(&fx, 1, 4000, 8)->cap_cores = 2;
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(cores_of(&fx, 1), 2);
	assert_int_equal(fx.plan.vcpus_placed, 4);
}

static void test_reservation_honoured_against_the_most_owed(void **state)
{
	fx_init(&fx, 4);
	fx_vm(&fx, 1, 1000, 8)->reserve_cores = 3;
	fx_vm(&fx, 2, 3000, 8);
	fx.st.vm[2].deficit_ns = 3 * FX_EPOCH; /* VM 2 is owed much more */
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(cores_of(&fx, 1), 3);
	assert_int_equal(cores_of(&fx, 2), 1);
	assert_int_equal(fx.plan.reserved_short, 0);
}

static void test_reservation_limited_by_demand(void **state)
{
	fx_init(&fx, 4);
	fx_vm(&fx, 1, 1000, 2)->reserve_cores = 3; /* wants one core only */
	fx_vm(&fx, 2, 3000, 8);
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(cores_of(&fx, 1), 1);
	assert_int_equal(cores_of(&fx, 2), 3);
}

static void test_never_two_vms_on_one_core(void **state)
{
	unsigned int i;

	fx_init(&fx, 2);
	fx_vm(&fx, 1, 667, 1);
	fx_vm(&fx, 2, 667, 1);
	fx_vm(&fx, 3, 666, 1);
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx.plan.cores_given, 2);
	for (i = 0; i < 2; i++) {
		const struct planner_core_plan *cp = &fx.plan.cores[i];

		assert_int_not_equal(cp->owner, PLANNER_NONE);
		assert_int_not_equal(cp->vcpu[0], PLANNER_NONE);
		assert_int_equal(cp->vcpu[1], PLANNER_NONE); /* idle, not another VM's */
	}
	assert_int_equal(fx.plan.idle_siblings, 2);
}

static void test_numa_home_kept(void **state)
{
	fx_init(&fx, 4);
	fx.cores[2].node = fx.cores[3].node = 1;
	fx_vm(&fx, 1, 1000, 2)->home_node = 1;
	fx_vm(&fx, 2, 1000, 2)->home_node = 0;
	fx.st.vm[1].deficit_ns = FX_EPOCH; /* VM 1 picks first: node 1 must still be its */
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx_owner(&fx, 2), 1);
	assert_int_equal(fx_owner(&fx, 0), 2);
}

static void test_numa_elsewhere_rather_than_wait(void **state)
{
	fx_init(&fx, 2);
	fx.cores[1].node = 1;
	fx_vm(&fx, 1, 2000, 4)->home_node = 1;
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(cores_of(&fx, 1), 2);
}

static void test_most_owed_first(void **state)
{
	fx_init(&fx, 1);
	fx_vm(&fx, 1, 500, 2);
	fx_vm(&fx, 2, 500, 2);
	fx.st.vm[2].deficit_ns = FX_EPOCH / 2;
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx_owner(&fx, 0), 2);
	/* VM 2 was charged the epoch (0.5 + 0.5 - 1): VM 1 (0.5 + 0.5) is owed more now */
	fx_adopt(&fx);
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx_owner(&fx, 0), 1);
	assert_int_equal(fx.plan.owner_changes, 1);
	assert_int_equal(fx.plan.busy_handovers, 1); /* VM 2's vCPUs run there now */
}

static void test_ties_go_to_the_lower_id(void **state)
{
	fx_init(&fx, 1);
	fx_vm(&fx, 5, 500, 2);
	fx_vm(&fx, 3, 500, 2);
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx_owner(&fx, 0), 3);
}

static void test_small_share_runs_within_its_bound(void **state)
{
	/* 1 core: share 900 against 100 milli-cores; VM 2 is owed a core in ~10 epochs */
	unsigned int e, waited = 0, longest = 0, runs2 = 0;

	fx_init(&fx, 1);
	fx_vm(&fx, 1, 900, 2);
	fx_vm(&fx, 2, 100, 2);
	for (e = 0; e < 100; e++) {
		assert_int_equal(fx_plan(&fx), 0);
		if (fx_owner(&fx, 0) == 2) {
			runs2++;
			waited = 0;
		} else if (++waited > longest) {
			longest = waited;
		}
		fx_adopt(&fx);
	}
	assert_in_range(runs2, 9, 11); /* its share: 10% of the epochs */
	assert_in_range(longest, 1, 10);
}

static void test_measured_delivery_charged(void **state)
{
	fx_init(&fx, 1);
	fx_vm(&fx, 1, 1000, 2);
	assert_int_equal(fx_plan(&fx), 0); /* owed 1 epoch, granted the core */
	fx.view.measured = true;
	fx.vms[0].delivered_ns = FX_EPOCH / 4; /* it got a quarter of it */
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx.st.vm[1].deficit_ns, 2 * (int64_t)FX_EPOCH - (int64_t)FX_EPOCH / 4);
}

static void test_idle_host_empty_plan(void **state)
{
	fx_init(&fx, 4);
	fx_vm(&fx, 1, 0, 0);
	fx_vm(&fx, 2, 0, 0);
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx.plan.cores_given, 0);
	assert_int_equal(fx.plan.vcpus_placed, 0);
	assert_int_equal(fx.plan.owner_grants, 0);
}

static void test_idle_vm_banks_no_credit(void **state)
{
	fx_init(&fx, 1);
	fx_vm(&fx, 1, 1000, 0);
	fx.st.vm[1].deficit_ns = 3 * FX_EPOCH; /* owed, then its vCPUs all blocked */
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx.st.vm[1].deficit_ns, 0);
}

static void test_owner_kept_when_nothing_changes(void **state)
{
	unsigned int e;

	fx_init(&fx, 4);
	fx_vm(&fx, 1, 2000, 4);
	fx_vm(&fx, 2, 2000, 4);
	fx.cores[0].owner = fx.cores[3].owner = 2; /* not where a fresh plan puts them */
	fx.cores[1].owner = fx.cores[2].owner = 1;
	for (e = 0; e < 5; e++) {
		assert_int_equal(fx_plan(&fx), 0);
		assert_int_equal(fx_owner(&fx, 0), 2);
		assert_int_equal(fx_owner(&fx, 1), 1);
		assert_int_equal(fx_owner(&fx, 2), 1);
		assert_int_equal(fx_owner(&fx, 3), 2);
		assert_int_equal(fx.plan.owner_changes + fx.plan.owner_grants, 0);
		fx_adopt(&fx);
	}
}

static void test_owner_keeps_the_core_its_vcpu_runs_on(void **state)
{
	fx_init(&fx, 2);
	fx_vm(&fx, 1, 1000, 2);
	fx_vm(&fx, 2, 1000, 2);
	fx.cores[0].owner = fx.cores[1].owner = 1; /* VM 1 must give one up */
	fx.cores[1].running_tid[0] = 1008;
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx_owner(&fx, 1), 1);
	assert_int_equal(fx_owner(&fx, 0), 2); /* idle: the commit can take it */
	assert_int_equal(fx.plan.busy_handovers, 0);
}

static void test_free_cores_idle_before_busy(void **state)
{
	fx_init(&fx, 2);
	fx_vm(&fx, 1, 1000, 2);
	fx.cores[0].owner = 9; /* a VM with no demand left, its vCPU still on the CPU */
	fx.cores[0].running_tid[1] = 4242;
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx_owner(&fx, 1), 1);
	assert_int_equal(fx_owner(&fx, 0), PLANNER_NONE);
}

static void test_vcpu_kept_on_its_last_thread(void **state)
{
	fx_init(&fx, 2);
	fx_vm(&fx, 1, 2000, 2);
	fx.vcpus[0].last_cpu = 3; /* core 1, thread 1 */
	fx.cores[1].owner = 1;
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx_owner(&fx, 1), 1);
	assert_int_equal(fx_slot(&fx, 1, 1), 8);
	assert_int_equal(fx_slot(&fx, 1, 0), 9);
}

static void test_longest_waiting_vcpus_run(void **state)
{
	fx_init(&fx, 1);
	fx_vm(&fx, 1, 1000, 4);
	fx.vcpus[2].wait_ns = 5;
	fx.vcpus[3].wait_ns = 7;
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx_slot(&fx, 0, 0), 11);
	assert_int_equal(fx_slot(&fx, 0, 1), 10);
}

/*
 * A VM given a second core: the vCPU that waits goes there, and the two that
 * run stay where they run, although the waiting one last ran on one of their
 * threads (moving a running vCPU would be refused not_runnable).
 */
static void test_running_vcpus_keep_their_threads(void **state)
{
	fx_init(&fx, 2);
	fx_vm(&fx, 1, 2000, 3);
	fx.cores[0].owner = 1;
	fx.cores[0].running_tid[0] = fx.vcpus[0].tid;
	fx.cores[0].running_tid[1] = fx.vcpus[1].tid;
	fx.vcpus[0].last_cpu = 0;
	fx.vcpus[1].last_cpu = 1;
	fx.vcpus[2].last_cpu = 0; /* ran there before vCPU 0 */
	fx.vcpus[2].wait_ns = 3000000;
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx_owner(&fx, 0), 1);
	assert_int_equal(fx_owner(&fx, 1), 1);
	assert_int_equal(fx_slot(&fx, 0, 0), 8);
	assert_int_equal(fx_slot(&fx, 0, 1), 9);
	assert_int_equal(fx_slot(&fx, 1, 0), 10);
}

static void test_host_busy_core_left_to_bpf(void **state)
{
	fx_init(&fx, 2);
	fx.cores[0].host[1] = true; /* strict pairing: the whole core is BPF's */
	fx_vm(&fx, 1, 2000, 4);
	assert_int_equal(fx_plan(&fx), 0);
	assert_true(fx.plan.cores[0].to_bpf);
	assert_int_equal(fx_owner(&fx, 0), PLANNER_NONE);
	assert_int_equal(fx_owner(&fx, 1), 1);
}

static void test_relaxed_host_core_takes_one_vcpu_last(void **state)
{
	fx_init(&fx, 2);
	fx.view.relaxed = true;
	fx.cores[0].host[0] = true;
	fx_vm(&fx, 1, 2000, 2);
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx_owner(&fx, 1), 1); /* both threads free: taken first */
	assert_int_equal(fx_owner(&fx, 0), PLANNER_NONE);
	fx_init(&fx, 2);
	fx.view.relaxed = true;
	fx.cores[0].host[0] = true;
	fx_vm(&fx, 1, 2000, 4);
	assert_int_equal(fx_plan(&fx), 0);
	assert_false(fx.plan.cores[0].to_bpf);
	assert_int_equal(fx_owner(&fx, 0), 1);
	assert_int_equal(fx_slot(&fx, 0, 0), -1); /* not on the host task's thread */
	assert_int_not_equal(fx_slot(&fx, 0, 1), -1);
	assert_int_equal(fx.plan.vcpus_placed, 3);
}

static void test_without_smt_one_vcpu_a_core(void **state)
{
	unsigned int i;

	fx_init(&fx, 3);
	fx.view.threads_per_core = 1;
	for (i = 0; i < 3; i++)
		fx.cores[i].cpu[1] = -1;
	fx_vm(&fx, 1, 3000, 2);
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(cores_of(&fx, 1), 2);
	assert_int_equal(fx.plan.idle_siblings, 0);
}

static void expect_refused(const char *what)
{
	char err[256];

	assert_int_equal(planner_check_view(&fx.view, &fx.st, err, sizeof(err)), -1);
	if (!strstr(err, what))
		fail_msg("error '%s' does not name '%s'", err, what);
}

static void test_bad_views_refused_with_a_reason(void **state)
{
	fx_init(&fx, 2);
	fx.view.threads_per_core = 3;
	expect_refused("threads per core 3");
	fx_init(&fx, 2);
	fx.cores[1].cpu[1] = 999;
	expect_refused("core 1: CPU 999");
	fx_init(&fx, 2);
	fx.cores[0].node = 64;
	expect_refused("NUMA node 64");
	fx_init(&fx, 2);
	fx_vm(&fx, 70, 0, 0);
	expect_refused("VM id 70");
	fx_init(&fx, 2);
	fx_vm(&fx, 1, 0, 1)->nr_vcpus = 5;
	expect_refused("VM id 1: vCPUs");
	fx_init(&fx, 2);
	fx_vm(&fx, 1, 0, 1)->reserve_cores = 2;
	fx.vms[0].cap_cores = 1;
	expect_refused("reserve 2 cores above its cap of 1");
	fx_init(&fx, 2);
	fx.view.epoch_ns = 0;
	expect_refused("epoch length");
	fx_init(&fx, 2);
	fx.cores[1].cpu[0] = 1;
	expect_refused("CPU 1 is in core 0 and core 1");
	fx_init(&fx, 2);
	fx_vm(&fx, 4, 0, 1);
	fx_vm(&fx, 4, 0, 1);
	expect_refused("VM id 4 is in the view twice");
	fx_init(&fx, 2);
	fx_vm(&fx, 4, 0, 2);
	fx_vm(&fx, 5, 0, 1)->first_vcpu = 1;
	expect_refused("vCPU 1 is in VM id 4 and VM id 5");
	/* and the lookups are clean again: the same state plans a good view */
	fx_init(&fx, 2);
	fx_vm(&fx, 4, 1000, 2);
	assert_int_equal(fx_plan(&fx), 0);
	fx.cores[1].cpu[0] = 1;
	expect_refused("CPU 1 is in core 0");
	fx.cores[1].cpu[0] = 2;
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx_owner(&fx, 0), 4);
}

static void test_state_memory_checked(void **state)
{
	struct planner_limits lim = {1, 1, 1, 1, 1, 1};
	struct planner_state st;
	uint64_t mem[1];
	char err[128];

	assert_int_equal(planner_state_init(&st, &lim, mem, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bytes given"));
	lim.max_cpu = 0;
	assert_int_equal(planner_state_init(&st, &lim, mem, sizeof(mem), err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_packs_two_vcpus_into_one_core),
	    cmocka_unit_test(test_odd_vcpus_leave_one_sibling_idle),
	    cmocka_unit_test(test_cap_is_never_exceeded),
	    cmocka_unit_test(test_reservation_honoured_against_the_most_owed),
	    cmocka_unit_test(test_reservation_limited_by_demand),
	    cmocka_unit_test(test_never_two_vms_on_one_core),
	    cmocka_unit_test(test_numa_home_kept),
	    cmocka_unit_test(test_numa_elsewhere_rather_than_wait),
	    cmocka_unit_test(test_most_owed_first),
	    cmocka_unit_test(test_ties_go_to_the_lower_id),
	    cmocka_unit_test(test_small_share_runs_within_its_bound),
	    cmocka_unit_test(test_measured_delivery_charged),
	    cmocka_unit_test(test_idle_host_empty_plan),
	    cmocka_unit_test(test_idle_vm_banks_no_credit),
	    cmocka_unit_test(test_owner_kept_when_nothing_changes),
	    cmocka_unit_test(test_owner_keeps_the_core_its_vcpu_runs_on),
	    cmocka_unit_test(test_free_cores_idle_before_busy),
	    cmocka_unit_test(test_vcpu_kept_on_its_last_thread),
	    cmocka_unit_test(test_longest_waiting_vcpus_run),
	    cmocka_unit_test(test_running_vcpus_keep_their_threads),
	    cmocka_unit_test(test_host_busy_core_left_to_bpf),
	    cmocka_unit_test(test_relaxed_host_core_takes_one_vcpu_last),
	    cmocka_unit_test(test_without_smt_one_vcpu_a_core),
	    cmocka_unit_test(test_bad_views_refused_with_a_reason),
	    cmocka_unit_test(test_state_memory_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
