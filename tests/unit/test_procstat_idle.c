/* Unit tests: the guest daemon's per-CPU idle state from /proc/stat
 * (guest-agent/daemon/procstat_idle.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "guest-agent/daemon/procstat_idle.h"

static const char sample[] = "cpu  100 0 50 1000 10 0 5 0 0 0\n"
			     "cpu0 60 0 30 400 5 0 3 2 7 0\n"
			     "cpu1 40 0 20 600 5 0 2 0 0 0\n"
			     "intr 12345 0 0\n"
			     "ctxt 999\n";

static void test_parse_fields(void **state)
{
	struct cpu_times t[4];

	assert_int_equal(procstat_parse(sample, t, 4), 2);
	assert_true(t[0].present);
	assert_int_equal(t[0].idle, 405);			 /* idle + iowait */
	assert_int_equal(t[0].total, 60 + 30 + 400 + 5 + 3 + 2); /* guest (7) not counted twice */
	assert_int_equal(t[1].idle, 605);
	assert_false(t[2].present);
}

static void test_parse_old_kernel_four_fields(void **state)
{
	struct cpu_times t[1];

	assert_int_equal(procstat_parse("cpu0 1 2 3 4\n", t, 1), 1);
	assert_int_equal(t[0].idle, 4);
	assert_int_equal(t[0].total, 10);
}

static void test_parse_gap_and_bound(void **state)
{
	struct cpu_times t[2];

	/* cpu1 offline (no line), cpu5 beyond the array: ignored, never written. */
	assert_int_equal(procstat_parse("cpu0 1 1 1 1\ncpu5 1 1 1 1\n", t, 2), 1);
	assert_true(t[0].present);
	assert_false(t[1].present);
}

static void test_parse_malformed(void **state)
{
	struct cpu_times t[2];

	assert_int_equal(procstat_parse("cpu0 1 2 3\n", t, 2), -1);    /* too few */
	assert_int_equal(procstat_parse("cpu0 1 x 3 4\n", t, 2), -1);  /* not a number */
	assert_int_equal(procstat_parse("cpu0x 1 2 3 4\n", t, 2), -1); /* bad name */
	assert_int_equal(procstat_parse("cpu0 99999999999999999999 1 1 1\n", t, 2),
			 -1); /* overflow */
	assert_int_equal(procstat_parse("", t, 2), 0);
}

static struct cpu_times times(uint64_t idle, uint64_t total)
{
	return (struct cpu_times){.idle = idle, .total = total, .present = true};
}

static void test_idle_threshold(void **state)
{
	struct cpu_times a = times(100, 200);
	struct cpu_times b90 = times(190, 300), b89 = times(189, 300);

	assert_true(procstat_idle(&a, &b90, 90, false)); /* exactly 90 % */
	assert_false(procstat_idle(&a, &b89, 90, true)); /* just under */
	assert_true(procstat_idle(&a, &b89, 89, false));
}

static void test_idle_keeps_state_without_information(void **state)
{
	struct cpu_times a = times(100, 200), same = times(100, 200), back = times(50, 300);
	struct cpu_times missing = {0}, weird = times(500, 250); /* more idle than time */

	assert_true(procstat_idle(&a, &same, 90, true));
	assert_false(procstat_idle(&a, &same, 90, false));
	assert_true(procstat_idle(&a, &back, 90, true));
	assert_false(procstat_idle(&missing, &a, 90, false));
	assert_true(procstat_idle(&a, &missing, 90, true));
	assert_false(procstat_idle(&a, &weird, 90, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_fields),
	    cmocka_unit_test(test_parse_old_kernel_four_fields),
	    cmocka_unit_test(test_parse_gap_and_bound),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_idle_threshold),
	    cmocka_unit_test(test_idle_keeps_state_without_information),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
