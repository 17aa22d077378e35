/*
 * Unit tests: the buckets of a core take's wait (bpf/rules/take_wait.h), the
 * function ops.running counts them with.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/take_wait.h"

static void waits_fall_in_decades_of_microseconds(void **state)
{
	(void)state;
	assert_int_equal(vs_take_wait_bucket(0), 0);
	assert_int_equal(vs_take_wait_bucket(9999), 0);
	assert_int_equal(vs_take_wait_bucket(10000), 1);
	assert_int_equal(vs_take_wait_bucket(99999), 1);
	assert_int_equal(vs_take_wait_bucket(100000), 2);
	assert_int_equal(vs_take_wait_bucket(999999), 2);
	assert_int_equal(vs_take_wait_bucket(1000000), 3);
	assert_int_equal(vs_take_wait_bucket(9999999), 3);
	assert_int_equal(vs_take_wait_bucket(10000000), VS_TAKE_WAIT_BUCKETS - 1);
	assert_int_equal(vs_take_wait_bucket(UINT64_MAX), VS_TAKE_WAIT_BUCKETS - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(waits_fall_in_decades_of_microseconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
