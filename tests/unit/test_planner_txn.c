/*
 * Unit tests: the planner's commit side (vmm-sched/lib/planner_txn.c), from a
 * plan to per-CPU transactions and from their outcomes to the next plan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "planner_txn.h"
#include "tests/lib/planner_fixture.h"

static struct fixture fx;
static struct planner_txn txns[2 * FX_CORES];
static struct planner_txn_counts counts;

static unsigned int build(void)
{
	assert_int_equal(fx_plan(&fx), 0);
	return planner_txn_build(&fx.view, &fx.st, &fx.plan, txns, &counts);
}

static void test_sibling_pair_is_one_group(void **state)
{
	fx_init(&fx, 2);
	fx_vm(&fx, 1, 2000, 2);
	fx.vcpus[1].seqnum = 17;
	assert_int_equal(build(), 2);
	assert_int_equal(txns[0].cpu, 0);
	assert_int_equal(txns[0].tid, 1008);
	assert_int_equal(txns[0].seqnum, 1);
	assert_int_equal(txns[1].cpu, 1);
	assert_int_equal(txns[1].tid, 1009);
	assert_int_equal(txns[1].seqnum, 17);
	assert_int_equal(txns[0].flags, VS_TXN_F_GROUP);
	assert_int_equal(txns[1].flags, VS_TXN_F_GROUP);
	assert_int_equal(txns[0].vm_id, 1);
	assert_int_equal(txns[0].outcome, VS_TXN_NONE);
	assert_int_equal(counts.built, 2);
}

static void test_lone_vcpu_not_grouped(void **state)
{
	fx_init(&fx, 2);
	fx_vm(&fx, 1, 1000, 1);
	assert_int_equal(build(), 1);
	assert_int_equal(txns[0].flags, 0);
}

static void test_idle_host_commits_nothing(void **state)
{
	fx_init(&fx, 4);
	fx_vm(&fx, 1, 0, 0);
	assert_int_equal(build(), 0);
	assert_int_equal(counts.latched, 0);
}

static void test_running_vcpu_is_latched(void **state)
{
	fx_init(&fx, 1);
	fx_vm(&fx, 1, 1000, 2);
	fx.cores[0].owner = 1;
	fx.cores[0].running_tid[0] = 1008;
	fx.vcpus[0].last_cpu = 0;
	assert_int_equal(build(), 1); /* only the sibling, and alone: no group */
	assert_int_equal(txns[0].cpu, 1);
	assert_int_equal(txns[0].flags, 0);
	assert_int_equal(counts.latched, 1);
}

static void test_committed_vcpu_latched_until_its_seqnum_moves(void **state)
{
	unsigned int i, n;

	fx_init(&fx, 1);
	fx_vm(&fx, 1, 1000, 2);
	n = build();
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++)
		txns[i].outcome = VS_TXN_COMPLETE;
	planner_txn_apply(&fx.view, &fx.st, txns, n, &counts);
	assert_int_equal(counts.outcomes[VS_TXN_COMPLETE], 2);
	fx.cores[0].owner = 1;
	fx.vcpus[0].last_cpu = 0;
	fx.vcpus[1].last_cpu = 1;
	assert_int_equal(build(), 0);
	assert_int_equal(counts.latched, 2);
	fx.vcpus[1].seqnum++; /* it ran (or blocked and woke) since */
	assert_int_equal(build(), 1);
	assert_int_equal(txns[0].tid, 1009);
}

static void test_committed_vcpu_planned_where_committed(void **state)
{
	unsigned int i, n;

	fx_init(&fx, 1);
	fx_vm(&fx, 1, 1000, 2);
	n = build();
	for (i = 0; i < n; i++)
		txns[i].outcome = VS_TXN_COMPLETE;
	planner_txn_apply(&fx.view, &fx.st, txns, n, &counts);
	fx.cores[0].owner = 1;
	/* neither ran yet, and now the second has waited longer */
	fx.vcpus[1].wait_ns = 5000000;
	assert_int_equal(build(), 0);
	assert_int_equal(fx_slot(&fx, 0, 0), 8);
	assert_int_equal(fx_slot(&fx, 0, 1), 9);
	assert_int_equal(counts.latched, 2);
}

/* Plan, build, give every transaction @outcome (the pair's other group_failed), apply. */
static void commit_all(unsigned int outcome)
{
	unsigned int i, n = build();

	assert_true(n > 0);
	for (i = 0; i < n; i++)
		txns[i].outcome =
		    i && (txns[i].flags & VS_TXN_F_GROUP) && txns[i - 1].core == txns[i].core
			? VS_TXN_GROUP_FAILED
			: outcome;
	planner_txn_apply(&fx.view, &fx.st, txns, n, &counts);
}

static void test_wrong_vm_core_replanned_elsewhere(void **state)
{
	fx_init(&fx, 2);
	fx_vm(&fx, 1, 1000, 2);
	commit_all(VS_TXN_WRONG_VM);
	assert_int_equal(counts.cores_refused, 1);
	assert_int_equal(counts.outcomes[VS_TXN_WRONG_VM], 1);
	assert_int_equal(counts.outcomes[VS_TXN_GROUP_FAILED], 1);
	assert_int_equal(fx.st.vm[1].granted_cores, 0);
	fx.view.elapsed_ns = 0; /* re-plan the same epoch */
	assert_int_equal(fx_plan(&fx), 0);
	assert_true(fx.plan.cores[0].to_bpf);
	assert_int_equal(fx_owner(&fx, 0), PLANNER_NONE);
	assert_int_equal(fx_owner(&fx, 1), 1);
	/* the next epoch may try the core again */
	fx.view.elapsed_ns = FX_EPOCH;
	assert_int_equal(fx_plan(&fx), 0);
	assert_false(fx.plan.cores[0].to_bpf);
}

static void test_host_busy_refusal_leaves_core_to_bpf(void **state)
{
	fx_init(&fx, 1);
	fx_vm(&fx, 1, 1000, 1);
	commit_all(VS_TXN_HOST_BUSY);
	fx.view.elapsed_ns = 0;
	assert_int_equal(fx_plan(&fx), 0);
	assert_true(fx.plan.cores[0].to_bpf);
	assert_int_equal(fx.plan.cores_given, 0);
}

static void test_not_runnable_vcpu_left_out_this_epoch(void **state)
{
	fx_init(&fx, 2);
	fx_vm(&fx, 1, 2000, 3);
	assert_int_equal(build(), 3);
	txns[0].outcome = VS_TXN_NOT_RUNNABLE;
	txns[1].outcome = VS_TXN_GROUP_FAILED;
	txns[2].outcome = VS_TXN_COMPLETE;
	planner_txn_apply(&fx.view, &fx.st, txns, 3, &counts);
	assert_int_equal(counts.vcpus_refused, 1);
	fx.view.elapsed_ns = 0;
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx.plan.vcpus_placed, 2);
	assert_int_equal(fx.plan.cores_given, 1); /* two vCPUs left: one core */
	fx.view.elapsed_ns = FX_EPOCH;
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx.plan.vcpus_placed, 3);
}

static void test_refused_vm_keeps_its_credit(void **state)
{
	fx_init(&fx, 1);
	fx_vm(&fx, 1, 1000, 1);
	fx.st.vm[1].deficit_ns = 2 * FX_EPOCH;
	commit_all(VS_TXN_NOT_RUNNABLE); /* owed 2 + 1 epochs now */
	fx.view.elapsed_ns = 0;
	assert_int_equal(fx_plan(&fx), 0);
	assert_int_equal(fx.plan.cores_given, 0);
	assert_int_equal(fx.st.vm[1].deficit_ns, 3 * (int64_t)FX_EPOCH);
}

static void test_stale_and_group_failed_refuse_nothing(void **state)
{
	fx_init(&fx, 1);
	fx_vm(&fx, 1, 1000, 2);
	commit_all(VS_TXN_STALE);
	assert_int_equal(counts.outcomes[VS_TXN_STALE], 1);
	assert_int_equal(counts.vcpus_refused + counts.cores_refused, 0);
	fx.view.elapsed_ns = 0;
	assert_int_equal(build(), 2); /* not latched either */
}

static void test_refused_core_is_not_charged(void **state)
{
	fx_init(&fx, 1);
	fx_vm(&fx, 1, 1000, 2);
	commit_all(VS_TXN_WRONG_VM);
	fx.view.elapsed_ns = 0;
	assert_int_equal(fx_plan(&fx), 0); /* nowhere else to go */
	fx.view.elapsed_ns = FX_EPOCH;
	assert_int_equal(fx_plan(&fx), 0);
	/* owed its share of both epochs (1 core each), charged nothing for the refused one */
	assert_int_equal(fx.st.vm[1].deficit_ns, 2 * (int64_t)FX_EPOCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sibling_pair_is_one_group),
	    cmocka_unit_test(test_lone_vcpu_not_grouped),
	    cmocka_unit_test(test_idle_host_commits_nothing),
	    cmocka_unit_test(test_running_vcpu_is_latched),
	    cmocka_unit_test(test_committed_vcpu_latched_until_its_seqnum_moves),
	    cmocka_unit_test(test_committed_vcpu_planned_where_committed),
	    cmocka_unit_test(test_wrong_vm_core_replanned_elsewhere),
	    cmocka_unit_test(test_host_busy_refusal_leaves_core_to_bpf),
	    cmocka_unit_test(test_not_runnable_vcpu_left_out_this_epoch),
	    cmocka_unit_test(test_refused_vm_keeps_its_credit),
	    cmocka_unit_test(test_stale_and_group_failed_refuse_nothing),
	    cmocka_unit_test(test_refused_core_is_not_charged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
