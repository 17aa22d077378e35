/* Unit tests: settings from the command line and vmm-sched.conf (options.c, config_parse.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config_parse.h"
#include "options.h"

static char said[4096];

static void collect(void *ctx, const char *msg)
{
	strncat(said, msg, sizeof(said) - strlen(said) - 2);
	strcat(said, "\n");
}

/* Parses @text as the file "t.conf" into @opt; returns the number of errors. */
static int parse_text(struct vs_options *opt, const char *text)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	int errors;

	assert_non_null(in);
	said[0] = '\0';
	errors = config_parse_stream(opt, in, "t.conf", collect, NULL);
	fclose(in);
	return errors;
}

static void cli(struct vs_options *opt, const char *option, const char *value)
{
	char err[256];

	assert_int_equal(
	    options_set(opt, options_key_by_option(option), value, VS_FROM_CLI, err, sizeof(err)),
	    0);
}

static void file_sets_every_kind(void **state)
{
	struct vs_options opt;

	options_init(&opt);
	assert_int_equal(parse_text(&opt, "[scheduler]\ncpus = 2-7\npairing = relaxed\n"
					  "slice-us = 2000 ; a comment\ntarget-latency-ms = 5\n"
					  "smt-pair-window-ms = 0\ncore-cookie = refuse\n"
					  "default-weight = 250\n"
					  "[control]\nsocket = /run/x.sock\n"
					  "[agent]\npin-dir = /sys/fs/bpf/x\nring-kb = 1024\n"),
			 0);
	assert_string_equal(opt.cpus, "2-7");
	assert_true(opt.relaxed);
	assert_int_equal(opt.slice_us, 2000);
	assert_int_equal(opt.target_latency_ms, 5);
	assert_int_equal(opt.pair_window_ms, 0);
	assert_int_equal(opt.core_cookie, VS_CORE_COOKIE_REFUSE);
	assert_int_equal(opt.default_weight, 250);
	assert_string_equal(opt.control_path, "/run/x.sock");
	assert_string_equal(opt.pin_dir, "/sys/fs/bpf/x");
	assert_int_equal(opt.ring_kb, 1024);
	options_free(&opt);
}

/* --placement and --epoch-ms: bpf by default, and a bad value is named. */
static void placement_and_epoch(void **state)
{
	struct vs_options opt;
	char err[256];

	options_init(&opt);
	assert_false(opt.placement_agent);
	assert_int_equal(opt.epoch_ms, 10);
	assert_int_equal(parse_text(&opt, "[agent]\nplacement = agent\nepoch-ms = 4\n"), 0);
	assert_true(opt.placement_agent);
	assert_int_equal(opt.epoch_ms, 4);
	cli(&opt, "placement", "bpf");
	assert_false(opt.placement_agent);
	assert_int_equal(options_set(&opt, options_key_by_option("placement"), "ghost", VS_FROM_CLI,
				     err, sizeof(err)),
			 -1);
	assert_string_equal(err, "'ghost' must be bpf or agent");
	assert_int_equal(options_set(&opt, options_key_by_option("epoch-ms"), "0", VS_FROM_CLI, err,
				     sizeof(err)),
			 -1);
	options_free(&opt);
}

/* --discovery and --safety-rescan-s: events every 30 s by default, bad values named. */
static void discovery_and_safety_rescan(void **state)
{
	struct vs_options opt;
	char err[256];

	options_init(&opt);
	assert_false(opt.discovery_poll);
	assert_int_equal(opt.safety_rescan_s, 30);
	assert_int_equal(parse_text(&opt, "[agent]\ndiscovery = poll\nsafety-rescan-s = 5\n"), 0);
	assert_true(opt.discovery_poll);
	assert_int_equal(opt.safety_rescan_s, 5);
	cli(&opt, "discovery", "events");
	assert_false(opt.discovery_poll);
	assert_int_equal(options_set(&opt, options_key_by_option("discovery"), "netlink",
				     VS_FROM_CLI, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "'netlink' must be events or poll");
	assert_int_equal(options_set(&opt, options_key_by_option("safety-rescan-s"), "0",
				     VS_FROM_CLI, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "'0' must be 1..3600");
	options_free(&opt);
}

/* The command line wins, whether the file is read before or after it. */
static void command_line_overrides_file(void **state)
{
	struct vs_options opt;

	options_init(&opt);
	cli(&opt, "slice-us", "700");
	cli(&opt, "cpus", "0-3");
	assert_int_equal(parse_text(&opt, "[scheduler]\ncpus = 2-7\nslice-us = 2000\n"
					  "target-latency-ms = 5\n"),
			 0);
	assert_int_equal(opt.slice_us, 700);
	assert_string_equal(opt.cpus, "0-3");
	assert_int_equal(opt.target_latency_ms, 5); /* not on the command line */
	assert_true(options_from_cli(&opt, "cpus"));
	assert_false(options_from_cli(&opt, "target-latency-ms"));
	cli(&opt, "target-latency-ms", "9");
	assert_int_equal(opt.target_latency_ms, 9);
	options_free(&opt);
}

/* A value the command line overrides is still checked. */
static void overridden_value_still_checked(void **state)
{
	struct vs_options opt;

	options_init(&opt);
	cli(&opt, "slice-us", "700");
	assert_int_equal(parse_text(&opt, "[scheduler]\nslice-us = 7\n"), 1);
	assert_non_null(strstr(said, "t.conf:2: slice-us in [scheduler]: '7' must be 50..1000000"));
	assert_int_equal(opt.slice_us, 700);
	options_free(&opt);
}

static void expect_error(const char *text, int errors, const char *needle)
{
	struct vs_options opt;

	options_init(&opt);
	assert_int_equal(parse_text(&opt, text), errors);
	if (!strstr(said, needle))
		fail_msg("expected '%s' in '%s'", needle, said);
	options_free(&opt);
}

/* --max-vms defaults to VS_DEFAULT_MAX_VMS and is refused above the ceiling VS_MAX_VMS. */
static void max_vms_default_and_range(void **state)
{
	struct vs_options opt;
	char err[256], want[64], value[16];

	options_init(&opt);
	assert_int_equal(opt.max_vms, VS_DEFAULT_MAX_VMS);
	cli(&opt, "max-vms", "2");
	assert_int_equal(opt.max_vms, 2);
	snprintf(want, sizeof(want), "'%d' must be 1..%d", VS_MAX_VMS + 1, VS_MAX_VMS);
	snprintf(value, sizeof(value), "%d", VS_MAX_VMS + 1);
	assert_int_equal(options_set(&opt, options_key_by_option("max-vms"), value, VS_FROM_CLI,
				     err, sizeof(err)),
			 -1);
	if (!strstr(err, want))
		fail_msg("expected '%s' in '%s'", want, err);
	assert_int_equal(opt.max_vms, 2);
	options_free(&opt);
	options_init(&opt);
	assert_int_equal(parse_text(&opt, "[agent]\nmax-vms = 3\n"), 0);
	assert_int_equal(opt.max_vms, 3);
	options_free(&opt);
}

/* --max-vcpus (max-vcpus in [agent]) defaults to VS_DEFAULT_MAX_VCPUS, 1..VS_MAX_VCPUS. */
static void max_vcpus_default_and_range(void **state)
{
	struct vs_options opt;
	char err[256];

	options_init(&opt);
	assert_int_equal(opt.max_vcpus, VS_DEFAULT_MAX_VCPUS);
	cli(&opt, "max-vcpus", "16384");
	assert_int_equal(opt.max_vcpus, VS_MAX_VCPUS);
	assert_int_equal(options_set(&opt, options_key_by_option("max-vcpus"), "16385", VS_FROM_CLI,
				     err, sizeof(err)),
			 -1);
	if (!strstr(err, "'16385' must be 1..16384"))
		fail_msg("unexpected error '%s'", err);
	options_free(&opt);
	options_init(&opt);
	assert_int_equal(parse_text(&opt, "[agent]\nmax-vcpus = 5\n"), 0);
	assert_int_equal(opt.max_vcpus, 5);
	options_free(&opt);
}

static void errors_name_file_line_key_and_allowed(void **state)
{
	expect_error("[scheduler]\n\nslise-us = 1\n", 1,
		     "t.conf:3: unknown key 'slise-us' in [scheduler]; its keys are cpus, pairing");
	expect_error("[sched]\nslice-us = 1\nbad = 2\n", 1,
		     "t.conf:1: unknown section [sched]; the sections are [scheduler], [control]");
	expect_error("[agent]\nring-kb = 5\n", 1,
		     "t.conf:2: ring-kb in [agent]: '5' must be a power of two 4..65536");
	expect_error("[scheduler]\nslice-us = 5x\n", 1, "'5x' must be 50..1000000");
	expect_error("[scheduler]\nslice-us = 99999999999999999999999\n", 1, "must be 50..1000000");
	expect_error("[scheduler]\ncpus = 1,a\n", 1, "t.conf:2: cpus in [scheduler]: '1,a' is not");
	expect_error("[scheduler]\ncore-cookie = keep\n", 1, "'keep' must be clear or refuse");
	expect_error("[control]\nsocket = rel\n", 1, "'rel' must be an absolute path");
	expect_error("slice-us = 100\n", 1, "t.conf:1: key 'slice-us' before any [section]");
	expect_error("[scheduler]\ncpus = 1\ncpus = 2\n", 1,
		     "t.conf:3: cpus in [scheduler] is set a "
		     "second time (first on line 2)");
	expect_error("[scheduler]\ncpus 2-7\n", 1, "t.conf:2: not a 'key = value' line");
	/* Every error is said, not just the first. */
	expect_error("[scheduler]\nslice-us = 1\n[agent]\nring-kb = 3\nx = 1\n", 3, "t.conf:5:");
}

static void every_key_has_a_known_section(void **state)
{
	for (int i = 0; i < vs_nr_option_keys; i++) {
		assert_true(options_section_known(vs_option_keys[i].section));
		assert_ptr_equal(options_key_by_option(vs_option_keys[i].option),
				 &vs_option_keys[i]);
		assert_ptr_equal(
		    options_key_by_name(vs_option_keys[i].section, vs_option_keys[i].key),
		    &vs_option_keys[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(file_sets_every_kind),
	    cmocka_unit_test(placement_and_epoch),
	    cmocka_unit_test(discovery_and_safety_rescan),
	    cmocka_unit_test(command_line_overrides_file),
	    cmocka_unit_test(overridden_value_still_checked),
	    cmocka_unit_test(max_vms_default_and_range),
	    cmocka_unit_test(max_vcpus_default_and_range),
	    cmocka_unit_test(errors_name_file_line_key_and_allowed),
	    cmocka_unit_test(every_key_has_a_known_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
