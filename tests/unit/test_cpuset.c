/* Unit tests: cpuset (vmm-sched/lib/cpuset.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "cpuset.h"

static char err[256];

/* Parse @list, expecting success; return the set. */
static struct vs_cpuset parse_ok(const char *list)
{
	struct vs_cpuset set;

	err[0] = '\0';
	assert_int_equal(cpuset_parse(&set, list, err, sizeof(err)), 0);
	return set;
}

/* Parse @list, expecting failure with a message that contains @needle. */
static void parse_bad(const char *list, const char *needle)
{
	struct vs_cpuset set;

	memset(err, 0, sizeof(err));
	assert_int_equal(cpuset_parse(&set, list, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	if (needle && !strstr(err, needle))
		fail_msg("error for '%s' is '%s', expected it to contain '%s'",
			 list ? list : "(null)", err, needle);
}

static void test_add_has_del_count(void **state)
{
	struct vs_cpuset s;

	cpuset_clear(&s);
	assert_int_equal(cpuset_count(&s), 0);
	assert_false(cpuset_has(&s, 0));
	cpuset_add(&s, 0);
	cpuset_add(&s, 63);
	cpuset_add(&s, 64);
	cpuset_add(&s, 255);
	cpuset_add(&s, 64); /* twice: still one */
	assert_int_equal(cpuset_count(&s), 4);
	assert_true(cpuset_has(&s, 0));
	assert_true(cpuset_has(&s, 63));
	assert_true(cpuset_has(&s, 64));
	assert_true(cpuset_has(&s, 255));
	assert_false(cpuset_has(&s, 1));
	assert_false(cpuset_has(&s, 65));
	assert_false(cpuset_has(&s, 254));
	cpuset_del(&s, 63);
	assert_false(cpuset_has(&s, 63));
	assert_true(cpuset_has(&s, 64));
	assert_int_equal(cpuset_count(&s), 3);
	cpuset_del(&s, 63); /* not there: no change */
	assert_int_equal(cpuset_count(&s), 3);
}

static void test_out_of_range_cpus_ignored(void **state)
{
	struct vs_cpuset s, empty;

	cpuset_clear(&s);
	cpuset_clear(&empty);
	cpuset_add(&s, -1);
	cpuset_add(&s, VS_MAX_CPUS);
	cpuset_add(&s, 100000);
	assert_true(cpuset_equal(&s, &empty));
	assert_false(cpuset_has(&s, -1));
	assert_false(cpuset_has(&s, VS_MAX_CPUS));
	cpuset_add(&s, 5);
	cpuset_del(&s, -1);
	cpuset_del(&s, VS_MAX_CPUS);
	assert_int_equal(cpuset_count(&s), 1);
	assert_true(cpuset_has(&s, 5));
}

static void test_next_and_for_each(void **state)
{
	struct vs_cpuset s;
	int cpu, seen[8], n = 0;

	cpuset_clear(&s);
	assert_int_equal(cpuset_next(&s, 0), -1);
	cpuset_add(&s, 3);
	cpuset_add(&s, 64);
	cpuset_add(&s, 200);
	cpuset_add(&s, 255);
	assert_int_equal(cpuset_next(&s, -5), 3);
	assert_int_equal(cpuset_next(&s, 0), 3);
	assert_int_equal(cpuset_next(&s, 3), 3);
	assert_int_equal(cpuset_next(&s, 4), 64);
	assert_int_equal(cpuset_next(&s, 64), 64);
	assert_int_equal(cpuset_next(&s, 65), 200);
	assert_int_equal(cpuset_next(&s, 201), 255);
	assert_int_equal(cpuset_next(&s, 256), -1);
	assert_int_equal(cpuset_next(&s, 1000), -1);

	cpuset_for_each(cpu, &s)
	{
		assert_true(n < 8);
		seen[n++] = cpu;
	}
	assert_int_equal(n, 4);
	assert_int_equal(seen[0], 3);
	assert_int_equal(seen[1], 64);
	assert_int_equal(seen[2], 200);
	assert_int_equal(seen[3], 255);
}

static void test_equal(void **state)
{
	struct vs_cpuset a, b;

	cpuset_clear(&a);
	cpuset_clear(&b);
	assert_true(cpuset_equal(&a, &b));
	cpuset_add(&a, 130);
	assert_false(cpuset_equal(&a, &b));
	cpuset_add(&b, 130);
	assert_true(cpuset_equal(&a, &b));
	cpuset_add(&b, 0);
	assert_false(cpuset_equal(&a, &b));
}

static void test_parse_list(void **state)
{
	struct vs_cpuset s = parse_ok("0-3,8");

	assert_int_equal(cpuset_count(&s), 5);
	for (int cpu = 0; cpu <= 3; cpu++)
		assert_true(cpuset_has(&s, cpu));
	assert_false(cpuset_has(&s, 4));
	assert_false(cpuset_has(&s, 7));
	assert_true(cpuset_has(&s, 8));
	assert_false(cpuset_has(&s, 9));
}

static void test_parse_single_and_ranges(void **state)
{
	struct vs_cpuset s;

	s = parse_ok("5");
	assert_int_equal(cpuset_count(&s), 1);
	assert_true(cpuset_has(&s, 5));

	s = parse_ok("0");
	assert_int_equal(cpuset_count(&s), 1);
	assert_true(cpuset_has(&s, 0));

	s = parse_ok("7-7");
	assert_int_equal(cpuset_count(&s), 1);
	assert_true(cpuset_has(&s, 7));

	s = parse_ok("0-1023");
	assert_int_equal(cpuset_count(&s), VS_MAX_CPUS);

	/* Unordered and overlapping pieces are a union. */
	s = parse_ok("8,0-3,2-4,8");
	assert_int_equal(cpuset_count(&s), 6);
	assert_true(cpuset_has(&s, 4));
	assert_true(cpuset_has(&s, 8));
	assert_false(cpuset_has(&s, 5));
}

static void test_parse_sysfs_newline(void **state)
{
	/* sysfs files end with a newline. */
	struct vs_cpuset s = parse_ok("0,4\n");

	assert_int_equal(cpuset_count(&s), 2);
	assert_true(cpuset_has(&s, 0));
	assert_true(cpuset_has(&s, 4));
}

static void test_parse_max_cpu(void **state)
{
	struct vs_cpuset s = parse_ok("1023");

	assert_int_equal(cpuset_count(&s), 1);
	assert_true(cpuset_has(&s, 1023));

	parse_bad("1024", "1024");
	parse_bad("1020-1024", "1024");
	parse_bad("99999", "99999");
	parse_bad("99999999999999999999999", NULL); /* overflows long */
}

static void test_parse_empty(void **state)
{
	parse_bad("", "empty");
	parse_bad(NULL, "empty");
}

static void test_parse_reversed_range(void **state)
{
	parse_bad("3-1", "3-1");
	parse_bad("0,5-4", "5-4");
}

static void test_parse_trailing_comma(void **state)
{
	parse_bad("1,", "comma");
}

static void test_parse_garbage(void **state)
{
	parse_bad("a", "'a'");
	parse_bad("0-", NULL);
	parse_bad("-1", NULL);
	parse_bad("-", NULL);
	parse_bad(",1", NULL);
	parse_bad("1,,2", NULL);
	parse_bad("1 ", NULL);
	parse_bad(" 1", NULL);
	parse_bad("1-2-3", NULL);
	parse_bad("0x1", "'x'");
	parse_bad("1;2", "';'");
	parse_bad("+1", NULL);
	parse_bad("\n", NULL);
}

static void test_parse_failure_clears_set(void **state)
{
	struct vs_cpuset s;

	cpuset_clear(&s);
	cpuset_add(&s, 42);
	assert_int_equal(cpuset_parse(&s, "", err, sizeof(err)), -1);
	assert_false(cpuset_has(&s, 42));
}

static void test_parse_tiny_err_buffer(void **state)
{
	struct vs_cpuset s;
	char small[4] = "xxx";

	assert_int_equal(cpuset_parse(&s, "3-1", small, sizeof(small)), -1);
	assert_int_equal(strlen(small), 3); /* truncated, terminated */
	assert_int_equal(cpuset_parse(&s, "3-1", NULL, 0), -1);
}

static void check_format(const char *list, const char *want)
{
	struct vs_cpuset s = parse_ok(list), back;
	char buf[1024];
	int n;

	memset(buf, 'X', sizeof(buf));
	n = cpuset_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));
	/* Round trip. */
	back = parse_ok(buf);
	assert_true(cpuset_equal(&s, &back));
}

static void test_format_round_trip(void **state)
{
	check_format("0-3,8", "0-3,8");
	check_format("8,3,2,1,0", "0-3,8");
	check_format("5", "5");
	check_format("1-2", "1-2");
	check_format("0,2,4", "0,2,4");
	check_format("0-255", "0-255");
	check_format("63-64", "63-64");
	check_format("0,63,64,127,128,255", "0,63-64,127-128,255");
	check_format("1-3,5-7,250-255", "1-3,5-7,250-255");
}

static void test_format_empty(void **state)
{
	struct vs_cpuset s;
	char buf[8] = "junk";

	cpuset_clear(&s);
	assert_int_equal(cpuset_format(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void test_format_truncated(void **state)
{
	struct vs_cpuset s = parse_ok("0-3,8,10");
	char buf[5];

	memset(buf, 'X', sizeof(buf));
	/* Like snprintf: the full length is returned, the output is cut and terminated. */
	assert_int_equal(cpuset_format(&s, buf, sizeof(buf)), (int)strlen("0-3,8,10"));
	assert_string_equal(buf, "0-3,");
	assert_int_equal(cpuset_format(&s, NULL, 0), (int)strlen("0-3,8,10"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_has_del_count),
	    cmocka_unit_test(test_out_of_range_cpus_ignored),
	    cmocka_unit_test(test_next_and_for_each),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_parse_list),
	    cmocka_unit_test(test_parse_single_and_ranges),
	    cmocka_unit_test(test_parse_sysfs_newline),
	    cmocka_unit_test(test_parse_max_cpu),
	    cmocka_unit_test(test_parse_empty),
	    cmocka_unit_test(test_parse_reversed_range),
	    cmocka_unit_test(test_parse_trailing_comma),
	    cmocka_unit_test(test_parse_garbage),
	    cmocka_unit_test(test_parse_failure_clears_set),
	    cmocka_unit_test(test_parse_tiny_err_buffer),
	    cmocka_unit_test(test_format_round_trip),
	    cmocka_unit_test(test_format_empty),
	    cmocka_unit_test(test_format_truncated),
	};

	return cmocka_run_group_tests_name("cpuset", tests, NULL, NULL);
}
