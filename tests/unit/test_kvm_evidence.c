/* Which processes count as KVM VMMs, and how many vCPU threads they may enrol. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kvm_evidence.h"

static struct vs_kvm_evidence of(const char *const *links)
{
	struct vs_kvm_evidence ev = {0};

	for (; *links; links++)
		kvm_evidence_add(&ev, *links);
	return ev;
}

static void test_real_vmm(void **state)
{
	const char *links[] = {"/dev/null",
			       "anon_inode:kvm-vm",
			       "anon_inode:kvm-vcpu:0",
			       "anon_inode:kvm-vcpu:4",
			       "socket:[1234]",
			       "/dev/kvm",
			       NULL};
	struct vs_kvm_evidence ev = of(links);

	assert_int_equal(ev.vm_fds, 1);
	assert_int_equal(ev.vcpu_fds, 2);
	assert_int_equal(kvm_evidence_vcpu_limit(&ev, 1024), 2);
	/* The operator's per-VM limit wins when lower. */
	assert_int_equal(kvm_evidence_vcpu_limit(&ev, 1), 1);
}

/* Names a process can choose itself are no evidence. */
static void test_lookalikes(void **state)
{
	const char *links[] = {"/dev/kvm",
			       "/memfd:kvm-vm (deleted)",
			       "/tmp/anon_inode:kvm-vm",
			       "anon_inode:kvm-vm ",
			       "anon_inode:kvm-vcpu:",
			       "anon_inode:kvm-vcpu:1x",
			       "anon_inode:kvm-vcpu:-1",
			       "anon_inode:[eventfd]",
			       "anon_inode:kvm-vcpu-stats:0",
			       NULL};
	struct vs_kvm_evidence ev = of(links);

	assert_int_equal(ev.vm_fds, 0);
	assert_int_equal(ev.vcpu_fds, 0);
	assert_int_equal(kvm_evidence_vcpu_limit(&ev, 1024), 0);
	kvm_evidence_add(&ev, NULL);
	assert_int_equal(ev.vm_fds + ev.vcpu_fds, 0);
}

/* vCPU fds without a VM fd (handed over alone) do not make a VMM. */
static void test_vcpus_without_vm(void **state)
{
	const char *links[] = {"anon_inode:kvm-vcpu:0", "anon_inode:kvm-vcpu:1", NULL};
	struct vs_kvm_evidence ev = of(links);

	assert_int_equal(ev.vcpu_fds, 2);
	assert_int_equal(kvm_evidence_vcpu_limit(&ev, 1024), 0);
}

/* A VM whose vCPUs are not created yet may enrol no thread. */
static void test_vm_without_vcpus(void **state)
{
	const char *links[] = {"anon_inode:kvm-vm", NULL};
	struct vs_kvm_evidence ev = of(links);

	assert_int_equal(kvm_evidence_vcpu_limit(&ev, 1024), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_vmm),
	    cmocka_unit_test(test_lookalikes),
	    cmocka_unit_test(test_vcpus_without_vm),
	    cmocka_unit_test(test_vm_without_vcpus),
	};

	return cmocka_run_group_tests_name("kvm_evidence", tests, NULL, NULL);
}
