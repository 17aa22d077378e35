/* The proc connector's datagrams decoded and checked (vmm-sched/lib/proc_event.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "proc_event.h"

/* A datagram as the kernel sends it: netlink header, connector header, proc event. */
struct datagram {
	struct nlmsghdr nlh;
	struct cn_msg cn;
	struct proc_event pe;
} __attribute__((packed));

static struct datagram make(uint32_t what)
{
	struct datagram d;

	memset(&d, 0, sizeof(d));
	d.nlh.nlmsg_len = sizeof(d);
	d.nlh.nlmsg_type = NLMSG_DONE;
	d.cn.id.idx = CN_IDX_PROC;
	d.cn.id.val = CN_VAL_PROC;
	d.cn.len = sizeof(d.pe);
	d.pe.what = what;
	return d;
}

static int decode(const struct datagram *d, size_t len, uint32_t port, struct vs_proc_event *ev,
		  char *err)
{
	return proc_event_decode(d, len, port, ev, err, 200);
}

static void test_fork_exit_comm(void **state)
{
	struct datagram d = make(PROC_EVENT_FORK);
	struct vs_proc_event ev;
	char err[200];

	d.pe.event_data.fork.parent_pid = 100;
	d.pe.event_data.fork.parent_tgid = 100;
	d.pe.event_data.fork.child_pid = 105;
	d.pe.event_data.fork.child_tgid = 100;
	assert_int_equal(decode(&d, sizeof(d), 0, &ev, err), 0);
	assert_int_equal(ev.kind, VS_PROC_EV_FORK);
	assert_int_equal(ev.tid, 105);
	assert_int_equal(ev.tgid, 100);

	d = make(PROC_EVENT_EXIT);
	d.pe.event_data.exit.process_pid = 105;
	d.pe.event_data.exit.process_tgid = 100;
	assert_int_equal(decode(&d, sizeof(d), 0, &ev, err), 0);
	assert_int_equal(ev.kind, VS_PROC_EV_EXIT);
	assert_int_equal(ev.tid, 105);
	assert_int_equal(ev.tgid, 100);

	d = make(PROC_EVENT_COMM);
	d.pe.event_data.comm.process_pid = 106;
	d.pe.event_data.comm.process_tgid = 100;
	strcpy(d.pe.event_data.comm.comm, "CPU 1/KVM");
	assert_int_equal(decode(&d, sizeof(d), 0, &ev, err), 0);
	assert_int_equal(ev.kind, VS_PROC_EV_COMM);
	assert_int_equal(ev.tid, 106);
	assert_int_equal(ev.tgid, 100);
	assert_string_equal(ev.comm, "CPU 1/KVM");
	/* A name without its NUL (the kernel pads; a bad message may not) stays terminated. */
	memset(d.pe.event_data.comm.comm, 'x', sizeof(d.pe.event_data.comm.comm));
	assert_int_equal(decode(&d, sizeof(d), 0, &ev, err), 0);
	assert_int_equal(strlen(ev.comm), 15);
}

/* Which events about an enrolled VMM's threads call for its rescan. */
static void test_wants_rescan(void **state)
{
	struct vs_proc_event ev = {.kind = VS_PROC_EV_COMM, .tid = 106, .tgid = 100};

	strcpy(ev.comm, "CPU 1/KVM");
	assert_true(proc_event_wants_rescan(&ev, NULL, false));
	strcpy(ev.comm, "vcpu3");
	assert_true(proc_event_wants_rescan(&ev, NULL, false));
	/* qemu's I/O workers come and go all the time: no rescan. */
	strcpy(ev.comm, "worker");
	assert_false(proc_event_wants_rescan(&ev, NULL, false));
	ev.kind = VS_PROC_EV_FORK;
	assert_false(proc_event_wants_rescan(&ev, "qemu-system-x86", false));
	assert_false(proc_event_wants_rescan(&ev, NULL, false)); /* already gone */
	/* A thread created by a vCPU thread inherits its vCPU-like name. */
	assert_true(proc_event_wants_rescan(&ev, "CPU 0/KVM", false));
	ev.kind = VS_PROC_EV_EXIT;
	assert_false(proc_event_wants_rescan(&ev, NULL, false));
	assert_true(proc_event_wants_rescan(&ev, NULL, true));
	ev.tid = 100; /* the VMM's main thread */
	assert_true(proc_event_wants_rescan(&ev, NULL, false));
	ev.kind = VS_PROC_EV_OTHER;
	assert_false(proc_event_wants_rescan(&ev, "CPU 0/KVM", true));
}

static void test_ack_and_others(void **state)
{
	struct datagram d = make(PROC_EVENT_NONE);
	struct vs_proc_event ev;
	char err[200];

	d.pe.event_data.ack.err = 1; /* EPERM: the listen was refused */
	assert_int_equal(decode(&d, sizeof(d), 0, &ev, err), 0);
	assert_int_equal(ev.kind, VS_PROC_EV_ACK);
	assert_int_equal(ev.ack_err, 1);
	d = make(PROC_EVENT_EXEC);
	assert_int_equal(decode(&d, sizeof(d), 0, &ev, err), 0);
	assert_int_equal(ev.kind, VS_PROC_EV_OTHER);
}

/* Anything but the kernel's port is refused, whatever the message says. */
static void test_not_from_kernel(void **state)
{
	struct datagram d = make(PROC_EVENT_FORK);
	struct vs_proc_event ev;
	char err[200];

	d.pe.event_data.fork.child_pid = 5;
	d.pe.event_data.fork.child_tgid = 5;
	assert_int_equal(decode(&d, sizeof(d), 4242, &ev, err), -1);
	assert_non_null(strstr(err, "port 4242, not from the kernel"));
	d.nlh.nlmsg_pid = 77;
	assert_int_equal(decode(&d, sizeof(d), 0, &ev, err), -1);
	assert_non_null(strstr(err, "names port 77"));
}

static void test_short_and_inconsistent(void **state)
{
	struct datagram d = make(PROC_EVENT_FORK), bad;
	struct vs_proc_event ev;
	char err[200];

	d.pe.event_data.fork.child_pid = 5;
	d.pe.event_data.fork.child_tgid = 5;
	/* Every truncation of a valid datagram is refused, none read past the end. */
	for (size_t len = 0; len < sizeof(d); len++) {
		bad = d;
		bad.nlh.nlmsg_len = sizeof(d);
		assert_int_equal(decode(&bad, len, 0, &ev, err), -1);
	}
	assert_int_equal(decode(&d, 3, 0, &ev, err), -1);
	assert_non_null(strstr(err, "shorter than a netlink header"));
	bad = d;
	bad.nlh.nlmsg_len = 8;
	assert_int_equal(decode(&bad, sizeof(bad), 0, &ev, err), -1);
	assert_non_null(strstr(err, "netlink length 8"));
	bad = d;
	bad.nlh.nlmsg_len = NLMSG_HDRLEN + 4;
	assert_int_equal(decode(&bad, sizeof(bad), 0, &ev, err), -1);
	assert_non_null(strstr(err, "shorter than a connector header"));
	bad = d;
	bad.cn.len = 1000;
	assert_int_equal(decode(&bad, sizeof(bad), 0, &ev, err), -1);
	assert_non_null(strstr(err, "connector length 1000 exceeds"));
	bad = d;
	bad.cn.len = 4;
	assert_int_equal(decode(&bad, sizeof(bad), 0, &ev, err), -1);
	assert_non_null(strstr(err, "shorter than a proc event header"));
	/* A fork event cut before the child's ids. */
	bad = d;
	bad.cn.len = offsetof(struct proc_event, event_data.fork.child_pid);
	assert_int_equal(decode(&bad, sizeof(bad), 0, &ev, err), -1);
	assert_non_null(strstr(err, "shorter than its"));
}

static void test_wrong_kind_of_message(void **state)
{
	struct datagram d = make(PROC_EVENT_FORK), bad;
	struct vs_proc_event ev;
	char err[200];

	bad = d;
	bad.nlh.nlmsg_type = NLMSG_ERROR;
	assert_int_equal(decode(&bad, sizeof(bad), 0, &ev, err), -1);
	assert_non_null(strstr(err, "not NLMSG_DONE"));
	bad = d;
	bad.cn.id.idx = CN_IDX_PROC + 1;
	assert_int_equal(decode(&bad, sizeof(bad), 0, &ev, err), -1);
	assert_non_null(strstr(err, "not the proc connector"));
	/* Ids the kernel never sends. */
	bad = d;
	bad.pe.event_data.fork.child_pid = 0;
	bad.pe.event_data.fork.child_tgid = 7;
	assert_int_equal(decode(&bad, sizeof(bad), 0, &ev, err), -1);
	assert_non_null(strstr(err, "not a valid id"));
	bad.pe.event_data.fork.child_pid = 7;
	bad.pe.event_data.fork.child_tgid = -3;
	assert_int_equal(decode(&bad, sizeof(bad), 0, &ev, err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fork_exit_comm),
	    cmocka_unit_test(test_ack_and_others),
	    cmocka_unit_test(test_not_from_kernel),
	    cmocka_unit_test(test_short_and_inconsistent),
	    cmocka_unit_test(test_wrong_kind_of_message),
	    cmocka_unit_test(test_wants_rescan),
	};

	return cmocka_run_group_tests_name("proc_event", tests, NULL, NULL);
}
