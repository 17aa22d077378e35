/*
 * Unit tests: the Prometheus text format (lib/prom_text.c): label values are
 * operator input (VM names) and must come out escaped; names are checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "prom_text.h"

static void escapes_quote_backslash_newline(void **state)
{
	struct prom_buf b = {0};

	prom_escape_label_value(&b, "a\"b\\c\nd");
	assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
	prom_buf_free(&b);
}

static void plain_and_empty_values_unchanged(void **state)
{
	struct prom_buf b = {0};

	prom_escape_label_value(&b, "");
	prom_escape_label_value(&b, "vm-1 {x}=y,");
	assert_string_equal(b.data, "vm-1 {x}=y,");
	prom_buf_free(&b);
}

static void sample_with_labels(void **state)
{
	struct prom_buf b = {0};
	const struct prom_label l[] = {{"vm", "we\"ird\nname\\"}, {"pid", "42"}};

	prom_sample_ns_as_seconds(&b, "vmm_sched_vm_run_seconds_total", l, 2, 1500000001ULL);
	assert_false(b.failed);
	assert_string_equal(
	    b.data, "vmm_sched_vm_run_seconds_total{vm=\"we\\\"ird\\nname\\\\\",pid=\"42\"} "
		    "1.500000001\n");
	prom_buf_free(&b);
}

static void sample_without_labels_and_units(void **state)
{
	struct prom_buf b = {0};

	prom_sample_u64(&b, "a_total", NULL, 0, UINT64_MAX);
	prom_sample_ns_as_seconds(&b, "b_seconds", NULL, 0, 7);
	prom_sample_milli(&b, "c", NULL, 0, 2050);
	assert_string_equal(b.data, "a_total 18446744073709551615\n"
				    "b_seconds 0.000000007\n"
				    "c 2.050\n");
	prom_buf_free(&b);
}

static void family_help_and_type(void **state)
{
	struct prom_buf b = {0};

	prom_family(&b, "x_total", "counter", "two\nlines with a \\ and \"quotes\"");
	assert_string_equal(b.data, "# HELP x_total two\\nlines with a \\\\ and \"quotes\"\n"
				    "# TYPE x_total counter\n");
	prom_buf_free(&b);
}

static void metric_names(void **state)
{
	assert_true(prom_metric_name_valid("vmm_sched_vm_run_seconds_total"));
	assert_true(prom_metric_name_valid("ns:rule_x"));
	assert_true(prom_metric_name_valid("_x9"));
	assert_false(prom_metric_name_valid(""));
	assert_false(prom_metric_name_valid("9x"));
	assert_false(prom_metric_name_valid("vmm-sched"));
	assert_false(prom_metric_name_valid("a b"));
	assert_false(prom_metric_name_valid("a\"b"));
	assert_true(prom_label_name_valid("vm"));
	assert_false(prom_label_name_valid("a:b"));
	assert_false(prom_label_name_valid("__name__"));
}

static void bad_names_fail_the_buffer(void **state)
{
	struct prom_buf b = {0};
	const struct prom_label bad_label = {"bad-label", "v"};

	prom_sample_u64(&b, "ok", &bad_label, 1, 1);
	assert_true(b.failed);
	prom_buf_free(&b);
	prom_family(&b, "bad name", "gauge", "h");
	assert_true(b.failed);
	prom_buf_free(&b);
}

static void grows_past_first_allocation(void **state)
{
	struct prom_buf b = {0};
	size_t lines = 2000;

	for (size_t i = 0; i < lines; i++)
		prom_sample_u64(&b, "vmm_sched_some_counter_total", NULL, 0, 123456789);
	assert_false(b.failed);
	assert_int_equal(b.len, lines * strlen("vmm_sched_some_counter_total 123456789\n"));
	prom_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(escapes_quote_backslash_newline),
	    cmocka_unit_test(plain_and_empty_values_unchanged),
	    cmocka_unit_test(sample_with_labels),
	    cmocka_unit_test(sample_without_labels_and_units),
	    cmocka_unit_test(family_help_and_type),
	    cmocka_unit_test(metric_names),
	    cmocka_unit_test(bad_names_fail_the_buffer),
	    cmocka_unit_test(grows_past_first_allocation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
