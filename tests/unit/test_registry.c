/* Over 400 lines: one case per registry operation and limit. */
/* Unit tests: the VM/vCPU registry (vmm-sched/lib/registry.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry.h"

static char err[256];

static void assert_err_has(const char *needle)
{
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
}

/* At the ceilings: VS_MAX_VMS ids and VS_MAX_VCPUS slots. */
static int setup(void **state)
{
	struct vs_registry *reg = malloc(sizeof(*reg));

	if (!reg)
		return -1;
	memset(reg, 0xa5, sizeof(*reg)); /* registry_init must not rely on zeroed memory */
	if (registry_init(reg, VS_MAX_VMS, VS_MAX_VCPUS)) {
		free(reg);
		return -1;
	}
	*state = reg;
	return 0;
}

static int teardown(void **state)
{
	registry_free(*state);
	free(*state);
	return 0;
}

static int add_vm(struct vs_registry *reg, int pid, const char *name)
{
	int id;

	err[0] = '\0';
	id = registry_add_vm(reg, pid, name, err, sizeof(err));
	if (id < 0)
		fail_msg("registry_add_vm(%d, %s) failed: %s", pid, name ? name : "NULL", err);
	return id;
}

static int add_vcpu(struct vs_registry *reg, int vm_id, int tid, int index)
{
	int slot;

	err[0] = '\0';
	slot = registry_add_vcpu(reg, vm_id, tid, index, NULL, err, sizeof(err));
	if (slot < 0)
		fail_msg("registry_add_vcpu(%d, %d, %d) failed: %s", vm_id, tid, index, err);
	return slot;
}

/* Recount the tables and compare with the counters. */
static void assert_counters_consistent(const struct vs_registry *reg)
{
	int id, slot, vms = 0, vcpus = 0;
	int per_vm[VS_MAX_VMS] = {0};

	registry_for_each_vm(id, reg)
	{
		vms++;
	}
	registry_for_each_vcpu(slot, reg)
	{
		vcpus++;
		assert_in_range(reg->vcpus[slot].vm_id, 0, VS_MAX_VMS - 1);
		assert_true(reg->vms[reg->vcpus[slot].vm_id].used);
		per_vm[reg->vcpus[slot].vm_id]++;
	}
	assert_int_equal(reg->nr_vms, vms);
	assert_int_equal(reg->nr_vcpus, vcpus);
	registry_for_each_vm(id, reg)
	{
		assert_int_equal(reg->vms[id].nr_vcpus, per_vm[id]);
	}
}

static void test_init_empty(void **state)
{
	struct vs_registry *reg = *state;
	int id, slot, n = 0;

	assert_int_equal(reg->nr_vms, 0);
	assert_int_equal(reg->nr_vcpus, 0);
	registry_for_each_vm(id, reg)
	{
		n++;
	}
	registry_for_each_vcpu(slot, reg)
	{
		n++;
	}
	assert_int_equal(n, 0);
	assert_int_equal(registry_find_vm_by_pid(reg, 1), -1);
	assert_int_equal(registry_find_vm_by_name(reg, "pid1"), -1);
	assert_int_equal(registry_find_vcpu_by_tid(reg, 1), -1);
}

static void test_add_find_vm(void **state)
{
	struct vs_registry *reg = *state;
	int a, b;

	a = add_vm(reg, 1000, "web");
	b = add_vm(reg, 2000, "db");
	assert_int_not_equal(a, b);
	assert_in_range(a, 0, VS_MAX_VMS - 1);
	assert_in_range(b, 0, VS_MAX_VMS - 1);
	assert_int_equal(reg->nr_vms, 2);
	assert_true(reg->vms[a].used);
	assert_int_equal(reg->vms[a].pid, 1000);
	assert_string_equal(reg->vms[a].name, "web");
	assert_int_equal(reg->vms[a].nr_vcpus, 0);
	assert_int_equal(reg->vms[a].weight, 100);
	assert_int_equal(reg->vms[a].numa_node, -1); /* unknown until the daemon reads it */

	assert_int_equal(registry_find_vm_by_pid(reg, 1000), a);
	assert_int_equal(registry_find_vm_by_pid(reg, 2000), b);
	assert_int_equal(registry_find_vm_by_pid(reg, 3000), -1);
	assert_int_equal(registry_find_vm_by_name(reg, "web"), a);
	assert_int_equal(registry_find_vm_by_name(reg, "db"), b);
	assert_int_equal(registry_find_vm_by_name(reg, "we"), -1);
	assert_int_equal(registry_find_vm_by_name(reg, "webx"), -1);
}

static void test_vm_default_and_long_name(void **state)
{
	struct vs_registry *reg = *state;
	char longname[200];
	int a, b, c;

	a = add_vm(reg, 42, NULL);
	b = add_vm(reg, 43, "");
	assert_string_equal(reg->vms[a].name, "pid42");
	assert_string_equal(reg->vms[b].name, "pid43");
	assert_int_equal(registry_find_vm_by_name(reg, "pid42"), a);

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	c = add_vm(reg, 44, longname);
	assert_int_equal(strlen(reg->vms[c].name), VS_VM_NAME_LEN - 1);
	assert_memory_equal(reg->vms[c].name, longname, VS_VM_NAME_LEN - 1);
}

static void test_vm_bad_and_duplicate_pid(void **state)
{
	struct vs_registry *reg = *state;

	add_vm(reg, 1000, "a");

	memset(err, 0, sizeof(err));
	assert_int_equal(registry_add_vm(reg, 1000, "b", err, sizeof(err)), -1);
	assert_err_has("1000");
	assert_err_has("already enrolled");

	memset(err, 0, sizeof(err));
	assert_int_equal(registry_add_vm(reg, 0, "z", err, sizeof(err)), -1);
	assert_err_has("invalid pid 0");
	memset(err, 0, sizeof(err));
	assert_int_equal(registry_add_vm(reg, -5, "z", err, sizeof(err)), -1);
	assert_err_has("invalid pid -5");

	assert_int_equal(reg->nr_vms, 1);
	assert_int_equal(registry_find_vm_by_name(reg, "b"), -1);
}

static void test_vm_table_full(void **state)
{
	struct vs_registry *reg = *state;
	char name[32];

	for (int i = 0; i < VS_MAX_VMS; i++) {
		snprintf(name, sizeof(name), "vm%d", i);
		assert_int_equal(add_vm(reg, 100 + i, name), i);
	}
	assert_int_equal(reg->nr_vms, VS_MAX_VMS);

	memset(err, 0, sizeof(err));
	assert_int_equal(registry_add_vm(reg, 99999, "one-too-many", err, sizeof(err)), -1);
	assert_err_has("too many VMs");
	assert_err_has("4096");
	assert_int_equal(reg->nr_vms, VS_MAX_VMS);
	assert_int_equal(registry_find_vm_by_pid(reg, 99999), -1);

	/* Freeing one id makes room again, and the freed id is reused. */
	registry_remove_vm(reg, 17);
	assert_int_equal(reg->nr_vms, VS_MAX_VMS - 1);
	assert_int_equal(registry_find_vm_by_pid(reg, 117), -1);
	assert_int_equal(add_vm(reg, 99999, "late"), 17);
	assert_int_equal(reg->nr_vms, VS_MAX_VMS);
	assert_counters_consistent(reg);
}

static void test_remove_vm(void **state)
{
	struct vs_registry *reg = *state;
	int a, b;

	a = add_vm(reg, 1000, "a");
	b = add_vm(reg, 2000, "b");
	registry_remove_vm(reg, a);
	assert_int_equal(reg->nr_vms, 1);
	assert_false(reg->vms[a].used);
	assert_int_equal(registry_find_vm_by_pid(reg, 1000), -1);
	assert_int_equal(registry_find_vm_by_name(reg, "a"), -1);
	assert_int_equal(registry_find_vm_by_pid(reg, 2000), b);

	/* Removing again, or bad ids, changes nothing. */
	registry_remove_vm(reg, a);
	registry_remove_vm(reg, -1);
	registry_remove_vm(reg, VS_MAX_VMS);
	assert_int_equal(reg->nr_vms, 1);

	/* The pid can enrol again. */
	add_vm(reg, 1000, "a2");
	assert_int_equal(reg->nr_vms, 2);
	assert_counters_consistent(reg);
}

static void test_add_find_vcpu(void **state)
{
	struct vs_registry *reg = *state;
	struct vs_saved_sched saved = {.policy = 2, .nice = -3, .rt_priority = 10};
	int vm, s0, s1;

	vm = add_vm(reg, 1000, "a");
	cpuset_add(&saved.affinity, 5);
	s0 = registry_add_vcpu(reg, vm, 1001, 0, &saved, err, sizeof(err));
	assert_true(s0 >= 0);
	s1 = add_vcpu(reg, vm, 1002, 1);
	assert_int_not_equal(s0, s1);
	assert_in_range(s1, 0, VS_MAX_VCPUS - 1);

	assert_int_equal(reg->nr_vcpus, 2);
	assert_int_equal(reg->vms[vm].nr_vcpus, 2);
	assert_true(reg->vcpus[s0].used);
	assert_int_equal(reg->vcpus[s0].tid, 1001);
	assert_int_equal(reg->vcpus[s0].vm_id, vm);
	assert_int_equal(reg->vcpus[s0].vcpu_index, 0);
	assert_int_equal(reg->vcpus[s0].saved.policy, 2);
	assert_int_equal(reg->vcpus[s0].saved.nice, -3);
	assert_int_equal(reg->vcpus[s0].saved.rt_priority, 10);
	assert_true(cpuset_has(&reg->vcpus[s0].saved.affinity, 5));
	assert_int_equal(cpuset_count(&reg->vcpus[s0].saved.affinity), 1);
	assert_int_equal(reg->vcpus[s1].vcpu_index, 1);
	assert_int_equal(reg->vcpus[s1].saved.policy, 0); /* NULL saved: zeroed */

	assert_int_equal(registry_find_vcpu_by_tid(reg, 1001), s0);
	assert_int_equal(registry_find_vcpu_by_tid(reg, 1002), s1);
	assert_int_equal(registry_find_vcpu_by_tid(reg, 1003), -1);
	assert_counters_consistent(reg);
}

static void test_vcpu_bad_input(void **state)
{
	struct vs_registry *reg = *state;
	int vm = add_vm(reg, 1000, "a");

	add_vcpu(reg, vm, 1001, 0);

	memset(err, 0, sizeof(err));
	assert_int_equal(registry_add_vcpu(reg, vm, 1001, 1, NULL, err, sizeof(err)), -1);
	assert_err_has("1001");
	assert_err_has("already enrolled");

	/* A tid is unique across VMs too. */
	int vm2 = add_vm(reg, 2000, "b");
	memset(err, 0, sizeof(err));
	assert_int_equal(registry_add_vcpu(reg, vm2, 1001, 0, NULL, err, sizeof(err)), -1);
	assert_err_has("already enrolled");

	memset(err, 0, sizeof(err));
	assert_int_equal(registry_add_vcpu(reg, vm, 0, 1, NULL, err, sizeof(err)), -1);
	assert_err_has("invalid");
	assert_int_equal(registry_add_vcpu(reg, vm, -7, 1, NULL, err, sizeof(err)), -1);
	assert_int_equal(registry_add_vcpu(reg, vm, 1005, -1, NULL, err, sizeof(err)), -1);

	memset(err, 0, sizeof(err));
	assert_int_equal(registry_add_vcpu(reg, 63, 1006, 0, NULL, err, sizeof(err)), -1);
	assert_err_has("unknown VM id 63");
	memset(err, 0, sizeof(err));
	assert_int_equal(registry_add_vcpu(reg, -1, 1006, 0, NULL, err, sizeof(err)), -1);
	assert_err_has("unknown VM id -1");
	assert_int_equal(registry_add_vcpu(reg, VS_MAX_VMS, 1006, 0, NULL, err, sizeof(err)), -1);

	assert_int_equal(reg->nr_vcpus, 1);
	assert_int_equal(reg->vms[vm].nr_vcpus, 1);
	assert_int_equal(reg->vms[vm2].nr_vcpus, 0);
	assert_int_equal(registry_find_vcpu_by_tid(reg, 1006), -1);
	assert_counters_consistent(reg);
}

/* The limits the maps were sized with: ids and slots past them are never used. */
static void test_limits_from_settings(void **state)
{
	struct vs_registry *reg = *state;
	int a, b;

	registry_free(reg);
	assert_int_equal(registry_init(reg, 2, 3), 0);
	a = add_vm(reg, 1000, "a");
	b = add_vm(reg, 2000, "b");
	assert_int_equal(registry_add_vm(reg, 3000, "c", err, sizeof(err)), -1);
	assert_err_has("too many VMs (at most 2)");
	assert_int_equal(registry_adopt_vm(reg, 2, 3000, "c", err, sizeof(err)), -1);
	assert_int_equal(add_vcpu(reg, a, 10, 0), 0);
	assert_int_equal(add_vcpu(reg, b, 11, 0), 1);
	assert_int_equal(add_vcpu(reg, b, 12, 1), 2);
	assert_int_equal(registry_add_vcpu(reg, a, 13, 1, NULL, err, sizeof(err)), -1);
	assert_err_has("vCPU limit reached: 3 of 3 vCPU slots in use (--max-vcpus / max-vcpus in "
		       "vmm-sched.conf)");
	assert_int_equal(registry_adopt_vcpu(reg, 3, a, 13, 1, NULL, err, sizeof(err)), -1);
	/* A slot freed is used again; out-of-range limits are clamped to 1..ceiling. */
	registry_remove_vcpu(reg, 1);
	assert_int_equal(add_vcpu(reg, a, 13, 1), 1);
	registry_free(reg);
	assert_int_equal(registry_init(reg, 0, VS_MAX_VCPUS + 1), 0);
	assert_int_equal(reg->vm_ids, 1);
	assert_int_equal(reg->vcpu_slots, VS_MAX_VCPUS);
}

static void test_vcpu_table_full(void **state)
{
	struct vs_registry *reg = *state;
	int vm_a = add_vm(reg, 1000, "a"), vm_b = add_vm(reg, 2000, "b");

	for (int i = 0; i < VS_MAX_VCPUS; i++)
		assert_int_equal(add_vcpu(reg, i % 2 ? vm_b : vm_a, 10000 + i, i / 2), i);
	assert_int_equal(reg->nr_vcpus, VS_MAX_VCPUS);
	assert_int_equal(reg->vms[vm_a].nr_vcpus, VS_MAX_VCPUS / 2);
	assert_int_equal(reg->vms[vm_b].nr_vcpus, VS_MAX_VCPUS / 2);

	memset(err, 0, sizeof(err));
	assert_int_equal(registry_add_vcpu(reg, vm_a, 99999, 0, NULL, err, sizeof(err)), -1);
	assert_err_has("vCPU limit reached: 16384 of 16384 vCPU slots in use (--max-vcpus");
	assert_err_has("16384");
	assert_int_equal(reg->nr_vcpus, VS_MAX_VCPUS);
	assert_int_equal(reg->vms[vm_a].nr_vcpus, VS_MAX_VCPUS / 2);
	assert_int_equal(registry_find_vcpu_by_tid(reg, 99999), -1);

	/* A freed slot is reused. */
	registry_remove_vcpu(reg, 500);
	assert_int_equal(add_vcpu(reg, vm_a, 99999, 0), 500);
	assert_counters_consistent(reg);
}

static void test_remove_vcpu(void **state)
{
	struct vs_registry *reg = *state;
	int vm = add_vm(reg, 1000, "a");
	int s0 = add_vcpu(reg, vm, 1001, 0), s1 = add_vcpu(reg, vm, 1002, 1);

	registry_remove_vcpu(reg, s0);
	assert_false(reg->vcpus[s0].used);
	assert_int_equal(reg->nr_vcpus, 1);
	assert_int_equal(reg->vms[vm].nr_vcpus, 1);
	assert_int_equal(registry_find_vcpu_by_tid(reg, 1001), -1);
	assert_int_equal(registry_find_vcpu_by_tid(reg, 1002), s1);

	/* Twice, or bad slots: no change. */
	registry_remove_vcpu(reg, s0);
	registry_remove_vcpu(reg, -1);
	registry_remove_vcpu(reg, VS_MAX_VCPUS);
	assert_int_equal(reg->nr_vcpus, 1);
	assert_int_equal(reg->vms[vm].nr_vcpus, 1);

	/* The tid may enrol again. */
	assert_true(add_vcpu(reg, vm, 1001, 0) >= 0);
	assert_int_equal(reg->nr_vcpus, 2);
	assert_counters_consistent(reg);
}

static void test_remove_vm_frees_its_vcpus(void **state)
{
	struct vs_registry *reg = *state;
	int a = add_vm(reg, 1000, "a"), b = add_vm(reg, 2000, "b");
	int sb[3];

	for (int i = 0; i < 4; i++)
		add_vcpu(reg, a, 1100 + i, i);
	for (int i = 0; i < 3; i++)
		sb[i] = add_vcpu(reg, b, 2100 + i, i);
	assert_int_equal(reg->nr_vcpus, 7);

	registry_remove_vm(reg, a);
	assert_int_equal(reg->nr_vms, 1);
	assert_int_equal(reg->nr_vcpus, 3);
	for (int i = 0; i < 4; i++)
		assert_int_equal(registry_find_vcpu_by_tid(reg, 1100 + i), -1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(registry_find_vcpu_by_tid(reg, 2100 + i), sb[i]);
	assert_int_equal(reg->vms[b].nr_vcpus, 3);
	assert_counters_consistent(reg);

	/* A new VM that takes id a starts with no vCPUs. */
	assert_int_equal(add_vm(reg, 3000, "c"), a);
	assert_int_equal(reg->vms[a].nr_vcpus, 0);
	assert_counters_consistent(reg);

	/* The freed tids may enrol again, in any VM. */
	assert_true(add_vcpu(reg, b, 1100, 3) >= 0);
	assert_int_equal(reg->vms[b].nr_vcpus, 4);
	assert_counters_consistent(reg);
}

static void test_remove_vm_with_full_vcpu_table(void **state)
{
	struct vs_registry *reg = *state;
	int a = add_vm(reg, 1000, "a"), b = add_vm(reg, 2000, "b");

	for (int i = 0; i < VS_MAX_VCPUS; i++)
		add_vcpu(reg, i < 1000 ? a : b, 10000 + i, i);
	registry_remove_vm(reg, a);
	assert_int_equal(reg->nr_vcpus, VS_MAX_VCPUS - 1000);
	assert_int_equal(reg->vms[b].nr_vcpus, VS_MAX_VCPUS - 1000);
	assert_counters_consistent(reg);
	/* Room for 1000 more now. */
	for (int i = 0; i < 1000; i++)
		add_vcpu(reg, b, 40000 + i, 100 + i);
	assert_int_equal(reg->nr_vcpus, VS_MAX_VCPUS);
	assert_counters_consistent(reg);
}

/* Re-adoption puts records back at the ids and slots the BPF maps use. */
static void test_adopt_at_given_ids(void **state)
{
	struct vs_registry *reg = *state;
	char err[256];
	int fresh;

	assert_int_equal(registry_adopt_vm(reg, 5, 500, "web", err, sizeof(err)), 5);
	assert_int_equal(registry_adopt_vcpu(reg, 77, 5, 501, 1, NULL, err, sizeof(err)), 77);
	assert_int_equal(registry_find_vcpu_by_tid(reg, 501), 77);
	assert_string_equal(reg->vms[5].name, "web");
	/* Fresh enrolments take the lowest free id and slot around them. */
	fresh = registry_add_vm(reg, 600, "db", err, sizeof(err));
	assert_int_equal(fresh, 0);
	assert_int_equal(registry_add_vcpu(reg, fresh, 601, 0, NULL, err, sizeof(err)), 0);
	assert_counters_consistent(reg);
}

static void test_adopt_rejects_taken_and_out_of_range(void **state)
{
	struct vs_registry *reg = *state;
	char err[256];

	assert_int_equal(registry_adopt_vm(reg, 5, 500, "web", err, sizeof(err)), 5);
	assert_int_equal(registry_adopt_vm(reg, 5, 700, "other", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "VM id 5"));
	assert_int_equal(registry_adopt_vm(reg, VS_MAX_VMS, 700, "x", err, sizeof(err)), -1);
	assert_int_equal(registry_adopt_vm(reg, -1, 700, "x", err, sizeof(err)), -1);
	/* Same pid under another id: the record is corrupt. */
	assert_int_equal(registry_adopt_vm(reg, 6, 500, "again", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "already enrolled"));

	assert_int_equal(registry_adopt_vcpu(reg, 3, 5, 501, 0, NULL, err, sizeof(err)), 3);
	assert_int_equal(registry_adopt_vcpu(reg, 3, 5, 502, 1, NULL, err, sizeof(err)), -1);
	assert_int_equal(registry_adopt_vcpu(reg, VS_MAX_VCPUS, 5, 502, 1, NULL, err, sizeof(err)),
			 -1);
	assert_int_equal(registry_adopt_vcpu(reg, 4, 9, 502, 1, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown VM id 9"));
	assert_int_equal(registry_adopt_vcpu(reg, 4, 5, 501, 1, NULL, err, sizeof(err)), -1);
	assert_int_equal(reg->nr_vms, 1);
	assert_int_equal(reg->nr_vcpus, 1);
	assert_counters_consistent(reg);
}

/* Share settings: merged with the current ones, checked as a whole, all or nothing. */
static void test_set_share(void **state)
{
	struct vs_vm_rec vm = {.used = true, .weight = VS_DEFAULT_WEIGHT};
	struct vs_share_settings keep = {VS_SHARE_KEEP, VS_SHARE_KEEP, VS_SHARE_KEEP}, s;
	char err[128];

	s = keep;
	s.weight = 300;
	s.reserve_cores = 1;
	s.cap_cores = 2;
	assert_int_equal(registry_set_share(&vm, &s, 4, err, sizeof(err)), 0);
	assert_int_equal(vm.weight, 300);
	assert_int_equal(vm.reserve_cores, 1);
	assert_int_equal(vm.cap_cores, 2);
	/* Kept fields stay; the cap may not drop below the kept reservation. */
	s = keep;
	s.cap_cores = 0;
	assert_int_equal(registry_set_share(&vm, &s, 4, err, sizeof(err)), 0);
	assert_int_equal(vm.cap_cores, 0);
	assert_int_equal(vm.weight, 300);
	s = keep;
	s.reserve_cores = 3;
	assert_int_equal(registry_set_share(&vm, &s, 4, err, sizeof(err)), 0);
	s = keep;
	s.cap_cores = 2;
	assert_int_equal(registry_set_share(&vm, &s, 4, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cap of 2 cores is below the reservation of 3"));
	assert_int_equal(vm.cap_cores, 0);
	s = keep;
	s.reserve_cores = 5;
	assert_int_equal(registry_set_share(&vm, &s, 4, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than the enclave's 4"));
	s = keep;
	s.weight = 0;
	assert_int_equal(registry_set_share(&vm, &s, 4, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "weight 0"));
	s.weight = VS_MAX_WEIGHT + 1;
	s.cap_cores = 1;
	assert_int_equal(registry_set_share(&vm, &s, 4, err, sizeof(err)), -1);
	assert_int_equal(vm.weight, 300);
	assert_int_equal(vm.reserve_cores, 3);
	assert_int_equal(vm.cap_cores, 0);
}

/* --max-vms: the VM past the limit is refused by name of the setting; below it, and after a
 * release, one fits. */
static void test_vm_limit(void **state)
{
	struct vs_registry *reg = *state;
	int id;

	assert_int_equal(registry_check_vm_limit(reg, 2, err, sizeof(err)), 0);
	add_vm(reg, 100, "a");
	assert_int_equal(registry_check_vm_limit(reg, 2, err, sizeof(err)), 0);
	id = add_vm(reg, 101, "b");
	err[0] = '\0';
	assert_int_equal(registry_check_vm_limit(reg, 2, err, sizeof(err)), -1);
	assert_err_has("VM limit reached: 2 of 2 VMs enrolled");
	assert_err_has("--max-vms / max-vms in vmm-sched.conf");
	assert_err_has("release one or raise the limit");
	assert_int_equal(registry_check_vm_limit(reg, 3, err, sizeof(err)), 0);
	assert_int_equal(registry_check_vm_limit(reg, 1, err, sizeof(err)), -1);
	assert_err_has("2 of 1 VMs");
	registry_remove_vm(reg, id);
	assert_int_equal(registry_check_vm_limit(reg, 2, err, sizeof(err)), 0);
	/* The default, VS_MAX_VMS, refuses only a full table. */
	assert_int_equal(registry_check_vm_limit(reg, VS_MAX_VMS, err, sizeof(err)), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_init_empty),
	    T(test_add_find_vm),
	    T(test_vm_default_and_long_name),
	    T(test_vm_bad_and_duplicate_pid),
	    T(test_vm_table_full),
	    T(test_vm_limit),
	    T(test_remove_vm),
	    T(test_add_find_vcpu),
	    T(test_vcpu_bad_input),
	    T(test_limits_from_settings),
	    T(test_vcpu_table_full),
	    T(test_remove_vcpu),
	    T(test_remove_vm_frees_its_vcpus),
	    T(test_remove_vm_with_full_vcpu_table),
	    T(test_adopt_at_given_ids),
	    T(test_adopt_rejects_taken_and_out_of_range),
	    T(test_set_share),
	};

	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
