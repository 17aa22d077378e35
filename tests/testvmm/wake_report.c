#include "wake_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void wake_report_mark(struct vcpu *vcpus, struct wake_mark *marks, int n)
{
	for (int i = 0; i < n; i++) {
		marks[i].count = load(&vcpus[i].hist->count);
		for (int b = 0; b < WAKE_HIST_BUCKETS; b++)
			marks[i].buckets[b] = load(&vcpus[i].hist->buckets[b]);
		/* The guest only raises it; a wake in flight may still land in this window. */
		__atomic_store_n(&vcpus[i].hist->max_cycles, 0, __ATOMIC_RELAXED);
	}
}

/* Guest TSC cycles as microseconds, one decimal. */
static void print_us(const char *key, uint64_t cycles, uint64_t tsc_khz)
{
	printf(" %s=%.1f", key, tsc_khz ? (double)cycles * 1000.0 / (double)tsc_khz : 0.0);
}

/* One "latency" line for a window's counts. */
static void print_line(const char *name, const char *vcpu, const uint64_t *window, uint64_t count,
		       uint64_t max, uint64_t tsc_khz)
{
	static const struct {
		const char *key;
		unsigned int parts; /* in 10000 */
	} quantiles[] = {{"p50_us", 5000}, {"p99_us", 9900}, {"p999_us", 9990}};

	printf("latency vm=%s vcpu=%s wakes=%" PRIu64, name, vcpu, count);
	/* A bucket's upper bound, but never above the largest value seen. */
	for (int q = 0; q < 3; q++) {
		uint64_t v = wake_hist_percentile(window, count, quantiles[q].parts);

		print_us(quantiles[q].key, v < max ? v : max, tsc_khz);
	}
	print_us("max_us", max, tsc_khz);
	printf("\n");
}

void wake_report_print(const char *name, struct vcpu *vcpus, const struct wake_mark *marks, int n,
		       uint64_t tsc_khz)
{
	static uint64_t window[WAKE_HIST_BUCKETS], all[WAKE_HIST_BUCKETS];
	uint64_t all_count = 0, all_max = 0;
	char index[16];

	memset(all, 0, sizeof(all));
	for (int i = 0; i < n; i++) {
		uint64_t count = 0, max;

		for (int b = 0; b < WAKE_HIST_BUCKETS; b++) {
			uint64_t now = load(&vcpus[i].hist->buckets[b]);

			window[b] = now >= marks[i].buckets[b] ? now - marks[i].buckets[b] : 0;
			all[b] += window[b];
			count += window[b];
		}
		max = count ? load(&vcpus[i].hist->max_cycles) : 0;
		snprintf(index, sizeof(index), "%d", i);
		print_line(name, index, window, count, max, tsc_khz);
		all_count += count;
		all_max = max > all_max ? max : all_max;
	}
	/* All vCPUs of the VM together: the VM's own percentiles. */
	print_line(name, "all", all, all_count, all_max, tsc_khz);
}
