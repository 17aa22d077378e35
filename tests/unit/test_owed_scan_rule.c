/*
 * Unit tests: the VM owed a core most (bpf/rules/owed_scan.h) and what a
 * vCPU starting on a thread decides (bpf/rules/running.h), the same
 * functions the BPF scheduler runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/owed_scan.h"
#include "bpf/rules/running.h"
#include "tests/lib/core_view_fixture.h"

#define MS  1000000ULL
#define SEC 1000000000ULL

enum { VM_A = 2, VM_B = 5, VM_C = 7, ENCL = 1 };

/* vs_owed_scan_choose with no reservation claiming anything. */
static struct vs_owed_choice choose(const struct vs_owed_scan *s, __u64 pair_window)
{
	struct vs_reserve_scan r;

	vs_reserve_scan_init(&r);
	return vs_owed_scan_choose(s, &r, pair_window);
}

static void empty_scan_owes_nobody(void **state)
{
	struct vs_owed_scan s;
	struct vs_owed_choice c;

	(void)state;
	vs_owed_scan_init(&s);
	c = choose(&s, 10 * MS);
	assert_int_equal(c.vm, VS_VM_NONE);
	assert_false(c.starved || c.for_pair);
}

static void lowest_vtime_wins(void **state)
{
	struct vs_owed_scan s;
	struct vs_owed_choice c;

	(void)state;
	vs_owed_scan_init(&s);
	vs_owed_scan_add(&s, VM_A, 1, false, 300 * MS, 100 * SEC, 100 * SEC);
	vs_owed_scan_add(&s, VM_B, 1, false, 200 * MS, 100 * SEC, 100 * SEC);
	vs_owed_scan_add(&s, VM_C, 1, false, 250 * MS, 100 * SEC, 100 * SEC);
	c = choose(&s, 0);
	assert_int_equal(c.vm, VM_B);
	assert_int_equal(c.nr_queued, 1);
	/* A tie keeps the first offered. */
	vs_owed_scan_init(&s);
	vs_owed_scan_add(&s, VM_A, 1, false, 200 * MS, 0, 0);
	vs_owed_scan_add(&s, VM_B, 1, false, 200 * MS, 0, 0);
	assert_int_equal(choose(&s, 0).vm, VM_A);
}

static void pair_wins_a_near_tie(void **state)
{
	struct vs_owed_scan s;
	struct vs_owed_choice c;

	(void)state;
	vs_owed_scan_init(&s);
	vs_owed_scan_add(&s, VM_A, 1, false, 200 * MS, 0, 0);
	vs_owed_scan_add(&s, VM_B, 3, false, 205 * MS, 0, 0);
	c = choose(&s, 10 * MS);
	assert_int_equal(c.vm, VM_B);
	assert_true(c.for_pair);
	assert_int_equal(c.nr_queued, 3);
	assert_int_equal(choose(&s, 1 * MS).vm, VM_A);
	/* One queued plus prev still runnable here makes two to run. */
	vs_owed_scan_init(&s);
	vs_owed_scan_add(&s, VM_A, 1, false, 200 * MS, 0, 0);
	vs_owed_scan_add(&s, VM_B, 1, true, 205 * MS, 0, 0);
	c = choose(&s, 10 * MS);
	assert_int_equal(c.vm, VM_B);
	assert_int_equal(c.nr_queued, 1);
	/* prev alone (nothing queued) is a candidate, but no pair. */
	vs_owed_scan_init(&s);
	vs_owed_scan_add(&s, VM_B, 0, true, 100 * MS, 0, 0);
	c = choose(&s, 10 * MS);
	assert_int_equal(c.vm, VM_B);
	assert_int_equal(c.nr_queued, 0);
	assert_false(c.for_pair);
}

static void starved_vm_comes_first(void **state)
{
	struct vs_owed_scan s;
	struct vs_owed_choice c;
	__u64 now = 100 * SEC;

	(void)state;
	vs_owed_scan_init(&s);
	vs_owed_scan_add(&s, VM_A, 2, false, 1 * MS, now - 1 * SEC, now);
	/* Waiting for more than VS_STARVED_NS, with vCPUs queued. */
	vs_owed_scan_add(&s, VM_B, 1, false, 900 * MS, now - VS_STARVED_NS - 1, now);
	vs_owed_scan_add(&s, VM_C, 1, false, 800 * MS, now - VS_STARVED_NS - 2, now);
	c = choose(&s, 10 * MS);
	assert_int_equal(c.vm, VM_C); /* starved longest */
	assert_true(c.starved);
	/* Exactly at the guard, never queued nor ran, or nothing queued: not starved. */
	vs_owed_scan_init(&s);
	vs_owed_scan_add(&s, VM_A, 1, false, 1 * MS, now - 1, now);
	vs_owed_scan_add(&s, VM_B, 1, false, 900 * MS, now - VS_STARVED_NS, now);
	vs_owed_scan_add(&s, VM_C, 1, false, 900 * MS, 0, now);
	vs_owed_scan_add(&s, VM_C + 1, 0, true, 900 * MS, 1, now);
	c = choose(&s, 0);
	assert_int_equal(c.vm, VM_A);
	assert_false(c.starved);
}

/*
 * The guard counts from when the VM began to wait (vs_queued_stamp): a VM
 * that never ran starves too; one back from a long sleep does not starve at
 * once.
 */
static void starved_counts_from_the_wait(void **state)
{
	struct vs_owed_scan s;
	struct vs_owed_choice c;
	__u64 now = 100 * SEC, since;

	(void)state;
	/* Never ran, queued for longer than the guard. */
	since = vs_queued_stamp(0, 0, now - VS_STARVED_NS - 1);
	assert_int_equal(since, now - VS_STARVED_NS - 1);
	vs_owed_scan_init(&s);
	vs_owed_scan_add(&s, VM_A, 2, false, 1 * MS, now - 1 * SEC, now);
	vs_owed_scan_add(&s, VM_B, 1, false, 900 * MS, since, now);
	c = choose(&s, 0);
	assert_int_equal(c.vm, VM_B);
	assert_true(c.starved);
	/* Ran 60 s ago (nothing left queued), idle since, queued 1 s ago. */
	since = vs_queued_stamp(vs_run_stamp(0, 0, 0, now - 60 * SEC), 0, now - 1 * SEC);
	assert_int_equal(since, now - 1 * SEC);
	vs_owed_scan_init(&s);
	vs_owed_scan_add(&s, VM_A, 2, false, 1 * MS, now - 1 * SEC, now);
	vs_owed_scan_add(&s, VM_B, 1, false, 900 * MS, since, now);
	c = choose(&s, 0);
	assert_int_equal(c.vm, VM_A);
	assert_false(c.starved);
}

/* A vCPU queued behind others keeps the stamp; one into an empty queue starts it. */
static void queued_stamp_keeps_the_oldest_waiter(void **state)
{
	(void)state;
	assert_int_equal(vs_queued_stamp(0, 0, 5 * SEC), 5 * SEC);
	assert_int_equal(vs_queued_stamp(5 * SEC, 1, 6 * SEC), 5 * SEC);
	assert_int_equal(vs_queued_stamp(5 * SEC, 0, 6 * SEC), 6 * SEC); /* queue was empty */
	assert_int_equal(vs_queued_stamp(0, 3, 8 * SEC), 8 * SEC);	 /* never stamped */
}

/*
 * A start takes the stamp from the vCPU now at the head of the queue: the
 * others wait on from their own queueing, not from the start.
 */
static void run_stamp_keeps_the_others_waiting(void **state)
{
	(void)state;
	/* Nobody left queued: the stamp is the start. */
	assert_int_equal(vs_run_stamp(1 * SEC, 2 * SEC, 0, 9 * SEC), 9 * SEC);
	/* The head queued at 2 s: the VM waits since 2 s, not since the start. */
	assert_int_equal(vs_run_stamp(1 * SEC, 2 * SEC, 3, 9 * SEC), 2 * SEC);
	/* Head not known, or after the start: kept. */
	assert_int_equal(vs_run_stamp(1 * SEC, 0, 3, 9 * SEC), 1 * SEC);
	assert_int_equal(vs_run_stamp(1 * SEC, 10 * SEC, 3, 9 * SEC), 1 * SEC);
	assert_int_equal(vs_run_stamp(0, 0, 3, 9 * SEC), 9 * SEC);
}

/*
 * Four vCPUs of a VM queued at 0 s, one started per turn, each turn 4 s
 * after the last: the guard sees the VM starved at the second and third
 * turns, as its later vCPUs have waited past VS_STARVED_NS (a start used to
 * restart the whole VM's clock, so no turn looked starved and the last vCPU
 * waited 12 s; with more vCPUs, past the kernel's 30 s watchdog).
 */
static void one_vcpu_per_turn_starves(void **state)
{
	__u64 since = 0, t;
	__s32 queued = 0;
	int starved_turns = 0;

	(void)state;
	for (int i = 0; i < 4; i++)
		since = vs_queued_stamp(since, queued++, 1);
	assert_int_equal(since, 1);
	for (int turn = 1; turn <= 3; turn++) {
		struct vs_owed_scan s;

		t = (__u64)turn * 4 * SEC;
		vs_owed_scan_init(&s);
		vs_owed_scan_add(&s, VM_A, queued, false, 1000 * SEC, since, t);
		vs_owed_scan_add(&s, VM_B, 4, false, 1 * MS, t - 1 * MS, t);
		starved_turns += choose(&s, 0).starved;
		/* The head starts; the next head was queued at 0 s too. */
		since = vs_run_stamp(since, 1, --queued, t);
	}
	assert_int_equal(starved_turns, 2);
}

/*
 * Reservations (vs_reserve_scan): the core's owner holding its reservation
 * keeps it while it has work; else the first VM short of its reservation is
 * owed it; both before any vtime, after a starved VM.
 */
static void reservations_come_before_vtime(void **state)
{
	struct vs_reserve_scan r;
	struct vs_owed_scan s;
	struct vs_owed_choice c;
	__u64 now = 100 * SEC;

	(void)state;
	vs_owed_scan_init(&s);
	vs_owed_scan_add(&s, VM_A, 2, false, 1 * MS, now - 1 * SEC, now);
	vs_owed_scan_add(&s, VM_B, 1, false, 900 * MS, now - 1 * SEC, now);
	vs_owed_scan_add(&s, VM_C, 3, false, 800 * MS, now - 1 * SEC, now);
	vs_reserve_scan_init(&r);
	vs_reserve_scan_add(&r, VM_B, 1, false, VS_RES_SHORT);
	vs_reserve_scan_add(&r, VM_C, 3, false, VS_RES_SHORT);
	c = vs_owed_scan_choose(&s, &r, 10 * MS);
	assert_int_equal(c.vm, VM_B); /* the first short one */
	assert_int_equal(c.nr_queued, 1);
	assert_true(c.reserved);
	assert_false(c.starved || c.for_pair);
	/* The owner keeping its reserved core, with its vCPU running on here. */
	vs_reserve_scan_add(&r, VM_A, 0, true, VS_RES_HOLDS);
	c = vs_owed_scan_choose(&s, &r, 10 * MS);
	assert_int_equal(c.vm, VM_A);
	assert_int_equal(c.nr_queued, 0);
	/* Short with nothing queued, or holding with no work: no claim. */
	vs_reserve_scan_init(&r);
	vs_reserve_scan_add(&r, VM_B, 0, true, VS_RES_SHORT);
	vs_reserve_scan_add(&r, VM_C, 0, false, VS_RES_HOLDS);
	c = vs_owed_scan_choose(&s, &r, 0);
	assert_int_equal(c.vm, VM_A);
	assert_false(c.reserved);
	/* A starved VM still comes first. */
	vs_owed_scan_init(&s);
	vs_owed_scan_add(&s, VM_A, 1, false, 1 * MS, now - 6 * SEC, now);
	vs_reserve_scan_init(&r);
	vs_reserve_scan_add(&r, VM_B, 2, false, VS_RES_HOLDS);
	c = vs_owed_scan_choose(&s, &r, 0);
	assert_int_equal(c.vm, VM_A);
	assert_true(c.starved);
	assert_false(c.reserved);
}

static struct vs_core_view core(__s32 owner)
{
	return fixture_core(owner, ENCL);
}

static void running_within_the_rules(void **state)
{
	struct vs_core_view c = core(VM_A);
	struct vs_running_out o;

	(void)state;
	c.running_vm[0] = VM_A; /* recorded by ops.running before the decision */
	o = vs_running_decide(&c, 0, VM_A, ENCL);
	assert_false(o.take_core || vs_running_cut(&o));
	assert_true(o.wake_sibling);
	c.cpu[1] = -1;
	assert_false(vs_running_decide(&c, 0, VM_A, ENCL).wake_sibling);
}

static void running_unclaimed_takes_a_free_core(void **state)
{
	struct vs_core_view c = core(VM_B);
	struct vs_running_out o;

	(void)state;
	c.running_vm[0] = VM_A;
	o = vs_running_decide(&c, 0, VM_A, ENCL);
	assert_true(o.take_core);
	assert_false(vs_running_cut(&o));
	/* B's vCPU on the sibling: no takeover, and a pairing break. */
	c.running_vm[1] = VM_B;
	o = vs_running_decide(&c, 0, VM_A, ENCL);
	assert_false(o.take_core);
	assert_true(o.bad && vs_running_cut(&o));
	/* Something committed to the core: no takeover; still B's, so bad. */
	c = core(VM_B);
	c.claims[1] = 1;
	o = vs_running_decide(&c, 0, VM_A, ENCL);
	assert_false(o.take_core);
	assert_true(o.bad);
	assert_false(o.wake_sibling);
}

static void running_beside_host_or_elsewhere_is_cut(void **state)
{
	struct vs_core_view c = core(VM_A);
	struct vs_running_out o;

	(void)state;
	c.host[1] = 1;
	o = vs_running_decide(&c, 0, VM_A, ENCL);
	assert_true(o.beside_host && !o.bad && vs_running_cut(&o));
	c.strict = 0;
	o = vs_running_decide(&c, 0, VM_A, ENCL);
	assert_false(vs_running_cut(&o));
	c = core(VS_VM_NONE);
	c.closed = 1;
	o = vs_running_decide(&c, 0, VM_A, ENCL);
	assert_true(o.elsewhere && !o.take_core && vs_running_cut(&o));
	c.closed = 0;
	o = vs_running_decide(&c, 0, VM_A, ENCL + 1); /* its VM moved enclave */
	assert_true(o.elsewhere && vs_running_cut(&o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(empty_scan_owes_nobody),
	    cmocka_unit_test(lowest_vtime_wins),
	    cmocka_unit_test(pair_wins_a_near_tie),
	    cmocka_unit_test(starved_vm_comes_first),
	    cmocka_unit_test(starved_counts_from_the_wait),
	    cmocka_unit_test(queued_stamp_keeps_the_oldest_waiter),
	    cmocka_unit_test(run_stamp_keeps_the_others_waiting),
	    cmocka_unit_test(one_vcpu_per_turn_starves),
	    cmocka_unit_test(reservations_come_before_vtime),
	    cmocka_unit_test(running_within_the_rules),
	    cmocka_unit_test(running_unclaimed_takes_a_free_core),
	    cmocka_unit_test(running_beside_host_or_elsewhere_is_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
