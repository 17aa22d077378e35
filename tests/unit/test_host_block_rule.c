/*
 * Unit tests: host tasks beside vCPUs (bpf/rules/host_block.h), the same
 * functions the sched_switch hook and ops.stopping run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/host_block.h"
#include "tests/lib/core_view_fixture.h"

enum { VM_A = 2, VM_B = 5 };

static void host_task_evicts_the_siblings_vcpu_in_strict_mode(void **state)
{
	struct vs_switch_effect e;

	(void)state;
	e = vs_switch_effect(true, false, VM_A, 1, VM_A);
	assert_true(e.evict_sibling);
	assert_false(e.sweep);
	e = vs_switch_effect(true, false, VM_A, 0, VM_A); /* relaxed: may share */
	assert_false(e.evict_sibling);
	e = vs_switch_effect(true, true, VS_VM_NONE, 1, VS_VM_NONE); /* nothing beside it */
	assert_false(e.evict_sibling || e.sweep);
}

static void leaving_host_or_vcpu_lets_an_idle_sibling_run(void **state)
{
	struct vs_switch_effect e;

	(void)state;
	e = vs_switch_effect(false, true, VS_VM_NONE, 1, VS_VM_NONE);
	assert_true(e.sweep);
	e = vs_switch_effect(false, false, VM_B, 1, VS_VM_NONE);
	assert_true(e.sweep);
	/* The sibling runs a vCPU: it needs no waking. */
	e = vs_switch_effect(false, true, VS_VM_NONE, 1, VM_A);
	assert_false(e.sweep);
	/* Idle to idle: nothing changed. */
	e = vs_switch_effect(false, false, VS_VM_NONE, 1, VS_VM_NONE);
	assert_false(e.sweep || e.evict_sibling);
}

static void preempted_vcpu_held_only_when_relaxed_and_open(void **state)
{
	struct vs_core_view c = fixture_core(VM_A, 1);

	(void)state;
	assert_int_equal(vs_preempted_hold(&c, VM_A, 1), VS_PREEMPTED_REQUEUE_HOST);
	c.closed = 1;
	assert_int_equal(vs_preempted_hold(&c, VM_A, 1), VS_PREEMPTED_REQUEUE_HOST);
	c.strict = 0;
	assert_int_equal(vs_preempted_hold(&c, VM_A, 1), VS_PREEMPTED_REQUEUE);
	c.closed = 0;
	assert_int_equal(vs_preempted_hold(&c, VM_A, 1), VS_PREEMPTED_HOLD);
	assert_int_equal(vs_preempted_hold(&c, VM_A, 2), VS_PREEMPTED_REQUEUE); /* other enclave */
}

/*
 * A core take (VS_TXN_F_TAKE_CORE) hands the core to VM_B while VM_A's vCPU
 * still runs on it; a host task then preempts that vCPU. Held, it would start
 * again there unchecked once the host task leaves, beside VM_B's vCPUs on the
 * sibling: the cross-VM overlap the planner's takes once showed.
 */
static void preempted_vcpu_not_held_on_a_core_taken_by_another_vm(void **state)
{
	struct vs_core_view c = fixture_core(VM_B, 1);

	(void)state;
	c.strict = 0;
	c.running_vm[0] = VM_A; /* the vCPU being preempted, kicked by the take */
	c.claims[1] = 1;	/* the taker's committed vCPU */
	assert_int_equal(vs_preempted_hold(&c, VM_A, 1), VS_PREEMPTED_REQUEUE);
	c.owner = VS_VM_NONE;
	assert_int_equal(vs_preempted_hold(&c, VM_A, 1), VS_PREEMPTED_REQUEUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(host_task_evicts_the_siblings_vcpu_in_strict_mode),
	    cmocka_unit_test(leaving_host_or_vcpu_lets_an_idle_sibling_run),
	    cmocka_unit_test(preempted_vcpu_held_only_when_relaxed_and_open),
	    cmocka_unit_test(preempted_vcpu_not_held_on_a_core_taken_by_another_vm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
