/* SPDX-License-Identifier: GPL-2.0 */
/* Checks the vCPU thread-name rules of vcpu_name.h (shared with the BPF side). */
#include <stdio.h>
#include <string.h>

#include "vcpu_name.h"

static int check(const char *name, int want)
{
	char comm[PCN_COMM_LEN] = {0};
	int got;

	strncpy(comm, name, PCN_COMM_LEN - 1);
	got = pcn_is_vcpu_comm(comm);
	if (got != want)
		printf("FAIL: '%s' -> %d, want %d\n", name, got, want);
	return got != want;
}

int main(void)
{
	static const char *yes[] = {"CPU 0/KVM",    "CPU 12/KVM",     "CPU 3/TCG", "CPU 1234/KVM",
				    "vcpu0",	    "vcpu15",	      "fc_vcpu 0", "fc_vcpu 31",
				    "crosvm_vcpu2", "crosvm_vcpu1023"};
	static const char *no[] = {"",
				   "CPU",
				   "CPU /KVM",
				   "CPU 0/KV",
				   "CPU 0/KVMX",
				   "CPU 0/kvm",
				   "CPU 0 /KVM",
				   "CPUx0/KVM",
				   "vcpu",
				   "vcpu0a",
				   "vcpu-0",
				   "xvcpu0",
				   "fc_vcpu",
				   "fc_vcpu0",
				   "fc_vcpu 0x",
				   "crosvm_vcpu",
				   "qemu-system-x86",
				   "testvmm",
				   "kworker/0:1",
				   "CPU 0/KVM "};
	int failed = 0;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		failed += check(yes[i], 1);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		failed += check(no[i], 0);
	printf("test_vcpu_name: %s (%d failed)\n", failed ? "FAILED" : "ok", failed);
	return failed != 0;
}
