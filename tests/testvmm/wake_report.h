/*
 * The VMM's side of the duty payload's wakeup latency histograms: windows
 * (SIGNAL_HIST_MARK starts one) and the percentiles of each vCPU's wakes in
 * the current window, printed as "latency" lines beside the progress lines.
 */
#ifndef TESTVMM_WAKE_REPORT_H
#define TESTVMM_WAKE_REPORT_H

#include <stdint.h>

#include "vcpu.h"

/* The counts at the start of a vCPU's current window. */
struct wake_mark {
	uint64_t count;
	uint64_t buckets[WAKE_HIST_BUCKETS];
};

/* Start a new window for all n vCPUs. */
void wake_report_mark(struct vcpu *vcpus, struct wake_mark *marks, int n);
/*
 * "latency vm=NAME vcpu=I wakes=N p50_us= p99_us= p999_us= max_us=" per vCPU
 * for the window, then one with vcpu=all over the VM's vCPUs together.
 */
void wake_report_print(const char *name, struct vcpu *vcpus, const struct wake_mark *marks, int n,
		       uint64_t tsc_khz);

#endif
