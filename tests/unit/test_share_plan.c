/* Unit tests: the agent's share plan (vmm-sched/lib/share_plan.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "share_plan.h"

#define MS 1000000ULL

static struct share_plan_vm vms[VS_MAX_VMS];
static char err[256];

static const struct share_plan_params two_cores = {
    .nr_cores = 2,
    .threads_per_core = 2,
    .target_latency_ns = 20 * MS,
    .min_slice_ns = 2 * MS,
    .max_slice_ns = 50 * MS,
};

static int setup(void **state)
{
	memset(vms, 0, sizeof(vms));
	err[0] = '\0';
	return 0;
}

static void add_vm(int id, unsigned int weight, unsigned int reserve, unsigned int cap,
		   unsigned int active)
{
	vms[id] = (struct share_plan_vm){.used = true,
					 .weight = weight,
					 .reserve_cores = reserve,
					 .cap_cores = cap,
					 .active_vcpus = active};
}

static struct share_plan plan_ok(const struct share_plan_params *pp)
{
	struct share_plan p;

	if (share_plan_compute(vms, pp, &p, err, sizeof(err)))
		fail_msg("share_plan_compute failed: %s", err);
	return p;
}

/* Sparse VM ids keep their own shares; weights 1:2:4 on 2 busy cores. */
static void test_sparse_ids_weighted(void **state)
{
	struct share_plan p;

	add_vm(0, 100, 0, 0, 4);
	add_vm(5, 200, 0, 0, 4);
	add_vm(63, 400, 0, 0, 4);
	p = plan_ok(&two_cores);
	assert_int_equal(p.share_mcores[0] + p.share_mcores[5] + p.share_mcores[63], 2000);
	assert_in_range(p.share_mcores[0], 285, 286);
	assert_in_range(p.share_mcores[5], 571, 572);
	assert_in_range(p.share_mcores[63], 1142, 1143);
	assert_int_equal(p.bpf_weight[0], 28);
	assert_int_equal(p.bpf_weight[5], 57);
	assert_int_equal(p.bpf_weight[63], 114);
	assert_int_equal(p.share_mcores[1], 0);
	assert_int_equal(p.bpf_weight[1], 0);
	assert_int_equal(p.nr_demanding, 3);
	/* 20 ms * 2 cores / 3 VMs */
	assert_int_equal(p.core_slice_ns, 40 * MS / 3);
	assert_false(p.reservations_overcommitted);
}

/* A capped VM gets no more than its cap; the rest goes to the other. */
static void test_cap_limits_share(void **state)
{
	struct share_plan_params four = two_cores;
	struct share_plan p;

	four.nr_cores = 4;
	add_vm(2, 100, 0, 1, 8);
	add_vm(3, 100, 0, 0, 8);
	p = plan_ok(&four);
	assert_int_equal(p.share_mcores[2], 1000);
	assert_int_equal(p.share_mcores[3], 3000);
	assert_int_equal(p.bpf_weight[2], 100);
	assert_int_equal(p.bpf_weight[3], 300);
}

/* A reserved VM keeps its floor against a much heavier one. */
static void test_reservation_is_a_floor(void **state)
{
	struct share_plan p;

	add_vm(1, 1, 1, 0, 2);
	add_vm(4, 1000, 0, 0, 4);
	p = plan_ok(&two_cores);
	assert_int_equal(p.share_mcores[1], 1000);
	assert_int_equal(p.share_mcores[4], 1000);
}

/* An idle VM keeps a plain weighted weight; one demanding VM gets the longest slice. */
static void test_idle_vm_and_single_demand(void **state)
{
	struct share_plan p;

	add_vm(0, 100, 0, 0, 0);
	add_vm(1, 100, 0, 0, 3);
	p = plan_ok(&two_cores);
	assert_int_equal(p.nr_demanding, 1);
	assert_int_equal(p.core_slice_ns, 50 * MS);
	assert_int_equal(p.share_mcores[0], 0);
	/* weight * 2000 mcores / sum of weights = 1000 mcores -> 100 */
	assert_int_equal(p.bpf_weight[0], 100);
	assert_int_equal(p.share_mcores[1], 2000);
	assert_int_equal(p.bpf_weight[1], 200);
}

/* Many demanding VMs: the slice shrinks to the minimum, not below. */
static void test_slice_clamped_to_min(void **state)
{
	struct share_plan p;
	int i;

	for (i = 0; i < 40; i++)
		add_vm(i, 100, 0, 0, 1);
	p = plan_ok(&two_cores);
	assert_int_equal(p.nr_demanding, 40);
	assert_int_equal(p.core_slice_ns, 2 * MS);
	for (i = 0; i < 40; i++)
		assert_int_equal(p.bpf_weight[i], 5); /* 2000 / 40 = 50 mcores */
}

/* The SMT pair window: one core slice by default, as set, and 0 without SMT. */
static void test_pair_window(void **state)
{
	struct share_plan_params pp = two_cores;
	struct share_plan p;

	add_vm(0, 100, 0, 0, 4);
	add_vm(1, 100, 0, 0, 4);
	pp.pair_window_ns = SHARE_PAIR_WINDOW_AUTO;
	p = plan_ok(&pp);
	assert_int_equal(p.core_slice_ns, 20 * MS); /* 20 ms * 2 cores / 2 VMs */
	assert_int_equal(p.pair_window_ns, 20 * MS);
	pp.pair_window_ns = 300 * MS;
	assert_int_equal(plan_ok(&pp).pair_window_ns, 300 * MS);
	pp.pair_window_ns = 0;
	assert_int_equal(plan_ok(&pp).pair_window_ns, 0);
	/* No sibling to fill: the preference is off whatever was asked. */
	pp.threads_per_core = 1;
	pp.pair_window_ns = SHARE_PAIR_WINDOW_AUTO;
	assert_int_equal(plan_ok(&pp).pair_window_ns, 0);
	pp.pair_window_ns = 300 * MS;
	assert_int_equal(plan_ok(&pp).pair_window_ns, 0);
}

static void test_overcommitted_reservations(void **state)
{
	struct share_plan p;

	add_vm(0, 100, 2, 0, 4);
	add_vm(1, 100, 2, 0, 4);
	p = plan_ok(&two_cores);
	assert_true(p.reservations_overcommitted);
	assert_int_equal(p.share_mcores[0] + p.share_mcores[1], 2000);
}

/* A bad setting is named by VM id, and the plan is left untouched. */
static void test_bad_settings_named_by_id(void **state)
{
	struct share_plan p;

	memset(&p, 0x5a, sizeof(p));
	add_vm(0, 100, 0, 0, 1);
	add_vm(7, 100, 3, 2, 1);
	assert_int_equal(share_plan_compute(vms, &two_cores, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "VM id 7"));
	assert_non_null(strstr(err, "cap 2"));
	assert_int_equal(p.bpf_weight[0], 0x5a5a5a5a);

	vms[7].cap_cores = 0;
	vms[7].weight = 0;
	assert_int_equal(share_plan_compute(vms, &two_cores, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "VM id 7"));
	assert_non_null(strstr(err, "weight 0"));
}

static void test_no_vms(void **state)
{
	struct share_plan p = plan_ok(&two_cores);

	assert_int_equal(p.nr_demanding, 0);
	assert_int_equal(p.core_slice_ns, 50 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_sparse_ids_weighted, setup),
	    cmocka_unit_test_setup(test_cap_limits_share, setup),
	    cmocka_unit_test_setup(test_reservation_is_a_floor, setup),
	    cmocka_unit_test_setup(test_idle_vm_and_single_demand, setup),
	    cmocka_unit_test_setup(test_slice_clamped_to_min, setup),
	    cmocka_unit_test_setup(test_pair_window, setup),
	    cmocka_unit_test_setup(test_overcommitted_reservations, setup),
	    cmocka_unit_test_setup(test_bad_settings_named_by_id, setup),
	    cmocka_unit_test_setup(test_no_vms, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
