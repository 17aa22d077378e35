/*
 * core-cookie: reads and creates PR_SCHED_CORE (core scheduling) cookies for
 * the VM tests.
 *
 *   core-cookie get TID            prints the thread's cookie: 0x... or 0
 *   core-cookie create PID         a new cookie for process PID and all its threads
 *   core-cookie create-thread TID  a new cookie for thread TID alone
 *
 * Exit status 3 if the kernel has no core scheduling (EINVAL: no
 * CONFIG_SCHED_CORE; ENODEV: no SMT), 1 on any other error, 2 on bad usage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

static int usage(void)
{
	fprintf(stderr, "usage: core-cookie get TID | create PID | create-thread TID\n");
	return 2;
}

static int failed(const char *what, long id)
{
	int e = errno;

	fprintf(stderr, "core-cookie: %s %ld: %s\n", what, id, strerror(e));
	return e == EINVAL || e == ENODEV ? 3 : 1;
}

int main(int argc, char **argv)
{
	unsigned long long cookie = 0;
	char *end;
	long id;

	if (argc != 3)
		return usage();
	id = strtol(argv[2], &end, 10);
	if (*end || id <= 0)
		return usage();
	if (strcmp(argv[1], "get") == 0) {
		if (prctl(PR_SCHED_CORE, PR_SCHED_CORE_GET, (unsigned long)id,
			  (unsigned long)PR_SCHED_CORE_SCOPE_THREAD, &cookie))
			return failed("PR_SCHED_CORE_GET of thread", id);
		printf(cookie ? "0x%llx\n" : "%llu\n", cookie);
	} else if (strcmp(argv[1], "create") == 0) {
		if (prctl(PR_SCHED_CORE, PR_SCHED_CORE_CREATE, (unsigned long)id,
			  (unsigned long)PR_SCHED_CORE_SCOPE_THREAD_GROUP, 0UL))
			return failed("PR_SCHED_CORE_CREATE for process", id);
	} else if (strcmp(argv[1], "create-thread") == 0) {
		if (prctl(PR_SCHED_CORE, PR_SCHED_CORE_CREATE, (unsigned long)id,
			  (unsigned long)PR_SCHED_CORE_SCOPE_THREAD, 0UL))
			return failed("PR_SCHED_CORE_CREATE for thread", id);
	} else {
		return usage();
	}
	return 0;
}
