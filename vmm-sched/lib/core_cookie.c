#include "core_cookie.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int core_cookie_mode_parse(const char *s, enum vs_core_cookie_mode *mode)
{
	if (s && strcmp(s, "clear") == 0)
		*mode = VS_CORE_COOKIE_CLEAR;
	else if (s && strcmp(s, "refuse") == 0)
		*mode = VS_CORE_COOKIE_REFUSE;
	else
		return -1;
	return 0;
}

const char *core_cookie_mode_name(enum vs_core_cookie_mode mode)
{
	return mode == VS_CORE_COOKIE_REFUSE ? "refuse" : "clear";
}

/* EINVAL: a kernel without CONFIG_SCHED_CORE; ENODEV: no SMT, so no core scheduling. */
static bool no_core_scheduling(int e)
{
	return e == -EINVAL || e == -ENODEV;
}

static enum vs_core_cookie_result read_failed(int tid, int e, char *err, size_t errlen)
{
	if (e == -ESRCH)
		snprintf(err, errlen, "thread %d exited", tid);
	else
		snprintf(err, errlen, "cannot read the core scheduling cookie of thread %d: %s",
			 tid, strerror(-e));
	return VS_CORE_COOKIE_FAILED;
}

enum vs_core_cookie_result core_cookie_enforce(const struct vs_core_cookie_ops *ops, int tid,
					       enum vs_core_cookie_mode mode, uint64_t *cookie,
					       char *err, size_t errlen)
{
	uint64_t after = 0;
	int e;

	*cookie = 0;
	e = ops->get(ops->ctx, tid, cookie);
	if (e) {
		*cookie = 0;
		return no_core_scheduling(e) ? VS_CORE_COOKIE_NONE
					     : read_failed(tid, e, err, errlen);
	}
	if (!*cookie)
		return VS_CORE_COOKIE_NONE;
	if (mode == VS_CORE_COOKIE_REFUSE) {
		snprintf(err, errlen,
			 "thread %d has core scheduling cookie 0x%llx (PR_SCHED_CORE) and "
			 "--core-cookie is 'refuse': core scheduling and sched_ext together hang "
			 "SMT hosts; take the cookie off or use --core-cookie clear",
			 tid, (unsigned long long)*cookie);
		return VS_CORE_COOKIE_REFUSED;
	}
	e = ops->clear(ops->ctx, tid);
	if (e) {
		snprintf(err, errlen, "cannot clear core scheduling cookie 0x%llx of thread %d: %s",
			 (unsigned long long)*cookie, tid, strerror(-e));
		return VS_CORE_COOKIE_FAILED;
	}
	e = ops->get(ops->ctx, tid, &after);
	if (e)
		return read_failed(tid, e, err, errlen);
	if (after) {
		/* Clearing pushes the caller's own cookie: the agent must have none. */
		snprintf(err, errlen,
			 "thread %d still has core scheduling cookie 0x%llx after clearing 0x%llx: "
			 "does vmm-schedd itself run with a cookie?",
			 tid, (unsigned long long)after, (unsigned long long)*cookie);
		return VS_CORE_COOKIE_FAILED;
	}
	return VS_CORE_COOKIE_CLEARED;
}
