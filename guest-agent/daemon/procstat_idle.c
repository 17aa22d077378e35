// SPDX-License-Identifier: GPL-2.0-only
/* Per-CPU idle state from /proc/stat: see procstat_idle.h. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "procstat_idle.h"

/* Parses one "cpuN f1 f2 ..." line (N given); -1 if malformed. */
static int parse_line(const char *p, struct cpu_times *t)
{
	uint64_t v[8] = {0};
	int n = 0;

	while (n < 10) {
		char *end;
		unsigned long long x;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || *p == '\0')
			break;
		if (!isdigit((unsigned char)*p))
			return -1;
		errno = 0;
		x = strtoull(p, &end, 10);
		if (errno)
			return -1;
		if (n < 8)
			v[n] = x;
		n++;
		p = end;
	}
	if (n < 4)
		return -1;
	/* user nice system idle iowait irq softirq steal [guest guest_nice] */
	t->idle = v[3] + v[4];
	t->total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	t->present = true;
	return 0;
}

int procstat_parse(const char *text, struct cpu_times *out, unsigned int max_cpus)
{
	const char *p = text;
	int filled = 0;

	memset(out, 0, sizeof(*out) * max_cpus);
	while (p && *p) {
		if (!strncmp(p, "cpu", 3) && isdigit((unsigned char)p[3])) {
			char *end;
			unsigned long cpu;

			errno = 0;
			cpu = strtoul(p + 3, &end, 10);
			if (errno || (*end != ' ' && *end != '\t'))
				return -1;
			if (cpu < max_cpus) {
				if (parse_line(end, &out[cpu]))
					return -1;
				if ((int)cpu + 1 > filled)
					filled = cpu + 1;
			}
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return filled;
}

bool procstat_idle(const struct cpu_times *prev, const struct cpu_times *cur,
		   unsigned int threshold_pct, bool was_idle)
{
	uint64_t didle, dtotal;

	if (!prev->present || !cur->present || cur->total <= prev->total || cur->idle < prev->idle)
		return was_idle;
	didle = cur->idle - prev->idle;
	dtotal = cur->total - prev->total;
	if (didle > dtotal)
		return was_idle;
	return didle * 100 >= (uint64_t)threshold_pct * dtotal;
}
