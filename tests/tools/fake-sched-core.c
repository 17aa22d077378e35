/*
 * Test-only LD_PRELOAD library: emulates prctl(PR_SCHED_CORE) on kernels
 * without CONFIG_SCHED_CORE, so that the agent's cookie handling can be run
 * end to end there. A thread's cookie is the file $VS_FAKE_SCHED_CORE_DIR/TID
 * (hex); no file, no cookie. Without that variable, and for every other
 * prctl, the call goes to the kernel.
 *
 * The rules follow kernel/sched/core_sched.c: GET and SHARE_FROM act on one
 * thread only; CREATE makes a new cookie; SHARE_TO pushes the caller's cookie,
 * so a caller without one clears the target's; SHARE_FROM pulls the target's
 * into the caller. Process groups (PIDTYPE_PGID) are not emulated (ENOSYS).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

static int cookie_path(char *buf, size_t len, int tid)
{
	const char *dir = getenv("VS_FAKE_SCHED_CORE_DIR");

	return snprintf(buf, len, "%s/%d", dir, tid) >= (int)len ? -ENAMETOOLONG : 0;
}

static uint64_t cookie_of(int tid)
{
	unsigned long long c = 0;
	char path[512];
	FILE *f;

	if (cookie_path(path, sizeof(path), tid))
		return 0;
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llx", &c) != 1)
		c = 0;
	fclose(f);
	return c;
}

static int set_cookie(int tid, uint64_t c)
{
	char path[512];
	FILE *f;
	int e = cookie_path(path, sizeof(path), tid);

	if (e)
		return e;
	if (!c)
		return unlink(path) && errno != ENOENT ? -errno : 0;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%llx\n", (unsigned long long)c);
	return fclose(f) ? -errno : 0;
}

static int set_thread_group(int tid, uint64_t c)
{
	struct dirent *de;
	char path[64];
	DIR *dir;
	int e = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", tid);
	dir = opendir(path);
	if (!dir)
		return -ESRCH;
	while (!e && (de = readdir(dir)))
		if (atoi(de->d_name) > 0)
			e = set_cookie(atoi(de->d_name), c);
	closedir(dir);
	return e;
}

static int fake_sched_core(unsigned long cmd, unsigned long pid, unsigned long type,
			   unsigned long uaddr)
{
	int self = (int)syscall(SYS_gettid), tid = pid ? (int)pid : self;
	char path[64];
	uint64_t c;

	if (type > PR_SCHED_CORE_SCOPE_PROCESS_GROUP || cmd >= PR_SCHED_CORE_MAX || (int)pid < 0 ||
	    (cmd != PR_SCHED_CORE_GET && uaddr))
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	if (access(path, F_OK))
		return -ESRCH;
	switch (cmd) {
	case PR_SCHED_CORE_GET:
		if (type != PR_SCHED_CORE_SCOPE_THREAD || (uaddr & 7))
			return -EINVAL;
		*(uint64_t *)uaddr = cookie_of(tid);
		return 0;
	case PR_SCHED_CORE_SHARE_FROM:
		if (type != PR_SCHED_CORE_SCOPE_THREAD)
			return -EINVAL;
		return set_cookie(self, cookie_of(tid));
	case PR_SCHED_CORE_CREATE:
		do {
			if (getrandom(&c, sizeof(c), 0) != sizeof(c))
				return -EIO;
		} while (!c);
		break;
	default: /* PR_SCHED_CORE_SHARE_TO */
		c = cookie_of(self);
		break;
	}
	if (type == PR_SCHED_CORE_SCOPE_THREAD)
		return set_cookie(tid, c);
	if (type == PR_SCHED_CORE_SCOPE_THREAD_GROUP)
		return set_thread_group(tid, c);
	return -ENOSYS;
}

int prctl(int option, ...)
{
	unsigned long a2, a3, a4, a5;
	va_list ap;
	int e;

	va_start(ap, option);
	a2 = va_arg(ap, unsigned long);
	a3 = va_arg(ap, unsigned long);
	a4 = va_arg(ap, unsigned long);
	a5 = va_arg(ap, unsigned long);
	va_end(ap);
	if (option != PR_SCHED_CORE || !getenv("VS_FAKE_SCHED_CORE_DIR"))
		return (int)syscall(SYS_prctl, option, a2, a3, a4, a5);
	e = fake_sched_core(a2, a3, a4, a5);
	if (e) {
		errno = -e;
		return -1;
	}
	return 0;
}
