/* Unit tests: a VM's NUMA home from numa_maps (vmm-sched/lib/numa_home.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "numa_home.h"

static struct vs_numa_usage parse(const char *text)
{
	struct vs_numa_usage u;

	memset(&u, 0xa5, sizeof(u));
	numa_usage_init(&u);
	numa_usage_add_text(&u, text, strlen(text));
	return u;
}

/* Lines as a 2-node host prints them for a qemu process. */
static const char qemu_maps[] =
    "55d4c8a00000 default file=/usr/bin/qemu-system-x86_64 mapped=1013 N0=1013 "
    "kernelpagesize_kB=4\n"
    "55d4c9640000 default heap anon=9120 dirty=9120 N0=9000 N1=120 kernelpagesize_kB=4\n"
    "7f1e40000000 bind:1 file=/dev/hugepages/qemu_back_mem.pc.ram\\040(deleted) huge "
    "dirty=1024 N1=1024 kernelpagesize_kB=2048\n"
    "7f1f50000000 default anon=2 dirty=2 active=0 N0=2 kernelpagesize_kB=4\n"
    "7ffd6b3a1000 default stack anon=33 dirty=33 N0=33 kernelpagesize_kB=4\n"
    "7ffd6b3f6000 default\n";

static void test_qemu_with_huge_pages(void **state)
{
	struct vs_numa_usage u = parse(qemu_maps);

	assert_int_equal(u.mappings, 6);
	assert_int_equal(u.malformed, 0);
	assert_int_equal(u.kb[0], (1013 + 9000 + 2 + 33) * 4);
	assert_int_equal(u.kb[1], 120 * 4 + 1024 * 2048);
	/* Node 0 has more pages, node 1 more memory: the guest's huge pages. */
	assert_int_equal(numa_home_node(&u), 1);
}

static void test_single_node(void **state)
{
	struct vs_numa_usage u = parse("00400000 default file=/bin/x mapped=3 N0=3 "
				       "kernelpagesize_kB=4\n");

	assert_int_equal(numa_home_node(&u), 0);
	assert_int_equal(u.kb[0], 12);
	for (int node = 1; node < VS_MAX_NODES; node++)
		assert_int_equal(u.kb[node], 0);
}

static void test_page_size_defaults_to_4k(void **state)
{
	struct vs_numa_usage u = parse("1000 default N2=10\n");

	assert_int_equal(u.kb[2], 40);
	assert_int_equal(numa_home_node(&u), 2);
}

static void test_no_node_fields(void **state)
{
	struct vs_numa_usage u;

	u = parse("");
	assert_int_equal(numa_home_node(&u), VS_NUMA_NODE_UNKNOWN);
	assert_int_equal(u.mappings, 0);
	u = parse("7ffd6b3f6000 default\n7ffd6b3f8000 default file=/x kernelpagesize_kB=4\n\n");
	assert_int_equal(numa_home_node(&u), VS_NUMA_NODE_UNKNOWN);
	assert_int_equal(u.mappings, 2);
	assert_int_equal(u.malformed, 0);
	/* Zero pages are no memory. */
	u = parse("1000 default N0=0 N1=0\n");
	assert_int_equal(numa_home_node(&u), VS_NUMA_NODE_UNKNOWN);
}

static void test_ties_go_to_the_lowest_node(void **state)
{
	struct vs_numa_usage u;

	u = parse("1000 default N1=5 N0=5\n");
	assert_int_equal(numa_home_node(&u), 0);
	u = parse("1000 default N3=7 N1=3\n2000 default N2=7\n");
	assert_int_equal(numa_home_node(&u), 2);
	/* Equal memory in different page sizes is a tie too. */
	u = parse("1000 default N5=512 kernelpagesize_kB=4\n"
		  "2000 default huge N4=1 kernelpagesize_kB=2048\n");
	assert_int_equal(numa_home_node(&u), 4);
}

static void test_malformed_lines_are_skipped(void **state)
{
	struct vs_numa_usage u = parse("not-an-address default N0=100\n"
				       "N0=100\n"
				       "   \n"
				       "1000 default N1=2\n");

	assert_int_equal(u.malformed, 2);
	assert_int_equal(u.mappings, 1);
	assert_int_equal(u.kb[0], 0);
	assert_int_equal(numa_home_node(&u), 1);
}

static void test_malformed_fields_are_skipped(void **state)
{
	struct vs_numa_usage u = parse("1000 default N=5 Nx=3 N0= N0=12a N-1=3 N0=-1 N1=+4 "
				       "N64=9 N0 N1=7 kernelpagesize_kB=abc\n"
				       "2000 default N0=1 kernelpagesize_kB=0\n");

	assert_int_equal(u.malformed, 11);
	assert_int_equal(u.mappings, 2);
	/* The good fields count, at the default page size. */
	assert_int_equal(u.kb[1], 28);
	assert_int_equal(u.kb[0], 4);
	assert_int_equal(numa_home_node(&u), 1);
}

static void test_huge_counts_saturate(void **state)
{
	struct vs_numa_usage u;

	u = parse("1000 default N0=18446744073709551615 kernelpagesize_kB=1\n"
		  "2000 default N0=18446744073709551615 kernelpagesize_kB=1\n"
		  "3000 default N1=4611686018427387904 kernelpagesize_kB=4\n");
	assert_int_equal(u.malformed, 0);
	assert_true(u.kb[0] == UINT64_MAX);
	assert_true(u.kb[1] == UINT64_MAX); /* 2^62 pages x 4 KiB */
	assert_int_equal(numa_home_node(&u), 0);
	/* A count beyond 64 bits is not something the kernel prints. */
	u = parse("1000 default N0=18446744073709551616 N1=1\n"
		  "2000 default N1=99999999999999999999999999 N0=1 N1=2\n");
	assert_int_equal(u.malformed, 2);
	assert_int_equal(u.kb[0], 4);
	assert_int_equal(u.kb[1], 12);
	assert_int_equal(numa_home_node(&u), 1);
}

static void test_text_edges(void **state)
{
	const char text[] = "1000 default N0=1\r\n2000\tdefault\tN1=3";
	struct vs_numa_usage u;

	/* CRLF, tabs, no final newline. */
	u = parse(text);
	assert_int_equal(u.mappings, 2);
	assert_int_equal(u.malformed, 0);
	assert_int_equal(u.kb[1], 12);
	/* Only @len bytes are read: the second line is cut after "N1=". */
	numa_usage_init(&u);
	numa_usage_add_text(&u, text, strlen(text) - 1);
	assert_int_equal(u.kb[1], 0);
	assert_int_equal(u.malformed, 1);
	/* A single line with its newline. */
	numa_usage_init(&u);
	numa_usage_add_line(&u, "3000 default N7=1\nN0=100", 23);
	assert_int_equal(u.kb[7], 4);
	assert_int_equal(u.kb[0], 0);
	assert_int_equal(u.mappings, 1);
}

/* 4 cores x 2 threads, siblings 2k and 2k+1; cores 0 and 2 on node 0, 4 and 6 on node 1. */
static void two_node_topology(struct vs_topology *t)
{
	char list[16], err[128];

	topology_init(t, 8);
	for (int cpu = 0; cpu < 8; cpu++) {
		snprintf(list, sizeof(list), "%d-%d", cpu & ~1, (cpu & ~1) + 1);
		if (topology_set_siblings(t, cpu, list, err, sizeof(err)))
			fail_msg("%s", err);
		t->node_of[cpu] = cpu / 4;
	}
}

static void test_local_cores(void **state)
{
	struct vs_topology t;
	struct vs_cpuset enc, local, want;
	char err[128];

	two_node_topology(&t);
	assert_int_equal(cpuset_parse(&enc, "0-7", err, sizeof(err)), 0);
	assert_int_equal(numa_local_cores(&t, &enc, 1, &local), 2);
	assert_int_equal(cpuset_parse(&want, "4,6", err, sizeof(err)), 0);
	assert_true(cpuset_equal(&local, &want));
	assert_int_equal(numa_local_cores(&t, &enc, 0, &local), 2);
	assert_int_equal(cpuset_parse(&want, "0,2", err, sizeof(err)), 0);
	assert_true(cpuset_equal(&local, &want));

	/* An enclave wholly on node 0: nothing local to node 1's memory. */
	assert_int_equal(cpuset_parse(&enc, "0-3", err, sizeof(err)), 0);
	assert_int_equal(numa_local_cores(&t, &enc, 1, &local), 0);
	assert_int_equal(cpuset_count(&local), 0);
	assert_int_equal(numa_local_cores(&t, &enc, 0, &local), 2);
	assert_int_equal(numa_local_cores(&t, &enc, VS_NUMA_NODE_UNKNOWN, &local), 0);
	assert_int_equal(numa_local_cores(&t, &enc, 5, &local), 0);

	/* One core of each node. */
	assert_int_equal(cpuset_parse(&enc, "2-5", err, sizeof(err)), 0);
	assert_int_equal(numa_local_cores(&t, &enc, 1, &local), 1);
	assert_int_equal(cpuset_next(&local, 0), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_qemu_with_huge_pages),
	    cmocka_unit_test(test_single_node),
	    cmocka_unit_test(test_page_size_defaults_to_4k),
	    cmocka_unit_test(test_no_node_fields),
	    cmocka_unit_test(test_ties_go_to_the_lowest_node),
	    cmocka_unit_test(test_malformed_lines_are_skipped),
	    cmocka_unit_test(test_malformed_fields_are_skipped),
	    cmocka_unit_test(test_huge_counts_saturate),
	    cmocka_unit_test(test_text_edges),
	    cmocka_unit_test(test_local_cores),
	};

	return cmocka_run_group_tests_name("numa_home", tests, NULL, NULL);
}
