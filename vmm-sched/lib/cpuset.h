/* A fixed-size CPU set, parsed from and printed as kernel CPU lists ("0-3,8"). */
#ifndef VS_CPUSET_H
#define VS_CPUSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/vmm_sched_abi.h"

struct vs_cpuset {
	uint64_t bits[VS_MAX_CPUS / 64];
};

void cpuset_clear(struct vs_cpuset *set);
void cpuset_add(struct vs_cpuset *set, int cpu);
void cpuset_del(struct vs_cpuset *set, int cpu);
bool cpuset_has(const struct vs_cpuset *set, int cpu);
int cpuset_count(const struct vs_cpuset *set);
/* The lowest CPU >= from in the set, or -1. */
int cpuset_next(const struct vs_cpuset *set, int from);
bool cpuset_equal(const struct vs_cpuset *a, const struct vs_cpuset *b);

/*
 * Parse a CPU list such as "0-3,8,10-11". Returns 0, or -1 with a message in
 * err naming what is wrong (empty list, bad number, reversed range, CPU >= VS_MAX_CPUS).
 */
int cpuset_parse(struct vs_cpuset *set, const char *list, char *err, size_t errlen);
/* Print as a compact CPU list; returns the length it needed (like snprintf). */
int cpuset_format(const struct vs_cpuset *set, char *buf, size_t len);

#define cpuset_for_each(cpu, set)                                                                  \
	for ((cpu) = cpuset_next((set), 0); (cpu) >= 0; (cpu) = cpuset_next((set), (cpu) + 1))

#endif
