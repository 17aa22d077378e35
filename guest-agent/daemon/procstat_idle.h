/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-CPU idle state from /proc/stat, for the guest daemon (no system calls:
 * the caller reads the file). A CPU counts as idle over an interval when its
 * idle + iowait time was at least a threshold share of all its time.
 */
#ifndef PROCSTAT_IDLE_H
#define PROCSTAT_IDLE_H

#include <stdbool.h>
#include <stdint.h>

struct cpu_times {
	uint64_t idle;	/* idle + iowait, in USER_HZ ticks */
	uint64_t total; /* user .. steal (guest time is already in user/nice) */
	bool present;	/* the CPU had a line */
};

/*
 * Parses the "cpuN ..." lines of /proc/stat text into out[0..max_cpus).
 * Returns the number of CPU slots filled (highest N + 1), or -1 if a cpuN line
 * is malformed (fewer than 4 numbers, a bad number). CPUs at or above max_cpus
 * are ignored; CPUs without a line get present = false.
 */
int procstat_parse(const char *text, struct cpu_times *out, unsigned int max_cpus);

/*
 * Whether a CPU is idle now, from two samples: idle if idle time was at least
 * threshold_pct percent of the interval, busy otherwise. Without information
 * (no time passed, a counter went back, a sample missing) it keeps was_idle.
 */
bool procstat_idle(const struct cpu_times *prev, const struct cpu_times *cur,
		   unsigned int threshold_pct, bool was_idle);

#endif /* PROCSTAT_IDLE_H */
