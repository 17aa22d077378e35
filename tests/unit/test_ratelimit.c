/* Repeated log lines: a burst per interval, then a count of what was held back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ratelimit.h"

#define SEC 1000000000ULL

static void test_burst_then_quiet(void **state)
{
	struct vs_ratelimit rl = {0};
	uint64_t supp = 99;
	int allowed = 0;

	/* One line a second for 30 s, three allowed per 10 s: 9 lines through. */
	for (uint64_t t = 0; t < 30; t++)
		allowed += ratelimit_allow(&rl, 5 * SEC + t * SEC, 10 * SEC, 3, &supp);
	assert_int_equal(allowed, 9);
	assert_int_equal(rl.suppressed, 7);
}

static void test_reports_suppressed(void **state)
{
	struct vs_ratelimit rl = {0};
	uint64_t supp = 99;

	assert_true(ratelimit_allow(&rl, SEC, 60 * SEC, 1, &supp));
	assert_int_equal(supp, 0);
	for (int i = 0; i < 1100; i++)
		assert_false(ratelimit_allow(&rl, SEC + (uint64_t)i * 1000, 60 * SEC, 1, &supp));
	assert_true(ratelimit_allow(&rl, 61 * SEC, 60 * SEC, 1, &supp));
	assert_int_equal(supp, 1100);
	assert_false(ratelimit_allow(&rl, 62 * SEC, 60 * SEC, 1, &supp));
	assert_true(ratelimit_allow(&rl, 200 * SEC, 60 * SEC, 1, &supp));
	assert_int_equal(supp, 1);
}

/* A clock at 0 or going back does not lock the limiter shut. */
static void test_odd_clocks(void **state)
{
	struct vs_ratelimit rl = {0};
	uint64_t supp;

	assert_true(ratelimit_allow(&rl, 0, 60 * SEC, 1, &supp));
	assert_false(ratelimit_allow(&rl, 1, 60 * SEC, 1, &supp));
	assert_true(ratelimit_allow(&rl, 100 * SEC, 60 * SEC, 1, &supp));
	assert_true(ratelimit_allow(&rl, 50 * SEC, 60 * SEC, 1, &supp));
	assert_int_equal(supp, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_quiet),
	    cmocka_unit_test(test_reports_suppressed),
	    cmocka_unit_test(test_odd_clocks),
	};

	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
