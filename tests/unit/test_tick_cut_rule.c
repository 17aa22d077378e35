/*
 * Unit tests: why a running vCPU's slice ends at a tick (bpf/rules/tick_cut.h),
 * the same function ops.tick runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/tick_cut.h"
#include "tests/lib/core_view_fixture.h"

enum { VM_A = 2, VM_B = 5, ENCL = 1 };

/* A's vCPU runs on thread 0 of A's core; thread 1 idle. */
static struct vs_core_view running_a(void)
{
	struct vs_core_view c = fixture_core(VM_A, ENCL);

	c.running_vm[0] = VM_A;
	return c;
}

static void keeps_running_within_the_rules(void **state)
{
	struct vs_core_view c = running_a();

	(void)state;
	assert_int_equal(vs_tick_cut(&c, 0, VM_A, ENCL, true), VS_CUT_NONE);
	c.running_vm[1] = VM_A; /* its own VM beside it */
	assert_int_equal(vs_tick_cut(&c, 0, VM_A, ENCL, true), VS_CUT_NONE);
	assert_int_equal(vs_tick_cut(&c, 0, VM_A, ENCL, false), VS_CUT_EXPIRED);
}

static void pairing_cuts_win_over_the_rest(void **state)
{
	struct vs_core_view c = running_a();

	(void)state;
	c.draining = 1; /* would be a handover, but pairing comes first */
	c.host[1] = 1;
	assert_int_equal(vs_tick_cut(&c, 0, VM_A, ENCL, false), VS_CUT_PAIRING);
	c.strict = 0; /* relaxed: the host task is allowed, the handover is what remains */
	assert_int_equal(vs_tick_cut(&c, 0, VM_A, ENCL, false), VS_CUT_HANDOVER);

	c = running_a();
	c.owner = VM_B; /* it got here outside the rules */
	assert_int_equal(vs_tick_cut(&c, 0, VM_A, ENCL, true), VS_CUT_PAIRING);
	c = running_a();
	c.leaving_vm[1] = VM_B;
	assert_int_equal(vs_tick_cut(&c, 0, VM_A, ENCL, true), VS_CUT_PAIRING);
	c = running_a();
	c.closed = 1; /* the core leaves the enclave */
	assert_int_equal(vs_tick_cut(&c, 0, VM_A, ENCL, true), VS_CUT_PAIRING);
	c.closed = 0;
	assert_int_equal(vs_tick_cut(&c, 0, VM_A, ENCL + 1, true), VS_CUT_PAIRING); /* VM moved */
}

static void handover_before_expiry(void **state)
{
	struct vs_core_view c = running_a();

	(void)state;
	c.draining = 1;
	assert_int_equal(vs_tick_cut(&c, 0, VM_A, ENCL, true), VS_CUT_HANDOVER);
	assert_int_equal(vs_tick_cut(&c, 0, VM_A, ENCL, false), VS_CUT_HANDOVER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keeps_running_within_the_rules),
	    cmocka_unit_test(pairing_cuts_win_over_the_rest),
	    cmocka_unit_test(handover_before_expiry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
