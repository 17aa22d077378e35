/* Unit tests: the agent's pinned records of VMs and vCPUs (vmm-sched/lib/agent_record.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "agent_record.h"

static struct vs_vm_rec sample_vm(void)
{
	struct vs_vm_rec vm = {.used = true,
			       .pid = 4321,
			       .weight = 250,
			       .reserve_cores = 1,
			       .cap_cores = 3,
			       .numa_node = 1};

	strcpy(vm.name, "web-1");
	return vm;
}

static struct vs_vcpu_rec sample_vcpu(void)
{
	struct vs_vcpu_rec v = {
	    .used = true, .tid = 4400, .vm_id = 3, .vcpu_index = 2, .start_time = 123456789ULL};

	v.saved.policy = 3; /* SCHED_BATCH */
	v.saved.nice = -5;
	cpuset_add(&v.saved.affinity, 0);
	cpuset_add(&v.saved.affinity, 63);
	cpuset_add(&v.saved.affinity, 64);
	cpuset_add(&v.saved.affinity, VS_MAX_CPUS - 1);
	return v;
}

static void test_vm_round_trip(void **state)
{
	struct vs_vm_rec vm = sample_vm();
	struct vs_agent_vm r;
	char err[128];

	agent_vm_record_make(&vm, 987654321ULL, &r);
	assert_int_equal(agent_vm_record_check(&r, err, sizeof(err)), 0);
	assert_int_equal(r.pid, 4321);
	assert_int_equal(r.start_time, 987654321ULL);
	assert_int_equal(r.weight, 250);
	assert_int_equal(r.reserve_cores, 1);
	assert_int_equal(r.cap_cores, 3);
	assert_int_equal(r.numa_node, 1);
	assert_string_equal(r.name, "web-1");
}

static void test_vcpu_round_trip(void **state)
{
	struct vs_vcpu_rec v = sample_vcpu();
	struct vs_agent_vcpu r;
	struct vs_saved_sched back;
	char err[128];

	agent_vcpu_record_make(&v, &r);
	assert_int_equal(agent_vcpu_record_check(&r, err, sizeof(err)), 0);
	assert_int_equal(r.tid, 4400);
	assert_int_equal(r.vm_id, 3);
	assert_int_equal(r.vcpu_index, 2);
	assert_int_equal(r.start_time, 123456789ULL);
	agent_vcpu_record_saved(&r, &back);
	assert_int_equal(back.policy, 3);
	assert_int_equal(back.nice, -5);
	assert_true(cpuset_equal(&back.affinity, &v.saved.affinity));
	assert_int_equal(cpuset_count(&back.affinity), 4);
}

static void expect_vm_bad(struct vs_agent_vm r, const char *what)
{
	char err[128] = "";

	assert_int_equal(agent_vm_record_check(&r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, what));
}

static void test_vm_garbage(void **state)
{
	struct vs_vm_rec vm = sample_vm();
	struct vs_agent_vm good, r;

	agent_vm_record_make(&vm, 1, &good);
	r = good;
	r.used = 7;
	expect_vm_bad(r, "used flag");
	r = good;
	r.pid = -3;
	expect_vm_bad(r, "pid -3");
	r = good;
	r.weight = 0;
	expect_vm_bad(r, "weight 0");
	r = good;
	r.weight = VS_MAX_WEIGHT + 1;
	expect_vm_bad(r, "weight");
	r = good;
	r.cap_cores = 0; /* no cap: fine */
	assert_int_equal(agent_vm_record_check(&r, NULL, 0), 0);
	r.reserve_cores = 4;
	r.cap_cores = 2;
	expect_vm_bad(r, "reservation 4 and cap 2");
	r = good;
	r.reserve_cores = VS_MAX_CPUS + 1;
	r.cap_cores = 0;
	expect_vm_bad(r, "reservation");
	r = good;
	memset(r.name, 'x', sizeof(r.name));
	expect_vm_bad(r, "name");
	r = good;
	r.name[0] = '\0';
	expect_vm_bad(r, "name");
}

static void expect_vcpu_bad(struct vs_agent_vcpu r, const char *what)
{
	char err[128] = "";

	assert_int_equal(agent_vcpu_record_check(&r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, what));
}

static void test_vcpu_garbage(void **state)
{
	struct vs_vcpu_rec v = sample_vcpu();
	struct vs_agent_vcpu good, r;

	agent_vcpu_record_make(&v, &good);
	r = good;
	r.used = 0;
	expect_vcpu_bad(r, "used flag");
	r = good;
	r.tid = 0;
	expect_vcpu_bad(r, "thread 0");
	r = good;
	r.vm_id = VS_MAX_VMS;
	expect_vcpu_bad(r, "VM id");
	/* Without its start time a reused tid would be taken for the thread. */
	r = good;
	r.start_time = 0;
	expect_vcpu_bad(r, "no start time");
	r = good;
	r.policy = 6; /* SCHED_DEADLINE: needs runtime/period we do not keep */
	expect_vcpu_bad(r, "policy 6");
	r = good;
	r.policy = -1;
	expect_vcpu_bad(r, "policy -1");
	r = good;
	r.nice = 40;
	expect_vcpu_bad(r, "nice 40");
	r = good;
	r.rt_priority = 100;
	expect_vcpu_bad(r, "priority 100");
	r = good;
	memset(r.affinity, 0, sizeof(r.affinity));
	expect_vcpu_bad(r, "affinity");
	/* A thread that was already SCHED_EXT is fine: it is released to SCHED_OTHER. */
	r = good;
	r.policy = 7;
	assert_int_equal(agent_vcpu_record_check(&r, (char[64]){0}, 64), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vm_round_trip),
	    cmocka_unit_test(test_vcpu_round_trip),
	    cmocka_unit_test(test_vm_garbage),
	    cmocka_unit_test(test_vcpu_garbage),
	};

	return cmocka_run_group_tests_name("agent_record", tests, NULL, NULL);
}
