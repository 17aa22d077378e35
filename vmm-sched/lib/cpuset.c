#include "cpuset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cpuset_clear(struct vs_cpuset *set)
{
	memset(set, 0, sizeof(*set));
}

static bool cpu_valid(int cpu)
{
	return cpu >= 0 && cpu < VS_MAX_CPUS;
}

void cpuset_add(struct vs_cpuset *set, int cpu)
{
	if (cpu_valid(cpu))
		set->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

void cpuset_del(struct vs_cpuset *set, int cpu)
{
	if (cpu_valid(cpu))
		set->bits[cpu / 64] &= ~(1ULL << (cpu % 64));
}

bool cpuset_has(const struct vs_cpuset *set, int cpu)
{
	return cpu_valid(cpu) && (set->bits[cpu / 64] >> (cpu % 64)) & 1;
}

int cpuset_count(const struct vs_cpuset *set)
{
	int n = 0;

	for (size_t i = 0; i < VS_MAX_CPUS / 64; i++)
		n += __builtin_popcountll(set->bits[i]);
	return n;
}

int cpuset_next(const struct vs_cpuset *set, int from)
{
	if (from < 0)
		from = 0;
	for (int w = from / 64; w < VS_MAX_CPUS / 64; w++) {
		uint64_t word = set->bits[w];

		if (w == from / 64)
			word &= ~0ULL << (from % 64);
		if (word)
			return w * 64 + __builtin_ctzll(word);
	}
	return -1;
}

bool cpuset_equal(const struct vs_cpuset *a, const struct vs_cpuset *b)
{
	return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

static int parse_cpu(const char **p, int *cpu, char *err, size_t errlen)
{
	char *end;
	long v;

	if (**p < '0' || **p > '9') {
		snprintf(err, errlen, "expected a CPU number at '%s'", *p);
		return -1;
	}
	errno = 0;
	v = strtol(*p, &end, 10);
	if (errno || v >= VS_MAX_CPUS) {
		snprintf(err, errlen, "CPU number at '%s' is beyond the supported %d CPUs", *p,
			 VS_MAX_CPUS);
		return -1;
	}
	*cpu = (int)v;
	*p = end;
	return 0;
}

int cpuset_parse(struct vs_cpuset *set, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	cpuset_clear(set);
	if (!list || !*list) {
		snprintf(err, errlen, "empty CPU list");
		return -1;
	}
	while (*p) {
		int lo, hi;

		if (parse_cpu(&p, &lo, err, errlen))
			return -1;
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_cpu(&p, &hi, err, errlen))
				return -1;
			if (hi < lo) {
				snprintf(err, errlen, "reversed range %d-%d in CPU list '%s'", lo,
					 hi, list);
				return -1;
			}
		}
		for (int cpu = lo; cpu <= hi; cpu++)
			cpuset_add(set, cpu);
		if (*p == ',') {
			p++;
			if (!*p) {
				snprintf(err, errlen, "CPU list '%s' ends with a comma", list);
				return -1;
			}
		} else if (*p && *p != '\n') {
			snprintf(err, errlen, "unexpected '%c' in CPU list '%s'", *p, list);
			return -1;
		} else if (*p == '\n') {
			break;
		}
	}
	return 0;
}

int cpuset_format(const struct vs_cpuset *set, char *buf, size_t len)
{
	int need = 0, cpu = cpuset_next(set, 0);

	if (len)
		buf[0] = '\0';
	while (cpu >= 0) {
		int end = cpu, n;

		while (cpuset_has(set, end + 1))
			end++;
		if (end == cpu)
			n = snprintf(need < (int)len ? buf + need : NULL,
				     need < (int)len ? len - need : 0, "%s%d", need ? "," : "",
				     cpu);
		else
			n = snprintf(need < (int)len ? buf + need : NULL,
				     need < (int)len ? len - need : 0, "%s%d-%d", need ? "," : "",
				     cpu, end);
		need += n;
		cpu = cpuset_next(set, end + 1);
	}
	return need;
}
