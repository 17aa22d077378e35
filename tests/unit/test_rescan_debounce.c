/* When the agent rescans /proc for VM threads (vmm-sched/lib/rescan_debounce.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rescan_debounce.h"

#define MS  1000000ULL
#define SEC 1000000000ULL

static void test_no_event_no_rescan(void **state)
{
	struct vs_rescan_debounce s = {0};

	assert_false(rescan_debounce_due(&s, 0));
	assert_false(rescan_debounce_due(&s, 100 * SEC));
}

/* qemu creates a thread, then names it: one rescan once the burst is quiet. */
static void test_burst_coalesced(void **state)
{
	struct vs_rescan_debounce s = {0};
	uint64_t t = 5 * SEC;

	rescan_debounce_event(&s, t);	       /* fork */
	rescan_debounce_event(&s, t + 1 * MS); /* comm "CPU 1/KVM" */
	assert_false(rescan_debounce_due(&s, t + 5 * MS));
	assert_true(rescan_debounce_due(&s, t + 1 * MS + VS_RESCAN_QUIET_NS));
	rescan_debounce_done(&s, t + 20 * MS);
	assert_false(rescan_debounce_due(&s, t + 40 * MS));
}

/* Events every 5 ms never go quiet: rescanned within the maximum delay all the same. */
static void test_steady_stream_not_starved(void **state)
{
	struct vs_rescan_debounce s = {0};
	uint64_t t = SEC, rescans = 0, last = 0;

	for (uint64_t now = t; now < t + SEC; now += 5 * MS) {
		rescan_debounce_event(&s, now);
		if (rescan_debounce_due(&s, now)) {
			if (last)
				assert_true(now - last >= VS_RESCAN_MIN_GAP_NS);
			rescan_debounce_done(&s, now);
			last = now;
			rescans++;
		}
	}
	/* About one per max(min gap, max delay) = 100 ms: 9 or 10 in a second. */
	assert_in_range(rescans, 8, 10);
}

/* After a rescan, the next events wait out the minimum gap, then are answered. */
static void test_min_gap(void **state)
{
	struct vs_rescan_debounce s = {0};

	rescan_debounce_done(&s, SEC);
	rescan_debounce_event(&s, SEC + 1 * MS);
	assert_false(rescan_debounce_due(&s, SEC + 50 * MS));
	assert_true(rescan_debounce_due(&s, SEC + VS_RESCAN_MIN_GAP_NS));
}

static void test_clock_backwards(void **state)
{
	struct vs_rescan_debounce s = {0};

	rescan_debounce_done(&s, 10 * SEC);
	rescan_debounce_event(&s, 10 * SEC + MS);
	assert_true(rescan_debounce_due(&s, 9 * SEC));
}

static void test_full_rescans(void **state)
{
	/* Events mode: lost events at once, else the safety period. */
	assert_int_equal(rescan_full_due(true, true, 2 * SEC, SEC, 30 * SEC),
			 VS_FULL_RESCAN_OVERFLOW);
	assert_int_equal(rescan_full_due(true, false, 2 * SEC, SEC, 30 * SEC), VS_FULL_RESCAN_NONE);
	assert_int_equal(rescan_full_due(true, false, 30 * SEC, SEC, 30 * SEC),
			 VS_FULL_RESCAN_NONE);
	assert_int_equal(rescan_full_due(true, false, 31 * SEC, SEC, 30 * SEC),
			 VS_FULL_RESCAN_SAFETY);
	/* Poll mode: every second, whatever the safety period; no events to lose. */
	assert_int_equal(rescan_full_due(false, false, SEC + 999 * MS, SEC, 30 * SEC),
			 VS_FULL_RESCAN_NONE);
	assert_int_equal(rescan_full_due(false, false, 2 * SEC, SEC, 30 * SEC),
			 VS_FULL_RESCAN_POLL);
	assert_int_equal(rescan_full_due(false, true, SEC, SEC, 30 * SEC), VS_FULL_RESCAN_NONE);
	/* A clock that went backwards rescans rather than waiting for it. */
	assert_int_equal(rescan_full_due(true, false, SEC, 5 * SEC, 30 * SEC),
			 VS_FULL_RESCAN_SAFETY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_event_no_rescan),
	    cmocka_unit_test(test_burst_coalesced),
	    cmocka_unit_test(test_steady_stream_not_starved),
	    cmocka_unit_test(test_min_gap),
	    cmocka_unit_test(test_clock_backwards),
	    cmocka_unit_test(test_full_rescans),
	};

	return cmocka_run_group_tests_name("rescan_debounce", tests, NULL, NULL);
}
