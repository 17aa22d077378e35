/* PR_SCHED_CORE cookies of vCPU threads: read and cleared with prctl(2) before SCHED_EXT. */
#include <errno.h>
#include <sys/prctl.h>

#include "core_cookie.h"
#include "core_cookie_prepare.h"
#include "daemon.h"
#include "log.h"

static int cookie_get(void *ctx, int tid, uint64_t *cookie)
{
	unsigned long long c = 0;

	if (prctl(PR_SCHED_CORE, PR_SCHED_CORE_GET, (unsigned long)tid,
		  (unsigned long)PR_SCHED_CORE_SCOPE_THREAD, &c))
		return -errno;
	*cookie = c;
	return 0;
}

/* SHARE_TO pushes the calling thread's cookie; the agent's is none, so this clears. */
static int cookie_clear(void *ctx, int tid)
{
	if (prctl(PR_SCHED_CORE, PR_SCHED_CORE_SHARE_TO, (unsigned long)tid,
		  (unsigned long)PR_SCHED_CORE_SCOPE_THREAD, 0UL))
		return -errno;
	return 0;
}

int core_cookie_prepare(struct vs_daemon *d, int vm_id, int tid, char *err, size_t errlen)
{
	static const struct vs_core_cookie_ops ops = {.get = cookie_get, .clear = cookie_clear};
	uint64_t cookie;

	switch (core_cookie_enforce(&ops, tid, d->opt.core_cookie, &cookie, err, errlen)) {
	case VS_CORE_COOKIE_NONE:
		return 0;
	case VS_CORE_COOKIE_CLEARED:
		vs_warn("VM '%s': cleared core scheduling cookie 0x%llx of vCPU thread %d "
			"(core scheduling and sched_ext together hang SMT hosts; --core-cookie "
			"refuse refuses such VMs instead)",
			d->reg.vms[vm_id].name, (unsigned long long)cookie, tid);
		return 0;
	default:
		return -1;
	}
}
