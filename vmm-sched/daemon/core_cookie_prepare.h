/* A thread's core scheduling cookie, cleared before it enters SCHED_EXT. */
#ifndef VS_CORE_COOKIE_PREPARE_H
#define VS_CORE_COOKIE_PREPARE_H

#include <stddef.h>

struct vs_daemon;

/*
 * Called before thread @tid of VM @vm_id enters SCHED_EXT. Clears its
 * PR_SCHED_CORE cookie (logged) or, with --core-cookie refuse, returns -1
 * with err naming the thread; -1 too if the cookie cannot be read or cleared.
 */
int core_cookie_prepare(struct vs_daemon *d, int vm_id, int tid, char *err, size_t errlen);

#endif
