/* Unit tests: libpvhint's critical-section counting (guest-agent/lib/pvhint.c)
 * on a slot the test owns, and that enter/exit make no system call. */
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

static struct pvhint_thread_slot slot;

static int setup(void **state)
{
	memset(&slot, 0, sizeof(slot));
	pvhint__use_slot(&slot, 7);
	return 0;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_enter_exit_nest, setup),
	    cmocka_unit_test_setup(test_exit_without_enter_stays_zero, setup),
	    cmocka_unit_test_setup(test_depth_capped_and_balanced, setup),
	    cmocka_unit_test_setup(test_fast_path_makes_no_system_call, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
