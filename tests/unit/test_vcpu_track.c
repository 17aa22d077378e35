/* Unit tests: vCPU/CPU state tracking from kernel messages (vmm-sched/lib/vcpu_track.c). */
/* Over 400 lines: one case per message kind and ordering rule of one module. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "vcpu_track.h"

#define TID 4242

static struct vs_msg msg(uint16_t type, uint32_t seqnum, int cpu, uint32_t cpu_seqnum)
{
	struct vs_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.length = sizeof(m);
	m.seqnum = seqnum;
	m.tid = TID;
	m.vm_id = 1;
	m.vcpu_index = 0;
	m.cpu = cpu;
	m.cpu_seqnum = cpu_seqnum;
	m.timestamp = 1000ULL * seqnum + 7;
	return m;
}

static struct vs_msg vmsg(uint16_t type, uint32_t seqnum)
{
	return msg(type, seqnum, 0, 0);
}

static struct vs_msg cmsg(uint16_t type, uint32_t tid, uint32_t cpu_seqnum)
{
	struct vs_msg m = msg(type, 1, 3, cpu_seqnum);

	m.tid = tid;
	return m;
}

static enum vs_apply_result apply(struct vs_vcpu_track *t, struct vs_msg m)
{
	return vcpu_track_apply(t, &m);
}

static enum vs_apply_result capply(struct vs_cpu_track *c, struct vs_msg m)
{
	return cpu_track_apply(c, &m);
}

/* ---- names ---- */

static void test_names(void **state)
{
	assert_string_equal(vcpu_state_name(VS_VCPU_UNKNOWN), "unknown");
	assert_string_equal(vcpu_state_name(VS_VCPU_RUNNABLE), "runnable");
	assert_string_equal(vcpu_state_name(VS_VCPU_RUNNING), "running");
	assert_string_equal(vcpu_state_name(VS_VCPU_BLOCKED), "blocked");
	assert_string_equal(vcpu_state_name(VS_VCPU_DEPARTED), "departed");
	assert_string_equal(vcpu_state_name(VS_VCPU_DEAD), "dead");
	assert_string_equal(vcpu_state_name((enum vs_vcpu_state)99), "unknown");

	assert_string_equal(msg_type_name(VS_MSG_VCPU_NEW), "new");
	assert_string_equal(msg_type_name(VS_MSG_VCPU_WAKEUP), "wakeup");
	assert_string_equal(msg_type_name(VS_MSG_VCPU_BLOCKED), "blocked");
	assert_string_equal(msg_type_name(VS_MSG_VCPU_PREEMPTED), "preempted");
	assert_string_equal(msg_type_name(VS_MSG_VCPU_YIELD), "yield");
	assert_string_equal(msg_type_name(VS_MSG_VCPU_DEPARTED), "departed");
	assert_string_equal(msg_type_name(VS_MSG_VCPU_DEAD), "dead");
	assert_string_equal(msg_type_name(VS_MSG_VCPU_ON_CPU), "on-cpu");
	assert_string_equal(msg_type_name(VS_MSG_VCPU_ESCAPED), "escaped");
	assert_string_equal(msg_type_name(0), "invalid");
	assert_string_equal(msg_type_name(VS_MSG_VCPU_ESCAPED + 1), "invalid");
	assert_string_equal(msg_type_name(VS_MSG_CPU_FIRST), "invalid");
	assert_string_equal(msg_type_name(0xffff), "invalid");
}

/* ---- msg_valid ---- */

static void test_msg_valid(void **state)
{
	struct vs_msg m = vmsg(VS_MSG_VCPU_WAKEUP, 1);

	assert_true(msg_valid(&m, sizeof(m)));
	assert_true(msg_valid(&m, sizeof(m) + 8)); /* ring-buffer records may be padded */
	assert_false(msg_valid(&m, sizeof(m) - 1));
	assert_false(msg_valid(&m, 0));
	assert_false(msg_valid(NULL, sizeof(m)));

	m.length = sizeof(m) - 1;
	assert_false(msg_valid(&m, sizeof(m)));
	m.length = sizeof(m) + 1;
	assert_false(msg_valid(&m, sizeof(m)));
	m.length = 0;
	assert_false(msg_valid(&m, sizeof(m)));

	for (uint16_t type = VS_MSG_VCPU_NEW; type <= VS_MSG_VCPU_ESCAPED; type++) {
		m = vmsg(type, 1);
		assert_true(msg_valid(&m, sizeof(m)));
	}
	m = vmsg(0, 1);
	assert_false(msg_valid(&m, sizeof(m)));
	m = vmsg(VS_MSG_VCPU_ESCAPED + 1, 1);
	assert_false(msg_valid(&m, sizeof(m)));
	m = vmsg(VS_MSG_CPU_FIRST, 1);
	assert_false(msg_valid(&m, sizeof(m)));

	m = msg(VS_MSG_VCPU_ON_CPU, 1, VS_MAX_CPUS - 1, 1);
	assert_true(msg_valid(&m, sizeof(m)));
	m = msg(VS_MSG_VCPU_ON_CPU, 1, VS_MAX_CPUS, 1);
	assert_false(msg_valid(&m, sizeof(m)));
	m = msg(VS_MSG_VCPU_ON_CPU, 1, -1, 1);
	assert_false(msg_valid(&m, sizeof(m)));
}

/* ---- vcpu_track ---- */

static void test_vcpu_init(void **state)
{
	struct vs_vcpu_track t;

	memset(&t, 0xff, sizeof(t));
	vcpu_track_init(&t);
	assert_false(t.seen);
	assert_int_equal(t.state, VS_VCPU_UNKNOWN);
	assert_int_equal(t.cpu, -1);
	assert_int_equal(t.applied, 0);
	assert_int_equal(t.stale, 0);
	assert_int_equal(t.last_event_ns, 0);
}

static void check_transition(uint16_t type, enum vs_vcpu_state want)
{
	struct vs_vcpu_track t;

	/* From a fresh track, and from each other state. */
	vcpu_track_init(&t);
	assert_int_equal(apply(&t, vmsg(type, 5)), VS_APPLIED);
	assert_int_equal(t.state, want);
	assert_true(t.seen);
	assert_int_equal(t.seqnum, 5);
	assert_int_equal(t.last_event_ns, 5007);
	assert_int_equal(t.applied, 1);

	for (uint16_t from = VS_MSG_VCPU_NEW; from <= VS_MSG_VCPU_ON_CPU; from++) {
		vcpu_track_init(&t);
		assert_int_equal(apply(&t, vmsg(from, 1)), VS_APPLIED);
		assert_int_equal(apply(&t, vmsg(type, 2)), VS_APPLIED);
		if (t.state != want)
			fail_msg("%s after %s: state %s, want %s", msg_type_name(type),
				 msg_type_name(from), vcpu_state_name(t.state),
				 vcpu_state_name(want));
		assert_int_equal(t.applied, 2);
		assert_int_equal(t.stale, 0);
	}
}

static void test_vcpu_transitions(void **state)
{
	check_transition(VS_MSG_VCPU_NEW, VS_VCPU_RUNNABLE);
	check_transition(VS_MSG_VCPU_WAKEUP, VS_VCPU_RUNNABLE);
	check_transition(VS_MSG_VCPU_PREEMPTED, VS_VCPU_RUNNABLE);
	check_transition(VS_MSG_VCPU_YIELD, VS_VCPU_RUNNABLE);
	check_transition(VS_MSG_VCPU_BLOCKED, VS_VCPU_BLOCKED);
	check_transition(VS_MSG_VCPU_ON_CPU, VS_VCPU_RUNNING);
	check_transition(VS_MSG_VCPU_DEPARTED, VS_VCPU_DEPARTED);
	check_transition(VS_MSG_VCPU_DEAD, VS_VCPU_DEAD);
}

static void test_vcpu_lifecycle_and_cpu(void **state)
{
	struct vs_vcpu_track t;

	vcpu_track_init(&t);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_NEW, 1)), VS_APPLIED);
	assert_int_equal(t.cpu, -1); /* never ran */
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_ON_CPU, 2, 7, 1)), VS_APPLIED);
	assert_int_equal(t.state, VS_VCPU_RUNNING);
	assert_int_equal(t.cpu, 7);
	/* Leaving the CPU keeps the CPU it last ran on. */
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_BLOCKED, 3, 2, 1)), VS_APPLIED);
	assert_int_equal(t.state, VS_VCPU_BLOCKED);
	assert_int_equal(t.cpu, 7);
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_WAKEUP, 4, 2, 2)), VS_APPLIED);
	assert_int_equal(t.state, VS_VCPU_RUNNABLE);
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_ON_CPU, 5, 2, 3)), VS_APPLIED);
	assert_int_equal(t.cpu, 2);
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_PREEMPTED, 6, 2, 4)), VS_APPLIED);
	assert_int_equal(t.state, VS_VCPU_RUNNABLE);
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_DEAD, 7, 2, 5)), VS_APPLIED);
	assert_int_equal(t.state, VS_VCPU_DEAD);
	assert_int_equal(t.applied, 7);
	assert_int_equal(t.stale, 0);
	assert_int_equal(t.seqnum, 7);
	assert_int_equal(t.last_event_ns, 7007);
}

/* An escape (affinity left the enclave) is news for the agent, not a state change. */
static void test_vcpu_escaped_keeps_state(void **state)
{
	struct vs_vcpu_track t;
	struct vs_cpu_track c;
	struct vs_msg m;

	vcpu_track_init(&t);
	cpu_track_init(&c);
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_ON_CPU, 1, 3, 1)), VS_APPLIED);
	m = cmsg(VS_MSG_VCPU_ON_CPU, 101, 1);
	assert_int_equal(cpu_track_apply(&c, &m), VS_APPLIED);
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_ESCAPED, 2, 3, 2)), VS_APPLIED);
	assert_int_equal(t.state, VS_VCPU_RUNNING);
	assert_int_equal(t.seqnum, 2);
	m = cmsg(VS_MSG_VCPU_ESCAPED, 101, 2);
	assert_int_equal(cpu_track_apply(&c, &m), VS_APPLIED);
	assert_int_equal(c.running_tid, 101);
	/* Seen only as the latest message (a resync), it means runnable. */
	vcpu_track_resync(&t, 9, VS_MSG_VCPU_ESCAPED, 3);
	assert_int_equal(t.state, VS_VCPU_RUNNABLE);
}

static void test_vcpu_first_message_any_seqnum(void **state)
{
	struct vs_vcpu_track t;

	vcpu_track_init(&t);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 0)), VS_APPLIED);
	assert_int_equal(t.seqnum, 0);
	vcpu_track_init(&t);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 0xffffffffu)), VS_APPLIED);
	assert_int_equal(t.seqnum, 0xffffffffu);
}

static void test_vcpu_stale_ignored(void **state)
{
	struct vs_vcpu_track t;

	vcpu_track_init(&t);
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_ON_CPU, 10, 4, 1)), VS_APPLIED);

	/* Older: counted, ignored. */
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_BLOCKED, 9)), VS_STALE);
	/* Equal: a duplicate, counted, ignored. */
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_DEAD, 10)), VS_STALE);
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_ON_CPU, 3, 9, 1)), VS_STALE);
	assert_int_equal(t.stale, 3);
	assert_int_equal(t.applied, 1);
	assert_int_equal(t.state, VS_VCPU_RUNNING);
	assert_int_equal(t.cpu, 4);
	assert_int_equal(t.seqnum, 10);
	assert_int_equal(t.last_event_ns, 10007);

	/* Newer is applied again. */
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_BLOCKED, 11)), VS_APPLIED);
	assert_int_equal(t.state, VS_VCPU_BLOCKED);
	assert_int_equal(t.applied, 2);
	assert_int_equal(t.stale, 3);

	/* A gap (lost messages) is fine: still newer. */
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 1000)), VS_APPLIED);
	assert_int_equal(t.seqnum, 1000);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_BLOCKED, 999)), VS_STALE);
	assert_int_equal(t.state, VS_VCPU_RUNNABLE);
}

/*
 * Messages 11..20 were dropped (ring buffer full); the maps say the latest was
 * a block at seqnum 20 on CPU 6. Queued messages up to 20 are then stale.
 */
static void test_vcpu_resync_after_drops(void **state)
{
	struct vs_vcpu_track t;

	vcpu_track_init(&t);
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_ON_CPU, 10, 4, 1)), VS_APPLIED);
	vcpu_track_resync(&t, 20, VS_MSG_VCPU_BLOCKED, 6);
	assert_int_equal(t.state, VS_VCPU_BLOCKED);
	assert_int_equal(t.seqnum, 20);
	assert_int_equal(t.cpu, 6);
	assert_int_equal(t.resyncs, 1);
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_ON_CPU, 15, 2, 1)), VS_STALE);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 20)), VS_STALE);
	assert_int_equal(t.state, VS_VCPU_BLOCKED);
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_ON_CPU, 21, 2, 1)), VS_APPLIED);
	assert_int_equal(t.state, VS_VCPU_RUNNING);
	assert_int_equal(t.cpu, 2);
}

/* A restarted agent resyncs a vCPU it has never seen a message about. */
static void test_vcpu_resync_fresh_and_garbage(void **state)
{
	struct vs_vcpu_track t;

	vcpu_track_init(&t);
	vcpu_track_resync(&t, 7, VS_MSG_VCPU_ON_CPU, 3);
	assert_true(t.seen);
	assert_int_equal(t.state, VS_VCPU_RUNNING);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_PREEMPTED, 7)), VS_STALE);
	/* An unknown type or CPU in the map gives unknown state, not a guess. */
	vcpu_track_resync(&t, 8, 999, VS_MAX_CPUS);
	assert_int_equal(t.state, VS_VCPU_UNKNOWN);
	assert_int_equal(t.cpu, 3);
	vcpu_track_resync(&t, 9, 0, -1);
	assert_int_equal(t.state, VS_VCPU_UNKNOWN);
	assert_int_equal(t.resyncs, 3);
}

/* Demand: a vCPU that woke or ran since the last plan, or runs or waits now, is active. */
static void test_vcpu_take_active(void **state)
{
	struct vs_vcpu_track t;

	vcpu_track_init(&t);
	assert_false(vcpu_track_take_active(&t));
	/* Woke, ran and blocked within one interval: active once, then not. */
	apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 1));
	apply(&t, msg(VS_MSG_VCPU_ON_CPU, 2, 3, 1));
	apply(&t, vmsg(VS_MSG_VCPU_BLOCKED, 3));
	assert_true(vcpu_track_take_active(&t));
	assert_false(vcpu_track_take_active(&t));
	/* Running through a whole interval sends nothing, and is active. */
	apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 4));
	apply(&t, msg(VS_MSG_VCPU_ON_CPU, 5, 3, 2));
	assert_true(vcpu_track_take_active(&t));
	assert_true(vcpu_track_take_active(&t));
	apply(&t, vmsg(VS_MSG_VCPU_BLOCKED, 6));
	assert_false(vcpu_track_take_active(&t));
	/* A wakeup delivered after a newer message still happened. */
	apply(&t, vmsg(VS_MSG_VCPU_BLOCKED, 8));
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 7)), VS_STALE);
	assert_true(vcpu_track_take_active(&t));
	/* Messages lost: a resynced vCPU counts as active for that interval. */
	vcpu_track_resync(&t, 20, VS_MSG_VCPU_BLOCKED, 3);
	assert_true(vcpu_track_take_active(&t));
	assert_false(vcpu_track_take_active(&t));
	/* Departing or escaping is no demand. */
	apply(&t, vmsg(VS_MSG_VCPU_DEPARTED, 21));
	assert_false(vcpu_track_take_active(&t));
}

/* A vCPU that entered SCHED_EXT asleep (VCPU_NEW only) is not known runnable. */
static void test_vcpu_known_runnable(void **state)
{
	struct vs_vcpu_track t;

	vcpu_track_init(&t);
	assert_false(vcpu_track_known_runnable(&t));
	apply(&t, vmsg(VS_MSG_VCPU_NEW, 1));
	assert_false(vcpu_track_known_runnable(&t));
	apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 2));
	assert_true(vcpu_track_known_runnable(&t));
	apply(&t, msg(VS_MSG_VCPU_ON_CPU, 3, 1, 1));
	assert_true(vcpu_track_known_runnable(&t));
	apply(&t, vmsg(VS_MSG_VCPU_PREEMPTED, 4));
	assert_true(vcpu_track_known_runnable(&t));
	apply(&t, vmsg(VS_MSG_VCPU_BLOCKED, 5));
	assert_false(vcpu_track_known_runnable(&t));
	vcpu_track_resync(&t, 9, VS_MSG_VCPU_NEW, -1);
	assert_false(vcpu_track_known_runnable(&t));
	vcpu_track_resync(&t, 10, VS_MSG_VCPU_WAKEUP, -1);
	assert_true(vcpu_track_known_runnable(&t));
}

static void test_vcpu_seqnum_wrap(void **state)
{
	struct vs_vcpu_track t;

	vcpu_track_init(&t);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 0xfffffffeu)), VS_APPLIED);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_BLOCKED, 1)), VS_APPLIED); /* wrapped: newer */
	assert_int_equal(t.state, VS_VCPU_BLOCKED);
	assert_int_equal(t.seqnum, 1);
	/* And messages from before the wrap are now old. */
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 0xffffffffu)), VS_STALE);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 0xfffffffeu)), VS_STALE);
	assert_int_equal(t.state, VS_VCPU_BLOCKED);
	assert_int_equal(t.stale, 2);

	vcpu_track_init(&t);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 0xffffffffu)), VS_APPLIED);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_BLOCKED, 0)), VS_APPLIED);
	assert_int_equal(t.seqnum, 0);

	/* Without wrap, a huge jump backwards is old. */
	vcpu_track_init(&t);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 5)), VS_APPLIED);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_BLOCKED, 0xfffffff0u)), VS_STALE);
	assert_int_equal(t.state, VS_VCPU_RUNNABLE);
}

static void check_vcpu_invalid(struct vs_msg m)
{
	struct vs_vcpu_track t, before;

	vcpu_track_init(&t);
	assert_int_equal(apply(&t, msg(VS_MSG_VCPU_ON_CPU, 5, 1, 1)), VS_APPLIED);
	before = t;
	assert_int_equal(vcpu_track_apply(&t, &m), VS_INVALID);
	assert_int_equal(t.state, before.state);
	assert_int_equal(t.seqnum, before.seqnum);
	assert_int_equal(t.cpu, before.cpu);
	assert_int_equal(t.applied, before.applied);
	assert_int_equal(t.stale, before.stale); /* invalid is not stale */
	assert_int_equal(t.last_event_ns, before.last_event_ns);
}

static void test_vcpu_invalid(void **state)
{
	struct vs_msg m;
	struct vs_vcpu_track t;

	m = vmsg(VS_MSG_VCPU_BLOCKED, 6);
	m.length = sizeof(m) - 8;
	check_vcpu_invalid(m);
	m.length = sizeof(m) + 8;
	check_vcpu_invalid(m);
	m.length = 0;
	check_vcpu_invalid(m);

	check_vcpu_invalid(vmsg(0, 6));
	check_vcpu_invalid(vmsg(VS_MSG_VCPU_ESCAPED + 1, 6));
	check_vcpu_invalid(vmsg(VS_MSG_CPU_FIRST, 6));
	check_vcpu_invalid(msg(VS_MSG_VCPU_ON_CPU, 6, -1, 2));
	check_vcpu_invalid(msg(VS_MSG_VCPU_ON_CPU, 6, VS_MAX_CPUS, 2));
	check_vcpu_invalid(msg(VS_MSG_VCPU_BLOCKED, 6, 100000, 2));

	vcpu_track_init(&t);
	assert_int_equal(vcpu_track_apply(&t, NULL), VS_INVALID);
	/* An invalid first message does not make the track "seen". */
	m = vmsg(0, 100);
	assert_int_equal(vcpu_track_apply(&t, &m), VS_INVALID);
	assert_false(t.seen);
	assert_int_equal(apply(&t, vmsg(VS_MSG_VCPU_WAKEUP, 1)), VS_APPLIED);
}

/* ---- cpu_track ---- */

static void test_cpu_init(void **state)
{
	struct vs_cpu_track c;

	memset(&c, 0xff, sizeof(c));
	cpu_track_init(&c);
	assert_false(c.seen);
	assert_int_equal(c.running_tid, 0);
	assert_int_equal(c.stale, 0);
	assert_int_equal(c.cpu_seqnum, 0);
}

static void test_cpu_running_tid(void **state)
{
	struct vs_cpu_track c;

	cpu_track_init(&c);
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_ON_CPU, 101, 1)), VS_APPLIED);
	assert_true(c.seen);
	assert_int_equal(c.running_tid, 101);
	assert_int_equal(c.cpu_seqnum, 1);

	/* Another vCPU's message does not clear it. */
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_WAKEUP, 202, 2)), VS_APPLIED);
	assert_int_equal(c.running_tid, 101);
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_BLOCKED, 202, 3)), VS_APPLIED);
	assert_int_equal(c.running_tid, 101);

	/* A later message about the running vCPU clears it. */
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_PREEMPTED, 101, 4)), VS_APPLIED);
	assert_int_equal(c.running_tid, 0);

	/* A new ON_CPU replaces the running vCPU. */
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_ON_CPU, 101, 5)), VS_APPLIED);
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_ON_CPU, 202, 6)), VS_APPLIED);
	assert_int_equal(c.running_tid, 202);
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_BLOCKED, 101, 7)), VS_APPLIED);
	assert_int_equal(c.running_tid, 202);

	uint16_t leave[] = {VS_MSG_VCPU_BLOCKED, VS_MSG_VCPU_YIELD, VS_MSG_VCPU_DEPARTED,
			    VS_MSG_VCPU_DEAD};
	for (size_t i = 0; i < sizeof(leave) / sizeof(leave[0]); i++) {
		cpu_track_init(&c);
		assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_ON_CPU, 303, 10)), VS_APPLIED);
		assert_int_equal(capply(&c, cmsg(leave[i], 303, 11)), VS_APPLIED);
		assert_int_equal(c.running_tid, 0);
	}
	assert_int_equal(c.stale, 0);
}

static void test_cpu_ordering(void **state)
{
	struct vs_cpu_track c;

	cpu_track_init(&c);
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_ON_CPU, 101, 20)), VS_APPLIED);
	/* An older message (delivered late) must not clear the running vCPU. */
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_PREEMPTED, 101, 19)), VS_STALE);
	assert_int_equal(c.running_tid, 101);
	/* Nor may an older ON_CPU of another vCPU replace it. */
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_ON_CPU, 202, 18)), VS_STALE);
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_ON_CPU, 202, 20)), VS_STALE);
	assert_int_equal(c.running_tid, 101);
	assert_int_equal(c.cpu_seqnum, 20);
	assert_int_equal(c.stale, 3);

	/* Ordering is by cpu_seqnum, not the vCPU seqnum. */
	struct vs_msg m = cmsg(VS_MSG_VCPU_BLOCKED, 101, 21);
	m.seqnum = 0;
	assert_int_equal(cpu_track_apply(&c, &m), VS_APPLIED);
	assert_int_equal(c.running_tid, 0);
	assert_int_equal(c.cpu_seqnum, 21);
}

static void test_cpu_seqnum_wrap(void **state)
{
	struct vs_cpu_track c;

	cpu_track_init(&c);
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_ON_CPU, 101, 0xfffffffeu)), VS_APPLIED);
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_ON_CPU, 202, 1)), VS_APPLIED);
	assert_int_equal(c.running_tid, 202);
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_ON_CPU, 101, 0xffffffffu)), VS_STALE);
	assert_int_equal(c.running_tid, 202);
	assert_int_equal(c.stale, 1);
}

static void test_cpu_resync(void **state)
{
	struct vs_cpu_track c;

	cpu_track_init(&c);
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_ON_CPU, 11, 5)), VS_APPLIED);
	cpu_track_resync(&c, 40, 12);
	assert_int_equal(c.running_tid, 12);
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_PREEMPTED, 12, 40)), VS_STALE);
	assert_int_equal(c.running_tid, 12);
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_PREEMPTED, 12, 41)), VS_APPLIED);
	assert_int_equal(c.running_tid, 0);
}

static void test_cpu_invalid(void **state)
{
	struct vs_cpu_track c;
	struct vs_msg m;

	cpu_track_init(&c);
	assert_int_equal(capply(&c, cmsg(VS_MSG_VCPU_ON_CPU, 101, 5)), VS_APPLIED);

	m = cmsg(VS_MSG_VCPU_ON_CPU, 202, 6);
	m.length = 1;
	assert_int_equal(cpu_track_apply(&c, &m), VS_INVALID);
	m = cmsg(0, 101, 6);
	assert_int_equal(cpu_track_apply(&c, &m), VS_INVALID);
	m = cmsg(VS_MSG_CPU_FIRST, 101, 6);
	assert_int_equal(cpu_track_apply(&c, &m), VS_INVALID);
	m = cmsg(VS_MSG_VCPU_ON_CPU, 202, 6);
	m.cpu = VS_MAX_CPUS;
	assert_int_equal(cpu_track_apply(&c, &m), VS_INVALID);
	m.cpu = -1;
	assert_int_equal(cpu_track_apply(&c, &m), VS_INVALID);
	assert_int_equal(cpu_track_apply(&c, NULL), VS_INVALID);

	assert_int_equal(c.running_tid, 101);
	assert_int_equal(c.cpu_seqnum, 5);
	assert_int_equal(c.stale, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_msg_valid),
	    cmocka_unit_test(test_vcpu_init),
	    cmocka_unit_test(test_vcpu_known_runnable),
	    cmocka_unit_test(test_vcpu_transitions),
	    cmocka_unit_test(test_vcpu_lifecycle_and_cpu),
	    cmocka_unit_test(test_vcpu_escaped_keeps_state),
	    cmocka_unit_test(test_vcpu_first_message_any_seqnum),
	    cmocka_unit_test(test_vcpu_stale_ignored),
	    cmocka_unit_test(test_vcpu_resync_after_drops),
	    cmocka_unit_test(test_vcpu_resync_fresh_and_garbage),
	    cmocka_unit_test(test_vcpu_take_active),
	    cmocka_unit_test(test_vcpu_seqnum_wrap),
	    cmocka_unit_test(test_vcpu_invalid),
	    cmocka_unit_test(test_cpu_init),
	    cmocka_unit_test(test_cpu_running_tid),
	    cmocka_unit_test(test_cpu_ordering),
	    cmocka_unit_test(test_cpu_seqnum_wrap),
	    cmocka_unit_test(test_cpu_resync),
	    cmocka_unit_test(test_cpu_invalid),
	};

	return cmocka_run_group_tests_name("vcpu_track", tests, NULL, NULL);
}
