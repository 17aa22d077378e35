/*
 * Unit tests: where a runnable vCPU is placed (bpf/rules/enqueue.h), whose
 * vCPU the placement sweep moves (bpf/rules/sweep.h) and the vtime floor
 * and charge (bpf/rules/vtime.h) and caps (bpf/rules/cap.h), the same
 * functions the BPF scheduler runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/cap.h"
#include "bpf/rules/enqueue.h"
#include "bpf/rules/sweep.h"
#include "bpf/rules/vtime.h"
#include "tests/lib/core_view_fixture.h"

#define MS 1000000ULL

enum { VM_A = 2, VM_B = 5, ENCL = 1 };

static struct vs_core_view empty_core(__s32 owner)
{
	return fixture_core(owner, ENCL);
}

static void passes_go_home_first_owned_before_free(void **state)
{
	struct vs_enqueue_pass p[VS_ENQUEUE_PASSES];
	__u32 i;

	(void)state;
	for (i = 0; i < VS_ENQUEUE_PASSES; i++)
		p[i] = vs_enqueue_pass(i, true, true);
	assert_true(p[0].open && p[0].home && !p[0].take);
	assert_true(p[1].open && p[1].home && p[1].take);
	assert_true(p[2].open && !p[2].home && !p[2].take);
	assert_true(p[3].open && !p[3].home && p[3].take);
	/* The previous CPU was tried first when on the home node; else before pass 2. */
	for (i = 0; i < VS_ENQUEUE_PASSES; i++)
		assert_false(p[i].prev);
	assert_true(vs_enqueue_pass(2, true, false).prev);
	assert_false(vs_enqueue_pass(0, true, false).prev);
	/* At its cap: no free-core pass. */
	assert_false(vs_enqueue_pass(1, false, true).open);
	assert_false(vs_enqueue_pass(3, false, true).open);
	assert_true(vs_enqueue_pass(2, false, true).open);
}

static void fits_owned_or_wholly_free(void **state)
{
	struct vs_core_view c = empty_core(VM_A);

	(void)state;
	assert_true(vs_enqueue_fits(&c, 0, VM_A, ENCL, false));
	assert_false(vs_enqueue_fits(&c, 0, VM_B, ENCL, false)); /* not B's */
	assert_true(vs_enqueue_fits(&c, 0, VM_B, ENCL, true));	 /* free to take */
	c.draining = 1;
	assert_false(vs_enqueue_fits(&c, 0, VM_A, ENCL, false));
	c = empty_core(VM_A);
	c.running_vm[1] = VM_A; /* the sibling busy: owned fits, free does not */
	assert_true(vs_enqueue_fits(&c, 0, VM_A, ENCL, false));
	assert_false(vs_enqueue_fits(&c, 0, VM_B, ENCL, true));
	c = empty_core(VM_A);
	c.claims[0] = 1; /* this thread is committed already */
	assert_false(vs_enqueue_fits(&c, 0, VM_A, ENCL, false));
	c = empty_core(VM_A);
	c.host[0] = 1;
	assert_false(vs_enqueue_fits(&c, 0, VM_A, ENCL, false));
	c = empty_core(VM_A);
	assert_false(vs_enqueue_fits(&c, 0, VM_A, ENCL + 1, false)); /* another enclave */
	c.closed = 1;
	assert_false(vs_enqueue_fits(&c, 0, VM_A, ENCL, true));
}

static void sweep_keeps_a_working_owner(void **state)
{
	struct vs_sweep_owner o = {
	    .vm = VM_A, .draining = false, .queued = 1, .serves = true, .within_cap = true};
	bool take = true;

	(void)state;
	assert_int_equal(vs_sweep_target(&o, VM_B, &take), VM_A);
	assert_false(take);
	o.queued = 0;
	assert_int_equal(vs_sweep_target(&o, VM_B, &take), VM_B);
	assert_true(take);
	o.queued = 1;
	o.draining = true;
	assert_int_equal(vs_sweep_target(&o, VM_B, &take), VM_B);
	o.draining = false;
	o.serves = false; /* A moved to another enclave */
	assert_int_equal(vs_sweep_target(&o, VM_B, &take), VM_B);
	o.serves = true;
	o.within_cap = false;
	assert_int_equal(vs_sweep_target(&o, VS_VM_NONE, &take), VS_VM_NONE);
	assert_true(take);
	/* An unowned core. */
	o = (struct vs_sweep_owner){.vm = VS_VM_NONE, .within_cap = true};
	assert_int_equal(vs_sweep_target(&o, VM_B, &take), VM_B);
	assert_true(take);
}

static void vtime_floor_lifts_only_far_behind(void **state)
{
	(void)state;
	/* Lag allowed: core slice 10 ms + pair window 5 ms. */
	assert_int_equal(vs_vtime_lift(100 * MS, 200 * MS, 10 * MS, 5 * MS), 185 * MS);
	assert_int_equal(vs_vtime_lift(185 * MS, 200 * MS, 10 * MS, 5 * MS), 185 * MS);
	assert_int_equal(vs_vtime_lift(190 * MS, 200 * MS, 10 * MS, 5 * MS), 190 * MS);
	/* Ahead of the floor: never lowered. */
	assert_int_equal(vs_vtime_lift(300 * MS, 200 * MS, 10 * MS, 5 * MS), 300 * MS);
	/* A floor below the lag (start of time): nothing to lift, no wrap. */
	assert_int_equal(vs_vtime_lift(0, 10 * MS, 10 * MS, 5 * MS), 0);
	assert_int_equal(vs_vtime_lift(0, 0, 0, 0), 0);
}

static void vtime_charge_scales_by_weight(void **state)
{
	(void)state;
	assert_int_equal(vs_vtime_charge(10 * MS, VS_WEIGHT_SCALE), 10 * MS);
	assert_int_equal(vs_vtime_charge(10 * MS, 2 * VS_WEIGHT_SCALE), 5 * MS);
	assert_int_equal(vs_vtime_charge(10 * MS, VS_WEIGHT_SCALE / 4), 40 * MS);
	assert_int_equal(vs_vtime_charge(10 * MS, 0), 10 * MS); /* unset: one core's share */
	assert_int_equal(vs_vtime_charge(0, 1), 0);
}

static void cap_counts_the_core_in_question(void **state)
{
	(void)state;
	assert_true(vs_within_cap(100, 0, false)); /* no cap */
	assert_true(vs_within_cap(1, 2, false));
	assert_false(vs_within_cap(2, 2, false)); /* one more would be 3 */
	assert_true(vs_within_cap(2, 2, true));	  /* keeps one of its 2 */
	assert_false(vs_within_cap(3, 2, true));  /* over: gives it up */
	assert_true(vs_within_cap(0, 1, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(passes_go_home_first_owned_before_free),
	    cmocka_unit_test(fits_owned_or_wholly_free),
	    cmocka_unit_test(sweep_keeps_a_working_owner),
	    cmocka_unit_test(vtime_floor_lifts_only_far_behind),
	    cmocka_unit_test(vtime_charge_scales_by_weight),
	    cmocka_unit_test(cap_counts_the_core_in_question),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
