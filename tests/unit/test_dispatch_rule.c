/*
 * Unit tests: what a hardware thread runs next (bpf/rules/dispatch.h), the
 * same function ops.dispatch runs under the core's lock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/dispatch.h"
#include "tests/lib/core_view_fixture.h"

#define MS 1000000ULL

enum { VM_A = 2, VM_B = 5, ENCL = 1 };

/* Core of enclave ENCL owned by A since t=0, both threads empty. */
static struct vs_core_view core_of_a(void)
{
	return fixture_core(VM_A, ENCL);
}

/* Thread 0 dispatches at 5 ms of a 10 ms core slice; A has 2 queued, B is owed most. */
static struct vs_dispatch_in input(void)
{
	return (struct vs_dispatch_in){
	    .th = 0,
	    .enclave = ENCL,
	    .owner_seen = VM_A,
	    .owner_queued = 2,
	    .owner_has_work = true,
	    .best = VM_B,
	    .nr_best = 1,
	    .prev_vm = VS_VM_NONE,
	    .now = 5 * MS,
	    .core_slice = 10 * MS,
	};
}

static struct vs_dispatch_out decide(const struct vs_core_view *c, const struct vs_dispatch_in *in)
{
	struct vs_dispatch_out out;

	vs_dispatch_decide(c, in, &out);
	return out;
}

static void owner_keeps_its_turn(void **state)
{
	struct vs_core_view c = core_of_a();
	struct vs_dispatch_in in = input();
	struct vs_dispatch_out o = decide(&c, &in);

	(void)state;
	assert_int_equal(o.decision, VS_DISPATCH_RUN);
	assert_int_equal(o.target, VM_A);
	assert_true(o.claim);
	assert_false(o.set_owner);
	assert_int_equal(o.owner_after, VM_A);
	assert_true(o.wake_sibling); /* thread 1 is empty and present */
	c.cpu[1] = -1;		     /* no SMT sibling */
	o = decide(&c, &in);
	assert_false(o.wake_sibling);
}

static void turn_over_core_goes_to_the_owed(void **state)
{
	struct vs_core_view c = core_of_a();
	struct vs_dispatch_in in = input();
	struct vs_dispatch_out o;

	(void)state;
	in.now = 10 * MS; /* the turn has ended */
	o = decide(&c, &in);
	assert_int_equal(o.decision, VS_DISPATCH_RUN);
	assert_int_equal(o.target, VM_B);
	assert_true(o.set_owner && o.granted);
	assert_int_equal(o.new_owner, VM_B);
	assert_int_equal(o.owner_after, VM_B);
	/* The sibling still runs A: A drains, this thread idles, the sibling is kicked. */
	c.running_vm[1] = VM_A;
	o = decide(&c, &in);
	assert_int_equal(o.decision, VS_DISPATCH_FORCED_IDLE);
	assert_true(o.start_drain);
	assert_false(o.set_owner || o.claim);
	assert_true(o.kick_sibling);
	assert_int_equal(o.owner_after, VM_A);
}

static void draining_owner_is_not_kept_unless_owed_most(void **state)
{
	struct vs_core_view c = core_of_a();
	struct vs_dispatch_in in = input();
	struct vs_dispatch_out o;

	(void)state;
	c.draining = 1;
	o = decide(&c, &in);
	assert_int_equal(o.target, VM_B);
	/* A is the most owed again: it keeps the core and its drain ends. */
	in.best = VM_A;
	in.nr_best = 2;
	c.running_vm[1] = VM_A;
	o = decide(&c, &in);
	assert_int_equal(o.decision, VS_DISPATCH_RUN);
	assert_int_equal(o.target, VM_A);
	assert_true(o.clear_draining);
	assert_false(o.kick_sibling);
}

static void blocked_threads_do_not_run(void **state)
{
	struct vs_core_view c = core_of_a();
	struct vs_dispatch_in in = input();
	struct vs_dispatch_out o;

	(void)state;
	c.host[1] = 1;
	o = decide(&c, &in);
	assert_int_equal(o.decision, VS_DISPATCH_HOST_IDLE);
	c.strict = 0; /* relaxed pairing: runs beside the host task */
	assert_int_equal(decide(&c, &in).decision, VS_DISPATCH_RUN);
	c = core_of_a();
	c.claims[0] = 1;
	o = decide(&c, &in);
	assert_int_equal(o.decision, VS_DISPATCH_WAIT_CLAIM);
	assert_false(o.claim);
	c = core_of_a();
	c.closed = 1;
	o = decide(&c, &in);
	assert_int_equal(o.decision, VS_DISPATCH_NONE);
	assert_false(o.set_owner || o.claim || o.start_drain);
	c.closed = 0;
	in.enclave = ENCL + 1; /* the core serves another enclave now */
	assert_int_equal(decide(&c, &in).decision, VS_DISPATCH_NONE);
}

static void prev_is_kept_or_sent_home(void **state)
{
	struct vs_core_view c = core_of_a();
	struct vs_dispatch_in in = input();
	struct vs_dispatch_out o;

	(void)state;
	/* prev (A) is A's only runnable vCPU: its slice is refilled. */
	in.prev_vm = VM_A;
	in.owner_queued = 0;
	o = decide(&c, &in);
	assert_int_equal(o.decision, VS_DISPATCH_KEEP_PREV);
	assert_false(o.claim);
	/* A home core is free for it: not kept, enqueue places it there. */
	in.prev_goes_home = true;
	assert_int_equal(decide(&c, &in).decision, VS_DISPATCH_NONE);
	/* The owner changed between the gather and the lock: its queue is not assumed empty. */
	in.prev_goes_home = false;
	in.owner_seen = VM_B;
	assert_int_equal(decide(&c, &in).decision, VS_DISPATCH_RUN);
}

static void over_cap_owner_gives_the_core_up(void **state)
{
	struct vs_core_view c = core_of_a();
	struct vs_dispatch_in in = input();
	struct vs_dispatch_out o;

	(void)state;
	in.owner_over_cap = true;
	in.best = VS_VM_NONE;
	o = decide(&c, &in);
	assert_int_equal(o.decision, VS_DISPATCH_NONE);
	assert_true(o.set_owner);
	assert_false(o.granted);
	assert_int_equal(o.new_owner, VS_VM_NONE);
	assert_int_equal(o.owner_after, VS_VM_NONE);
	/* Its vCPU still runs on the sibling: drain first. */
	c.running_vm[1] = VM_A;
	o = decide(&c, &in);
	assert_false(o.set_owner);
	assert_true(o.start_drain && o.kick_sibling);
}

static void unowned_core_with_nobody_owed_idles(void **state)
{
	struct vs_core_view c = core_of_a();
	struct vs_dispatch_in in = input();
	struct vs_dispatch_out o;

	(void)state;
	c.owner = VS_VM_NONE;
	in.owner_seen = VS_VM_NONE;
	in.owner_has_work = false;
	in.best = VS_VM_NONE;
	o = decide(&c, &in);
	assert_int_equal(o.decision, VS_DISPATCH_NONE);
	assert_int_equal(o.target, VS_VM_NONE);
	assert_false(o.set_owner || o.start_drain || o.claim || o.kick_sibling);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(owner_keeps_its_turn),
	    cmocka_unit_test(turn_over_core_goes_to_the_owed),
	    cmocka_unit_test(draining_owner_is_not_kept_unless_owed_most),
	    cmocka_unit_test(blocked_threads_do_not_run),
	    cmocka_unit_test(prev_is_kept_or_sent_home),
	    cmocka_unit_test(over_cap_owner_gives_the_core_up),
	    cmocka_unit_test(unowned_core_with_nobody_owed_idles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
