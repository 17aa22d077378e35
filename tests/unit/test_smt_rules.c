/*
 * Unit tests: the SMT efficiency rule (bpf/rules/owed_pick.h), the same
 * function the BPF scheduler runs to choose who gets a core.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/owed_pick.h"

#define MS 1000000ULL

enum { VM_A = 2, VM_B = 5 };

/* vs_owed_pick() of two candidates given as (vm, vtime). */
static int pick(int best_vm, uint64_t best_vtime, int pair_vm, uint64_t pair_vtime, uint64_t window)
{
	struct vs_owed best = {.vm = best_vm, .vtime = best_vtime};
	struct vs_owed pair = {.vm = pair_vm, .vtime = pair_vtime};

	return vs_owed_pick(&best, &pair, window);
}

static void pair_wins_a_near_tie_on_smt(void **state)
{
	(void)state;
	/* B trails A by 4 ms of vtime, inside a 10 ms window: B runs both threads. */
	assert_int_equal(pick(VM_A, 1000 * MS, VM_B, 1004 * MS, 10 * MS), VM_B);
	assert_int_equal(pick(VM_A, 1000 * MS, VM_B, 1010 * MS, 10 * MS), VM_B);
}

static void owed_most_wins_beyond_the_window(void **state)
{
	(void)state;
	assert_int_equal(pick(VM_A, 1000 * MS, VM_B, 1010 * MS + 1, 10 * MS), VM_A);
	/* Window 0 (no SMT, or turned off): vtime alone decides. */
	assert_int_equal(pick(VM_A, 1000 * MS, VM_B, 1000 * MS + 1, 0), VM_A);
}

static void pick_with_one_candidate_missing(void **state)
{
	(void)state;
	/* No VM with two vCPUs to run. */
	assert_int_equal(pick(VM_A, 7, VS_VM_NONE, (uint64_t)-1, 10 * MS), VM_A);
	/* Nobody runnable at all. */
	assert_int_equal(pick(VS_VM_NONE, (uint64_t)-1, VS_VM_NONE, (uint64_t)-1, 10 * MS),
			 VS_VM_NONE);
	/* The owed-most VM is the pair itself. */
	assert_int_equal(pick(VM_B, 7, VM_B, 7, 10 * MS), VM_B);
	/* vtime near the top of its range: no wrap-around makes a far VM look near. */
	assert_int_equal(pick(VM_A, 5, VM_B, (uint64_t)-2, 10 * MS), VM_A);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pair_wins_a_near_tie_on_smt),
	    cmocka_unit_test(owed_most_wins_beyond_the_window),
	    cmocka_unit_test(pick_with_one_candidate_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
