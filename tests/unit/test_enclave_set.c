/* Unit tests: enclaves as the operator changes them (vmm-sched/lib/enclave_set.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "enclave_set.h"

static char err[512];
static struct vs_topology topo;

static void assert_err_has(const char *needle)
{
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
}

/* 8 cores x 2 threads, siblings 2k and 2k+1; CPUs 14-15 offline. */
static void topo_8x2(void)
{
	char list[32];

	topology_init(&topo, 16);
	for (int cpu = 0; cpu < 16; cpu++) {
		snprintf(list, sizeof(list), "%d-%d", cpu & ~1, (cpu & ~1) + 1);
		assert_int_equal(topology_set_siblings(&topo, cpu, list, err, sizeof(err)), 0);
	}
	cpuset_del(&topo.online, 14);
	cpuset_del(&topo.online, 15);
}

static struct vs_cpuset cpus(const char *list)
{
	struct vs_cpuset s;

	assert_int_equal(cpuset_parse(&s, list, err, sizeof(err)), 0);
	return s;
}

/* Enclave @id named @name with the CPUs in @list ("": none). */
static void make(struct vs_enclave_set *set, int id, const char *name, const char *list)
{
	struct vs_cpuset c;

	set->e[id].used = true;
	snprintf(set->e[id].name, sizeof(set->e[id].name), "%s", name);
	if (!*list) {
		enclave_init(&set->e[id].enc);
		return;
	}
	c = cpus(list);
	assert_int_equal(enclave_from_cpus(&set->e[id].enc, &topo, &c, err, sizeof(err)), 0);
}

static void two_enclaves(struct vs_enclave_set *set)
{
	topo_8x2();
	enclave_set_init(set);
	make(set, 0, "default", "0-5");
	make(set, 1, "fast", "6-9");
}

static void test_find_and_of_cpu(void **state)
{
	struct vs_enclave_set set;
	struct vs_cpuset all;

	(void)state;
	two_enclaves(&set);
	assert_int_equal(enclave_set_find(&set, "fast"), 1);
	assert_int_equal(enclave_set_find(&set, "slow"), -1);
	assert_int_equal(enclave_set_of_cpu(&set, 7), 1);
	assert_int_equal(enclave_set_of_cpu(&set, 10), -1);
	enclave_set_all_cpus(&set, &all);
	assert_int_equal(cpuset_count(&all), 10);
}

static void test_create_refusals(void **state)
{
	struct vs_enclave_set set;

	(void)state;
	two_enclaves(&set);
	assert_int_equal(enclave_check_create(&set, "batch", err, sizeof(err)), 2);
	assert_int_equal(enclave_check_create(&set, "fast", err, sizeof(err)), -1);
	assert_err_has("exists already");
	assert_int_equal(enclave_check_create(&set, "a b", err, sizeof(err)), -1);
	assert_err_has("only A-Z");
	assert_int_equal(enclave_check_create(&set, "", err, sizeof(err)), -1);
	for (int i = 2; i < VS_MAX_ENCLAVES; i++)
		make(&set, i, "x", "");
	assert_int_equal(enclave_check_create(&set, "batch", err, sizeof(err)), -1);
	assert_err_has("at most");
}

static void test_add_refusals(void **state)
{
	struct vs_enclave_set set;
	struct vs_cpuset c;

	(void)state;
	two_enclaves(&set);
	c = cpus("10-11");
	assert_int_equal(enclave_check_add(&set, &topo, 1, &c, err, sizeof(err)), 0);
	c = cpus("10");
	assert_int_equal(enclave_check_add(&set, &topo, 1, &c, err, sizeof(err)), -1);
	assert_err_has("CPU 10 is listed without its SMT sibling 11");
	c = cpus("14-15");
	assert_int_equal(enclave_check_add(&set, &topo, 1, &c, err, sizeof(err)), -1);
	assert_err_has("CPU 14 is not online");
	c = cpus("4-5");
	assert_int_equal(enclave_check_add(&set, &topo, 1, &c, err, sizeof(err)), -1);
	assert_err_has("CPU 4 belongs to enclave 'default'");
	c = cpus("6-7");
	assert_int_equal(enclave_check_add(&set, &topo, 1, &c, err, sizeof(err)), -1);
	assert_err_has("already");
	c = cpus("40-41");
	assert_int_equal(enclave_check_add(&set, &topo, 1, &c, err, sizeof(err)), -1);
	assert_err_has("CPU 40 is not online");
}

static void test_remove_refusals(void **state)
{
	struct vs_enclave_set set;
	struct vs_enclave_load none = {0}, two_vms = {.nr_vms = 2, .reserve_cores = 1};
	struct vs_cpuset c;

	(void)state;
	two_enclaves(&set);
	c = cpus("8-9");
	assert_int_equal(enclave_check_remove(&set, &topo, 1, &c, &two_vms, err, sizeof(err)), 0);
	c = cpus("8");
	assert_int_equal(enclave_check_remove(&set, &topo, 1, &c, &two_vms, err, sizeof(err)), -1);
	assert_err_has("without its SMT sibling 9");
	c = cpus("4-5");
	assert_int_equal(enclave_check_remove(&set, &topo, 1, &c, &two_vms, err, sizeof(err)), -1);
	assert_err_has("CPU 4 is not in enclave 'fast'");
	c = cpus("6-9");
	assert_int_equal(enclave_check_remove(&set, &topo, 1, &c, &two_vms, err, sizeof(err)), -1);
	assert_err_has("no core left for its 2 VM(s)");
	assert_int_equal(enclave_check_remove(&set, &topo, 1, &c, &none, err, sizeof(err)), 0);
	two_vms.reserve_cores = 2;
	c = cpus("8-9");
	assert_int_equal(enclave_check_remove(&set, &topo, 1, &c, &two_vms, err, sizeof(err)), -1);
	assert_err_has("fewer than its VMs' reservations (2)");
}

static void test_destroy_and_move(void **state)
{
	struct vs_enclave_set set;
	struct vs_enclave_load none = {0}, vms = {.nr_vms = 1, .reserve_cores = 1};

	(void)state;
	two_enclaves(&set);
	assert_int_equal(enclave_check_destroy(&set, 0, &none, true, err, sizeof(err)), -1);
	assert_err_has("default enclave cannot");
	assert_int_equal(enclave_check_destroy(&set, 1, &vms, false, err, sizeof(err)), -1);
	assert_err_has("has 1 VM(s)");
	assert_int_equal(enclave_check_destroy(&set, 1, &vms, true, err, sizeof(err)), 0);
	assert_int_equal(enclave_check_destroy(&set, 1, &none, false, err, sizeof(err)), 0);
	assert_int_equal(enclave_check_vm_move(&set, 1, 1, &vms, err, sizeof(err)), 0);
	assert_int_equal(enclave_check_vm_move(&set, 1, 2, &vms, err, sizeof(err)), -1);
	assert_err_has("has 2 core(s): its VMs reserve 1, this VM 2 more");
	make(&set, 2, "empty", "");
	assert_int_equal(enclave_check_vm_move(&set, 2, 0, &none, err, sizeof(err)), -1);
	assert_err_has("no cores");
}

static void apply(struct vs_enclave_set *set, const struct vs_enclave_move *m, int n)
{
	struct vs_cpuset core;
	int c;

	for (int i = 0; i < n; i++) {
		topology_core_cpus(&topo, m[i].core_cpu, &core);
		assert_true(enclave_has_cpu(&set->e[m[i].from].enc, m[i].core_cpu));
		cpuset_for_each(c, &core)
		{
			cpuset_del(&set->e[m[i].from].enc.cpus, c);
			cpuset_add(&set->e[m[i].to].enc.cpus, c);
		}
		set->e[m[i].from].enc.nr_cores--;
		set->e[m[i].to].enc.nr_cores++;
	}
}

static void test_rebalance_follows_demand(void **state)
{
	struct vs_enclave_set set;
	struct vs_enclave_load load[VS_MAX_ENCLAVES] = {
	    [0] = {.nr_vms = 1, .demand_cores = 1}, [1] = {.nr_vms = 2, .demand_cores = 4}};
	struct vs_enclave_move m[8];
	int n = -1;

	(void)state;
	two_enclaves(&set); /* default 3 cores, fast 2 */
	assert_int_equal(enclave_rebalance_plan(&set, &topo, load, m, 8, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(m[0].from, 0);
	assert_int_equal(m[0].to, 1);
	assert_int_equal(m[0].core_cpu, 4); /* the highest core goes first */
	apply(&set, m, n);
	assert_int_equal(set.e[0].enc.nr_cores, 1);
	assert_int_equal(set.e[1].enc.nr_cores, 4);
	/* Balanced: a second plan moves nothing. */
	assert_int_equal(enclave_rebalance_plan(&set, &topo, load, m, 8, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
}

static void test_rebalance_reservations_first(void **state)
{
	struct vs_enclave_set set;
	struct vs_enclave_load load[VS_MAX_ENCLAVES] = {
	    [0] = {.nr_vms = 2, .reserve_cores = 3, .demand_cores = 3},
	    [1] = {.nr_vms = 1, .demand_cores = 8}};
	struct vs_enclave_move m[8];
	int n = -1;

	(void)state;
	two_enclaves(&set);
	assert_int_equal(enclave_rebalance_plan(&set, &topo, load, m, 8, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0); /* default keeps its 3 reserved cores; fast its 2 */
	load[0].reserve_cores = 5;
	assert_int_equal(enclave_rebalance_plan(&set, &topo, load, m, 8, &n, err, sizeof(err)), -1);
	assert_err_has("need 6 cores");
}

static void test_rebalance_idle_cores_stay(void **state)
{
	struct vs_enclave_set set;
	struct vs_enclave_load load[VS_MAX_ENCLAVES] = {0};
	struct vs_enclave_move m[8];
	int n = -1;

	(void)state;
	two_enclaves(&set);
	make(&set, 2, "empty", "");
	load[2].nr_vms = 1; /* a VM in an enclave without cores gets one */
	assert_int_equal(enclave_rebalance_plan(&set, &topo, load, m, 8, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].to, 2);
	assert_int_equal(m[0].from, 1); /* the lowest ids keep their spare cores first */
	assert_int_equal(m[0].core_cpu, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_find_and_of_cpu),
	    cmocka_unit_test(test_create_refusals),
	    cmocka_unit_test(test_add_refusals),
	    cmocka_unit_test(test_remove_refusals),
	    cmocka_unit_test(test_destroy_and_move),
	    cmocka_unit_test(test_rebalance_follows_demand),
	    cmocka_unit_test(test_rebalance_reservations_first),
	    cmocka_unit_test(test_rebalance_idle_cores_stay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
