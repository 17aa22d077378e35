/* Over 400 lines: one case per topology and enclave rule. */
/* Unit tests: topology and enclave (vmm-sched/lib/topology.c, enclave.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "enclave.h"
#include "topology.h"

static char err[512];

static void assert_err_has(const char *needle)
{
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
}

static void set_siblings_ok(struct vs_topology *t, int cpu, const char *list)
{
	err[0] = '\0';
	if (topology_set_siblings(t, cpu, list, err, sizeof(err)))
		fail_msg("topology_set_siblings(%d, '%s') failed: %s", cpu, list, err);
}

/* 4 cores x 2 threads, siblings i and i+4 (common on x86 hosts). */
static void topo_split(struct vs_topology *t)
{
	char list[32];

	topology_init(t, 8);
	for (int cpu = 0; cpu < 8; cpu++) {
		snprintf(list, sizeof(list), "%d,%d\n", cpu % 4, cpu % 4 + 4);
		set_siblings_ok(t, cpu, list);
	}
}

/* 4 cores x 2 threads, siblings 2k and 2k+1. */
static void topo_pairs(struct vs_topology *t, int nr_online)
{
	char list[32];

	topology_init(t, 8);
	for (int cpu = 0; cpu < nr_online; cpu++) {
		snprintf(list, sizeof(list), "%d-%d", cpu & ~1, (cpu & ~1) + 1);
		set_siblings_ok(t, cpu, list);
	}
}

/* 4 CPUs, no SMT. */
static void topo_nosmt(struct vs_topology *t)
{
	char list[16];

	topology_init(t, 4);
	for (int cpu = 0; cpu < 4; cpu++) {
		snprintf(list, sizeof(list), "%d", cpu);
		set_siblings_ok(t, cpu, list);
	}
}

static struct vs_cpuset cpus_of(const char *list)
{
	struct vs_cpuset s;
	char why[128];

	if (cpuset_parse(&s, list, why, sizeof(why)))
		fail_msg("bad test CPU list '%s': %s", list, why);
	return s;
}

static void assert_set_is(const struct vs_cpuset *s, const char *want)
{
	char buf[256];

	cpuset_format(s, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* ---- topology ---- */

static void test_topology_init(void **state)
{
	struct vs_topology t;

	topology_init(&t, 8);
	assert_int_equal(t.nr_cpus, 8);
	assert_int_equal(cpuset_count(&t.online), 0);
	for (int cpu = 0; cpu < VS_MAX_CPUS; cpu++) {
		assert_int_equal(t.core_of[cpu], cpu);
		assert_int_equal(t.node_of[cpu], 0);
	}
	topology_init(&t, VS_MAX_CPUS + 100);
	assert_int_equal(t.nr_cpus, VS_MAX_CPUS);
}

static void test_topology_split_siblings(void **state)
{
	struct vs_topology t;
	struct vs_cpuset core;

	topo_split(&t);
	assert_int_equal(cpuset_count(&t.online), 8);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(t.core_of[i], i);
		assert_int_equal(t.core_of[i + 4], i);
		assert_int_equal(topology_sibling(&t, i), i + 4);
		assert_int_equal(topology_sibling(&t, i + 4), i);
		assert_int_equal(topology_threads_per_core(&t, i), 2);
		assert_int_equal(topology_threads_per_core(&t, i + 4), 2);
	}
	topology_core_cpus(&t, 5, &core);
	assert_set_is(&core, "1,5");
	topology_core_cpus(&t, 1, &core);
	assert_set_is(&core, "1,5");
}

static void test_topology_pair_siblings(void **state)
{
	struct vs_topology t;
	struct vs_cpuset core;

	topo_pairs(&t, 8);
	assert_int_equal(t.core_of[2], 2);
	assert_int_equal(t.core_of[3], 2);
	assert_int_equal(topology_sibling(&t, 2), 3);
	assert_int_equal(topology_sibling(&t, 3), 2);
	assert_int_equal(topology_sibling(&t, 7), 6);
	topology_core_cpus(&t, 6, &core);
	assert_set_is(&core, "6-7");
}

static void test_topology_no_smt(void **state)
{
	struct vs_topology t;
	struct vs_cpuset core;

	topo_nosmt(&t);
	for (int cpu = 0; cpu < 4; cpu++) {
		assert_int_equal(topology_sibling(&t, cpu), -1);
		assert_int_equal(topology_threads_per_core(&t, cpu), 1);
		topology_core_cpus(&t, cpu, &core);
		assert_int_equal(cpuset_count(&core), 1);
		assert_true(cpuset_has(&core, cpu));
	}
}

static void test_topology_four_threads(void **state)
{
	struct vs_topology t;

	topology_init(&t, 8);
	for (int cpu = 0; cpu < 4; cpu++)
		set_siblings_ok(&t, cpu, "0-3");
	assert_int_equal(topology_threads_per_core(&t, 2), 4);
	assert_int_equal(topology_sibling(&t, 2), -1); /* more than 2 threads */
	assert_int_equal(t.core_of[3], 0);
}

/* A rejected siblings list leaves the topology unchanged. */
static void check_siblings_rejected(int cpu, const char *list, const char *needle)
{
	struct vs_topology t, before;

	topology_init(&t, 8);
	set_siblings_ok(&t, 0, "0,4");
	before = t;
	memset(err, 0, sizeof(err));
	assert_int_equal(topology_set_siblings(&t, cpu, list, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	if (needle)
		assert_err_has(needle);
	assert_int_equal(t.nr_cpus, before.nr_cpus);
	assert_memory_equal(t.core_of, before.core_of, sizeof(t.core_of));
	assert_memory_equal(t.node_of, before.node_of, sizeof(t.node_of));
	assert_true(cpuset_equal(&t.online, &before.online));
}

static void test_topology_malformed_siblings(void **state)
{
	check_siblings_rejected(1, "", "CPU 1");
	check_siblings_rejected(1, "a", "CPU 1");
	check_siblings_rejected(1, "1-", "CPU 1");
	check_siblings_rejected(1, "5-1", "5-1");
	check_siblings_rejected(1, "1,", "CPU 1");
	check_siblings_rejected(1, "1,1024", "1024");
	check_siblings_rejected(1, NULL, "CPU 1");
}

static void test_topology_siblings_lack_cpu(void **state)
{
	check_siblings_rejected(2, "0,4", "CPU 2");
	check_siblings_rejected(2, "0,4", "do not include");
	check_siblings_rejected(5, "1", "CPU 5");
}

static void test_topology_cpu_out_of_range(void **state)
{
	check_siblings_rejected(8, "8", "CPU 8");
	check_siblings_rejected(-1, "0", "CPU -1");
	check_siblings_rejected(VS_MAX_CPUS, "0", NULL);
}

/* ---- enclave ---- */

static int from_cpus(struct vs_enclave *enc, const struct vs_topology *t, const char *list)
{
	struct vs_cpuset cpus = cpus_of(list);

	memset(err, 0, sizeof(err));
	return enclave_from_cpus(enc, t, &cpus, err, sizeof(err));
}

static void test_enclave_whole_cores_split(void **state)
{
	struct vs_topology t;
	struct vs_enclave enc;

	topo_split(&t);
	assert_int_equal(from_cpus(&enc, &t, "0,4"), 0);
	assert_int_equal(enc.nr_cores, 1);
	assert_set_is(&enc.cpus, "0,4");

	assert_int_equal(from_cpus(&enc, &t, "0-1,4-5"), 0);
	assert_int_equal(enc.nr_cores, 2);
	assert_set_is(&enc.cpus, "0-1,4-5");
	assert_true(enclave_has_cpu(&enc, 5));
	assert_false(enclave_has_cpu(&enc, 2));
	assert_false(enclave_has_cpu(&enc, 6));

	assert_int_equal(from_cpus(&enc, &t, "0-7"), 0);
	assert_int_equal(enc.nr_cores, 4);
	assert_int_equal(cpuset_count(&enc.cpus), 8);
}

static void test_enclave_whole_cores_pairs(void **state)
{
	struct vs_topology t;
	struct vs_enclave enc;

	topo_pairs(&t, 8);
	assert_int_equal(from_cpus(&enc, &t, "2-5"), 0);
	assert_int_equal(enc.nr_cores, 2);
	assert_set_is(&enc.cpus, "2-5");
	assert_false(enclave_has_cpu(&enc, 1));
	assert_false(enclave_has_cpu(&enc, 6));
}

static void test_enclave_split_core_rejected_split(void **state)
{
	struct vs_topology t;
	struct vs_enclave enc;

	topo_split(&t);
	assert_int_equal(from_cpus(&enc, &t, "0-2"), -1);
	/* CPU 0 is the first listed CPU without its sibling 4. */
	assert_err_has("CPU 0 ");
	assert_err_has("sibling 4");
	assert_err_has("add 4");
	assert_err_has("drop 0");

	assert_int_equal(from_cpus(&enc, &t, "0-3"), -1);
	assert_err_has("CPU 0 ");
	assert_err_has("sibling 4");

	assert_int_equal(from_cpus(&enc, &t, "0,4,7"), -1);
	assert_err_has("CPU 7 ");
	assert_err_has("sibling 3");
}

static void test_enclave_split_core_rejected_pairs(void **state)
{
	struct vs_topology t;
	struct vs_enclave enc;

	topo_pairs(&t, 8);
	assert_int_equal(from_cpus(&enc, &t, "0-2"), -1);
	assert_err_has("CPU 2 ");
	assert_err_has("sibling 3");

	assert_int_equal(from_cpus(&enc, &t, "1-4"), -1);
	assert_err_has("CPU 1 ");
	assert_err_has("sibling 0");
}

static void test_enclave_offline_rejected(void **state)
{
	struct vs_topology t;
	struct vs_enclave enc;

	topo_pairs(&t, 6); /* CPUs 6 and 7 offline */
	assert_int_equal(from_cpus(&enc, &t, "4-7"), -1);
	assert_err_has("CPU 6 ");
	assert_err_has("not online");

	assert_int_equal(from_cpus(&enc, &t, "0-1,200"), -1);
	assert_err_has("CPU 200 ");
	assert_err_has("not online");

	assert_int_equal(from_cpus(&enc, &t, "4-5"), 0);
	assert_int_equal(enc.nr_cores, 1);
}

static void test_enclave_empty_rejected(void **state)
{
	struct vs_topology t;
	struct vs_enclave enc;
	struct vs_cpuset none;

	topo_split(&t);
	cpuset_clear(&none);
	memset(err, 0, sizeof(err));
	assert_int_equal(enclave_from_cpus(&enc, &t, &none, err, sizeof(err)), -1);
	assert_err_has("no CPUs");
	assert_int_equal(enc.nr_cores, 0);
}

static void test_enclave_no_smt(void **state)
{
	struct vs_topology t;
	struct vs_enclave enc;

	topo_nosmt(&t);
	assert_int_equal(from_cpus(&enc, &t, "0-2"), 0);
	assert_int_equal(enc.nr_cores, 3);
	assert_set_is(&enc.cpus, "0-2");
	assert_int_equal(from_cpus(&enc, &t, "3"), 0);
	assert_int_equal(enc.nr_cores, 1);
	assert_set_is(&enc.cpus, "3");
	assert_int_equal(from_cpus(&enc, &t, "3-4"), -1); /* 4 does not exist */
	assert_err_has("CPU 4 ");
}

static void test_enclave_from_cpus_resets(void **state)
{
	struct vs_topology t;
	struct vs_enclave enc;

	topo_split(&t);
	assert_int_equal(from_cpus(&enc, &t, "0-7"), 0);
	assert_int_equal(from_cpus(&enc, &t, "2,6"), 0);
	assert_int_equal(enc.nr_cores, 1);
	assert_set_is(&enc.cpus, "2,6");
}

static void test_enclave_add_core(void **state)
{
	struct vs_topology t;
	struct vs_enclave enc;

	topo_pairs(&t, 6);
	enclave_init(&enc);
	assert_int_equal(enc.nr_cores, 0);
	assert_int_equal(cpuset_count(&enc.cpus), 0);

	assert_int_equal(enclave_add_core(&enc, &t, 3, err, sizeof(err)), 0);
	assert_int_equal(enc.nr_cores, 1);
	assert_set_is(&enc.cpus, "2-3");

	/* The same core again, through either thread: no change. */
	assert_int_equal(enclave_add_core(&enc, &t, 2, err, sizeof(err)), 0);
	assert_int_equal(enclave_add_core(&enc, &t, 3, err, sizeof(err)), 0);
	assert_int_equal(enc.nr_cores, 1);
	assert_set_is(&enc.cpus, "2-3");

	assert_int_equal(enclave_add_core(&enc, &t, 0, err, sizeof(err)), 0);
	assert_int_equal(enc.nr_cores, 2);
	assert_set_is(&enc.cpus, "0-3");

	memset(err, 0, sizeof(err));
	assert_int_equal(enclave_add_core(&enc, &t, 7, err, sizeof(err)), -1);
	assert_err_has("CPU 7 ");
	assert_err_has("not online");
	assert_int_equal(enc.nr_cores, 2);
	assert_set_is(&enc.cpus, "0-3");

	assert_int_equal(enclave_add_core(&enc, &t, -1, err, sizeof(err)), -1);
	assert_int_equal(enclave_add_core(&enc, &t, VS_MAX_CPUS, err, sizeof(err)), -1);
	assert_int_equal(enc.nr_cores, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_topology_init),
	    cmocka_unit_test(test_topology_split_siblings),
	    cmocka_unit_test(test_topology_pair_siblings),
	    cmocka_unit_test(test_topology_no_smt),
	    cmocka_unit_test(test_topology_four_threads),
	    cmocka_unit_test(test_topology_malformed_siblings),
	    cmocka_unit_test(test_topology_siblings_lack_cpu),
	    cmocka_unit_test(test_topology_cpu_out_of_range),
	    cmocka_unit_test(test_enclave_whole_cores_split),
	    cmocka_unit_test(test_enclave_whole_cores_pairs),
	    cmocka_unit_test(test_enclave_split_core_rejected_split),
	    cmocka_unit_test(test_enclave_split_core_rejected_pairs),
	    cmocka_unit_test(test_enclave_offline_rejected),
	    cmocka_unit_test(test_enclave_empty_rejected),
	    cmocka_unit_test(test_enclave_no_smt),
	    cmocka_unit_test(test_enclave_from_cpus_resets),
	    cmocka_unit_test(test_enclave_add_core),
	};

	return cmocka_run_group_tests_name("topology_enclave", tests, NULL, NULL);
}
