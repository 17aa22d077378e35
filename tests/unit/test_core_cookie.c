/* Unit tests: PR_SCHED_CORE cookie handling (vmm-sched/lib/core_cookie.c). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "core_cookie.h"

#define TID 4242

/* A scripted kernel: what each get() returns in turn, and what clear() returns. */
struct fake_kernel {
	int get_rc[2];
	uint64_t get_cookie[2];
	int nr_gets;
	int clear_rc;
	int nr_clears;
	int last_tid;
};

static int fake_get(void *ctx, int tid, uint64_t *cookie)
{
	struct fake_kernel *k = ctx;
	int i = k->nr_gets++;

	assert_true(i < 2);
	k->last_tid = tid;
	if (k->get_rc[i])
		return k->get_rc[i];
	*cookie = k->get_cookie[i];
	return 0;
}

static int fake_clear(void *ctx, int tid)
{
	struct fake_kernel *k = ctx;

	k->nr_clears++;
	assert_int_equal(tid, TID);
	return k->clear_rc;
}

static char err[512];

static enum vs_core_cookie_result run(struct fake_kernel *k, enum vs_core_cookie_mode mode,
				      uint64_t *cookie)
{
	const struct vs_core_cookie_ops ops = {.get = fake_get, .clear = fake_clear, .ctx = k};

	memset(err, 0, sizeof(err));
	*cookie = 0xdeadULL;
	return core_cookie_enforce(&ops, TID, mode, cookie, err, sizeof(err));
}

static void expect_err(const char *needle)
{
	if (!strstr(err, needle))
		fail_msg("error is '%s', expected it to contain '%s'", err, needle);
}

static void test_mode_parse(void **state)
{
	enum vs_core_cookie_mode m = VS_CORE_COOKIE_REFUSE;

	assert_int_equal(core_cookie_mode_parse("clear", &m), 0);
	assert_int_equal(m, VS_CORE_COOKIE_CLEAR);
	assert_int_equal(core_cookie_mode_parse("refuse", &m), 0);
	assert_int_equal(m, VS_CORE_COOKIE_REFUSE);
	assert_int_equal(core_cookie_mode_parse("", &m), -1);
	assert_int_equal(core_cookie_mode_parse(NULL, &m), -1);
	assert_int_equal(core_cookie_mode_parse("Clear", &m), -1);
	assert_int_equal(core_cookie_mode_parse("refuse ", &m), -1);
	assert_int_equal(m, VS_CORE_COOKIE_REFUSE); /* untouched on failure */
	assert_string_equal(core_cookie_mode_name(VS_CORE_COOKIE_CLEAR), "clear");
	assert_string_equal(core_cookie_mode_name(VS_CORE_COOKIE_REFUSE), "refuse");
}

/* EINVAL (no CONFIG_SCHED_CORE) and ENODEV (no SMT): no cookie, nothing said. */
static void test_kernel_without_core_scheduling(void **state)
{
	const int codes[] = {-EINVAL, -ENODEV};

	for (int mode = VS_CORE_COOKIE_CLEAR; mode <= VS_CORE_COOKIE_REFUSE; mode++) {
		for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
			struct fake_kernel k = {.get_rc = {codes[i]}};
			uint64_t cookie;

			assert_int_equal(run(&k, mode, &cookie), VS_CORE_COOKIE_NONE);
			assert_int_equal(cookie, 0);
			assert_int_equal(k.nr_gets, 1);
			assert_int_equal(k.last_tid, TID);
			assert_int_equal(k.nr_clears, 0);
			assert_string_equal(err, "");
		}
	}
}

static void test_no_cookie(void **state)
{
	for (int mode = VS_CORE_COOKIE_CLEAR; mode <= VS_CORE_COOKIE_REFUSE; mode++) {
		struct fake_kernel k = {0};
		uint64_t cookie;

		assert_int_equal(run(&k, mode, &cookie), VS_CORE_COOKIE_NONE);
		assert_int_equal(cookie, 0);
		assert_int_equal(k.nr_clears, 0);
		assert_string_equal(err, "");
	}
}

static void test_refuse_names_thread_and_cookie(void **state)
{
	struct fake_kernel k = {.get_cookie = {0xfeedface12345678ULL}};
	uint64_t cookie;

	assert_int_equal(run(&k, VS_CORE_COOKIE_REFUSE, &cookie), VS_CORE_COOKIE_REFUSED);
	assert_int_equal(cookie, 0xfeedface12345678ULL);
	assert_int_equal(k.nr_clears, 0);
	expect_err("thread 4242 ");
	expect_err("0xfeedface12345678");
	expect_err("--core-cookie clear");
}

static void test_clear(void **state)
{
	struct fake_kernel k = {.get_cookie = {0x77, 0}};
	uint64_t cookie;

	assert_int_equal(run(&k, VS_CORE_COOKIE_CLEAR, &cookie), VS_CORE_COOKIE_CLEARED);
	assert_int_equal(cookie, 0x77);
	assert_int_equal(k.nr_clears, 1);
	assert_int_equal(k.nr_gets, 2); /* checked afterwards */
	assert_string_equal(err, "");
}

static void test_clear_refused_by_kernel(void **state)
{
	struct fake_kernel k = {.get_cookie = {0x77}, .clear_rc = -EPERM};
	uint64_t cookie;

	assert_int_equal(run(&k, VS_CORE_COOKIE_CLEAR, &cookie), VS_CORE_COOKIE_FAILED);
	assert_int_equal(cookie, 0x77);
	expect_err("cannot clear core scheduling cookie 0x77 of thread 4242");
	expect_err(strerror(EPERM));
}

/* Clearing pushes the agent's own cookie; if it has one the thread keeps a cookie. */
static void test_cookie_survives_clearing(void **state)
{
	struct fake_kernel k = {.get_cookie = {0x77, 0x99}};
	uint64_t cookie;

	assert_int_equal(run(&k, VS_CORE_COOKIE_CLEAR, &cookie), VS_CORE_COOKIE_FAILED);
	expect_err("thread 4242 still has core scheduling cookie 0x99 after clearing 0x77");
}

static void test_read_errors(void **state)
{
	struct fake_kernel gone = {.get_rc = {-ESRCH}}, denied = {.get_rc = {-EPERM}};
	struct fake_kernel gone_later = {.get_cookie = {0x77}, .get_rc = {0, -ESRCH}};
	uint64_t cookie;

	assert_int_equal(run(&gone, VS_CORE_COOKIE_CLEAR, &cookie), VS_CORE_COOKIE_FAILED);
	assert_int_equal(cookie, 0);
	expect_err("thread 4242 exited");
	assert_int_equal(run(&denied, VS_CORE_COOKIE_REFUSE, &cookie), VS_CORE_COOKIE_FAILED);
	expect_err("cannot read the core scheduling cookie of thread 4242");
	expect_err(strerror(EPERM));
	assert_int_equal(run(&gone_later, VS_CORE_COOKIE_CLEAR, &cookie), VS_CORE_COOKIE_FAILED);
	expect_err("thread 4242 exited");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mode_parse),
	    cmocka_unit_test(test_kernel_without_core_scheduling),
	    cmocka_unit_test(test_no_cookie),
	    cmocka_unit_test(test_refuse_names_thread_and_cookie),
	    cmocka_unit_test(test_clear),
	    cmocka_unit_test(test_clear_refused_by_kernel),
	    cmocka_unit_test(test_cookie_survives_clearing),
	    cmocka_unit_test(test_read_errors),
	};

	return cmocka_run_group_tests_name("core_cookie", tests, NULL, NULL);
}
