/*
 * Unit tests: the core predicates (bpf/rules/core.h), whether a thread may
 * be reserved for a VM's vCPU (bpf/rules/reserve.h) and when a closing core
 * is empty (bpf/rules/gate.h), the same functions the BPF scheduler runs
 * under the core's lock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/gate.h"
#include "bpf/rules/reserve.h"
#include "tests/lib/core_view_fixture.h"

enum { VM_A = 2, VM_B = 5, ENCL = 1, OTHER_ENCL = 3 };

/* An open, strict, unowned, empty core of enclave ENCL on CPUs 4 and 5. */
static struct vs_core_view empty_core(void)
{
	return fixture_core(VS_VM_NONE, ENCL);
}

static void predicates(void **state)
{
	struct vs_core_view c = empty_core();

	(void)state;
	assert_true(vs_view_open_to(&c, ENCL));
	assert_false(vs_view_open_to(&c, OTHER_ENCL));
	c.closed = 1;
	assert_false(vs_view_open_to(&c, ENCL));

	c = empty_core();
	c.host[1] = 1;
	assert_true(vs_view_host_blocks(&c, 0));
	assert_false(vs_view_host_blocks(&c, 1)); /* its own host task is not the sibling's */
	c.strict = 0;
	assert_false(vs_view_host_blocks(&c, 0));

	c = empty_core();
	assert_false(vs_view_sibling_runs_other(&c, 0, VM_A));
	c.running_vm[1] = VM_B;
	assert_true(vs_view_sibling_runs_other(&c, 0, VM_A));
	assert_false(vs_view_sibling_runs_other(&c, 0, VM_B));
	c.running_vm[1] = VS_VM_NONE;
	c.leaving_vm[1] = VM_B; /* still switching away from B */
	assert_true(vs_view_sibling_runs_other(&c, 0, VM_A));
	/* This thread's own vCPU does not count: it is the one leaving. */
	c = empty_core();
	c.running_vm[0] = VM_B;
	assert_false(vs_view_sibling_runs_other(&c, 0, VM_A));
	assert_true(vs_view_handover_ok(&c, 0, VM_A));
	c.claims[1] = 1;
	assert_false(vs_view_handover_ok(&c, 0, VM_A));

	c = empty_core();
	assert_true(vs_view_thread_empty(&c, 0));
	c.claims[0] = 1;
	assert_false(vs_view_thread_empty(&c, 0));
	assert_true(vs_view_thread_empty(&c, 1));
}

static void owner_reserves_unless_draining(void **state)
{
	struct vs_core_view c = empty_core();

	(void)state;
	c.owner = VM_A;
	c.running_vm[1] = VM_A;
	assert_int_equal(vs_reserve_decide(&c, 0, VM_A, ENCL, false), VS_RESERVE_OWNED);
	c.draining = 1;
	assert_int_equal(vs_reserve_decide(&c, 0, VM_A, ENCL, true), VS_RESERVE_NO);
}

static void free_core_is_taken_only_when_allowed(void **state)
{
	struct vs_core_view c = empty_core();

	(void)state;
	assert_int_equal(vs_reserve_decide(&c, 0, VM_A, ENCL, true), VS_RESERVE_TAKE);
	/* At its cap (may_take_core false): no new core. */
	assert_int_equal(vs_reserve_decide(&c, 0, VM_A, ENCL, false), VS_RESERVE_NO);
	/* Owned by B but empty: changes hands. */
	c.owner = VM_B;
	assert_int_equal(vs_reserve_decide(&c, 1, VM_A, ENCL, true), VS_RESERVE_TAKE);
	/* Not while a vCPU is committed to either thread. */
	c.claims[0] = 1;
	assert_int_equal(vs_reserve_decide(&c, 1, VM_A, ENCL, true), VS_RESERVE_NO);
	/* Not while this thread still runs a vCPU (it is not switching away here). */
	c = empty_core();
	c.owner = VM_B;
	c.running_vm[0] = VM_B;
	assert_int_equal(vs_reserve_decide(&c, 0, VM_A, ENCL, true), VS_RESERVE_NO);
}

static void pairing_enclave_and_host_forbid(void **state)
{
	struct vs_core_view c = empty_core();

	(void)state;
	c.owner = VM_A;
	/* The sibling runs, or is leaving, another VM's vCPU: never, even for the owner. */
	c.running_vm[1] = VM_B;
	assert_int_equal(vs_reserve_decide(&c, 0, VM_A, ENCL, true), VS_RESERVE_NO);
	c.running_vm[1] = VS_VM_NONE;
	c.leaving_vm[1] = VM_B;
	assert_int_equal(vs_reserve_decide(&c, 0, VM_A, ENCL, true), VS_RESERVE_NO);
	/* A host task on the sibling: strict pairing forbids, relaxed allows. */
	c = empty_core();
	c.owner = VM_A;
	c.host[1] = 1;
	assert_int_equal(vs_reserve_decide(&c, 0, VM_A, ENCL, true), VS_RESERVE_NO);
	c.strict = 0;
	assert_int_equal(vs_reserve_decide(&c, 0, VM_A, ENCL, true), VS_RESERVE_OWNED);
	/* Another enclave's VM, or a closed core: never. */
	assert_int_equal(vs_reserve_decide(&c, 0, VM_A, OTHER_ENCL, true), VS_RESERVE_NO);
	c.closed = 1;
	assert_int_equal(vs_reserve_decide(&c, 0, VM_A, ENCL, true), VS_RESERVE_NO);
}

/*
 * Short of a reservation: vCPUs queued and fewer cores than reserved. Holds
 * the core in question: owns it and no more than reserved.
 */
static void reservation_short_and_holds(void **state)
{
	(void)state;
	assert_int_equal(vs_reserve_claim(0, 2, 1, false), VS_RES_SHORT);
	assert_int_equal(vs_reserve_claim(1, 2, 3, false), VS_RES_SHORT);
	assert_int_equal(vs_reserve_claim(2, 2, 3, false), VS_RES_NONE); /* it has them */
	assert_int_equal(vs_reserve_claim(0, 2, 0, false), VS_RES_NONE); /* nothing waits */
	assert_int_equal(vs_reserve_claim(0, 0, 4, false), VS_RES_NONE); /* no reservation */
	assert_int_equal(vs_reserve_claim(1, 2, 0, true), VS_RES_HOLDS);
	assert_int_equal(vs_reserve_claim(2, 2, 3, true), VS_RES_HOLDS);
	assert_int_equal(vs_reserve_claim(3, 2, 3, true), VS_RES_NONE); /* beyond it: vtime */
	assert_int_equal(vs_reserve_claim(1, 0, 3, true), VS_RES_NONE);
}

static void gate_close_empty_only_when_nothing_left(void **state)
{
	struct vs_core_view c = empty_core();
	struct vs_gate_close g;

	(void)state;
	c.owner = VM_A; /* an owner alone does not keep it from moving */
	c.host[0] = 1;	/* nor does a host task */
	g = vs_gate_close(&c);
	assert_true(g.empty);
	assert_false(g.kick[0] || g.kick[1]);
	c.running_vm[1] = VM_A;
	g = vs_gate_close(&c);
	assert_false(g.empty);
	assert_false(g.kick[0]);
	assert_true(g.kick[1]);
	c = empty_core();
	c.claims[0] = 1;
	g = vs_gate_close(&c);
	assert_false(g.empty);
	assert_true(g.kick[0]);
	/* A vCPU still switching out: not empty, nothing to kick. */
	c = empty_core();
	c.leaving_vm[0] = VM_B;
	g = vs_gate_close(&c);
	assert_false(g.empty);
	assert_false(g.kick[0] || g.kick[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(predicates),
	    cmocka_unit_test(owner_reserves_unless_draining),
	    cmocka_unit_test(free_core_is_taken_only_when_allowed),
	    cmocka_unit_test(pairing_enclave_and_host_forbid),
	    cmocka_unit_test(gate_close_empty_only_when_nothing_left),
	    cmocka_unit_test(reservation_short_and_holds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
