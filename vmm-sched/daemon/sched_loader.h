/* The sched_ext scheduler: loaded (or adopted from the pins), attached, checked, unloaded. */
#ifndef VS_SCHED_LOADER_H
#define VS_SCHED_LOADER_H

#include <stdbool.h>
#include <stddef.h>

struct vs_daemon;

/*
 * How the kernel disabled the scheduler (the kernel's enum scx_exit_kind,
 * which the agent cannot include): exit_info.kind.
 */
enum vs_exit_kind {
	VS_EXIT_NONE = 0,
	VS_EXIT_DONE = 1,
	VS_EXIT_UNREG = 64,	    /* unregistered from user space */
	VS_EXIT_UNREG_BPF = 65,	    /* unregistered by BPF */
	VS_EXIT_UNREG_KERN = 66,    /* unregistered by the kernel */
	VS_EXIT_SYSRQ = 67,	    /* sysrq-S */
	VS_EXIT_ERROR = 1024,	    /* runtime error */
	VS_EXIT_ERROR_BPF = 1025,   /* scx_bpf_error() in the BPF scheduler */
	VS_EXIT_ERROR_STALL = 1026, /* watchdog: runnable task stalled */
};

/* With @adopt, the pinned maps of a running scheduler are reused and only the commit program is
 * loaded. */
int vs_sched_load(struct vs_daemon *d, bool adopt, char *err, size_t errlen);
int vs_sched_attach(struct vs_daemon *d, char *err, size_t errlen);
/* The adopted scheduler's enclave and settings must be the ones asked for. */
int vs_sched_check_adopted(struct vs_daemon *d, char *err, size_t errlen);
void vs_sched_detach(struct vs_daemon *d);
/* VS_EXIT_NONE until the kernel disabled the scheduler; then exit_info says why. */
enum vs_exit_kind vs_sched_exit_kind(struct vs_daemon *d);
void vs_sched_report_exit(struct vs_daemon *d);

#endif
