/* The test VMM's wakeup latency histogram (tests/testvmm/wake_hist.h): bucketing and percentiles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/testvmm/wake_hist.h"

/* Every value lands in the bucket whose bounds hold it, and the buckets tile the range. */
static void test_buckets_tile_the_range(void **state)
{
	(void)state;
	for (unsigned int b = 0; b + 1 < WAKE_HIST_BUCKETS; b++) {
		assert_true(wake_hist_low(b) <= wake_hist_high(b));
		assert_int_equal(wake_hist_high(b) + 1, wake_hist_low(b + 1));
		assert_int_equal(wake_hist_bucket(wake_hist_low(b)), b);
		assert_int_equal(wake_hist_bucket(wake_hist_high(b)), b);
	}
	assert_int_equal(wake_hist_bucket(0), 0);
	assert_int_equal(wake_hist_bucket(UINT64_MAX), WAKE_HIST_BUCKETS - 1);
	assert_true(wake_hist_high(WAKE_HIST_BUCKETS - 1) == UINT64_MAX);
}

/* Small values are exact; above, a bucket is at most 1/8 of its lower bound wide. */
static void test_bucket_width(void **state)
{
	(void)state;
	for (uint64_t v = 0; v < 8; v++)
		assert_int_equal(wake_hist_low(wake_hist_bucket(v)), v);
	for (unsigned int b = 8; b + 1 < WAKE_HIST_BUCKETS; b++)
		assert_true(wake_hist_high(b) - wake_hist_low(b) + 1 <= wake_hist_low(b) / 8);
	/* 1000 cycles: 2^9 = 512 <= 1000 < 1024, steps of 64: 960..1023. */
	assert_int_equal(wake_hist_low(wake_hist_bucket(1000)), 960);
	assert_int_equal(wake_hist_high(wake_hist_bucket(1000)), 1023);
}

static struct wake_hist hist;

static void record_n(uint64_t cycles, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		wake_hist_record(&hist, cycles);
}

/* 989 fast wakes and 11 slow ones: p50 is fast, p99 and p99.9 see the slow ones. */
static void test_percentiles_see_the_tail(void **state)
{
	(void)state;
	memset(&hist, 0, sizeof(hist));
	record_n(1000, 989);
	record_n(3000000, 10);
	record_n(50000000, 1);
	assert_int_equal(hist.count, 1000);
	assert_int_equal(hist.max_cycles, 50000000);
	assert_int_equal(hist.sum_cycles, 989 * 1000ULL + 30000000ULL + 50000000ULL);
	assert_int_equal(wake_hist_percentile(hist.buckets, hist.count, 5000), 1023);
	/* rank 990 is the first slow wake */
	assert_int_equal(wake_hist_percentile(hist.buckets, hist.count, 9900),
			 wake_hist_high(wake_hist_bucket(3000000)));
	assert_int_equal(wake_hist_percentile(hist.buckets, hist.count, 9990),
			 wake_hist_high(wake_hist_bucket(3000000)));
	assert_int_equal(wake_hist_percentile(hist.buckets, hist.count, 10000),
			 wake_hist_high(wake_hist_bucket(50000000)));
}

/* 999 wakes: p99's rank is 989.01, rounded up to 990; 989 fast ones are not enough. */
static void test_percentile_rank_rounds_up(void **state)
{
	(void)state;
	memset(&hist, 0, sizeof(hist));
	record_n(100, 989);
	record_n(100000, 10);
	assert_int_equal(wake_hist_percentile(hist.buckets, hist.count, 9900),
			 wake_hist_high(wake_hist_bucket(100000)));
	memset(&hist, 0, sizeof(hist));
	record_n(100, 990);
	record_n(100000, 9);
	assert_int_equal(wake_hist_percentile(hist.buckets, hist.count, 9900),
			 wake_hist_high(wake_hist_bucket(100)));
}

static void test_empty_is_zero(void **state)
{
	(void)state;
	memset(&hist, 0, sizeof(hist));
	assert_int_equal(wake_hist_percentile(hist.buckets, 0, 9900), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buckets_tile_the_range),
	    cmocka_unit_test(test_bucket_width),
	    cmocka_unit_test(test_percentiles_see_the_tail),
	    cmocka_unit_test(test_percentile_rank_rounds_up),
	    cmocka_unit_test(test_empty_is_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
