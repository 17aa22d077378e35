/* Unit tests: libpvhint's critical-section counting (guest-agent/lib/pvhint.c)
 * on a slot the test owns, that enter/exit make no system call, and the exit
 * path's yield on the host's request (pvhint_yield.c) on host slots the test
 * writes, with the vCPU and the give-back faked. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest-agent/lib/pvhint.h"
#include "guest-agent/lib/pvhint_internal.h"
#include "guest-agent/lib/pvhint_yield.h"

#define NR_H2G 4

static struct pvhint_thread_slot slot;
static struct pvhint_h2g_slot h2g[NR_H2G];
static int fake_cpu;
static int give_backs;	     /* calls of the fake give-back */
static int give_back_result; /* what it returns (the driver: 1 acknowledged, 0 not) */

static int fake_cpu_of(void)
{
	return fake_cpu;
}

static int fake_give_back(void)
{
	give_backs++;
	return give_back_result;
}

/* The host asks vCPU @cpu to yield on exit, as pvhint_h2g_publish() writes it. */
static void host_asks(int cpu, uint64_t extensions)
{
	h2g[cpu].seq += 2;
	h2g[cpu].flags = PVHINT_H2G_YIELD_ON_EXIT;
	h2g[cpu].extensions = extensions;
	h2g[cpu].extended_ns = extensions * 50000;
}

static int setup(void **state)
{
	memset(&slot, 0, sizeof(slot));
	pvhint__use_slot(&slot, 7);
	pvhint__use_h2g(NULL, 0, NULL, NULL);
	return 0;
}

static int setup_h2g(void **state)
{
	setup(state);
	memset(h2g, 0, sizeof(h2g));
	fake_cpu = 1;
	give_backs = 0;
	give_back_result = 1;
	pvhint__use_h2g(h2g, NR_H2G, fake_cpu_of, fake_give_back);
	return 0;
}

static void section(void)
{
	pvhint_enter();
	pvhint_exit();
}

static void test_enter_exit_nest(void **state)
{
	assert_int_equal(pvhint_slot_index(), 7);
	pvhint_enter();
	assert_int_equal(slot.depth, 1);
	assert_true(slot.since_ns > 0);
	uint64_t since = slot.since_ns;
	pvhint_enter();
	assert_int_equal(slot.depth, 2);
	assert_int_equal(slot.since_ns, since); /* only 0 -> 1 stamps the time */
	pvhint_exit();
	pvhint_exit();
	assert_int_equal(slot.depth, 0);
	assert_int_equal(pvhint_depth(), 0);
}

static void test_exit_without_enter_stays_zero(void **state)
{
	pvhint_exit();
	assert_int_equal(slot.depth, 0);
	pvhint_enter();
	assert_int_equal(slot.depth, 1);
	pvhint_exit();
}

static void test_depth_capped_and_balanced(void **state)
{
	for (unsigned int i = 0; i < PVHINT_MAX_CS_DEPTH + 10; i++)
		pvhint_enter();
	assert_int_equal(slot.depth, PVHINT_MAX_CS_DEPTH); /* never published as malformed */
	for (unsigned int i = 0; i < 10; i++)
		pvhint_exit();
	assert_int_equal(slot.depth, PVHINT_MAX_CS_DEPTH); /* the excess unwinds first */
	for (unsigned int i = 0; i < PVHINT_MAX_CS_DEPTH; i++)
		pvhint_exit();
	assert_int_equal(slot.depth, 0);
}

/* In a child under strict seccomp (read, write, exit only; anything else kills
 * it), a registered thread's enter/exit run 1000 times: the fast path. */
static void test_fast_path_makes_no_system_call(void **state)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
			syscall(SYS_exit, 3);
		for (int i = 0; i < 1000; i++) {
			pvhint_enter();
			pvhint_exit();
		}
		syscall(SYS_exit, slot.depth == 0 ? 0 : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("enter/exit made a system call (child killed by signal %d)",
			 WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_no_request_no_yield(void **state)
{
	h2g[1].seq = 2;
	h2g[1].extensions = 5; /* extended before, but the flag is off: nothing asked */
	section();
	assert_int_equal(give_backs, 0);
	assert_int_equal(pvhint_yields(), 0);
}

static void test_request_yields_once_per_extension(void **state)
{
	host_asks(1, 3);
	section();
	assert_int_equal(give_backs, 1);
	assert_int_equal(pvhint_yields(), 1);
	section(); /* the flag stays on until the host's next batch: acknowledged already */
	section();
	assert_int_equal(give_backs, 1);
	host_asks(1, 4); /* another extension */
	section();
	assert_int_equal(give_backs, 2);
	assert_int_equal(pvhint_yields(), 2);
	h2g[1].seq += 2;
	h2g[1].flags = 0; /* the host took the request back */
	section();
	assert_int_equal(give_backs, 2);
}

static void test_only_outermost_exit_yields(void **state)
{
	host_asks(1, 1);
	pvhint_enter();
	pvhint_enter();
	pvhint_exit();
	assert_int_equal(give_backs, 0); /* still inside the outer section */
	pvhint_exit();
	assert_int_equal(give_backs, 1);
	pvhint_exit(); /* unbalanced: no section ended */
	assert_int_equal(give_backs, 1);
}

static void test_request_is_per_vcpu(void **state)
{
	host_asks(2, 9); /* another vCPU's request is not ours */
	section();
	assert_int_equal(give_backs, 0);
	fake_cpu = 2; /* the thread migrated there */
	section();
	assert_int_equal(give_backs, 1);
	fake_cpu = 3;
	host_asks(3, 9); /* the same count on another vCPU is another extension */
	section();
	assert_int_equal(give_backs, 2);
}

static void test_driver_refusal_not_counted(void **state)
{
	give_back_result = 0; /* another thread acknowledged it on this vCPU first */
	host_asks(1, 2);
	section();
	assert_int_equal(give_backs, 1);
	assert_int_equal(pvhint_yields(), 0);
	section(); /* acknowledged by this thread all the same: no second call */
	assert_int_equal(give_backs, 1);
}

/* Whatever the host part holds, a bad request is no request and nothing is read out of bounds. */
static void test_garbage_is_no_request(void **state)
{
	host_asks(1, 7);
	h2g[1].seq = 3; /* torn for good */
	section();
	h2g[1].seq = 4;
	h2g[1].flags = 0xffffffffu; /* bits this library does not know */
	section();
	h2g[1].flags = PVHINT_H2G_YIELD_ON_EXIT;
	h2g[1].disabled = 1; /* the host stopped using this VM's hints */
	section();
	h2g[1].disabled = 0;
	h2g[1].extensions = 0; /* "extended" with no extension */
	section();
	assert_int_equal(give_backs, 0);
	h2g[1].extensions = 7;
	fake_cpu = NR_H2G; /* a vCPU beyond the slots */
	section();
	fake_cpu = -1; /* sched_getcpu() failed */
	section();
	assert_int_equal(give_backs, 0);
	fake_cpu = 1;
	section();
	assert_int_equal(give_backs, 1);
}

/* The pure rule alone: acknowledgement is per vCPU and count. */
static void test_yield_due_rule(void **state)
{
	struct pvhint_yield_seen seen = PVHINT_YIELD_SEEN_NONE;

	assert_false(pvhint_yield_due(NULL, NR_H2G, 1, &seen));
	host_asks(0, 5);
	assert_true(pvhint_yield_due(h2g, NR_H2G, 0, &seen));
	assert_int_equal(seen.cpu, 0);
	assert_int_equal(seen.extensions, 5);
	assert_false(pvhint_yield_due(h2g, NR_H2G, 0, &seen));
	assert_false(pvhint_yield_due(h2g, 0, 0, &seen)); /* no slots mapped */
}

/* With host slots mapped but nothing asked, the exit path still makes no system call. */
static void test_fast_path_with_host_slots_makes_no_system_call(void **state)
{
	h2g[1].seq = 2;
	h2g[1].extensions = 5;
	test_fast_path_makes_no_system_call(state);
	assert_int_equal(give_backs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_enter_exit_nest, setup),
	    cmocka_unit_test_setup(test_exit_without_enter_stays_zero, setup),
	    cmocka_unit_test_setup(test_depth_capped_and_balanced, setup),
	    cmocka_unit_test_setup(test_fast_path_makes_no_system_call, setup),
	    cmocka_unit_test_setup(test_no_request_no_yield, setup_h2g),
	    cmocka_unit_test_setup(test_request_yields_once_per_extension, setup_h2g),
	    cmocka_unit_test_setup(test_only_outermost_exit_yields, setup_h2g),
	    cmocka_unit_test_setup(test_request_is_per_vcpu, setup_h2g),
	    cmocka_unit_test_setup(test_driver_refusal_not_counted, setup_h2g),
	    cmocka_unit_test_setup(test_garbage_is_no_request, setup_h2g),
	    cmocka_unit_test_setup(test_yield_due_rule, setup_h2g),
	    cmocka_unit_test_setup(test_fast_path_with_host_slots_makes_no_system_call, setup_h2g),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
