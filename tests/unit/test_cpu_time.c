/*
 * Unit tests: where a CPU's time goes (bpf/rules/cpu_time.h), the same
 * functions the BPF scheduler calls from dispatch, running, stopping and its
 * sched_switch hook. The five counters must add up to the CPU's time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/cpu_time.h"

enum { OWNER = 4 };

struct cpu {
	struct vs_cpu_stats cs;
	struct vs_idle_pending p;
	__u64 forced_charged; /* forced idle charged to OWNER (as the BPF side does) */
};

static void charge(struct cpu *c, struct vs_stretch e)
{
	if (e.kind == VS_TIME_FORCED_IDLE && e.owner == OWNER)
		c->forced_charged += e.len;
}

static __u64 total(const struct vs_cpu_stats *cs)
{
	return cs->vcpu_ns + cs->host_ns + cs->idle_ns + cs->forced_idle_ns + cs->host_idle_ns;
}

/* A snapshot at now, as the agent reads it. */
static struct vs_cpu_stats at(const struct cpu *c, __u64 now)
{
	struct vs_cpu_stats s = c->cs;

	vs_stretch_end(&s, now);
	return s;
}

/* A vCPU runs from t, stops at u, and the CPU switches to idle at u. */
static void vcpu_then_idle(struct cpu *c, __u64 t, __u64 u)
{
	charge(c, vs_time_vcpu_runs(&c->cs, &c->p, t));
	charge(c, vs_time_vcpu_stops(&c->cs, u));
	charge(c, vs_time_switch(&c->cs, &c->p, u, 1));
}

static void idle_relabelled_by_dispatch(void **state)
{
	struct cpu c = {0};
	struct vs_cpu_stats s;

	vcpu_then_idle(&c, 1000, 1100);
	/* Woken at 1150: dispatch finds the core draining and idles the CPU. */
	charge(&c, vs_time_dispatch(&c.cs, &c.p, 1150));
	charge(&c, vs_time_idle_for(&c.cs, &c.p, 1150, VS_TIME_FORCED_IDLE, OWNER));
	charge(&c, vs_time_vcpu_runs(&c.cs, &c.p, 1200));
	s = at(&c, 1300);
	assert_int_equal(s.vcpu_ns, 100 + 100);
	assert_int_equal(s.idle_ns, 50);
	assert_int_equal(s.forced_idle_ns, 50);
	assert_int_equal(c.forced_charged, 50);
	assert_int_equal(total(&s), 300);
}

/* Dispatch decides before the switch: the decision waits for the switch to idle. */
static void pending_reason_begins_at_the_switch(void **state)
{
	struct cpu c = {0};
	struct vs_cpu_stats s;

	charge(&c, vs_time_vcpu_runs(&c.cs, &c.p, 1000));
	charge(&c, vs_time_dispatch(&c.cs, &c.p, 1090));
	charge(&c, vs_time_idle_for(&c.cs, &c.p, 1090, VS_TIME_HOST_IDLE, OWNER));
	assert_int_equal(c.cs.stretch_kind, VS_TIME_VCPU);
	charge(&c, vs_time_vcpu_stops(&c.cs, 1100));
	charge(&c, vs_time_switch(&c.cs, &c.p, 1100, 1));
	s = at(&c, 1400);
	assert_int_equal(s.vcpu_ns, 100);
	assert_int_equal(s.host_idle_ns, 300);
	assert_int_equal(total(&s), 400);
}

/*
 * The bug of the 141% run: dispatch opened a forced-idle window, then a host
 * task of the fair class ran on the CPU for a long time; the window stayed
 * open and that time counted as forced idle. It is host time.
 */
static void host_task_after_a_forced_decision(void **state)
{
	struct cpu c = {0};
	struct vs_cpu_stats s;

	charge(&c, vs_time_vcpu_runs(&c.cs, &c.p, 1000));
	charge(&c, vs_time_dispatch(&c.cs, &c.p, 1100));
	charge(&c, vs_time_idle_for(&c.cs, &c.p, 1100, VS_TIME_FORCED_IDLE, OWNER));
	charge(&c, vs_time_vcpu_stops(&c.cs, 1100));
	charge(&c, vs_time_switch(&c.cs, &c.p, 1100, 0)); /* a fair-class task */
	charge(&c, vs_time_switch(&c.cs, &c.p, 5100, 1)); /* it sleeps: plain idle */
	charge(&c, vs_time_vcpu_runs(&c.cs, &c.p, 5200));
	s = at(&c, 5300);
	assert_int_equal(s.forced_idle_ns, 0);
	assert_int_equal(c.forced_charged, 0);
	assert_int_equal(s.host_ns, 4000);
	assert_int_equal(s.idle_ns, 100);
	assert_int_equal(s.vcpu_ns, 200);
	assert_int_equal(total(&s), 4300);
}

/* A forced-idle CPU taken by a host task: the forced idle ends there. */
static void host_task_ends_forced_idle(void **state)
{
	struct cpu c = {0};
	struct vs_cpu_stats s;

	vcpu_then_idle(&c, 1000, 1100);
	charge(&c, vs_time_dispatch(&c.cs, &c.p, 1100));
	charge(&c, vs_time_idle_for(&c.cs, &c.p, 1100, VS_TIME_FORCED_IDLE, OWNER));
	charge(&c, vs_time_switch(&c.cs, &c.p, 1300, 0));
	s = at(&c, 2300);
	assert_int_equal(s.forced_idle_ns, 200);
	assert_int_equal(s.host_ns, 1000);
	assert_int_equal(total(&s), 1300);
}

/* The vCPU kept without a switch (stopping, running): no time lost or doubled. */
static void vcpu_kept_and_remote_stop(void **state)
{
	struct cpu c = {0};
	struct vs_cpu_stats s;

	charge(&c, vs_time_vcpu_runs(&c.cs, &c.p, 1000));
	charge(&c, vs_time_vcpu_stops(&c.cs, 1500));
	charge(&c, vs_time_vcpu_runs(&c.cs, &c.p, 1500));
	/* A stop while something else runs (not a vCPU stretch) charges nothing. */
	charge(&c, vs_time_vcpu_stops(&c.cs, 1700));
	charge(&c, vs_time_switch(&c.cs, &c.p, 1700, 0));
	charge(&c, vs_time_vcpu_stops(&c.cs, 1800));
	s = at(&c, 2000);
	assert_int_equal(s.vcpu_ns, 700);
	assert_int_equal(s.host_ns, 300);
	assert_int_equal(total(&s), 1000);
}

/* Any sequence of events, each stop followed by a switch: the counters add up to the time. */
static void random_events_add_up(void **state)
{
	struct cpu c = {0};
	__u64 t = 1000, t0 = 1000;

	srand(7);
	charge(&c, vs_time_switch(&c.cs, &c.p, t, 1));
	for (int i = 0; i < 100000; i++) {
		t += (__u64)(rand() % 1000);
		switch (rand() % 6) {
		case 0:
			charge(&c, vs_time_vcpu_runs(&c.cs, &c.p, t));
			break;
		case 1:
			charge(&c, vs_time_vcpu_stops(&c.cs, t));
			charge(&c, vs_time_switch(&c.cs, &c.p, t, rand() % 2));
			break;
		case 2:
			charge(&c, vs_time_switch(&c.cs, &c.p, t, rand() % 2));
			break;
		case 3:
			charge(&c, vs_time_dispatch(&c.cs, &c.p, t));
			break;
		case 4:
		case 5:
			charge(&c, vs_time_idle_for(&c.cs, &c.p, t,
						    rand() % 2 ? VS_TIME_FORCED_IDLE
							       : VS_TIME_HOST_IDLE,
						    OWNER));
			break;
		}
		if (i % 997 == 0) {
			struct vs_cpu_stats s = at(&c, t);

			assert_int_equal(total(&s), t - t0);
		}
	}
	assert_int_equal(c.forced_charged, c.cs.forced_idle_ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(idle_relabelled_by_dispatch),
	    cmocka_unit_test(pending_reason_begins_at_the_switch),
	    cmocka_unit_test(host_task_after_a_forced_decision),
	    cmocka_unit_test(host_task_ends_forced_idle),
	    cmocka_unit_test(vcpu_kept_and_remote_stop),
	    cmocka_unit_test(random_events_add_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
