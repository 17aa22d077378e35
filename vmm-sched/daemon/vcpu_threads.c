/* Moving a thread into SCHED_EXT on the enclave's CPUs, and back to what it had. */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "vcpu_threads.h"

#ifndef SCHED_EXT
#define SCHED_EXT 7
#endif

/* struct sched_attr (sched_setattr(2)); <linux/sched/types.h> clashes with <sched.h>. */
struct sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
	uint32_t sched_util_min, sched_util_max;
};

static int sched_getattr_tid(int tid, struct sched_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	return (int)syscall(SYS_sched_getattr, tid, attr, sizeof(*attr), 0);
}

static int sched_setattr_tid(int tid, struct sched_attr *attr)
{
	return (int)syscall(SYS_sched_setattr, tid, attr, 0);
}

int thread_affinity(int tid, struct vs_cpuset *out)
{
	cpu_set_t mask;

	CPU_ZERO(&mask);
	if (sched_getaffinity(tid, sizeof(mask), &mask))
		return -errno;
	cpuset_clear(out);
	for (int cpu = 0; cpu < VS_MAX_CPUS && cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &mask))
			cpuset_add(out, cpu);
	return 0;
}

int thread_save_sched(int tid, struct vs_saved_sched *out, char *err, size_t errlen)
{
	struct sched_attr attr;

	if (sched_getattr_tid(tid, &attr)) {
		snprintf(err, errlen, "cannot read the scheduling policy of thread %d: %s", tid,
			 strerror(errno));
		return -1;
	}
	if (thread_affinity(tid, &out->affinity)) {
		snprintf(err, errlen, "cannot read the CPU affinity of thread %d: %s", tid,
			 strerror(errno));
		return -1;
	}
	out->policy = (int)attr.sched_policy;
	out->nice = attr.sched_nice;
	out->rt_priority = (int)attr.sched_priority;
	return 0;
}

static int set_affinity(int tid, const struct vs_cpuset *cpus)
{
	cpu_set_t mask;
	int cpu;

	CPU_ZERO(&mask);
	cpuset_for_each(cpu, cpus)
	{
		CPU_SET(cpu, &mask);
	}
	return sched_setaffinity(tid, sizeof(mask), &mask);
}

int thread_pin(int tid, const struct vs_cpuset *cpus)
{
	return set_affinity(tid, cpus) ? -errno : 0;
}

int thread_enter_enclave(int tid, const struct vs_enclave *enc, char *err, size_t errlen)
{
	struct sched_attr attr = {.size = sizeof(attr), .sched_policy = SCHED_EXT};

	if (set_affinity(tid, &enc->cpus)) {
		snprintf(err, errlen, "cannot pin thread %d to the enclave: %s", tid,
			 strerror(errno));
		return -1;
	}
	if (sched_setattr_tid(tid, &attr)) {
		snprintf(err, errlen, "cannot move thread %d to SCHED_EXT: %s", tid,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int thread_restore_sched(int tid, const struct vs_saved_sched *saved, char *err, size_t errlen)
{
	struct sched_attr attr = {.size = sizeof(attr),
				  .sched_policy = (uint32_t)saved->policy,
				  .sched_nice = saved->nice,
				  .sched_priority = (uint32_t)saved->rt_priority};

	if (saved->policy == SCHED_EXT) {
		/* It was ours before we saw it (a crashed agent): give it the fair class. */
		attr.sched_policy = SCHED_OTHER;
		attr.sched_priority = 0;
	}
	if (sched_setattr_tid(tid, &attr)) {
		snprintf(err, errlen, "cannot restore the policy of thread %d: %s", tid,
			 strerror(errno));
		return -1;
	}
	if (cpuset_count(&saved->affinity) && set_affinity(tid, &saved->affinity)) {
		snprintf(err, errlen, "cannot restore the CPU affinity of thread %d: %s", tid,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int process_comm(int pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * The fields of a /proc .../stat file after the comm (which may hold spaces
 * and parentheses: they start after the last ')'), read into buf; NULL if
 * unreadable.
 */
static const char *stat_fields(const char *path, char *buf, size_t size)
{
	const char *p;
	size_t n;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] ? p + 2 : NULL;
}

/* Field 22 of a /proc .../stat file (start time in ticks), 0 if unreadable. */
static uint64_t stat_start_time(const char *path)
{
	char buf[1024];
	const char *p = stat_fields(path, buf, sizeof(buf));
	unsigned long long start = 0;

	if (!p || sscanf(p,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
			 "%*d %*d %*d %llu",
			 &start) != 1)
		return 0;
	return start;
}

char process_state(int pid)
{
	char path[64], buf[512];
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	p = stat_fields(path, buf, sizeof(buf));
	return p ? p[0] : 0;
}

uint64_t process_start_time(int pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	return stat_start_time(path);
}

uint64_t thread_start_time(int pid, int tid)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	return stat_start_time(path);
}
