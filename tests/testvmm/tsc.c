#include "tsc.h"

#include <sys/ioctl.h>
#include <time.h>
#include <x86intrin.h>
#include <linux/kvm.h>

#define CALIBRATION_NS 100000000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Without TSC scaling the guest's TSC ticks at the host's rate. */
static uint64_t calibrate_host_tsc_khz(void)
{
	uint64_t t0 = now_ns(), c0 = __rdtsc(), t1, c1;

	do {
		t1 = now_ns();
	} while (t1 - t0 < CALIBRATION_NS);
	c1 = __rdtsc();
	return (c1 - c0) * 1000000ULL / (t1 - t0);
}

uint64_t tsc_khz(int vcpu_fd)
{
	int khz = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);

	if (khz > 0)
		return khz;
	return calibrate_host_tsc_khz();
}
