/* Unit tests: vCPU thread names (vmm-sched/lib/vcpu_name.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vcpu_name.h"

static void test_qemu_kvm(void **state)
{
	assert_int_equal(vcpu_index_from_thread_name("CPU 0/KVM"), 0);
	assert_int_equal(vcpu_index_from_thread_name("CPU 1/KVM"), 1);
	assert_int_equal(vcpu_index_from_thread_name("CPU 12/KVM"), 12);
	assert_int_equal(vcpu_index_from_thread_name("CPU 255/KVM"), 255);
	assert_int_equal(vcpu_index_from_thread_name("CPU 123456/KVM"), 123456); /* 6 digits */
}

static void test_qemu_tcg(void **state)
{
	assert_int_equal(vcpu_index_from_thread_name("CPU 12/TCG"), 12);
	assert_int_equal(vcpu_index_from_thread_name("CPU 0/TCG"), 0);
}

static void test_cloud_hypervisor(void **state)
{
	assert_int_equal(vcpu_index_from_thread_name("vcpu3"), 3);
	assert_int_equal(vcpu_index_from_thread_name("vcpu0"), 0);
	assert_int_equal(vcpu_index_from_thread_name("vcpu47"), 47);
}

static void test_firecracker(void **state)
{
	assert_int_equal(vcpu_index_from_thread_name("fc_vcpu 7"), 7);
	assert_int_equal(vcpu_index_from_thread_name("fc_vcpu 0"), 0);
	assert_int_equal(vcpu_index_from_thread_name("fc_vcpu 31"), 31);
}

static void test_crosvm(void **state)
{
	assert_int_equal(vcpu_index_from_thread_name("crosvm_vcpu2"), 2);
	assert_int_equal(vcpu_index_from_thread_name("crosvm_vcpu15"), 15);
}

static void test_rejects_bad_index(void **state)
{
	assert_int_equal(vcpu_index_from_thread_name("CPU x/KVM"), -1);
	assert_int_equal(vcpu_index_from_thread_name("CPU /KVM"), -1);
	assert_int_equal(vcpu_index_from_thread_name("CPU -1/KVM"), -1);
	assert_int_equal(vcpu_index_from_thread_name("CPU 1x/KVM"), -1);
	assert_int_equal(vcpu_index_from_thread_name("CPU 1234567/KVM"), -1); /* 7 digits */
	assert_int_equal(vcpu_index_from_thread_name("vcpu12345678"), -1);
	assert_int_equal(vcpu_index_from_thread_name("vcpu"), -1);
	assert_int_equal(vcpu_index_from_thread_name("vcpu-1"), -1);
	assert_int_equal(vcpu_index_from_thread_name("vcpu 3"), -1);
	assert_int_equal(vcpu_index_from_thread_name("fc_vcpu "), -1);
	assert_int_equal(vcpu_index_from_thread_name("fc_vcpu7"), -1);
	assert_int_equal(vcpu_index_from_thread_name("crosvm_vcpu"), -1);
}

static void test_rejects_bad_suffix(void **state)
{
	assert_int_equal(vcpu_index_from_thread_name("CPU 1/KVMX"), -1);
	assert_int_equal(vcpu_index_from_thread_name("CPU 1/KV"), -1);
	assert_int_equal(vcpu_index_from_thread_name("CPU 1/kvm"), -1);
	assert_int_equal(vcpu_index_from_thread_name("CPU 1"), -1);
	assert_int_equal(vcpu_index_from_thread_name("CPU 1/XEN"), -1);
	assert_int_equal(vcpu_index_from_thread_name("vcpu3a"), -1);
	assert_int_equal(vcpu_index_from_thread_name("vcpu3 "), -1);
	assert_int_equal(vcpu_index_from_thread_name("fc_vcpu 7x"), -1);
	assert_int_equal(vcpu_index_from_thread_name("crosvm_vcpu2/"), -1);
}

static void test_rejects_other_threads(void **state)
{
	assert_int_equal(vcpu_index_from_thread_name("qemu-system-x86"), -1);
	assert_int_equal(vcpu_index_from_thread_name("IO mon_iothread"), -1);
	assert_int_equal(vcpu_index_from_thread_name("cloud-hyperviso"), -1);
	assert_int_equal(vcpu_index_from_thread_name("firecracker"), -1);
	assert_int_equal(vcpu_index_from_thread_name("crosvm"), -1);
	assert_int_equal(vcpu_index_from_thread_name("cpu 1/KVM"), -1);
	assert_int_equal(vcpu_index_from_thread_name(" CPU 1/KVM"), -1);
	assert_int_equal(vcpu_index_from_thread_name("xvcpu3"), -1);
	assert_int_equal(vcpu_index_from_thread_name(""), -1);
	assert_int_equal(vcpu_index_from_thread_name(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_qemu_kvm),
	    cmocka_unit_test(test_qemu_tcg),
	    cmocka_unit_test(test_cloud_hypervisor),
	    cmocka_unit_test(test_firecracker),
	    cmocka_unit_test(test_crosvm),
	    cmocka_unit_test(test_rejects_bad_index),
	    cmocka_unit_test(test_rejects_bad_suffix),
	    cmocka_unit_test(test_rejects_other_threads),
	};

	return cmocka_run_group_tests_name("vcpu_name", tests, NULL, NULL);
}
