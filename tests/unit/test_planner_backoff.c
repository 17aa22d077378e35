/* Unit tests: the planner's epoch back-off (vmm-sched/lib/planner_backoff.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "planner_backoff.h"

static uint32_t after(struct planner_backoff *b, uint64_t runnable, uint32_t txns,
		      uint32_t completed)
{
	return planner_backoff_after_epoch(
	    b, &(struct planner_epoch_outcome){
		   .runnable = runnable, .txns = txns, .completed = completed});
}

static void refused_epochs_double_the_epoch_up_to_the_cap(void **state)
{
	struct planner_backoff b;

	(void)state;
	planner_backoff_init(&b, 10);
	assert_int_equal(after(&b, 7, 4, 4), 10); /* first sight of the runnable set: base */
	assert_int_equal(after(&b, 7, 4, 1), 20); /* 3 of 4 refused */
	assert_int_equal(after(&b, 7, 0, 0), 40); /* nothing to commit */
	assert_int_equal(after(&b, 7, 2, 0), 80);
	assert_int_equal(after(&b, 7, 2, 0), 160);
	assert_int_equal(after(&b, 7, 2, 0), 10 * PLANNER_BACKOFF_MAX_FACTOR);
	assert_int_equal(b.lengthened, 4);
	assert_int_equal(b.resets, 0);
}

static void useful_epochs_or_a_changed_runnable_set_bring_the_base_back(void **state)
{
	struct planner_backoff b;

	(void)state;
	planner_backoff_init(&b, 10);
	after(&b, 7, 4, 4);
	assert_int_equal(after(&b, 7, 4, 0), 20);
	assert_int_equal(after(&b, 7, 4, 2), 10); /* half completed: not futile */
	assert_int_equal(b.resets, 1);
	assert_int_equal(after(&b, 7, 0, 0), 20);
	assert_int_equal(after(&b, 9, 0, 0), 10); /* another vCPU became runnable */
	assert_int_equal(b.resets, 2);
}

static void a_runnable_change_between_epochs_ends_the_back_off(void **state)
{
	struct planner_backoff b;

	(void)state;
	planner_backoff_init(&b, 10);
	after(&b, 7, 4, 4);
	assert_false(planner_backoff_runnable_now(&b, 9)); /* at the base: nothing to end */
	after(&b, 7, 4, 0);
	assert_false(planner_backoff_runnable_now(&b, 7)); /* unchanged */
	assert_int_equal(b.epoch_ms, 20);
	assert_true(planner_backoff_runnable_now(&b, 9));
	assert_int_equal(b.epoch_ms, 10);
	assert_int_equal(after(&b, 9, 1, 0), 20); /* the new set was recorded */
}

static void signature_ignores_order_and_tells_sets_apart(void **state)
{
	uint64_t a = 0, b = 0, c = 0;

	(void)state;
	a = planner_runnable_sig_add(planner_runnable_sig_add(a, 3), 5);
	b = planner_runnable_sig_add(planner_runnable_sig_add(b, 5), 3);
	c = planner_runnable_sig_add(planner_runnable_sig_add(c, 3), 6);
	assert_true(a == b);
	assert_true(a != c);
	assert_true(a != 0);
	assert_true(planner_runnable_sig_add(0, 0) != 0); /* slot 0 is not the empty set */
}

static void zero_base_is_one_millisecond(void **state)
{
	struct planner_backoff b;

	(void)state;
	planner_backoff_init(&b, 0);
	assert_int_equal(b.epoch_ms, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(refused_epochs_double_the_epoch_up_to_the_cap),
	    cmocka_unit_test(useful_epochs_or_a_changed_runnable_set_bring_the_base_back),
	    cmocka_unit_test(a_runnable_change_between_epochs_ends_the_back_off),
	    cmocka_unit_test(signature_ignores_order_and_tells_sets_apart),
	    cmocka_unit_test(zero_base_is_one_millisecond),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
