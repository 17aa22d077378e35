/*
 * PR_SCHED_CORE cookies on vCPU threads. Kernel core scheduling and a sched_ext
 * scheduler together hang SMT hosts, so a vCPU thread must carry no cookie
 * when it enters SCHED_EXT: the agent clears the cookie or refuses the VM.
 * The prctl() calls come in as callbacks; no system calls here.
 */
#ifndef VS_CORE_COOKIE_H
#define VS_CORE_COOKIE_H

#include <stddef.h>
#include <stdint.h>

enum vs_core_cookie_mode {
	VS_CORE_COOKIE_CLEAR, /* the default */
	VS_CORE_COOKIE_REFUSE,
};

struct vs_core_cookie_ops {
	/* The cookie of thread @tid (0: none) and 0, or -errno. */
	int (*get)(void *ctx, int tid, uint64_t *cookie);
	/* Takes the cookie off thread @tid; 0 or -errno. */
	int (*clear)(void *ctx, int tid);
	void *ctx;
};

enum vs_core_cookie_result {
	VS_CORE_COOKIE_NONE,	/* no cookie, or a kernel without core scheduling */
	VS_CORE_COOKIE_CLEARED, /* the thread had a cookie; it has none now */
	VS_CORE_COOKIE_REFUSED, /* the thread has a cookie and may not enter; err says so */
	VS_CORE_COOKIE_FAILED,	/* reading or clearing failed; err says how */
};

/* "clear" or "refuse"; -1 for anything else. */
int core_cookie_mode_parse(const char *s, enum vs_core_cookie_mode *mode);
const char *core_cookie_mode_name(enum vs_core_cookie_mode mode);

/*
 * Makes sure thread @tid may enter SCHED_EXT as far as cookies go. *cookie is
 * the cookie the thread had (0 if none). err is set for REFUSED and FAILED and
 * names the thread.
 */
enum vs_core_cookie_result core_cookie_enforce(const struct vs_core_cookie_ops *ops, int tid,
					       enum vs_core_cookie_mode mode, uint64_t *cookie,
					       char *err, size_t errlen);

#endif
