/* Unit tests: control connections, framing and the full table (vmm-sched/lib/ctl_conn.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "ctl_conn.h"

static void test_framing(void **state)
{
	static char big[VS_CTL_MAX_REQUEST + 1];

	assert_int_equal(ctl_request_framing("{\"a\"", 4, false), VS_CTL_REQ_MORE);
	assert_int_equal(ctl_request_framing("{}\n", 3, false), VS_CTL_REQ_COMPLETE);
	assert_int_equal(ctl_request_framing("{}", 2, true), VS_CTL_REQ_COMPLETE);
	assert_int_equal(ctl_request_framing("", 0, false), VS_CTL_REQ_MORE);
	memset(big, 'x', sizeof(big));
	assert_int_equal(ctl_request_framing(big, VS_CTL_MAX_REQUEST, false), VS_CTL_REQ_MORE);
	assert_int_equal(ctl_request_framing(big, VS_CTL_MAX_REQUEST + 1, false),
			 VS_CTL_REQ_TOO_LONG);
	assert_int_equal(ctl_request_framing(big, VS_CTL_MAX_REQUEST + 1, true),
			 VS_CTL_REQ_TOO_LONG);
	big[VS_CTL_MAX_REQUEST - 1] = '\n';
	assert_int_equal(ctl_request_framing(big, VS_CTL_MAX_REQUEST + 1, false),
			 VS_CTL_REQ_COMPLETE);
}

static struct vs_ctl_conn conns[4];

static void fill(int fd, bool replying, uint64_t opened)
{
	conns[fd].fd = fd + 10;
	conns[fd].replying = replying;
	conns[fd].opened_ns = opened;
}

static void test_pick_slot(void **state)
{
	for (int i = 0; i < 4; i++)
		conns[i].fd = -1;
	assert_int_equal(ctl_conn_pick_slot(conns, 4), 0);
	fill(0, false, 500);
	fill(1, false, 100);
	fill(2, true, 50);
	assert_int_equal(ctl_conn_pick_slot(conns, 4), 3); /* a free one first */
	fill(3, false, 300);
	/* Full: the oldest still sending its request, not one receiving a reply. */
	assert_int_equal(ctl_conn_pick_slot(conns, 4), 1);
	for (int i = 0; i < 4; i++)
		conns[i].replying = true;
	assert_int_equal(ctl_conn_pick_slot(conns, 4), -1); /* refuse the new one */
}

static void test_deadline(void **state)
{
	struct vs_ctl_conn c = {.fd = 3, .deadline_ns = 2000};

	assert_false(ctl_conn_expired(&c, 1999));
	assert_true(ctl_conn_expired(&c, 2000));
	c.fd = -1;
	assert_false(ctl_conn_expired(&c, 5000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_framing),
	    cmocka_unit_test(test_pick_slot),
	    cmocka_unit_test(test_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
