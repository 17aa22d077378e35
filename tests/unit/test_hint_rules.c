/*
 * Unit tests: what the BPF scheduler does with guest hints
 * (bpf/rules/hints.h), the same functions it runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/hints.h"

#define US  1000ULL
#define MS  1000000ULL
#define SEC 1000000000ULL

static bool may(uint32_t hint, enum vs_cut cut, bool extended, uint64_t win_ext, uint64_t win_run,
		uint64_t prev_run)
{
	return vs_hint_may_extend(hint, cut, extended, 50 * US, win_ext, win_run, prev_run, 3);
}

static void extends_only_a_critical_section_at_a_soft_cut(void **state)
{
	assert_true(may(VS_HINT_CS, VS_CUT_EXPIRED, false, 0, 100 * MS, 0));
	assert_true(may(VS_HINT_CS, VS_CUT_HANDOVER, false, 0, 100 * MS, 0));
	assert_false(may(VS_HINT_CS, VS_CUT_PAIRING, false, 0, 100 * MS, 0));
	assert_false(may(VS_HINT_CS, VS_CUT_NONE, false, 0, 100 * MS, 0));
	assert_false(may(VS_HINT_IDLE, VS_CUT_EXPIRED, false, 0, 100 * MS, 0));
	assert_false(may(0, VS_CUT_EXPIRED, false, 0, 100 * MS, 0));
	/* Once per run. */
	assert_false(may(VS_HINT_CS, VS_CUT_EXPIRED, true, 0, 100 * MS, 0));
	/* Off when the extension is 0. */
	assert_false(vs_hint_may_extend(VS_HINT_CS, VS_CUT_EXPIRED, false, 0, 0, SEC, SEC, 3));
}

static void budget_is_a_share_of_the_vms_own_time(void **state)
{
	/* 3% of 100 ms is 3 ms: 2.95 ms used leaves room for one more 50 us. */
	assert_true(may(VS_HINT_CS, VS_CUT_EXPIRED, false, 2950 * US, 100 * MS, 0));
	assert_false(may(VS_HINT_CS, VS_CUT_EXPIRED, false, 2951 * US, 100 * MS, 0));
	/* The last window's time counts while this one is young. */
	assert_true(may(VS_HINT_CS, VS_CUT_EXPIRED, false, 0, 0, 100 * MS));
	/* A VM that has not run gets nothing. */
	assert_false(may(VS_HINT_CS, VS_CUT_EXPIRED, false, 0, 0, 0));
	/* Absurd inputs never overflow into a yes. */
	assert_false(may(VS_HINT_CS, VS_CUT_EXPIRED, false, UINT64_MAX - 10, 100 * MS, 0));
	assert_false(may(VS_HINT_CS, VS_CUT_EXPIRED, false, 0, UINT64_MAX, UINT64_MAX));
	assert_false(
	    vs_hint_may_extend(VS_HINT_CS, VS_CUT_EXPIRED, false, 50 * US, 0, SEC, 0, 101));
}

static void window_rolls_each_second(void **state)
{
	struct vs_vm_state vs = {
	    .hint_win_start = 10 * SEC, .hint_win_run_ns = 400 * MS, .hint_win_ext_ns = 12 * MS};

	vs_hint_window_roll(&vs, 10 * SEC + 999 * MS);
	assert_int_equal(vs.hint_win_ext_ns, 12 * MS);
	vs_hint_window_roll(&vs, 11 * SEC);
	assert_int_equal(vs.hint_win_start, 11 * SEC);
	assert_int_equal(vs.hint_prev_run_ns, 400 * MS);
	assert_int_equal(vs.hint_win_run_ns, 0);
	assert_int_equal(vs.hint_win_ext_ns, 0);
	/* After a quiet spell, nothing carries over. */
	vs.hint_win_run_ns = 300 * MS;
	vs_hint_window_roll(&vs, 15 * SEC);
	assert_int_equal(vs.hint_prev_run_ns, 0);
}

/*
 * A guest claiming a critical section at every cut, for 10 s, in a VM that
 * runs 1 ms slices back to back: each extension overruns by a whole 4 ms tick
 * (the worst case, HZ=250). Its extension time in any 1 s window stays within
 * its budget plus one overrun.
 */
static void lying_guest_stays_within_budget(void **state)
{
	struct vs_vm_state vs = {0};
	uint64_t now = SEC, worst = 0;
	const uint64_t overrun = 4 * MS;

	while (now < 11 * SEC) {
		vs_hint_window_roll(&vs, now);
		if (vs_hint_may_extend(VS_HINT_CS, VS_CUT_EXPIRED, false, 50 * US,
				       vs.hint_win_ext_ns, vs.hint_win_run_ns, vs.hint_prev_run_ns,
				       3)) {
			vs.hint_win_ext_ns += overrun;
			vs.hint_win_run_ns += overrun;
			now += overrun;
		}
		vs.hint_win_run_ns += MS;
		now += MS;
		if (vs.hint_win_ext_ns > worst)
			worst = vs.hint_win_ext_ns;
	}
	/* 3% of a second of vCPU time is 30 ms; one 4 ms overrun past it at most. */
	assert_true(worst > 20 * MS);
	assert_true(worst <= 30 * MS + overrun);
}

static void idle_hands_on_within_the_vm(void **state)
{
	assert_true(vs_hint_hand_on(VS_HINT_IDLE, 1));
	assert_true(vs_hint_hand_on(VS_HINT_IDLE | VS_HINT_CS, 3));
	assert_false(vs_hint_hand_on(VS_HINT_IDLE, 0));
	assert_false(vs_hint_hand_on(VS_HINT_IDLE, -1));
	assert_false(vs_hint_hand_on(VS_HINT_CS, 2));
	assert_false(vs_hint_hand_on(0, 2));
}

static void idle_defers_only_a_vcpu_still_runnable(void **state)
{
	assert_true(vs_hint_idle_defers(VS_HINT_IDLE, false));
	assert_true(vs_hint_idle_defers(VS_HINT_IDLE | VS_HINT_CS, false));
	/* Woken from HLT: it has an interrupt to take, whatever it said before sleeping. */
	assert_false(vs_hint_idle_defers(VS_HINT_IDLE, true));
	assert_false(vs_hint_idle_defers(VS_HINT_CS, false));
	assert_false(vs_hint_idle_defers(0, false));
	/* A guest-idle vCPU takes no free core; the cap still holds for the others. */
	assert_false(vs_hint_may_take_core(true, true));
	assert_true(vs_hint_may_take_core(true, false));
	assert_false(vs_hint_may_take_core(false, false));
}

/* Feeds a queue of @n vCPUs (tids 1..n, @idle[i]: put off as guest-idle) to vs_idle_pick. */
static struct vs_idle_pick pick_of(const bool *idle, int n)
{
	struct vs_idle_pick ip = {0};

	for (int i = 0; i < n; i++) {
		if (vs_idle_pick_add(&ip, (uint32_t)i + 1, idle[i]))
			break;
	}
	return ip;
}

static void work_runs_before_a_guest_idle_vcpu(void **state)
{
	const bool idle_first[] = {true, false, false}, idle_two[] = {true, true, false},
		   busy_first[] = {false, true}, all_idle[] = {true, true, true};
	struct vs_idle_pick ip;

	ip = pick_of(idle_first, 3);
	assert_int_equal(ip.tid, 2);
	assert_true(ip.passed);
	ip = pick_of(idle_two, 3);
	assert_int_equal(ip.tid, 3);
	assert_true(ip.passed);
	/* The queue's order otherwise: the first. */
	ip = pick_of(busy_first, 2);
	assert_int_equal(ip.tid, 0);
	assert_false(ip.passed);
	/* A guest that says every vCPU is idle is not starved: its first runs. */
	ip = pick_of(all_idle, 3);
	assert_int_equal(ip.tid, 0);
	assert_false(ip.passed);
	ip = pick_of(NULL, 0);
	assert_int_equal(ip.tid, 0);
}

/* Dispatch and the placement sweep look past guest-idle vCPUs only when more than one waits. */
static void idle_pick_only_with_a_choice(void **state)
{
	assert_true(vs_idle_pick_worth(2));
	assert_true(vs_idle_pick_worth(5));
	assert_false(vs_idle_pick_worth(1));
	assert_false(vs_idle_pick_worth(0));
	assert_false(
	    vs_idle_pick_worth(-1)); /* a count gone negative in a race: nothing to order */
}

/* A guest-idle vCPU is passed over a bounded number of times, then runs in queue order. */
static void idle_deferral_is_bounded(void **state)
{
	assert_true(vs_idle_still_defers(true, 0));
	assert_true(vs_idle_still_defers(true, VS_IDLE_MAX_PASSES - 1));
	assert_false(vs_idle_still_defers(true, VS_IDLE_MAX_PASSES));
	assert_false(vs_idle_still_defers(true, 255));
	assert_false(vs_idle_still_defers(false, 0));
}

static void directed_yield_stays_in_the_vm(void **state)
{
	assert_true(vs_yield_directed(true, 3, true, 3, true, false));
	assert_false(vs_yield_directed(true, 3, true, 4, true, false));	 /* another VM */
	assert_false(vs_yield_directed(true, 3, true, 3, false, false)); /* blocked */
	assert_false(vs_yield_directed(true, 3, true, 3, true, true));	 /* running */
	assert_false(vs_yield_directed(false, 3, true, 3, true, false)); /* not from a vCPU */
	assert_false(vs_yield_directed(true, 3, false, 3, true, false)); /* not to a vCPU */
	assert_false(vs_yield_directed(true, -1, true, -1, true, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(extends_only_a_critical_section_at_a_soft_cut),
	    cmocka_unit_test(budget_is_a_share_of_the_vms_own_time),
	    cmocka_unit_test(window_rolls_each_second),
	    cmocka_unit_test(lying_guest_stays_within_budget),
	    cmocka_unit_test(idle_hands_on_within_the_vm),
	    cmocka_unit_test(idle_defers_only_a_vcpu_still_runnable),
	    cmocka_unit_test(work_runs_before_a_guest_idle_vcpu),
	    cmocka_unit_test(idle_pick_only_with_a_choice),
	    cmocka_unit_test(idle_deferral_is_bounded),
	    cmocka_unit_test(directed_yield_stays_in_the_vm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
